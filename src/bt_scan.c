/*
 * bt_scan.c - the candle checks of a validation run (bt_check.c): gaps
 * and sanity over ranges of slots of a pair, less the ranges an operator
 * accepted (bt_accept.c), with a finding budget per pair; which ranges a
 * run checks (the dirty ranges of a routine run, every candle with
 * --full) and which it clears; the gap records of --gaps.
 *
 * Invariants:
 * - The routine run reads the dirty ranges bt-fetch recorded, merged
 *   where they touch, each with its stored neighbour on either side, so
 *   its cost follows what changed, not the history; --full reads every
 *   candle.  A candle is read once, in slot order; sane() decides the
 *   common case without building anything.
 * - A dirty range is cleared once it checked clean, and only the very row
 *   that was read (bt-fetch may have widened it since).  A range holding
 *   a finding stays dirty, so it is reported again every run until it is
 *   re-fetched or accepted.
 * - Past BT_VALIDATE_MAX_FINDINGS findings of one kind in a pair, the
 *   rest are counted, and said in one finding when the pair ends.
 * - Accepted ranges hide missing candles, halts and off-grid open times;
 *   corrupt values are never accepted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_scan.h"
#include "bt_store.h"

/* A dirty range of the state file, as read. */
struct dirty {
	char	 symbol[24], tf[8];
	int64_t	 from, to;
	bool	 clean;		/* checked, nothing found: clear it */
};

/* Per-pair finding budget: past it, findings are only counted. */
enum { K_GAP, K_SANITY, K_HALT, K_NKINDS };

struct bt_scan {
	struct bt_check	*x;
	long		 maxf;
	const struct bt_accepted *acc;
	struct dirty	*dirty;
	size_t		 ndirty;
	/* The pair being scanned. */
	struct bt_pair	 p;
	int64_t		 lastgap_from, lastgap_to;
	int		 nkind[K_NKINDS];
	int		 over[K_NKINDS];
	const char	*oversev[K_NKINDS];
	int64_t		 overfrom[K_NKINDS], overto[K_NKINDS];
};

struct bt_scan *
bt_scan_new(struct bt_check *x, const struct bt_accepted *acc)
{
	struct bt_scan *sc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		abort();
	sc->x = x;
	sc->acc = acc;
	sc->maxf = bt_conf_long("BT_VALIDATE_MAX_FINDINGS");
	return sc;
}

void
bt_scan_free(struct bt_scan *sc)
{
	if (sc == NULL)
		return;
	free(sc->dirty);
	free(sc);
}

/* ------------------------------------------------------- gaps, sanity */

/* A gap record for bt-fetch --gaps (contracts.md), --gaps mode only. */
static void
gap_record(struct bt_scan *sc, int64_t from, int64_t to, const char *reason)
{
	json_t *rec;

	if (!sc->x->gaps)
		return;
	rec = bt_rec("gap");
	json_object_set_new(rec, "symbol", json_string(sc->p.symbol));
	json_object_set_new(rec, "tf", json_string(sc->p.tf));
	json_object_set_new(rec, "from", json_integer(from));
	json_object_set_new(rec, "to", json_integer(to));
	json_object_set_new(rec, "reason", json_string(reason));
	bt_emit(rec);
}

/* Is open time t of the current pair inside an accepted range? */
static bool
accepted_at(struct bt_scan *sc, int64_t t)
{
	return bt_accept_covers(sc->acc, sc->p.symbol, sc->p.tf, t);
}

/*
 * Counts a finding of a kind against the pair's budget: true to report
 * it, false when it is only counted.
 */
static bool
budget(struct bt_scan *sc, int kind, const char *sev, int64_t from,
    int64_t to)
{
	if (sc->x->gaps || ++sc->nkind[kind] <= sc->maxf)
		return true;
	if (sc->over[kind]++ == 0) {
		sc->overfrom[kind] = from;
		sc->oversev[kind] = sev;
	}
	if (strcmp(sev, "CRITICAL") == 0)
		sc->oversev[kind] = sev;
	sc->overto[kind] = to;
	bt_check_count(sc->x, sev);
	return false;
}

/* The next accepted range of the current pair from *i on, or NULL. */
static const struct bt_acc *
pair_acc(const struct bt_scan *sc, size_t *i)
{
	const struct bt_acc *r;

	while (*i < sc->acc->n) {
		r = &sc->acc->v[(*i)++];
		if (strcmp(r->symbol, sc->p.symbol) == 0 &&
		    strcmp(r->tf, sc->p.tf) == 0)
			return r;
	}
	return NULL;
}

