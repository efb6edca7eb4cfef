/*
 * bt_indtab.c - the indicator table `indicadores_tecnico' (issue 6).
 *
 * Layout.  The seed's name is a view over the compact WITHOUT ROWID table
 * `ind(pair, slot, xo, <one column per value>)', keyed like `candles' (see
 * the top of bt_db.c): a row costs its values and a few bytes of key.
 * Columns have no declared type, so a value is stored as the very double
 * computed (8 bytes; -0.0 and all), and NULL before an indicator's
 * lookback.  Two view columns are not stored: the Bollinger middle band is
 * the SMA column of the same period when there is one (the same operations
 * on the same closes, so the same bits), and the MACD histogram is macd -
 * macd_signal, which SQLite computes as one IEEE subtraction, as bt_ind.c
 * does.  Which indicators and periods make the columns is the spec
 * (BT_IND_*), kept in bt_meta as `ind_spec'; a different spec re-creates
 * the table and recomputes every pair.
 *
 * Incremental updates.  `ind_state(pair, last_slot, last_xo, n, spec,
 * dirty, state)' holds, per pair, the last candle computed, how many
 * candles that was, and the streaming states of bt_ind.c serialized to a
 * BLOB (plain data by design; the rings of SMA and BBANDS only up to
 * their period).  New candles after the last one resume the states.  The
 * triggers of store schema 2 (bt_db.c) set `dirty' to the lowest slot of
 * any candle inserted, changed or deleted at or before the last one
 * computed, whoever wrote it; such a pair is recomputed from its first
 * candle and its rows rewritten from the dirty slot on (the rows before
 * depend only on candles before, which did not change).  A state that
 * does not load (another bt version, another spec), or whose last candle
 * is no longer stored, also means a recomputation.
 *
 * A stored candle whose high, low or close is not a price (bt_price_ok():
 * a store written before such were refused, or by another writer) is left
 * out, as a gap is: one 1e308 would make every later ATR Inf and every
 * running sum nonsense, so the states stay finite and the other rows
 * right.  It is counted (skipped) for the caller to report.  A saved state
 * that is not finite (one computed over such a candle before) does not
 * resume: the pair is recomputed.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_indtab.h"

/* ----------------------------------------------------------------- spec */

/*
 * The canonical text of a spec, timeframes included: changing any of it
 * re-creates the table, so no row of another spec or of a timeframe no
 * longer kept stays behind.
 */
static void
spec_text(struct bt_ind_spec *s, char **tfs, int ntfs)
{
	struct bt_buf b = { 0 };
	int i;

#define LIST(name, a, n) do { \
	bt_buf_printf(&b, "%s" name "=", b.len ? " " : ""); \
	for (i = 0; i < (n); i++) \
		bt_buf_printf(&b, "%s%d", i ? "," : "", (a)[i]); \
} while (0)
	LIST("sma", s->sma, s->nsma);
	LIST("ema", s->ema, s->nema);
	LIST("rsi", s->rsi, s->nrsi);
	if (s->bb)
		bt_buf_printf(&b, " bb=%dx%.17g", s->bb, s->bbk);
	else
		bt_buf_printf(&b, " bb=");
	LIST("atr", s->atr, s->natr);
	if (s->mfast)
		bt_buf_printf(&b, " macd=%d,%d,%d", s->mfast, s->mslow,
		    s->msig);
	else
		bt_buf_printf(&b, " macd=");
	bt_buf_printf(&b, " tf=");
	for (i = 0; i < ntfs; i++)
		bt_buf_printf(&b, "%s%s", i ? "," : "", tfs[i]);
#undef LIST
	snprintf(s->text, sizeof(s->text), "%s", b.p);
	bt_buf_free(&b);
}

void
bt_ind_spec_default(struct bt_ind_spec *s)
{
	static char *deftfs[] = { "1d", "4h", "1h" };

	memset(s, 0, sizeof(*s));
	s->sma[0] = 20;
	s->sma[1] = 50;
	s->sma[2] = 200;
	s->nsma = 3;
	s->ema[0] = 12;
	s->ema[1] = 26;
	s->nema = 2;
	s->rsi[0] = 14;
	s->nrsi = 1;
	s->bb = 20;
	s->bbk = 2;
	s->atr[0] = 14;
	s->natr = 1;
	s->mfast = 12;
	s->mslow = 26;
	s->msig = 9;
	spec_text(s, deftfs, 3);
}

