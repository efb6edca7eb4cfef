/*
 * bt-backup - backups known to restore: the daily copy of the store and
 * the state file with rotation, the weekly compaction, verification,
 * restore drills, and the seed's recovery procedures (4.1 restore, 4.4
 * rollback).
 *
 *	bt-backup [-nqv] [-d db] [--offsite dir]
 *	bt-backup --vacuum [-qv] [-d db]
 *	bt-backup --verify [-qv]
 *	bt-backup --test-restore [-qv] [-d db]
 *	bt-backup --restore [-nqv] [-d db] [--state] [--force]
 *	bt-backup --rollback hours [-nqv] [-d db] [--state] [--force]
 *
 * Invariants:
 * - A copy is taken in one step of SQLite's backup API (one read
 *   transaction: writers go on, and the copy cannot restart forever),
 *   written to a temporary name, fsynced, quick_checked, renamed into
 *   place, and the directory fsynced.  Only then does rotation delete
 *   anything, and never the copy just made.
 * - Every write of the store (restore, REINDEX, VACUUM, checkpoint)
 *   happens under run/write.lock (ops.md 1.1).
 * - A restore or rollback holds db/LOCKED from before it touches the
 *   store until integrity_check has passed on the result; the damaged
 *   file is kept aside, never deleted.
 * - Gap records for what must be re-fetched are printed only after
 *   db/LOCKED is gone, so `bt-backup --restore | bt-fetch --gaps' works.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_db.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_state.h"

enum mode { M_BACKUP, M_VACUUM, M_VERIFY, M_TEST, M_RESTORE, M_ROLLBACK };

struct ctx {
	enum mode	 mode;
	bool		 dry, quiet, verbose, state, force;
	long		 hours;
	const char	*offsite;
	char		*store, *statepath, *bdir;
	sqlite3		*st;		/* the state file, for events */
};

/* A backup file found in backups/. */
struct bfile {
	char	 name[64];
	char	 path[PATH_MAX];
	int	 kind;		/* 0 daily, 1 weekly, 2 state */
	int64_t	 day;		/* midnight of the date in the name, ms */
	int64_t	 time;		/* when it was taken (mtime, within day) */
	dev_t	 dev;
	ino_t	 ino;
	off_t	 size;
};

static const char *prefixes[] = { "db_backup_", "db_backup_weekly_",
    "state_backup_" };
static const int keep[] = { 3, 4, 3 };

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-backup [-nqv] [-d db] [--offsite dir] [--if-due]\n"
	    "       bt-backup --vacuum [-qv] [-d db] [--if-due]\n"
	    "       bt-backup --verify [-qv]\n"
	    "       bt-backup --test-restore [-qv] [-d db] [--if-due]\n"
	    "       bt-backup --restore [-nqv] [-d db] [--state] [--force]\n"
	    "       bt-backup --rollback hours [-nqv] [-d db] [--state] "
	    "[--force]\n");
	exit(code);
}

/* ------------------------------------------------------------- helpers */

static int
errno_ex(int e)
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

/* A file:...?immutable=1 URI: backups are never written once made. */
static char *
uri_of(const char *path, bool immutable)
{
	struct bt_buf b = { 0 };
	const char *p;

	bt_buf_add(&b, "file:", 5);
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			bt_buf_printf(&b, "%%%02x", (unsigned char)*p);
		else
			bt_buf_add(&b, p, 1);
	}
	if (immutable)
		bt_buf_add(&b, "?immutable=1", 12);
	return b.p;
}

/* Opens a database file; `flags' as sqlite3_open_v2's. */
static int
db_open(const char *path, int flags, bool immutable, sqlite3 **db,
    char *err)
{
	char *uri = uri_of(path, immutable);
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
static int
db_check(sqlite3 *db, bool full, char *why, size_t len)
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
static int
file_check(const char *path, bool full, bool immutable, char *why,
    size_t len)
{
	sqlite3 *db;
	char err[BT_ERRLEN];
	int rc;

	if (db_open(path, SQLITE_OPEN_READONLY, immutable, &db, err) != 0) {
		snprintf(why, len, "%s", err);
		return 1;
	}
	rc = db_check(db, full, why, len);
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
		return errno_ex(errno);
	}
	close(fd);
	return 0;
}

/* Copies a file's bytes to dst through dst.tmp, fsynced; never replaces. */
static int
copy_raw(const char *src, const char *dst, int mode, char *err)
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
		return errno_ex(errno);
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
		rc = errno_ex(errno);
	}
	unlink(tmp);
	if (rc == 0 && bt_fsync_dir(dst, err) == -1)
		rc = BT_EX_IOERR;
	return rc;
}

/* The UTC date of ms as YYYYMMDD. */
static char *
ymd(int64_t ms, char buf[16])
{
	char ts[32];

	bt_fmt_time(ms, ts);
	snprintf(buf, 16, "%.4s%.2s%.2s", ts, ts + 5, ts + 8);
	return buf;
}

/* 1970-01-01 was a Thursday. */
static bool
is_sunday(int64_t ms)
{
	return ((ms / 86400000) + 4) % 7 == 0;
}

/* Every backup file of one kind (or all, kind < 0), newest first. */
static int
bfile_cmp(const void *a, const void *b)
{
	const struct bfile *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? 1 : -1;
	if (x->kind != y->kind)
		return x->kind - y->kind;	/* the daily names a link */
	return strcmp(y->name, x->name);
}

static int
list_backups(struct ctx *x, int kind, struct bfile **out, size_t *n)
{
	DIR *d;
	struct dirent *de;
	struct bfile *v = NULL, *b;
	struct stat sb;
	size_t cap = 0, plen;
	char ds[16];
	int k;
	int64_t day;

	*out = NULL;
	*n = 0;
	if ((d = opendir(x->bdir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		for (k = 2; k >= 0; k--) {
			plen = strlen(prefixes[k]);
			if (strncmp(de->d_name, prefixes[k], plen) == 0 &&
			    strlen(de->d_name) == plen + 11 &&
			    strspn(de->d_name + plen, "0123456789") == 8 &&
			    strcmp(de->d_name + plen + 8, ".db") == 0)
				break;
		}
		if (k < 0 || (kind >= 0 && k != kind))
			continue;
		snprintf(ds, sizeof(ds), "%.4s-%.2s-%.2s", de->d_name + plen,
		    de->d_name + plen + 4, de->d_name + plen + 6);
		if (bt_parse_time(ds, &day) == -1)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		b = &v[*n];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", de->d_name);
		snprintf(b->path, sizeof(b->path), "%s/%s", x->bdir,
		    de->d_name);
		/* The link itself: a symlink is no backup (cand_check). */
		if (lstat(b->path, &sb) == -1)
			continue;
		b->kind = k;
		b->day = day;
		/* The time it was taken: its mtime, if within its day. */
		b->time = (int64_t)sb.st_mtim.tv_sec * 1000 +
		    sb.st_mtim.tv_nsec / 1000000;
		if (b->time < day || b->time >= day + 86400000)
			b->time = day;
		b->dev = sb.st_dev;
		b->ino = sb.st_ino;
		b->size = sb.st_size;
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), bfile_cmp);
	*out = v;
	return 0;
}

/* Sets a file's mtime to `now' (ms): when it was taken. */
static void
stamp(const char *path, int64_t now)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)(now / 1000);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(now % 1000) * 1000000;
	utimensat(AT_FDCWD, path, ts, 0);
}

/*
 * Copies the open database `src' into a new file `dst' (created 0600)
 * with one step of the backup API, then fsyncs it.
 */
static int
copy_db(sqlite3 *src, const char *dst, char *err)
{
	sqlite3 *d = NULL;
	sqlite3_backup *b;
	int fd, rc;

	unlink(dst);
	if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		snprintf(err, BT_ERRLEN, "create %s: %s", dst, strerror(errno));
		return errno_ex(errno);
	}
	close(fd);
	if ((rc = db_open(dst, SQLITE_OPEN_READWRITE, false, &d, err)) != 0)
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

static int64_t
db_bytes(sqlite3 *db)
{
	sqlite3_stmt *s;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT page_count*page_size FROM "
	    "pragma_page_count, pragma_page_size", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static int64_t
avail(const char *dir)
{
	struct statvfs v;

	if (statvfs(dir, &v) == -1)
		return -1;
	return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

static int64_t
fsize(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* ------------------------------------------- what bt-backup recorded */

/*
 * What a backup holds, as bt-backup records it in the state file's
 * `backups' table when it takes the backup, and as a restore reads it
 * again from the file (bt-backup(1), WHAT A RESTORE ACCEPTS).
 */
struct facts {
	int64_t	 bytes;		/* the file's size */
	int64_t	 schema;	/* bt_meta's schema_version; -1 unknown */
	int64_t	 candles;	/* -1 for the state file */
	int64_t	 first, last;	/* open times, ms; -1 without candles */
	char	 tables[2048];	/* sorted, comma-separated */
};

/* One row of `backups'. */
struct brec {
	char		 name[64];
	int64_t		 taken;	/* ms */
	struct facts	 f;
};

/* A backup a restore may use: the file, what it holds, and its record. */
struct cand {
	struct bfile	 b;
	struct facts	 f;
	bool		 recorded;
};

/*
 * The store's tables that bt itself fills or rebuilds: bt-fetch and a
 * schema migration bring them back.  Every other table (the live
 * trader's trades above all) exists only in the store and its backups.
 */
static const char *const own_tables[] = { "bt_meta", "pairs", "candles",
    "ind", "ind_state", "sent_series", "sent_values", "macro_data", NULL };

static bool
own_table(const char *name)
{
	size_t i;

	for (i = 0; own_tables[i] != NULL; i++)
		if (strcmp(own_tables[i], name) == 0)
			return true;
	return false;
}

/* Is `name' one of the comma-separated `list'? */
static bool
in_list(const char *list, const char *name)
{
	size_t l = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)) != NULL; p += l)
		if ((p == list || p[-1] == ',') && (p[l] == ',' ||
		    p[l] == '\0'))
			return true;
	return false;
}

/*
 * Is the open database a bt store (or, with `state', bt's state file)
 * of a schema this binary knows?  Fills f's schema and tables; 0, or 1
 * with the reason in why.
 */
static int
db_schema(sqlite3 *db, bool state, struct facts *f, char *why, size_t len)
{
	sqlite3_stmt *s;
	struct bt_buf t = { 0 };
	const char *name, *what = state ? "bt state file" : "bt store";
	bool meta = false, a = false, b = false;
	int rc, want = state ? BT_STATE_SCHEMA : BT_STORE_SCHEMA;

	f->schema = -1;
	f->tables[0] = '\0';
	if ((rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema "
	    "WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
	    -1, &s, NULL)) != SQLITE_OK) {
		snprintf(why, len, "does not read as a database: %s",
		    sqlite3_errmsg(db));
		return 1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		if (name == NULL)
			continue;
		bt_buf_printf(&t, "%s%s", t.len ? "," : "", name);
		meta = meta || strcmp(name, "bt_meta") == 0;
		a = a || strcmp(name, state ? "runs" : "pairs") == 0;
		b = b || strcmp(name, state ? "events" : "candles") == 0;
	}
	sqlite3_finalize(s);
	snprintf(f->tables, sizeof(f->tables), "%s", t.p != NULL ? t.p : "");
	bt_buf_free(&t);
	if (rc != SQLITE_DONE) {
		snprintf(why, len, "does not read as a database: %s",
		    sqlite3_errmsg(db));
		return 1;
	}
	if (!meta || !a || !b) {
		snprintf(why, len, "is not a %s: it lacks %s", what, !meta ?
		    "the bt_meta table" : state ? "the runs and events tables" :
		    "the pairs and candles tables");
		return 1;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM bt_meta WHERE "
	    "key='schema_version'", -1, &s, NULL) != SQLITE_OK) {
		snprintf(why, len, "has a bt_meta that does not read: %s",
		    sqlite3_errmsg(db));
		return 1;
	}
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) == SQLITE_INTEGER)
		f->schema = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (f->schema < 1) {
		snprintf(why, len, "is not a %s: bt_meta holds no "
		    "schema_version", what);
		return 1;
	}
	if (f->schema > want) {
		snprintf(why, len, "has schema_version %lld, newer than this bt "
		    "knows (%d): every writer would refuse it (exit 78)",
		    (long long)f->schema, want);
		return 1;
	}
	return 0;
}

