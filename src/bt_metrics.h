/*
 * bt_metrics.h - bt_metrics.c owns a backtest's metrics: the accumulator
 * that equity, returns and closed trades feed, backtesting.py's formulas
 * over it (bt-backtest(1), METRICS), and backtesting.py's view of a
 * series' calendar.  The ground of the backtest engine: it needs bt_util
 * and the calendar of bt_bars only, and single runs, sweeps, walk-forward
 * windows and the portfolio all use it.
 */
#ifndef BT_METRICS_H
#define BT_METRICS_H

#include <math.h>

#include "bt_bars.h"

/* A closed trade.  Bars count from the window's first. */
struct trade {
	int64_t		 t_in, t_out;
	size_t		 bar_in, bar_out;
	double		 units, p_in, p_out, cost, pnl, fees, ret;
};

/*
 * The metrics accumulator.  Three feeds: equity per bar (drawdowns), the
 * equity series whose returns are annualised (per bar natively, resampled
 * in the backtesting.py mode), and closed trades.  Nothing per bar is
 * stored, so a sweep keeps no equity curve per combination.
 */
struct tacc {
	size_t		 nt, nwin, npos, nneg, expo, covered;
	double		 sp, sp2, spos, snegp, sR, sRpos, sRneg, slogR;
	double		 best, worst, sdur, mdur, fees;
	bool		 Rruined;
};
struct acc {
	const int64_t	*t;
	/* Equity per bar. */
	size_t		 nb, z, ilast;	/* bars; last zero-drawdown bar; last */
	double		 e0, elast, peak, mine, maxdd;
	size_t		 ndd;
	double		 sdd, sddur, mddur;	/* drawdown periods, ms */
	/* Returns. */
	size_t		 nre, nr;
	double		 rfirst, eprev, sr, sr2, sneg;
	bool		 ruined;
	/* Trades. */
	struct tacc	 tr;
};

/* What bt_metrics() needs besides the accumulator. */
struct mctx {
	double		 A;		/* periods per year */
	int64_t		 t0, t1;	/* first and last bar */
	double		 bh;		/* buy & hold, fraction */
	double		 alpha, beta;	/* NAN: not computed */
	int64_t		 round_ms;	/* durations rounded up (compat) */
	size_t		 nbars;		/* exposure's denominator */
	bool		 compat, ab;	/* alpha and beta printed */
};

/* An accumulator for bar times t (which it reads, never copies). */
void	 bt_acc_init(struct acc *a, const int64_t *t);
void	 bt_tacc_init(struct tacc *a);
/* A drawdown period from the last zero-drawdown bar to bar q. */
void	 bt_dd_period(struct acc *a, size_t q);
/* Bars [i, to) all at the equity of the bar before: returns of zero. */
void	 bt_acc_flat(struct acc *a, size_t i, size_t to, double e);
void	 bt_acc_trade(struct tacc *a, const struct trade *t);
/* The last equity of each period of backtesting.py's resampling. */
void	 bt_acc_resampled(struct acc *a, const int64_t *t, const double *e,
	    size_t n, int freq);

/*
 * Equity at bar i.  A drawdown period runs between two bars whose
 * drawdown is zero (the last bar closes the last one), as backtesting.py
 * counts them; within one the peak is fixed, so the period's deepest
 * point is its lowest equity and no division is needed per bar.  Inline
 * with the next two: the engines call them on every bar.
 */
static inline void
bt_acc_eq(struct acc *a, size_t i, double e)
{
	if (a->nb++ == 0) {
		a->e0 = a->peak = a->mine = e;
		a->z = i;
	} else if (e >= a->peak) {
		if (i > a->z + 1)
			bt_dd_period(a, i);
		a->peak = a->mine = e;
		a->z = i;
	} else if (e < a->mine)
		a->mine = e;
	a->elast = e;
	a->ilast = i;
}

/* The next value of the series whose simple returns are annualised. */
static inline void
bt_acc_ret(struct acc *a, double e)
{
	double r;

	if (a->nre++ == 0) {
		a->rfirst = a->eprev = e;
		return;
	}
	r = e / a->eprev - 1;
	a->eprev = e;
	a->nr++;
	a->sr += r;
	a->sr2 += r * r;
	if (r < 0)
		a->sneg += r * r;
	if (r <= -1)
		a->ruined = true;
}

static inline void
bt_acc_bar(struct acc *a, size_t i, double e)
{
	bt_acc_eq(a, i, e);
	bt_acc_ret(a, e);
}

/* The numeric metrics, in the order of the lines, by index. */
enum {
	BT_M_DURATION, BT_M_EXPOSURE, BT_M_EQFINAL, BT_M_EQPEAK, BT_M_RETURN,
	BT_M_BH, BT_M_RANN, BT_M_VOL, BT_M_CAGR, BT_M_SHARPE, BT_M_SORTINO,
	BT_M_CALMAR, BT_M_ALPHA, BT_M_BETA, BT_M_MAXDD, BT_M_AVGDD,
	BT_M_MAXDDDUR, BT_M_AVGDDDUR, BT_M_TRADES, BT_M_WIN, BT_M_BEST,
	BT_M_WORST, BT_M_AVGTRADE, BT_M_MAXTDUR, BT_M_AVGTDUR, BT_M_PF,
	BT_M_EXPECT, BT_M_SQN, BT_M_KELLY, BT_M_COMM, BT_M_PERYEAR, BT_NMETRIC
};
/* Their names, backtesting.py's in snake case ("sharpe"). */
extern const char *const bt_metric_names[BT_NMETRIC];
/* A metric's index by name; -1 when none is (start and end are none). */
int	 bt_metric_index(const char *name);
/* The metrics as numbers into v (NAN: not defined). */
void	 bt_metrics_calc(const struct acc *a, const struct mctx *m,
	    double v[BT_NMETRIC]);
/* The metrics as a JSON object, backtesting.py's names in snake case. */
json_t	*bt_metrics(const struct acc *a, const struct mctx *m);
/*
 * backtesting.py's calendar of bar times t: the resampling frequency
 * (1 day, 7, 31, 365), periods per year and the rounding of durations.
 */
void	 bt_compat_calendar(const int64_t *t, size_t n, int *freq, double *A,
	    int64_t *round_ms);
/* backtesting.py's alpha and beta of equity e against closes c. */
void	 bt_alpha_beta(const double *e, const double *c, size_t n,
	    double ret_pct, double bh_pct, double *alpha, double *beta);
/* A number for JSON: null when not finite (jansson refuses NaN). */
json_t	*bt_jnum(double v);

#endif /* BT_METRICS_H */
