/*
 * bt_db.c - the store (db/crypto_agent.db) and the state file
 * (db/bt_state.db): pragmas, schemas, the compact candle layout, runs,
 * events and dirty ranges.
 *
 * The candle layout.  Readers see the seed's tables ohlcv_d1, ohlcv_h4,
 * ohlcv_h1 and ohlcv_m15 as views.  Underneath, one WITHOUT ROWID table
 * `candles' keys a row by (pair, slot, xo): pair is a small integer for
 * (symbol, timeframe), slot is open_time / interval and xo the remainder
 * (0 on the grid, which SQLite stores in no bytes).  Prices and volumes
 * are stored as integers m with value = m / 10^k, k chosen per pair and
 * column group from the first data, whenever that round-trips to the very
 * same double; otherwise as REAL.  The close time is NULL when it is the
 * regular open + interval - 1.  So irregular values (the 2023-03-24 halt
 * candle closing at 12:39:41.646, an off-grid 2018 open time, a price
 * with more decimals than usual) survive exactly, and the common case
 * costs about 60% of a plain row.  See bt(7), THE STORE.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"

static const char *tfs4[] = { "1d", "4h", "1h", "15m" };

/* --------------------------------------------------------------- opening */

char *
bt_store_path(void)
{
	if (*bt_conf("BT_DB") != '\0')
		return strdup(bt_conf("BT_DB"));
	return bt_path("db/crypto_agent.db");
}

char *
bt_state_path(void)
{
	if (*bt_conf("BT_STATE") != '\0')
		return strdup(bt_conf("BT_STATE"));
	return bt_path("db/bt_state.db");
}

int
bt_sqlite_ex(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return BT_EX_TEMPFAIL;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return BT_EX_DATAERR;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return BT_EX_IOERR;
	default:
		return BT_EX_SOFTWARE;
	}
}

/*
 * SQLite's message for db's last error, except that a full disk says so:
 * SQLite reports ENOSPC as SQLITE_FULL ("database or disk is full") or,
 * writing the WAL or a journal, as a bare "disk I/O error"; the operator
 * must read "no space left on device" (bt(7), EXIT STATUS).
 */
const char *
bt_db_errmsg(sqlite3 *db)
{
	static _Thread_local char why[BT_ERRLEN];
	int rc = sqlite3_errcode(db) & 0xff, e;

	if (rc == SQLITE_FULL)
		return "no space left on device (database or disk is full)";
	if (rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN) {
		e = sqlite3_system_errno(db);
		if (e == ENOSPC)
			return "no space left on device";
		if (e == EDQUOT)
			return "disk quota exceeded";
		/* "unable to open database file" alone does not say why. */
		if (rc == SQLITE_CANTOPEN && e != 0) {
			snprintf(why, sizeof(why), "%s: %s",
			    sqlite3_errmsg(db), strerror(e));
			return why;
		}
	}
	return sqlite3_errmsg(db);
}

int
bt_exec(sqlite3 *db, const char *sql, char *err)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", (rc & 0xff) == SQLITE_FULL ||
		    (rc & 0xff) == SQLITE_IOERR ? bt_db_errmsg(db) :
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	return 0;
}

/*
 * The seed's pragmas, on every connection (issue 2, seed 3.1); open_db()
 * has set the busy timeout already.
 */
static int
pragmas(sqlite3 *db, const char *path, char *err)
{
	char sql[512];
	int rc;

	snprintf(sql, sizeof(sql),
	    "PRAGMA wal_autocheckpoint=1000;"
	    "PRAGMA synchronous=NORMAL;"
	    "PRAGMA cache_size=-%ld;"
	    "PRAGMA foreign_keys=ON;"
	    "PRAGMA temp_store=MEMORY;"
	    "PRAGMA mmap_size=0;", bt_conf_long("SQLITE_CACHE_MB") * 1024);
	if ((rc = bt_exec(db, sql, err)) != 0)
		goto fail;
	return 0;
fail:
	{
		char tmp[BT_ERRLEN];
		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		memcpy(err, tmp, BT_ERRLEN);
	}
	return rc;
}

