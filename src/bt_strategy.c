/*
 * bt_strategy.c - the strategies (bt-backtest(1), STRATEGIES): their
 * parameters, the indicators they read (bt_ind.c, TA-Lib's definitions),
 * and the events they emit, external signals included.
 *
 * Invariants:
 * - A decision is taken on a bar's close: every rule compares closed bars
 *   only, and an event at bar i is filled at bar i + 1's open (the
 *   engine's part).  A signal for a bar that has not closed is refused.
 * - An indicator is computed over the whole loaded series, warm-up
 *   included, once per symbol and parameter however many combinations of
 *   a sweep read it; bt_strategy_reset() forgets them between symbols.
 * - Events come out sorted by bar, as the engine reads them.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bt_ind.h"
#include "bt_strategy.h"

const struct stratdef bt_strats[] = {
	{ "sma-cross", 2, { "fast", "slow" }, { 10, 30 }, { 2, 2 },
	    { BT_IND_MAXPERIOD, BT_IND_MAXPERIOD }, 3, 2, { "fast", "slow" } },
	{ "ema-cross", 2, { "fast", "slow" }, { 12, 26 }, { 2, 2 },
	    { BT_IND_MAXPERIOD, BT_IND_MAXPERIOD }, 3, 2, { "fast", "slow" } },
	{ "rsi", 3, { "period", "lower", "upper" }, { 14, 30, 70 },
	    { 2, 0, 0 }, { BT_IND_MAXPERIOD, 100, 100 }, 1, 1, { "rsi" } },
	{ "bbands", 2, { "period", "k" }, { 20, 2 }, { 2, 0.01 },
	    { BT_IND_MAXPERIOD, 10 }, 1, 3, { "upper", "middle", "lower" } },
	{ "donchian", 2, { "entry", "exit" }, { 20, 10 }, { 2, 2 },
	    { BT_IND_MAXPERIOD, BT_IND_MAXPERIOD }, 3, 4,
	    { "upper", "lower", "exit_lower", "exit_upper" } },
	{ "hold", 0, { NULL }, { 0 }, { 0 }, { 0 }, 0, 0, { NULL } },
	{ "signals", 0, { NULL }, { 0 }, { 0 }, { 0 }, 0, 0, { NULL } },
};
#define NSTRATS	(sizeof(bt_strats) / sizeof(bt_strats[0]))

/*
 * A cached indicator array, valid over its first n bars; `used' is the
 * generation of its latest reader (kind -1: a free slot).
 */
struct indc {
	int		 kind;
	double		 p1, p2;
	double		*v;
	size_t		 cap, n;
	uint64_t	 used;
};
/*
 * The cache's bounds: a grid of any size runs in constant memory (a
 * combination needs at most 4 arrays), and a miss costs one pass over
 * the series, the order of one simulation.
 */
#define CACHE_BYTES	((size_t)8 << 20)
#define CACHE_SLOTS	256
enum { I_SMA, I_EMA, I_RSI, I_BBU, I_BBM, I_BBL, I_MAXH, I_MINL, I_PSMA };
/* The indicators of one output and one period (of the close, high, low). */
static int (*const one[])(const double *, size_t, int, double *) = {
	[I_SMA] = bt_sma, [I_EMA] = bt_ema, [I_RSI] = bt_rsi,
	[I_MAXH] = bt_max, [I_MINL] = bt_min, [I_PSMA] = bt_sma_pandas,
};

int
bt_strategy_set(struct strategy *st, const char *name)
{
	size_t i;

	for (i = 0; i < NSTRATS; i++)
		if (strcmp(bt_strats[i].name, name) == 0) {
			st->id = (enum strat)i;
			memcpy(st->par, bt_strats[i].def, sizeof(st->par));
			return 0;
		}
	return -1;
}

void
bt_strategy_free(struct strategy *st)
{
	size_t i;

	for (i = 0; i < st->cachecap; i++)
		free(st->cache[i].v);
	free(st->cache);
	free(st->ev);
	free(st->sigs);
}

