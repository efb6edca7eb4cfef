/*
 * bt_ind.c - indicators, to the bit as TA-Lib computes them.
 *
 * The reference is TA-Lib 0.6.0-dev as bundled by the npm package talib
 * 2.0.5 (src/lib/src/ta_func/ta_*.c), default compatibility and no
 * unstable period.  Every expression below repeats TA-Lib's operations in
 * TA-Lib's order: floating point addition is not associative, so a sum
 * kept the other way round drifts in the last bits.  TA-Lib's loops are
 * turned inside out into step functions over a plain-data state; the
 * array functions only loop over the steps, so a state saved after bar k
 * and resumed gives what the full run gives.
 *
 * A fused multiply-add would round once where TA-Lib rounds twice (on
 * BBANDS of a flat series that moves the bands by 1e-9).  Clang contracts
 * within an expression unless told not to; GCC contracts in GNU mode
 * (-std=gnu17 -march=haswell) and ignores the standard pragma.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>
#include <string.h>

#include "bt_ind.h"

/* ta_utility.h of the bundled TA-Lib: absolute, not scaled to the data. */
#define TA_EPSILON		(0.00000000000001)
#define TA_IS_ZERO(v)		(((-TA_EPSILON) < (v)) && ((v) < TA_EPSILON))
#define TA_IS_ZERO_OR_NEG(v)	((v) < TA_EPSILON)
/* ta_defs.h: TA_REAL_MIN, TA_REAL_MAX bound the BBANDS multipliers. */
#define TA_REAL_LIM		(3e+37)

static bool
period_ok(int period, int min)
{
	return period >= min && period <= BT_IND_MAXPERIOD;
}

/* Slot of bar i in a ring of `period' values. */
static size_t
slot(int64_t i, int period)
{
	return (size_t)(i % period);
}

static void
fill_nan(double *out, size_t n)
{
	size_t	 i;

	if (out == NULL)
		return;
	for (i = 0; i < n; i++)
		out[i] = NAN;
}

/*
 * The array form of the one-input indicators: init, then the step over
 * every bar (bt_ind.h).  One loop for all five, the kind chosen per bar
 * by a switch the branch predictor learns at once.
 */
enum one { ONE_SMA, ONE_EMA, ONE_RSI, ONE_MAX, ONE_MIN };

static int
over(enum one k, const double *x, size_t n, int period, double *out)
{
	union {
		struct bt_sma_st sma;
		struct bt_ema_st ema;
		struct bt_rsi_st rsi;
		struct bt_max_st max;
		struct bt_min_st min;
	} st;
	size_t	 i;
	int	 lb = -1;

	switch (k) {
	case ONE_SMA: lb = bt_sma_init(&st.sma, period); break;
	case ONE_EMA: lb = bt_ema_init(&st.ema, period); break;
	case ONE_RSI: lb = bt_rsi_init(&st.rsi, period); break;
	case ONE_MAX: lb = bt_max_init(&st.max, period); break;
	case ONE_MIN: lb = bt_min_init(&st.min, period); break;
	}
	if (lb < 0 || n <= (size_t)lb) {
		fill_nan(out, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		switch (k) {
		case ONE_SMA: out[i] = bt_sma_step(&st.sma, x[i]); break;
		case ONE_EMA: out[i] = bt_ema_step(&st.ema, x[i]); break;
		case ONE_RSI: out[i] = bt_rsi_step(&st.rsi, x[i]); break;
		case ONE_MAX: out[i] = bt_max_step(&st.max, x[i]); break;
		case ONE_MIN: out[i] = bt_min_step(&st.min, x[i]); break;
		}
	return lb;
}

/* ------------------------------------------------------------------ SMA */

int
bt_sma_init(struct bt_sma_st *st, int period)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 2))
		return -1;
	st->period = period;
	return period - 1;
}

double
bt_sma_step(struct bt_sma_st *st, double x)
{
	double	 v;
	int	 p = st->period;

	if (!period_ok(p, 2))
		return NAN;
	/* ta_SMA.c: periodTotal += new; out = total / n; total -= oldest. */
	st->ring[slot(st->n, p)] = x;
	st->sum += x;
	st->n++;
	if (st->n < p)
		return NAN;
	v = st->sum / p;
	st->sum -= st->ring[slot(st->n, p)];	/* bar n - p + 1 */
	return v;
}

