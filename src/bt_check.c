/*
 * bt_check.c - a validation run of the store and its findings, and the
 * checks that look at the store as a whole: its schema and pairs rows,
 * the staleness and coverage of the configured pairs, and SQLite's own
 * integrity check.  The candle checks (gaps, sanity, dirty ranges) are
 * bt_scan.c's and report through the findings here.
 *
 * Invariants:
 * - The store is only read, on the program's read-only connection, and
 *   the integrity pragma on one of its own.  The only writes go to the
 *   state file: one event per finding (none with -n).
 * - One JSON line per finding, each also an event; a CRITICAL finding
 *   makes the run exit 1.  A store that cannot be read (corrupt, an I/O
 *   error) is a finding too, not a failure of the run; a busy one is 75.
 * - A check that cannot run says why on stderr and worsens the run's
 *   exit code, and the other checks go on: a run reports all it can.
 * - --gaps mode prints no finding lines: the scan prints gap records.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_check.h"
#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_lock.h"
#include "bt_state.h"

/* "3d 4h", "12h", "45m", "30s": how old something is. */
static char *
fmt_age(int64_t ms, char buf[32])
{
	long long s = (long long)(ms / 1000);

	if (s >= 86400)
		snprintf(buf, 32, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600 && s % 3600 >= 60)
		snprintf(buf, 32, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, 32, "%lldh", s / 3600);
	else if (s >= 60)
		snprintf(buf, 32, "%lldm", s / 60);
	else
		snprintf(buf, 32, "%llds", s);
	return buf;
}

bool
bt_check_tf_wanted(const struct bt_check *x, const char *tf)
{
	int i;

	for (i = 0; i < x->ntfs; i++)
		if (strcmp(x->tfs[i], tf) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ findings */

/*
 * The JSON line of a finding has `check' and `detail'; it is also
 * recorded as an event unless -n.  In --gaps mode nothing is printed.
 */
void
bt_check_finding(struct bt_check *x, const char *check, const char *sev,
    const char *kind, const char *sym, const char *tf, json_t *extra,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *rec, *log;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bt_check_count(x, sev);
	if (extra == NULL)
		extra = json_object();
	if (x->gaps) {
		json_decref(extra);
		return;
	}
	/* Gap records keep from and to on top (contracts.md). */
	rec = json_pack("{s:s}", "check", check);
	if (json_object_get(extra, "from") != NULL) {
		json_object_set(rec, "from", json_object_get(extra, "from"));
		json_object_set(rec, "to", json_object_get(extra, "to"));
		json_object_del(extra, "from");
		json_object_del(extra, "to");
	}
	json_object_set(rec, "detail", extra);
	/* The staleness log keeps the same line, less the event id. */
	if (x->stalelog != NULL && (strcmp(check, "staleness") == 0 ||
	    strcmp(check, "coverage") == 0)) {
		log = bt_rec(kind);
		json_object_set_new(log, "severity", json_string(sev));
		json_object_set_new(log, "symbol", sym ? json_string(sym) :
		    json_null());
		json_object_set_new(log, "tf", tf ? json_string(tf) :
		    json_null());
		json_object_set_new(log, "message", json_string(msg));
		json_object_update(log, rec);
		if ((line = bt_json_line(log)) != NULL) {
			fprintf(x->stalelog, "%s\n", line);
			free(line);
		}
		json_decref(log);
	}
	json_decref(extra);
	bt_event(x->dry ? NULL : x->st, sev, kind, sym, tf, rec, "%s", msg);
}

/* A CRITICAL fails the run, but not a --gaps run: it prints records. */
void
bt_check_count(struct bt_check *x, const char *sev)
{
	x->hit = true;
	if (strcmp(sev, "CRITICAL") == 0) {
		x->ncrit++;
		if (!x->gaps)
			x->exit = bt_exit_worse(x->exit, BT_EX_FOUND);
	} else
		x->nwarn++;
}

void
bt_check_fail(struct bt_check *x, int code, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n == -1)
		abort();
	bt_warnx("%s", msg);
	free(msg);
	x->exit = bt_exit_worse(x->exit, code);
}

/* Busy: try later (75); damage or I/O: a finding; else a bug (70). */
void
bt_check_read_error(struct bt_check *x, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		bt_check_fail(x, BT_EX_TEMPFAIL, "%s: %s", what,
		    sqlite3_errstr(rc));
		return;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		bt_check_finding(x, "integrity", "CRITICAL", "integrity", NULL,
		    NULL, json_pack("{s:s}", "error", bt_db_errmsg(x->db)),
		    "%s: %s", what, bt_db_errmsg(x->db));
		return;
	default:
		bt_check_fail(x, BT_EX_SOFTWARE, "%s: %s", what,
		    bt_db_errmsg(x->db));
	}
}

