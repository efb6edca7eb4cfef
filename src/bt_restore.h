/*
 * bt_restore.h - bt_restore.c owns putting a backup back: --restore and
 * --rollback of the store (and of the state file with --state), from the
 * choice of the backup to the gap records of what to re-fetch.
 */
#ifndef BT_RESTORE_H
#define BT_RESTORE_H

#include "bt_catalog.h"

/* What was asked. */
struct bt_restore_req {
	bool	 rollback;	/* --rollback: a backup `hours' old at least */
	long	 hours;
	bool	 state;		/* --state: the state file too */
	bool	 force;		/* --force */
};
/*
 * Takes run/write.lock for the whole restore, before anything else, and
 * with --state run/state.lock too: without --force at once or not at all
 * (75, a WARNING restore_refused event: recorded in b->st for the
 * store's lock, printed only for the state file's); with --force waiting
 * up to BT_WRITE_LOCK_WAIT for each.  The caller releases them with
 * bt_wunlock_file() after bt_restore().
 */
int	 bt_restore_wlock(struct bt_backups *b,
	    const struct bt_restore_req *rq);
/*
 * The restore or rollback (bt-backup(1), Restore and rollback).  With
 * --state b->st may be closed and opened again.  Returns the run's exit
 * code: 0, 75 busy, 66 no good backup, 65 refused by the comparison, 74
 * and others when the restore failed (db/LOCKED then stays).
 */
int	 bt_restore(struct bt_backups *b, const struct bt_restore_req *rq);

#endif /* BT_RESTORE_H */
