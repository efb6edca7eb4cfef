/*
 * bt_walk.h - bt_walk.c owns walk-forward evaluation (bt-backtest(1),
 * WALK-FORWARD): the windows of a series, the choice of a grid
 * combination on each train segment, the compounded out-of-sample test
 * segments and their stitched metrics, and the (symbol, window) items of
 * its shards.  It stands on the sweep (struct run, the grid), the engine
 * and the metrics.
 */
#ifndef BT_WALK_H
#define BT_WALK_H

#include "bt_sweep.h"

/*
 * --walk-forward train=N,test=M[,step=K][,gap=G][,anchored] and
 * --objective METRIC (NULL: sharpe) into w.  0, or -1 with err.
 */
int	 bt_walk_parse(struct walk *w, const char *spec, const char *objective,
	    char *err);
/* The whole windows of a range of bars [w0, n). */
size_t	 bt_walk_windows(const struct walk *w, size_t w0, size_t n);
/*
 * With --shard: every symbol's count of windows (the items are (symbol,
 * window) pairs), read from the input.  0 or an exit code.
 */
int	 bt_walk_plan(struct run *r, char *err);
/* Symbol si's windows [*w0, *w1) in this shard; false: none. */
bool	 bt_walk_share(const struct run *r, size_t si, size_t *w0,
	    size_t *w1);
/*
 * One symbol's windows: each train segment picks a combination, each
 * test segment [w0, w1) prints a `window' line; the windows before w0 run
 * too, unprinted, for the equity the first test starts with.  Unsharded,
 * the symbol's `walk_forward' line follows.  0 or an exit code.
 */
int	 bt_walk_symbol(struct run *r, const struct series *s, size_t w0,
	    size_t w1, char *err);

#endif /* BT_WALK_H */
