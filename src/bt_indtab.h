/*
 * bt_indtab.h - bt_indtab.c owns the indicator table indicadores_tecnico,
 * kept current incrementally, to the bit of a full recomputation.
 */
#ifndef BT_INDTAB_H
#define BT_INDTAB_H

#include "bt_ind.h"
#include "bt_store.h"

/*
 * The indicator table (issue 6): one row per candle of each pair of the
 * indicator timeframes, one column per indicator value, NULL before each
 * indicator's lookback, kept in the store next to the candles as the
 * compact table `ind' under the seed's view `indicadores_tecnico'.  Each
 * pair's streaming states (bt_ind.c) are kept in `ind_state', so new
 * candles resume them; a trigger on `candles' marks a pair dirty when a
 * candle at or before its last computed one is written, and the next
 * update recomputes it from its first candle, rewriting rows from the
 * earliest changed one.  Either way the rows are, to the bit, those of a
 * full recomputation (tests/1220-indicator-table.t).
 */
#define BT_IND_MAXLIST	8
struct bt_ind_spec {
	int	 sma[BT_IND_MAXLIST], nsma;
	int	 ema[BT_IND_MAXLIST], nema;
	int	 rsi[BT_IND_MAXLIST], nrsi;
	int	 atr[BT_IND_MAXLIST], natr;
	int	 bb;			/* period; 0: no Bollinger bands */
	double	 bbk;			/* deviations, up and down */
	int	 mfast, mslow, msig;	/* 0: no MACD */
	char	 text[256];		/* canonical, kept in bt_meta */
};
/* The defaults: SMA 20 50 200, EMA 12 26, RSI 14, BB 20x2, ATR 14, MACD. */
void	 bt_ind_spec_default(struct bt_ind_spec *s);
/* From BT_IND_SMA ... BT_IND_MACD; 0 or BT_EX_CONFIG naming the key. */
int	 bt_ind_spec_conf(struct bt_ind_spec *s, char *err);
/* Creates (or re-creates, dropping rows and states) table and view. */
int	 bt_ind_create(sqlite3 *db, const struct bt_ind_spec *s, char *err);
/* Re-creates them in a transaction of its own when the spec changed. */
int	 bt_ind_prepare(sqlite3 *db, const struct bt_ind_spec *s,
	    bool *changed, char *err);
/* Drops every row and state: the next updates recompute everything. */
int	 bt_ind_reset(sqlite3 *db, char *err);
/* What one update did. */
struct bt_ind_run {
	int64_t	 rows;		/* rows written */
	int64_t	 candles;	/* candles stepped */
	int64_t	 skipped;	/* stored candles that are not prices */
	int64_t	 from;		/* first open time written, -1: none */
	bool	 full;		/* recomputed from the first candle */
	const char *why;	/* why full: "new", "dirty", "state", ... */
};
/* Brings one pair up to date, in a write transaction of its own. */
int	 bt_ind_update(sqlite3 *db, const struct bt_ind_spec *s,
	    const struct bt_pair *p, struct bt_ind_run *r, char *err);
/* Pairs of the timeframes tfs whose rows are missing, behind or dirty. */
int	 bt_ind_pending(sqlite3 *db, char **tfs, int ntfs, bool all,
	    struct bt_pair **out, size_t *n, char *err);

#endif /* BT_INDTAB_H */
