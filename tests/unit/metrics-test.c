/*
 * metrics-test.c - bt_metrics.c on a known equity curve: every metric of
 * bt-backtest(1), METRICS, against an independent computation from whole
 * arrays; the values that are not defined; the flat-bar shortcut the
 * engine's hot loop takes; backtesting.py's calendar and resampling.
 *
 * usage: metrics-test [-q] [-o offset]
 *
 * The expected values come from the Python below (python3; its output is
 * pasted into want[]): two-pass variance, drawdowns from the running
 * peak, periods between zero-drawdown bars, where the accumulator keeps
 * running sums.  Agreement is to 1e-9 relative, as native-ref.py asks.
 *
 *	import math
 *	D = 86400000
 *	T0 = 1600041600000			# 2020-09-14T00:00:00Z, a Monday
 *	E = [100, 110, 105, 120, 90, 95, 130, 125, 128, 126]
 *	t = [T0 + i * 7 * D for i in range(10)]	# weekly bars
 *	A = 365 / 7
 *	# trades: (P, R, entry bar, exit bar, entry time, exit time, fees)
 *	T = [(15, 0.15, 1, 3, t[1], t[3], 1), (-30, -0.25, 3, 5, t[3], t[5], 2),
 *	     (36, 0.30, 5, 9, t[5], t[9] + 7 * D, 3)]
 *	r = [E[i] / E[i - 1] - 1 for i in range(1, len(E))]
 *	n = len(r)
 *	g = math.exp(sum(math.log(1 + x) for x in r) / n) - 1
 *	rann = (1 + g) ** A - 1
 *	mu = sum(r) / n
 *	var = sum((x - mu) ** 2 for x in r) / (n - 1)
 *	vol = math.sqrt((var + (1 + g) ** 2) ** A - (1 + g) ** (2 * A))
 *	years = ((t[-1] - t[0]) // 1000) / 86400 / 365.25
 *	peak, dd = [], []
 *	for e in E:
 *	    peak.append(max(peak[-1], e) if peak else e)
 *	    dd.append(1 - e / peak[-1])
 *	zero = [i for i in range(len(E)) if dd[i] == 0] + [len(E) - 1]
 *	per = [(p, q) for p, q in zip(zero, zero[1:]) if q > p + 1]
 *	depth = [max(dd[p:q + 1]) for p, q in per]
 *	dur = [(t[q] - t[p]) / D for p, q in per]
 *	P = [x[0] for x in T]; R = [x[1] for x in T]
 *	w = sum(1 for p in P if p > 0) / len(P)
 *	mp = sum(P) / len(P)
 *	sdp = math.sqrt(sum((p - mp) ** 2 for p in P) / (len(P) - 1))
 *	win = [p for p in P if p > 0]; los = [p for p in P if p < 0]
 *	covered = set()
 *	for x in T:
 *	    covered.update(range(x[2], x[3] + 1))
 *	m = {"duration_days": (t[-1] - t[0]) / D,
 *	 "exposure_pct": len(covered) / len(E) * 100,
 *	 "equity_final": E[-1], "equity_peak": max(E),
 *	 "return_pct": (E[-1] - E[0]) / E[0] * 100,
 *	 "buy_hold_return_pct": 20.0,		# given, not computed
 *	 "return_ann_pct": rann * 100, "volatility_ann_pct": vol * 100,
 *	 "cagr_pct": ((E[-1] / E[0]) ** (1 / years) - 1) * 100,
 *	 "sharpe": rann / vol,
 *	 "sortino": rann / (math.sqrt(sum(min(x, 0) ** 2 for x in r) / n) *
 *	     math.sqrt(A)),
 *	 "calmar": rann / max(dd),
 *	 "max_drawdown_pct": -max(dd) * 100,
 *	 "avg_drawdown_pct": -sum(depth) / len(depth) * 100,
 *	 "max_drawdown_duration_days": max(dur),
 *	 "avg_drawdown_duration_days": sum(dur) / len(dur),
 *	 "trades": len(T), "win_rate_pct": w * 100,
 *	 "best_trade_pct": max(R) * 100, "worst_trade_pct": min(R) * 100,
 *	 "avg_trade_pct": (math.exp(sum(math.log(1 + x) for x in R) /
 *	     len(R)) - 1) * 100,
 *	 "max_trade_duration_days": max((x[5] - x[4]) / D for x in T),
 *	 "avg_trade_duration_days": sum((x[5] - x[4]) / D for x in T) / len(T),
 *	 "profit_factor": sum(win) / abs(sum(los)),
 *	 "expectancy_pct": sum(R) / len(R) * 100,
 *	 "sqn": math.sqrt(len(P)) * mp / sdp,
 *	 "kelly": w - (1 - w) / ((sum(win) / len(win)) /
 *	     abs(sum(los) / len(los))),
 *	 "commissions": sum(x[6] for x in T), "periods_per_year": A}
 *	for k, v in m.items():
 *	    print('\t{ "%s", %r },' % (k, v))
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include "bt_metrics.h"
#include "tap.h"

#define D	86400000LL
#define T0	1600041600000LL		/* 2020-09-14T00:00:00Z, a Monday */
#define NB	10