int
bt_sma(const double *x, size_t n, int period, double *out)
{
	return over(ONE_SMA, x, n, period, out);
}

/*
 * pandas 1.5's roll_mean (pandas/_libs/window/aggregations.pyx) for a
 * fixed window with min_periods = period: one Kahan-compensated running
 * sum over the whole series, never restarted, with one compensation for
 * the adds and one for the removes, the remove of x[i - period] before
 * the add of x[i]; mean = sum / nobs, except that it is the value itself
 * when the last nobs values were all equal, and 0 when its sign is
 * impossible (negative with no negative input, positive with all
 * negative).  Checked bit for bit against pandas on a 500000-bar random
 * walk (tests/data/backtesting-py/walk-rolling.json).
 */
int
bt_sma_pandas(const double *x, size_t n, int period, double *out)
{
	double sum = 0, ca = 0, cr = 0, y, t, v, prev, r;
	size_t i;
	int64_t nobs = 0, neg = 0, same = 0;

	if (!period_ok(period, 1) || n < (size_t)period) {
		fill_nan(out, n);
		return -1;
	}
	prev = x[0];
	for (i = 0; i < n; i++) {
		if (i >= (size_t)period) {
			v = x[i - (size_t)period];
			nobs--;
			y = -v - cr;
			t = sum + y;
			cr = t - sum - y;
			sum = t;
			neg -= signbit(v) != 0;
		}
		v = x[i];
		nobs++;
		y = v - ca;
		t = sum + y;
		ca = t - sum - y;
		sum = t;
		neg += signbit(v) != 0;
		same = v == prev ? same + 1 : 1;
		prev = v;
		if (nobs < period) {
			out[i] = NAN;
			continue;
		}
		r = sum / (double)nobs;
		if (same >= nobs)
			r = prev;
		else if (neg == 0 && r < 0)
			r = 0;
		else if (neg == nobs && r > 0)
			r = 0;
		out[i] = r;
	}
	return period - 1;
}

/* ------------------------------------------------------------------ EMA */

int
bt_ema_init(struct bt_ema_st *st, int period)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 2))
		return -1;
	st->period = period;
	st->k = (double)2.0 / ((double)(period + 1));	/* PER_TO_K */
	return period - 1;
}

double
bt_ema_step(struct bt_ema_st *st, double x)
{
	int	 p = st->period;

	if (!period_ok(p, 2))
		return NAN;
	if (st->n < p) {
		/* The seed: a plain sum of the first p values, then / p. */
		st->sum += x;
		st->n++;
		if (st->n < p)
			return NAN;
		st->prev = st->sum / p;
		return st->prev;
	}
	st->prev = ((x - st->prev) * st->k) + st->prev;
	st->n++;
	return st->prev;
}

int
bt_ema(const double *x, size_t n, int period, double *out)
{
	return over(ONE_EMA, x, n, period, out);
}

/* ------------------------------------------------------------------ RSI */

int
bt_rsi_init(struct bt_rsi_st *st, int period)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 2))
		return -1;
	st->period = period;
	return period;
}

static double
rsi_value(const struct bt_rsi_st *st)
{
	double	 t = st->gain + st->loss;

	/* TA-Lib says 0, not 50 or NaN, for a flat window. */
	if (!TA_IS_ZERO(t))
		return 100.0 * (st->gain / t);
	return 0.0;
}

double
bt_rsi_step(struct bt_rsi_st *st, double x)
{
	double	 d;
	int	 p = st->period;

	if (!period_ok(p, 2))
		return NAN;
	if (st->n == 0) {
		st->prev = x;
		st->n++;
		return NAN;
	}
	d = x - st->prev;
	st->prev = x;
	if (st->n <= p) {
		/* The seed: plain sums of the first p changes, then means. */
		if (d < 0)
			st->loss -= d;
		else
			st->gain += d;
		st->n++;
		if (st->n <= p)
			return NAN;
		st->loss /= p;
		st->gain /= p;
		return rsi_value(st);
	}
	st->loss *= (p - 1);
	st->gain *= (p - 1);
	if (d < 0)
		st->loss -= d;
	else
		st->gain += d;
	st->loss /= p;
	st->gain /= p;
	st->n++;
	return rsi_value(st);
}

int
bt_rsi(const double *x, size_t n, int period, double *out)
{
	return over(ONE_RSI, x, n, period, out);
}