/* Binary search of an open time; -1 when no bar opened then. */
static long
bar_at(const struct series *s, int64_t t)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->t[lo] == t ? (long)lo : -1;
}

/* Forgets the cached values; the arrays stay for the next symbol. */
void
bt_strategy_reset(struct strategy *st)
{
	size_t i;

	for (i = 0; i < st->ncache; i++)
		st->cache[i].kind = -1;
}

/*
 * A slot for an array of n values: a free one, a new one while the
 * cache is within its bounds, else the least recently read one that the
 * current reader (generation st->gen) does not hold.
 */
static double *
cache_put(struct strategy *st, int kind, double p1, double p2, size_t n)
{
	struct indc *e = NULL;
	size_t i;

	for (i = 0; i < st->ncache && e == NULL; i++)
		if (st->cache[i].kind == -1)
			e = &st->cache[i];
	if (e == NULL && st->ncache >= BT_MAXIND && (st->ncache >=
	    CACHE_SLOTS || (st->ncache + 1) * n * sizeof(double) >
	    CACHE_BYTES))
		for (i = 0; i < st->ncache; i++)
			if (st->cache[i].used != st->gen && (e == NULL ||
			    st->cache[i].used < e->used))
				e = &st->cache[i];
	if (e == NULL) {
		if (st->ncache == st->cachecap) {
			st->cachecap = st->cachecap ? st->cachecap * 2 : 16;
			st->cache = bt_xrealloc(st->cache, st->cachecap,
			    sizeof(*st->cache));
			memset(st->cache + st->ncache, 0, (st->cachecap -
			    st->ncache) * sizeof(*st->cache));
		}
		e = &st->cache[st->ncache++];
	}
	if (e->cap < n) {
		e->v = bt_xrealloc(e->v, n, sizeof(double));
		e->cap = n;
	}
	e->kind = kind;
	e->p1 = p1;
	e->p2 = p2;
	e->n = n;
	e->used = st->gen;
	return e->v;
}

/*
 * An indicator over the whole loaded series, computed once per symbol
 * and parameter however many combinations read it while the cache holds
 * it (bt_ind.c: TA-Lib's definitions, NAN before the lookback).
 * Indicators are causal: an array over more bars serves fewer.
 */
static const double *
ind(struct strategy *st, const struct series *s, int kind, double p1,
    double p2)
{
	struct indc *e;
	size_t i;
	double *u, *m, *l, *v;

	/* backtesting.py's SMA is pandas' rolling mean (bt_ind.c). */
	if (kind == I_SMA && st->pandas)
		kind = I_PSMA;
	for (i = 0; i < st->ncache; i++) {
		e = &st->cache[i];
		if (e->kind == kind && e->p1 == p1 && e->p2 == p2 &&
		    e->n >= s->n) {
			e->used = st->gen;
			return e->v;
		}
	}
	switch (kind) {
	case I_BBU:
	case I_BBM:
	case I_BBL:
		u = cache_put(st, I_BBU, p1, p2, s->n);
		m = cache_put(st, I_BBM, p1, p2, s->n);
		l = cache_put(st, I_BBL, p1, p2, s->n);
		bt_bbands(s->c, s->n, (int)p1, p2, p2, u, m, l);
		return kind == I_BBU ? u : kind == I_BBM ? m : l;
	}
	v = cache_put(st, kind, p1, p2, s->n);
	one[kind](kind == I_MAXH ? s->h : kind == I_MINL ? s->l : s->c, s->n,
	    (int)p1, v);
	return v;
}

size_t
bt_lookback(enum strat id, const double *par)
{
	switch (id) {
	case S_SMA:
	case S_EMA:
		return (size_t)fmax(par[0], par[1]) - 1;
	case S_RSI:
		return (size_t)par[0];
	case S_BBANDS:
		return (size_t)par[0] - 1;
	case S_DONCHIAN:
		return (size_t)fmax(par[0], par[1]) - 1;
	default:
		return 0;
	}
}

