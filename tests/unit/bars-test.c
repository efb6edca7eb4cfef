/*
 * bars-test.c - bt_bars.c: bar sizes (names, bins, the intervals that
 * build them, periods per year) and the aggregation, against pandas'
 * resample of GOOG.csv (tests/data/backtesting-py/GOOG-W.csv, GOOG-MS.csv
 * and GOOG-M.csv, made by pandas 1.5.3: FIXTURES.md), row for row, every
 * column; and a 24/7 series with a missing candle and an open bin.
 *
 * usage: bars-test [-q] [-o offset]
 *
 * Reads the fixtures from $BT_SRC.  Prints TAP (tap.h).  Exits 0 when
 * every check passed.
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include "bt_bars.h"
#include "tap.h"

#define H	3600000LL
#define D	86400000LL

static int64_t
ts(const char *s)
{
	int64_t ms;

	if (bt_parse_time(s, &ms) == -1)
		abort();
	return ms;
}

static void
test_sizes(void)
{
	static const struct { const char *in, *name; int64_t ms; int mo;
	    bool wk; double A; } ok[] = {
		{ "2h", "2h", 2 * H, 0, false, 4380 },
		{ "60m", "1h", H, 0, false, 8760 },
		{ "24h", "1d", D, 0, false, 365 },
		{ "3d", "3d", 3 * D, 0, false, 365.0 / 3 },
		{ "7d", "7d", 7 * D, 0, false, 365.0 / 7 },
		{ "1w", "1w", 7 * D, 0, true, 52.1775 },
		{ "2w", "2w", 14 * D, 0, true, 52.1775 / 2 },
		{ "1M", "1M", 0, 1, false, 12 },
		{ "3M", "3M", 0, 3, false, 4 },
	};
	static const char *bad[] = { "", "h", "0h", "1", "1x", "-1h", "1hh",
	    "01h", NULL };
	struct bt_bar b;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		check(bt_bar_parse(ok[i].in, &b) == 0 &&
		    strcmp(b.name, ok[i].name) == 0 && b.ms == ok[i].ms &&
		    b.months == ok[i].mo && b.week == ok[i].wk &&
		    near(bt_bar_per_year(&b), ok[i].A),
		    "%s is %s, %g periods a year", ok[i].in, ok[i].name,
		    ok[i].A);
	for (i = 0; bad[i] != NULL; i++)
		check(bt_bar_parse(bad[i], &b) == -1, "'%s' is not a bar size",
		    bad[i]);
}

static void
test_bins(void)
{
	struct bt_bar b;

	bt_bar_parse("1w", &b);
	check(bt_bar_start(&b, ts("2024-01-03T05:00:00Z")) ==
	    ts("2024-01-01") && bt_bar_start(&b, ts("2024-01-07T23:00:00Z")) ==
	    ts("2024-01-01") && bt_bar_start(&b, ts("2024-01-08")) ==
	    ts("2024-01-08"), "1w: weeks from Monday 00:00 UTC");
	check(bt_bar_close(&b, ts("2024-01-01")) == ts("2024-01-08") - 1,
	    "1w: a week closes on Sunday 23:59:59.999");
	b.wsun = true;
	check(bt_bar_start(&b, ts("2024-01-07")) == ts("2024-01-01") &&
	    bt_bar_start(&b, ts("2024-01-07T01:00:00Z")) == ts("2024-01-08"),
	    "W-SUN: Sunday 00:00 ends its week, Sunday 01:00 is the next");
	bt_bar_parse("1M", &b);
	check(bt_bar_start(&b, ts("2024-02-29T12:00:00Z")) == ts("2024-02-01")
	    && bt_bar_next(&b, ts("2024-02-01")) == ts("2024-03-01") &&
	    bt_bar_next(&b, ts("2023-12-01")) == ts("2024-01-01"),
	    "1M: calendar months, leap February, into the next year");
	bt_bar_parse("3M", &b);
	check(bt_bar_start(&b, ts("2024-05-17")) == ts("2024-04-01"),
	    "3M: quarters from January");
	bt_bar_parse("3d", &b);
	check(bt_bar_start(&b, ts("1970-01-05T10:00:00Z")) == ts("1970-01-04")
	    && bt_bar_start(&b, ts("2024-01-03")) % (3 * D) == 0,
	    "3d: aligned to the Unix epoch");
	bt_bar_parse("1w", &b);
	check(bt_bar_divides(&b, H) && bt_bar_divides(&b, 4 * H) &&
	    bt_bar_divides(&b, D) && !bt_bar_divides(&b, 3 * D),
	    "1w is built from 1h, 4h, 1d, not 3d");
	bt_bar_parse("1M", &b);
	check(bt_bar_divides(&b, 15 * 60000) && bt_bar_divides(&b, D) &&
	    !bt_bar_divides(&b, 7 * D), "1M from 15m and 1d, not 7d");
	bt_bar_parse("3h", &b);
	check(bt_bar_divides(&b, H) && !bt_bar_divides(&b, 2 * H),
	    "3h from 1h, not 2h");
}

/* GOOG.csv's rows. */
static struct bt_candle *
goog(size_t *n)
{
	char path[4096], err[BT_ERRLEN], *buf;
	const char *src = getenv("BT_SRC");
	struct bt_candle *c;
	size_t len;

	snprintf(path, sizeof(path), "%s/tests/data/backtesting-py/GOOG.csv",
	    src != NULL ? src : ".");
	if ((buf = bt_read_file(path, 1 << 24, &len, err)) == NULL ||
	    bt_parse_ohlcv_csv("GOOG.csv", buf, &c, n, err) == -1) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	free(buf);
	return c;
}

