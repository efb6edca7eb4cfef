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

/*
 * The write locks (contracts.md, bt(7) WRITING AND LOCKING): flock on
 * run/write.lock for the store, run/state.lock for the state file;
 * close-on-exec, nesting, BT_WRITE_LOCK_WAIT per run in all.  0, or
 * BT_EX_TEMPFAIL / BT_EX_IOERR.  bt_wlock() is the store's.
 */
enum { BT_LOCK_STORE = 0, BT_LOCK_STATE = 1 };
int	 bt_wlock_file(int which, char *err);
void	 bt_wunlock_file(int which);
int	 bt_wlock(char *err);
void	 bt_wunlock(void);
/* db/LOCKED: a restore or rollback is in progress. */
bool	 bt_store_locked(char *owner, size_t len);

#endif /* BT_LOCK_H */