static int
period(const char *key, const char *v, int min, int *out, char *err)
{
	char *end;
	long l = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || l < min || l > BT_IND_MAXPERIOD) {
		snprintf(err, BT_ERRLEN, "%s: '%s' is not a period (%d..%d)",
		    key, v, min, BT_IND_MAXPERIOD);
		return -1;
	}
	*out = (int)l;
	return 0;
}

/* A list of distinct periods: "20 50 200", or "" for none. */
static int
periods(const char *key, int min, int *a, int *n, char *err)
{
	char **v;
	int cnt, i, j, rc = 0;

	cnt = bt_conf_list(key, &v);
	*n = 0;
	if (cnt > BT_IND_MAXLIST) {
		snprintf(err, BT_ERRLEN, "%s: %d periods; at most %d", key, cnt,
		    BT_IND_MAXLIST);
		rc = -1;
	}
	for (i = 0; i < cnt && rc == 0; i++) {
		if ((rc = period(key, v[i], min, &a[i], err)) != 0)
			break;
		for (j = 0; j < i; j++)
			if (a[j] == a[i]) {
				snprintf(err, BT_ERRLEN, "%s: period %d twice",
				    key, a[i]);
				rc = -1;
			}
	}
	if (rc == 0)
		*n = cnt;
	bt_list_free(v, cnt);
	return rc;
}

int
bt_ind_spec_conf(struct bt_ind_spec *s, char *err)
{
	char **v, *x, *end;
	int cnt, rc = 0;

	memset(s, 0, sizeof(*s));
	if (periods("BT_IND_SMA", 2, s->sma, &s->nsma, err) != 0 ||
	    periods("BT_IND_EMA", 2, s->ema, &s->nema, err) != 0 ||
	    periods("BT_IND_RSI", 2, s->rsi, &s->nrsi, err) != 0 ||
	    periods("BT_IND_ATR", 1, s->atr, &s->natr, err) != 0)
		return BT_EX_CONFIG;
	/* BB: "20x2", "20 2" or "20,2"; "" for none. */
	cnt = bt_conf_list("BT_IND_BB", &v);
	if (cnt == 1 && (x = strchr(v[0], 'x')) != NULL) {
		*x++ = '\0';
		if ((v = realloc(v, 2 * sizeof(*v))) == NULL ||
		    (v[1] = strdup(x)) == NULL)
			abort();
		cnt = 2;
	}
	if (cnt != 0 && cnt != 2) {
		snprintf(err, BT_ERRLEN, "BT_IND_BB: '%s' is not PERIODxK "
		    "(e.g. 20x2) or empty", bt_conf("BT_IND_BB"));
		rc = BT_EX_CONFIG;
	} else if (cnt == 2) {
		if (period("BT_IND_BB", v[0], 2, &s->bb, err) != 0)
			rc = BT_EX_CONFIG;
		else {
			s->bbk = strtod(v[1], &end);
			if (*v[1] == '\0' || *end != '\0' || !(s->bbk > 0) ||
			    s->bbk > 100) {
				snprintf(err, BT_ERRLEN, "BT_IND_BB: '%s' is "
				    "not a number of deviations (0..100]",
				    v[1]);
				rc = BT_EX_CONFIG;
			}
		}
	}
	bt_list_free(v, cnt);
	if (rc != 0)
		return rc;
	/* MACD: "12 26 9" or "" for none. */
	cnt = bt_conf_list("BT_IND_MACD", &v);
	if (cnt != 0 && cnt != 3) {
		snprintf(err, BT_ERRLEN, "BT_IND_MACD: '%s' is not FAST SLOW "
		    "SIGNAL (e.g. 12,26,9) or empty", bt_conf("BT_IND_MACD"));
		rc = BT_EX_CONFIG;
	} else if (cnt == 3) {
		if (period("BT_IND_MACD", v[0], 2, &s->mfast, err) != 0 ||
		    period("BT_IND_MACD", v[1], 2, &s->mslow, err) != 0 ||
		    period("BT_IND_MACD", v[2], 2, &s->msig, err) != 0)
			rc = BT_EX_CONFIG;
		else if (s->mfast >= s->mslow) {
			snprintf(err, BT_ERRLEN, "BT_IND_MACD: the fast period "
			    "%d is not below the slow %d", s->mfast, s->mslow);
			rc = BT_EX_CONFIG;
		}
	}
	bt_list_free(v, cnt);
	if (rc != 0)
		return rc;
	cnt = bt_conf_list("BT_IND_TIMEFRAMES", &v);
	spec_text(s, v, cnt);
	bt_list_free(v, cnt);
	return 0;
}