/* Missing slots [s1, s2] of the current pair, less accepted ranges. */
static void
gap(struct bt_scan *sc, int64_t s1, int64_t s2)
{
	struct bt_check *x = sc->x;
	int64_t iv = sc->p.iv, a, b, cur = s1, lo, hi;
	const struct bt_acc *r;
	char t1[32], t2[32];
	size_t i;
	bool again;

	if (s1 * iv == sc->lastgap_from && s2 * iv == sc->lastgap_to)
		return;		/* seen from the neighbouring range */
	sc->lastgap_from = s1 * iv;
	sc->lastgap_to = s2 * iv;
	while (cur <= s2) {
		/* Skip whatever accepted range covers cur. */
		do {
			again = false;
			for (i = 0; (r = pair_acc(sc, &i)) != NULL;) {
				a = (r->from + iv - 1) / iv;
				b = r->to / iv;
				if (a <= cur && cur <= b) {
					x->naccepted++;
					cur = b + 1;
					again = true;
				}
			}
		} while (again && cur <= s2);
		if (cur > s2)
			break;
		/* Up to the next accepted range, or s2. */
		hi = s2;
		for (i = 0; (r = pair_acc(sc, &i)) != NULL;) {
			a = (r->from + iv - 1) / iv;
			if (a > cur && a - 1 < hi && a <= r->to / iv)
				hi = a - 1;
		}
		lo = cur;
		cur = hi + 1;
		gap_record(sc, lo * iv, hi * iv, "missing");
		if (!budget(sc, K_GAP, "WARNING", lo * iv, hi * iv))
			continue;
		bt_check_finding(x, "gaps", "WARNING", "gap", sc->p.symbol,
		    sc->p.tf, json_pack("{s:I, s:I, s:I}", "from",
		    (json_int_t)(lo * iv), "to", (json_int_t)(hi * iv),
		    "missing", (json_int_t)(hi - lo + 1)),
		    hi > lo ? "%s %s: %lld candles missing from %s to %s" :
		    "%s %s: %lld candle missing at %s", sc->p.symbol, sc->p.tf,
		    (long long)(hi - lo + 1), bt_fmt_time(lo * iv, t1),
		    bt_fmt_time(hi * iv, t2));
	}
}

/* One price or volume column: its value, or why it has none. */
static bool
col_num(sqlite3_stmt *s, int col, double div, double *v, const char **why)
{
	switch (sqlite3_column_type(s, col)) {
	case SQLITE_INTEGER:
		*v = (double)sqlite3_column_int64(s, col) / div;
		return true;
	case SQLITE_FLOAT:
		*v = sqlite3_column_double(s, col);
		if (!isfinite(*v)) {
			*why = "is not finite";
			return false;
		}
		return true;
	case SQLITE_NULL:
		*why = "is missing (NULL or NaN)";
		return false;
	default:
		*why = "is not a number";
		return false;
	}
}

/* The common case, without building anything: a candle with no fault. */
static bool
sane(struct bt_scan *sc, sqlite3_stmt *s)
{
	double v[5];
	int i, t;

	if (sqlite3_column_int64(s, 1) != 0 ||
	    sqlite3_column_type(s, 7) != SQLITE_NULL)
		return false;
	for (i = 0; i < 5; i++) {
		if ((t = sqlite3_column_type(s, 2 + i)) == SQLITE_INTEGER)
			v[i] = (double)sqlite3_column_int64(s, 2 + i) /
			    (i < 4 ? sc->p.dp : sc->p.dv);
		else if (t == SQLITE_FLOAT)
			v[i] = sqlite3_column_double(s, 2 + i);
		else
			return false;
		if (!isfinite(v[i]))
			return false;
	}
	if (v[2] > fmin(v[0], v[3]) || v[1] < fmax(v[0], v[3]) ||
	    v[2] > v[1] || v[4] < 0 || v[2] <= 0)
		return false;
	for (i = 8; i <= 11; i++) {
		if ((t = sqlite3_column_type(s, i)) == SQLITE_NULL)
			continue;
		if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) ||
		    !(sqlite3_column_double(s, i) >= 0) ||
		    !isfinite(sqlite3_column_double(s, i)))
			return false;
	}
	return true;
}

/*
 * Open, high, low, close and volume of the candle row s: numbers, the
 * prices positive and in order, the volume not negative.
 */
