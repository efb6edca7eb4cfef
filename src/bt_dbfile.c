/*
 * bt_dbfile.c - SQLite files handled whole, as bt-backup's backups and
 * restores handle them.
 *
 * Owns: opening a file by a file: URI (a backup immutable: SQLite then
 * takes no lock and reads no WAL, and nothing writes it again), the two
 * checks (integrity_check, quick_check), the checkpoint that truncates
 * the WAL though another connection checkpoints too, the two copies (one
 * step of the backup API from an open database, which is one read
 * transaction, so writers go on and the copy cannot restart forever on
 * their commits (ops.md 1.2); and a byte copy for files that need not
 * open), fsync of
 * a file and of its directory, the sizes and free space a copy needs,
 * and the sweep of the temporary names a killed copy leaves.
 *
 * Invariants: a copy is made under a new name (O_EXCL, O_NOFOLLOW) and
 * fsynced before anyone renames or links it into place; a byte copy
 * never replaces an existing file (link(2) of its .tmp).  No mmap.  What
 * the files hold is for the callers (bt_catalog.c, bt_backup.c,
 * bt_restore.c) to judge.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_dbfile.h"

int
bt_dbf_errno_ex(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOENT:
		return BT_EX_CANTCREAT;
	default:
		return BT_EX_IOERR;
	}
}

/* Opens a database file; `flags' as sqlite3_open_v2's. */
int
bt_dbf_open(const char *path, int flags, bool immutable, sqlite3 **db,
    char *err)
{
	char *uri = bt_db_uri(path, immutable);	/* backups: never written */
	int rc;

	rc = sqlite3_open_v2(uri, db, flags | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s: %s", path, *db != NULL ?
		    bt_db_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return bt_sqlite_ex(rc);
	}
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
	sqlite3_exec(*db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
	return 0;
}

/*
 * integrity_check (full) or quick_check of an open database: 0 when ok,
 * else 1 with the first problem in `why'.
 */
int
bt_dbf_check(sqlite3 *db, bool full, char *why, size_t len)
{
	sqlite3_stmt *s;
	const char *r;
	int rc, bad = 0;

	snprintf(why, len, "ok");
	if ((rc = sqlite3_prepare_v2(db, full ? "PRAGMA integrity_check" :
	    "PRAGMA quick_check", -1, &s, NULL)) != SQLITE_OK) {
		snprintf(why, len, "%s", bt_db_errmsg(db));
		return 1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = (const char *)sqlite3_column_text(s, 0);
		if (r != NULL && strcmp(r, "ok") != 0 && bad++ == 0)
			snprintf(why, len, "%s", r);
	}
	if (rc != SQLITE_DONE && bad++ == 0)
		snprintf(why, len, "%s", bt_db_errmsg(db));
	sqlite3_finalize(s);
	return bad ? 1 : 0;
}

/* Checks a database file, opened read-only (and immutable). */
int
bt_dbf_check_file(const char *path, bool full, bool immutable, char *why,
    size_t len)
{
	sqlite3 *db;
	char err[BT_ERRLEN];
	int rc;

	if (bt_dbf_open(path, SQLITE_OPEN_READONLY, immutable, &db, err) != 0) {
		snprintf(why, len, "%s", err);
		return 1;
	}
	rc = bt_dbf_check(db, full, why, len);
	sqlite3_close(db);
	return rc;
}

static int
fsync_path(const char *path, char *err)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fsync(fd) == -1) {
		snprintf(err, BT_ERRLEN, "fsync %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return bt_dbf_errno_ex(errno);
	}
	close(fd);
	return 0;
}

/* Copies a file's bytes to dst through dst.tmp, fsynced; never replaces. */
int
bt_dbf_copy_bytes(const char *src, const char *dst, int mode, char *err)
{
	char tmp[PATH_MAX], buf[1 << 16];
	ssize_t r, w, off;
	int in, out, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, BT_ERRLEN, "%s: %s", src, strerror(errno));
		return BT_EX_IOERR;
	}
	unlink(tmp);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1) {
		snprintf(err, BT_ERRLEN, "create %s: %s", tmp, strerror(errno));
		close(in);
		return bt_dbf_errno_ex(errno);
	}
	for (;;) {
		if ((r = read(in, buf, sizeof(buf))) == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, BT_ERRLEN, "read %s: %s", src,
			    strerror(errno));
			rc = BT_EX_IOERR;
			break;
		}
		if (r == 0)
			break;
		for (off = 0; off < r; off += w)
			if ((w = write(out, buf + off, (size_t)(r - off))) ==
			    -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				snprintf(err, BT_ERRLEN, "write %s: %s", tmp,
				    strerror(errno));
				rc = BT_EX_IOERR;
				goto done;
			}
	}
done:
	close(in);
	if (rc == 0 && fsync(out) == -1) {
		snprintf(err, BT_ERRLEN, "fsync %s: %s", tmp, strerror(errno));
		rc = BT_EX_IOERR;
	}
	if (close(out) == -1 && rc == 0) {
		snprintf(err, BT_ERRLEN, "close %s: %s", tmp, strerror(errno));
		rc = BT_EX_IOERR;
	}
	if (rc == 0 && link(tmp, dst) == -1) {
		snprintf(err, BT_ERRLEN, "%s: %s", dst, strerror(errno));
		rc = bt_dbf_errno_ex(errno);
	}
	unlink(tmp);
	if (rc == 0 && bt_fsync_dir(dst, err) == -1)
		rc = BT_EX_IOERR;
	return rc;
}