/* The candles of a bt store: count, first and last open time. */
static int
db_counts(sqlite3 *db, struct facts *f, char *why, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	f->candles = f->first = f->last = -1;
	if ((rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM candles", -1,
	    &s, NULL)) == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		f->candles = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		goto fail;
	if ((rc = sqlite3_prepare_v2(db, "SELECT min(f), max(l) FROM (SELECT "
	    "(SELECT slot*p.iv+xo FROM candles WHERE pair=p.id ORDER BY slot, "
	    "xo LIMIT 1) AS f, (SELECT slot*p.iv+xo FROM candles WHERE "
	    "pair=p.id ORDER BY slot DESC, xo DESC LIMIT 1) AS l FROM pairs p)",
	    -1, &s, NULL)) == SQLITE_OK && (rc = sqlite3_step(s)) ==
	    SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		f->first = sqlite3_column_int64(s, 0);
		f->last = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
fail:
	snprintf(why, len, "has candles that do not read: %s",
	    sqlite3_errmsg(db));
	return 1;
}

/* The facts of a backup file (opened immutable): 0, or 1 with why. */
static int
file_facts(const char *path, bool state, struct facts *f, char *why,
    size_t len)
{
	sqlite3 *db;
	char err[BT_ERRLEN];
	int bad;

	memset(f, 0, sizeof(*f));
	f->candles = f->first = f->last = -1;
	f->bytes = fsize(path);
	if (db_open(path, SQLITE_OPEN_READONLY, true, &db, err) != 0) {
		snprintf(why, len, "does not open: %s", err);
		return 1;
	}
	bad = db_schema(db, state, f, why, len) != 0 ||
	    (!state && db_counts(db, f, why, len) != 0);
	sqlite3_close(db);
	return bad;
}

/* Says how two sets of facts differ: 0 when they do not. */
static int
facts_differ(const struct facts *rec, const struct facts *got, char *why,
    size_t len)
{
	char a[32], b[32];

	if (rec->bytes != got->bytes)
		snprintf(why, len, "%lld bytes, recorded %lld",
		    (long long)got->bytes, (long long)rec->bytes);
	else if (rec->schema != got->schema)
		snprintf(why, len, "schema_version %lld, recorded %lld",
		    (long long)got->schema, (long long)rec->schema);
	else if (strcmp(rec->tables, got->tables) != 0)
		snprintf(why, len, "tables %s, recorded %s", got->tables,
		    rec->tables);
	else if (rec->candles != got->candles)
		snprintf(why, len, "%lld candles, recorded %lld",
		    (long long)got->candles, (long long)rec->candles);
	else if (rec->first != got->first || rec->last != got->last)
		snprintf(why, len, "candles from %s to %s, recorded %s to %s",
		    got->first < 0 ? "none" : bt_fmt_time(got->first, a),
		    got->last < 0 ? "none" : bt_fmt_time(got->last, b),
		    rec->first < 0 ? "none" : bt_fmt_time(rec->first, a),
		    rec->last < 0 ? "none" : bt_fmt_time(rec->last, b));
	else
		return 0;
	return 1;
}

/* Binds an int64 that -1 means unknown: NULL. */
static void
bind_opt(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

/* Records (or replaces) what backup `name' holds, taken at `taken'. */
static int
rec_put(struct ctx *x, const char *name, int64_t taken,
    const struct facts *f, char *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = bt_begin(x->st, err)) != 0)
		return rc;
	if ((s = bt_stmt(x->st, "INSERT OR REPLACE INTO backups(name, taken, "
	    "bytes, schema_version, tables, candles, first_open, last_open) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err)) == NULL) {
		bt_rollback(x->st);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, taken);
	sqlite3_bind_int64(s, 3, f->bytes);
	sqlite3_bind_int64(s, 4, f->schema);
	sqlite3_bind_text(s, 5, f->tables, -1, SQLITE_STATIC);
	bind_opt(s, 6, f->candles);
	bind_opt(s, 7, f->first);
	bind_opt(s, 8, f->last);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "backups: %s", sqlite3_errmsg(x->st));
		bt_rollback(x->st);
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	return bt_commit(x->st, err);
}

/* Deletes the record of a backup that rotation deleted. */
static void
rec_del(struct ctx *x, const char *name)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int rc;

	if (x->st == NULL || bt_begin(x->st, err) != 0)
		return;
	if ((s = bt_stmt(x->st, "DELETE FROM backups WHERE name=?1", err)) ==
	    NULL) {
		bt_rollback(x->st);
		return;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		bt_warnx("backups: %s", sqlite3_errmsg(x->st));
		bt_rollback(x->st);
		return;
	}
	if (bt_commit(x->st, err) != 0)
		bt_warnx("backups: %s", err);
}

/*
 * Every record, and in *t0 the earliest time a store backup was
 * recorded (-1 when none is): bt-backup records every backup it takes
 * since then.  No state file, or one from before records, gives none.
 */
static void
recs_load(struct ctx *x, struct brec **out, size_t *n, int64_t *t0)
{
	sqlite3_stmt *s;
	struct brec *v = NULL, *r;
	const char *t;

	*out = NULL;
	*n = 0;
	*t0 = -1;
	if (x->st == NULL || sqlite3_prepare_v2(x->st, "SELECT name, taken, "
	    "bytes, schema_version, tables, candles, first_open, last_open "
	    "FROM backups ORDER BY name", -1, &s, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if ((v = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			abort();
		r = &v[*n];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s",
		    sqlite3_column_text(s, 0));
		r->taken = sqlite3_column_int64(s, 1);
		r->f.bytes = sqlite3_column_int64(s, 2);
		r->f.schema = sqlite3_column_int64(s, 3);
		t = (const char *)sqlite3_column_text(s, 4);
		snprintf(r->f.tables, sizeof(r->f.tables), "%s", t ? t : "");
		r->f.candles = r->f.first = r->f.last = -1;
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			r->f.candles = sqlite3_column_int64(s, 5);
		if (sqlite3_column_type(s, 6) != SQLITE_NULL)
			r->f.first = sqlite3_column_int64(s, 6);
		if (sqlite3_column_type(s, 7) != SQLITE_NULL)
			r->f.last = sqlite3_column_int64(s, 7);
		if (strncmp(r->name, "db_backup_", 10) == 0 &&
		    (*t0 < 0 || r->taken < *t0))
			*t0 = r->taken;
		(*n)++;
	}
	sqlite3_finalize(s);
	*out = v;
}

static const struct brec *
rec_find(const struct brec *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/*
 * Can a restore use backup b (a state file's backup with `state')?
 * 0 when it is a regular file that bt-backup wrote: bt's schema of a
 * version this binary knows, integrity_check ok, and what it holds
 * equal to its record (see bt-backup(1), WHAT A RESTORE ACCEPTS, also
 * for a backup without a record).  Else 1 with the reason in why.
 */
static int
cand_check(struct ctx *x, const struct bfile *b, bool state,
    const struct brec *r, size_t nr, int64_t t0, struct cand *c, char *why,
    size_t len)
{
	struct stat sb, lsb;
	const struct brec *k;
	char msg[BT_ERRLEN], ts[32];

	memset(c, 0, sizeof(*c));
	c->b = *b;
	if (lstat(b->path, &sb) == -1) {
		snprintf(why, len, "cannot be read: %s", strerror(errno));
		return 1;
	}
	if (S_ISLNK(sb.st_mode)) {
		snprintf(why, len, "is a symbolic link, not a file bt-backup "
		    "wrote");
		return 1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(why, len, "is not a regular file");
		return 1;
	}
	if (sb.st_size == 0) {
		snprintf(why, len, "is empty (0 bytes)");
		return 1;
	}
	if (stat(state ? x->statepath : x->store, &lsb) == 0 &&
	    lsb.st_dev == sb.st_dev && lsb.st_ino == sb.st_ino) {
		snprintf(why, len, "is the live %s itself (a hard link)",
		    state ? "state file" : "store");
		return 1;
	}
	/* Its schema and counts, then integrity_check, the long one. */
	if (file_facts(b->path, state, &c->f, why, len) != 0)
		return 1;
	if (file_check(b->path, true, true, msg, sizeof(msg)) != 0) {
		snprintf(why, len, "fails integrity_check: %s", msg);
		return 1;
	}
	if ((k = rec_find(r, nr, b->name)) != NULL) {
		if (facts_differ(&k->f, &c->f, msg, sizeof(msg)) != 0) {
			snprintf(why, len, "is not what bt-backup recorded when "
			    "it took it: %s", msg);
			return 1;
		}
		c->recorded = true;
		c->b.time = k->taken;
		return 0;
	}
	/*
	 * No record.  A store backup dated before bt-backup's first record
	 * was taken before bt recorded backups, and passes on the checks
	 * above; one dated since is no backup bt-backup took.
	 */
	if (!state && t0 >= 0 && b->day >= t0 - t0 % 86400000) {
		snprintf(why, len, "has no record, though bt-backup has "
		    "recorded every backup it took since %s",
		    bt_fmt_time(t0, ts));
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------- the backup */

/*
 * One backup: src (a live file, opened read-only) to name in backups/,
 * through .name.tmp, fsync, quick_check, rename, fsync of the directory.
 * What the copy holds goes into *f and, before the rename, into the
 * state file's `backups' (a kill between the two leaves a record
 * without its file, never a file bt took without its record).
 */
static int
backup_one(struct ctx *x, const char *src, const char *name, bool state,
    char *final, int64_t *bytes, int64_t *taken, double *tcopy,
    double *tcheck, struct facts *f, char *err)
{
	double t0;
	char tmp[PATH_MAX], why[BT_ERRLEN];
	sqlite3 *db;
	int64_t need, have, now;
	int rc;

	memset(f, 0, sizeof(*f));
	f->schema = -1;

	snprintf(final, PATH_MAX, "%s/%s", x->bdir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", x->bdir, name);
	if ((rc = db_open(src, SQLITE_OPEN_READONLY, false, &db, err)) != 0)
		return rc;
	need = db_bytes(db);
	if ((have = avail(x->bdir)) >= 0 && have < need) {
		snprintf(err, BT_ERRLEN, "%s: %lld bytes free, the copy of %s "
		    "needs %lld", x->bdir, (long long)have, src,
		    (long long)need);
		sqlite3_close(db);
		return BT_EX_IOERR;
	}
	t0 = bt_mono();
	rc = copy_db(db, tmp, err);
	sqlite3_close(db);
	*tcopy = bt_mono() - t0;
	t0 = bt_mono();
	if (rc == 0 && file_check(tmp, false, true, why, sizeof(why)) != 0) {
		snprintf(err, BT_ERRLEN, "%s: quick_check of the copy: %s", tmp,
		    why);
		rc = BT_EX_IOERR;
	}
	*tcheck = bt_mono() - t0;
	if (rc == 0 && file_facts(tmp, state, f, why, sizeof(why)) != 0) {
		/* Kept, as any copy of the live file is, but no restore's. */
		bt_event(x->st, "WARNING", "backup_unrecorded", NULL, NULL,
		    json_pack("{s:s}", "file", name), "backup %s is kept but "
		    "not recorded, and no restore will use it: the copy of %s "
		    "%s", name, src, why);
		f->schema = -1;
	}
	if (rc == 0) {
		*taken = now = bt_now_ms();
		stamp(tmp, now);
		if (x->st != NULL && f->schema > 0 &&
		    (rc = rec_put(x, name, now, f, err)) != 0) {
			unlink(tmp);
			return rc;
		}
		if (rename(tmp, final) == -1) {
			snprintf(err, BT_ERRLEN, "rename %s: %s", tmp,
			    strerror(errno));
			rc = errno_ex(errno);
		} else if (bt_fsync_dir(final, err) == -1)
			rc = BT_EX_IOERR;
	}
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	*bytes = fsize(final);
	return 0;
}

/* Deletes the oldest of a kind beyond its count, never `protect'. */
static void
rotate(struct ctx *x, int kind, const char *protect)
{
	struct bfile *v;
	size_t n, i;
	int kept = 0;
	json_t *rec;

	if (list_backups(x, kind, &v, &n) == -1)
		return;
	/* By the date in the name: newest first. */
	for (i = 0; i < n; i++)
		v[i].time = v[i].day;
	qsort(v, n, sizeof(*v), bfile_cmp);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].path, protect) == 0 || kept < keep[kind]) {
			kept++;
			continue;
		}
		if (x->dry || unlink(v[i].path) == 0) {
			if (!x->dry)
				rec_del(x, v[i].name);
			if (!x->quiet) {
				rec = bt_rec("rotate");
				json_object_set_new(rec, "deleted",
				    json_string(v[i].name));
				if (x->dry)
					json_object_set_new(rec, "dry_run",
					    json_true());
				bt_emit(rec);
			}
		} else
			bt_warnx("rotate: unlink %s: %s", v[i].path,
			    strerror(errno));
	}
	free(v);
}

/* A new weekly copy to the offsite directory or through the command. */
static int
offsite(struct ctx *x, const char *file, const char *name)
{
	const char *dir = x->offsite ? x->offsite :
	    bt_conf("BT_BACKUP_OFFSITE_DIR");
	const char *cmd = bt_conf("BT_BACKUP_OFFSITE_CMD");
	char dst[PATH_MAX], err[BT_ERRLEN];
	int rc = 0, status;
	pid_t pid;
	json_t *rec;

	if (*dir != '\0') {
		snprintf(dst, sizeof(dst), "%s/%s", dir, name);
		unlink(dst);	/* a rerun the same Sunday replaces it */
		if ((rc = copy_raw(file, dst, 0600, err)) != 0) {
			bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
			    json_pack("{s:s}", "offsite", dir),
			    "offsite copy of %s failed: %s", name, err);
			return rc;
		}
		rec = bt_rec("offsite");
		json_object_set_new(rec, "file", json_string(name));
		json_object_set_new(rec, "dest", json_string(dst));
		bt_emit(rec);
		/* The offsite directory keeps the same 4 weeks. */
		{
			struct ctx o = *x;
			o.bdir = (char *)dir;
			o.st = NULL;	/* the records are of backups/ */
			rotate(&o, 1, dst);
		}
	}
	if (*cmd != '\0') {
		/* The file is $1 of the command, never spliced into it. */
		if ((pid = fork()) == -1)
			return BT_EX_SOFTWARE;
		if (pid == 0) {
			dup2(STDERR_FILENO, STDOUT_FILENO);
			execl("/bin/sh", "sh", "-c", cmd, "sh", file,
			    (char *)NULL);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
			    NULL, "offsite command for %s failed (%s %d)", name,
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) :
			    WTERMSIG(status));
			return BT_EX_UNAVAILABLE;
		}
		rec = bt_rec("offsite");
		json_object_set_new(rec, "file", json_string(name));
		json_object_set_new(rec, "command", json_true());
		bt_emit(rec);
	}
	return rc;
}

