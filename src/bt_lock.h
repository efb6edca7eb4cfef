/*
 * bt_lock.h - bt_lock.c owns where bt's files are and the two locks every
 * writer keeps: run/write.lock and db/LOCKED.
 */
#ifndef BT_LOCK_H
#define BT_LOCK_H

#include <limits.h>

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
/* The same, but only if no other writer holds it now: else 75 at once. */
int	 bt_wlock_now(int which, char *err);
void	 bt_wunlock_file(int which);
int	 bt_wlock(char *err);
void	 bt_wunlock(void);
/*
 * Who holds a flock(2) lock on path's inode, as /proc/locks names them
 * (the crontab's flock(1) takes those; F_OFD_GETLK cannot see them): up
 * to max pids, their number returned, or -1 with errno.
 */
int	 bt_flock_holders(const char *path, long *pids, int max);
/* db/LOCKED: a restore or rollback is in progress. */
bool	 bt_store_locked(char *owner, size_t len);
/* The same, said as a "locked" WARNING line with why nothing is done. */
bool	 bt_store_locked_say(const char *why);

/*
 * db/LOCKED's content, as a restore or rollback writes it (bt-backup(1),
 * FILES): who owns it, and the whole copy of the damaged store once made.
 */
struct bt_lockinfo {
	long	 pid;
	int64_t	 start;			/* start_ticks of the owner */
	char	 boot[64], op[16], started[32];
	char	 damaged[PATH_MAX];	/* "" until the copy is whole */
	bool	 parsed;		/* the file read as a JSON object */
};
/* Reads db/LOCKED: false when there is none (or it does not read). */
bool	 bt_locked_read(struct bt_lockinfo *li);
/* Is the process that wrote it still the one running (pid, start, boot)? */
bool	 bt_locked_owner_alive(const struct bt_lockinfo *li);
/* Writes db/LOCKED atomically for this process; op "restore"/"rollback". */
int	 bt_locked_write(const char *op, const char *damaged, char *err);
/* Removes it and fsyncs db/: 0, or BT_EX_IOERR with err. */
int	 bt_locked_remove(char *err);

#endif /* BT_LOCK_H */
