/*
 * bt_dbfile.h - bt_dbfile.c owns SQLite files handled whole, as a backup
 * and a restore handle them: opened by path (immutable when the file is a
 * backup, never written again), checked (integrity_check, quick_check),
 * checkpointed to the end, copied in one step of the backup API or byte
 * for byte, fsynced, measured, and the temporary names a killed copy
 * leaves swept.
 */
#ifndef BT_DBFILE_H
#define BT_DBFILE_H

#include "bt_db.h"

/* The exit code of a failed file call: 73 for a permission, 74 else. */
int	 bt_dbf_errno_ex(int e);
/*
 * Opens a database file by a file: URI (`immutable' adds ?immutable=1),
 * `flags' as sqlite3_open_v2()'s, with the busy timeout and no mmap.
 * 0, or an exit code with err set and *db NULL.
 */
int	 bt_dbf_open(const char *path, int flags, bool immutable, sqlite3 **db,
	    char *err);
/* integrity_check (full) or quick_check: 0 ok, else 1 with the reason. */
int	 bt_dbf_check(sqlite3 *db, bool full, char *why, size_t len);
int	 bt_dbf_check_file(const char *path, bool full, bool immutable,
	    char *why, size_t len);
/* The open database src into a new file dst (0600), one backup step. */
int	 bt_dbf_copy(sqlite3 *src, const char *dst, char *err);
/* src's bytes to a new dst through dst.tmp, fsynced; never replaces. */
int	 bt_dbf_copy_bytes(const char *src, const char *dst, int mode,
	    char *err);
/*
 * wal_checkpoint(TRUNCATE), tried again while it is busy (another
 * connection's checkpoint, a reader of an older snapshot), up to
 * SQLITE_BUSY_TIMEOUT_MS: 0, or an exit code (75 still busy) with err.
 * The caller holds the file's lock.
 */
int	 bt_dbf_checkpoint(sqlite3 *db, char *err);
/* The integer a static query's first row answers (a PRAGMA); -1: none. */
int64_t	 bt_dbf_int(sqlite3 *db, const char *sql);
int64_t	 bt_dbf_bytes(sqlite3 *db);		/* page_count * page_size */
int64_t	 bt_dbf_free_space(const char *dir);	/* -1 when unknown */
int64_t	 bt_dbf_size(const char *path);		/* 0 when absent */
/* The directory of path ("." for none) into dir; returns the base name. */
const char *bt_dbf_split(const char *path, char *dir, size_t len);
/*
 * Removes dir's PREFIX*.tmp and PREFIX*.tmp-journal files for each
 * PREFIX of the NULL-terminated `prefix': a killed run's leftovers.
 */
void	 bt_dbf_sweep_tmp(const char *dir, const char *const *prefix);

#endif /* BT_DBFILE_H */