/* The first read of a connection: SQLite's result code. */
static int
probe(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * A writer killed at the wrong moment can leave what only a read-write
 * connection may repair, and a read-only one then fails with "attempt to
 * write a readonly database": a hot rollback journal (SQLITE_READONLY_
 * ROLLBACK; campaign-crash met it a few times in a thousand kills, a
 * writer killed while its first `PRAGMA journal_mode=WAL' turned a new
 * file into WAL, which SQLite does through a rollback journal), or a WAL
 * index to rebuild (_RECOVERY, _CANTINIT).  bt-validate would then call a
 * sound store unreadable.  So a reader that meets one opens the file
 * read-write once, only to read, which rolls the journal back or rebuilds
 * the index in the -shm file, as the next writer would; it closes with no
 * checkpoint, so a WAL file keeps its bytes; then it reads again.
 */
static int
ro_recover(sqlite3 *db, const char *path, char *err)
{
	sqlite3 *rw;
	int rc, rc2;

	rc = probe(db);
	if (rc == SQLITE_READONLY_RECOVERY || rc == SQLITE_READONLY_CANTINIT ||
	    rc == SQLITE_READONLY_ROLLBACK) {
		rw = NULL;
		rc2 = sqlite3_open_v2(path, &rw, SQLITE_OPEN_READWRITE |
		    SQLITE_OPEN_NOMUTEX, NULL);
		if (rc2 == SQLITE_OK) {
			sqlite3_db_config(rw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
			    1, NULL);
			sqlite3_busy_timeout(rw,
			    (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
			probe(rw);
		}
		sqlite3_close(rw);
		rc = probe(db);
	}
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, BT_ERRLEN, "%s: %s%s", path, bt_db_errmsg(db),
	    (rc & 0xff) == SQLITE_READONLY ? " (the WAL index needs a "
	    "writer to rebuild it, and this user cannot open the file "
	    "read-write)" : "");
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

static int
open_db(const char *path, int mode, int fmode, sqlite3 **db, char *err)
{
	char *dir, *s;
	int flags, rc, fd;
	struct stat sb;

	*db = NULL;
	if (mode & BT_DB_CREATE) {
		if ((dir = strdup(path)) == NULL)
			abort();
		if ((s = strrchr(dir, '/')) != NULL && s != dir) {
			*s = '\0';
			if (bt_mkdirs(dir, 0750, err) == -1) {
				free(dir);
				return BT_EX_CANTCREAT;
			}
		}
		free(dir);
		/*
		 * Create the file with its final mode before SQLite opens
		 * it: the -wal and -shm files copy the database's mode.
		 */
		if (stat(path, &sb) == -1 && errno == ENOENT) {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    fmode);
			if (fd == -1) {
				snprintf(err, BT_ERRLEN, "create %s: %s", path,
				    strerror(errno));
				return errno == ENOSPC || errno == EDQUOT ?
				    BT_EX_IOERR : BT_EX_CANTCREAT;
			}
			close(fd);
		}
	} else if (access(path, F_OK) == -1) {
		snprintf(err, BT_ERRLEN, "%s: %s", path, strerror(errno));
		return BT_EX_NOINPUT;
	}
	flags = (mode & (BT_DB_RW | BT_DB_CREATE)) ?
	    SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
	rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s: %s", path, *db != NULL ?
		    bt_db_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return BT_EX_IOERR;
	}
	sqlite3_extended_result_codes(*db, 1);
	/* The busy timeout first: ro_recover() makes the first read. */
	sqlite3_busy_timeout(*db, (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
	if ((flags == SQLITE_OPEN_READONLY &&
	    (rc = ro_recover(*db, path, err)) != 0) ||
	    (rc = pragmas(*db, path, err)) != 0) {
		bt_close(*db);
		*db = NULL;
	}
	return rc;
}

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
	sqlite3_stmt *st;
	char *sql;
	size_t i;
	bool table;
	int rc;

	for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE "
		    "type='table' AND name=?1", -1, &st, NULL) != SQLITE_OK) {
			snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
			return BT_EX_SOFTWARE;
		}
		sqlite3_bind_text(st, 1, seed[i], -1, SQLITE_STATIC);
		table = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
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
	if (rw) {
		/*
		 * WAL only now that the file is known to be ours: a refused
		 * file is left exactly as it was.  Switching needs the file
		 * to itself, so it is done under the write lock.
		 */
		if ((rc = bt_wlock(err)) != 0)
			return rc;
		rc = bt_exec(db, "PRAGMA journal_mode=WAL", err);
		bt_wunlock();
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

	if ((rc = open_db(path, mode & ~BT_DB_PLAIN_OK, 0640, db, err)) != 0)
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

	if ((rc = open_db(path, mode, 0600, db, err)) != 0)
		return rc;
	if ((rc = migrate(*db, false, mode != BT_DB_RO, false, err)) != 0) {
		bt_close(*db);
		*db = NULL;
	}
	return rc;
}

void
bt_close(sqlite3 *db)
{
	sqlite3_stmt *st;

	if (db == NULL)
		return;
	while ((st = sqlite3_next_stmt(db, NULL)) != NULL)
		sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * A prepared statement kept for the life of the connection, found by its
 * SQL text; bt_close() finalizes it.
 */
sqlite3_stmt *
bt_stmt(sqlite3 *db, const char *sql, char *err)
{
	sqlite3_stmt *st = NULL;

	while ((st = sqlite3_next_stmt(db, st)) != NULL)
		if (strcmp(sqlite3_sql(st), sql) == 0 && !sqlite3_stmt_busy(st))
			return st;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
		return NULL;
	}
	return st;
}

/* ---------------------------------------------------------- transactions */

int
bt_begin(sqlite3 *db, char *err)
{
	int rc;

	if ((rc = bt_wlock(err)) != 0)
		return rc;
	if ((rc = bt_exec(db, "BEGIN IMMEDIATE", err)) != 0)
		bt_wunlock();
	return rc;
}

int
bt_commit(sqlite3 *db, char *err)
{
	int rc;

	if ((rc = bt_exec(db, "COMMIT", err)) != 0) {
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	bt_wunlock();
	return rc;
}

void
bt_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	bt_wunlock();
}

/* ---------------------------------------------------------------- pairs */

/* Is v exactly m / 10^k for an integer m that a double holds exactly? */
static bool
dec_ok(double v, double div, int64_t *m)
{
	double x = nearbyint(v * div);

	if (!(fabs(x) <= 9007199254740992.0) || x / div != v)
		return false;
	*m = (int64_t)x;
	return true;
}

/* The smallest k in 0..8 that encodes the most values of a group. */
static int
choose_k(const struct bt_candle *c, size_t n, int group)
{
	int k, best = 8;
	size_t i, cnt, bestcnt = 0;
	int64_t m;
	double d;

	for (k = 0; k <= 8; k++) {
		d = pow(10, k);
		cnt = 0;
		for (i = 0; i < n; i++) {
			switch (group) {
			case 0:
				cnt += dec_ok(c[i].o, d, &m) +
				    dec_ok(c[i].h, d, &m) +
				    dec_ok(c[i].l, d, &m) +
				    dec_ok(c[i].c, d, &m);
				break;
			case 1:
				cnt += dec_ok(c[i].v, d, &m);
				if (c[i].has & BT_HAS_TB)
					cnt += dec_ok(c[i].tb, d, &m);
				break;
			default:
				if (c[i].has & BT_HAS_QV)
					cnt += dec_ok(c[i].qv, d, &m);
				if (c[i].has & BT_HAS_TQ)
					cnt += dec_ok(c[i].tq, d, &m);
				break;
			}
		}
		if (cnt > bestcnt) {
			bestcnt = cnt;
			best = k;
		}
	}
	return best;
}

int
bt_pair_get(sqlite3 *db, const char *symbol, const char *tf, bool create,
    const struct bt_candle *c, size_t n, struct bt_pair *p, char *err)
{
	sqlite3_stmt *st;
	int rc, kp, kv, kq;

	memset(p, 0, sizeof(*p));
	snprintf(p->symbol, sizeof(p->symbol), "%s", symbol);
	snprintf(p->tf, sizeof(p->tf), "%s", tf);
	if ((p->iv = bt_tf_ms(tf)) == 0) {
		snprintf(err, BT_ERRLEN, "unknown timeframe '%s'", tf);
		return BT_EX_USAGE;
	}
	if ((st = bt_stmt(db, "SELECT id, dp, dv, dq FROM pairs "
	    "WHERE symbol=?1 AND tf=?2", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tf, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->id = sqlite3_column_int64(st, 0);
		p->dp = sqlite3_column_double(st, 1);
		p->dv = sqlite3_column_double(st, 2);
		p->dq = sqlite3_column_double(st, 3);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	if (!create)
		return 0;		/* p->id == 0: no such pair */
	kp = choose_k(c, n, 0);
	kv = choose_k(c, n, 1);
	kq = choose_k(c, n, 2);
	if ((st = bt_stmt(db, "INSERT INTO pairs(symbol, tf, iv, kp, kv, kq, "
	    "dp, dv, dq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	    err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->iv);
	sqlite3_bind_int(st, 4, kp);
	sqlite3_bind_int(st, 5, kv);
	sqlite3_bind_int(st, 6, kq);
	sqlite3_bind_double(st, 7, p->dp = pow(10, kp));
	sqlite3_bind_double(st, 8, p->dv = pow(10, kv));
	sqlite3_bind_double(st, 9, p->dq = pow(10, kq));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	p->id = sqlite3_last_insert_rowid(db);
	return 0;
fail:
	snprintf(err, BT_ERRLEN, "pairs %s %s: %s", symbol, tf,
	    bt_db_errmsg(db));
	return bt_sqlite_ex(rc);
}

static void
bind_dec(sqlite3_stmt *st, int col, double v, double div, bool present)
{
	int64_t m;

	if (!present)
		sqlite3_bind_null(st, col);
	else if (dec_ok(v, div, &m))
		sqlite3_bind_int64(st, col, m);
	else
		sqlite3_bind_double(st, col, v);
}

/*
 * A field the source does not carry (?14 is the candle's `has' mask)
 * keeps what is stored, so re-importing a freqtrade file never erases
 * Binance's quote volumes.  Rows that would not change are not written.
 */
static const char *upsert_sql =
	"INSERT INTO candles(pair, slot, xo, o, h, l, c, v, ct, qv, n, tb, tq)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	" ON CONFLICT(pair, slot, xo) DO UPDATE SET"
	"  o=excluded.o, h=excluded.h, l=excluded.l, c=excluded.c,"
	"  v=excluded.v,"
	"  ct=iif(?14&1, excluded.ct, ct),"
	"  qv=iif(?14&2, excluded.qv, qv),"
	"  n=iif(?14&4, excluded.n, n),"
	"  tb=iif(?14&8, excluded.tb, tb),"
	"  tq=iif(?14&16, excluded.tq, tq)"
	" WHERE (o, h, l, c, v) IS NOT"
	"  (excluded.o, excluded.h, excluded.l, excluded.c, excluded.v)"
	"  OR (?14&1 AND ct IS NOT excluded.ct)"
	"  OR (?14&2 AND qv IS NOT excluded.qv)"
	"  OR (?14&4 AND n IS NOT excluded.n)"
	"  OR (?14&8 AND tb IS NOT excluded.tb)"
	"  OR (?14&16 AND tq IS NOT excluded.tq)";

int
bt_candles_upsert(sqlite3 *db, const struct bt_pair *p,
    const struct bt_candle *c, size_t n, int64_t *changed, char *err)
{
	sqlite3_stmt *st;
	size_t i;
	int64_t slot, xo;
	int rc;

	*changed = 0;
	if ((st = bt_stmt(db, upsert_sql, err)) == NULL)
		return BT_EX_SOFTWARE;
	for (i = 0; i < n; i++) {
		slot = c[i].t / p->iv;
		xo = c[i].t - slot * p->iv;
		sqlite3_bind_int64(st, 1, p->id);
		sqlite3_bind_int64(st, 2, slot);
		sqlite3_bind_int64(st, 3, xo);
		bind_dec(st, 4, c[i].o, p->dp, true);
		bind_dec(st, 5, c[i].h, p->dp, true);
		bind_dec(st, 6, c[i].l, p->dp, true);
		bind_dec(st, 7, c[i].c, p->dp, true);
		bind_dec(st, 8, c[i].v, p->dv, true);
		if ((c[i].has & BT_HAS_CT) && c[i].ct != c[i].t + p->iv - 1)
			sqlite3_bind_int64(st, 9, c[i].ct);
		else
			sqlite3_bind_null(st, 9);
		bind_dec(st, 10, c[i].qv, p->dq, c[i].has & BT_HAS_QV);
		if (c[i].has & BT_HAS_N)
			sqlite3_bind_int64(st, 11, c[i].n);
		else
			sqlite3_bind_null(st, 11);
		bind_dec(st, 12, c[i].tb, p->dv, c[i].has & BT_HAS_TB);
		bind_dec(st, 13, c[i].tq, p->dq, c[i].has & BT_HAS_TQ);
		sqlite3_bind_int(st, 14, (int)c[i].has);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			snprintf(err, BT_ERRLEN, "store %s %s: %s", p->symbol,
			    p->tf, bt_db_errmsg(db));
			return bt_sqlite_ex(rc);
		}
		*changed += sqlite3_changes(db);
	}
	return 0;
}

