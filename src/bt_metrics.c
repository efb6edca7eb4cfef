/*
 * bt_metrics.c - a backtest's metrics: the accumulator and backtesting.py's
 * formulas over it (bt-backtest(1), METRICS), and backtesting.py's view
 * of a calendar (periods per year, resampling, the rounding of durations).
 *
 * Invariants:
 * - One accumulator serves single runs, sweeps and the portfolio, so a
 *   sweep's line for a combination equals the single run's.
 * - It keeps sums, never a curve: a sweep costs no memory per combination.
 *   The engines' hot loop (bt_engine.c, mark()) keeps its fields in locals
 *   and calls bt_dd_period() only where a drawdown period ends.
 * - Percentages are in percent; a value that is not finite is null.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_metrics.h"

json_t *
bt_jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

void
bt_tacc_init(struct tacc *a)
{
	memset(a, 0, sizeof(*a));
	a->best = -INFINITY;
	a->worst = INFINITY;
}

void
bt_acc_init(struct acc *a, const int64_t *t)
{
	memset(a, 0, sizeof(*a));
	a->t = t;
	bt_tacc_init(&a->tr);
}

void
bt_dd_period(struct acc *a, size_t q)
{
	double dd = 1 - a->mine / a->peak, dur = (double)(a->t[q] -
	    a->t[a->z]);

	a->ndd++;
	a->sdd += dd;
	a->sddur += dur;
	if (dur > a->mddur)
		a->mddur = dur;
	if (dd > a->maxdd)
		a->maxdd = dd;
}

void
bt_acc_flat(struct acc *a, size_t i, size_t to, double e)
{
	size_t k = to - i;

	a->nb += k;
	a->nre += k;
	a->nr += k;
	if (e >= a->peak) {
		if (i > a->z + 1)
			bt_dd_period(a, i);
		a->peak = a->mine = e;
		a->z = to - 1;
	}
	a->elast = e;
	a->ilast = to - 1;
}

void
bt_acc_trade(struct tacc *a, const struct trade *t)
{
	size_t from;

	a->nt++;
	if (t->pnl > 0) {
		a->nwin++;
		a->npos++;
		a->spos += t->pnl;
	} else if (t->pnl < 0) {
		a->nneg++;
		a->snegp += t->pnl;
	}
	a->sp += t->pnl;
	a->sp2 += t->pnl * t->pnl;
	a->sR += t->ret;
	if (t->ret > 0)
		a->sRpos += t->ret;
	else if (t->ret < 0)
		a->sRneg += t->ret;
	if (1 + t->ret <= 0)
		a->Rruined = true;
	else
		a->slogR += log(1 + t->ret);
	if (t->ret > a->best)
		a->best = t->ret;
	if (t->ret < a->worst)
		a->worst = t->ret;
	a->sdur += (double)(t->t_out - t->t_in);
	if ((double)(t->t_out - t->t_in) > a->mdur)
		a->mdur = (double)(t->t_out - t->t_in);
	a->fees += t->fees;
	/* Exposure: bars [entry, exit], each counted once. */
	from = t->bar_in > a->covered ? t->bar_in : a->covered;
	if (t->bar_out + 1 > from)
		a->expo += t->bar_out + 1 - from;
	if (t->bar_out + 1 > a->covered)
		a->covered = t->bar_out + 1;
}

static double
roundup(double ms, int64_t to)
{
	return to > 0 && isfinite(ms) ? ceil(ms / (double)to) * (double)to :
	    ms;
}

const char *const bt_metric_names[BT_NMETRIC] = {
	"duration_days", "exposure_pct", "equity_final", "equity_peak",
	"return_pct", "buy_hold_return_pct", "return_ann_pct",
	"volatility_ann_pct", "cagr_pct", "sharpe", "sortino", "calmar",
	"alpha_pct", "beta", "max_drawdown_pct", "avg_drawdown_pct",
	"max_drawdown_duration_days", "avg_drawdown_duration_days", "trades",
	"win_rate_pct", "best_trade_pct", "worst_trade_pct", "avg_trade_pct",
	"max_trade_duration_days", "avg_trade_duration_days", "profit_factor",
	"expectancy_pct", "sqn", "kelly", "commissions", "periods_per_year",
};

int
bt_metric_index(const char *name)
{
	int k;

	for (k = 0; k < BT_NMETRIC; k++)
		if (strcmp(bt_metric_names[k], name) == 0)
			return k;
	return -1;
}

/*
 * The metrics, backtesting.py's set; the formulas are in bt-backtest(1),
 * METRICS.  Percentages are in percent.
 */