/*
 * Copies the open database `src' into a new file `dst' (created 0600)
 * with one step of the backup API, then fsyncs it.
 */
int
bt_dbf_copy(sqlite3 *src, const char *dst, char *err)
{
	sqlite3 *d = NULL;
	sqlite3_backup *b;
	int fd, rc;

	unlink(dst);
	if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		snprintf(err, BT_ERRLEN, "create %s: %s", dst, strerror(errno));
		return bt_dbf_errno_ex(errno);
	}
	close(fd);
	if ((rc = bt_dbf_open(dst, SQLITE_OPEN_READWRITE, false, &d, err)) != 0)
		return rc;
	if ((b = sqlite3_backup_init(d, "main", src, "main")) == NULL) {
		snprintf(err, BT_ERRLEN, "%s: %s", dst, bt_db_errmsg(d));
		rc = bt_sqlite_ex(sqlite3_errcode(d));
		sqlite3_close(d);
		return rc ? rc : BT_EX_SOFTWARE;
	}
	/* One step: a stepped backup restarts on every commit (ops.md 1.2). */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED)
		bt_sleep(0.05);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		bool enospc = (rc & 0xff) == SQLITE_FULL ||
		    sqlite3_system_errno(d) == ENOSPC;
		snprintf(err, BT_ERRLEN, "copy to %s: %s%s", dst, enospc ?
		    "no space left on device" : sqlite3_errstr(rc),
		    !enospc && (rc & 0xff) == SQLITE_IOERR ? " (disk full or "
		    "file size limit?)" : "");
		sqlite3_close(d);
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	if (sqlite3_close(d) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "close %s", dst);
		return BT_EX_IOERR;
	}
	return fsync_path(dst, err);
}

/*
 * PRAGMA wal_checkpoint(TRUNCATE) answers busy, at once and without an
 * error, while another connection runs a checkpoint: a writer's commit
 * makes one as soon as the WAL passes 1000 pages, as after a VACUUM.
 * Measured (scripts/bench-backup): a VACUUM's WAL, the size of the
 * store, then stays on disk, since nobody truncates it.  So it is tried
 * again until it truncates, within the busy timeout (a reader of an older
 * snapshot makes SQLite itself wait that long, the writers blocked).
 */
int
bt_dbf_checkpoint(sqlite3 *db, char *err)
{
	double until = bt_mono() + bt_conf_long("SQLITE_BUSY_TIMEOUT_MS") /
	    1000.0;
	sqlite3_stmt *s;
	int rc, busy;

	if (sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &s,
	    NULL) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
		return BT_EX_SOFTWARE;
	}
	for (;;) {
		busy = 0;
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			busy = sqlite3_column_int(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW || !busy || bt_mono() >= until)
			break;
		bt_sleep(0.01);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		snprintf(err, BT_ERRLEN, "checkpoint: %s", bt_db_errmsg(db));
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	if (busy) {
		snprintf(err, BT_ERRLEN, "checkpoint: still busy after %lld ms "
		    "(SQLITE_BUSY_TIMEOUT_MS): another connection checkpoints "
		    "the WAL, or reads an older snapshot",
		    (long long)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
		return BT_EX_TEMPFAIL;
	}
	return 0;
}

int64_t
bt_dbf_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int64_t
bt_dbf_bytes(sqlite3 *db)
{
	int64_t n = bt_dbf_int(db, "SELECT page_count*page_size FROM "
	    "pragma_page_count, pragma_page_size");

	return n < 0 ? 0 : n;
}

/* The free bytes of the file system `dir' is on. */
int64_t
bt_dbf_free_space(const char *dir)
{
	struct statvfs v;

	if (statvfs(dir, &v) == -1)
		return -1;
	return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

int64_t
bt_dbf_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

const char *
bt_dbf_split(const char *path, char *dir, size_t len)
{
	char *s;

	snprintf(dir, len, "%s", path);
	if ((s = strrchr(dir, '/')) == NULL) {
		snprintf(dir, len, ".");
		return path;
	}
	*s = '\0';
	return path + (s - dir) + 1;
}

/*
 * Leftovers of a run that died: files in `dir' named PREFIX*.tmp (or
 * PREFIX*.tmp-journal, the sqlite3 shell's journal of a salvage) for a
 * PREFIX of the NULL-terminated `prefix', our temporary names only.  A
 * finished file is renamed off .tmp, so none holds what a run kept.
 */
void
bt_dbf_sweep_tmp(const char *dir, const char *const *prefix)
{
	DIR *d;
	struct dirent *de;
	char p[PATH_MAX];
	size_t l, i;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if ((l <= 4 || strcmp(de->d_name + l - 4, ".tmp") != 0) &&
		    (l <= 12 || strcmp(de->d_name + l - 12, ".tmp-journal") !=
		    0))
			continue;
		for (i = 0; prefix[i] != NULL; i++)
			if (strncmp(de->d_name, prefix[i],
			    strlen(prefix[i])) == 0) {
				snprintf(p, sizeof(p), "%s/%s", dir,
				    de->d_name);
				unlink(p);
				break;
			}
	}
	closedir(d);
}