/*
 * The values a strategy compares at bar i, for the equity file; *shift
 * is 1 when bar i reads them at i - 1 (Donchian's channel excludes the
 * bar being tested).
 */
int
bt_ind_cols(struct strategy *st, const struct series *s, const double *par,
    const double *col[BT_MAXIND], int *shift)
{
	*shift = 0;
	st->gen++;
	switch (st->id) {
	case S_SMA:
	case S_EMA:
		col[0] = ind(st, s, st->id == S_SMA ? I_SMA : I_EMA, par[0], 0);
		col[1] = ind(st, s, st->id == S_SMA ? I_SMA : I_EMA, par[1], 0);
		return 2;
	case S_RSI:
		col[0] = ind(st, s, I_RSI, par[0], 0);
		return 1;
	case S_BBANDS:
		col[0] = ind(st, s, I_BBU, par[0], par[1]);
		col[1] = ind(st, s, I_BBM, par[0], par[1]);
		col[2] = ind(st, s, I_BBL, par[0], par[1]);
		return 3;
	case S_DONCHIAN:
		*shift = 1;
		col[0] = ind(st, s, I_MAXH, par[0], 0);
		col[1] = ind(st, s, I_MINL, par[0], 0);
		col[2] = ind(st, s, I_MINL, par[1], 0);
		col[3] = ind(st, s, I_MAXH, par[1], 0);
		return 4;
	default:
		return 0;
	}
}

static void
ev_push(struct strategy *st, size_t bar, uint32_t kind, double target)
{
	if (st->nev == st->evcap) {
		st->evcap = st->evcap ? st->evcap * 2 : 1024;
		st->ev = bt_xrealloc(st->ev, st->evcap, sizeof(*st->ev));
	}
	st->ev[st->nev].bar = (uint32_t)bar;
	st->ev[st->nev].kind = kind;
	st->ev[st->nev].target = target;
	st->nev++;
}

/*
 * Crossovers as backtesting.py's crossover(a, b) sees them: a[-2] < b[-2]
 * and a[-1] > b[-1], strictly; NaN compares false, so nothing fires
 * before both series are valid.
 */
static void
ev_cross(struct strategy *st, const double *a, const double *b, size_t from,
    size_t n)
{
	size_t i;
	unsigned lt0, gt0, lt, gt;

	if (from < 1)
		from = 1;
	if (from >= n)
		return;
	lt0 = a[from - 1] < b[from - 1];
	gt0 = a[from - 1] > b[from - 1];
	/* One rarely taken branch per bar: the comparisons are flags. */
	for (i = from; i < n; i++) {
		lt = a[i] < b[i];
		gt = a[i] > b[i];
		if ((lt0 & gt) | (gt0 & lt))
			ev_push(st, i, gt ? EV_LONG : EV_SHORT, 0);
		lt0 = lt;
		gt0 = gt;
	}
}