int
bt_pair_range(sqlite3 *db, const struct bt_pair *p, int64_t *first,
    int64_t *last, int64_t *count, char *err)
{
	sqlite3_stmt *st;
	int rc;

	*first = *last = *count = 0;
	if (p->id == 0)
		return 0;
	if ((st = bt_stmt(db, "SELECT min(slot*?2+xo), max(slot*?2+xo), "
	    "count(*) FROM candles WHERE pair=?1", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, p->iv);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*first = sqlite3_column_int64(st, 0);
		*last = sqlite3_column_int64(st, 1);
		*count = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

/* Newest open time, without reading the pair's rows. */
int
bt_pair_last(sqlite3 *db, const struct bt_pair *p, int64_t *last,
    char *err)
{
	sqlite3_stmt *st;
	int rc;

	*last = -1;
	if (p->id == 0)
		return 0;
	if ((st = bt_stmt(db, "SELECT slot*?2+xo FROM candles WHERE pair=?1 "
	    "ORDER BY slot DESC, xo DESC LIMIT 1", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, p->iv);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*last = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

static double
dec_col(sqlite3_stmt *st, int col, double div)
{
	if (sqlite3_column_type(st, col) == SQLITE_INTEGER)
		return (double)sqlite3_column_int64(st, col) / div;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NAN;
	return sqlite3_column_double(st, col);
}

/*
 * Loads a pair's candles with open times in [from, to], or when `last' is
 * not 0 the newest `last' of them, into c (malloc'd, ascending).
 */
int
bt_candles_load(sqlite3 *db, const struct bt_pair *p, int64_t from,
    int64_t to, size_t last, struct bt_candle **out, size_t *nout, char *err)
{
	sqlite3_stmt *st;
	struct bt_candle *c = NULL, *cc, tmp;
	size_t n = 0, cap = 0, i;
	int rc;
	const char *sql = last ?
	    "SELECT slot, xo, o, h, l, c, v, ct, qv, n, tb, tq FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 "
	    "ORDER BY slot DESC, xo DESC LIMIT ?4" :
	    "SELECT slot, xo, o, h, l, c, v, ct, qv, n, tb, tq FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 ORDER BY slot, xo";

	*out = NULL;
	*nout = 0;
	if (p->id == 0)
		return 0;
	if ((st = bt_stmt(db, sql, err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, from < 0 ? 0 : from / p->iv);
	sqlite3_bind_int64(st, 3, to / p->iv);
	if (last)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((c = realloc(c, cap * sizeof(*c))) == NULL)
				abort();
		}
		cc = &c[n];
		cc->t = sqlite3_column_int64(st, 0) * p->iv +
		    sqlite3_column_int64(st, 1);
		if (cc->t < from || cc->t > to)
			continue;
		cc->o = dec_col(st, 2, p->dp);
		cc->h = dec_col(st, 3, p->dp);
		cc->l = dec_col(st, 4, p->dp);
		cc->c = dec_col(st, 5, p->dp);
		cc->v = dec_col(st, 6, p->dv);
		cc->has = BT_HAS_CT;
		cc->ct = sqlite3_column_type(st, 7) == SQLITE_NULL ?
		    cc->t + p->iv - 1 : sqlite3_column_int64(st, 7);
		cc->qv = dec_col(st, 8, p->dq);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			cc->has |= BT_HAS_QV;
		cc->n = sqlite3_column_int64(st, 9);
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			cc->has |= BT_HAS_N;
		cc->tb = dec_col(st, 10, p->dv);
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			cc->has |= BT_HAS_TB;
		cc->tq = dec_col(st, 11, p->dq);
		if (sqlite3_column_type(st, 11) != SQLITE_NULL)
			cc->has |= BT_HAS_TQ;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "load %s %s: %s", p->symbol, p->tf,
		    bt_db_errmsg(db));
		free(c);
		return bt_sqlite_ex(rc);
	}
	if (last)
		for (i = 0; i < n / 2; i++) {
			tmp = c[i];
			c[i] = c[n - 1 - i];
			c[n - 1 - i] = tmp;
		}
	*out = c;
	*nout = n;
	return 0;
}

/* ------------------------------------------------------ migrating plain */

/*
 * Converts the seed's plain ohlcv_* tables (an operator's existing file)
 * into the compact layout, keeping every row: each table's rows are read
 * by column name, written as candles, counted again through the new view
 * and only then dropped, all in one transaction.
 */
static int
migrate_table(sqlite3 *db, const char *tf, json_t *report, char *err)
{
	static const char *opt[] = { "close_time", "quote_volume", "trades",
	    "taker_buy_base", "taker_buy_quote" };
	const char *view = bt_tf_view(tf);
	char *sql;
	sqlite3_stmt *st = NULL, *cols;
	bool have[5] = { false };
	struct bt_candle *c = NULL;
	size_t n = 0, cap = 0, i, from;
	int64_t changed, before = 0, after = 0, t;
	struct bt_pair p;
	int rc = 0;

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
		const char *sym = (const char *)sqlite3_column_text(st, 0);
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((c = realloc(c, cap * sizeof(*c))) == NULL)
				abort();
		}
		/* Seconds, ms or us: whatever the operator's file used. */
		if (sqlite3_column_type(st, 1) == SQLITE_TEXT) {
			if (bt_parse_time((const char *)
			    sqlite3_column_text(st, 1), &t) == -1) {
				snprintf(err, BT_ERRLEN, "%s: row %lld: "
				    "timestamp '%s' is not a time", view,
				    (long long)before + 1,
				    sqlite3_column_text(st, 1));
				rc = BT_EX_DATAERR;
				goto out;
			}
		} else {
			t = sqlite3_column_int64(st, 1);
			if (t < 100000000000LL)
				t *= 1000;
			else if (t > 100000000000000LL)
				t /= 1000;
		}
		if (sym == NULL || !bt_symbol_ok(sym)) {
			snprintf(err, BT_ERRLEN, "%s: row %lld: symbol '%s' "
			    "is not a Binance symbol", view,
			    (long long)before + 1, sym ? sym : "NULL");
			rc = BT_EX_DATAERR;
			goto out;
		}
		memset(&c[n], 0, sizeof(c[n]));
		c[n].t = t;
		c[n].o = sqlite3_column_double(st, 2);
		c[n].h = sqlite3_column_double(st, 3);
		c[n].l = sqlite3_column_double(st, 4);
		c[n].c = sqlite3_column_double(st, 5);
		c[n].v = sqlite3_column_double(st, 6);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
			c[n].ct = sqlite3_column_int64(st, 7);
			if (c[n].ct < 100000000000LL)
				c[n].ct = c[n].ct * 1000 + 999;
			else if (c[n].ct > 100000000000000LL)
				c[n].ct /= 1000;
			c[n].has |= BT_HAS_CT;
		}
#define OPTF(col, fld, bit) \
		if (sqlite3_column_type(st, col) != SQLITE_NULL) { \
			c[n].fld = sqlite3_column_double(st, col); \
			c[n].has |= bit; \
		}
		OPTF(8, qv, BT_HAS_QV)
		OPTF(10, tb, BT_HAS_TB)
		OPTF(11, tq, BT_HAS_TQ)
#undef OPTF
		if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
			c[n].n = sqlite3_column_int64(st, 9);
			c[n].has |= BT_HAS_N;
		}
		n++;
		before++;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	/* Rows came ordered by symbol: store each symbol's run as a pair. */
	sql = sqlite3_mprintf("SELECT symbol, count(*) FROM %w GROUP BY symbol "
	    "ORDER BY symbol", view);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		goto sqlfail;
	from = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sym = (const char *)sqlite3_column_text(st, 0);
		size_t cnt = (size_t)sqlite3_column_int64(st, 1);
		if ((rc = bt_pair_get(db, sym, tf, true, c + from, cnt, &p,
		    err)) != 0)
			goto out;
		if ((rc = bt_candles_upsert(db, &p, c + from, cnt, &changed,
		    err)) != 0)
			goto out;
		after += changed;
		from += cnt;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	if (after != before) {
		snprintf(err, BT_ERRLEN, "%s: %lld rows read but %lld written "
		    "(duplicate timestamps?); nothing converted", view,
		    (long long)before, (long long)after);
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
	json_object_set_new(report, tf, json_integer(before));
	rc = 0;
	goto out;
sqlfail:
	snprintf(err, BT_ERRLEN, "%s: %s", view, bt_db_errmsg(db));
	rc = bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
out:
	sqlite3_finalize(st);
	free(c);
	return rc;
}

int
bt_store_migrate_plain(sqlite3 *db, json_t *report, char *err)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;
	bool plain[4] = { false };

	if ((rc = bt_begin(db, err)) != 0)
		return rc;
	for (i = 0; i < 4; i++) {
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE "
		    "type='table' AND name=?1", -1, &st, NULL) != SQLITE_OK) {
			rc = BT_EX_SOFTWARE;
			goto fail;
		}
		sqlite3_bind_text(st, 1, bt_tf_view(tfs4[i]), -1,
		    SQLITE_STATIC);
		plain[i] = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
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

/* ------------------------------------------------------------ state file */

int64_t
bt_run_begin(sqlite3 *st, const char *job, char *err)
{
	sqlite3_stmt *s;
	int64_t id = -1;
	int rc;

	if ((rc = bt_begin(st, err)) != 0)
		return -rc;
	if ((s = bt_stmt(st, "INSERT INTO runs(prog, job, pid, started) "
	    "VALUES (?1, ?2, ?3, ?4)", err)) == NULL) {
		bt_rollback(st);
		return -BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, bt_prog(), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, job != NULL ? job : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, getpid());
	sqlite3_bind_int64(s, 4, bt_now_ms());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "runs: %s", bt_db_errmsg(st));
		bt_rollback(st);
		return -bt_sqlite_ex(rc);
	}
	id = sqlite3_last_insert_rowid(st);
	if ((rc = bt_commit(st, err)) != 0)
		return -rc;
	return id;
}

