/*
 * bt_bars.h - bt_bars.c owns bar sizes (bt-backtest(1), BAR SIZES): a
 * size's name ("2h", "3d", "1w", "1M"), the bin a time falls in, which
 * intervals build it, its periods per year, and the aggregation of bars
 * into bins (open first, high max, low min, close last, volume summed).
 * The ground of the backtest's input: it needs bt_util and the candle of
 * bt_parse.h only.
 */
#ifndef BT_BARS_H
#define BT_BARS_H

#include "bt_parse.h"

#define BT_DAY_MS	86400000LL
/* A month's nominal length, 365.2425 / 12 days (months are calendar). */
#define BT_MONTH_MS	2629746000LL

/*
 * A bar size.  Bins are left-closed and labelled by their open time:
 * calendar months from the 1st, weeks from Monday 00:00 UTC, any other
 * size aligned to the Unix epoch.  `wsun' is pandas' resample('W'): bins
 * (Sunday 00:00, Sunday 00:00], labelled by their Monday, which for daily
 * bars are the same Monday-to-Sunday weeks.
 */
struct bt_bar {
	int64_t		 ms;		/* length; months: 0 */
	int		 months;	/* 1M, 3M: calendar months, else 0 */
	bool		 week;		/* 1w, 2w: from Mondays */
	bool		 wsun;		/* pandas' W-SUN (the compat mode) */
	char		 name[12];	/* canonical: "1h", not "60m" */
};

/* A bar size from its name (N then m, h, d, w or M).  0 or -1. */
int	 bt_bar_parse(const char *s, struct bt_bar *b);
/* The bar of a fixed length in ms, named as Binance names it if it can. */
void	 bt_bar_of_ms(int64_t ms, struct bt_bar *b);
/* The open time (label) of the bin that holds time t. */
int64_t	 bt_bar_start(const struct bt_bar *b, int64_t t);
/* The open time of the bin after the one that opened at `start'. */
int64_t	 bt_bar_next(const struct bt_bar *b, int64_t start);
/* The close time of the bin that opened at `start' (its last ms). */
int64_t	 bt_bar_close(const struct bt_bar *b, int64_t start);
/* True when bars of interval iv (epoch-aligned) fill every bin whole. */
bool	 bt_bar_divides(const struct bt_bar *b, int64_t iv);
/*
 * Periods per year: 365 days over the length; weeks and months are the
 * calendar's, 52.1775 (365.2425 / 7) and 12 a year.
 */
double	 bt_bar_per_year(const struct bt_bar *b);

/* What an aggregation left out. */
struct bt_bars_left {
	size_t		 incomplete;	/* bins with a bar missing */
	int64_t		 first_incomplete;
	size_t		 open;		/* bins that have not closed by now */
};
/*
 * Aggregates candles c[0..n) (sorted, of interval iv) into bins of b,
 * out (which must hold n): open first, high max, low min, close last,
 * volume summed, each bin's close time set.  With `whole', a bin with
 * fewer bars than its length over iv is left out (a 24/7 market's
 * missing candle); a bin that closes after `now' is always left out.
 * Returns the count of bins kept.
 */
size_t	 bt_bars_make(const struct bt_candle *c, size_t n, int64_t iv,
	    const struct bt_bar *b, bool whole, int64_t now,
	    struct bt_candle *out, struct bt_bars_left *left);

#endif /* BT_BARS_H */
