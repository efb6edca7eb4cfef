/*
 * bt_update.h - bt_update.c owns the candle runs of bt-fetch over
 * Binance: plain and --repair (with the coverage verdict) and --gaps,
 * with their fetcher thread, the circuit breaker and each pair's line.
 */
#ifndef BT_UPDATE_H
#define BT_UPDATE_H

#include "bt_ingest.h"

/*
 * Every configured pair: from its newest stored open time, or `since'
 * for a pair never seen; with repair_days > 0 (--repair) from that many
 * days back.  The caller has checked for a ban in force.
 */
int	 bt_update_pairs(struct bt_ingest *x, int64_t since, int repair_days);
/* --gaps: the gap records of `in', each range fetched exactly. */
int	 bt_update_gaps(struct bt_ingest *x, FILE *in);

#endif /* BT_UPDATE_H */