int
bt_run_end(sqlite3 *st, int64_t run, int code, json_t *summary, char *err)
{
	sqlite3_stmt *s;
	char *js = NULL;
	int rc;

	if (run <= 0)
		return 0;
	if ((rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "UPDATE runs SET ended=?2, exit=?3, summary=?4 "
	    "WHERE id=?1", err)) == NULL) {
		bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	/* A failed run says why: its first diagnostic (bt-watchdog). */
	if (summary != NULL && code != 0 && code != BT_EX_FOUND &&
	    json_object_get(summary, "error") == NULL && *bt_first_diag())
		json_object_set_new(summary, "error",
		    json_string(bt_first_diag()));
	if (summary != NULL)
		js = json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int64(s, 2, bt_now_ms());
	sqlite3_bind_int(s, 3, code);
	if (js != NULL)
		sqlite3_bind_text(s, 4, js, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 4);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(js);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "runs: %s", bt_db_errmsg(st));
		bt_rollback(st);
		return bt_sqlite_ex(rc);
	}
	return bt_commit(st, err);
}

/* Names the job of a run begun before its job was known (bt-digest). */
int
bt_run_job(sqlite3 *st, int64_t run, const char *job, char *err)
{
	sqlite3_stmt *s;
	int rc;

	if (run <= 0)
		return 0;
	if ((rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "UPDATE runs SET job=?2 WHERE id=?1", err)) ==
	    NULL) {
		bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_text(s, 2, job, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "runs: %s", bt_db_errmsg(st));
		bt_rollback(st);
		return bt_sqlite_ex(rc);
	}
	return bt_commit(st, err);
}