int
bt_check_stalelog(struct bt_check *x, char *err)
{
	char *lp;
	int fd;

	lp = bt_path("logs");
	if (bt_mkdirs(lp, 0750, err) != 0) {
		free(lp);
		return BT_EX_CANTCREAT;
	}
	free(lp);
	lp = bt_path("logs/staleness_check.log");
	fd = open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1 || (x->stalelog = fdopen(fd, "a")) == NULL) {
		snprintf(err, BT_ERRLEN, "%s: %s", lp, strerror(errno));
		if (fd != -1)
			close(fd);
		free(lp);
		return BT_EX_CANTCREAT;
	}
	free(lp);
	return 0;
}

/* ------------------------------------------------- staleness, coverage */

/* A pair that is not current: its newest candle against its threshold. */
static void
stale_pair(struct bt_check *x, const struct bt_cov_pair *cp, int64_t now)
{
	char ts[32], age[32], thr[32];

	fmt_age(cp->threshold, thr);
	if (cp->last < 0)
		bt_check_finding(x, "staleness", "WARNING", "stale",
		    cp->symbol, cp->tf, json_pack("{s:n, s:n, s:I}", "last",
		    "age_s", "threshold_s",
		    (json_int_t)(cp->threshold / 1000)),
		    "%s %s: no candles stored (threshold %s)",
		    cp->symbol, cp->tf, thr);
	else
		bt_check_finding(x, "staleness", "WARNING", "stale",
		    cp->symbol, cp->tf, json_pack("{s:I, s:I, s:I}", "last",
		    (json_int_t)cp->last, "age_s",
		    (json_int_t)((now - cp->last) / 1000),
		    "threshold_s", (json_int_t)(cp->threshold / 1000)),
		    "%s %s: newest candle %s is %s old (threshold %s)",
		    cp->symbol, cp->tf, bt_fmt_time(cp->last, ts),
		    fmt_age(now - cp->last, age), thr);
}

/* Coverage below BT_COVERAGE_MIN: the CRITICAL names the stale pairs. */
static void
low_coverage(struct bt_check *x, const struct bt_cov *cov, json_t *stale)
{
	struct bt_buf names = { 0 };
	size_t k, ns = json_array_size(stale);

	/* The first ten. */
	for (k = 0; k < ns && k < 10; k++)
		bt_buf_printf(&names, "%s%s %s", k ? ", " : "",
		    json_string_value(json_array_get(json_array_get(
		    stale, k), 0)), json_string_value(json_array_get(
		    json_array_get(stale, k), 1)));
	if (ns > 10)
		bt_buf_printf(&names, " and %zu more", ns - 10);
	bt_check_finding(x, "coverage", "CRITICAL", "coverage", NULL, NULL,
	    json_pack("{s:f, s:i, s:i, s:O}", "coverage",
	    round(cov->coverage * 1e4) / 1e4, "current", cov->current,
	    "counted", cov->counted, "stale", stale),
	    "coverage %.1f%%: only %d of %d pairs are current "
	    "(minimum %.0f%%); stale: %s", cov->coverage * 100,
	    cov->current, cov->counted, bt_conf_double("BT_COVERAGE_MIN") *
	    100, ns ? names.p : "none");
	bt_buf_free(&names);
}

