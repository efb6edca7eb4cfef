/*
 * bt_alertcheck.h - bt_alertcheck.c owns bt-digest --check: the alert
 * path tried from outside (token, getMe, getChat of every chat, and with
 * `send' a test message to each), one JSON line a check.
 */
#ifndef BT_ALERTCHECK_H
#define BT_ALERTCHECK_H

#include "bt_alerts.h"

/* 0 all passed, 1 a check failed, 75 Telegram not reachable, 78 config. */
int	 bt_alertcheck(bool send);

#endif /* BT_ALERTCHECK_H */