/* --------------------------------------------------------------- due */

/*
 * A slot: "HH:MM" (every day), "sun HH:MM" (a weekday) or "1 HH:MM" (a
 * day of the month, 1..28), UTC.  The latest slot at or before now.
 */
int
bt_slot_latest(const char *spec, int64_t now, int64_t *slot, char *err)
{
	static const char *dows[] = { "sun", "mon", "tue", "wed", "thu", "fri",
	    "sat" };
	char word[8] = "", ts[32];
	int h, m, dow = -1, mday = 0, i, n;
	int64_t day, t;
	time_t tt;
	struct tm tm;

	if (sscanf(spec, "%2d:%2d%n", &h, &m, &n) == 2 && spec[n] == '\0')
		;
	else if (sscanf(spec, "%7s %2d:%2d%n", word, &h, &m, &n) == 3 &&
	    spec[n] == '\0') {
		for (i = 0; i < 7; i++)
			if (strcmp(word, dows[i]) == 0)
				dow = i;
		if (dow < 0 && ((mday = atoi(word)) < 1 || mday > 28 ||
		    strspn(word, "0123456789") != strlen(word)))
			goto bad;
	} else
		goto bad;
	if (h > 23 || m > 59 || h < 0 || m < 0)
		goto bad;
	/* Walk back a day at a time: at most 31 steps. */
	day = now - now % 86400000;
	for (i = 0; i < 62; i++, day -= 86400000) {
		t = day + (int64_t)h * 3600000 + (int64_t)m * 60000;
		if (t > now)
			continue;
		tt = (time_t)(day / 1000);
		gmtime_r(&tt, &tm);
		if ((dow >= 0 && tm.tm_wday != dow) ||
		    (mday > 0 && tm.tm_mday != mday))
			continue;
		*slot = t;
		return 0;
	}
bad:
	snprintf(err, BT_ERRLEN, "'%s' is not a slot (HH:MM, DAY HH:MM with "
	    "DAY sun..sat, or 1..28 HH:MM)", spec);
	(void)ts;
	return -1;
}