void
bt_metrics_calc(const struct acc *a0, const struct mctx *m,
    double v[BT_NMETRIC])
{
	struct acc a = *a0;
	const struct tacc *t = &a0->tr;
	double ret, g, rann, var, vol, years, w, nt = (double)t->nt, sd;

	if (a.nb > 0 && a.ilast > a.z + 1)
		bt_dd_period(&a, a.ilast);
	if (a.nb > 0 && 1 - a.mine / a.peak > a.maxdd)
		a.maxdd = 1 - a.mine / a.peak;
	ret = (a.elast - a.e0) / a.e0;
	g = a.nr == 0 ? NAN : a.ruined ? 0 :
	    exp(log(a.eprev / a.rfirst) / (double)a.nr) - 1;
	rann = pow(1 + g, m->A) - 1;
	var = a.nr > 1 ? (a.sr2 - a.sr * a.sr / (double)a.nr) /
	    (double)(a.nr - 1) : NAN;
	if (var < 0)
		var = 0;
	vol = sqrt(pow(var + (1 + g) * (1 + g), m->A) - pow(1 + g, 2 * m->A));
	years = (double)((m->t1 - m->t0) / 1000) / 86400 / 365.25;
	w = nt > 0 ? (double)t->nwin / nt : NAN;
	sd = t->nt > 1 ? sqrt(fmax(0, (t->sp2 - t->sp * t->sp / nt) /
	    (nt - 1))) : NAN;

	v[BT_M_DURATION] = (double)(m->t1 - m->t0) / BT_DAY_MS;
	v[BT_M_EXPOSURE] = m->nbars ? (double)t->expo / (double)m->nbars *
	    100 : NAN;
	v[BT_M_EQFINAL] = a.elast;
	v[BT_M_EQPEAK] = a.peak;
	v[BT_M_RETURN] = ret * 100;
	v[BT_M_BH] = m->bh * 100;
	v[BT_M_RANN] = rann * 100;
	v[BT_M_VOL] = vol * 100;
	v[BT_M_CAGR] = years > 0 ? (pow(a.elast / a.e0, 1 / years) - 1) * 100 :
	    NAN;
	v[BT_M_SHARPE] = vol != 0 ? rann * 100 / (vol * 100) : NAN;
	v[BT_M_SORTINO] = rann / (sqrt(a.sneg / (double)a.nr) * sqrt(m->A));
	v[BT_M_CALMAR] = a.maxdd != 0 ? rann / a.maxdd : NAN;
	v[BT_M_ALPHA] = m->alpha;
	v[BT_M_BETA] = m->beta;
	v[BT_M_MAXDD] = -a.maxdd * 100;
	v[BT_M_AVGDD] = a.ndd ? -a.sdd / (double)a.ndd * 100 : NAN;
	v[BT_M_MAXDDDUR] = a.ndd ? roundup(a.mddur, m->round_ms) / BT_DAY_MS :
	    NAN;
	v[BT_M_AVGDDDUR] = a.ndd ? roundup(a.sddur / (double)a.ndd,
	    m->round_ms) / BT_DAY_MS : NAN;
	v[BT_M_TRADES] = nt;
	v[BT_M_WIN] = w * 100;
	v[BT_M_BEST] = t->nt ? t->best * 100 : NAN;
	v[BT_M_WORST] = t->nt ? t->worst * 100 : NAN;
	v[BT_M_AVGTRADE] = t->nt ? (t->Rruined ? 0 : exp(t->slogR / nt) - 1) *
	    100 : NAN;
	v[BT_M_MAXTDUR] = t->nt ? roundup(t->mdur, m->round_ms) / BT_DAY_MS :
	    NAN;
	v[BT_M_AVGTDUR] = t->nt ? roundup(t->sdur / nt, m->round_ms) /
	    BT_DAY_MS : NAN;
	/* backtesting.py divides percentage returns; natively, cash. */
	v[BT_M_PF] = m->compat ? (t->sRneg != 0 ? t->sRpos / fabs(t->sRneg) :
	    NAN) : (t->snegp != 0 ? t->spos / fabs(t->snegp) : NAN);
	v[BT_M_EXPECT] = t->nt ? t->sR / nt * 100 : NAN;
	v[BT_M_SQN] = sd != 0 ? sqrt(nt) * (t->sp / nt) / sd : NAN;
	v[BT_M_KELLY] = t->npos && t->nneg ? w - (1 - w) / ((t->spos /
	    (double)t->npos) / (-t->snegp / (double)t->nneg)) : NAN;
	v[BT_M_COMM] = t->fees;
	v[BT_M_PERYEAR] = m->A;
}