/* --------------------------------------------------------------- BBANDS */

int
bt_bbands_init(struct bt_bbands_st *st, int period, double kup, double kdn)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 2) ||
	    !(kup >= -TA_REAL_LIM && kup <= TA_REAL_LIM) ||
	    !(kdn >= -TA_REAL_LIM && kdn <= TA_REAL_LIM))
		return -1;
	st->period = period;
	st->kup = kup;
	st->kdn = kdn;
	return period - 1;
}

void
bt_bbands_step(struct bt_bbands_st *st, double x, double *up, double *mid,
    double *lo)
{
	double	 m, m2, old, sd;
	int	 p = st->period;

	*up = *mid = *lo = NAN;
	if (!period_ok(p, 2))
		return;
	/*
	 * ta_SMA.c for the middle band, TA_INT_stddev_using_precalc_ma for
	 * the deviation: E[x^2] from its own running sum, minus the square
	 * of the SMA just computed.
	 */
	st->ring[slot(st->n, p)] = x;
	st->sum += x;
	st->sum2 += x * x;
	st->n++;
	if (st->n < p)
		return;
	m = st->sum / p;
	m2 = st->sum2 / p;
	old = st->ring[slot(st->n, p)];
	st->sum -= old;
	st->sum2 -= old * old;
	m2 -= m * m;
	/* Cancellation can leave a tiny negative variance: clamp it. */
	if (!TA_IS_ZERO_OR_NEG(m2))
		sd = sqrt(m2);
	else
		sd = 0.0;
	/*
	 * ta_BBANDS.c has four loops for k == 1 and k1 == k2; sd * 1.0 is
	 * sd exactly, so this one expression gives the same bits in each.
	 */
	*mid = m;
	*up = m + sd * st->kup;
	*lo = m - sd * st->kdn;
}

int
bt_bbands(const double *x, size_t n, int period, double kup, double kdn,
    double *up, double *mid, double *lo)
{
	struct bt_bbands_st st;
	size_t	 i;
	int	 lb;

	lb = bt_bbands_init(&st, period, kup, kdn);
	if (lb < 0 || n <= (size_t)lb) {
		fill_nan(up, n);
		fill_nan(mid, n);
		fill_nan(lo, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		bt_bbands_step(&st, x[i], &up[i], &mid[i], &lo[i]);
	return lb;
}

/* ------------------------------------------------------------------ ATR */

int
bt_atr_init(struct bt_atr_st *st, int period)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 1))
		return -1;
	st->period = period;
	return period;
}

double
bt_atr_step(struct bt_atr_st *st, double h, double l, double c)
{
	double	 tr, v;
	int	 p = st->period;

	if (!period_ok(p, 1))
		return NAN;
	if (st->n == 0) {
		/* No previous close, so no true range on the first bar. */
		st->prevc = c;
		st->n++;
		return NAN;
	}
	/* ta_TRANGE.c, comparisons in its order. */
	tr = h - l;
	v = fabs(st->prevc - h);
	if (v > tr)
		tr = v;
	v = fabs(st->prevc - l);
	if (v > tr)
		tr = v;
	st->prevc = c;
	if (p == 1) {
		st->n++;
		return tr;
	}
	if (st->n <= p) {
		/* The seed: TA_INT_SMA over the first p true ranges. */
		st->sum += tr;
		st->n++;
		if (st->n <= p)
			return NAN;
		st->atr = st->sum / p;
		return st->atr;
	}
	st->atr *= p - 1;
	st->atr += tr;
	st->atr /= p;
	st->n++;
	return st->atr;
}

