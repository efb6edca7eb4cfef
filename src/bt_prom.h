/*
 * bt_prom.h - bt_prom.c owns bt's metrics for Prometheus: one file in
 * node_exporter's textfile-collector format, written atomically.
 */
#ifndef BT_PROM_H
#define BT_PROM_H

#include "bt_cov.h"
#include "bt_state.h"

/* What only the caller (bt-watchdog) knows of this run. */
struct bt_prom_in {
	const char	*backtest;	/* HEALTHY, PAUSED, DEAD, ... */
	int		 failing;	/* checks that failed this run */
	const struct bt_cov *cov;	/* the freshness check's, or NULL */
};
/*
 * Writes the metrics to path (write, fsync, rename), mode 0640, group
 * BT_PROM_GROUP.  0, or an exit code with err set.
 */
int	 bt_prom_write(sqlite3 *st, const char *path,
	    const struct bt_prom_in *in, char *err);

#endif /* BT_PROM_H */
