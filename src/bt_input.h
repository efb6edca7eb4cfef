/*
 * bt_input.h - bt_input.c owns what a backtest reads: a symbol's candles
 * from the store or from files, cut to the window with its warm-up
 * (struct series), the symbols to test, and the signals file.  The
 * backtest engine's other modules read a struct series and nothing else
 * of the input.
 */
#ifndef BT_INPUT_H
#define BT_INPUT_H

#include <stdlib.h>

#include "bt_bars.h"
#include "bt_store.h"

/*
 * A symbol's candles, in the arrays the engine reads: the window is
 * [w0, n), before it the warm-up.
 */
struct series {
	char		 symbol[24];
	int64_t		 iv;		/* bar interval, ms (months: nominal) */
	struct bt_bar	 bar;		/* its size; zeroed: iv, fixed */
	size_t		 n, w0;
	int64_t		*t;		/* open times */
	int64_t		 tclose;	/* close time of the last bar */
	double		*o, *h, *l, *c;
	/*
	 * Prices per `unit' of the symbol, backtesting.py's
	 * FractionalBacktest (--lot in the backtesting.py mode); 0 or 1:
	 * as read.
	 */
	double		 unit;
	bool		 borrowed;	/* the arrays are the input's */
	/* Where the bars came from, for staleness and warnings. */
	char		 src_tf[12];	/* the stored timeframe read */
	struct bt_bars_left left;	/* bins left out when built */
};

struct src;			/* candles read from files, by symbol */

struct input {
	/* The window (bt-backtest(1), THE WINDOW). */
	char		 tf[12];		/* "" or "auto": the files' */
	struct bt_bar	 tfbar;			/* files: tf, given */
	struct bt_bar	 bar;			/* the bars the run tests */
	bool		 resample;		/* files: aggregate to `bar' */
	long		 last, warmup;		/* warmup -1: all history */
	int64_t		 from, to;		/* -1: not given */
	bool		 compat;		/* backtesting.py: no warm-up */
	double		 unit;			/* see struct series */
	/* The store, or the files' candles by symbol. */
	char		*dbpath;
	sqlite3		*db;
	struct bt_series ohlc;			/* reused from pair to pair */
	struct src	*srcs;
	size_t		 nsrc;
	int64_t		 iv;			/* the files' bar interval */
	/* The symbols to test, in order. */
	char		**syms;
	int		 nsyms;
};

/* An input with no window given: the whole history, every bar. */
void	 bt_input_init(struct input *in);
/*
 * Reads candle files ("-": stdin): OHLCV CSV, Binance kline CSV,
 * freqtrade JSON, JSON lines; `symbol' (or NULL) names their symbol.
 * Sets tf from the files when it is "".  0 or an exit code, err saying
 * why.
 */
int	 bt_input_files(struct input *in, char **files, int n,
	    const char *symbol, char *err);
/*
 * The bars the run tests, in->bar: the store's --tf (and in->tf), or
 * with `resample' what the files are aggregated to.  backtesting.py's
 * weeks (in->compat) are pandas' resample('W').  0, or -1 when tf is not
 * a bar size.
 */
int	 bt_input_bar(struct input *in, const char *tf, bool resample);
/* Opens the store read-only.  0 or an exit code. */
int	 bt_input_store(struct input *in, char *err);
/*
 * The signals file ("-": stdin) into *sigs, sorted (bt_parse_signals()):
 * signals for bars that have not closed are refused when candles come
 * from the store.  0 or an exit code.
 */
int	 bt_input_signals(const struct input *in, const char *path,
	    bool shorts, struct bt_signal **sigs, size_t *n, char *err);
/* The symbols: the files', else the signals', else BT_SYMBOLS. */
void	 bt_input_symbols(struct input *in, bool from_signals,
	    const struct bt_signal *sigs, size_t nsig);
/*
 * Symbol k's series in s (which it empties first).  0; 1 when the
 * symbol is absent or too short, err saying why; or an exit code.
 */
int	 bt_input_series(struct input *in, size_t k, struct series *s,
	    char *err);
void	 bt_series_clear(struct series *s);
void	 bt_input_free(struct input *in);

/* The open time of the bar after bar i (its close time + 1). */
int64_t	 bt_series_next(const struct series *s, size_t i);
/* The periods per year of the series' bars (bt_bar_per_year()). */
double	 bt_series_per_year(const struct series *s);

/* A Binance interval name for a bar length ("1h"), else "3600s". */
const char *bt_tf_name(int64_t iv);
/* The series' bar size as a name ("1w"). */
const char *bt_series_tf(const struct series *s);

/* Allocation that cannot fail (the engine's modules all use them). */
static inline void *
bt_xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n ? n : 1, sz)) == NULL)
		abort();
	return p;
}

static inline void *
bt_xrealloc(void *p, size_t n, size_t sz)
{
	if (n != 0 && sz > SIZE_MAX / n)
		abort();
	if ((p = realloc(p, (n * sz) != 0 ? n * sz : 1)) == NULL)
		abort();
	return p;
}

#endif /* BT_INPUT_H */
