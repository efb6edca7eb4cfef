/*
 * bt_scan.h - bt_scan.c owns the candle checks of a validation run: gaps
 * (less the accepted ranges) and sanity over ranges of slots, with a
 * finding budget per pair, over the dirty ranges of a routine run or
 * every candle (--full), and which dirty ranges it clears; the gap
 * records of --gaps.
 */
#ifndef BT_SCAN_H
#define BT_SCAN_H

#include "bt_accept.h"
#include "bt_check.h"

struct bt_scan;

/*
 * A scan for run x, leaving out the ranges `acc' (kept by the caller);
 * its budget is BT_VALIDATE_MAX_FINDINGS.  Never NULL.
 */
struct bt_scan *bt_scan_new(struct bt_check *x,
	    const struct bt_accepted *acc);
void	 bt_scan_free(struct bt_scan *sc);
/* The state file's dirty ranges of the checked timeframes: 0, or why. */
int	 bt_scan_dirty_load(struct bt_scan *sc, char *err);
/* The routine run: each dirty range, merged, with its neighbours. */
void	 bt_scan_routine(struct bt_scan *sc);
/* --full: every candle of every pair of the checked timeframes. */
void	 bt_scan_full(struct bt_scan *sc);
/* Clears the dirty ranges that checked clean (not with -n). */
void	 bt_scan_clear(struct bt_scan *sc);

#endif /* BT_SCAN_H */