static const struct {
	const char	*key;
	double		 v;
} want[] = {
	{ "duration_days", 63.0 },
	{ "exposure_pct", 90.0 },
	{ "equity_final", 126 },
	{ "equity_peak", 130 },
	{ "return_pct", 26.0 },
	{ "buy_hold_return_pct", 20.0 },
	{ "return_ann_pct", 281.51523773670937 },
	{ "volatility_ann_pct", 650.8745626367555 },
	{ "cagr_pct", 281.86528967137906 },
	{ "sharpe", 0.4325184204407437 },
	{ "sortino", 4.542586714637677 },
	{ "calmar", 11.260609509468376 },
	{ "max_drawdown_pct", -25.0 },
	{ "avg_drawdown_pct", -11.130536130536129 },
	{ "max_drawdown_duration_days", 21.0 },
	{ "avg_drawdown_duration_days", 18.666666666666668 },
	{ "trades", 3 },
	{ "win_rate_pct", 66.66666666666666 },
	{ "best_trade_pct", 30.0 },
	{ "worst_trade_pct", -25.0 },
	{ "avg_trade_pct", 3.8885023016595355 },
	{ "max_trade_duration_days", 35.0 },
	{ "avg_trade_duration_days", 21.0 },
	{ "profit_factor", 1.7 },
	{ "expectancy_pct", 6.666666666666667 },
	{ "sqn", 0.35956584785625983 },
	{ "kelly", 0.27450980392156854 },
	{ "commissions", 6 },
	{ "periods_per_year", 52.142857142857146 },
};

static int64_t	 t[NB];
static const double E[NB] = { 100, 110, 105, 120, 90, 95, 130, 125, 128,
    126 };

#define check_rel(got, want, what)	check_tol(got, want, 1e-9, what)

static struct mctx
context(void)
{
	struct mctx mc;

	memset(&mc, 0, sizeof(mc));
	mc.A = 365.0 / 7;
	mc.t0 = t[0];
	mc.t1 = t[NB - 1];
	mc.bh = 0.2;
	mc.nbars = NB;
	mc.alpha = mc.beta = NAN;
	return mc;
}

static void
trade(struct tacc *a, double pnl, double ret, size_t in, size_t out,
    int64_t t_out, double fees)
{
	struct trade tr;

	memset(&tr, 0, sizeof(tr));
	tr.pnl = pnl;
	tr.ret = ret;
	tr.bar_in = in;
	tr.bar_out = out;
	tr.t_in = t[in];
	tr.t_out = t_out;
	tr.fees = fees;
	bt_acc_trade(a, &tr);
}

/* The curve, the three trades: every metric. */
static void
test_curve(void)
{
	struct acc a;
	struct mctx mc = context();
	json_t *m, *v;
	size_t i;

	bt_acc_init(&a, t);
	for (i = 0; i < NB; i++)
		bt_acc_bar(&a, i, E[i]);
	trade(&a.tr, 15, 0.15, 1, 3, t[3], 1);
	trade(&a.tr, -30, -0.25, 3, 5, t[5], 2);
	trade(&a.tr, 36, 0.30, 5, 9, t[9] + 7 * D, 3);
	m = bt_metrics(&a, &mc);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		v = json_object_get(m, want[i].key);
		if (!json_is_number(v))
			check(0, "%s is a number", want[i].key);
		else
			check_rel(json_number_value(v), want[i].v, want[i].key);
	}
	check(strcmp(json_string_value(json_object_get(m, "start")),
	    "2020-09-14T00:00:00Z") == 0 && strcmp(json_string_value(
	    json_object_get(m, "end")), "2020-11-16T00:00:00Z") == 0,
	    "start and end are the first and last bar's times");
	check(json_object_get(m, "alpha_pct") == NULL &&
	    json_object_get(m, "beta") == NULL,
	    "alpha and beta only where asked for");
	check(json_object_size(m) == sizeof(want) / sizeof(want[0]) + 2,
	    "no other keys (%zu)", json_object_size(m));
	json_decref(m);
	mc.ab = true;
	mc.alpha = 1.5;
	mc.beta = NAN;
	m = bt_metrics(&a, &mc);
	check(json_real_value(json_object_get(m, "alpha_pct")) == 1.5 &&
	    json_is_null(json_object_get(m, "beta")),
	    "alpha and beta printed when asked for, null when not finite");
	json_decref(m);
}