static void
prices(struct bt_scan *sc, sqlite3_stmt *s, struct bt_buf *why,
    json_t *probs)
{
	static const char *names[] = { "open", "high", "low", "close",
	    "volume" };
	double v[5];
	const char *w;
	bool ok[5];
	int i;

	for (i = 0; i < 5; i++) {
		ok[i] = col_num(s, 2 + i, i < 4 ? sc->p.dp : sc->p.dv, &v[i],
		    &w);
		if (!ok[i]) {
			bt_buf_printf(why, "%s%s %s", why->len ? "; " : "",
			    names[i], w);
			json_array_append_new(probs,
			    json_string("not_a_number"));
		}
	}
	if (ok[0] && ok[1] && ok[2] && ok[3] &&
	    (v[2] > fmin(v[0], v[3]) || v[1] < fmax(v[0], v[3]) ||
	    v[2] > v[1])) {
		if (v[1] < v[2])
			bt_buf_printf(why, "%shigh %.10g is below low %.10g",
			    why->len ? "; " : "", v[1], v[2]);
		else
			bt_buf_printf(why, "%sopen %.10g / close %.10g outside "
			    "low %.10g .. high %.10g", why->len ? "; " : "",
			    v[0], v[3], v[2], v[1]);
		json_array_append_new(probs, json_string("price_range"));
	}
	/* Low is the least price: the range check lets a negative one by. */
	if (ok[0] && ok[1] && ok[2] && ok[3] && fmin(fmin(v[0], v[1]),
	    fmin(v[2], v[3])) <= 0) {
		bt_buf_printf(why, "%sa price is not positive",
		    why->len ? "; " : "");
		json_array_append_new(probs, json_string("non_positive_price"));
	}
	if (ok[4] && v[4] < 0) {
		bt_buf_printf(why, "%svolume %.10g is negative",
		    why->len ? "; " : "", v[4]);
		json_array_append_new(probs, json_string("negative_volume"));
	}
}

/*
 * Quote volume, trade count and taker volumes, where stored: numbers,
 * not negative.  Returns the trade count, -1 when it is not stored.
 */
static int64_t
extras(struct bt_scan *sc, sqlite3_stmt *s, struct bt_buf *why,
    json_t *probs)
{
	int64_t n = -1;
	double opt;
	const char *w;
	int i;

	for (i = 8; i <= 11; i++) {
		if (sqlite3_column_type(s, i) == SQLITE_NULL)
			continue;
		if (i == 9) {
			n = sqlite3_column_int64(s, 9);
			opt = (double)n;
		} else if (!col_num(s, i, i == 10 ? sc->p.dv : sc->p.dq, &opt,
		    &w)) {
			bt_buf_printf(why, "%s%s %s", why->len ? "; " : "",
			    i == 8 ? "quote volume" : i == 10 ?
			    "taker buy volume" : "taker buy quote volume", w);
			json_array_append_new(probs,
			    json_string("not_a_number"));
			continue;
		}
		if (opt < 0) {
			bt_buf_printf(why, "%s%s is negative", why->len ? "; " :
			    "", i == 8 ? "quote volume" : i == 9 ?
			    "trade count" : i == 10 ? "taker buy volume" :
			    "taker buy quote volume");
			json_array_append_new(probs,
			    json_string("negative_volume"));
		}
	}
	return n;
}

/*
 * The sanity checks of one stored candle (slot, xo, o, h, l, c, v, ct,
 * qv, n, tb, tq).
 */
