/*
 * bt_db.h - bt_db.c owns connections to bt's two SQLite files and the
 * write transaction.
 */
#ifndef BT_DB_H
#define BT_DB_H

#include <sqlite3.h>

#include "bt_util.h"

enum { BT_DB_RO = 0, BT_DB_RW = 1, BT_DB_CREATE = 2,
	BT_DB_PLAIN_OK = 4,	/* open a seed-layout store, to migrate it */
	BT_DB_STATE = 8,	/* the state file: writes take its own lock */
	BT_DB_SNAPSHOT = 16 };	/* with BT_DB_RO: leave no trace (bt_db.c) */

/*
 * A connection with the seed's pragmas (bt_migrate.h's bt_open_store()
 * and bt_open_state() add the schema).  0 or an exit code with err set.
 */
int	 bt_db_open(const char *path, int mode, int fmode, sqlite3 **db,
	    char *err);
/* A file: URI of path (malloc'd), ?immutable=1 when asked. */
char	*bt_db_uri(const char *path, bool immutable);
/* Exit code for a failed SQLite call: BUSY -> 75, IO/FULL -> 74, ... */
int	 bt_sqlite_ex(int rc);
/* sqlite3_errmsg(), but "no space left on device" for a full disk. */
const char *bt_db_errmsg(sqlite3 *db);
/* The write lock of db's file (an explicit checkpoint, a journal mode). */
int	 bt_db_lock(sqlite3 *db, char *err);
void	 bt_db_unlock(sqlite3 *db);
/* BEGIN IMMEDIATE under the write lock; commit or roll back and unlock. */
int	 bt_begin(sqlite3 *db, char *err);
int	 bt_commit(sqlite3 *db, char *err);
void	 bt_rollback(sqlite3 *db);
int	 bt_exec(sqlite3 *db, const char *sql, char *err);
/* A statement prepared once per connection; bt_close() finalizes it. */
sqlite3_stmt *bt_stmt(sqlite3 *db, const char *sql, char *err);
void	 bt_close(sqlite3 *db);

#endif /* BT_DB_H */