/*
 * The bars of rule against pandas' file: its columns from `col' on are
 * Open, High, Low, Close, Volume; column `date' the bin's open time.
 */
static void
check_pandas(const struct bt_candle *c, size_t n, const struct bt_bar *b,
    const char *file, int date, int col)
{
	char path[4096], line[512], *f[16], *p;
	const char *src = getenv("BT_SRC");
	struct bt_candle *out = calloc(n, sizeof(*out));
	struct bt_bars_left left;
	size_t k, row = 0, bad = 0;
	int nf;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/data/backtesting-py/%s",
	    src != NULL ? src : ".", file);
	if (out == NULL || (fp = fopen(path, "r")) == NULL)
		abort();
	k = bt_bars_make(c, n, D, b, false, ts("2022-01-01"), out, &left);
	if (fgets(line, sizeof(line), fp) == NULL)
		abort();
	while (fgets(line, sizeof(line), fp) != NULL) {
		for (nf = 0, p = strtok(line, ",\n"); p != NULL && nf < 16;
		    p = strtok(NULL, ",\n"))
			f[nf++] = p;
		if (row >= k || out[row].t != ts(f[date]) ||
		    out[row].o != strtod(f[col], NULL) ||
		    out[row].h != strtod(f[col + 1], NULL) ||
		    out[row].l != strtod(f[col + 2], NULL) ||
		    out[row].c != strtod(f[col + 3], NULL) ||
		    out[row].v != strtod(f[col + 4], NULL)) {
			if (bad++ == 0)
				diag("%s row %zu: %s differs", file, row + 1,
				    f[date]);
		}
		row++;
	}
	fclose(fp);
	check(row == k && bad == 0 && left.open == 0 && left.incomplete == 0,
	    "%s %s: %zu bins, every column as pandas' (%zu differ)", b->name,
	    file, k, bad);
	free(out);
}

static void
test_goog(void)
{
	struct bt_candle *c;
	struct bt_bar b;
	size_t n;

	c = goog(&n);
	bt_bar_parse("1w", &b);
	check_pandas(c, n, &b, "GOOG-W.csv", 1, 2);
	b.wsun = true;
	check_pandas(c, n, &b, "GOOG-W.csv", 1, 2);
	bt_bar_parse("1M", &b);
	check_pandas(c, n, &b, "GOOG-MS.csv", 0, 1);
	free(c);
}

/* A 24/7 hourly series: one candle missing, the last day still open. */
static void
test_whole(void)
{
	struct bt_candle c[72], out[72];
	struct bt_bars_left left;
	struct bt_bar b;
	size_t i, n = 0, k;
	int64_t t0 = ts("2024-01-01");

	for (i = 0; i < 72; i++) {
		if (i == 30)
			continue;	/* day 2, 06:00 */
		memset(&c[n], 0, sizeof(c[n]));
		c[n].t = t0 + (int64_t)i * H;
		c[n].o = c[n].c = 100 + (double)i;
		c[n].h = c[n].o + 1;
		c[n].l = c[n].o - 1;
		c[n].v = 1;
		n++;
	}
	bt_bar_parse("1d", &b);
	k = bt_bars_make(c, n, H, &b, true, t0 + 2 * D + 12 * H, out, &left);
	check(k == 1 && out[0].t == t0 && out[0].o == 100 && out[0].c == 123 &&
	    out[0].h == 124 && out[0].l == 99 && out[0].v == 24 &&
	    out[0].ct == t0 + D - 1, "a whole day: first, max, min, last, sum");
	check(left.incomplete == 1 && left.first_incomplete == t0 + D,
	    "the day with a missing hour is left out and counted");
	check(left.open == 1, "the day not closed by now is left out");
	k = bt_bars_make(c, n, H, &b, false, t0 + 3 * D, out, &left);
	check(k == 3 && left.incomplete == 0 && left.open == 0,
	    "as they are (files): every bin kept");
}

int
main(int argc, char *argv[])
{
	tap_args(argc, argv, "bars-test");
	test_sizes();
	test_bins();
	test_goog();
	test_whole();
	return tap_done();
}
