/*
 * bt_migrate.c - the schemas of bt's two files, and their upgrades.
 *
 * Owns: opening the store and the state file as bt's (bt_open_store(),
 * bt_open_state(): the connection of bt_db.c, then the schema: created
 * from nothing, upgraded step by step, or refused), each file's schema
 * version (bt_meta, never the shared file's user_version), the seed's
 * ohlcv_* views over the compact candles, the indicator table's first
 * creation (bt_indtab.c), and the one-time conversion of the seed's
 * plain tables (bt-fetch --migrate).
 *
 * Invariants: a file whose version is newer than this binary knows, or
 * that holds the seed's plain tables without --migrate, is refused
 * untouched (not even switched to WAL); every upgrade is one transaction.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_db.h"
#include "bt_indtab.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_store.h"

static const char *tfs4[] = { "1d", "4h", "1h", "15m" };

/* Reads bt_meta.schema_version; 0 when absent. */
static int
schema_version(sqlite3 *db, int64_t *v, char *err)
{
	sqlite3_stmt *st;
	int rc;

	*v = 0;
	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name='bt_meta' AND type='table'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		goto fail;
	}
	if (sqlite3_column_int(st, 0) == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	rc = sqlite3_prepare_v2(db, "SELECT value FROM bt_meta "
	    "WHERE key='schema_version'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	return 0;
fail:
	snprintf(err, BT_ERRLEN, "%s: %s", sqlite3_db_filename(db, "main"),
	    bt_db_errmsg(db));
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

static const char *store_v1 =
	"CREATE TABLE bt_meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE pairs("
	"  id INTEGER PRIMARY KEY,"
	"  symbol TEXT NOT NULL,"
	"  tf TEXT NOT NULL,"
	"  iv INTEGER NOT NULL,"
	"  kp INTEGER NOT NULL, kv INTEGER NOT NULL, kq INTEGER NOT NULL,"
	"  dp REAL NOT NULL, dv REAL NOT NULL, dq REAL NOT NULL,"
	"  UNIQUE(symbol, tf));"
	/* No declared types: a column keeps integer or real as given. */
	"CREATE TABLE candles("
	"  pair INTEGER NOT NULL,"
	"  slot INTEGER NOT NULL,"
	"  xo INTEGER NOT NULL DEFAULT 0,"
	"  o, h, l, c, v, ct, qv, n, tb, tq,"
	"  PRIMARY KEY(pair, slot, xo)) WITHOUT ROWID;";

/*
 * Version 2 (issue 6): market context and the indicator table.
 * - sentimento_mercado, keyed (symbol, metric, timestamp), is a view over
 *   sent_series (one small integer per symbol and metric) and the WITHOUT
 *   ROWID sent_values(series, t, v); the UNIQUE(symbol, metric) index and
 *   the (series, t) key serve the seed's idx_sentimento_symbol lookups.
 *   sentimento_diario gives the daily figure: the day's last value, and
 *   its mean, low, high, total and count.
 * - macro_data(series, date, value, updated): FRED's "." is NULL; date is
 *   the observation's day at midnight UTC, ms.
 * - ind_state and the triggers that mark a pair's indicators dirty when a
 *   candle at or before the last one computed is written (bt_indtab.c);
 *   the table `ind' and its view indicadores_tecnico come from the spec.
 */
static const char *store_v2 =
	"CREATE TABLE sent_series("
	"  id INTEGER PRIMARY KEY,"
	"  symbol TEXT NOT NULL,"
	"  metric TEXT NOT NULL,"
	"  UNIQUE(symbol, metric));"
	"CREATE TABLE sent_values("
	"  series INTEGER NOT NULL,"
	"  t INTEGER NOT NULL,"
	"  v,"
	"  PRIMARY KEY(series, t)) WITHOUT ROWID;"
	"CREATE VIEW sentimento_mercado(symbol, metric, timestamp, value) AS "
	"  SELECT s.symbol, s.metric, v.t, v.v FROM sent_series s "
	"  JOIN sent_values v ON v.series=s.id;"
	"CREATE VIEW sentimento_diario(symbol, metric, date, value, mean, low, "
	"  high, total, n) AS SELECT symbol, metric, "
	"  date(day*86400, 'unixepoch'), (SELECT x.v FROM sent_values x "
	"  WHERE x.series=g.id AND x.t=g.lt), mean, low, high, total, n FROM "
	"  (SELECT s.id, s.symbol, s.metric, v.t/86400000 AS day, "
	"  max(v.t) AS lt, avg(v.v) AS mean, min(v.v) AS low, "
	"  max(v.v) AS high, total(v.v) AS total, count(v.v) AS n "
	"  FROM sent_series s JOIN sent_values v ON v.series=s.id "
	"  GROUP BY s.symbol, s.metric, s.id, v.t/86400000) g;"
	"CREATE TABLE macro_data("
	"  series TEXT NOT NULL,"
	"  date INTEGER NOT NULL,"
	"  value REAL,"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY(series, date)) WITHOUT ROWID;"
	"CREATE TABLE ind_state("
	"  pair INTEGER PRIMARY KEY,"
	"  last_slot INTEGER NOT NULL,"
	"  last_xo INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  spec TEXT NOT NULL,"
	"  dirty INTEGER,"
	"  state BLOB NOT NULL);"
	"CREATE TRIGGER ind_dirty_ins AFTER INSERT ON candles BEGIN"
	"  UPDATE ind_state SET dirty=new.slot WHERE pair=new.pair AND"
	"   last_slot>=new.slot AND (dirty IS NULL OR dirty>new.slot);"
	" END;"
	"CREATE TRIGGER ind_dirty_upd AFTER UPDATE ON candles BEGIN"
	"  UPDATE ind_state SET dirty=min(old.slot, new.slot) WHERE"
	"   pair=new.pair AND last_slot>=min(old.slot, new.slot) AND"
	"   (dirty IS NULL OR dirty>min(old.slot, new.slot));"
	"  UPDATE ind_state SET dirty=old.slot WHERE pair=old.pair AND"
	"   old.pair<>new.pair AND last_slot>=old.slot AND"
	"   (dirty IS NULL OR dirty>old.slot);"
	" END;"
	"CREATE TRIGGER ind_dirty_del AFTER DELETE ON candles BEGIN"
	"  UPDATE ind_state SET dirty=old.slot WHERE pair=old.pair AND"
	"   last_slot>=old.slot AND (dirty IS NULL OR dirty>old.slot);"
	" END;";

/* Whether db has a table of that name: 1, 0, or -1 with err set. */
static int
has_table(sqlite3 *db, const char *name, char *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE "
	    "type='table' AND name=?1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc;
}


/*
 * Applies version 2 inside the caller's transaction.  A seed store may
 * already hold tables of the seed's names sentimento_mercado, macro_data
 * or indicadores_tecnico, written by the seed's own jobs: they are kept,
 * renamed NAME_seed, and bt's take the names.
 */
static int
store_to_v2(sqlite3 *db, char *err)
{
	static const char *seed[] = { "sentimento_mercado", "macro_data",
	    "indicadores_tecnico" };
	struct bt_ind_spec spec;
	char *sql;
	size_t i;
	int table, rc;

	for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		if ((table = has_table(db, seed[i], err)) == -1)
			return BT_EX_SOFTWARE;
		if (!table)
			continue;
		sql = sqlite3_mprintf("ALTER TABLE \"%w\" RENAME TO \"%w_seed\";"
		    "INSERT OR REPLACE INTO bt_meta VALUES ('renamed_%q', "
		    "'%q_seed');", seed[i], seed[i], seed[i], seed[i]);
		rc = bt_exec(db, sql, err);
		sqlite3_free(sql);
		if (rc != 0)
			return rc;
	}
	if ((rc = bt_exec(db, store_v2, err)) != 0)
		return rc;
	bt_ind_spec_default(&spec);
	if ((rc = bt_ind_create(db, &spec, err)) != 0)
		return rc;
	return bt_exec(db, "INSERT OR REPLACE INTO bt_meta VALUES "
	    "('schema_version', 2)", err);
}

