/*
 * bt_context.h - bt_context.c owns the market-context runs of bt-fetch
 * --source (issue 6): Binance's futures statistics and 24 h ticker
 * (sentiment), FRED's series (macro); bt_market.c stores what they fetch.
 */
#ifndef BT_CONTEXT_H
#define BT_CONTEXT_H

#include "bt_ingest.h"

/* The keys `source' ("sentiment" or "macro") reads: 0 or BT_EX_CONFIG. */
int	 bt_context_config(const char *source, char *err);
/* --source sentiment; the caller has checked for a ban in force. */
int	 bt_context_sentiment(struct bt_ingest *x);
/* --source macro. */
int	 bt_context_macro(struct bt_ingest *x);

#endif /* BT_CONTEXT_H */
