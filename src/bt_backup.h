/*
 * bt_backup.h - bt_backup.c owns bt-backup's jobs on backups: taking the
 * daily backup (and Sunday's weekly, and the state file's), rotating
 * them, the weekly offsite copy, --verify, --test-restore, and the
 * weekly vacuum of the store (in steps once it is incremental).  Each
 * prints its JSON lines and events and returns the run's exit code.
 */
#ifndef BT_BACKUP_H
#define BT_BACKUP_H

#include "bt_catalog.h"

/* The daily backup; `offsite' is --offsite's directory, or NULL. */
int	 bt_backup_take(struct bt_backups *b, const char *offsite);
/*
 * --vacuum: on an incremental store, incremental_vacuum in steps under
 * run/write.lock, the lock free between them; else VACUUM, which with
 * `convert' (--convert) makes the store incremental first.  Then a
 * checkpoint under the lock.
 */
int	 bt_backup_vacuum(struct bt_backups *b, bool convert);
/*
 * Tests only: fn(step, arg) is called between two steps of an
 * incremental vacuum, with run/write.lock free; NULL for none.
 */
void	 bt_backup_vacuum_hook(void (*fn)(int step, void *arg), void *arg);
/* --verify: every backup through a restore's checks; 1 when one fails. */
int	 bt_backup_verify(struct bt_backups *b);
/* --test-restore: the newest good backup restored into a scratch file. */
int	 bt_backup_test_restore(struct bt_backups *b);

#endif /* BT_BACKUP_H */
