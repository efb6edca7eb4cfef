/*
 * check-test - bt-validate's engine, driven directly: bt_check.c (a run
 * and its findings, the schema), bt_scan.c (gaps and sanity, the finding
 * budget, dirty ranges, --gaps records) and bt_accept.c (accepted
 * ranges, --accept).
 *
 *	check-test
 *
 * Runs under BT_HOME (an empty one: it builds its own store there, one
 * pair BTCUSDT 1d of 30 days from 2022-09-01 with 2022-09-11..13
 * missing and 2022-09-20 corrupt; 2022-09-25 goes later) with BT_NOW
 * set.  Prints TAP; the
 * finding lines each case prints are read back from a file.
 */

#include "bt_accept.h"
#include "bt_check.h"
#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_scan.h"
#include "bt_store.h"
#include "unit-tap.h"

#define DAY	86400000LL
#define SEP1	1661990400000LL		/* 2022-09-01T00:00:00Z */

static sqlite3 *db, *st;

/* A fresh run over the store, its output captured anew. */
static void
run_begin(struct bt_check *x, bool gaps)
{
	memset(x, 0, sizeof(*x));
	x->db = db;
	x->st = st;
	x->gaps = gaps;
	x->ntfs = bt_conf_list("BT_TIMEFRAMES", &x->tfs);
	capture();
}

static void
run_end(struct bt_check *x)
{
	fflush(stdout);
	bt_list_free(x->tfs, x->ntfs);
}

static void
conf(const char *key, const char *val)
{
	char err[BT_ERRLEN];

	if (bt_conf_set(key, val, err) != 0)
		die(key, err);
}

static void
state_exec(const char *sql)
{
	char err[BT_ERRLEN];

	if (bt_exec(st, sql, err) != 0)
		die(sql, err);
}

static void
make_store(void)
{
	struct bt_candle c[30];
	struct bt_pair p;
	char err[BT_ERRLEN], *path;
	int64_t changed;
	size_t n = 0;
	int d;

	path = bt_store_path();
	if (bt_open_store(path, BT_DB_CREATE, &db, err) != 0)
		die("store", err);
	free(path);
	for (d = 0; d < 30; d++) {
		if (d >= 10 && d <= 12)
			continue;
		memset(&c[n], 0, sizeof(c[n]));
		c[n].t = SEP1 + d * DAY;
		c[n].o = 100 + d;
		c[n].h = 110 + d;
		c[n].l = 90 + d;
		c[n].c = 105 + d;
		c[n].v = 10;
		if (d == 19)
			c[n].h = 80;	/* below low: corrupt */
		n++;
	}
	if (bt_begin(db, err) != 0 ||
	    bt_pair_get(db, "BTCUSDT", "1d", true, c, n, &p, err) != 0 ||
	    bt_candles_upsert(db, &p, c, n, &changed, err) != 0 ||
	    bt_commit(db, err) != 0)
		die("candles", err);
	path = bt_state_path();
	if (bt_open_state(path, BT_DB_CREATE, &st, err) != 0)
		die("state", err);
	free(path);
}

/* --full over the store, with the accepted ranges of the state file. */
static void
full_scan(struct bt_check *x, bool gaps)
{
	struct bt_accepted acc = { 0 };
	struct bt_scan *sc;
	char err[BT_ERRLEN];

	run_begin(x, gaps);
	if (bt_accept_load(st, &acc, err) != 0)
		die("accepted", err);
	sc = bt_scan_new(x, &acc);
	if (bt_scan_dirty_load(sc, err) != 0)
		die("dirty", err);
	bt_scan_full(sc);
	bt_scan_free(sc);
	bt_accept_free(&acc);
	run_end(x);
}

static void
test_schema(void)
{
	struct bt_check x;

	run_begin(&x, false);
	ok(bt_check_schema(&x) && x.ncrit == 0 && x.nwarn == 0,
	    "a store bt made has the schema bt expects");
	run_end(&x);
}

static void
test_full(void)
{
	struct bt_check x;

	full_scan(&x, false);
	ok(x.candles == 27 && x.pairs == 1 && x.ranges == 1,
	    "--full reads every candle of the pair once");
	ok(x.nwarn == 1 && lines_with("\"event\":\"gap\"") == 1 &&
	    lines_with("\"from\":1662854400000,\"to\":1663027200000") == 1,
	    "the three missing days are one gap, from and to on top");
	ok(x.ncrit == 1 && lines_with("\"price_range\"") == 1,
	    "the corrupt candle is one CRITICAL sanity finding");
	ok(x.exit == BT_EX_FOUND, "a CRITICAL finding makes the run exit 1");
}

static void
test_gaps_mode(void)
{
	struct bt_check x;

	full_scan(&x, true);
	ok(lines_with("\"reason\":\"missing\"") == 1 &&
	    lines_with("\"reason\":\"sanity\"") == 1 &&
	    lines_with("\"check\"") == 0,
	    "--gaps prints gap records (missing, sanity) and no finding");
	ok(x.exit == 0, "--gaps exits 0 on findings");
}