/* The seed's view of a timeframe over the compact table. */
static char *
view_sql(const char *tf)
{
#define DEC(col, div) "iif(typeof(c." col ")='integer',c." col "/p." div \
	",c." col ")"
	return sqlite3_mprintf(
	    "CREATE VIEW %s(symbol, timestamp, open, high, low, close, "
	    "volume, close_time, quote_volume, trades, taker_buy_base, "
	    "taker_buy_quote) AS SELECT p.symbol, c.slot*p.iv+c.xo, "
	    DEC("o", "dp") ", " DEC("h", "dp") ", " DEC("l", "dp") ", "
	    DEC("c", "dp") ", " DEC("v", "dv") ", "
	    "ifnull(c.ct, c.slot*p.iv+c.xo+p.iv-1), " DEC("qv", "dq") ", "
	    "c.n, " DEC("tb", "dv") ", " DEC("tq", "dq") " "
	    "FROM pairs p JOIN candles c ON c.pair=p.id WHERE p.tf=%Q;",
	    bt_tf_view(tf), tf);
#undef DEC
}

static int
create_store(sqlite3 *db, char *err)
{
	char *sql, ts[32];
	size_t i;
	int rc;

	if ((rc = bt_exec(db, store_v1, err)) != 0)
		return rc;
	for (i = 0; i < sizeof(tfs4) / sizeof(tfs4[0]); i++) {
		sql = view_sql(tfs4[i]);
		rc = bt_exec(db, sql, err);
		sqlite3_free(sql);
		if (rc != 0)
			return rc;
	}
	sql = sqlite3_mprintf("INSERT INTO bt_meta VALUES"
	    "('schema_version', %d), ('created', %Q), ('layout', "
	    "'compact-1');", BT_STORE_SCHEMA, bt_fmt_time(bt_now_ms(), ts));
	rc = bt_exec(db, sql, err);
	sqlite3_free(sql);
	return rc;
}