/*
 * contracts.md: a daily job is due when no run that succeeded started at
 * or after the latest scheduled slot.  `okmax' is the largest exit code
 * that counts as success (1 for the checkers, whose 1 is a finding).
 */
int
bt_due(sqlite3 *st, const char *prog, const char *job, int okmax,
    const char *spec, bool *due, int64_t *slot, char *err)
{
	sqlite3_stmt *q;
	int rc;

	if (bt_slot_latest(spec, bt_now_ms(), slot, err) == -1)
		return BT_EX_CONFIG;
	if ((q = bt_stmt(st, "SELECT count(*) FROM runs WHERE prog=?1 AND "
	    "job=?2 AND exit BETWEEN 0 AND ?3 AND started >= ?4", err)) ==
	    NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(q, 1, prog, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, job, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, okmax);
	sqlite3_bind_int64(q, 4, *slot);
	rc = sqlite3_step(q);
	*due = rc == SQLITE_ROW && sqlite3_column_int64(q, 0) == 0;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW) {
		snprintf(err, BT_ERRLEN, "runs: %s", bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

/* The line a job that is not due prints. */
void
bt_not_due(const char *job, int64_t slot)
{
	char ts[32];
	json_t *rec = bt_rec("not_due");

	json_object_set_new(rec, "job", json_string(job));
	json_object_set_new(rec, "slot", json_string(bt_fmt_time(slot, ts)));
	json_object_set_new(rec, "message", json_string("a run since the "
	    "latest slot succeeded; nothing to do"));
	bt_emit(rec);
}

static unsigned long event_seq;

/*
 * An event's id is a hash of what it says and when, plus its place in
 * this run: stable under BT_NOW (byte-identical reruns), unique in
 * practice otherwise.
 */
static void
event_id(char out[40], const char *kind, const char *symbol,
    const char *tf, const char *msg, int64_t ts)
{
	uint64_t h = 0;
	unsigned long seq = event_seq++;

	h = bt_hash64(bt_prog(), strlen(bt_prog()) + 1, h);
	h = bt_hash64(kind, strlen(kind) + 1, h);
	h = bt_hash64(symbol ? symbol : "", symbol ? strlen(symbol) + 1 : 1,
	    h);
	h = bt_hash64(tf ? tf : "", tf ? strlen(tf) + 1 : 1, h);
	h = bt_hash64(msg, strlen(msg) + 1, h);
	h = bt_hash64(&ts, sizeof(ts), h);
	h = bt_hash64(&seq, sizeof(seq), h);
	snprintf(out, 40, "%016llx", (unsigned long long)h);
}

int
bt_event_record(sqlite3 *st, json_t *ev, char *err)
{
	sqlite3_stmt *s;
	const char *sev, *kind, *msg, *id;
	char *detail;
	int64_t ts;
	bool own;
	int rc;

	sev = json_string_value(json_object_get(ev, "severity"));
	kind = json_string_value(json_object_get(ev, "event"));
	msg = json_string_value(json_object_get(ev, "message"));
	id = json_string_value(json_object_get(ev, "event_id"));
	if (sev == NULL || msg == NULL || id == NULL) {
		snprintf(err, BT_ERRLEN, "event lacks severity, message or id");
		return BT_EX_DATAERR;
	}
	if (json_string_value(json_object_get(ev, "ts")) == NULL ||
	    bt_parse_time(json_string_value(json_object_get(ev, "ts")),
	    &ts) == -1)
		ts = bt_now_ms();
	own = sqlite3_get_autocommit(st);
	if (own && (rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "INSERT INTO events(event_id, ts, prog, kind, "
	    "severity, symbol, tf, message, detail) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9) ON CONFLICT(event_id) DO NOTHING", err))
	    == NULL) {
		if (own)
			bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	detail = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ts);
	sqlite3_bind_text(s, 3, json_string_value(json_object_get(ev,
	    "prog")) ? json_string_value(json_object_get(ev, "prog")) :
	    "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, kind ? kind : "event", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, sev, -1, SQLITE_STATIC);
	if (json_string_value(json_object_get(ev, "symbol")))
		sqlite3_bind_text(s, 6, json_string_value(json_object_get(ev,
		    "symbol")), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 6);
	if (json_string_value(json_object_get(ev, "tf")))
		sqlite3_bind_text(s, 7, json_string_value(json_object_get(ev,
		    "tf")), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 7);
	sqlite3_bind_text(s, 8, msg, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, detail, -1, free);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "events: %s", bt_db_errmsg(st));
		if (own)
			bt_rollback(st);
		return bt_sqlite_ex(rc);
	}
	if (own)
		return bt_commit(st, err);
	return 0;
}

/*
 * The body of bt_event() and bt_event_once(): `id' is the event_id, or
 * NULL to make one from what the event says and when.
 */
static int
vevent(sqlite3 *st, const char *id, const char *severity, const char *kind,
    const char *symbol, const char *tf, json_t *extra, const char *fmt,
    va_list ap)
{
	char msg[1024], mid[40], err[BT_ERRLEN];
	const char *k;
	json_t *rec, *v;
	int rc = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	bt_redact(msg);
	if (strcmp(severity, "INFO") != 0)
		bt_note_problem(msg);
	rec = bt_rec(kind);
	json_object_set_new(rec, "severity", json_string(severity));
	json_object_set_new(rec, "symbol", symbol ? json_string(symbol) :
	    json_null());
	json_object_set_new(rec, "tf", tf ? json_string(tf) : json_null());
	json_object_set_new(rec, "message", json_string(msg));
	if (extra != NULL) {
		json_object_foreach(extra, k, v)
			json_object_set(rec, k, v);
		json_decref(extra);
	}
	if (st != NULL) {
		if (id == NULL) {
			event_id(mid, kind, symbol, tf, msg, bt_now_ms());
			id = mid;
		}
		json_object_set_new(rec, "event_id", json_string(id));
		if ((rc = bt_event_record(st, rec, err)) != 0) {
			bt_warnx("cannot record event: %s", err);
			json_object_del(rec, "event_id");
		}
	}
	bt_emit(rec);
	return rc;
}

int
bt_event(sqlite3 *st, const char *severity, const char *kind,
    const char *symbol, const char *tf, json_t *extra, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vevent(st, NULL, severity, kind, symbol, tf, extra, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * An event raised at most once a UTC day: its id is a hash of `kind',
 * `seed' and the day, the same whichever program raises it, and nothing
 * is printed or recorded when the state file has it already.  Returns 0
 * when it was there or is now, else what recording returned.
 */
int
bt_event_once(sqlite3 *st, const char *severity, const char *kind,
    const char *seed, json_t *extra, const char *fmt, ...)
{
	sqlite3_stmt *q;
	char id[40], day[32], err[BT_ERRLEN];
	uint64_t h;
	va_list ap;
	bool have;
	int rc;

	bt_fmt_time(bt_now_ms(), day);
	day[10] = '\0';
	h = bt_hash64("once", 5, 0);
	h = bt_hash64(kind, strlen(kind) + 1, h);
	h = bt_hash64(seed, strlen(seed) + 1, h);
	h = bt_hash64(day, strlen(day) + 1, h);
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)h);
	if (st != NULL && (q = bt_stmt(st, "SELECT 1 FROM events WHERE "
	    "event_id=?1", err)) != NULL) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		have = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_reset(q);
		if (have) {
			json_decref(extra);
			return 0;
		}
	}
	va_start(ap, fmt);
	rc = vevent(st, id, severity, kind, NULL, NULL, extra, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Raises what loading the configuration found (bt_conf_problems()), each
 * at most once a UTC day: an unknown key is a WARNING naming the file,
 * the line and the nearest known key; a bad value is a CRITICAL naming
 * who refuses to run.  bt-digest and bt-watchdog call it: they run on
 * with the default of a bad key, so the alert path can report its own
 * configuration (bt(7), CONFIGURATION).
 */
void
bt_conf_events(sqlite3 *st, bool bad_too)
{
	const struct bt_conf_problem *p;
	char users[128], seed[600];
	size_t i, n;

	n = bt_conf_problems(&p);
	for (i = 0; i < n; i++) {
		snprintf(seed, sizeof(seed), "%s|%s|%s", p[i].where, p[i].key,
		    p[i].why);
		if (p[i].kind == BT_CONF_UNKNOWN) {
			bt_event_once(st, "WARNING", "config", seed, json_pack(
			    "{s:s, s:s, s:s?}", "where", p[i].where, "key",
			    p[i].key, "nearest", *p[i].near ? p[i].near : NULL),
			    "%s: unknown key %s (ignored)%s%s%s", p[i].where,
			    p[i].key, *p[i].near ? "; did you mean " : "",
			    p[i].near, *p[i].near ? "?" : "");
			continue;
		}
		if (!bad_too)
			continue;
		bt_conf_users(p[i].users & ~(BT_USE_DIGEST | BT_USE_WATCHDOG),
		    users, sizeof(users));
		bt_event_once(st, "CRITICAL", "config", seed, json_pack(
		    "{s:s, s:s}", "where", p[i].where, "key", p[i].key),
		    "%s: %s; %s%s%sthe alert path runs on with its default "
		    "until it is fixed (etc/bt.conf.example lists every key)",
		    p[i].where, p[i].why, *users ? "it stops " : "", users,
		    *users ? " (exit 78); " : "");
	}
}

int
bt_dirty_add(sqlite3 *st, const char *symbol, const char *tf, int64_t from,
    int64_t to, char *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = bt_stmt(st, "INSERT INTO dirty(symbol, tf, from_ms, to_ms) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(symbol, tf, from_ms) DO "
	    "UPDATE SET to_ms=max(to_ms, excluded.to_ms)", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, tf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "dirty: %s", bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

int
bt_kv_get(sqlite3 *st, const char *key, char **val, char *err)
{
	sqlite3_stmt *s;
	int rc;

	*val = NULL;
	if ((s = bt_stmt(st, "SELECT value FROM kv WHERE key=?1", err)) ==
	    NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_text(s, 0) != NULL)
		*val = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "kv: %s", bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

int
bt_kv_set(sqlite3 *st, const char *key, const char *val, char *err)
{
	sqlite3_stmt *s;
	bool own = sqlite3_get_autocommit(st);
	int rc;

	if (own && (rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "INSERT INTO kv(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value=excluded.value", err)) ==
	    NULL) {
		if (own)
			bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "kv: %s", bt_db_errmsg(st));
		if (own)
			bt_rollback(st);
		return bt_sqlite_ex(rc);
	}
	return own ? bt_commit(st, err) : 0;
}