/* The first signal of a symbol in the sorted list. */
static size_t
sig_first(const struct strategy *st, const char *sym)
{
	size_t lo = 0, hi = st->nsig, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(st->sigs[mid].symbol, sym) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
bt_signals_of(const struct strategy *st, const char *sym)
{
	size_t i, n = 0;

	for (i = sig_first(st, sym); i < st->nsig &&
	    strcmp(st->sigs[i].symbol, sym) == 0; i++)
		n++;
	return n;
}

size_t
bt_signals_without(const struct strategy *st, char *const *syms, int n,
    char *names, size_t len)
{
	size_t i, k, count = 0, used = 0;
	int j;

	if (len > 0)
		names[0] = '\0';
	for (i = 0; i < st->nsig; i = k) {
		for (k = i; k < st->nsig && strcmp(st->sigs[k].symbol,
		    st->sigs[i].symbol) == 0; k++)
			;
		for (j = 0; j < n && strcmp(syms[j], st->sigs[i].symbol) != 0;
		    j++)
			;
		if (j < n)
			continue;
		count += k - i;
		if (used + 32 < len)
			used += (size_t)snprintf(names + used, len - used, "%s%s",
			    used ? ", " : "", st->sigs[i].symbol);
	}
	return count;
}

/*
 * External signals into events.  Each must name a bar's open time; the
 * newest before the window becomes the target at the window's first bar.
 * Exit code or 0.
 */
static int
ev_signals(struct strategy *st, const struct series *s, char *err)
{
	size_t i, first = sig_first(st, s->symbol);
	long b;
	double pre = NAN;
	int64_t closes, now = bt_now_ms();
	char ts[32], ts2[32], ts3[32];
	const char *name = strcmp(st->sigfile, "-") == 0 ? "stdin" :
	    st->sigfile;
	const struct bt_signal *g;

	for (i = first; i < st->nsig && strcmp(st->sigs[i].symbol,
	    s->symbol) == 0; i++) {
		g = &st->sigs[i];
		if ((b = bar_at(s, g->t)) < 0) {
			if (g->t < s->t[0]) {
				st->sig_early++;	/* before the data */
				continue;
			}
			if (g->t > s->t[s->n - 1] && g->t + (bt_series_next(s,
			    s->n - 1) - s->t[s->n - 1]) - 1 >= now) {
				snprintf(err, BT_ERRLEN, "%s:%zu: look-ahead: "
				    "the %s bar opened at %s has not closed "
				    "(now is %s); a signal may only use closed "
				    "bars", name, g->line, s->symbol,
				    bt_fmt_time(g->t, ts),
				    bt_fmt_time(now, ts3));
				return BT_EX_DATAERR;
			}
			snprintf(err, BT_ERRLEN, "%s:%zu: timestamp %lld (%s) "
			    "is not the open time of a %s bar (loaded %s..%s)",
			    name, g->line, (long long)g->t,
			    bt_fmt_time(g->t, ts), s->symbol,
			    bt_fmt_time(s->t[0], ts2),
			    bt_fmt_time(s->t[s->n - 1], ts3));
			return BT_EX_DATAERR;
		}
		closes = (size_t)b + 1 < s->n ? s->t[b + 1] - 1 : s->tclose;
		if (closes >= now) {
			snprintf(err, BT_ERRLEN, "%s:%zu: look-ahead: the %s "
			    "bar opened at %s closes at %s, after now (%s)",
			    name, g->line, s->symbol, bt_fmt_time(g->t, ts),
			    bt_fmt_time(closes, ts2), bt_fmt_time(now, ts3));
			return BT_EX_DATAERR;
		}
		st->sig_matched++;
		if ((size_t)b < s->w0)
			pre = g->pos;
	}
	if (!isnan(pre))
		ev_push(st, s->w0, EV_TARGET, pre);
	for (i = first; i < st->nsig && strcmp(st->sigs[i].symbol,
	    s->symbol) == 0; i++)
		if ((b = bar_at(s, st->sigs[i].t)) >= 0 && (size_t)b >= s->w0)
			ev_push(st, (size_t)b, EV_TARGET, st->sigs[i].pos);
	return 0;
}

/*
 * A strategy's events on the bars from `from' on.  The rules (bt-backtest
 * (1), STRATEGIES) compare closed bars only.
 */
int
bt_events(struct strategy *st, const struct series *s, const double *par,
    size_t from, char *err)
{
	const double *col[BT_MAXIND], *c = s->c;
	size_t i, n = s->n;
	int shift;

	/* The very columns the equity file shows (bt_ind_cols()). */
	st->nev = 0;
	bt_ind_cols(st, s, par, col, &shift);
	switch (st->id) {
	case S_SMA:
	case S_EMA:
		ev_cross(st, col[0], col[1], from, n);
		break;
	case S_RSI:
		for (i = from > 0 ? from : 1; i < n; i++) {
			if (col[0][i - 1] >= par[1] && col[0][i] < par[1])
				ev_push(st, i, EV_LONG, 0);
			else if (col[0][i - 1] <= par[2] && col[0][i] > par[2])
				ev_push(st, i, EV_SHORT, 0);
		}
		break;
	case S_BBANDS: {
		const double *u = col[0], *m = col[1], *l = col[2];

		for (i = from > 0 ? from : 1; i < n; i++) {
			if (c[i - 1] < m[i - 1] && c[i] >= m[i])
				ev_push(st, i, EV_XLONG, 0);
			if (c[i - 1] > m[i - 1] && c[i] <= m[i])
				ev_push(st, i, EV_XSHORT, 0);
			if (c[i - 1] >= l[i - 1] && c[i] < l[i])
				ev_push(st, i, EV_LONG, 0);
			else if (c[i - 1] <= u[i - 1] && c[i] > u[i])
				ev_push(st, i, EV_SHORT, 0);
		}
		break;
	}
	case S_DONCHIAN: {
		/* Entry channel par[0], exit channel par[1], read a bar back. */
		const double *ue = col[0], *le = col[1], *lx = col[2],
		    *ux = col[3];

		for (i = from > 0 ? from : 1; i < n; i++) {
			if (c[i] < lx[i - 1])
				ev_push(st, i, EV_XLONG, 0);
			if (c[i] > ux[i - 1])
				ev_push(st, i, EV_XSHORT, 0);
			if (c[i] > ue[i - 1])
				ev_push(st, i, EV_LONG, 0);
			else if (c[i] < le[i - 1])
				ev_push(st, i, EV_SHORT, 0);
		}
		break;
	}
	case S_HOLD:
		if (from < n)
			ev_push(st, from, EV_LONG, 0);
		break;
	case S_SIGNALS:
		return ev_signals(st, s, err);
	}
	return 0;
}

int
bt_par_index(const struct strategy *st, const char *key, size_t len)
{
	const struct stratdef *d = &bt_strats[st->id];
	int i;

	for (i = 0; i < d->npar; i++)
		if (strlen(d->par[i]) == len && strncmp(d->par[i], key, len)
		    == 0)
			return i;
	return -1;
}

int
bt_par_value(const struct strategy *st, int i, const char *s, double *v,
    char *err)
{
	const struct stratdef *d = &bt_strats[st->id];
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*v) ||
	    *v < d->min[i] || *v > d->max[i] ||
	    ((d->integer & (1u << i)) && *v != floor(*v))) {
		snprintf(err, BT_ERRLEN, "%s: %s=%s: want %s from %g to %g",
		    d->name, d->par[i], s, (d->integer & (1u << i)) ?
		    "a whole number" : "a number", d->min[i], d->max[i]);
		return -1;
	}
	return 0;
}

int
bt_set_param(struct strategy *st, const char *kv, char *err)
{
	const char *eq = strchr(kv, '=');
	int i;

	if (eq == NULL || (i = bt_par_index(st, kv, (size_t)(eq - kv))) < 0) {
		snprintf(err, BT_ERRLEN, "'%s': %s takes %s", kv,
		    bt_strats[st->id].name,
		    bt_strats[st->id].npar == 0 ? "no parameters" :
		    bt_strats[st->id].npar == 2 ? "fast=, slow=, or its own "
		    "two (see bt-backtest(1))" : "period=, lower=, upper=");
		return -1;
	}
	return bt_par_value(st, i, eq + 1, &st->par[i], err);
}

bool
bt_params_ok(enum strat id, const double *p)
{
	switch (id) {
	case S_SMA:
	case S_EMA:
		return p[0] < p[1];
	case S_RSI:
		return p[1] < p[2];
	default:
		return true;
	}
}

