/*
 * indtab-test - the indicator table against a full recomputation.
 *
 *	indtab-test db
 *
 * For every pair of BT_IND_TIMEFRAMES in the store, loads all its candles
 * with bt_candles_load() in its every-field mode (bt_indtab.c reads the
 * OHLC mode, another statement and decoding path), computes every
 * indicator of the configured spec with the array functions of bt_ind.c
 * from the first candle to the last, and compares each value of the view
 * indicadores_tecnico with it to the bit (NULL where the array has NAN),
 * row by row, including the columns the view derives.  Prints one line;
 * exit 0 when all agree, 1 at the first difference, 2 on other errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_indtab.h"
#include "bt_migrate.h"

#define MAXC	64

static int
same(sqlite3_stmt *q, int col, double want)
{
	double got;

	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		return isnan(want);
	if (isnan(want))
		return 0;
	got = sqlite3_column_double(q, col);
	return memcmp(&got, &want, sizeof(got)) == 0;
}

int
main(int argc, char *argv[])
{
	struct bt_ind_spec s;
	struct bt_pair p;
	struct bt_series c = { 0 };
	sqlite3 *db;
	sqlite3_stmt *pairs, *q;
	char err[BT_ERRLEN], **tfs, ts[32];
	double *x, *h, *l, *cols[MAXC];
	const char *names[MAXC];
	char namebuf[MAXC][24];
	size_t n, i, row;
	int ntfs, j, k, nc, rc;
	long long npairs = 0, nrows = 0, nvals = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: indtab-test db\n");
		return 2;
	}
	if (bt_init("indtab-test", err) != 0 || bt_conf_load(err) != 0 ||
	    bt_ind_spec_conf(&s, err) != 0) {
		fprintf(stderr, "indtab-test: %s\n", err);
		return 2;
	}
	if ((rc = bt_open_store(argv[1], BT_DB_RO, &db, err)) != 0) {
		fprintf(stderr, "indtab-test: %s\n", err);
		return 2;
	}
	ntfs = bt_conf_list("BT_IND_TIMEFRAMES", &tfs);
	if (sqlite3_prepare_v2(db, "SELECT symbol, tf FROM pairs ORDER BY id",
	    -1, &pairs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT * FROM indicadores_tecnico WHERE "
	    "symbol=?1 AND timeframe=?2 ORDER BY timestamp", -1, &q, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "indtab-test: %s\n", sqlite3_errmsg(db));
		return 2;
	}
	while (sqlite3_step(pairs) == SQLITE_ROW) {
		const char *sym = (const char *)sqlite3_column_text(pairs, 0);
		const char *tf = (const char *)sqlite3_column_text(pairs, 1);

		for (j = 0; j < ntfs; j++)
			if (strcmp(tfs[j], tf) == 0)
				break;
		if (j == ntfs)
			continue;
		if (bt_pair_get(db, sym, tf, false, NULL, 0, &p, err) != 0 ||
		    bt_candles_load(db, &p, 0, INT64_MAX, 0, BT_LOAD_ALL, &c,
		    err) != 0) {
			fprintf(stderr, "indtab-test: %s\n", err);
			return 2;
		}
		n = c.n;
		x = calloc(n + 1, sizeof(double));
		h = calloc(n + 1, sizeof(double));
		l = calloc(n + 1, sizeof(double));
		for (i = 0; i < n; i++) {
			x[i] = c.c[i];
			h[i] = c.h[i];
			l[i] = c.l[i];
		}
		/* The view's columns after symbol, timeframe, timestamp. */
		nc = 0;
#define COL(fmt, v) do { \
	snprintf(namebuf[nc], 24, fmt, v); \
	names[nc] = namebuf[nc]; \
	cols[nc++] = calloc(n + 1, sizeof(double)); \
} while (0)
		for (k = 0; k < s.nsma; k++) {
			COL("sma_%d", s.sma[k]);
			bt_sma(x, n, s.sma[k], cols[nc - 1]);
		}
		for (k = 0; k < s.nema; k++) {
			COL("ema_%d", s.ema[k]);
			bt_ema(x, n, s.ema[k], cols[nc - 1]);
		}
		for (k = 0; k < s.nrsi; k++) {
			COL("rsi_%d", s.rsi[k]);
			bt_rsi(x, n, s.rsi[k], cols[nc - 1]);
		}
		if (s.bb) {
			COL("%s", "bb_upper");
			COL("%s", "bb_middle");
			COL("%s", "bb_lower");
			bt_bbands(x, n, s.bb, s.bbk, s.bbk, cols[nc - 3],
			    cols[nc - 2], cols[nc - 1]);
		}
		for (k = 0; k < s.natr; k++) {
			COL("atr_%d", s.atr[k]);
			bt_atr(h, l, x, n, s.atr[k], cols[nc - 1]);
		}
		if (s.mfast) {
			COL("%s", "macd");
			COL("%s", "macd_signal");
			COL("%s", "macd_hist");
			bt_macd(x, n, s.mfast, s.mslow, s.msig, cols[nc - 3],
			    cols[nc - 2], cols[nc - 1]);
		}
#undef COL
		sqlite3_bind_text(q, 1, sym, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, tf, -1, SQLITE_STATIC);
		if (sqlite3_column_count(q) != nc + 3) {
			printf("indtab-test: the view has %d columns, the spec "
			    "%d\n", sqlite3_column_count(q), nc + 3);
			return 1;
		}
		for (row = 0; sqlite3_step(q) == SQLITE_ROW; row++) {
			if (row >= n || sqlite3_column_int64(q, 2) != c.t[row]) {
				printf("indtab-test: %s %s: row %zu is at %s, "
				    "the candle at %s\n", sym, tf, row + 1,
				    bt_fmt_time(sqlite3_column_int64(q, 2), ts),
				    row < n ? bt_fmt_time(c.t[row], err) :
				    "(none)");
				return 1;
			}
			for (k = 0; k < nc; k++) {
				if (strcmp(sqlite3_column_name(q, k + 3),
				    names[k]) != 0) {
					printf("indtab-test: column %d is %s, "
					    "not %s\n", k + 4,
					    sqlite3_column_name(q, k + 3),
					    names[k]);
					return 1;
				}
				if (!same(q, k + 3, cols[k][row])) {
					printf("indtab-test: %s %s %s %s: "
					    "table %.17g, full recomputation "
					    "%.17g\n", sym, tf, bt_fmt_time(
					    c.t[row], ts), names[k],
					    sqlite3_column_type(q, k + 3) ==
					    SQLITE_NULL ? NAN :
					    sqlite3_column_double(q, k + 3),
					    cols[k][row]);
					return 1;
				}
				nvals++;
			}
		}
		sqlite3_reset(q);
		if (row != n) {
			printf("indtab-test: %s %s: %zu rows for %zu candles\n",
			    sym, tf, row, n);
			return 1;
		}
		npairs++;
		nrows += (long long)row;
		for (k = 0; k < nc; k++)
			free(cols[k]);
		free(x);
		free(h);
		free(l);
	}
	sqlite3_finalize(pairs);
	sqlite3_finalize(q);
	bt_list_free(tfs, ntfs);
	bt_series_free(&c);
	bt_close(db);
	printf("indtab-test: %lld pairs, %lld rows, %lld values equal to a "
	    "full recomputation\n", npairs, nrows, nvals);
	return 0;
}
