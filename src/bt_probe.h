/*
 * bt_probe.h - bt_probe.c owns the watchdog's probe of the daily
 * backtest: run/backtest.status and the identity of the process it names,
 * the health states HEALTHY, PAUSED, DEAD, HUNG, STALLED and FLAKY, its
 * CPU, stopping its process group, the hang procedure, the restart
 * budget, and pausing it (run/backtest.paused).
 */
#ifndef BT_PROBE_H
#define BT_PROBE_H

#include "bt_watch.h"

/* The backtest check (and backtest_cpu), with what it acts on. */
void	 bt_probe_backtest(struct bt_watch *x);
/* Writes run/backtest.paused (once) and says why: an action. */
void	 bt_probe_pause(struct bt_watch *x, const char *why);

#endif /* BT_PROBE_H */
