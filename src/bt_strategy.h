/*
 * bt_strategy.h - bt_strategy.c owns the strategies (bt-backtest(1),
 * STRATEGIES): their table of parameters, the indicators they read, and
 * the events they emit on a bar's close, external signals included.  It
 * decides; the engine (bt_engine.c) fills.
 */
#ifndef BT_STRATEGY_H
#define BT_STRATEGY_H

#include "bt_input.h"

#define BT_MAXPAR	3
#define BT_MAXIND	4

enum strat { S_SMA, S_EMA, S_RSI, S_BBANDS, S_DONCHIAN, S_HOLD, S_SIGNALS };

struct stratdef {
	const char	*name;
	int		 npar;
	const char	*par[BT_MAXPAR];
	double		 def[BT_MAXPAR], min[BT_MAXPAR], max[BT_MAXPAR];
	unsigned	 integer;	/* bit i: parameter i is whole */
	int		 nind;
	const char	*ind[BT_MAXIND];	/* the equity file's columns */
};
extern const struct stratdef bt_strats[];

/* Events a strategy emits on a bar's close. */
enum { EV_XLONG = 1, EV_XSHORT, EV_LONG, EV_SHORT, EV_TARGET };
struct ev {
	uint32_t	 bar;
	uint32_t	 kind;
	double		 target;	/* EV_TARGET only */
};

struct indc;			/* a cached indicator array */

/* A strategy, its parameters and its working memory. */
struct strategy {
	enum strat	 id;
	double		 par[BT_MAXPAR];	/* a single run's */
	bool		 pandas;	/* SMA as pandas' (backtesting.py mode) */
	/* S_SIGNALS: the signals file, sorted (bt_parse_signals()). */
	const char	*sigfile;
	struct bt_signal *sigs;
	size_t		 nsig, sig_matched;	/* matched: name a bar */
	size_t		 sig_early;		/* before the loaded data */
	size_t		 sig_nosym;		/* no symbol with candles */
	/* Scratch, reused from symbol to symbol. */
	struct ev	*ev;
	size_t		 nev, evcap;
	struct indc	*cache;
	size_t		 ncache, cachecap;
	uint64_t	 gen;		/* bumped by every reader */
};

/* The strategy named so with its default parameters; -1 when none is. */
int	 bt_strategy_set(struct strategy *st, const char *name);
/* Parameters: key=value; a key's index (-1: none); a checked value. */
int	 bt_set_param(struct strategy *st, const char *kv, char *err);
int	 bt_par_index(const struct strategy *st, const char *key, size_t len);
int	 bt_par_value(const struct strategy *st, int i, const char *s,
	    double *v, char *err);
/* A combination worth running: crossovers need fast < slow, etc. */
bool	 bt_params_ok(enum strat id, const double *par);
/* The index of a strategy's first valid indicator value. */
size_t	 bt_lookback(enum strat id, const double *par);

/*
 * The events of the bars from `from' on, sorted by bar, in st->ev[0..
 * st->nev).  0, or an exit code when a signal is refused (err says why).
 */
int	 bt_events(struct strategy *st, const struct series *s,
	    const double *par, size_t from, char *err);
/* The indicator columns of the equity file; *shift: read at bar i - 1. */
int	 bt_ind_cols(struct strategy *st, const struct series *s,
	    const double *par, const double *col[BT_MAXIND], int *shift);
/* How many signals name symbol sym. */
size_t	 bt_signals_of(const struct strategy *st, const char *sym);
/*
 * How many signals name none of syms[0..n); those symbols' names, the
 * first few, comma-separated into names[0..len).
 */
size_t	 bt_signals_without(const struct strategy *st, char *const *syms,
	    int n, char *names, size_t len);
/* Forgets the cached indicators (the next symbol's differ). */
void	 bt_strategy_reset(struct strategy *st);
void	 bt_strategy_free(struct strategy *st);

#endif /* BT_STRATEGY_H */