static void
test_accepted(void)
{
	struct bt_accepted acc = { 0 };
	struct bt_check x;
	char err[BT_ERRLEN];
	char *one[] = { "BTCUSDT", "1d", "2022-09-12", "2022-09-12",
	    "an outage" };
	char *bad[] = { "BTCUSDT", "2d", "2022-09-12", "2022-09-12" };

	ok(bt_accept(st, 4, bad, err) == BT_EX_USAGE &&
	    strstr(err, "'2d' is not one of") != NULL,
	    "--accept refuses an unknown timeframe, saying why");
	capture();
	ok(bt_accept(st, 5, one, err) == 0 &&
	    lines_with("\"event\":\"accepted\"") == 1,
	    "--accept records one range and says so");
	if (bt_accept_load(st, &acc, err) != 0)
		die("accepted", err);
	ok(acc.n == 1 && bt_accept_covers(&acc, "BTCUSDT", "1d",
	    SEP1 + 11 * DAY) && !bt_accept_covers(&acc, "BTCUSDT", "1d",
	    SEP1 + 12 * DAY) && !bt_accept_covers(&acc, "BTCUSDT", "4h",
	    SEP1 + 11 * DAY), "an accepted range covers its pair's times only");
	bt_accept_free(&acc);

	full_scan(&x, false);
	ok(x.naccepted == 1 && lines_with("\"event\":\"gap\"") == 2 &&
	    lines_with("1 candle missing at 2022-09-11") == 1 &&
	    lines_with("1 candle missing at 2022-09-13") == 1,
	    "a day accepted in the middle splits the gap around it");

	conf("BT_ACCEPTED_GAPS", "BTCUSDT/1d/2022-09-11/2022-09-13");
	full_scan(&x, false);
	ok(lines_with("\"event\":\"gap\"") == 0 && x.ncrit == 1,
	    "BT_ACCEPTED_GAPS hides the whole gap, never the corrupt candle");
	conf("BT_ACCEPTED_GAPS", "BTCUSDT/1d/2022-09-13");
	ok(bt_accept_load(st, &acc, err) == BT_EX_CONFIG &&
	    strstr(err, "is not SYMBOL/TF/FROM/TO") != NULL,
	    "a BT_ACCEPTED_GAPS entry that is not SYMBOL/TF/FROM/TO is 78");
	bt_accept_free(&acc);
	conf("BT_ACCEPTED_GAPS", "");
	state_exec("DELETE FROM accepted_gaps");
}

static void
test_budget(void)
{
	struct bt_check x;
	char err[BT_ERRLEN];

	/* A second gap, so that two of one kind meet a budget of one. */
	if (bt_exec(db, "DELETE FROM candles WHERE slot = 19260", err) != 0)
		die("delete", err);
	conf("BT_VALIDATE_MAX_FINDINGS", "1");
	full_scan(&x, false);
	ok(lines_with("\"event\":\"gap\"") == 2 &&
	    lines_with("1 more gap findings") == 1 && x.nwarn == 2,
	    "past the budget the rest are one finding when the pair ends");
	conf("BT_VALIDATE_MAX_FINDINGS", "20");
}

static void
test_routine(void)
{
	struct bt_accepted acc = { 0 };
	struct bt_check x;
	struct bt_scan *sc;
	char err[BT_ERRLEN], sql[512];
	sqlite3_stmt *q;
	int left = -1;

	/* A range around the gap, and a clean one. */
	snprintf(sql, sizeof(sql), "INSERT INTO dirty VALUES "
	    "('BTCUSDT', '1d', %lld, %lld), ('BTCUSDT', '1d', %lld, %lld)",
	    SEP1 + 9 * DAY, SEP1 + 9 * DAY, SEP1 + 27 * DAY, SEP1 + 28 * DAY);
	state_exec(sql);
	run_begin(&x, false);
	sc = bt_scan_new(&x, &acc);
	if (bt_scan_dirty_load(sc, err) != 0)
		die("dirty", err);
	bt_scan_routine(sc);
	bt_scan_clear(sc);
	bt_scan_free(sc);
	run_end(&x);
	ok(x.ranges == 2 && x.candles == 3 &&
	    lines_with("3 candles missing from 2022-09-11") == 1,
	    "a dirty range is checked with its stored neighbours");
	if ((q = bt_stmt(st, "SELECT count(*) FROM dirty WHERE from_ms=?1",
	    err)) != NULL) {
		sqlite3_bind_int64(q, 1, SEP1 + 9 * DAY);
		if (sqlite3_step(q) == SQLITE_ROW)
			left = sqlite3_column_int(q, 0);
		sqlite3_reset(q);
	}
	ok(left == 1, "the range holding a finding stays dirty");
	if ((q = bt_stmt(st, "SELECT count(*) FROM dirty", err)) != NULL) {
		if (sqlite3_step(q) == SQLITE_ROW)
			left = sqlite3_column_int(q, 0);
		sqlite3_reset(q);
	}
	ok(left == 1, "the clean range is cleared");
}

int
main(void)
{
	char err[BT_ERRLEN];

	tap_begin("check-test");
	if (bt_init("check-test", err) != 0 || bt_conf_load(err) != 0)
		die("init", err);
	conf("BT_SYMBOLS", "BTCUSDT");
	conf("BT_TIMEFRAMES", "1d");
	make_store();
	test_schema();
	test_full();
	test_gaps_mode();
	test_accepted();
	test_budget();
	test_routine();
	bt_close(db);
	bt_close(st);
	return tap_end();
}
