/*
 * bt_daily.h - bt_daily.c owns the daily digest's text.
 */
#ifndef BT_DAILY_H
#define BT_DAILY_H

#include <sqlite3.h>

#include "bt_util.h"

/* The digest's text, malloc'd; `st' (the state file) may be NULL. */
char	*bt_daily_compose(sqlite3 *st);

#endif /* BT_DAILY_H */