/*
 * Coverage by contracts.md's one rule (bt_coverage(), as bt-fetch counts
 * it), over the configured symbols and the checked timeframes.
 */
void
bt_check_staleness(struct bt_check *x, json_t *sum)
{
	struct bt_cov cov;
	struct bt_cov_pair *cp;
	char **syms, err[BT_ERRLEN];
	int nsyms, i, rc;
	json_t *stale;
	int64_t now = bt_now_ms();

	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	rc = bt_coverage(x->db, x->st, NULL, syms, nsyms, x->tfs, x->ntfs,
	    &cov, err);
	bt_list_free(syms, nsyms);
	if (rc != 0) {
		if (rc == BT_EX_IOERR)
			bt_check_finding(x, "integrity", "CRITICAL",
			    "integrity", NULL, NULL, json_pack("{s:s}",
			    "error", err), "reading the newest candles: %s",
			    err);
		else
			bt_check_fail(x, rc, "coverage: %s", err);
		bt_cov_free(&cov);
		return;
	}
	stale = json_array();
	for (i = 0; i < cov.n; i++) {
		cp = &cov.p[i];
		if (cp->excluded) {
			if (x->verbose)
				bt_warnx("%s is not TRADING: %s left out of "
				    "coverage", cp->symbol, cp->tf);
			continue;
		}
		if (cp->current)
			continue;
		json_array_append_new(stale, json_pack("[s,s]", cp->symbol,
		    cp->tf));
		stale_pair(x, cp, now);
	}
	if (cov.coverage < bt_conf_double("BT_COVERAGE_MIN"))
		low_coverage(x, &cov, stale);
	json_object_set_new(sum, "coverage", json_real(round(cov.coverage *
	    1e4) / 1e4));
	json_object_set_new(sum, "current", json_integer(cov.current));
	json_object_set_new(sum, "counted", json_integer(cov.counted));
	json_decref(stale);
	bt_cov_free(&cov);
}

/* ---------------------------------------------------------- the schema */

static bool
schema_has(struct bt_check *x, const char *type, const char *name)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	bool out;

	if ((s = bt_stmt(x->db, "SELECT 1 FROM sqlite_schema WHERE type=?1 "
	    "AND name=?2", err)) == NULL)
		return false;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	out = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return out;
}

/*
 * Does some index of `table' lead with `cols' (a "desc" suffix on a name
 * asks for a descending key)?
 */
