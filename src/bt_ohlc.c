/*
 * bt_ohlc.c - open times and OHLC of a pair, straight into arrays.
 *
 * bt_candles_load() decodes all twelve columns into struct bt_candle;
 * a backtest needs five.  This reads only those, with the same decoding
 * as bt_db.c (an integer m is m / 10^k of the pair, a real is itself; see
 * the layout at the top of bt_db.c), in one statement, so one short read
 * transaction.  The arrays of one call are reused by the next (a zeroed
 * struct bt_ohlc starts empty), so a run over many pairs touches fresh
 * memory once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

static inline double
dec(sqlite3_stmt *st, int col, double div)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		return (double)sqlite3_column_int64(st, col) / div;
	case SQLITE_NULL:
		return NAN;
	default:
		return sqlite3_column_double(st, col);
	}
}

static void
grow(struct bt_ohlc *d, size_t cap)
{
	char *blk;

	if ((blk = malloc(cap * (sizeof(int64_t) + 4 * sizeof(double)))) ==
	    NULL)
		abort();
	if (d->n > 0) {
		memcpy(blk, d->t, d->n * sizeof(int64_t));
		memcpy(blk + cap * sizeof(int64_t), d->o, d->n * sizeof(double));
		memcpy(blk + cap * (sizeof(int64_t) + sizeof(double)), d->h,
		    d->n * sizeof(double));
		memcpy(blk + cap * (sizeof(int64_t) + 2 * sizeof(double)), d->l,
		    d->n * sizeof(double));
		memcpy(blk + cap * (sizeof(int64_t) + 3 * sizeof(double)), d->c,
		    d->n * sizeof(double));
	}
	free(d->t);
	d->t = (int64_t *)blk;
	d->o = (double *)(blk + cap * sizeof(int64_t));
	d->h = d->o + cap;
	d->l = d->h + cap;
	d->c = d->l + cap;
	d->cap = cap;
}

static void
swap64(void *a, void *b)
{
	int64_t x;

	memcpy(&x, a, 8);
	memcpy(a, b, 8);
	memcpy(b, &x, 8);
}

int
bt_ohlc_load(sqlite3 *db, const struct bt_pair *p, int64_t from, int64_t to,
    size_t last, struct bt_ohlc *d, char *err)
{
	sqlite3_stmt *st;
	size_t i, n;
	int64_t t;
	int rc;
	const char *sql = last ?
	    "SELECT slot, xo, o, h, l, c FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 "
	    "ORDER BY slot DESC, xo DESC LIMIT ?4" :
	    "SELECT slot, xo, o, h, l, c FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 ORDER BY slot, xo";

	d->n = 0;	/* the buffers of an earlier call are reused */
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
		t = sqlite3_column_int64(st, 0) * p->iv +
		    sqlite3_column_int64(st, 1);
		if (t < from || t > to)
			continue;
		if (d->n == d->cap)
			grow(d, d->cap ? d->cap * 2 : 4096);
		n = d->n++;
		d->t[n] = t;
		d->o[n] = dec(st, 2, p->dp);
		d->h[n] = dec(st, 3, p->dp);
		d->l[n] = dec(st, 4, p->dp);
		d->c[n] = dec(st, 5, p->dp);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "load %s %s: %s", p->symbol, p->tf,
		    bt_db_errmsg(db));
		bt_ohlc_free(d);
		return bt_sqlite_ex(rc);
	}
	if (last)
		for (i = 0, n = d->n; i < n / 2; i++) {
			swap64(&d->t[i], &d->t[n - 1 - i]);
			swap64(&d->o[i], &d->o[n - 1 - i]);
			swap64(&d->h[i], &d->h[n - 1 - i]);
			swap64(&d->l[i], &d->l[n - 1 - i]);
			swap64(&d->c[i], &d->c[n - 1 - i]);
		}
	return 0;
}

void
bt_ohlc_free(struct bt_ohlc *d)
{
	free(d->t);
	memset(d, 0, sizeof(*d));
}
