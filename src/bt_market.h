/*
 * bt_market.h - bt_market.c owns the market context in the store:
 * sentimento_mercado and macro_data.
 */
#ifndef BT_MARKET_H
#define BT_MARKET_H

#include "bt_db.h"
#include "bt_parse.h"

/* sentimento_mercado: upserts n values of (symbol, metric). */
int	 bt_sent_store(sqlite3 *db, const char *symbol, const char *metric,
	    const int64_t *t, const double *v, size_t n, size_t stride,
	    int64_t *changed, char *err);
/* The newest stored time of (symbol, metric), -1 when none. */
int	 bt_sent_last(sqlite3 *db, const char *symbol, const char *metric,
	    int64_t *last, char *err);
/* macro_data: upserts; counts new rows and revised ones. */
int	 bt_macro_store(sqlite3 *db, const char *series,
	    const struct bt_fred_obs *o, size_t n, int64_t *added,
	    int64_t *revised, char *err);

#endif /* BT_MARKET_H */