static bool
index_leads(struct bt_check *x, const char *table, const char *const *cols,
    int ncols)
{
	sqlite3_stmt *il, *ix;
	char *sql;
	bool found = false, ok;
	int i, rc;

	sql = sqlite3_mprintf("SELECT name FROM pragma_index_list(%Q)", table);
	rc = sqlite3_prepare_v2(x->db, sql, -1, &il, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return false;
	while (!found && sqlite3_step(il) == SQLITE_ROW) {
		if (sqlite3_prepare_v2(x->db, "SELECT name, desc FROM "
		    "pragma_index_xinfo(?1) WHERE key ORDER BY seqno", -1, &ix,
		    NULL) != SQLITE_OK)
			break;
		sqlite3_bind_text(ix, 1, (const char *)sqlite3_column_text(il,
		    0), -1, SQLITE_TRANSIENT);
		ok = true;
		for (i = 0; i < ncols && ok; i++) {
			size_t len = strcspn(cols[i], " ");
			bool desc = strstr(cols[i], " desc") != NULL;
			const char *name;
			if (sqlite3_step(ix) != SQLITE_ROW ||
			    (name = (const char *)sqlite3_column_text(ix, 0)) ==
			    NULL || strlen(name) != len ||
			    strncmp(name, cols[i], len) != 0 ||
			    (desc && sqlite3_column_int(ix, 1) != 1))
				ok = false;
		}
		sqlite3_finalize(ix);
		found = ok;
	}
	sqlite3_finalize(il);
	return found;
}

/*
 * Each pairs row against itself: the interval is its timeframe's, and
 * each scale is 10^k of its exponent.  A damaged row keeps every candle
 * of the pair sane while shifting its times or scaling its prices, so no
 * candle check can see it (bt-validate(1), WHAT NO CHECK CAN SEE).
 */
static void
check_pairs(struct bt_check *x)
{
	sqlite3_stmt *s;
	const char *sym, *tf;
	int64_t iv;
	int k;

	if (sqlite3_prepare_v2(x->db, "SELECT symbol, tf, iv, kp, kv, kq, "
	    "dp, dv, dq FROM pairs ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
		bt_check_read_error(x, sqlite3_errcode(x->db), "pairs");
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		sym = (const char *)sqlite3_column_text(s, 0);
		tf = (const char *)sqlite3_column_text(s, 1);
		iv = sqlite3_column_int64(s, 2);
		if (sym == NULL || tf == NULL || bt_tf_ms(tf) != iv)
			bt_check_finding(x, "integrity", "CRITICAL", "pairs",
			    sym, tf, NULL, "pairs row %s %s: interval %lld ms "
			    "is not the timeframe's", sym ? sym : "?",
			    tf ? tf : "?", (long long)iv);
		for (k = 0; k < 3; k++)
			if (sqlite3_column_double(s, 6 + k) != pow(10,
			    sqlite3_column_int(s, 3 + k)))
				bt_check_finding(x, "integrity", "CRITICAL",
				    "pairs", sym, tf, NULL, "pairs row %s %s: "
				    "scale %.17g is not 10^%d", sym ? sym : "?",
				    tf ? tf : "?", sqlite3_column_double(s,
				    6 + k), sqlite3_column_int(s, 3 + k));
	}
	if (sqlite3_finalize(s) != SQLITE_OK)
		bt_check_read_error(x, sqlite3_errcode(x->db), "pairs");
}

/* A table the checks cannot do without: CRITICAL when it is missing. */
static bool
table_there(struct bt_check *x, const char *table)
{
	if (schema_has(x, "table", table))
		return true;
	bt_check_finding(x, "schema", "CRITICAL", "schema", NULL, NULL, NULL,
	    "table %s is missing", table);
	return false;
}

/* candles keyed by (pair, slot, xo); true when that cannot be read. */
static bool
candles_keyed(struct bt_check *x)
{
	static const char *pk[] = { "pair", "slot", "xo" };
	sqlite3_stmt *s;
	int n = 0;

	if (sqlite3_prepare_v2(x->db, "SELECT name FROM "
	    "pragma_table_info('candles') WHERE pk>0 ORDER BY pk", -1, &s,
	    NULL) != SQLITE_OK)
		return true;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n >= 3 || strcmp((const char *)sqlite3_column_text(s, 0),
		    pk[n]) != 0)
			n = 99;
		n++;
	}
	sqlite3_finalize(s);
	if (n == 3)
		return true;
	bt_check_finding(x, "schema", "CRITICAL", "schema", NULL, NULL, NULL,
	    "table candles is not keyed by (pair, slot, xo)");
	return false;
}

/*
 * The layout bt expects (bt_db.c): bt_meta, pairs, candles keyed by
 * (pair, slot, xo), the seed's four views; and the seed's indexes on the
 * tables other programs keep in the same file, where those exist.
 * Returns false when the candle checks cannot run.
 */
