/*
 * bt_store.c - the store's pairs and candles, and the one loader.
 *
 * Owns: the compact candle layout, the pairs table (a pair's interval and
 * decimal scales), writing candles (bt_candles_upsert()) and reading them
 * back (bt_candles_load(), the one loader, in two modes: all twelve
 * fields, or a backtest's five straight into arrays).
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
 *
 * Invariants: a candle reads back as the very doubles written; a row that
 * would not change is not written; a field the source does not carry
 * keeps what is stored.  Schemas are bt_migrate.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_db.h"
#include "bt_store.h"

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

int
bt_pair_tfs(sqlite3 *db, const char *symbol, char (*tfs)[8], size_t max,
    size_t *n, char *err)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if ((st = bt_stmt(db, "SELECT tf FROM pairs WHERE symbol=?1 "
	    "ORDER BY iv", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (*n < max)
			snprintf(tfs[(*n)++], 8, "%s",
			    (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "pairs %s: %s", symbol,
		    bt_db_errmsg(db));
		return bt_sqlite_ex(rc);
	}
	return 0;
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

/* A stored price or volume: an integer m is m / 10^k, a real is itself. */
static inline double
dec_col(sqlite3_stmt *st, int col, double div)
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

/* ------------------------------------------------------------ the loader */

/*
 * The arrays of a series live in one block (open times first, then each
 * double column), grown by doubling: a run over many pairs reuses it, and
 * a backtest walks memory that is contiguous.
 */
static void
grow(struct bt_series *d, size_t cap)
{
	int64_t **i64[] = { &d->t, &d->ct, &d->nt };
	double **f64[] = { &d->o, &d->h, &d->l, &d->c, &d->v, &d->qv, &d->tb,
	    &d->tq };
	size_t ni = d->cols == BT_LOAD_ALL ? 3 : 1;
	size_t nf = d->cols == BT_LOAD_ALL ? 8 : 4;
	size_t k, off = 0;
	char *blk, *old = (char *)d->t;

	if ((blk = malloc(cap * (ni * sizeof(int64_t) + nf * sizeof(double) +
	    (d->cols == BT_LOAD_ALL ? sizeof(unsigned) : 0)))) == NULL)
		abort();
	for (k = 0; k < ni; k++, off += cap * sizeof(int64_t)) {
		if (d->n > 0)
			memcpy(blk + off, *i64[k], d->n * sizeof(int64_t));
		*i64[k] = (int64_t *)(blk + off);
	}
	for (k = 0; k < nf; k++, off += cap * sizeof(double)) {
		if (d->n > 0)
			memcpy(blk + off, *f64[k], d->n * sizeof(double));
		*f64[k] = (double *)(blk + off);
	}
	if (d->cols == BT_LOAD_ALL) {
		if (d->n > 0)
			memcpy(blk + off, d->has, d->n * sizeof(unsigned));
		d->has = (unsigned *)(blk + off);
	}
	free(old);
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

/* The newest-first rows of a `last' load, turned oldest-first. */
static void
reverse(struct bt_series *d)
{
	void *cols[] = { d->t, d->o, d->h, d->l, d->c, d->ct, d->nt, d->v,
	    d->qv, d->tb, d->tq };
	size_t ncols = d->cols == BT_LOAD_ALL ? 11 : 5, i, k, n = d->n;
	unsigned tmp;

	for (k = 0; k < ncols; k++)
		for (i = 0; i < n / 2; i++)
			swap64((int64_t *)cols[k] + i,
			    (int64_t *)cols[k] + n - 1 - i);
	if (d->cols == BT_LOAD_ALL)
		for (i = 0; i < n / 2; i++) {
			tmp = d->has[i];
			d->has[i] = d->has[n - 1 - i];
			d->has[n - 1 - i] = tmp;
		}
}

/*
 * The one candle loader: a pair's candles with open times in [from, to],
 * or when `last' is not 0 the newest `last' of them, oldest first, into
 * d's arrays, in one statement (so one short read transaction).  `cols'
 * is BT_LOAD_OHLC, the open times and OHLC a backtest or the indicator
 * table needs, or BT_LOAD_ALL, every field (absent ones NAN, trades -1;
 * d->has says which are present, as struct bt_candle's `has').  A zeroed
 * struct starts empty; the arrays of one call are reused by the next on
 * the same struct and mode; bt_series_free() frees them.
 */
int
bt_candles_load(sqlite3 *db, const struct bt_pair *p, int64_t from,
    int64_t to, size_t last, unsigned cols, struct bt_series *d, char *err)
{
	static const char *sql[2][2] = { {
	    "SELECT slot, xo, o, h, l, c FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 ORDER BY slot, xo",
	    "SELECT slot, xo, o, h, l, c FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 "
	    "ORDER BY slot DESC, xo DESC LIMIT ?4" }, {
	    "SELECT slot, xo, o, h, l, c, v, ct, qv, n, tb, tq FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 ORDER BY slot, xo",
	    "SELECT slot, xo, o, h, l, c, v, ct, qv, n, tb, tq FROM candles "
	    "WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 "
	    "ORDER BY slot DESC, xo DESC LIMIT ?4" } };
	sqlite3_stmt *st;
	bool all = cols == BT_LOAD_ALL;
	size_t n;
	int64_t t;
	int rc;

	if (d->cols != cols) {
		bt_series_free(d);
		d->cols = cols;
	}
	d->n = 0;	/* the buffers of an earlier call are reused */
	if (p->id == 0)
		return 0;
	if ((st = bt_stmt(db, sql[all][last != 0], err)) == NULL)
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
		d->o[n] = dec_col(st, 2, p->dp);
		d->h[n] = dec_col(st, 3, p->dp);
		d->l[n] = dec_col(st, 4, p->dp);
		d->c[n] = dec_col(st, 5, p->dp);
		if (!all)
			continue;
		d->v[n] = dec_col(st, 6, p->dv);
		d->has[n] = BT_HAS_CT;
		d->ct[n] = sqlite3_column_type(st, 7) == SQLITE_NULL ?
		    t + p->iv - 1 : sqlite3_column_int64(st, 7);
		d->qv[n] = dec_col(st, 8, p->dq);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			d->has[n] |= BT_HAS_QV;
		d->nt[n] = -1;
		if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
			d->nt[n] = sqlite3_column_int64(st, 9);
			d->has[n] |= BT_HAS_N;
		}
		d->tb[n] = dec_col(st, 10, p->dv);
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			d->has[n] |= BT_HAS_TB;
		d->tq[n] = dec_col(st, 11, p->dq);
		if (sqlite3_column_type(st, 11) != SQLITE_NULL)
			d->has[n] |= BT_HAS_TQ;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "load %s %s: %s", p->symbol, p->tf,
		    bt_db_errmsg(db));
		bt_series_free(d);
		return bt_sqlite_ex(rc);
	}
	if (last)
		reverse(d);
	return 0;
}

void
bt_series_free(struct bt_series *d)
{
	unsigned cols = d->cols;

	free(d->t);
	memset(d, 0, sizeof(*d));
	d->cols = cols;
}