/*
 * Leftovers of a run that died: files in `dir' named PREFIX*.tmp (or
 * PREFIX*.tmp-journal, the sqlite3 shell's journal of a salvage) for a
 * PREFIX of the NULL-terminated `prefix', our temporary names only.  A
 * finished file is renamed off .tmp, so none holds what a run kept.
 */
static void
sweep_tmp(const char *dir, const char *const *prefix)
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

static int
run_backup(struct ctx *x)
{
	char name[64], wname[64], sname[64], day[16], err[BT_ERRLEN];
	char final[PATH_MAX], wpath[PATH_MAX], wtmp[PATH_MAX];
	char spath[PATH_MAX];
	char werr[BT_ERRLEN];
	int64_t bytes = 0, sbytes = 0, now = bt_now_ms(), taken, staken;
	double t0 = bt_mono(), tcopy = 0, tcheck = 0, t1, t2;
	bool weekly = is_sunday(now);
	struct facts f, sf;
	int rc, src, wrc;
	json_t *rec;

	ymd(now, day);
	snprintf(name, sizeof(name), "db_backup_%s.db", day);
	snprintf(wname, sizeof(wname), "db_backup_weekly_%s.db", day);
	snprintf(sname, sizeof(sname), "state_backup_%s.db", day);
	if (x->dry) {
		rec = bt_rec("plan");
		json_object_set_new(rec, "file", json_string(name));
		json_object_set_new(rec, "weekly", weekly ? json_string(wname) :
		    json_null());
		json_object_set_new(rec, "state_file", json_string(sname));
		bt_emit(rec);
		snprintf(final, sizeof(final), "%s/%s", x->bdir, name);
		rotate(x, 0, final);
		if (weekly) {
			snprintf(final, sizeof(final), "%s/%s", x->bdir,
			    wname);
			rotate(x, 1, final);
		}
		snprintf(final, sizeof(final), "%s/%s", x->bdir, sname);
		rotate(x, 2, final);
		return 0;
	}
	if (bt_mkdirs(x->bdir, 0700, err) == -1) {
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL, NULL,
		    "no backup taken: %s", err);
		return BT_EX_CANTCREAT;
	}
	{
		/* backup_one()'s and test_restore()'s temporary names */
		static const char *const ours[] = { ".db_backup_",
		    ".state_backup_", ".test_restore", NULL };
		sweep_tmp(x->bdir, ours);
	}
	if ((rc = backup_one(x, x->store, name, false, final, &bytes, &taken,
	    &tcopy, &tcheck, &f, err)) != 0) {
		/* Nothing rotated: every old backup stays. */
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
		    json_pack("{s:s}", "file", name),
		    "backup of the store failed; old backups left intact: %s",
		    err);
		return rc;
	}
	/* Sunday's daily is also the weekly: a hard link, made atomically. */
	if (weekly) {
		snprintf(wpath, sizeof(wpath), "%s/%s", x->bdir, wname);
		snprintf(wtmp, sizeof(wtmp), "%s/.%s.tmp", x->bdir, wname);
		unlink(wtmp);
		wrc = 0;
		if (link(final, wtmp) == -1)
			wrc = BT_EX_IOERR;
		else if (x->st != NULL && f.schema > 0 &&
		    (wrc = rec_put(x, wname, taken, &f, werr)) != 0)
			snprintf(err, BT_ERRLEN, "weekly %s: %s", wname, werr);
		else if (rename(wtmp, wpath) == -1 ||
		    bt_fsync_dir(wpath, werr) == -1)
			wrc = BT_EX_IOERR;
		if (wrc != 0) {
			if (wrc == BT_EX_IOERR)
				snprintf(err, BT_ERRLEN, "weekly %s: %s", wname,
				    strerror(errno));
			unlink(wtmp);
			bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
			    NULL, "%s", err);
			rc = wrc;
			weekly = false;
		}
	}
	src = 0;
	if (access(x->statepath, F_OK) == 0) {
		src = backup_one(x, x->statepath, sname, true, spath, &sbytes,
		    &staken, &t1, &t2, &sf, err);
		if (src != 0) {
			bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
			    json_pack("{s:s}", "file", sname),
			    "backup of the state file failed: %s", err);
			rc = bt_exit_worse(rc, src);
		}
	}
	rec = json_pack("{s:s, s:I, s:o, s:o, s:I}", "file", name, "bytes",
	    (json_int_t)bytes, "weekly", weekly ? json_string(wname) :
	    json_null(), "state_file", src == 0 && sbytes > 0 ?
	    json_string(sname) : json_null(), "state_bytes",
	    (json_int_t)sbytes);
	bt_rec_dur(rec, "copy_seconds", tcopy);
	bt_rec_dur(rec, "check_seconds", tcheck);
	bt_rec_dur(rec, "seconds", bt_mono() - t0);
	bt_event(x->st, "INFO", "backup", NULL, NULL, rec,
	    "backup %s taken and checked (%lld bytes)%s", name,
	    (long long)bytes, weekly ? "; kept as this week's weekly" : "");
	rotate(x, 0, final);
	if (weekly)
		rotate(x, 1, wpath);
	if (src == 0 && sbytes > 0)
		rotate(x, 2, spath);
	if (weekly && (x->offsite != NULL ||
	    *bt_conf("BT_BACKUP_OFFSITE_DIR") != '\0' ||
	    *bt_conf("BT_BACKUP_OFFSITE_CMD") != '\0'))
		rc = bt_exit_worse(rc, offsite(x, wpath, wname));
	return rc;
}

/* ------------------------------------------------------------- vacuum */

static int
run_vacuum(struct ctx *x)
{
	sqlite3 *db;
	char err[BT_ERRLEN], dir[PATH_MAX], *s, wal[PATH_MAX];
	int64_t before, after, need, have, freepages = 0;
	double t0, blocked;
	sqlite3_stmt *st;
	json_t *rec;
	int rc;

	snprintf(wal, sizeof(wal), "%s-wal", x->store);
	snprintf(dir, sizeof(dir), "%s", x->store);
	if ((s = strrchr(dir, '/')) != NULL)
		*s = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if ((rc = db_open(x->store, SQLITE_OPEN_READWRITE, false, &db, err))
	    != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA freelist_count", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		freepages = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	before = fsize(x->store) + fsize(wal);
	/* VACUUM rewrites every page through the WAL: room for a copy. */
	need = db_bytes(db) + db_bytes(db) / 10;
	if ((have = avail(dir)) >= 0 && have < need) {
		bt_event(x->st, "CRITICAL", "vacuum_failed", NULL, NULL,
		    json_pack("{s:I, s:I}", "free", (json_int_t)have, "needed",
		    (json_int_t)need), "VACUUM refused: %s has %lld bytes free, "
		    "the copy needs %lld", dir, (long long)have,
		    (long long)need);
		sqlite3_close(db);
		return BT_EX_IOERR;
	}
	if ((rc = bt_wlock(err)) != 0) {
		bt_warnx("%s", err);
		sqlite3_close(db);
		return rc;
	}
	t0 = bt_mono();
	rc = bt_exec(db, "VACUUM", err);
	if (rc == 0)
		rc = bt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", err);
	blocked = bt_mono() - t0;
	bt_wunlock();
	sqlite3_close(db);
	if (rc != 0) {
		bt_event(x->st, "CRITICAL", "vacuum_failed", NULL, NULL, NULL,
		    "VACUUM of %s failed: %s", x->store, err);
		return rc;
	}
	after = fsize(x->store) + fsize(wal);
	rec = json_pack("{s:I, s:I, s:I, s:I}", "bytes_before",
	    (json_int_t)before, "bytes_after", (json_int_t)after,
	    "reclaimed", (json_int_t)(before - after), "free_pages",
	    (json_int_t)freepages);
	bt_rec_dur(rec, "writers_blocked_seconds", blocked);
	if (bt_now_frozen())
		bt_event(x->st, "INFO", "vacuum", NULL, NULL, rec,
		    "VACUUM reclaimed %lld bytes", (long long)(before - after));
	else
		bt_event(x->st, "INFO", "vacuum", NULL, NULL, rec,
		    "VACUUM reclaimed %lld bytes; writers were blocked %.3fs",
		    (long long)(before - after), blocked);
	return 0;
}

/* ------------------------------------------------------------- verify */

/* The times bt-backup recorded replace the files' mtimes; newest first. */
static void
recs_apply(struct bfile *v, size_t n, const struct brec *r, size_t nr)
{
	const struct brec *k;
	size_t i;

	for (i = 0; i < n; i++)
		if ((k = rec_find(r, nr, v[i].name)) != NULL)
			v[i].time = k->taken;
	qsort(v, n, sizeof(*v), bfile_cmp);
}

static int
run_verify(struct ctx *x)
{
	struct bfile *v;
	struct brec *r;
	struct cand c;
	size_t n, nr, i, j;
	char why[BT_ERRLEN], ts[32];
	int *bad, good = 0, nbad = 0;
	bool *recd;
	int64_t t0;
	const char *newest = NULL;
	json_t *rec;
	int rc = 0;

	if (list_backups(x, -1, &v, &n) == -1) {
		bt_warnx("%s: %s", x->bdir, strerror(errno));
		return BT_EX_IOERR;
	}
	recs_load(x, &r, &nr, &t0);
	recs_apply(v, n, r, nr);
	if ((bad = calloc(n + 1, sizeof(*bad))) == NULL ||
	    (recd = calloc(n + 1, sizeof(*recd))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		/* A weekly is a link to a daily: check the file once. */
		for (j = 0; j < i; j++)
			if (v[j].dev == v[i].dev && v[j].ino == v[i].ino)
				break;
		if (j < i) {
			bad[i] = bad[j];
			recd[i] = recd[j];
			snprintf(why, sizeof(why), "%s", bad[i] ? "bad" : "ok");
		} else {
			/* The checks a restore makes (bt-backup(1)). */
			bad[i] = cand_check(x, &v[i], v[i].kind == 2, r, nr, t0,
			    &c, why, sizeof(why));
			recd[i] = !bad[i] && c.recorded;
		}
		if (bad[i]) {
			nbad++;
			bt_event(x->st, "WARNING", "backup_bad", NULL, NULL,
			    json_pack("{s:s}", "file", v[i].name),
			    "backup %s is no good backup: it %s", v[i].name,
			    why);
		} else if (v[i].kind != 2) {
			good++;
			if (newest == NULL)
				newest = v[i].name;
		}
		if (!x->quiet || bad[i]) {
			rec = bt_rec("verify");
			json_object_set_new(rec, "file", json_string(v[i].name));
			json_object_set_new(rec, "kind", json_string(v[i].kind ==
			    0 ? "daily" : v[i].kind == 1 ? "weekly" : "state"));
			json_object_set_new(rec, "taken", json_string(
			    bt_fmt_time(v[i].time, ts)));
			json_object_set_new(rec, "bytes",
			    json_integer((json_int_t)v[i].size));
			json_object_set_new(rec, "status", json_string(bad[i] ?
			    "bad" : "good"));
			json_object_set_new(rec, "recorded",
			    json_boolean(recd[i]));
			if (bad[i])
				json_object_set_new(rec, "detail",
				    json_string(why));
			bt_emit(rec);
		}
	}
	if (good == 0) {
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL, NULL,
		    "no store backup in %s passes the checks of a restore",
		    x->bdir);
		rc = BT_EX_FOUND;
	} else if (nbad > 0)
		rc = BT_EX_FOUND;
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("verify"));
	json_object_set_new(rec, "files", json_integer((json_int_t)n));
	json_object_set_new(rec, "good", json_integer((json_int_t)n - nbad));
	json_object_set_new(rec, "bad", json_integer(nbad));
	json_object_set_new(rec, "newest_good", newest ? json_string(newest) :
	    json_null());
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	free(bad);
	free(recd);
	free(v);
	free(r);
	return rc;
}