/* --------------------------------------------------------------- columns */

#define MAXCOLS	(4 * BT_IND_MAXLIST + 6)

struct cols {
	int	 n;
	char	 name[MAXCOLS][24];
	int	 bbmid_sma;	/* index of the SMA that is BB's middle, -1 */
};

/* The stored columns, in the order step() produces values. */
static void
columns(const struct bt_ind_spec *s, struct cols *c)
{
	int i;

	c->n = 0;
	c->bbmid_sma = -1;
	for (i = 0; i < s->nsma; i++) {
		snprintf(c->name[c->n++], 24, "sma_%d", s->sma[i]);
		if (s->bb == s->sma[i])
			c->bbmid_sma = i;
	}
	for (i = 0; i < s->nema; i++)
		snprintf(c->name[c->n++], 24, "ema_%d", s->ema[i]);
	for (i = 0; i < s->nrsi; i++)
		snprintf(c->name[c->n++], 24, "rsi_%d", s->rsi[i]);
	if (s->bb) {
		snprintf(c->name[c->n++], 24, "bb_upper");
		if (c->bbmid_sma < 0)
			snprintf(c->name[c->n++], 24, "bb_middle");
		snprintf(c->name[c->n++], 24, "bb_lower");
	}
	for (i = 0; i < s->natr; i++)
		snprintf(c->name[c->n++], 24, "atr_%d", s->atr[i]);
	if (s->mfast) {
		snprintf(c->name[c->n++], 24, "macd");
		snprintf(c->name[c->n++], 24, "macd_signal");
	}
}

int
bt_ind_create(sqlite3 *db, const struct bt_ind_spec *s, char *err)
{
	struct cols c;
	struct bt_buf t = { 0 }, v = { 0 }, names = { 0 };
	char *sql;
	int i, rc;

	columns(s, &c);
	bt_buf_printf(&t, "DROP VIEW IF EXISTS indicadores_tecnico;"
	    "DROP TABLE IF EXISTS ind;"
	    "CREATE TABLE ind(pair INTEGER NOT NULL, slot INTEGER NOT NULL, "
	    "xo INTEGER NOT NULL DEFAULT 0");
	for (i = 0; i < c.n; i++)
		bt_buf_printf(&t, ", %s", c.name[i]);
	bt_buf_printf(&t, ", PRIMARY KEY(pair, slot, xo)) WITHOUT ROWID;");
	/* The view: the seed's names, timestamps in ms. */
	bt_buf_printf(&names, "symbol, timeframe, timestamp");
	bt_buf_printf(&v, "SELECT p.symbol, p.tf, i.slot*p.iv+i.xo");
	for (i = 0; i < s->nsma; i++) {
		bt_buf_printf(&names, ", sma_%d", s->sma[i]);
		bt_buf_printf(&v, ", i.sma_%d", s->sma[i]);
	}
	for (i = 0; i < s->nema; i++) {
		bt_buf_printf(&names, ", ema_%d", s->ema[i]);
		bt_buf_printf(&v, ", i.ema_%d", s->ema[i]);
	}
	for (i = 0; i < s->nrsi; i++) {
		bt_buf_printf(&names, ", rsi_%d", s->rsi[i]);
		bt_buf_printf(&v, ", i.rsi_%d", s->rsi[i]);
	}
	if (s->bb) {
		bt_buf_printf(&names, ", bb_upper, bb_middle, bb_lower");
		if (c.bbmid_sma >= 0)
			bt_buf_printf(&v, ", i.bb_upper, i.sma_%d, i.bb_lower",
			    s->bb);
		else
			bt_buf_printf(&v, ", i.bb_upper, i.bb_middle, "
			    "i.bb_lower");
	}
	for (i = 0; i < s->natr; i++) {
		bt_buf_printf(&names, ", atr_%d", s->atr[i]);
		bt_buf_printf(&v, ", i.atr_%d", s->atr[i]);
	}
	if (s->mfast) {
		bt_buf_printf(&names, ", macd, macd_signal, macd_hist");
		bt_buf_printf(&v, ", i.macd, i.macd_signal, "
		    "i.macd - i.macd_signal");
	}
	bt_buf_printf(&t, "CREATE VIEW indicadores_tecnico(%s) AS %s FROM "
	    "pairs p JOIN ind i ON i.pair=p.id;"
	    "DELETE FROM ind_state;", names.p, v.p);
	rc = bt_exec(db, t.p, err);
	bt_buf_free(&t);
	bt_buf_free(&v);
	bt_buf_free(&names);
	if (rc != 0)
		return rc;
	sql = sqlite3_mprintf("INSERT INTO bt_meta(key, value) VALUES "
	    "('ind_spec', %Q) ON CONFLICT(key) DO UPDATE SET "
	    "value=excluded.value", s->text);
	rc = bt_exec(db, sql, err);
	sqlite3_free(sql);
	return rc;
}