/* A curve that never moves and no trade: what is undefined is null. */
static void
test_undefined(void)
{
	static const char *nulls[] = { "sharpe", "calmar", "avg_drawdown_pct",
	    "max_drawdown_duration_days", "win_rate_pct", "best_trade_pct",
	    "avg_trade_pct", "profit_factor", "expectancy_pct", "sqn",
	    "kelly" };
	struct acc a;
	struct mctx mc = context();
	json_t *m;
	size_t i;
	int all = 1;

	bt_acc_init(&a, t);
	for (i = 0; i < NB; i++)
		bt_acc_bar(&a, i, 100);
	m = bt_metrics(&a, &mc);
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!json_is_null(json_object_get(m, nulls[i]))) {
			all = 0;
			diag("%s is not null", nulls[i]);
		}
	check(all, "no volatility, no drawdown, no trade: those are null");
	check(json_integer_value(json_object_get(m, "trades")) == 0 &&
	    json_real_value(json_object_get(m, "max_drawdown_pct")) == 0 &&
	    json_real_value(json_object_get(m, "return_ann_pct")) == 0,
	    "0 trades, a drawdown of 0, a return of 0");
	json_decref(m);
}

/*
 * The engine's hot loop feeds a flat stretch (no position) as one bar
 * and bt_acc_flat() for the rest: the metrics are the same bits as bar
 * by bar.
 */
static void
test_flat(void)
{
	static const double F[NB] = { 100, 100, 100, 105, 105, 105, 105, 103,
	    103, 108 };
	struct acc a, b;
	struct mctx mc = context();
	json_t *ma, *mb;
	char *sa, *sb;
	size_t i;

	bt_acc_init(&a, t);
	for (i = 0; i < NB; i++)
		bt_acc_bar(&a, i, F[i]);
	bt_acc_init(&b, t);
	bt_acc_bar(&b, 0, 100);
	bt_acc_flat(&b, 1, 3, 100);
	bt_acc_bar(&b, 3, 105);
	bt_acc_flat(&b, 4, 7, 105);
	bt_acc_bar(&b, 7, 103);
	bt_acc_flat(&b, 8, 9, 103);
	bt_acc_bar(&b, 9, 108);
	ma = bt_metrics(&a, &mc);
	mb = bt_metrics(&b, &mc);
	sa = json_dumps(ma, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	sb = json_dumps(mb, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	check(sa != NULL && sb != NULL && strcmp(sa, sb) == 0,
	    "flat stretches through bt_acc_flat(): the same metrics");
	check_rel(json_real_value(json_object_get(ma, "max_drawdown_pct")),
	    -(1 - 103.0 / 105) * 100, "flat: the drawdown of bars 7 and 8");
	free(sa);
	free(sb);
	json_decref(ma);
	json_decref(mb);
}

/*
 * backtesting.py's calendar: daily bars count 365 periods a year when
 * weekends trade (2 of these 10 days), 252 when not; hourly bars are
 * resampled to days, the last equity of each day.
 */
static void
test_calendar(void)
{
	int64_t d[NB], w[NB], h[48];
	double e[48], A;
	int64_t round_ms;
	struct acc a;
	size_t i, k;
	int freq;

	for (i = 0; i < NB; i++)
		d[i] = T0 + (int64_t)i * D;
	for (i = k = 0; k < NB; i++)
		if ((i % 7) < 5)		/* Monday to Friday */
			w[k++] = T0 + (int64_t)i * D;
	bt_compat_calendar(d, NB, &freq, &A, &round_ms);
	check(freq == 1 && A == 365 && round_ms == D,
	    "calendar: every day trades: days, 365 a year");
	bt_compat_calendar(w, NB, &freq, &A, &round_ms);
	check(freq == 1 && A == 252 && round_ms == D,
	    "calendar: weekdays only: days, 252 a year");
	for (i = 0; i < 48; i++) {
		h[i] = T0 + (int64_t)i * 3600000;
		e[i] = 100 + (double)i;
	}
	bt_compat_calendar(h, 48, &freq, &A, &round_ms);
	check(freq == 1 && round_ms == 3600000,
	    "calendar: hourly bars resample to days, durations in hours");
	bt_acc_init(&a, h);
	bt_acc_resampled(&a, h, e, 48, freq);
	check(a.nre == 2 && a.nr == 1 && near(a.sr, 147.0 / 123 - 1),
	    "resampled: two days, one return, 147 / 123 - 1");
}

int
main(int argc, char *argv[])
{
	size_t i;

	tap_args(argc, argv, "metrics-test");
	for (i = 0; i < NB; i++)
		t[i] = T0 + (int64_t)i * 7 * D;
	test_curve();
	test_undefined();
	test_flat();
	test_calendar();
	return tap_done();
}