bool
bt_store_is_plain(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool plain = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE "
	    "type='table' AND name IN ('ohlcv_d1','ohlcv_h4','ohlcv_h1',"
	    "'ohlcv_m15')", -1, &st, NULL) != SQLITE_OK)
		return false;
	plain = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return plain;
}

static const char *state_v1 =
	"CREATE TABLE bt_meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE runs("
	"  id INTEGER PRIMARY KEY,"
	"  prog TEXT NOT NULL,"
	"  job TEXT NOT NULL DEFAULT '',"
	"  pid INTEGER,"
	"  started INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  exit INTEGER,"
	"  summary TEXT);"
	"CREATE INDEX runs_job ON runs(prog, job, started);"
	"CREATE TABLE events("
	"  id INTEGER PRIMARY KEY,"
	"  event_id TEXT NOT NULL UNIQUE,"
	"  ts INTEGER NOT NULL,"
	"  prog TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  severity TEXT NOT NULL"
	"    CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL')),"
	"  symbol TEXT,"
	"  tf TEXT,"
	"  message TEXT NOT NULL,"
	"  detail TEXT,"
	"  sent INTEGER,"
	"  sent_to TEXT);"
	"CREATE INDEX events_unsent ON events(sent, severity, ts);"
	"CREATE TABLE dirty("
	"  symbol TEXT NOT NULL, tf TEXT NOT NULL,"
	"  from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL,"
	"  PRIMARY KEY(symbol, tf, from_ms)) WITHOUT ROWID;"
	"CREATE TABLE accepted_gaps("
	"  symbol TEXT NOT NULL, tf TEXT NOT NULL,"
	"  from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL,"
	"  note TEXT, added INTEGER,"
	"  PRIMARY KEY(symbol, tf, from_ms)) WITHOUT ROWID;"
	"CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"INSERT INTO bt_meta VALUES ('schema_version', 1);";

/*
 * Version 2: what bt-digest sent (for the hourly cap and the daily
 * digest) and what bt-watchdog did (for the restart budget).
 */
static const char *state_v2 =
	"CREATE TABLE sends("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  chat TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  events INTEGER NOT NULL,"
	"  part INTEGER NOT NULL DEFAULT 1,"
	"  parts INTEGER NOT NULL DEFAULT 1,"
	"  head TEXT);"
	"CREATE INDEX sends_ts ON sends(ts);"
	"CREATE TABLE actions("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  prog TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  ok INTEGER,"
	"  detail TEXT);"
	"CREATE INDEX actions_ts ON actions(action, ts);"
	"UPDATE bt_meta SET value=2 WHERE key='schema_version';";

/*
 * Version 3.  Issue 16: every message bt-digest tried, with its text,
 * and whether Telegram took it, so `bt-digest --today' can say what went
 * out and what was refused (rows from before keep only their head).
 * Issue 15: what bt-backup wrote, so that a restore can tell a backup bt
 * took from a foreign file (bt-backup(1), "What a restore accepts"), and
 * the copies a restore set aside, so that it deletes only the oldest of
 * its own.  `tables' is the backup's sorted, comma-separated table list;
 * first_open and last_open are NULL for a backup without candles, and
 * every candle column is NULL for a state file's backup.
 */