static int
meta_spec(sqlite3 *db, char *out, size_t len, char *err)
{
	sqlite3_stmt *st;
	int rc;

	*out = '\0';
	if ((st = bt_stmt(db, "SELECT value FROM bt_meta WHERE "
	    "key='ind_spec'", err)) == NULL)
		return BT_EX_SOFTWARE;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "bt_meta: %s", bt_db_errmsg(db));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

int
bt_ind_prepare(sqlite3 *db, const struct bt_ind_spec *s, bool *changed,
    char *err)
{
	char cur[256];
	int rc;

	*changed = false;
	if ((rc = meta_spec(db, cur, sizeof(cur), err)) != 0)
		return rc;
	if (strcmp(cur, s->text) == 0)
		return 0;
	if ((rc = bt_begin(db, err)) != 0)
		return rc;
	/* Another writer may have done it while we waited. */
	if ((rc = meta_spec(db, cur, sizeof(cur), err)) == 0 &&
	    strcmp(cur, s->text) != 0) {
		rc = bt_ind_create(db, s, err);
		*changed = rc == 0;
	}
	if (rc != 0) {
		bt_rollback(db);
		return rc;
	}
	return bt_commit(db, err);
}

int
bt_ind_reset(sqlite3 *db, char *err)
{
	int rc;

	if ((rc = bt_begin(db, err)) != 0)
		return rc;
	if ((rc = bt_exec(db, "DELETE FROM ind; DELETE FROM ind_state;",
	    err)) != 0) {
		bt_rollback(db);
		return rc;
	}
	return bt_commit(db, err);
}

/* ---------------------------------------------------------------- states */

struct states {
	struct bt_sma_st sma[BT_IND_MAXLIST];
	struct bt_ema_st ema[BT_IND_MAXLIST];
	struct bt_rsi_st rsi[BT_IND_MAXLIST];
	struct bt_bbands_st bb;
	struct bt_atr_st atr[BT_IND_MAXLIST];
	struct bt_macd_st macd;
};

static void
init_states(const struct bt_ind_spec *s, struct states *S)
{
	int i;

	for (i = 0; i < s->nsma; i++)
		bt_sma_init(&S->sma[i], s->sma[i]);
	for (i = 0; i < s->nema; i++)
		bt_ema_init(&S->ema[i], s->ema[i]);
	for (i = 0; i < s->nrsi; i++)
		bt_rsi_init(&S->rsi[i], s->rsi[i]);
	if (s->bb)
		bt_bbands_init(&S->bb, s->bb, s->bbk, s->bbk);
	for (i = 0; i < s->natr; i++)
		bt_atr_init(&S->atr[i], s->atr[i]);
	if (s->mfast)
		bt_macd_init(&S->macd, s->mfast, s->mslow, s->msig);
}

