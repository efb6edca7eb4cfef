/*
 * bt_engine.h - bt_engine.c owns the execution model (bt-backtest(1),
 * EXECUTION): orders, fills, positions and trades, natively and as
 * backtesting.py's broker does them, and the simulation of one parameter
 * set on one series into the metrics accumulator.  It stands on the
 * strategies (what to do) and the metrics (what came of it).
 */
#ifndef BT_ENGINE_H
#define BT_ENGINE_H

#include "bt_metrics.h"
#include "bt_strategy.h"

/*
 * How orders fill: fee and slip are fractions of the value and the
 * price, fixed is cash per fill (backtesting.py's commission=(fixed,
 * fee)).  In the backtesting.py mode lot is FractionalBacktest's unit.
 */
struct exec {
	double		 cash, fee, slip, size, lot, fixed;
	bool		 shorts, compat;
};

/* The execution options the command line gave (bt_exec_conf()). */
#define BT_GIVEN_FEE	0x01
#define BT_GIVEN_SLIP	0x02
#define BT_GIVEN_SIZE	0x04
#define BT_GIVEN_LOT	0x08
#define BT_GIVEN_FIXED	0x10

/* A simulation's outputs; those that are NULL are not kept. */
struct simout {
	struct acc	*acc;
	double		*eq;		/* equity per window bar, or NULL */
	double		*pos;		/* units per window bar, or NULL */
	struct trade	*tr;		/* closed trades, or NULL: not kept */
	size_t		 ntr, trcap;
	bool		 has_sig;	/* the latest change of target */
	int64_t		 sig_t;
	double		 sig_pos;
	size_t		 unfilled;	/* orders too small for one lot */
};

/*
 * The execution settings of the configuration (BACKTEST_CASH, _SIZE,
 * _LOT, _FEE_BPS, _FEE_FIXED, _SLIPPAGE_BPS, _SHORT); `shorts' -1 leaves
 * BACKTEST_SHORT its say.  The backtesting.py mode takes backtesting.py's
 * defaults (no fee, no spread, all in, whole units) for every one of
 * fee, slippage, size, lot and fixed fee that `given' (BT_GIVEN_*) does
 * not name: there the configuration's keys do not apply.
 */
void	 bt_exec_conf(struct exec *ex, bool compat, unsigned given,
	    int shorts);
/* "native" or "backtesting.py", as lines and the results file say. */
const char *bt_exec_mode(const struct exec *ex);

/*
 * The native engine over the window [s->w0, s->n): events on a bar's
 * close fill at the next bar's open; bars are marked at their close; an
 * open position is closed at the last bar's close.  so->eq and so->pos,
 * when kept, hold one value per window bar.
 */
void	 bt_sim_native(const struct series *s, const struct ev *ev,
	    size_t nev, const struct exec *ex, struct simout *so);
/*
 * backtesting.py's broker over the whole series, deciding from bar
 * `start'; so->eq must hold s->n values, and the caller feeds the
 * accumulator (bt_simulate() does).  A decision on the last bar fills at
 * its open after the open trades are closed there (finalize_trades), and
 * the trade it opens stays open: counted in the equity, not in the trades.
 */
void	 bt_sim_compat(const struct series *s, const struct ev *ev,
	    size_t nev, const struct exec *ex, size_t start,
	    struct simout *so);
/*
 * One parameter set on one series: the strategy's events, the engine
 * of ex's mode, so->acc fed and *mc set for bt_metrics().  0, or an exit
 * code when the strategy refuses a signal (err says why).
 */
int	 bt_simulate(struct strategy *st, const struct exec *ex,
	    const struct series *s, const double *par, struct simout *so,
	    struct mctx *mc, char *err);

#endif /* BT_ENGINE_H */