static const char *state_v3 =
	"ALTER TABLE sends ADD COLUMN text TEXT;"
	"ALTER TABLE sends ADD COLUMN ok INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE sends ADD COLUMN error TEXT;"
	"CREATE TABLE backups("
	"  name TEXT PRIMARY KEY,"
	"  taken INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  schema_version INTEGER NOT NULL,"
	"  tables TEXT NOT NULL,"
	"  candles INTEGER,"
	"  first_open INTEGER,"
	"  last_open INTEGER) WITHOUT ROWID;"
	"CREATE TABLE asides("
	"  path TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  made INTEGER NOT NULL);"
	"UPDATE bt_meta SET value=3 WHERE key='schema_version';";

/* Whether the file is in WAL mode already (a read: no lock needed). */
static bool
is_wal(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool wal = false;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) !=
	    SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") ==
		    0;
	sqlite3_finalize(st);
	return wal;
}

/*
 * Brings a file's schema to `want', creating it from nothing.  A file
 * whose version is newer than this binary knows is refused untouched.
 */
static int
migrate(sqlite3 *db, bool store, bool rw, bool plain_ok, char *err)
{
	int64_t v;
	int rc, want = store ? BT_STORE_SCHEMA : BT_STATE_SCHEMA;
	bool plain;
	const char *path = sqlite3_db_filename(db, "main");

	if ((rc = schema_version(db, &v, err)) != 0)
		return rc;
	if (v > want) {
		snprintf(err, BT_ERRLEN, "%s: schema version %lld is newer "
		    "than this bt knows (%d); upgrade bt", path,
		    (long long)v, want);
		return BT_EX_CONFIG;
	}
	plain = store && bt_store_is_plain(db);
	if (plain && !plain_ok) {
		snprintf(err, BT_ERRLEN, "%s: holds the seed's plain ohlcv_* "
		    "tables; convert it once with bt-fetch --migrate", path);
		return BT_EX_CONFIG;
	}
	if (rw && !is_wal(db)) {
		/*
		 * WAL only now that the file is known to be ours: a refused
		 * file is left exactly as it was.  Switching needs the file
		 * to itself, so it is done under the write lock; a file in WAL
		 * already needs neither, so a trader holding the lock does
		 * not keep a run from opening the store.
		 */
		if ((rc = bt_db_lock(db, err)) != 0)
			return rc;
		rc = bt_exec(db, "PRAGMA journal_mode=WAL", err);
		bt_db_unlock(db);
		if (rc != 0)
			return rc;
	}
	if (v == want || plain)
		return 0;	/* a plain store: bt_store_migrate_plain's job */
	if (!rw) {
		snprintf(err, BT_ERRLEN, "%s: %s; %s", path, v == 0 ?
		    "has no bt schema yet" : "has an older bt schema",
		    store ? "run bt-fetch first" : "run any bt writer first");
		return v == 0 ? BT_EX_NOINPUT : BT_EX_TEMPFAIL;
	}
	if ((rc = bt_begin(db, err)) != 0)
		return rc;
	/* Another process may have done it while we waited. */
	if ((rc = schema_version(db, &v, err)) != 0)
		goto fail;
	if (v == 0)
		rc = store ? create_store(db, err) : bt_exec(db, state_v1, err);
	/* Later versions: `if (v < N) ...' steps go here. */
	if (rc == 0 && !store && v < 2)
		rc = bt_exec(db, state_v2, err);
	if (rc == 0 && !store && v < 3)
		rc = bt_exec(db, state_v3, err);
	if (rc == 0 && store && v < 2)
		rc = store_to_v2(db, err);
	if (rc != 0)
		goto fail;
	return bt_commit(db, err);
fail:
	bt_rollback(db);
	return rc;
}

int
bt_open_store(const char *path, int mode, sqlite3 **db, char *err)
{
	int rc;

	if ((rc = bt_db_open(path, mode & ~BT_DB_PLAIN_OK, 0640, db, err)) != 0)
		return rc;
	if ((rc = migrate(*db, true, mode != BT_DB_RO, mode & BT_DB_PLAIN_OK,
	    err)) != 0) {
		bt_close(*db);
		*db = NULL;
	}
	return rc;
}