/* One candle: the stored columns' values, in columns() order. */
static int
step(const struct bt_ind_spec *s, struct states *S, const struct cols *c,
    double h, double l, double cl, double *out)
{
	double up, mid, lo, m, sg, hist;
	int i, k = 0;

	for (i = 0; i < s->nsma; i++)
		out[k++] = bt_sma_step(&S->sma[i], cl);
	for (i = 0; i < s->nema; i++)
		out[k++] = bt_ema_step(&S->ema[i], cl);
	for (i = 0; i < s->nrsi; i++)
		out[k++] = bt_rsi_step(&S->rsi[i], cl);
	if (s->bb) {
		bt_bbands_step(&S->bb, cl, &up, &mid, &lo);
		out[k++] = up;
		if (c->bbmid_sma < 0)
			out[k++] = mid;
		out[k++] = lo;
	}
	for (i = 0; i < s->natr; i++)
		out[k++] = bt_atr_step(&S->atr[i], h, l, cl);
	if (s->mfast) {
		bt_macd_step(&S->macd, cl, &m, &sg, &hist);
		out[k++] = m;
		out[k++] = sg;
	}
	return k;
}

/*
 * The BLOB: a fingerprint of this build's state layout and library
 * version, then each state in spec order, the rings only up to their
 * period.  A BLOB of another build fails to load and costs a
 * recomputation, never a wrong value.
 */
static uint64_t
fingerprint(void)
{
	size_t v[] = { sizeof(struct bt_sma_st), sizeof(struct bt_ema_st),
	    sizeof(struct bt_rsi_st), sizeof(struct bt_bbands_st),
	    sizeof(struct bt_atr_st), sizeof(struct bt_macd_st),
	    offsetof(struct bt_sma_st, ring),
	    offsetof(struct bt_bbands_st, ring), BT_IND_MAXPERIOD };
	uint64_t h = bt_hash64("bt-ind-state-1 " BT_VERSION,
	    strlen("bt-ind-state-1 " BT_VERSION), 0);

	return bt_hash64(v, sizeof(v), h);
}

static void
put(struct bt_buf *b, const void *p, size_t n)
{
	bt_buf_add(b, p, n);
}

static void
save_states(const struct bt_ind_spec *s, const struct states *S,
    struct bt_buf *b)
{
	uint64_t fp = fingerprint();
	int i;

	put(b, &fp, sizeof(fp));
	for (i = 0; i < s->nsma; i++)
		put(b, &S->sma[i], offsetof(struct bt_sma_st, ring) +
		    (size_t)s->sma[i] * sizeof(double));
	for (i = 0; i < s->nema; i++)
		put(b, &S->ema[i], sizeof(S->ema[i]));
	for (i = 0; i < s->nrsi; i++)
		put(b, &S->rsi[i], sizeof(S->rsi[i]));
	if (s->bb)
		put(b, &S->bb, offsetof(struct bt_bbands_st, ring) +
		    (size_t)s->bb * sizeof(double));
	for (i = 0; i < s->natr; i++)
		put(b, &S->atr[i], sizeof(S->atr[i]));
	if (s->mfast)
		put(b, &S->macd, sizeof(S->macd));
}

static bool
get(const unsigned char **p, size_t *left, void *dst, size_t n)
{
	if (*left < n)
		return false;
	memcpy(dst, *p, n);
	*p += n;
	*left -= n;
	return true;
}

/* 0, or -1 when the BLOB is not a state of this build and spec. */
static int
load_states(const struct bt_ind_spec *s, struct states *S, const void *blob,
    size_t len)
{
	const unsigned char *p = blob;
	uint64_t fp;
	int i;

	memset(S, 0, sizeof(*S));
	if (p == NULL || !get(&p, &len, &fp, sizeof(fp)) ||
	    fp != fingerprint())
		return -1;
	for (i = 0; i < s->nsma; i++)
		if (!get(&p, &len, &S->sma[i], offsetof(struct bt_sma_st,
		    ring) + (size_t)s->sma[i] * sizeof(double)) ||
		    S->sma[i].period != s->sma[i] || S->sma[i].n < 0)
			return -1;
	for (i = 0; i < s->nema; i++)
		if (!get(&p, &len, &S->ema[i], sizeof(S->ema[i])) ||
		    S->ema[i].period != s->ema[i] || S->ema[i].n < 0)
			return -1;
	for (i = 0; i < s->nrsi; i++)
		if (!get(&p, &len, &S->rsi[i], sizeof(S->rsi[i])) ||
		    S->rsi[i].period != s->rsi[i] || S->rsi[i].n < 0)
			return -1;
	if (s->bb && (!get(&p, &len, &S->bb, offsetof(struct bt_bbands_st,
	    ring) + (size_t)s->bb * sizeof(double)) ||
	    S->bb.period != s->bb || S->bb.kup != s->bbk ||
	    S->bb.kdn != s->bbk || S->bb.n < 0))
		return -1;
	for (i = 0; i < s->natr; i++)
		if (!get(&p, &len, &S->atr[i], sizeof(S->atr[i])) ||
		    S->atr[i].period != s->atr[i] || S->atr[i].n < 0)
			return -1;
	if (s->mfast && (!get(&p, &len, &S->macd, sizeof(S->macd)) ||
	    S->macd.fast != s->mfast || S->macd.slow != s->mslow ||
	    S->macd.signal != s->msig || S->macd.n < 0))
		return -1;
	return len == 0 ? 0 : -1;
}

