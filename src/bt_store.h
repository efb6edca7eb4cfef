/*
 * bt_store.h - bt_store.c owns the store's pairs and candles: the compact
 * layout, writing candles, and the one loader.
 */
#ifndef BT_STORE_H
#define BT_STORE_H

#include "bt_db.h"
#include "bt_parse.h"

/* A (symbol, timeframe) of the store, with its decimal scales. */
struct bt_pair {
	int64_t	 id;		/* 0: not in the store */
	int64_t	 iv;		/* interval, ms */
	double	 dp, dv, dq;	/* 10^k of prices, volumes, quote volumes */
	char	 symbol[24], tf[8];
};
/* Finds a pair; with `create', adds it, scaled to fit the candles c. */
int	 bt_pair_get(sqlite3 *db, const char *symbol, const char *tf,
	    bool create, const struct bt_candle *c, size_t n,
	    struct bt_pair *p, char *err);
/*
 * The timeframes stored for a symbol, finest first: up to `max' names
 * into tfs, their count in *n.  0 or an exit code.
 */
int	 bt_pair_tfs(sqlite3 *db, const char *symbol, char (*tfs)[8],
	    size_t max, size_t *n, char *err);
/* Upserts n candles; *changed counts rows inserted or altered. */
int	 bt_candles_upsert(sqlite3 *db, const struct bt_pair *p,
	    const struct bt_candle *c, size_t n, int64_t *changed, char *err);
/* Newest stored open time, -1 when none. */
int	 bt_pair_last(sqlite3 *db, const struct bt_pair *p, int64_t *last,
	    char *err);
/*
 * The one candle loader (bt_store.c): open times and OHLC, or every field,
 * in arrays; see bt_candles_load() there for the modes and reuse.
 */
#define BT_LOAD_OHLC	1
#define BT_LOAD_ALL	2
struct bt_series {
	size_t	 n, cap;
	unsigned cols;			/* BT_LOAD_OHLC or BT_LOAD_ALL */
	int64_t	*t;			/* open times, ms */
	double	*o, *h, *l, *c;
	/* BT_LOAD_ALL only: */
	double	*v, *qv, *tb, *tq;	/* NAN where absent */
	int64_t	*ct, *nt;		/* close time; trades, -1 absent */
	unsigned *has;			/* BT_HAS_* of each row */
};
int	 bt_candles_load(sqlite3 *db, const struct bt_pair *p, int64_t from,
	    int64_t to, size_t last, unsigned cols, struct bt_series *d,
	    char *err);
void	 bt_series_free(struct bt_series *d);

#endif /* BT_STORE_H */