int
bt_atr(const double *h, const double *l, const double *c, size_t n,
    int period, double *out)
{
	struct bt_atr_st st;
	size_t	 i;
	int	 lb;

	lb = bt_atr_init(&st, period);
	if (lb < 0 || n <= (size_t)lb) {
		fill_nan(out, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		out[i] = bt_atr_step(&st, h[i], l[i], c[i]);
	return lb;
}

/* ----------------------------------------------------------------- MACD */

/*
 * TA-Lib takes a signal period of 1 but gets it wrong: TA_EMA_Lookback(1)
 * is -1 (out of EMA's range), so MACD's lookback comes out one short, the
 * first MACD value is read from before its buffer and the signal line is
 * that of two bars later.  There is no TA-Lib answer to match: refuse it.
 */
int
bt_macd_init(struct bt_macd_st *st, int fast, int slow, int signal)
{
	int	 t;

	memset(st, 0, sizeof(*st));
	if (!period_ok(fast, 2) || !period_ok(slow, 2) ||
	    !period_ok(signal, 2))
		return -1;
	if (slow < fast) {
		t = slow;
		slow = fast;
		fast = t;
	}
	st->fast = fast;
	st->slow = slow;
	st->signal = signal;
	bt_ema_init(&st->fe, fast);
	bt_ema_init(&st->se, slow);
	bt_ema_init(&st->sg, signal);
	return (slow - 1) + (signal - 1);
}

void
bt_macd_step(struct bt_macd_st *st, double x, double *macd, double *sig,
    double *hist)
{
	double	 f, s, m, g;
	int64_t	 i;

	*macd = *sig = *hist = NAN;
	if (!period_ok(st->fast, 2) || !period_ok(st->slow, 2) ||
	    !period_ok(st->signal, 2))
		return;
	i = st->n++;
	/*
	 * ta_MACD.c runs both EMAs from bar slow-1 back: the fast one is
	 * seeded with the SMA of the `fast' bars ending there, not from
	 * bar 0, so it skips the first slow-fast bars.
	 */
	s = bt_ema_step(&st->se, x);
	f = NAN;
	if (i >= st->slow - st->fast)
		f = bt_ema_step(&st->fe, x);
	if (i < st->slow - 1)
		return;
	m = f - s;
	g = bt_ema_step(&st->sg, m);
	if (i < (int64_t)(st->slow - 1) + (st->signal - 1))
		return;
	*macd = m;
	*sig = g;
	*hist = m - g;
}

int
bt_macd(const double *x, size_t n, int fast, int slow, int signal,
    double *macd, double *sig, double *hist)
{
	struct bt_macd_st st;
	size_t	 i;
	int	 lb;

	lb = bt_macd_init(&st, fast, slow, signal);
	if (lb < 0 || n <= (size_t)lb) {
		fill_nan(macd, n);
		fill_nan(sig, n);
		fill_nan(hist, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		bt_macd_step(&st, x[i], &macd[i], &sig[i], &hist[i]);
	return lb;
}

/* ------------------------------------------------------------- MAX, MIN */

/*
 * ta_MAX.c and ta_MIN.c: keep the extreme and its bar; when that bar
 * leaves the window rescan it (first strict extreme wins), else a new
 * value equal to the extreme takes over.  Only ties of 0.0 and -0.0 and
 * NaNs could tell another method apart; this one is TA-Lib's.
 */
static double
extreme_step(int p, int64_t *n, int64_t *best_i, double *best, double *ring,
    double x, bool max)
{
	int64_t	 today, trailing, i;
	double	 t;

	if (!period_ok(p, 2))
		return NAN;
	today = (*n)++;
	ring[slot(today, p)] = x;
	if (today < p - 1)
		return NAN;
	trailing = today - (p - 1);
	if (*best_i < trailing) {
		*best_i = trailing;
		*best = ring[slot(trailing, p)];
		for (i = trailing + 1; i <= today; i++) {
			t = ring[slot(i, p)];
			if (max ? t > *best : t < *best) {
				*best_i = i;
				*best = t;
			}
		}
	} else if (max ? x >= *best : x <= *best) {
		*best_i = today;
		*best = x;
	}
	return *best;
}

int
bt_max_init(struct bt_max_st *st, int period)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 2))
		return -1;
	st->period = period;
	st->best_i = -1;
	return period - 1;
}

double
bt_max_step(struct bt_max_st *st, double x)
{
	return extreme_step(st->period, &st->n, &st->best_i, &st->best,
	    st->ring, x, true);
}

int
bt_min_init(struct bt_min_st *st, int period)
{
	memset(st, 0, sizeof(*st));
	if (!period_ok(period, 2))
		return -1;
	st->period = period;
	st->best_i = -1;
	return period - 1;
}

double
bt_min_step(struct bt_min_st *st, double x)
{
	return extreme_step(st->period, &st->n, &st->best_i, &st->best,
	    st->ring, x, false);
}

int
bt_max(const double *x, size_t n, int period, double *out)
{
	return over(ONE_MAX, x, n, period, out);
}

int
bt_min(const double *x, size_t n, int period, double *out)
{
	return over(ONE_MIN, x, n, period, out);
}