int
bt_open_state(const char *path, int mode, sqlite3 **db, char *err)
{
	int rc;

	if ((rc = bt_db_open(path, mode | BT_DB_STATE, 0600, db, err)) != 0)
		return rc;
	if ((rc = migrate(*db, false, (mode & (BT_DB_RW | BT_DB_CREATE)) != 0,
	    false, err)) != 0) {
		bt_close(*db);
		*db = NULL;
	}
	return rc;
}

/* A time of the operator's file, in seconds, ms or us: as ms. */
static int64_t
plain_ms(int64_t t, bool close)
{
	if (t < 100000000000LL)
		return close ? t * 1000 + 999 : t * 1000;
	if (t > 100000000000000LL)
		return t / 1000;
	return t;
}

/*
 * One row of a plain table (symbol, timestamp, OHLCV, then the five
 * optional fields or NULL) as a candle; `row' numbers it for errors.
 */
static int
plain_row(sqlite3_stmt *st, const char *view, int64_t row,
    struct bt_candle *c, char *err)
{
	const char *sym = (const char *)sqlite3_column_text(st, 0);
	static const int opt[] = { 8, 10, 11 };
	static const unsigned bit[] = { BT_HAS_QV, BT_HAS_TB, BT_HAS_TQ };
	double *fld[] = { &c->qv, &c->tb, &c->tq };
	int64_t t;
	int i;

	memset(c, 0, sizeof(*c));
	if (sqlite3_column_type(st, 1) == SQLITE_TEXT) {
		if (bt_parse_time((const char *)sqlite3_column_text(st, 1),
		    &t) == -1) {
			snprintf(err, BT_ERRLEN, "%s: row %lld: timestamp '%s' "
			    "is not a time", view, (long long)row,
			    sqlite3_column_text(st, 1));
			return BT_EX_DATAERR;
		}
	} else
		t = plain_ms(sqlite3_column_int64(st, 1), false);
	if (sym == NULL || !bt_symbol_ok(sym)) {
		snprintf(err, BT_ERRLEN, "%s: row %lld: symbol '%s' is not a "
		    "Binance symbol", view, (long long)row, sym ? sym : "NULL");
		return BT_EX_DATAERR;
	}
	c->t = t;
	c->o = sqlite3_column_double(st, 2);
	c->h = sqlite3_column_double(st, 3);
	c->l = sqlite3_column_double(st, 4);
	c->c = sqlite3_column_double(st, 5);
	c->v = sqlite3_column_double(st, 6);
	if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
		c->ct = plain_ms(sqlite3_column_int64(st, 7), true);
		c->has |= BT_HAS_CT;
	}
	for (i = 0; i < 3; i++)
		if (sqlite3_column_type(st, opt[i]) != SQLITE_NULL) {
			*fld[i] = sqlite3_column_double(st, opt[i]);
			c->has |= bit[i];
		}
	if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
		c->n = sqlite3_column_int64(st, 9);
		c->has |= BT_HAS_N;
	}
	return 0;
}

/* Every row of a plain table, by column name, ordered by symbol. */
static int
read_plain(sqlite3 *db, const char *view, struct bt_candle **out, size_t *nout,
    char *err)
{
	static const char *opt[] = { "close_time", "quote_volume", "trades",
	    "taker_buy_base", "taker_buy_quote" };
	sqlite3_stmt *st, *cols;
	struct bt_candle *c = NULL;
	size_t n = 0, cap = 0, i;
	bool have[5] = { false };
	char *sql;
	int rc;

	sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q)", view);
	rc = sqlite3_prepare_v2(db, sql, -1, &cols, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while (sqlite3_step(cols) == SQLITE_ROW)
		for (i = 0; i < 5; i++)
			if (strcmp((const char *)sqlite3_column_text(cols, 0),
			    opt[i]) == 0)
				have[i] = true;
	sqlite3_finalize(cols);
	sql = sqlite3_mprintf("SELECT symbol, timestamp, open, high, low, "
	    "close, volume, %s, %s, %s, %s, %s FROM %w "
	    "ORDER BY symbol, timestamp",
	    have[0] ? "close_time" : "NULL", have[1] ? "quote_volume" : "NULL",
	    have[2] ? "trades" : "NULL", have[3] ? "taker_buy_base" : "NULL",
	    have[4] ? "taker_buy_quote" : "NULL", view);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((c = realloc(c, cap * sizeof(*c))) == NULL)
				abort();
		}
		if ((rc = plain_row(st, view, (int64_t)n + 1, &c[n], err)) != 0)
			break;
		n++;
	}
	sqlite3_finalize(st);
	*out = c;
	*nout = n;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == BT_EX_DATAERR)
		return rc;