bool
bt_check_schema(struct bt_check *x)
{
	static const char *views[] = { "ohlcv_d1", "ohlcv_h4", "ohlcv_h1",
	    "ohlcv_m15" };
	static const struct {
		const char *table, *index, *cols[2], *sql;
	} seed[] = {
		{ "trades", "idx_trades_symbol", { "symbol", "timestamp desc" },
		    "CREATE INDEX idx_trades_symbol ON trades(symbol, "
		    "timestamp DESC)" },
		{ "indicadores_tecnico", "idx_indicadores_symbol_tf",
		    { "symbol", "timeframe" },
		    "CREATE INDEX idx_indicadores_symbol_tf ON "
		    "indicadores_tecnico(symbol, timeframe)" },
		{ "sentimento_mercado", "idx_sentimento_symbol",
		    { "symbol", "timestamp" },
		    "CREATE INDEX idx_sentimento_symbol ON "
		    "sentimento_mercado(symbol, timestamp)" },
	};
	size_t i;
	bool ok;

	ok = table_there(x, "bt_meta");
	ok = table_there(x, "pairs") && ok;
	if (!table_there(x, "candles") || !candles_keyed(x))
		ok = false;
	for (i = 0; i < 4; i++)
		if (!schema_has(x, "view", views[i]))
			bt_check_finding(x, "schema", "CRITICAL", "schema",
			    NULL, NULL, json_pack("{s:s}", "view", views[i]),
			    "view %s is missing: the seed's readers cannot "
			    "read that timeframe", views[i]);
	for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
		if (schema_has(x, "table", seed[i].table) &&
		    !index_leads(x, seed[i].table, seed[i].cols, 2))
			bt_check_finding(x, "schema", "WARNING", "schema",
			    NULL, NULL, json_pack("{s:s, s:s, s:s}", "table",
			    seed[i].table, "index", seed[i].index, "fix",
			    seed[i].sql),
			    "table %s has no index on (%s, %s), the seed's "
			    "%s; its owner should run: %s", seed[i].table,
			    seed[i].cols[0], seed[i].cols[1], seed[i].index,
			    seed[i].sql);
	if (ok)
		check_pairs(x);
	return ok;
}

/* ----------------------------------------------------------- integrity */

/*
 * The integrity pragma runs on its own read-only connection in a thread
 * of its own while the other checks read the store: on a machine with two
 * cores a --full run costs little more than integrity_check alone.  The
 * thread touches no jansson and no state: it only fills `struct bt_integ'.
 */

static void
integ_add(struct bt_integ *g, const char *m)
{
	if (g->nmsg < 10)
		snprintf(g->msg[g->nmsg++], sizeof(g->msg[0]), "%s", m);
	g->n++;
}

static void *
integ_run(void *arg)
{
	struct bt_integ *g = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_open_v2(g->path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		integ_add(g, db != NULL ? bt_db_errmsg(db) :
		    sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
	sqlite3_exec(db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(db, g->quick ? "PRAGMA quick_check" :
	    "PRAGMA integrity_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *r = (const char *)sqlite3_column_text(s, 0);
			if (r != NULL && strcmp(r, "ok") != 0)
				integ_add(g, r);
		}
	if (rc != SQLITE_DONE)
		integ_add(g, bt_db_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return NULL;
}

void
bt_check_integrity_start(struct bt_check *x, struct bt_integ *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->path, sizeof(g->path), "%s",
	    sqlite3_db_filename(x->db, "main"));
	g->quick = strcmp(x->integrity, "quick") == 0;
	if (pthread_create(&g->th, NULL, integ_run, g) == 0)
		g->started = true;
	else
		integ_run(g);
}

void
bt_check_integrity_end(struct bt_check *x, struct bt_integ *g, json_t *sum)
{
	json_t *errs = json_array();
	const char *first;
	int i;

	if (g->started)
		pthread_join(g->th, NULL);
	for (i = 0; i < g->nmsg; i++)
		json_array_append_new(errs, json_string(g->msg[i]));
	json_object_set_new(sum, "integrity", json_string(g->n ? "failed" :
	    "ok"));
	if (g->n > 0) {
		/* quick_check's first row may be "*** in database main ***" */
		first = g->msg[0];
		if (strncmp(first, "*** ", 4) == 0 && strchr(first, '\n'))
			first = strchr(first, '\n') + 1;
		bt_check_finding(x, "integrity", "CRITICAL", "integrity", NULL,
		    NULL, json_pack("{s:s, s:i, s:O}", "pragma", g->quick ?
		    "quick_check" : "integrity_check", "problems", g->n,
		    "errors", errs),
		    "%s_check found %d problem%s; first: %s; restore with "
		    "bt-backup --restore", g->quick ? "quick" : "integrity",
		    g->n, g->n > 1 ? "s" : "", first);
	}
	json_decref(errs);
}