static void
sanity(struct bt_scan *sc, sqlite3_stmt *s)
{
	struct bt_check *x = sc->x;
	struct bt_buf why = { 0 };
	int64_t iv = sc->p.iv, t, ct, n;
	bool halt = false, offgrid;
	char ts[32], t2[32];
	json_t *probs;

	if (sane(sc, s))
		return;
	probs = json_array();
	t = sqlite3_column_int64(s, 0) * iv + sqlite3_column_int64(s, 1);
	offgrid = sqlite3_column_int64(s, 1) != 0;
	prices(sc, s, &why, probs);
	n = extras(sc, s, &why, probs);
	if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
		ct = sqlite3_column_int64(s, 7);
		if (n == 0 && ct >= t && ct < t + iv - 1)
			halt = true;
		else {
			bt_buf_printf(&why, "%sclose time %s is not open "
			    "time + %s - 1 ms", why.len ? "; " : "",
			    bt_fmt_time(ct, t2), sc->p.tf);
			json_array_append_new(probs,
			    json_string("close_time"));
		}
	}
	if (offgrid && !accepted_at(sc, t)) {
		bt_buf_printf(&why, "%sopen time is off the %s grid by %lld ms",
		    why.len ? "; " : "", sc->p.tf,
		    (long long)sqlite3_column_int64(s, 1));
		json_array_append_new(probs, json_string("off_grid"));
	} else if (offgrid)
		x->naccepted++;
	if (why.len > 0) {
		/* Re-fetching fixes a corrupted row, not an off-grid one. */
		if (!offgrid)
			gap_record(sc, t, t, "sanity");
		if (budget(sc, K_SANITY, "CRITICAL", t, t))
			bt_check_finding(x, "sanity", "CRITICAL", "sanity",
			    sc->p.symbol, sc->p.tf, json_pack("{s:I, s:O}",
			    "open_time", (json_int_t)t, "problems", probs),
			    "%s %s %s: %s", sc->p.symbol, sc->p.tf,
			    bt_fmt_time(t, ts), why.p);
	}
	json_decref(probs);
	bt_buf_free(&why);
	if (halt) {
		if (accepted_at(sc, t))
			x->naccepted++;
		else if (budget(sc, K_HALT, "WARNING", t, t))
			bt_check_finding(x, "sanity", "WARNING", "halt",
			    sc->p.symbol, sc->p.tf, json_pack("{s:I, s:I}",
			    "open_time", (json_int_t)t, "close_time",
			    (json_int_t)sqlite3_column_int64(s, 7)),
			    "%s %s %s: exchange halt: no trades, closed early "
			    "at %s", sc->p.symbol, sc->p.tf, bt_fmt_time(t, ts),
			    bt_fmt_time(sqlite3_column_int64(s, 7), t2));
	}
}

/* The stored slot next to [lo, hi]: before it (dir < 0) or after. */
static int64_t
neighbour(struct bt_scan *sc, int64_t lo, int64_t hi, int dir)
{
	struct bt_check *x = sc->x;
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int64_t out = -1;
	int rc;

	s = bt_stmt(x->db, dir < 0 ?
	    "SELECT slot FROM candles WHERE pair=?1 AND slot<?2 "
	    "ORDER BY slot DESC LIMIT 1" :
	    "SELECT slot FROM candles WHERE pair=?1 AND slot>?2 "
	    "ORDER BY slot LIMIT 1", err);
	if (s == NULL) {
		bt_check_fail(x, BT_EX_SOFTWARE, "%s", err);
		return -1;
	}
	sqlite3_bind_int64(s, 1, sc->p.id);
	sqlite3_bind_int64(s, 2, dir < 0 ? lo : hi);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		bt_check_read_error(x, rc, "neighbouring candle");
	return out;
}

/*
 * Gaps and sanity over slots [lo, hi] of the current pair; with
 * `neighbours', the stored candles just outside take part in the gap
 * check, so a hole at either edge of the range is seen.
 */
static void
scan(struct bt_scan *sc, int64_t lo, int64_t hi, bool neighbours)
{
	struct bt_check *x = sc->x;
	sqlite3_stmt *s;
	char err[BT_ERRLEN], what[96];
	int64_t prev = -1, slot, next;
	int rc;

	if (neighbours)
		prev = neighbour(sc, lo, hi, -1);
	s = bt_stmt(x->db, "SELECT slot, xo, o, h, l, c, v, ct, qv, n, tb, tq "
	    "FROM candles WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 "
	    "ORDER BY slot, xo", err);
	if (s == NULL) {
		bt_check_fail(x, BT_EX_SOFTWARE, "%s", err);
		return;
	}
	sqlite3_bind_int64(s, 1, sc->p.id);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		x->candles++;
		slot = sqlite3_column_int64(s, 0);
		if (prev >= 0 && slot > prev + 1)
			gap(sc, prev + 1, slot - 1);
		prev = slot;
		sanity(sc, s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(what, sizeof(what), "reading %s %s", sc->p.symbol,
		    sc->p.tf);
		bt_check_read_error(x, rc, what);
		return;
	}
	if (neighbours && prev >= 0 && (next = neighbour(sc, lo, hi, 1)) >= 0 &&
	    next > prev + 1)
		gap(sc, prev + 1, next - 1);
}