sqlfail:
	snprintf(err, BT_ERRLEN, "%s: %s", view, bt_db_errmsg(db));
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

/* Stores each symbol's run of c as a pair of `tf'; *written counts. */
static int
store_plain(sqlite3 *db, const char *view, const char *tf,
    const struct bt_candle *c, int64_t *written, char *err)
{
	sqlite3_stmt *st;
	struct bt_pair p;
	int64_t changed;
	size_t from = 0, cnt;
	char *sql;
	int rc;

	*written = 0;
	sql = sqlite3_mprintf("SELECT symbol, count(*) FROM %w GROUP BY symbol "
	    "ORDER BY symbol", view);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cnt = (size_t)sqlite3_column_int64(st, 1);
		if ((rc = bt_pair_get(db, (const char *)sqlite3_column_text(st,
		    0), tf, true, c + from, cnt, &p, err)) != 0 ||
		    (rc = bt_candles_upsert(db, &p, c + from, cnt, &changed,
		    err)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
		*written += changed;
		from += cnt;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
sqlfail:
	snprintf(err, BT_ERRLEN, "%s: %s", view, bt_db_errmsg(db));
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

/*
 * Converts the seed's plain ohlcv_* tables (an operator's existing file)
 * into the compact layout, keeping every row: each table's rows are read
 * by column name, written as candles, counted again through the new view
 * and only then dropped, all in the caller's transaction.
 */
static int
migrate_table(sqlite3 *db, const char *tf, json_t *report, char *err)
{
	const char *view = bt_tf_view(tf);
	struct bt_candle *c = NULL;
	size_t n = 0;
	int64_t after;
	char *sql;
	int rc;

	if ((rc = read_plain(db, view, &c, &n, err)) != 0 ||
	    (rc = store_plain(db, view, tf, c, &after, err)) != 0)
		goto out;
	if (after != (int64_t)n) {
		snprintf(err, BT_ERRLEN, "%s: %lld rows read but %lld written "
		    "(duplicate timestamps?); nothing converted", view,
		    (long long)n, (long long)after);
		rc = BT_EX_DATAERR;
		goto out;
	}
	sql = sqlite3_mprintf("DROP TABLE %w", view);
	rc = bt_exec(db, sql, err);
	sqlite3_free(sql);
	if (rc != 0)
		goto out;
	sql = view_sql(tf);
	rc = bt_exec(db, sql, err);
	sqlite3_free(sql);
	if (rc != 0)
		goto out;
	json_object_set_new(report, tf, json_integer((json_int_t)n));
out:
	free(c);
	return rc;
}

int
bt_store_migrate_plain(sqlite3 *db, json_t *report, char *err)
{
	size_t i;
	int rc;
	bool plain[4] = { false };

	if ((rc = bt_begin(db, err)) != 0)
		return rc;
	for (i = 0; i < 4; i++) {
		if ((rc = has_table(db, bt_tf_view(tfs4[i]), err)) == -1) {
			rc = BT_EX_SOFTWARE;
			goto fail;
		}
		plain[i] = rc == 1;
	}
	/* The compact tables first; views only for tables not plain. */
	if ((rc = bt_exec(db, store_v1, err)) != 0)
		goto fail;
	for (i = 0; i < 4; i++) {
		if (plain[i])
			rc = migrate_table(db, tfs4[i], report, err);
		else {
			char *sql = view_sql(tfs4[i]);
			rc = bt_exec(db, sql, err);
			sqlite3_free(sql);
		}
		if (rc != 0)
			goto fail;
	}
	if ((rc = bt_exec(db, "INSERT INTO bt_meta VALUES "
	    "('schema_version', 1), ('layout', 'compact-1'), "
	    "('migrated', 'plain')", err)) != 0 ||
	    (rc = store_to_v2(db, err)) != 0)
		goto fail;
	return bt_commit(db, err);
fail:
	bt_rollback(db);
	return rc;
}