static bool
ema_finite(const struct bt_ema_st *e)
{
	return isfinite(e->sum) && isfinite(e->prev);
}

/* Whether every running figure of the states S is a finite number. */
static bool
states_finite(const struct bt_ind_spec *s, const struct states *S)
{
	bool ok = true;
	int i;

	for (i = 0; i < s->nsma; i++)
		ok = ok && isfinite(S->sma[i].sum);
	for (i = 0; i < s->nema; i++)
		ok = ok && ema_finite(&S->ema[i]);
	for (i = 0; i < s->nrsi; i++)
		ok = ok && isfinite(S->rsi[i].prev) &&
		    isfinite(S->rsi[i].gain) && isfinite(S->rsi[i].loss);
	if (s->bb)
		ok = ok && isfinite(S->bb.sum) && isfinite(S->bb.sum2);
	for (i = 0; i < s->natr; i++)
		ok = ok && isfinite(S->atr[i].prevc) &&
		    isfinite(S->atr[i].sum) && isfinite(S->atr[i].atr);
	if (s->mfast)
		ok = ok && ema_finite(&S->macd.fe) && ema_finite(&S->macd.se) &&
		    ema_finite(&S->macd.sg);
	return ok;
}

/* ---------------------------------------------------------------- update */

static int
sqlfail(sqlite3 *db, const struct bt_pair *p, int rc, char *err)
{
	snprintf(err, BT_ERRLEN, "indicators %s %s: %s", p->symbol, p->tf,
	    bt_db_errmsg(db));
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

/* What ind_state says of a pair. */
struct saved {
	bool	 have, same, loaded;
	int64_t	 last_slot, last_xo, done, dirty;
};

/* Reads a pair's ind_state row, and its states into S when they load. */
static int
read_saved(sqlite3 *db, const struct bt_ind_spec *s, const struct bt_pair *p,
    struct states *S, struct saved *v, char *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(v, 0, sizeof(*v));
	v->dirty = -1;
	if ((st = bt_stmt(db, "SELECT last_slot, last_xo, n, spec, dirty, "
	    "state FROM ind_state WHERE pair=?1", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, p->id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v->have = true;
		v->last_slot = sqlite3_column_int64(st, 0);
		v->last_xo = sqlite3_column_int64(st, 1);
		v->done = sqlite3_column_int64(st, 2);
		v->same = sqlite3_column_text(st, 3) != NULL &&
		    strcmp((const char *)sqlite3_column_text(st, 3),
		    s->text) == 0;
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			v->dirty = sqlite3_column_int64(st, 4);
		v->loaded = v->same && load_states(s, S, sqlite3_column_blob(st,
		    5), (size_t)sqlite3_column_bytes(st, 5)) == 0 &&
		    states_finite(s, S);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlfail(db, p, rc, err);
	return 0;
}

/*
 * Whether the saved states can go on (r->full false), and why not.  The
 * triggers mark every change; the last check only guards against a
 * writer without them having removed the last candle.
 */
static int
decide(sqlite3 *db, const struct bt_pair *p, const struct saved *v,
    struct bt_ind_run *r, char *err)
{
	sqlite3_stmt *st;
	int rc;

	r->full = true;
	if (!v->have)
		r->why = "new";
	else if (!v->same)
		r->why = "spec";
	else if (v->dirty >= 0)
		r->why = "dirty";
	else if (!v->loaded)
		r->why = "state";
	else {
		if ((st = bt_stmt(db, "SELECT 1 FROM candles WHERE pair=?1 "
		    "AND slot=?2 AND xo=?3", err)) == NULL)
			return BT_EX_SOFTWARE;
		sqlite3_bind_int64(st, 1, p->id);
		sqlite3_bind_int64(st, 2, v->last_slot);
		sqlite3_bind_int64(st, 3, v->last_xo);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			r->full = false;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return sqlfail(db, p, rc, err);
		if (r->full)
			r->why = "gone";
	}
	return 0;
}

/*
 * For a full recomputation: the rows from `write_from' on go; rows before
 * a dirty slot are still right and stay.
 */
static int
drop_rows(sqlite3 *db, const struct bt_pair *p, const struct saved *v,
    int64_t *write_from, char *err)
{
	sqlite3_stmt *st;
	int rc;

	if (v->have && v->same && v->dirty >= 0)
		*write_from = v->dirty * p->iv;
	if ((st = bt_stmt(db, "DELETE FROM ind WHERE pair=?1 AND slot>=?2",
	    err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, *write_from == INT64_MIN ? INT64_MIN :
	    v->dirty);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlfail(db, p, rc, err);
}

/* Steps the states over the candles d, writing rows from write_from. */
static int
write_rows(sqlite3 *db, const struct bt_ind_spec *s, struct states *S,
    const struct cols *c, const struct bt_pair *p, const struct bt_series *d,
    int64_t write_from, struct bt_ind_run *r, char *err)
{
	struct bt_buf sql = { 0 };
	sqlite3_stmt *ins;
	double vals[MAXCOLS];
	int64_t slot, t;
	size_t i;
	int k, rc = 0;

	bt_buf_printf(&sql, "INSERT OR REPLACE INTO ind(pair, slot, xo");
	for (k = 0; k < c->n; k++)
		bt_buf_printf(&sql, ", %s", c->name[k]);
	bt_buf_printf(&sql, ") VALUES (?1, ?2, ?3");
	for (k = 0; k < c->n; k++)
		bt_buf_printf(&sql, ", ?%d", k + 4);
	bt_buf_printf(&sql, ")");
	ins = bt_stmt(db, sql.p, err);
	bt_buf_free(&sql);
	if (ins == NULL)
		return BT_EX_SOFTWARE;
	for (i = 0; i < d->n; i++) {
		if (!bt_price_ok(d->h[i]) || !bt_price_ok(d->l[i]) ||
		    !bt_price_ok(d->c[i])) {
			r->skipped++;
			continue;
		}
		step(s, S, c, d->h[i], d->l[i], d->c[i], vals);
		t = d->t[i];
		if (t < write_from)
			continue;
		slot = t / p->iv;
		sqlite3_bind_int64(ins, 1, p->id);
		sqlite3_bind_int64(ins, 2, slot);
		sqlite3_bind_int64(ins, 3, t - slot * p->iv);
		for (k = 0; k < c->n; k++)
			if (isnan(vals[k]))
				sqlite3_bind_null(ins, k + 4);
			else
				sqlite3_bind_double(ins, k + 4, vals[k]);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			return sqlfail(db, p, rc, err);
		if (r->from < 0)
			r->from = t;
		r->rows++;
	}
	return 0;
}

/* The pair's ind_state after `done' candles, the last of them d's. */
static int
save(sqlite3 *db, const struct bt_ind_spec *s, struct states *S,
    const struct bt_pair *p, const struct bt_series *d, int64_t done,
    char *err)
{
	struct bt_buf b = { 0 };
	sqlite3_stmt *st;
	int64_t t;
	int rc;

	if (done == 0) {
		/* No candles left: no rows, no state. */
		if ((st = bt_stmt(db, "DELETE FROM ind_state WHERE pair=?1",
		    err)) == NULL)
			return BT_EX_SOFTWARE;
		sqlite3_bind_int64(st, 1, p->id);
	} else {
		if ((st = bt_stmt(db, "INSERT OR REPLACE INTO ind_state(pair, "
		    "last_slot, last_xo, n, spec, dirty, state) VALUES (?1, "
		    "?2, ?3, ?4, ?5, NULL, ?6)", err)) == NULL)
			return BT_EX_SOFTWARE;
		t = d->t[d->n - 1];
		save_states(s, S, &b);
		sqlite3_bind_int64(st, 1, p->id);
		sqlite3_bind_int64(st, 2, t / p->iv);
		sqlite3_bind_int64(st, 3, t - t / p->iv * p->iv);
		sqlite3_bind_int64(st, 4, done);
		sqlite3_bind_text(st, 5, s->text, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 6, b.p, (int)b.len, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	bt_buf_free(&b);
	return rc == SQLITE_DONE ? 0 : sqlfail(db, p, rc, err);
}

/*
 * Brings one pair up to date in one write transaction: resume the saved
 * states over the new candles, or recompute from the first candle and
 * rewrite from the earliest changed row (the top of this file).
 */
int
bt_ind_update(sqlite3 *db, const struct bt_ind_spec *s,
    const struct bt_pair *p, struct bt_ind_run *r, char *err)
{
	struct states *S;
	struct saved v;
	struct cols c;
	struct bt_series d = { 0 };
	int64_t write_from = INT64_MIN, from, done;
	int rc;

	memset(r, 0, sizeof(*r));
	r->from = -1;
	r->full = true;
	if ((S = calloc(1, sizeof(*S))) == NULL)
		abort();
	columns(s, &c);
	if ((rc = bt_begin(db, err)) != 0) {
		free(S);
		return rc;
	}
	if ((rc = read_saved(db, s, p, S, &v, err)) != 0 ||
	    (rc = decide(db, p, &v, r, err)) != 0)
		goto fail;
	done = v.done;
	if (r->full) {
		if ((rc = drop_rows(db, p, &v, &write_from, err)) != 0)
			goto fail;
		init_states(s, S);
		done = 0;
		from = 0;
	} else
		from = v.last_slot * p->iv + v.last_xo + 1;
	if ((rc = bt_candles_load(db, p, from, INT64_MAX, 0, BT_LOAD_OHLC, &d,
	    err)) != 0)
		goto fail;
	if (!r->full && d.n == 0) {
		/* Nothing new: nothing written. */
		bt_rollback(db);
		goto out;
	}
	if ((rc = write_rows(db, s, S, &c, p, &d, write_from, r, err)) != 0)
		goto fail;
	r->candles = (int64_t)d.n;
	done += (int64_t)d.n;
	if ((rc = save(db, s, S, p, &d, done, err)) != 0)
		goto fail;
	rc = bt_commit(db, err);
	goto out;
fail:
	bt_rollback(db);
out:
	bt_series_free(&d);
	free(S);
	return rc;
}

int
bt_ind_pending(sqlite3 *db, char **tfs, int ntfs, bool all,
    struct bt_pair **out, size_t *n, char *err)
{
	sqlite3_stmt *st;
	struct bt_pair *v = NULL;
	size_t cap = 0;
	const char *tf;
	int rc, j;

	*out = NULL;
	*n = 0;
	/*
	 * Missing (candles but no state), dirty, or candles after the last
	 * computed; and pairs whose candles are all gone but rows remain.
	 */
	if ((st = bt_stmt(db, "SELECT p.id, p.symbol, p.tf, p.iv, p.dp, p.dv, "
	    "p.dq FROM pairs p LEFT JOIN ind_state s ON s.pair=p.id WHERE "
	    "?1 OR (s.pair IS NULL AND EXISTS (SELECT 1 FROM candles c "
	    "WHERE c.pair=p.id)) OR s.dirty IS NOT NULL OR EXISTS (SELECT 1 "
	    "FROM candles c WHERE c.pair=p.id AND c.slot>=s.last_slot AND "
	    "(c.slot>s.last_slot OR c.xo>s.last_xo)) ORDER BY p.id",
	    err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int(st, 1, all);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tf = (const char *)sqlite3_column_text(st, 2);
		for (j = 0; j < ntfs; j++)
			if (tf != NULL && strcmp(tf, tfs[j]) == 0)
				break;
		if (j == ntfs)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		v[*n].id = sqlite3_column_int64(st, 0);
		snprintf(v[*n].symbol, sizeof(v[*n].symbol), "%s",
		    sqlite3_column_text(st, 1));
		snprintf(v[*n].tf, sizeof(v[*n].tf), "%s", tf);
		v[*n].iv = sqlite3_column_int64(st, 3);
		v[*n].dp = sqlite3_column_double(st, 4);
		v[*n].dv = sqlite3_column_double(st, 5);
		v[*n].dq = sqlite3_column_double(st, 6);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "indicators: %s", bt_db_errmsg(db));
		free(v);
		*n = 0;
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	*out = v;
	return 0;
}