json_t *
bt_metrics(const struct acc *a, const struct mctx *m)
{
	json_t *o = json_object();
	double v[BT_NMETRIC];
	char ts[32];
	int k;

	bt_metrics_calc(a, m, v);
	json_object_set_new(o, "start", json_string(bt_fmt_time(m->t0, ts)));
	json_object_set_new(o, "end", json_string(bt_fmt_time(m->t1, ts)));
	for (k = 0; k < BT_NMETRIC; k++) {
		if ((k == BT_M_ALPHA || k == BT_M_BETA) && !m->ab)
			continue;
		json_object_set_new(o, bt_metric_names[k], k == BT_M_TRADES ?
		    json_integer((json_int_t)v[k]) : bt_jnum(v[k]));
	}
	return o;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* backtesting.py's resampling of the equity: 1 (days), 7, 31, 365. */
static int64_t
period_key(int64_t t, int freq)
{
	int64_t d = t >= 0 ? t / BT_DAY_MS : (t - BT_DAY_MS + 1) / BT_DAY_MS;
	time_t sec = (time_t)(d * 86400);
	struct tm tm;

	switch (freq) {
	case 7:
		/* W-SUN: weeks Monday..Sunday; day 0 was a Thursday. */
		return (d + 3 >= 0 ? (d + 3) / 7 : (d + 3 - 6) / 7);
	case 31:
	case 365:
		gmtime_r(&sec, &tm);
		return freq == 31 ? (int64_t)tm.tm_year * 12 + tm.tm_mon :
		    tm.tm_year;
	default:
		return d;
	}
}

/* The last equity of each period (empty periods dropped) as returns. */
void
bt_acc_resampled(struct acc *a, const int64_t *t, const double *e, size_t n,
    int freq)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (i + 1 == n || period_key(t[i], freq) !=
		    period_key(t[i + 1], freq))
			bt_acc_ret(a, e[i]);
}

/*
 * backtesting.py's view of a series: its period is the median spacing of
 * the last 100 bars; daily data count 252 periods a year unless more
 * than 60% of a 7-day week's share of bars fall on weekends (then 365).
 */
void
bt_compat_calendar(const int64_t *t, size_t n, int *freq, double *A,
    int64_t *round_ms)
{
	size_t k = n < 100 ? n : 100, i, m, wk = 0;
	int64_t *d, med, days;

	*freq = 1;
	*A = 365;
	*round_ms = BT_DAY_MS;
	if (k < 2)
		return;
	if ((d = calloc(k - 1, sizeof(*d))) == NULL)
		abort();
	for (i = 0; i + 1 < k; i++)
		d[i] = t[n - k + i + 1] - t[n - k + i];
	qsort(d, k - 1, sizeof(*d), cmp_i64);
	m = k - 1;
	med = m % 2 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2;
	free(d);
	days = med / BT_DAY_MS;
	*round_ms = med % BT_DAY_MS == 0 ? BT_DAY_MS : med % 3600000 == 0 ?
	    3600000 : med % 60000 == 0 ? 60000 : med % 1000 == 0 ? 1000 : 1;
	for (i = 0; i < n; i++) {
		int64_t dd = t[i] >= 0 ? t[i] / BT_DAY_MS :
		    (t[i] - BT_DAY_MS + 1) / BT_DAY_MS;
		if ((((dd + 3) % 7) + 7) % 7 >= 5)
			wk++;
	}
	if (days == 7) {
		*freq = 7;
		*A = 52;
	} else if (days == 31) {
		*freq = 31;
		*A = 12;
	} else if (days == 365) {
		*freq = 365;
		*A = 1;
	} else {
		*freq = 1;
		*A = (double)wk / (double)n > 2.0 / 7 * 0.6 ? 365 : 252;
	}
}

/* backtesting.py's beta: cov(log returns of equity, of close), ddof 1. */
void
bt_alpha_beta(const double *e, const double *c, size_t n, double ret_pct,
    double bh_pct, double *alpha, double *beta)
{
	size_t i, m = n - 1;
	double me = 0, mm = 0, cov = 0, var = 0, le, lm, *l;

	*alpha = *beta = NAN;
	if (n < 3)
		return;
	/* Each log once: they are the most of this function's time. */
	if ((l = calloc(2 * m, sizeof(*l))) == NULL)
		abort();
	for (i = 1; i < n; i++) {
		me += l[i - 1] = log(e[i] / e[i - 1]);
		mm += l[m + i - 1] = log(c[i] / c[i - 1]);
	}
	me /= (double)m;
	mm /= (double)m;
	for (i = 1; i < n; i++) {
		le = l[i - 1] - me;
		lm = l[m + i - 1] - mm;
		cov += le * lm;
		var += lm * lm;
	}
	free(l);
	*beta = (cov / (double)(m - 1)) / (var / (double)(m - 1));
	*alpha = ret_pct - *beta * bh_pct;
}