/* Starts a pair: its scales, and a fresh finding budget. */
static bool
pair_begin(struct bt_scan *sc, const char *sym, const char *tf)
{
	struct bt_check *x = sc->x;
	char err[BT_ERRLEN];
	int rc;

	memset(sc->nkind, 0, sizeof(sc->nkind));
	memset(sc->over, 0, sizeof(sc->over));
	sc->lastgap_from = sc->lastgap_to = -1;
	if ((rc = bt_pair_get(x->db, sym, tf, false, NULL, 0, &sc->p, err))
	    != 0) {
		if (rc == BT_EX_IOERR) {
			/* As bt_check_read_error(): unreadable is a finding. */
			bt_check_finding(x, "integrity", "CRITICAL",
			    "integrity", NULL, NULL, json_pack("{s:s}", "error",
			    err), "%s", err);
			return false;
		}
		bt_check_fail(x, rc == BT_EX_USAGE ? BT_EX_DATAERR : rc, "%s",
		    err);
		return false;
	}
	x->pairs++;
	return sc->p.id != 0;
}

/* Ends a pair: one finding for whatever went past the budget. */
static void
pair_end(struct bt_scan *sc)
{
	struct bt_check *x = sc->x;
	static const char *kinds[] = { "gap", "sanity", "halt" };
	static const char *checks[] = { "gaps", "sanity", "sanity" };
	char t1[32], t2[32];
	int k;

	for (k = 0; k < K_NKINDS; k++) {
		if (sc->over[k] == 0)
			continue;
		/* Counted already; print without counting twice. */
		if (strcmp(sc->oversev[k], "CRITICAL") == 0)
			x->ncrit--;
		else
			x->nwarn--;
		bt_check_finding(x, checks[k], sc->oversev[k], kinds[k],
		    sc->p.symbol, sc->p.tf, json_pack("{s:i, s:I, s:I}",
		    "more", sc->over[k], "first", (json_int_t)sc->overfrom[k],
		    "last", (json_int_t)sc->overto[k]),
		    "%s %s: %d more %s findings from %s to %s (not listed; "
		    "BT_VALIDATE_MAX_FINDINGS is %ld)", sc->p.symbol, sc->p.tf,
		    sc->over[k], kinds[k], bt_fmt_time(sc->overfrom[k], t1),
		    bt_fmt_time(sc->overto[k], t2), sc->maxf);
	}
}

/* ------------------------------------------------------- dirty ranges */

int
bt_scan_dirty_load(struct bt_scan *sc, char *err)
{
	struct bt_check *x = sc->x;
	sqlite3_stmt *s;
	struct dirty *d = NULL;
	size_t cap = 0, *n = &sc->ndirty;
	const char *tf;
	char e[BT_ERRLEN];
	int rc;

	if (x->st == NULL)
		return 0;
	if ((s = bt_stmt(x->st, "SELECT symbol, tf, from_ms, to_ms FROM dirty "
	    "ORDER BY symbol, tf, from_ms", e)) == NULL) {
		snprintf(err, BT_ERRLEN, "state: %s", e);
		return BT_EX_SOFTWARE;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		tf = (const char *)sqlite3_column_text(s, 1);
		if (tf == NULL || !bt_check_tf_wanted(x, tf))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((d = realloc(d, cap * sizeof(*d))) == NULL)
				abort();
		}
		memset(&d[*n], 0, sizeof(d[*n]));
		snprintf(d[*n].symbol, sizeof(d[*n].symbol), "%s",
		    sqlite3_column_text(s, 0));
		snprintf(d[*n].tf, sizeof(d[*n].tf), "%s", tf);
		d[*n].from = sqlite3_column_int64(s, 2);
		d[*n].to = sqlite3_column_int64(s, 3);
		(*n)++;
	}
	sqlite3_reset(s);
	sc->dirty = d;
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "state: dirty: %s",
		    bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

/*
 * The ranges d[k..j) of the pair being scanned, merged where they touch,
 * each checked with its neighbours; each range is clean when its merged
 * range had no finding.
 */
static void
scan_ranges(struct bt_scan *sc, struct dirty *d, size_t k, size_t j)
{
	struct bt_check *x = sc->x;
	int64_t lo, hi, iv = sc->p.iv;
	size_t m;

	for (; k < j; k = m) {
		lo = (d[k].from < 0 ? 0 : d[k].from) / iv;
		hi = (d[k].to < 0 ? 0 : d[k].to) / iv;
		for (m = k + 1; m < j && d[m].from / iv <= hi + 1; m++)
			if (d[m].to / iv > hi)
				hi = d[m].to / iv;
		x->ranges++;
		x->hit = false;
		if (x->verbose)
			bt_warnx("checking %s %s slots %lld..%lld",
			    sc->p.symbol, sc->p.tf, (long long)lo,
			    (long long)hi);
		scan(sc, lo, hi, true);
		for (; k < m; k++)
			d[k].clean = !x->hit;
	}
}