/* -------------------------------------------------- choosing a backup */

/*
 * The newest store backup taken at or before `before' (ms; INT64_MAX for
 * any) that passes cand_check(); each one skipped before it is a WARNING
 * backup_bad event with the reason.  0, BT_EX_NOINPUT when none passes,
 * BT_EX_IOERR when backups/ does not read.
 */
static int
choose(struct ctx *x, int64_t before, struct cand *out)
{
	struct bfile *v;
	struct brec *r;
	size_t n, nr, i, j;
	char why[BT_ERRLEN];
	int64_t t0;
	bool tried;

	if (list_backups(x, -1, &v, &n) == -1) {
		bt_warnx("%s: %s", x->bdir, strerror(errno));
		return BT_EX_IOERR;
	}
	recs_load(x, &r, &nr, &t0);
	recs_apply(v, n, r, nr);
	for (i = 0; i < n; i++) {
		if (v[i].kind == 2 || v[i].time > before)
			continue;
		for (tried = false, j = 0; j < i; j++)
			if (v[j].kind != 2 && v[j].time <= before &&
			    v[j].dev == v[i].dev && v[j].ino == v[i].ino)
				tried = true;
		if (tried)
			continue;
		if (cand_check(x, &v[i], false, r, nr, t0, out, why,
		    sizeof(why)) == 0) {
			free(v);
			free(r);
			return 0;
		}
		bt_event(x->dry ? NULL : x->st, "WARNING", "backup_bad", NULL,
		    NULL, json_pack("{s:s}", "file", v[i].name),
		    "backup %s skipped: it %s", v[i].name, why);
	}
	free(v);
	free(r);
	return BT_EX_NOINPUT;
}

/* ------------------------------------------------------- test-restore */

struct tcount {
	char	 name[128];
	int64_t	 rows;
};

static int
tables(sqlite3 *db, struct tcount **out, size_t *n)
{
	sqlite3_stmt *s, *c;
	struct tcount *v = NULL;
	char *sql;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE "
	    "type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((v = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			abort();
		snprintf(v[*n].name, sizeof(v[*n].name), "%s",
		    sqlite3_column_text(s, 0));
		v[*n].rows = -1;
		sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"",
		    v[*n].name);
		if (sqlite3_prepare_v2(db, sql, -1, &c, NULL) == SQLITE_OK &&
		    sqlite3_step(c) == SQLITE_ROW)
			v[*n].rows = sqlite3_column_int64(c, 0);
		sqlite3_finalize(c);
		sqlite3_free(sql);
		(*n)++;
	}
	sqlite3_finalize(s);
	*out = v;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Newest open time per timeframe: {"1h": ms, ...}. */
static json_t *
newest(sqlite3 *db)
{
	sqlite3_stmt *s;
	json_t *o = json_object();

	if (sqlite3_prepare_v2(db, "SELECT p.tf, max((SELECT max(slot) FROM "
	    "candles WHERE pair=p.id)*p.iv) FROM pairs p GROUP BY p.tf "
	    "ORDER BY p.tf", -1, &s, NULL) != SQLITE_OK)
		return o;
	while (sqlite3_step(s) == SQLITE_ROW)
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			json_object_set_new(o, (const char *)
			    sqlite3_column_text(s, 0),
			    json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_finalize(s);
	return o;
}

static int
run_test_restore(struct ctx *x)
{
	struct cand c;
	struct bfile b;
	char scratch[PATH_MAX], err[BT_ERRLEN], why[BT_ERRLEN], ts[32];
	sqlite3 *src = NULL, *live = NULL, *res = NULL;
	struct tcount *lt = NULL, *rt = NULL;
	size_t nl = 0, nr = 0, i, j;
	json_t *tbl, *missing, *lnew, *rnew, *rec, *v;
	const char *k;
	bool ok = true;
	int rc;

	if ((rc = choose(x, INT64_MAX, &c)) != 0) {
		bt_event(x->st, "CRITICAL", "test_restore", NULL, NULL, NULL,
		    "restore test: no backup in %s passes the checks of a "
		    "restore", x->bdir);
		return rc == BT_EX_NOINPUT ? BT_EX_FOUND : rc;
	}
	b = c.b;
	snprintf(scratch, sizeof(scratch), "%s/.test_restore.db.tmp", x->bdir);
	if ((rc = db_open(b.path, SQLITE_OPEN_READONLY, true, &src, err)) != 0 ||
	    (rc = copy_db(src, scratch, err)) != 0) {
		sqlite3_close(src);
		unlink(scratch);
		bt_event(x->st, "CRITICAL", "test_restore", NULL, NULL, NULL,
		    "restore test of %s failed: %s", b.name, err);
		return rc;
	}
	sqlite3_close(src);
	if (file_check(scratch, true, true, why, sizeof(why)) != 0) {
		ok = false;
		snprintf(err, sizeof(err), "the restored copy fails "
		    "integrity_check: %s", why);
	}
	if ((rc = db_open(scratch, SQLITE_OPEN_READONLY, true, &res, err)) != 0
	    || (rc = db_open(x->store, SQLITE_OPEN_READONLY, false, &live,
	    err)) != 0) {
		sqlite3_close(res);
		unlink(scratch);
		bt_event(x->st, "CRITICAL", "test_restore", NULL, NULL, NULL,
		    "restore test of %s failed: %s", b.name, err);
		return rc;
	}
	tables(live, &lt, &nl);
	tables(res, &rt, &nr);
	tbl = json_object();
	missing = json_array();
	for (i = 0; i < nl; i++) {
		for (j = 0; j < nr && strcmp(rt[j].name, lt[i].name); j++)
			;
		json_object_set_new(tbl, lt[i].name, json_pack("{s:I, s:o}",
		    "live", (json_int_t)lt[i].rows, "restored", j < nr ?
		    json_integer(rt[j].rows) : json_null()));
		if (j == nr)
			json_array_append_new(missing, json_string(lt[i].name));
	}
	lnew = newest(live);
	rnew = newest(res);
	if (json_array_size(missing) > 0 && ok) {
		ok = false;
		snprintf(err, sizeof(err), "the restored copy lacks %zu of the "
		    "live store's tables", json_array_size(missing));
	}
	json_object_foreach(rnew, k, v)
		if (ok && json_integer_value(v) >
		    json_integer_value(json_object_get(lnew, k))) {
			ok = false;
			snprintf(err, sizeof(err), "the restored copy holds "
			    "newer %s candles than the live store", k);
		}
	rec = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "backup",
	    b.name, "restore_point", bt_fmt_time(b.time, ts), "status",
	    ok ? "ok" : "failed", "tables", tbl, "missing_tables", missing,
	    "newest_live", lnew, "newest_restored", rnew);
	if (ok)
		bt_event(x->st, "INFO", "test_restore", NULL, NULL, rec,
		    "restore test: %s restores, passes integrity_check and "
		    "holds all %zu tables of the live store", b.name, nl);
	else
		bt_event(x->st, "CRITICAL", "test_restore", NULL, NULL, rec,
		    "restore test of %s failed: %s", b.name, err);
	sqlite3_close(res);
	sqlite3_close(live);
	unlink(scratch);
	free(lt);
	free(rt);
	return ok ? 0 : BT_EX_FOUND;
}

/* ------------------------------------------------ restore and rollback */

/* Is the live trader running?  Its pid file, or a fresh heartbeat. */
static bool
trader_alive(char *why, size_t len)
{
	const char *pf = bt_conf("BT_TRADER_PIDFILE");
	const char *hb = bt_conf("BT_TRADER_HEARTBEAT");
	char *buf, err[BT_ERRLEN], *end, ts[32];
	size_t n;
	long pid;
	int64_t t = -1, age, max = bt_conf_long("BT_TRADER_HEARTBEAT_MAX_AGE") *
	    1000LL;
	double d;
	struct stat sb;

	if (*pf != '\0' && (buf = bt_read_file(pf, 4096, &n, err)) != NULL) {
		pid = strtol(buf, &end, 10);
		free(buf);
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
			snprintf(why, len, "the live trader is running (pid "
			    "%ld in %s)", pid, pf);
			return true;
		}
	}
	if (*hb != '\0' && stat(hb, &sb) == 0) {
		/* Its content when it is a time, else its mtime. */
		if ((buf = bt_read_file(hb, 4096, &n, err)) != NULL) {
			buf[strcspn(buf, "\r\n")] = '\0';
			if (bt_parse_time(buf, &t) == -1) {
				d = strtod(buf, &end);
				if (end != buf && *end == '\0' && d > 1e9)
					t = d < 1e11 ? (int64_t)(d * 1000) :
					    (int64_t)d;
				else
					t = -1;
			}
			free(buf);
		}
		if (t < 0)
			t = (int64_t)sb.st_mtim.tv_sec * 1000 +
			    sb.st_mtim.tv_nsec / 1000000;
		age = bt_now_ms() - t;
		if (age <= max) {
			snprintf(why, len, "the live trader's heartbeat %s is "
			    "fresh (%s, %llds old; BT_TRADER_HEARTBEAT_MAX_AGE "
			    "is %llds)", hb, bt_fmt_time(t, ts),
			    (long long)(age / 1000), (long long)(max / 1000));
			return true;
		}
	}
	return false;
}

/* db/LOCKED as bt-backup writes it; see bt-backup(1), FILES. */
struct lockinfo {
	long	 pid;
	int64_t	 start;
	char	 boot[64], op[16], started[32];
	char	 damaged[PATH_MAX];
	bool	 parsed;
};

static bool
read_lock(struct lockinfo *li)
{
	char *path = bt_path("db/LOCKED"), *buf, err[BT_ERRLEN];
	size_t n;
	json_t *o;
	json_error_t je;

	memset(li, 0, sizeof(*li));
	if ((buf = bt_read_file(path, 65536, &n, err)) == NULL) {
		free(path);
		return false;
	}
	free(path);
	if ((o = json_loads(buf, 0, &je)) != NULL && json_is_object(o)) {
		li->parsed = true;
		li->pid = (long)json_integer_value(json_object_get(o, "pid"));
		li->start = json_integer_value(json_object_get(o,
		    "start_ticks"));
		snprintf(li->boot, sizeof(li->boot), "%s", json_string_value(
		    json_object_get(o, "boot_id")) ? json_string_value(
		    json_object_get(o, "boot_id")) : "");
		snprintf(li->op, sizeof(li->op), "%s", json_string_value(
		    json_object_get(o, "op")) ? json_string_value(
		    json_object_get(o, "op")) : "");
		snprintf(li->started, sizeof(li->started), "%s",
		    json_string_value(json_object_get(o, "started")) ?
		    json_string_value(json_object_get(o, "started")) : "");
		snprintf(li->damaged, sizeof(li->damaged), "%s",
		    json_string_value(json_object_get(o, "damaged")) ?
		    json_string_value(json_object_get(o, "damaged")) : "");
	}
	json_decref(o);
	free(buf);
	return true;
}

