/*
 * bt_sweep.h - bt_sweep.c owns the work of a backtest (struct run): the
 * grid of parameter combinations (--grid) and this shard's share of the
 * (symbol, combination) items (--shard); a single run of one symbol, kept
 * whole for the portfolio and the results file; a sweep's combinations
 * on one symbol, a line each; and the portfolio.  The combinations are
 * walked, never held.  The walk-forward plan lives here (struct walk),
 * its work in bt_walk.c.
 */
#ifndef BT_SWEEP_H
#define BT_SWEEP_H

#include "bt_report.h"

/* A symbol's outcome, kept for the portfolio and the results file. */
struct symres {
	char		 symbol[24];
	json_t		*metrics;
	int64_t		*t;
	double		*e;		/* equity at the times t */
	size_t		 n;
	double		 bh, expo;
	bool		 has_sig, passed;
	int64_t		 sig_t;
	double		 sig_pos;
	json_t		*reasons;
};

/* A walk-forward plan (--walk-forward, bt_walk.c), in bars. */
struct walk {
	bool		 on, anchored;
	size_t		 train, test, step, gap;
	int		 objective;		/* BT_M_* */
	size_t		*nwin;			/* windows per symbol: shards */
	size_t		 nitems;		/* their sum */
	size_t		 lines;			/* window lines printed */
};

/* One backtest: what to run, on what, and what came of it so far. */
struct run {
	struct strategy	 st;
	struct exec	 ex;
	struct input	 in;
	/* A sweep: grid[g] varies parameter gpar[g] over gv[g][0..gn[g]). */
	int		 ngrid, gpar[BT_MAXPAR];
	size_t		 gn[BT_MAXPAR];
	double		*gv[BT_MAXPAR];
	size_t		 ncombo;		/* valid: none kept */
	long		 shard_k, shard_n;
	bool		 sharded;		/* --shard given */
	bool		 sweep;			/* combo lines, no portfolio */
	struct walk	 walk;
	bool		 quiet;
	/* Outputs. */
	FILE		*trades_fp, *equity_fp;
	struct symres	*res;
	size_t		 nres;
	struct tacc	 ptr;			/* the portfolio's trades */
	/* The portfolio's curve, kept with keep_curve (the job's file). */
	bool		 keep_curve;
	int64_t		*pt;
	double		*pe, *ps;		/* equity; by symbol, nres x np */
	size_t		 np;
	/* Totals. */
	uint64_t	 bar_steps;
	double		 sim_secs;
	size_t		 done, skipped, unfilled;
	int64_t		 data_from, data_to;	/* -1: none yet */
};

void	 bt_run_init(struct run *r);
void	 bt_run_free(struct run *r);

/* One axis of the grid: key=from..to[/step] or key=a,b,c.  0 or -1. */
int	 bt_grid_add(struct run *r, const char *spec, char *err);
/*
 * The combinations worth running, the last --grid varying fastest: only
 * counted (r->ncombo), never kept, so a grid of any size costs no memory.
 */
void	 bt_grid_combos(struct run *r);
/* A combination: its place on each axis and its parameters. */
struct combo {
	size_t		 idx[BT_MAXPAR];
	double		 par[BT_MAXPAR];
};
/* The c-th valid combination (from 0, grid order); false: none. */
bool	 bt_combo_at(const struct run *r, size_t c, struct combo *it);
/* The valid combination after `it'; false: it was the last. */
bool	 bt_combo_next(const struct run *r, struct combo *it);
/* Symbol si's combinations [*c0, *c1) in this shard; false: none. */
bool	 bt_sweep_share(const struct run *r, size_t si, size_t *c0,
	    size_t *c1);

/*
 * One symbol, the run's parameters: its `symbol' line, the --trades and
 * --equity rows, its outcome kept.  0 or an exit code (err says why).
 */
int	 bt_run_symbol(struct run *r, const struct series *s, char *err);
/* One symbol, combinations [c0, c1): a `combo' line each. */
int	 bt_run_combos(struct run *r, const struct series *s, size_t c0,
	    size_t c1, char *err);
/*
 * The portfolio of the kept outcomes: its line and --equity rows; its
 * metrics (the caller's), or NULL when no symbol was run.  With
 * r->keep_curve its equity per time, total and by symbol, stays in r.
 */
json_t	*bt_portfolio(struct run *r);

#endif /* BT_SWEEP_H */
