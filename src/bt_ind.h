/*
 * bt_ind.h - bt_ind.c owns the indicators, computed exactly as TA-Lib
 * computes them, as arrays and as streaming states.  Ground: it needs
 * nothing but libm.
 */
#ifndef BT_IND_H
#define BT_IND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Indicators exactly as TA-Lib (0.6.0-dev, as bundled by npm talib 2.0.5)
 * computes them, default compatibility, no unstable period.  Each array
 * function fills out[0..n-1], NAN before its lookback, and returns the
 * lookback (index of the first valid value, TA-Lib's begIndex when
 * computing from index 0), or -1 with every output NAN when n is too short
 * or a parameter is bad.  Periods follow TA-Lib's ranges (2.., 1.. for ATR)
 * capped at BT_IND_MAXPERIOD; a MACD signal period of 1, which TA-Lib
 * accepts but computes wrongly, is refused.  NaN inputs are not skipped:
 * as in TA-Lib they poison running sums from then on.
 *
 * Each has a streaming form: _init() returns the same lookback or -1 (a
 * state whose init failed yields NAN forever), _step() takes one bar and
 * returns NAN until the lookback is reached.  The states are plain data, no
 * pointers, zeroed by _init(): memcpy one (e.g. to a BLOB of sizeof bytes)
 * and stepping the copy on gives the bits a full recomputation gives.  The
 * array functions are loops over the step functions.
 */
#define BT_IND_MAXPERIOD	512

int	 bt_sma(const double *x, size_t n, int period, double *out);
int	 bt_ema(const double *x, size_t n, int period, double *out);
int	 bt_rsi(const double *x, size_t n, int period, double *out);
int	 bt_bbands(const double *x, size_t n, int period, double kup,
	    double kdn, double *up, double *mid, double *lo);
int	 bt_atr(const double *h, const double *l, const double *c, size_t n,
	    int period, double *out);
/* fast > slow is swapped, as TA-Lib does; lookback (slow-1)+(signal-1). */
int	 bt_macd(const double *x, size_t n, int fast, int slow, int signal,
	    double *macd, double *sig, double *hist);
int	 bt_max(const double *x, size_t n, int period, double *out);
int	 bt_min(const double *x, size_t n, int period, double *out);

/*
 * Not TA-Lib's: pandas' rolling mean, pd.Series(x).rolling(period).mean()
 * as pandas 1.5 computes it, the SMA of backtesting.py's mode (its
 * running sum is compensated, so its last bits differ from TA-Lib's).
 */
int	 bt_sma_pandas(const double *x, size_t n, int period, double *out);

/* SMA: running sum, add the new value, then subtract the oldest. */
struct bt_sma_st {
	int	 period;
	int64_t	 n;				/* bars seen */
	double	 sum;
	double	 ring[BT_IND_MAXPERIOD];	/* x[i] at i % period */
};
int	 bt_sma_init(struct bt_sma_st *st, int period);
double	 bt_sma_step(struct bt_sma_st *st, double x);

/* EMA: seeded with the SMA of the first `period' values. */
struct bt_ema_st {
	int	 period;
	int64_t	 n;
	double	 k, sum, prev;
};
int	 bt_ema_init(struct bt_ema_st *st, int period);
double	 bt_ema_step(struct bt_ema_st *st, double x);

/* RSI: Wilder smoothing seeded with plain means; 0 when gain+loss ~ 0. */
struct bt_rsi_st {
	int	 period;
	int64_t	 n;
	double	 prev, gain, loss;
};
int	 bt_rsi_init(struct bt_rsi_st *st, int period);
double	 bt_rsi_step(struct bt_rsi_st *st, double x);

/* BBANDS over an SMA: population deviation from running sums of x, x^2. */
struct bt_bbands_st {
	int	 period;
	int64_t	 n;
	double	 kup, kdn, sum, sum2;
	double	 ring[BT_IND_MAXPERIOD];
};
int	 bt_bbands_init(struct bt_bbands_st *st, int period, double kup,
	    double kdn);
void	 bt_bbands_step(struct bt_bbands_st *st, double x, double *up,
	    double *mid, double *lo);

/* ATR: true range from bar 1, SMA seed, then Wilder; period 1 is TRANGE. */
struct bt_atr_st {
	int	 period;
	int64_t	 n;
	double	 prevc, sum, atr;
};
int	 bt_atr_init(struct bt_atr_st *st, int period);
double	 bt_atr_step(struct bt_atr_st *st, double h, double l, double c);

/* MACD: fast and slow EMAs seeded on windows ending on the same bar. */
struct bt_macd_st {
	int	 fast, slow, signal;
	int64_t	 n;
	struct bt_ema_st fe, se, sg;
};
int	 bt_macd_init(struct bt_macd_st *st, int fast, int slow, int signal);
void	 bt_macd_step(struct bt_macd_st *st, double x, double *macd,
	    double *sig, double *hist);

/* MAX and MIN over the last `period' values, TA-Lib's rescan included. */
struct bt_max_st {
	int	 period;
	int64_t	 n, best_i;
	double	 best;
	double	 ring[BT_IND_MAXPERIOD];
};
int	 bt_max_init(struct bt_max_st *st, int period);
double	 bt_max_step(struct bt_max_st *st, double x);
struct bt_min_st {
	int	 period;
	int64_t	 n, best_i;
	double	 best;
	double	 ring[BT_IND_MAXPERIOD];
};
int	 bt_min_init(struct bt_min_st *st, int period);
double	 bt_min_step(struct bt_min_st *st, double x);

#endif /* BT_IND_H */