/* Is the process that wrote db/LOCKED still the one running? */
static bool
lock_owner_alive(const struct lockinfo *li)
{
	if (!li->parsed || li->pid <= 0)
		return false;
	if (strcmp(li->boot, bt_boot_id()) != 0)
		return false;
	if (kill((pid_t)li->pid, 0) == -1 && errno != EPERM)
		return false;
	return bt_proc_start_ticks(li->pid) == li->start;
}

static int
write_lock(struct ctx *x, const char *damaged, char *err)
{
	char *path = bt_path("db/LOCKED"), *s, ts[32];
	json_t *o;
	int rc;

	o = json_pack("{s:I, s:I, s:s, s:s, s:s}", "pid", (json_int_t)getpid(),
	    "start_ticks", (json_int_t)bt_proc_start_ticks(getpid()),
	    "boot_id", bt_boot_id(), "op", x->mode == M_ROLLBACK ? "rollback" :
	    "restore", "started", bt_fmt_time(bt_now_ms(), ts));
	if (damaged != NULL && *damaged != '\0')
		json_object_set_new(o, "damaged", json_string(damaged));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	rc = bt_write_atomic(path, s, strlen(s), 0640, err) == -1 ?
	    BT_EX_IOERR : 0;
	free(s);
	free(path);
	return rc;
}

static int
remove_lock(char *err)
{
	char *path = bt_path("db/LOCKED");
	int rc = 0;

	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, BT_ERRLEN, "unlink %s: %s", path, strerror(errno));
		rc = BT_EX_IOERR;
	} else if (bt_fsync_dir(path, err) == -1)
		rc = BT_EX_IOERR;
	free(path);
	return rc;
}

/* A free name for `base.TAG-STAMP', never an existing file. */
static void
aside_name(const char *base, const char *tag, char *out, size_t len)
{
	char ts[32], stampb[32];
	int i;

	bt_fmt_time(bt_now_ms(), ts);
	snprintf(stampb, sizeof(stampb), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts,
	    ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);
	snprintf(out, len, "%s.%s-%s", base, tag, stampb);
	for (i = 2; access(out, F_OK) == 0; i++)
		snprintf(out, len, "%s.%s-%s.%d", base, tag, stampb, i);
}

/*
 * The partial copies a killed restore leaves next to the store: the
 * aside copy's NAME.damaged-*.tmp or NAME.before-rollback-*.tmp (and
 * their -wal.tmp), a salvage's NAME.salvage-*.tmp and .restore.tmp.
 * Called with db/LOCKED and the write lock held: no other restore can
 * be writing them.
 */
static void
sweep_store_tmp(const char *store)
{
	char dir[PATH_MAX], pre1[PATH_MAX], pre2[PATH_MAX], pre3[PATH_MAX];
	const char *base = store, *prefix[5];
	char *s;

	snprintf(dir, sizeof(dir), "%s", store);
	if ((s = strrchr(dir, '/')) != NULL) {
		*s = '\0';
		base = s + 1;
	} else
		snprintf(dir, sizeof(dir), ".");
	snprintf(pre1, sizeof(pre1), "%s.damaged-", base);
	snprintf(pre2, sizeof(pre2), "%s.before-rollback-", base);
	snprintf(pre3, sizeof(pre3), "%s.salvage-", base);
	prefix[0] = pre1;
	prefix[1] = pre2;
	prefix[2] = pre3;
	prefix[3] = ".restore.tmp";
	prefix[4] = NULL;
	sweep_tmp(dir, prefix);
}

/* Moves path, path-wal and path-shm to aside (and its -wal, -shm). */
static int
move_aside(const char *path, const char *aside, char *err)
{
	static const char *sfx[] = { "", "-wal", "-shm" };
	char a[PATH_MAX], b[PATH_MAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(a, sizeof(a), "%s%s", path, sfx[i]);
		snprintf(b, sizeof(b), "%s%s", aside, sfx[i]);
		if (rename(a, b) == -1 && errno != ENOENT) {
			snprintf(err, BT_ERRLEN, "rename %s: %s", a,
			    strerror(errno));
			return BT_EX_IOERR;
		}
	}
	return bt_fsync_dir(path, err) == -1 ? BT_EX_IOERR : 0;
}

/*
 * Restores backup `from' into the live file `live': through the backup
 * API into the open file when it opens, else (a destroyed header) by
 * moving it and its -wal and -shm aside and renaming a fresh copy into
 * place.  The caller holds run/write.lock and db/LOCKED.
 */
static int
restore_file(const char *from, const char *live, const char *aside,
    bool copied_aside, const char **method, char *err)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	char tmp[PATH_MAX], moved[PATH_MAX], *s;
	int rc, step = SQLITE_OK;
	bool ro;

	if ((rc = db_open(from, SQLITE_OPEN_READONLY, true, &src, err)) != 0)
		return rc;
	*method = "backup_api";
	if (access(live, F_OK) == 0 &&
	    db_open(live, SQLITE_OPEN_READWRITE, false, &dst, err) == 0) {
		if ((b = sqlite3_backup_init(dst, "main", src, "main")) != NULL) {
			while ((step = sqlite3_backup_step(b, -1)) ==
			    SQLITE_BUSY || step == SQLITE_LOCKED)
				bt_sleep(0.05);
			sqlite3_backup_finish(b);
		} else
			step = sqlite3_errcode(dst);
		if (step == SQLITE_DONE) {
			rc = bt_exec(dst, "PRAGMA wal_checkpoint(TRUNCATE)",
			    err);
			sqlite3_close(dst);
			sqlite3_close(src);
			return rc;
		}
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(dst));
		/*
		 * A header whose page size differs from the backup's makes
		 * the backup API refuse a WAL destination with READONLY,
		 * though the connection can write: replace the file too.
		 */
		ro = sqlite3_db_readonly(dst, "main") == 1;
		sqlite3_close(dst);
		dst = NULL;
		if ((step & 0xff) != SQLITE_NOTADB &&
		    (step & 0xff) != SQLITE_CORRUPT &&
		    (step & 0xff) != SQLITE_IOERR &&
		    ((step & 0xff) != SQLITE_READONLY || ro)) {
			sqlite3_close(src);
			return bt_sqlite_ex(step) ? bt_sqlite_ex(step) :
			    BT_EX_SOFTWARE;
		}
	}
	/* It no longer opens as a database: replace the file itself. */
	*method = "rename";
	snprintf(moved, sizeof(moved), "%s%s", aside, copied_aside ?
	    ".moved" : "");
	snprintf(tmp, sizeof(tmp), "%s", live);
	if ((s = strrchr(tmp, '/')) != NULL)
		snprintf(s + 1, sizeof(tmp) - (size_t)(s + 1 - tmp),
		    ".restore.tmp");
	else
		snprintf(tmp, sizeof(tmp), ".restore.tmp");
	if ((rc = copy_db(src, tmp, err)) != 0) {
		sqlite3_close(src);
		unlink(tmp);
		return rc;
	}
	sqlite3_close(src);
	chmod(tmp, 0640);
	if ((rc = move_aside(live, moved, err)) != 0) {
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, live) == -1) {
		snprintf(err, BT_ERRLEN, "rename %s: %s", tmp, strerror(errno));
		return BT_EX_IOERR;
	}
	return bt_fsync_dir(live, err) == -1 ? BT_EX_IOERR : 0;
}

/*
 * Runs `sqlite3 SRC CMD... | sqlite3 OUT', the parent passing the SQL on
 * and turning the shell's closing "ROLLBACK; -- due to errors" (a .dump
 * that met corruption) into COMMIT, so what was read is kept.  0 when
 * both shells exit 0.
 */
