/*
 * bt_health.h - bt_health.c owns the watchdog's checks of all but the
 * backtest: the scheduler heartbeat, the configuration, db/LOCKED, the
 * live trader, integrity and the automatic restore, freshness and the
 * re-fetch, disk space, each scheduled job's runs, the alert path, and
 * the external heartbeat ping.
 */
#ifndef BT_HEALTH_H
#define BT_HEALTH_H

#include "bt_watch.h"

/* Touches run/scheduler.heartbeat (not in a dry run). */
void	 bt_health_heartbeat(struct bt_watch *x);
/* Bad values of bt.conf, and which programs they stop. */
void	 bt_health_config(struct bt_watch *x);
/* db/LOCKED: a restore running, or one whose owner is gone. */
void	 bt_health_store_lock(struct bt_watch *x);
/* The live trader (BT_TRADER_PIDFILE, BT_TRADER_HEARTBEAT). */
void	 bt_health_trader(struct bt_watch *x);
/* A pending integrity failure, and the restore (BT_AUTO_RESTORE). */
void	 bt_health_integrity(struct bt_watch *x);
/* Coverage of the configured pairs, and the re-fetch (BT_AUTO_REFETCH). */
void	 bt_health_freshness(struct bt_watch *x);
/* Free space under BT_HOME, the store and the state file. */
void	 bt_health_disk(struct bt_watch *x);
/* Each job of BT_WATCHDOG_JOBS: overdue, missing, failed, or ok. */
void	 bt_health_jobs(struct bt_watch *x);
/* Unsent CRITICALs, bt-digest failing, chats Telegram refuses. */
void	 bt_health_alert_path(struct bt_watch *x);
/* BT_HEARTBEAT_URL, pinged only while the alert path is healthy. */
void	 bt_health_ping(struct bt_watch *x);

#endif /* BT_HEALTH_H */
