/*
 * bt_lock.h - bt_lock.c owns where bt's files are and the two locks every
 * writer keeps: run/write.lock and db/LOCKED.
 */
#ifndef BT_LOCK_H
#define BT_LOCK_H

#include "bt_util.h"

/* $BT_HOME/rel, malloc'd; the store and the state file (BT_DB, BT_STATE). */
char	*bt_path(const char *rel);
char	*bt_store_path(void);
char	*bt_state_path(void);

/* The write lock (contracts.md): flock on run/write.lock, close-on-exec. */
int	 bt_wlock(char *err);		/* 0, or BT_EX_TEMPFAIL / BT_EX_IOERR */
void	 bt_wunlock(void);
/* db/LOCKED: a restore or rollback is in progress. */
bool	 bt_store_locked(char *owner, size_t len);

#endif /* BT_LOCK_H */