void
bt_scan_routine(struct bt_scan *sc)
{
	struct dirty *d = sc->dirty;
	size_t i = 0, j, k, n = sc->ndirty;

	while (i < n) {
		for (j = i; j < n && strcmp(d[j].symbol, d[i].symbol) == 0 &&
		    strcmp(d[j].tf, d[i].tf) == 0; j++)
			;
		if (!bt_symbol_ok(d[i].symbol) ||
		    bt_tf_view(d[i].tf) == NULL) {
			bt_warnx("state: dirty range of '%s' '%s' names no "
			    "pair of the store; cleared", d[i].symbol, d[i].tf);
			for (k = i; k < j; k++)
				d[k].clean = true;
			i = j;
			continue;
		}
		if (!pair_begin(sc, d[i].symbol, d[i].tf)) {
			/* No such pair (any more): nothing to check. */
			if (sc->p.iv != 0)
				for (k = i; k < j; k++)
					d[k].clean = true;
			i = j;
			continue;
		}
		scan_ranges(sc, d, i, j);
		pair_end(sc);
		i = j;
	}
}

void
bt_scan_full(struct bt_scan *sc)
{
	struct bt_check *x = sc->x;
	struct dirty *d = sc->dirty;
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	char (*pairs)[2][24] = NULL;
	size_t n = 0, cap = 0, i, k, nd = sc->ndirty;
	int rc;

	if ((s = bt_stmt(x->db, "SELECT symbol, tf FROM pairs "
	    "ORDER BY symbol, tf", err)) == NULL) {
		bt_check_fail(x, BT_EX_SOFTWARE, "%s", err);
		return;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!bt_check_tf_wanted(x, (const char *)sqlite3_column_text(s,
		    1)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((pairs = realloc(pairs, cap * sizeof(*pairs))) ==
			    NULL)
				abort();
		}
		snprintf(pairs[n][0], 24, "%s", sqlite3_column_text(s, 0));
		snprintf(pairs[n][1], 24, "%s", sqlite3_column_text(s, 1));
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		bt_check_read_error(x, rc, "reading pairs");
	for (k = 0; k < nd; k++)
		d[k].clean = true;
	for (i = 0; i < n; i++) {
		if (!pair_begin(sc, pairs[i][0], pairs[i][1]))
			continue;
		x->hit = false;
		x->ranges++;
		scan(sc, 0, INT64_MAX / sc->p.iv, false);
		pair_end(sc);
		/* A pair with findings keeps its dirty ranges. */
		for (k = 0; k < nd; k++)
			if (x->hit && strcmp(d[k].symbol, pairs[i][0]) == 0 &&
			    strcmp(d[k].tf, pairs[i][1]) == 0)
				d[k].clean = false;
	}
	free(pairs);
}

void
bt_scan_clear(struct bt_scan *sc)
{
	struct bt_check *x = sc->x;
	struct dirty *d = sc->dirty;
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	size_t i, n = sc->ndirty;
	int rc;

	if (x->dry || x->st == NULL || n == 0)
		return;
	if ((rc = bt_begin(x->st, err)) != 0) {
		bt_check_fail(x, rc, "state: %s", err);
		return;
	}
	/* Only the very row read: bt-fetch may have widened it since. */
	if ((s = bt_stmt(x->st, "DELETE FROM dirty WHERE symbol=?1 AND tf=?2 "
	    "AND from_ms=?3 AND to_ms=?4", err)) == NULL) {
		bt_rollback(x->st);
		bt_check_fail(x, BT_EX_SOFTWARE, "state: %s", err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!d[i].clean)
			continue;
		sqlite3_bind_text(s, 1, d[i].symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, d[i].tf, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, d[i].from);
		sqlite3_bind_int64(s, 4, d[i].to);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			bt_check_fail(x, bt_sqlite_ex(rc), "state: dirty: %s",
			    bt_db_errmsg(x->st));
			bt_rollback(x->st);
			return;
		}
	}
	if ((rc = bt_commit(x->st, err)) != 0)
		bt_check_fail(x, rc, "state: %s", err);
}