static int
shell_pipe(const char *src, const char *const *cmd, int ncmd,
    const char *out)
{
	const char *cli = bt_conf("BT_SQLITE3");
	const char *argv[16];
	int in[2], outp[2], st1 = 0, st2 = 0, fd, i;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	pid_t a, b;
	FILE *r, *w;

	if (pipe(in) == -1)
		return -1;
	if (pipe(outp) == -1) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	argv[0] = cli;
	argv[1] = src;
	for (i = 0; i < ncmd && i < 13; i++)
		argv[2 + i] = cmd[i];
	argv[2 + i] = NULL;
	if ((a = fork()) == 0) {
		dup2(in[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		/* .recover's failure here is expected; .dump follows. */
		if (strcmp(cmd[0], ".recover") == 0 &&
		    (fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDERR_FILENO);
		execvp(cli, (char *const *)argv);
		_exit(127);
	}
	if ((b = fork()) == 0) {
		dup2(outp[0], STDIN_FILENO);
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execlp(cli, cli, out, (char *)NULL);
		_exit(127);
	}
	close(in[1]);
	close(outp[0]);
	r = fdopen(in[0], "r");
	w = fdopen(outp[1], "w");
	while (r != NULL && w != NULL && (len = getline(&line, &cap, r)) != -1)
		fputs(strncmp(line, "ROLLBACK; -- due to errors", 26) == 0 ?
		    "COMMIT;\n" : line, w);
	free(line);
	if (r != NULL)
		fclose(r);
	if (w != NULL)
		fclose(w);
	if (a > 0)
		while (waitpid(a, &st1, 0) == -1 && errno == EINTR)
			;
	if (b > 0)
		while (waitpid(b, &st2, 0) == -1 && errno == EINTR)
			;
	if (a == -1 || b == -1 || !WIFEXITED(st1) || !WIFEXITED(st2) ||
	    WEXITSTATUS(st1) != 0 || WEXITSTATUS(st2) != 0)
		return -1;
	return 0;
}

/*
 * What the sqlite3 shell still reads from the damaged file, into `out':
 * .recover first; where the shell cannot (Debian's build lacks the
 * sqlite_dbpage table it needs), .dump of the tables bt cannot re-fetch.
 */
static int
salvage(const char *damaged, const char *out, json_t *tables,
    const char **how, char *err)
{
	const char *cmd[14] = { ".recover" };
	struct bt_buf d = { 0 };
	size_t i;
	int fd, rc;

	for (i = 0; i < 2; i++) {
		unlink(out);
		if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1) {
			snprintf(err, BT_ERRLEN, "create %s: %s", out,
			    strerror(errno));
			return BT_EX_CANTCREAT;
		}
		close(fd);
		if (i == 0) {
			*how = "recover";
			rc = shell_pipe(damaged, cmd, 1, out);
		} else {
			*how = "dump";
			bt_buf_add(&d, ".dump", 5);
			for (fd = 0; fd < 12 && (size_t)fd <
			    json_array_size(tables); fd++)
				bt_buf_printf(&d, " \"%s\"", json_string_value(
				    json_array_get(tables, (size_t)fd)));
			cmd[0] = d.p;
			rc = shell_pipe(damaged, cmd, 1, out);
			bt_buf_free(&d);
		}
		if (rc == 0)
			return 0;
	}
	snprintf(err, BT_ERRLEN, "%s could read nothing back from %s",
	    bt_conf("BT_SQLITE3"), damaged);
	return BT_EX_SOFTWARE;
}

/* Rows of trades newer than `after' (ms) in db; -1 when unknown. */
static int64_t
trades_after(const char *path, bool immutable, int64_t after)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int64_t n = -1;

	if (db_open(path, SQLITE_OPEN_READONLY, immutable, &db, err) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM trades WHERE "
	    "timestamp>?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, after);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Newest trades.timestamp of a database, -1 when none. */
static int64_t
trades_newest(sqlite3 *db)
{
	sqlite3_stmt *s;
	int64_t t = -1;

	if (sqlite3_prepare_v2(db, "SELECT max(timestamp) FROM trades", -1,
	    &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return t;
}

/*
 * Tables bt-fetch cannot refill: all but bt's own (own_tables).  The
 * indicator table follows the candles; sentiment and macro rows come
 * again with the next --source runs (sentiment within Binance's 30
 * days, macro BT_MACRO_DAYS).  Those of the restored store and those
 * the live store had before (`live', NULL when it did not read): a
 * table the backup lacks is lost whole.
 */
static json_t *
lost_tables(sqlite3 *db, json_t *live)
{
	sqlite3_stmt *s;
	json_t *a = json_array(), *v;
	const char *name;
	size_t i, j;

	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE "
	    "type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &s,
	    NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			if ((name = (const char *)sqlite3_column_text(s, 0)) !=
			    NULL && !own_table(name))
				json_array_append_new(a, json_string(name));
		sqlite3_finalize(s);
	}
	json_array_foreach(live, i, v) {
		for (j = 0; j < json_array_size(a); j++)
			if (json_equal(json_array_get(a, j), v))
				break;
		if (j == json_array_size(a))
			json_array_append(a, v);
	}
	return a;
}

/* ------------------------------------------ comparing with the live store */

/*
 * What the live store still reads before a restore: the tables bt
 * cannot rebuild, and the candles a restore from the candidate would
 * lose for good (see compare_live).
 */
struct live {
	bool	 opens;
	json_t	*tables;	/* of its tables, those bt cannot rebuild */
	json_t	*missing;	/* of those, the ones the backup lacks */
	int64_t	 candles;	/* candles it reads that no re-fetch brings */
};

static void
live_free(struct live *lv)
{
	json_decref(lv->tables);
	json_decref(lv->missing);
	lv->tables = lv->missing = NULL;
}

/*
 * Opens the live store to read it: read-only, or, when what a killed
 * writer left needs a writer (a WAL index to rebuild, a hot journal),
 * read-write only to read and without a checkpoint at close, as bt(7)
 * says a reader does.  -1 when it does not open or read.
 */
static int
live_open(const char *path, sqlite3 **db)
{
	char err[BT_ERRLEN];
	int rc;

	*db = NULL;
	if (access(path, F_OK) == -1)
		return -1;
	if (db_open(path, SQLITE_OPEN_READONLY, false, db, err) == 0) {
		rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_schema",
		    NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		sqlite3_close(*db);
		*db = NULL;
		if (rc != SQLITE_READONLY_RECOVERY &&
		    rc != SQLITE_READONLY_CANTINIT &&
		    rc != SQLITE_READONLY_ROLLBACK)
			return -1;
	}
	if (db_open(path, SQLITE_OPEN_READWRITE, false, db, err) != 0)
		return -1;
	sqlite3_db_config(*db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (sqlite3_exec(*db, "SELECT count(*) FROM sqlite_schema", NULL,
	    NULL, NULL) != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

/*
 * Candles of a pair with slot <= max that db still reads.  A damaged
 * page ends a scan, so where count(*) fails the rows on each side of
 * the damage are counted, forwards and backwards: the undamaged part.
 */
static int64_t
live_count(sqlite3 *db, int64_t pair, int64_t max)
{
	static const char *const q[] = {
	    "SELECT count(*) FROM candles WHERE pair=?1 AND slot<=?2",
	    "SELECT 1 FROM candles WHERE pair=?1 AND slot<=?2 "
	    "ORDER BY slot, xo",
	    "SELECT 1 FROM candles WHERE pair=?1 AND slot<=?2 "
	    "ORDER BY slot DESC, xo DESC" };
	sqlite3_stmt *s;
	int64_t n = 0;
	int i, rc = SQLITE_ERROR;

	for (i = 0; i < 3; i++) {
		if (sqlite3_prepare_v2(db, q[i], -1, &s, NULL) != SQLITE_OK)
			return n;
		sqlite3_bind_int64(s, 1, pair);
		sqlite3_bind_int64(s, 2, max);
		if (i == 0) {
			if ((rc = sqlite3_step(s)) == SQLITE_ROW)
				n = sqlite3_column_int64(s, 0);
		} else
			while ((rc = sqlite3_step(s)) == SQLITE_ROW)
				n++;
		sqlite3_finalize(s);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			return n;
	}
	return n;
}

/* Is (symbol, tf) configured, so that a restore's gap records cover it? */
static bool
configured(const char *sym, const char *tf)
{
	char **syms, **tfs;
	int nsyms, ntfs, i;
	bool a = false, b = false;

	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	ntfs = bt_conf_list("BT_TIMEFRAMES", &tfs);
	for (i = 0; i < nsyms; i++)
		a = a || strcmp(syms[i], sym) == 0;
	for (i = 0; i < ntfs; i++)
		b = b || strcmp(tfs[i], tf) == 0;
	bt_list_free(syms, nsyms);
	bt_list_free(tfs, ntfs);
	return a && b;
}

/*
 * The live store's candles that a restore from `cand' followed by
 * `bt-fetch --gaps' would not bring back: of each pair, those up to the
 * backup's newest candle of that pair (the gap records re-fetch the
 * rest); of a pair the backup lacks, those older than BT_SINCE_DAYS, or
 * all of them when the pair is not configured (the gap records cover a
 * configured pair's BT_SINCE_DAYS only).  -1 when its pairs do not read.
 */
static int64_t
live_candles(sqlite3 *db, const char *cand)
{
	sqlite3_stmt *s, *q = NULL;
	sqlite3 *cd = NULL;
	char err[BT_ERRLEN];
	const char *sym, *tf;
	int64_t n = 0, iv, max, from, now = bt_now_ms();

	if (db_open(cand, SQLITE_OPEN_READONLY, true, &cd, err) != 0 ||
	    sqlite3_prepare_v2(cd, "SELECT (SELECT slot*p.iv+xo FROM candles "
	    "WHERE pair=p.id ORDER BY slot DESC, xo DESC LIMIT 1) FROM pairs p "
	    "WHERE p.symbol=?1 AND p.tf=?2", -1, &q, NULL) != SQLITE_OK) {
		sqlite3_close(cd);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT id, symbol, tf, iv FROM pairs "
	    "ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		sqlite3_close(cd);
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		sym = (const char *)sqlite3_column_text(s, 1);
		tf = (const char *)sqlite3_column_text(s, 2);
		if ((iv = sqlite3_column_int64(s, 3)) <= 0 || sym == NULL ||
		    tf == NULL)
			continue;
		sqlite3_bind_text(q, 1, sym, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, tf, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW &&
		    sqlite3_column_type(q, 0) != SQLITE_NULL)
			max = sqlite3_column_int64(q, 0) / iv;
		else if (configured(sym, tf)) {
			from = now - bt_conf_long("BT_SINCE_DAYS") * 86400000LL;
			max = from / iv - 1;
		} else
			max = INT64_MAX;
		sqlite3_reset(q);
		n += live_count(db, sqlite3_column_int64(s, 0), max);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(q);
	sqlite3_close(cd);
	return n;
}

/*
 * A restore from `c' must not lose for good what the live store still
 * holds.  1, with why, when the backup lacks a table of the live store
 * that bt cannot rebuild (the live trader's trades), or holds fewer
 * than RESTORE_MIN_SHARE of the candles it would lose (live_candles);
 * else 0.  A live store that does not open has nothing to compare.
 * Fills *lv for lost_tables and the events.
 */
#define RESTORE_MIN_SHARE	0.9

static int
compare_live(struct ctx *x, const struct cand *c, struct live *lv,
    char *why, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	struct bt_buf m = { 0 };
	const char *name;
	size_t i;

	lv->opens = false;
	lv->tables = json_array();
	lv->missing = json_array();
	lv->candles = -1;
	if (live_open(x->store, &db) != 0)
		return 0;
	lv->opens = true;
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE "
	    "type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &s,
	    NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			name = (const char *)sqlite3_column_text(s, 0);
			if (name == NULL || own_table(name))
				continue;
			json_array_append_new(lv->tables, json_string(name));
			if (!in_list(c->f.tables, name))
				json_array_append_new(lv->missing,
				    json_string(name));
		}
		sqlite3_finalize(s);
	}
	lv->candles = live_candles(db, c->b.path);
	sqlite3_close(db);
	if (json_array_size(lv->missing) > 0) {
		bt_buf_printf(&m, "it lacks the live store's table%s ",
		    json_array_size(lv->missing) > 1 ? "s" : "");
		for (i = 0; i < json_array_size(lv->missing); i++)
			bt_buf_printf(&m, "%s%s", i ? ", " : "",
			    json_string_value(json_array_get(lv->missing, i)));
	}
	if (lv->candles > 0 &&
	    (double)c->f.candles < RESTORE_MIN_SHARE * (double)lv->candles)
		bt_buf_printf(&m, "%sit holds %lld candles, fewer than %.0f%% "
		    "of the %lld the live store still reads up to the backup's "
		    "restore point, which no re-fetch would bring back",
		    m.len ? "; " : "", (long long)c->f.candles,
		    RESTORE_MIN_SHARE * 100, (long long)lv->candles);
	if (m.len == 0)
		return 0;
	snprintf(why, len, "%s", m.p);
	bt_buf_free(&m);
	return 1;
}

/* ------------------------------------------- the copies set aside */

/*
 * Records a copy of the damaged store that a restore is about to set
 * aside, before it exists: so every whole copy is known, even when the
 * restore is killed right after making it.
 */
static void
aside_record(struct ctx *x, const char *path)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int rc;

	if (x->st == NULL || bt_begin(x->st, err) != 0)
		return;
	if ((s = bt_stmt(x->st, "INSERT OR IGNORE INTO asides(path, kind, "
	    "made) VALUES (?1, 'damaged', ?2)", err)) == NULL) {
		bt_rollback(x->st);
		return;
	}
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, bt_now_ms());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		bt_warnx("asides: %s", sqlite3_errmsg(x->st));
		bt_rollback(x->st);
	} else if (bt_commit(x->st, err) != 0)
		bt_warnx("asides: %s", err);
}

/*
 * After a successful restore: the newest BT_RESTORE_KEEP_DAMAGED copies
 * that restores recorded stay; each older one goes, with its -wal, -shm
 * and .moved files.  Files bt did not record are never deleted.
 */
static void
aside_rotate(struct ctx *x)
{
	static const char *const sfx[] = { "", "-wal", "-shm", ".moved",
	    ".moved-wal", ".moved-shm" };
	sqlite3_stmt *s, *d;
	char err[BT_ERRLEN], p[PATH_MAX], **old = NULL;
	long keepn = bt_conf_long("BT_RESTORE_KEEP_DAMAGED"), n = 0;
	size_t nold = 0, i, j;
	bool gone;
	json_t *rec;

	if (x->st == NULL || bt_begin(x->st, err) != 0)
		return;
	if ((s = bt_stmt(x->st, "SELECT path FROM asides WHERE kind='damaged' "
	    "ORDER BY made DESC, rowid DESC", err)) == NULL ||
	    (d = bt_stmt(x->st, "DELETE FROM asides WHERE path=?1", err)) ==
	    NULL) {
		bt_rollback(x->st);
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW)
		if (n++ >= keepn && sqlite3_column_text(s, 0) != NULL) {
			if ((old = realloc(old, (nold + 1) * sizeof(*old))) ==
			    NULL || (old[nold++] = strdup((const char *)
			    sqlite3_column_text(s, 0))) == NULL)
				abort();
		}
	sqlite3_reset(s);
	for (j = 0; j < nold; j++) {
		gone = true;
		for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
			snprintf(p, sizeof(p), "%s%s", old[j], sfx[i]);
			if (unlink(p) == -1 && errno != ENOENT) {
				bt_warnx("unlink %s: %s", p, strerror(errno));
				gone = false;
			}
		}
		if (gone) {
			sqlite3_bind_text(d, 1, old[j], -1, SQLITE_STATIC);
			sqlite3_step(d);
			sqlite3_reset(d);
			sqlite3_clear_bindings(d);
			if (!x->quiet) {
				rec = bt_rec("rotate");
				json_object_set_new(rec, "deleted",
				    json_string(old[j]));
				json_object_set_new(rec, "kind",
				    json_string("damaged"));
				bt_emit(rec);
			}
		}
		free(old[j]);
	}
	free(old);
	if (bt_commit(x->st, err) != 0)
		bt_warnx("asides: %s", err);
	else if (nold > 0 && bt_fsync_dir(x->store, err) == -1)
		bt_warnx("%s", err);
}

/*
 * After a restore: every pair wholly dirty for bt-validate, and a gap
 * record per configured or stored pair for what came after the restore
 * point, to the last closed candle (printed later by the caller).
 */
static json_t *
after_restore(struct ctx *x, sqlite3 *db)
{
	sqlite3_stmt *s;
	json_t *gaps = json_array(), *g;
	char **syms, **tfs, err[BT_ERRLEN];
	int nsyms, ntfs, i, j, rc;
	int64_t now = bt_now_ms(), iv, from, to, first, last;
	size_t k;
	bool seen;

	if (x->st != NULL && (rc = bt_begin(x->st, err)) != 0)
		bt_warnx("state: %s", err);
	if (sqlite3_prepare_v2(db, "SELECT p.symbol, p.tf, p.iv, "
	    "(SELECT min(slot)*p.iv FROM candles WHERE pair=p.id), "
	    "(SELECT max(slot)*p.iv FROM candles WHERE pair=p.id) "
	    "FROM pairs p ORDER BY p.symbol, p.tf", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *sym = (const char *)sqlite3_column_text(s,
			    0), *tf = (const char *)sqlite3_column_text(s, 1);
			if (sqlite3_column_type(s, 4) == SQLITE_NULL ||
			    bt_tf_view(tf) == NULL || !bt_symbol_ok(sym))
				continue;
			iv = sqlite3_column_int64(s, 2);
			first = sqlite3_column_int64(s, 3);
			last = sqlite3_column_int64(s, 4);
			if (x->st != NULL && !sqlite3_get_autocommit(x->st) &&
			    bt_dirty_add(x->st, sym, tf, first, last, err) != 0)
				bt_warnx("state: %s", err);
			from = last + iv;
			to = now / iv * iv - iv;
			if (from <= to)
				json_array_append_new(gaps, json_pack("{s:s, "
				    "s:s, s:I, s:I}", "symbol", sym, "tf", tf,
				    "from", (json_int_t)from, "to",
				    (json_int_t)to));
			else
				json_array_append_new(gaps, json_pack("{s:s, "
				    "s:s}", "symbol", sym, "tf", tf));
		}
	}
	sqlite3_finalize(s);
	if (x->st != NULL && !sqlite3_get_autocommit(x->st) &&
	    bt_commit(x->st, err) != 0)
		bt_warnx("state: %s", err);
	/* Configured pairs the backup lacks: their whole history. */
	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	ntfs = bt_conf_list("BT_TIMEFRAMES", &tfs);
	for (i = 0; i < nsyms; i++)
		for (j = 0; j < ntfs; j++) {
			seen = false;
			json_array_foreach(gaps, k, g)
				if (!strcmp(json_string_value(json_object_get(g,
				    "symbol")), syms[i]) &&
				    !strcmp(json_string_value(json_object_get(g,
				    "tf")), tfs[j]))
					seen = true;
			if (seen)
				continue;
			iv = bt_tf_ms(tfs[j]);
			from = now - bt_conf_long("BT_SINCE_DAYS") * 86400000LL;
			from -= from % iv;
			to = now / iv * iv - iv;
			json_array_append_new(gaps, json_pack("{s:s, s:s, s:I, "
			    "s:I}", "symbol", syms[i], "tf", tfs[j], "from",
			    (json_int_t)from, "to", (json_int_t)to));
		}
	bt_list_free(syms, nsyms);
	bt_list_free(tfs, ntfs);
	return gaps;
}

/*
 * Salvages what the damaged file `from' still reads of the `lost'
 * tables into a new NAME.salvage-STAMP next to the store, through a
 * .tmp name (a killed salvage leaves only that, which the next restore
 * removes).  Sets `out' to the file ("" when nothing came back).
 */
static void
salvage_into(struct ctx *x, const char *from, json_t *lost, char *out,
    size_t len, const char **how)
{
	char tmp[PATH_MAX], err[BT_ERRLEN];

	aside_name(x->store, "salvage", out, len);
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	if (salvage(from, tmp, lost, how, err) != 0) {
		bt_warnx("salvage: %s", err);
		unlink(tmp);
		out[0] = '\0';
		return;
	}
	if (rename(tmp, out) == -1) {
		bt_warnx("salvage: rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		out[0] = '\0';
	} else if (bt_fsync_dir(out, err) == -1)
		bt_warnx("salvage: %s", err);
}

static int
run_restore(struct ctx *x)
{
	struct lockinfo li;
	struct cand c;
	struct live lv = { 0 };
	struct cand sc;
	struct brec *r;
	size_t nr;
	int64_t t0;
	char why[BT_ERRLEN], err[BT_ERRLEN], aside[PATH_MAX], ts[32];
	char salv[PATH_MAX], src_salv[PATH_MAX], forced[BT_ERRLEN];
	const char *op = x->mode == M_ROLLBACK ? "rollback" : "restore";
	const char *method = "none", *how = "copy";
	bool copied = false, takeover = false, opens, trades = false;
	int64_t before = INT64_MAX, tnew = -1, nsalv = -1;
	json_t *gaps, *lost, *g, *rec;
	sqlite3 *db = NULL;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	if (x->mode == M_ROLLBACK)
		before = bt_now_ms() - x->hours * 3600000LL;
	/* 1. The live trader must be down, unless forced. */
	if (trader_alive(why, sizeof(why))) {
		if (!x->force) {
			bt_event(x->dry ? NULL : x->st, "CRITICAL",
			    "restore_refused", NULL, NULL, NULL,
			    "%s refused: %s; stop it first (or --force)", op,
			    why);
			return BT_EX_TEMPFAIL;
		}
		bt_warnx("--force: %s; going on regardless", why);
	}
	/* 2. Another restore that is still alive keeps its lock. */
	if (read_lock(&li) && lock_owner_alive(&li) && li.pid != getpid()) {
		bt_warnx("db/LOCKED: a %s by pid %ld (started %s) is running",
		    li.op, li.pid, li.started);
		return BT_EX_TEMPFAIL;
	}
	/*
	 * 3. No bt writer may be inside a write: main() took run/write.lock
	 * before anything else (restore_wlock), so this only nests.
	 */
	if ((rc = bt_wlock(err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (read_lock(&li)) {
		if (lock_owner_alive(&li) && li.pid != getpid()) {
			bt_warnx("db/LOCKED: a %s by pid %ld is running", li.op,
			    li.pid);
			bt_wunlock();
			return BT_EX_TEMPFAIL;
		}
		takeover = true;
	}
	/* 4. The backup to restore: the newest that passes every check. */
	if ((rc = choose(x, before, &c)) != 0) {
		if (rc == BT_EX_NOINPUT)
			bt_event(x->dry ? NULL : x->st, "CRITICAL", op, NULL,
			    NULL, NULL, "%s impossible: no backup%s in %s "
			    "passes the checks (bt-backup(1), WHAT A RESTORE "
			    "ACCEPTS); the store is untouched", op,
			    x->mode == M_ROLLBACK ? " old enough" : "",
			    x->bdir);
		bt_wunlock();
		return rc;
	}
	/* 5. Nothing the live store holds may be lost for good. */
	forced[0] = '\0';
	if (compare_live(x, &c, &lv, why, sizeof(why)) != 0) {
		rec = json_pack("{s:s, s:O, s:I, s:I}", "backup", c.b.name,
		    "missing_tables", lv.missing, "backup_candles",
		    (json_int_t)c.f.candles, "live_candles",
		    (json_int_t)lv.candles);
		if (!x->force) {
			bt_event(x->dry ? NULL : x->st, "CRITICAL",
			    "restore_refused", NULL, NULL, rec, "%s from %s "
			    "refused: %s; the store is untouched (--force "
			    "restores it regardless)", op, c.b.name, why);
			live_free(&lv);
			bt_wunlock();
			return BT_EX_DATAERR;
		}
		snprintf(forced, sizeof(forced), "%s", why);
		bt_event(x->dry ? NULL : x->st, "WARNING", "restore_forced",
		    NULL, NULL, rec, "--force: %s from %s goes on although %s",
		    op, c.b.name, why);
	}
	if (x->dry) {
		rec = bt_rec("plan");
		json_object_set_new(rec, "op", json_string(op));
		json_object_set_new(rec, "backup", json_string(c.b.name));
		json_object_set_new(rec, "restore_point",
		    json_string(bt_fmt_time(c.b.time, ts)));
		json_object_set_new(rec, "recorded", json_boolean(c.recorded));
		if (forced[0] != '\0')
			json_object_set_new(rec, "forced", json_string(forced));
		bt_emit(rec);
		live_free(&lv);
		bt_wunlock();
		return 0;
	}
	/* 6. db/LOCKED: every writer of the store now exits 75. */
	if ((rc = write_lock(x, takeover ? li.damaged : NULL, err)) != 0) {
		bt_warnx("%s", err);
		live_free(&lv);
		bt_wunlock();
		return rc;
	}
	if (takeover)
		bt_event(x->st, "WARNING", "lock_takeover", NULL, NULL, NULL,
		    "took over db/LOCKED from %s %s (pid %ld, gone)",
		    li.op[0] ? li.op : "an unknown", li.op[0] ? "run" : "owner",
		    li.pid);
	/* A restore killed before: its partial copies, never a whole file. */
	sweep_store_tmp(x->store);
	/* 7. The current file aside; only aside_rotate() deletes one. */
	opens = false;
	if (takeover && li.damaged[0] != '\0' && access(li.damaged, F_OK) ==
	    0) {
		/*
		 * db/LOCKED names a copy only once it is whole, and the
		 * store may since be half restored: that copy is the
		 * damaged file, and no second one is made.
		 */
		snprintf(aside, sizeof(aside), "%s", li.damaged);
		copied = true;
	} else {
		aside_name(x->store, x->mode == M_ROLLBACK ?
		    "before-rollback" : "damaged", aside, sizeof(aside));
		if (access(x->store, F_OK) == 0) {
			if (db_open(x->store, SQLITE_OPEN_READONLY, false, &db,
			    err) == 0) {
				opens = sqlite3_exec(db, "SELECT count(*) FROM "
				    "sqlite_schema", NULL, NULL, NULL) ==
				    SQLITE_OK;
				sqlite3_close(db);
				db = NULL;
			}
			/* Recorded first: a kill cannot leave one unknown. */
			if (x->mode == M_RESTORE)
				aside_record(x, aside);
		}
		if (opens) {
			char wal[PATH_MAX], awal[PATH_MAX];
			if ((rc = copy_raw(x->store, aside, 0640, err)) != 0)
				goto fail;
			snprintf(wal, sizeof(wal), "%s-wal", x->store);
			snprintf(awal, sizeof(awal), "%s-wal", aside);
			if (access(wal, F_OK) == 0 &&
			    (rc = copy_raw(wal, awal, 0640, err)) != 0)
				goto fail;
			copied = true;
		}
	}
	snprintf(src_salv, sizeof(src_salv), "%s", takeover && li.damaged[0] &&
	    access(li.damaged, F_OK) == 0 ? li.damaged : copied ? aside :
	    opens ? "" : aside);
	if ((rc = write_lock(x, src_salv, err)) != 0)
		goto fail;
	/* 8. The restore itself. */
	if ((rc = restore_file(c.b.path, x->store, aside, copied, &method,
	    err)) != 0)
		goto fail;
	if (!copied && strcmp(method, "rename") == 0 && !(takeover &&
	    li.damaged[0]))
		snprintf(src_salv, sizeof(src_salv), "%s", aside);
	/* 9. REINDEX, then integrity_check before anyone may write. */
	if ((rc = db_open(x->store, SQLITE_OPEN_READWRITE, false, &db, err))
	    != 0)
		goto fail;
	if ((rc = bt_exec(db, "REINDEX", err)) != 0 ||
	    (rc = bt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", err)) != 0)
		goto fail;
	if (db_check(db, true, why, sizeof(why)) != 0) {
		snprintf(err, sizeof(err), "integrity_check after the %s: %s",
		    op, why);
		rc = BT_EX_IOERR;
		goto fail;
	}
	/* 10. The state file, only when asked. */
	if (x->state) {
		struct bfile *v;
		size_t n;
		const char *m2;
		if (list_backups(x, 2, &v, &n) == 0) {
			recs_load(x, &r, &nr, &t0);
			recs_apply(v, n, r, nr);
			for (i = 0; i < n; i++)
				if (v[i].time <= before && cand_check(x, &v[i],
				    true, r, nr, t0, &sc, why, sizeof(why)) == 0)
					break;
			free(r);
			if (i < n) {
				bt_close(x->st);
				x->st = NULL;
				aside_name(x->statepath, "before-restore",
				    salv, sizeof(salv));
				if (copy_raw(x->statepath, salv, 0600, err) != 0 ||
				    restore_file(v[i].path, x->statepath, salv,
				    true, &m2, err) != 0)
					bt_warnx("state file not restored: %s",
					    err);
				if (bt_open_state(x->statepath, BT_DB_CREATE,
				    &x->st, err) != 0) {
					bt_warnx("%s", err);
					x->st = NULL;
				}
			} else
				bt_warnx("--state: no good state backup");
			free(v);
		}
	}
	/* 11. What is lost, and what can be salvaged from it. */
	lost = lost_tables(db, lv.tables);
	tnew = trades_newest(db);
	salv[0] = '\0';
	for (i = 0; i < json_array_size(lost); i++)
		trades = trades || strcmp(json_string_value(json_array_get(lost,
		    i)), "trades") == 0;
	if (json_array_size(lost) > 0 && src_salv[0] != '\0' &&
	    access(src_salv, F_OK) == 0) {
		if (x->mode == M_ROLLBACK)
			/* The file set aside is healthy: all there. */
			snprintf(salv, sizeof(salv), "%s", src_salv);
		else
			salvage_into(x, src_salv, lost, salv, sizeof(salv),
			    &how);
		if (trades && salv[0] != '\0')
			nsalv = trades_after(salv, false, tnew);
	}
	gaps = after_restore(x, db);
	bt_close(db);
	db = NULL;
	/* 12. Recorded, unlocked, and only then the records to re-fetch. */
	rec = json_pack("{s:s, s:s, s:I, s:b, s:s, s:s, s:O}", "backup",
	    c.b.name, "restore_point", bt_fmt_time(c.b.time, ts),
	    "restore_point_ms", (json_int_t)c.b.time, "recorded", c.recorded,
	    "method", method, "set_aside", copied ? aside :
	    strcmp(method, "rename") == 0 ? aside : "", "lost_tables", lost);
	if (forced[0] != '\0')
		json_object_set_new(rec, "forced", json_string(forced));
	if (salv[0] != '\0') {
		json_object_set_new(rec, "salvage", json_string(salv));
		json_object_set_new(rec, "salvaged_by", json_string(how));
		json_object_set_new(rec, "salvaged_rows", json_integer(nsalv));
	}
	{
		struct bt_buf m = { 0 };
		bt_buf_printf(&m, "store %s from %s (restore point %s); "
		    "candles since then are re-fetched by bt-fetch --gaps",
		    x->mode == M_ROLLBACK ? "rolled back" : "restored", c.b.name,
		    ts);
		if (!c.recorded)
			bt_buf_printf(&m, "; the backup has no record of "
			    "bt-backup (taken before bt recorded its backups) "
			    "and passed every other check");
		if (forced[0] != '\0')
			bt_buf_printf(&m, "; forced although %s", forced);
		if (json_array_size(lost) > 0) {
			bt_buf_printf(&m, "; rows written after %s to ", ts);
			for (i = 0; i < json_array_size(lost); i++)
				bt_buf_printf(&m, "%s%s", i ? ", " : "",
				    json_string_value(json_array_get(lost, i)));
			bt_buf_printf(&m, " are lost from the store");
		}
		if (salv[0] != '\0' && nsalv >= 0)
			bt_buf_printf(&m, "; %lld newer trades rows are in %s "
			    "(%s; review before merging)", (long long)nsalv,
			    salv, x->mode == M_ROLLBACK ? "the file set aside" :
			    "salvaged from the damaged file, suspect");
		else if (salv[0] != '\0')
			bt_buf_printf(&m, "; what %s still reads of those "
			    "tables is in %s (suspect; review before merging)",
			    src_salv, salv);
		else if (json_array_size(lost) > 0 && src_salv[0] != '\0')
			bt_buf_printf(&m, "; nothing of %s could be salvaged "
			    "from %s", trades ? "trades" : "those tables",
			    src_salv);
		bt_event(x->st, "CRITICAL", op, NULL, NULL, rec, "%s", m.p);
		bt_buf_free(&m);
	}
	json_decref(lost);
	live_free(&lv);
	if ((rc = remove_lock(err)) != 0)
		bt_warnx("%s", err);
	/* 13. The store is good again: the oldest damaged copies may go. */
	if (rc == 0 && x->mode == M_RESTORE)
		aside_rotate(x);
	bt_wunlock();
	json_array_foreach(gaps, i, g) {
		if (json_object_get(g, "from") == NULL)
			continue;
		rec = bt_rec("gap");
		json_object_update(rec, g);
		json_object_set_new(rec, "reason", json_string(op));
		bt_emit(rec);
	}
	json_decref(gaps);
	return rc;
fail:
	/* db/LOCKED stays: the store is not known good. */
	bt_close(db);
	live_free(&lv);
	bt_event(x->st, "CRITICAL", op, NULL, NULL, json_pack("{s:s}",
	    "backup", c.b.name), "%s from %s failed, db/LOCKED left in place: "
	    "%s", op, c.b.name, err);
	bt_wunlock();
	return rc;
}

/*
 * A restore or rollback takes run/write.lock before anything else, the
 * state file's writes included, and holds it to the end.  Without
 * --force it refuses at once (75) while a writer holds it, as -n does;
 * with --force it waits up to BT_WRITE_LOCK_WAIT.
 */
static int
restore_wlock(struct ctx *x)
{
	char err[BT_ERRLEN];
	int rc;

	if (!x->force && bt_conf_set("BT_WRITE_LOCK_WAIT", "0", err) != 0) {
		bt_warnx("%s", err);
		return BT_EX_SOFTWARE;
	}
	if ((rc = bt_wlock(err)) == 0)
		return 0;
	bt_warnx("%s%s", err, x->force || rc != BT_EX_TEMPFAIL ? "" :
	    "; a writer is writing: try again (or --force waits for it)");
	if (rc == BT_EX_TEMPFAIL)
		/* Printed only: the state file is written under that lock. */
		bt_event(NULL, "WARNING", "restore_refused", NULL, NULL, NULL,
		    "%s refused: run/write.lock is held by a writer; the store "
		    "is untouched", x->mode == M_ROLLBACK ? "rollback" :
		    "restore");
	return rc;
}

/* ---------------------------------------------------------------- main */

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "offsite", required_argument, NULL, 'O' },
	{ "vacuum", no_argument, NULL, 'V' },
	{ "verify", no_argument, NULL, 'C' },
	{ "test-restore", no_argument, NULL, 'T' },
	{ "restore", no_argument, NULL, 'R' },
	{ "rollback", required_argument, NULL, 'B' },
	{ "state", no_argument, NULL, 'S' },
	{ "force", no_argument, NULL, 'F' },
	{ "if-due", no_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct ctx x;
	char err[BT_ERRLEN], owner[256], *end;
	int ch, rc, nmodes = 0;
	int64_t run = -1, slot;
	bool if_due = false, due;
	json_t *sum;
	static const char *jobs[] = { "", "vacuum", "verify", "test-restore",
	    "restore", "rollback" };

	memset(&x, 0, sizeof(x));
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-backup", err)) != 0 ||
	    (rc = bt_conf_load(err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	umask(077);
	while ((ch = getopt_long(argc, argv, "d:hnqv", longopts, NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case 'd':
			rc = bt_conf_set("BT_DB", optarg, err);
			break;
		case 'n':
			x.dry = true;
			break;
		case 'q':
			x.quiet = true;
			break;
		case 'v':
			x.verbose = true;
			break;
		case 'O':
			x.offsite = optarg;
			break;
		case 'V':
			x.mode = M_VACUUM;
			nmodes++;
			break;
		case 'C':
			x.mode = M_VERIFY;
			nmodes++;
			break;
		case 'T':
			x.mode = M_TEST;
			nmodes++;
			break;
		case 'R':
			x.mode = M_RESTORE;
			nmodes++;
			break;
		case 'B':
			x.mode = M_ROLLBACK;
			nmodes++;
			errno = 0;
			x.hours = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    x.hours < 1 || x.hours > 24 * 3650) {
				bt_warnx("--rollback: '%s' is not a number of "
				    "hours (1..87600)", optarg);
				return BT_EX_USAGE;
			}
			break;
		case 'S':
			x.state = true;
			break;
		case 'F':
			x.force = true;
			break;
		case 'D':
			if_due = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, BT_EX_USAGE);
		}
		if (rc != 0) {
			bt_warnx("%s: %s", argv[optind - 1], err);
			return rc;
		}
	}
	argc -= optind;
	if (argc != 0 || nmodes > 1 || (if_due && x.mode != M_BACKUP &&
	    x.mode != M_VACUUM && x.mode != M_TEST) || (if_due && x.dry) ||
	    (x.offsite != NULL && x.mode != M_BACKUP) ||
	    ((x.state || x.force) && x.mode != M_RESTORE &&
	    x.mode != M_ROLLBACK) ||
	    (x.dry && x.mode != M_BACKUP && x.mode != M_RESTORE &&
	    x.mode != M_ROLLBACK))
		usage(stderr, BT_EX_USAGE);
	x.store = bt_store_path();
	x.statepath = bt_state_path();
	x.bdir = bt_path("backups");
	if ((x.mode == M_RESTORE || x.mode == M_ROLLBACK) &&
	    (rc = restore_wlock(&x)) != 0)
		goto out;

	/* Only a restore or rollback may work while db/LOCKED is there. */
	if (x.mode != M_RESTORE && x.mode != M_ROLLBACK &&
	    x.mode != M_VERIFY && bt_store_locked(owner, sizeof(owner))) {
		sum = bt_rec("locked");
		json_object_set_new(sum, "severity", json_string("WARNING"));
		json_object_set_new(sum, "message", json_string("db/LOCKED is "
		    "present: a restore or rollback is running"));
		json_object_set_new(sum, "owner", json_string(owner));
		bt_emit(sum);
		rc = BT_EX_TEMPFAIL;
		goto out;
	}
	if (x.mode != M_VERIFY && x.mode != M_TEST && !x.dry &&
	    access(x.store, F_OK) == -1 && x.mode != M_RESTORE &&
	    x.mode != M_ROLLBACK) {
		bt_warnx("%s: %s", x.store, strerror(errno));
		rc = BT_EX_NOINPUT;
		goto out;
	}
	if ((x.dry ? access(x.statepath, F_OK) == 0 &&
	    bt_open_state(x.statepath, BT_DB_RO, &x.st, err) != 0 :
	    bt_open_state(x.statepath, BT_DB_CREATE, &x.st, err) != 0)) {
		/* Events then go to stdout only; the work goes on. */
		bt_warnx("%s", err);
		x.st = NULL;
	}
	/* The daily backup, weekly vacuum, monthly restore test (bt(7)). */
	if (if_due) {
		if (x.st == NULL) {
			rc = BT_EX_IOERR;
			goto out;
		}
		if ((rc = bt_due(x.st, "bt-backup", jobs[x.mode], 0,
		    bt_conf(x.mode == M_BACKUP ? "BT_BACKUP_SLOT" :
		    x.mode == M_VACUUM ? "BT_VACUUM_SLOT" :
		    "BT_TEST_RESTORE_SLOT"), &due, &slot, err)) != 0) {
			bt_warnx("%s", err);
			goto out;
		}
		if (!due) {
			bt_not_due(*jobs[x.mode] ? jobs[x.mode] : "backup",
			    slot);
			goto out;
		}
	}
	if (x.st != NULL && !x.dry &&
	    (run = bt_run_begin(x.st, jobs[x.mode], err)) < 0) {
		bt_warnx("%s", err);
		run = -1;
	}
	switch (x.mode) {
	case M_BACKUP:
		rc = run_backup(&x);
		break;
	case M_VACUUM:
		rc = run_vacuum(&x);
		break;
	case M_VERIFY:
		rc = run_verify(&x);
		break;
	case M_TEST:
		rc = run_test_restore(&x);
		break;
	case M_RESTORE:
	case M_ROLLBACK:
		rc = run_restore(&x);
		break;
	}
	if (run > 0 && x.st != NULL && bt_run_end(x.st, run, rc, NULL, err) !=
	    0)
		bt_warnx("%s", err);
out:
	bt_close(x.st);
	bt_wunlock();	/* restore_wlock()'s, if taken */
	free(x.store);
	free(x.statepath);
	free(x.bdir);
	return bt_finish(rc);
}
