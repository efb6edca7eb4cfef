/*
 * bt_backup.c - bt-backup's jobs on backups: taking, rotating, the
 * offsite copy, verifying, the restore test; and the weekly vacuum.
 *
 * Owns: the daily backup of the store and of the state file into
 * backups/ (one step of SQLite's backup API into a temporary name,
 * fsync, quick_check, the record, rename, fsync of the directory), Sunday's
 * weekly as a hard link to that daily, rotation (3 daily, 4 weekly, 3
 * state backups; the offsite directory keeps the same 4 weeks), the
 * weekly offsite copy (to a directory, or through a command that gets
 * the file as $1), --verify (every backup through a restore's checks,
 * bt_catalog.c), --test-restore (the newest good backup restored into a
 * scratch file and held against the live store), and --vacuum (in
 * steps on an incremental store, else VACUUM; --convert).
 *
 * Invariants: only after a copy is in place does rotation delete
 * anything, and never the copy just made; a failed copy leaves every old
 * backup as it was.  A backup is recorded before it is renamed into place
 * (bt_catalog.c).  VACUUM and its checkpoint hold run/write.lock (ops.md
 * 1.1), and only when the file system has room for a copy of the store;
 * each step of an incremental vacuum, and its checkpoint, holds it too,
 * and lets it go before the next.
 * The restore test never touches the live store: it reads it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_backup.h"
#include "bt_conf.h"
#include "bt_dbfile.h"
#include "bt_lock.h"
#include "bt_state.h"

/* What one copy into backups/ made. */
struct copy {
	char		 final[PATH_MAX];	/* its path */
	int64_t		 bytes;
	int64_t		 taken;		/* ms, its mtime and record */
	double		 tcopy, tcheck;	/* seconds */
	struct bt_facts	 f;		/* schema -1: not recorded */
};

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

/* Sets a file's mtime to `now' (ms): when it was taken. */
static void
stamp(const char *path, int64_t now)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)(now / 1000);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(now % 1000) * 1000000;
	utimensat(AT_FDCWD, path, ts, 0);
}

/* ---------------------------------------------------------- the backup */

/*
 * One backup: src (a live file, opened read-only) to name in backups/,
 * through .name.tmp, fsync, quick_check, rename, fsync of the directory.
 * What the copy holds goes into c->f and, before the rename, into the
 * state file's `backups' (a kill between the two leaves a record
 * without its file, never a file bt took without its record).
 */
static int
backup_one(struct bt_backups *x, const char *src, const char *name,
    bool state, struct copy *c, char *err)
{
	double t0;
	char tmp[PATH_MAX], why[BT_ERRLEN];
	sqlite3 *db;
	int64_t need, have, now;
	int rc;

	memset(&c->f, 0, sizeof(c->f));
	c->f.schema = -1;

	snprintf(c->final, PATH_MAX, "%s/%s", x->bdir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", x->bdir, name);
	if ((rc = bt_dbf_open(src, SQLITE_OPEN_READONLY, false, &db, err)) !=
	    0)
		return rc;
	need = bt_dbf_bytes(db);
	if ((have = bt_dbf_free_space(x->bdir)) >= 0 && have < need) {
		snprintf(err, BT_ERRLEN, "%s: %lld bytes free, the copy of %s "
		    "needs %lld", x->bdir, (long long)have, src,
		    (long long)need);
		sqlite3_close(db);
		return BT_EX_IOERR;
	}
	t0 = bt_mono();
	rc = bt_dbf_copy(db, tmp, err);
	sqlite3_close(db);
	c->tcopy = bt_mono() - t0;
	t0 = bt_mono();
	if (rc == 0 && bt_dbf_check_file(tmp, false, true, why, sizeof(why)) !=
	    0) {
		snprintf(err, BT_ERRLEN, "%s: quick_check of the copy: %s", tmp,
		    why);
		rc = BT_EX_IOERR;
	}
	c->tcheck = bt_mono() - t0;
	if (rc == 0 && bt_catalog_facts(tmp, state, &c->f, why, sizeof(why)) !=
	    0) {
		/* Kept, as any copy of the live file is, but no restore's. */
		bt_event(x->st, "WARNING", "backup_unrecorded", NULL, NULL,
		    json_pack("{s:s}", "file", name), "backup %s is kept but "
		    "not recorded, and no restore will use it: the copy of %s "
		    "%s", name, src, why);
		c->f.schema = -1;
	}
	if (rc == 0) {
		c->taken = now = bt_now_ms();
		stamp(tmp, now);
		if (x->st != NULL && c->f.schema > 0 &&
		    (rc = bt_record_put(x->st, name, now, &c->f, err)) != 0) {
			unlink(tmp);
			return rc;
		}
		if (rename(tmp, c->final) == -1) {
			snprintf(err, BT_ERRLEN, "rename %s: %s", tmp,
			    strerror(errno));
			rc = bt_dbf_errno_ex(errno);
		} else if (bt_fsync_dir(c->final, err) == -1)
			rc = BT_EX_IOERR;
	}
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	c->bytes = bt_dbf_size(c->final);
	return 0;
}

/*
 * Sunday's daily is also the weekly: a hard link, made atomically
 * through .name.tmp and recorded before the rename.  0, or an exit code
 * after a CRITICAL backup_failed event.
 */
static int
link_weekly(struct bt_backups *x, const struct copy *daily,
    const char *wname, char *wpath)
{
	char wtmp[PATH_MAX], err[BT_ERRLEN], werr[BT_ERRLEN];
	int wrc = 0;

	snprintf(wpath, PATH_MAX, "%s/%s", x->bdir, wname);
	snprintf(wtmp, sizeof(wtmp), "%s/.%s.tmp", x->bdir, wname);
	unlink(wtmp);
	if (link(daily->final, wtmp) == -1)
		wrc = BT_EX_IOERR;
	else if (x->st != NULL && daily->f.schema > 0 &&
	    (wrc = bt_record_put(x->st, wname, daily->taken, &daily->f,
	    werr)) != 0)
		snprintf(err, BT_ERRLEN, "weekly %s: %s", wname, werr);
	else if (rename(wtmp, wpath) == -1 ||
	    bt_fsync_dir(wpath, werr) == -1)
		wrc = BT_EX_IOERR;
	if (wrc == 0)
		return 0;
	if (wrc == BT_EX_IOERR)
		snprintf(err, BT_ERRLEN, "weekly %s: %s", wname,
		    strerror(errno));
	unlink(wtmp);
	bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL, NULL, "%s",
	    err);
	return wrc;
}

/* ------------------------------------------------------------ rotation */

/* Deletes the oldest of a kind beyond its count, never `protect'. */
static void
rotate(struct bt_backups *x, int kind, const char *protect)
{
	struct bt_bfile *v;
	size_t n, i;
	int kept = 0;
	char err[BT_ERRLEN];
	json_t *rec;

	if (bt_catalog_list(x->bdir, kind, &v, &n) == -1)
		return;
	/* By the date in the name: newest first. */
	for (i = 0; i < n; i++)
		v[i].time = v[i].day;
	bt_catalog_sort(v, n);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].path, protect) == 0 ||
		    kept < bt_bk_keep(kind)) {
			kept++;
			continue;
		}
		if (x->dry || unlink(v[i].path) == 0) {
			if (!x->dry &&
			    bt_record_del(x->st, v[i].name, err) != 0)
				bt_warnx("%s", err);
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

/* Rotates the kind of `name' in backups/, keeping backups/name. */
static void
rotate_keeping(struct bt_backups *x, int kind, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", x->bdir, name);
	rotate(x, kind, path);
}

/* ------------------------------------------------------------- offsite */

/* The weekly copied to the offsite directory: 0 or an exit code. */
static int
offsite_dir(struct bt_backups *x, const char *dir, const char *file,
    const char *name)
{
	char dst[PATH_MAX], err[BT_ERRLEN];
	struct bt_backups o;
	json_t *rec;
	int rc;

	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	unlink(dst);	/* a rerun the same Sunday replaces it */
	if ((rc = bt_dbf_copy_bytes(file, dst, 0600, err)) != 0) {
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
	o = *x;
	o.bdir = (char *)dir;
	o.st = NULL;	/* the records are of backups/ */
	rotate(&o, BT_BK_WEEKLY, dst);
	return 0;
}

/* The weekly handed to BT_BACKUP_OFFSITE_CMD as $1: 0, or 69. */
static int
offsite_cmd(struct bt_backups *x, const char *cmd, const char *file,
    const char *name)
{
	int status;
	pid_t pid;
	json_t *rec;

	/* The file is $1 of the command, never spliced into it. */
	if ((pid = fork()) == -1)
		return BT_EX_SOFTWARE;
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, "sh", file, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL, NULL,
		    "offsite command for %s failed (%s %d)", name,
		    WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
		return BT_EX_UNAVAILABLE;
	}
	rec = bt_rec("offsite");
	json_object_set_new(rec, "file", json_string(name));
	json_object_set_new(rec, "command", json_true());
	bt_emit(rec);
	return 0;
}

/* A new weekly copy to the offsite directory or through the command. */
static int
offsite(struct bt_backups *x, const char *opt, const char *file,
    const char *name)
{
	const char *dir = opt != NULL ? opt : bt_conf("BT_BACKUP_OFFSITE_DIR");
	const char *cmd = bt_conf("BT_BACKUP_OFFSITE_CMD");
	int rc;

	if (*dir != '\0' && (rc = offsite_dir(x, dir, file, name)) != 0)
		return rc;
	if (*cmd != '\0')
		return offsite_cmd(x, cmd, file, name);
	return 0;
}

/* ------------------------------------------------------ the daily job */

/* -n: what a backup would take and delete. */
static int
plan(struct bt_backups *x, const char *name, const char *wname,
    const char *sname, bool weekly)
{
	json_t *rec;

	rec = bt_rec("plan");
	json_object_set_new(rec, "file", json_string(name));
	json_object_set_new(rec, "weekly", weekly ? json_string(wname) :
	    json_null());
	json_object_set_new(rec, "state_file", json_string(sname));
	bt_emit(rec);
	rotate_keeping(x, BT_BK_DAILY, name);
	if (weekly)
		rotate_keeping(x, BT_BK_WEEKLY, wname);
	rotate_keeping(x, BT_BK_STATE, sname);
	return 0;
}

int
bt_backup_take(struct bt_backups *x, const char *offsite_opt)
{
	/* backup_one()'s and the restore test's temporary names */
	static const char *const ours[] = { ".db_backup_", ".state_backup_",
	    ".test_restore", NULL };
	char name[64], wname[64], sname[64], day[16], err[BT_ERRLEN];
	char wpath[PATH_MAX];
	int64_t now = bt_now_ms();
	double t0 = bt_mono();
	bool weekly = is_sunday(now);
	struct copy d = { .bytes = 0 }, s = { .bytes = 0 };
	int rc, src;
	json_t *rec;

	ymd(now, day);
	snprintf(name, sizeof(name), "db_backup_%s.db", day);
	snprintf(wname, sizeof(wname), "db_backup_weekly_%s.db", day);
	snprintf(sname, sizeof(sname), "state_backup_%s.db", day);
	if (x->dry)
		return plan(x, name, wname, sname, weekly);
	if (bt_mkdirs(x->bdir, 0700, err) == -1) {
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL, NULL,
		    "no backup taken: %s", err);
		return BT_EX_CANTCREAT;
	}
	bt_dbf_sweep_tmp(x->bdir, ours);
	if ((rc = backup_one(x, x->store, name, false, &d, err)) != 0) {
		/* Nothing rotated: every old backup stays. */
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
		    json_pack("{s:s}", "file", name),
		    "backup of the store failed; old backups left intact: %s",
		    err);
		return rc;
	}
	if (weekly && (rc = link_weekly(x, &d, wname, wpath)) != 0)
		weekly = false;
	src = 0;
	if (access(x->statepath, F_OK) == 0 &&
	    (src = backup_one(x, x->statepath, sname, true, &s, err)) != 0) {
		bt_event(x->st, "CRITICAL", "backup_failed", NULL, NULL,
		    json_pack("{s:s}", "file", sname),
		    "backup of the state file failed: %s", err);
		rc = bt_exit_worse(rc, src);
	}
	rec = json_pack("{s:s, s:I, s:o, s:o, s:I}", "file", name, "bytes",
	    (json_int_t)d.bytes, "weekly", weekly ? json_string(wname) :
	    json_null(), "state_file", src == 0 && s.bytes > 0 ?
	    json_string(sname) : json_null(), "state_bytes",
	    (json_int_t)s.bytes);
	bt_rec_dur(rec, "copy_seconds", d.tcopy);
	bt_rec_dur(rec, "check_seconds", d.tcheck);
	bt_rec_dur(rec, "seconds", bt_mono() - t0);
	bt_event(x->st, "INFO", "backup", NULL, NULL, rec,
	    "backup %s taken and checked (%lld bytes)%s", name,
	    (long long)d.bytes, weekly ? "; kept as this week's weekly" : "");
	rotate(x, BT_BK_DAILY, d.final);
	if (weekly)
		rotate(x, BT_BK_WEEKLY, wpath);
	if (src == 0 && s.bytes > 0)
		rotate(x, BT_BK_STATE, s.final);
	if (weekly && (offsite_opt != NULL ||
	    *bt_conf("BT_BACKUP_OFFSITE_DIR") != '\0' ||
	    *bt_conf("BT_BACKUP_OFFSITE_CMD") != '\0'))
		rc = bt_exit_worse(rc, offsite(x, offsite_opt, wpath, wname));
	return rc;
}

/* ------------------------------------------------------------- verify */

static const char *const kinds[] = { "daily", "weekly", "state" };

/* The verify line of one backup, unless -q and it is good. */
static void
verify_line(const struct bt_backups *x, const struct bt_bfile *b, bool bad,
    bool recorded, const char *why)
{
	char ts[32];
	json_t *rec;

	if (x->quiet && !bad)
		return;
	rec = bt_rec("verify");
	json_object_set_new(rec, "file", json_string(b->name));
	json_object_set_new(rec, "kind", json_string(kinds[b->kind]));
	json_object_set_new(rec, "taken", json_string(bt_fmt_time(b->time,
	    ts)));
	json_object_set_new(rec, "bytes", json_integer((json_int_t)b->size));
	json_object_set_new(rec, "status", json_string(bad ? "bad" : "good"));
	json_object_set_new(rec, "recorded", json_boolean(recorded));
	if (bad)
		json_object_set_new(rec, "detail", json_string(why));
	bt_emit(rec);
}

int
bt_backup_verify(struct bt_backups *x)
{
	struct bt_bfile *v;
	struct bt_records r;
	struct bt_cand c;
	size_t n, i, j;
	char why[BT_ERRLEN];
	int *bad, good = 0, nbad = 0;
	bool *recd;
	const char *newest = NULL;
	json_t *rec;
	int rc = 0;

	if (bt_catalog_list(x->bdir, -1, &v, &n) == -1) {
		bt_warnx("%s: %s", x->bdir, strerror(errno));
		return BT_EX_IOERR;
	}
	bt_records_load(x->st, &r);
	bt_records_apply(&r, v, n);
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
			bad[i] = bt_catalog_check(x, &v[i], v[i].kind ==
			    BT_BK_STATE, &r, &c, why, sizeof(why));
			recd[i] = !bad[i] && c.recorded;
		}
		if (bad[i]) {
			nbad++;
			bt_event(x->st, "WARNING", "backup_bad", NULL, NULL,
			    json_pack("{s:s}", "file", v[i].name),
			    "backup %s is no good backup: it %s", v[i].name,
			    why);
		} else if (v[i].kind != BT_BK_STATE) {
			good++;
			if (newest == NULL)
				newest = v[i].name;
		}
		verify_line(x, &v[i], bad[i], recd[i], why);
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
	bt_records_free(&r);
	return rc;
}

/* ------------------------------------------------------- test-restore */

struct tcount {
	char	 name[128];
	int64_t	 rows;
};

static int
table_counts(sqlite3 *db, struct tcount **out, size_t *n)
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
newest_by_tf(sqlite3 *db)
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

/* The CRITICAL test_restore event of a restore test that did not run. */
static int
test_failed(struct bt_backups *x, const char *name, const char *err, int rc)
{
	bt_event(x->st, "CRITICAL", "test_restore", NULL, NULL, NULL,
	    "restore test of %s failed: %s", name, err);
	return rc;
}

int
bt_backup_test_restore(struct bt_backups *x)
{
	struct bt_cand c;
	struct bt_bfile b;
	char scratch[PATH_MAX], err[BT_ERRLEN], why[BT_ERRLEN], ts[32];
	sqlite3 *src = NULL, *live = NULL, *res = NULL;
	struct tcount *lt = NULL, *rt = NULL;
	size_t nl = 0, nr = 0, i, j;
	json_t *tbl, *missing, *lnew, *rnew, *rec, *v;
	const char *k;
	bool ok = true;
	int rc;

	if ((rc = bt_catalog_choose(x, false, INT64_MAX, &c, err)) != 0) {
		if (rc == BT_EX_IOERR)
			bt_warnx("%s", err);
		bt_event(x->st, "CRITICAL", "test_restore", NULL, NULL, NULL,
		    "restore test: no backup in %s passes the checks of a "
		    "restore", x->bdir);
		return rc == BT_EX_NOINPUT ? BT_EX_FOUND : rc;
	}
	b = c.b;
	snprintf(scratch, sizeof(scratch), "%s/.test_restore.db.tmp", x->bdir);
	if ((rc = bt_dbf_open(b.path, SQLITE_OPEN_READONLY, true, &src,
	    err)) != 0 || (rc = bt_dbf_copy(src, scratch, err)) != 0) {
		sqlite3_close(src);
		unlink(scratch);
		return test_failed(x, b.name, err, rc);
	}
	sqlite3_close(src);
	if (bt_dbf_check_file(scratch, true, true, why, sizeof(why)) != 0) {
		ok = false;
		snprintf(err, sizeof(err), "the restored copy fails "
		    "integrity_check: %s", why);
	}
	if ((rc = bt_dbf_open(scratch, SQLITE_OPEN_READONLY, true, &res,
	    err)) != 0 || (rc = bt_dbf_open(x->store, SQLITE_OPEN_READONLY,
	    false, &live, err)) != 0) {
		sqlite3_close(res);
		unlink(scratch);
		return test_failed(x, b.name, err, rc);
	}
	table_counts(live, &lt, &nl);
	table_counts(res, &rt, &nr);
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
	lnew = newest_by_tf(live);
	rnew = newest_by_tf(res);
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

/* ------------------------------------------------------------- vacuum */

/*
 * The weekly compaction.  A store whose auto_vacuum is INCREMENTAL gives
 * its free pages back in steps: each a transaction of its own under
 * run/write.lock that frees at most BT_VACUUM_STEP_PAGES pages with
 * PRAGMA incremental_vacuum; between two steps the lock is free for
 * BT_VACUUM_PAUSE_MS, long enough for a bt writer's next try (bt_lock.c
 * polls at most every 64 ms) and for a trader blocked in flock(2), so a
 * writer waits one step at most; a checkpoint (TRUNCATE) under the lock
 * ends it.  Any other store gets VACUUM, which rewrites the whole file
 * while writers wait; with --convert that VACUUM is the one-time switch
 * to INCREMENTAL, which SQLite makes only through a VACUUM.  Incremental
 * vacuum frees pages; it does not repack half-empty ones as VACUUM does
 * (bt-backup(1), Vacuum, says what that costs).
 */

enum { AV_NONE, AV_FULL, AV_INCREMENTAL };	/* PRAGMA auto_vacuum */

static const char *const av_names[] = { "none", "full", "incremental" };

/* What a vacuum found and did, for its event. */
struct vac {
	sqlite3	*db;
	const char *store;	/* its path */
	dev_t	 dev;		/* and the file it named when opened */
	ino_t	 ino;
	char	 wal[PATH_MAX];
	int	 mode;		/* auto_vacuum before: AV_* */
	bool	 convert;	/* --convert on a store not incremental */
	int64_t	 before;	/* bytes of the file and its WAL */
	int64_t	 freepages;	/* the freelist before */
	int64_t	 steps, freed;	/* incremental: steps done, pages freed */
	double	 t0;		/* when the lock was taken */
	double	 held, longest;	/* seconds the lock was held: all, once */
	bool	 lockout;	/* the lock was not to be had */
	bool	 wal_left;	/* its checkpoint stayed busy */
};

/* Tests only: called between two steps, run/write.lock free. */
static void	(*between_fn)(int, void *);
static void	*between_arg;

void
bt_backup_vacuum_hook(void (*fn)(int step, void *arg), void *arg)
{
	between_fn = fn;
	between_arg = arg;
}

/*
 * run/write.lock for one hold of the vacuum; a refusal is a lockout.  A
 * restore may have taken the lock while it was free between two steps:
 * when db/LOCKED is there, or another file has the store's name, the
 * vacuum stops (75), as any writer of the store does.
 */
static int
vac_lock(struct vac *v, char *err)
{
	struct stat sb;
	int rc;

	v->t0 = bt_mono();
	if ((rc = bt_wlock(err)) != 0) {
		v->lockout = true;
		return rc;
	}
	if (!bt_store_locked(NULL, 0) && stat(v->store, &sb) == 0 &&
	    sb.st_dev == v->dev && sb.st_ino == v->ino)
		return 0;
	bt_wunlock();
	snprintf(err, BT_ERRLEN, "%s: a restore or rollback owns the store "
	    "(db/LOCKED) or has put another file in its place; the vacuum "
	    "stops", v->store);
	v->lockout = true;
	return BT_EX_TEMPFAIL;
}

/* Lets it go, counting how long it was held. */
static void
vac_unlock(struct vac *v)
{
	double held = bt_mono() - v->t0;

	bt_wunlock();
	v->held += held;
	if (held > v->longest)
		v->longest = held;
}

/*
 * The checkpoint that ends a vacuum, under the lock.  One that stays
 * busy (bt_dbf_checkpoint()) leaves the WAL to the next checkpoint, and
 * is said; the vacuum itself is done.
 */
static int
vac_checkpoint(struct vac *v, char *err)
{
	int rc;

	if ((rc = bt_dbf_checkpoint(v->db, err)) != BT_EX_TEMPFAIL)
		return rc;
	bt_warnx("%s", err);
	v->wal_left = true;
	return 0;
}

/* VACUUM rewrites every page through the WAL: room for a copy, or 74. */
static int
vacuum_room(struct bt_backups *x, struct vac *v)
{
	char dir[PATH_MAX];
	int64_t need, have;

	bt_dbf_split(x->store, dir, sizeof(dir));
	need = bt_dbf_bytes(v->db) + bt_dbf_bytes(v->db) / 10;
	if ((have = bt_dbf_free_space(dir)) < 0 || have >= need)
		return 0;
	bt_event(x->st, "CRITICAL", "vacuum_failed", NULL, NULL,
	    json_pack("{s:I, s:I}", "free", (json_int_t)have, "needed",
	    (json_int_t)need), "VACUUM refused: %s has %lld bytes free, the "
	    "copy needs %lld", dir, (long long)have, (long long)need);
	return BT_EX_IOERR;
}

/* VACUUM and its checkpoint in one hold; --convert switches first. */
static int
vacuum_full(struct vac *v, char *err)
{
	int rc;

	if ((rc = vac_lock(v, err)) != 0)
		return rc;
	if (v->convert)
		rc = bt_exec(v->db, "PRAGMA auto_vacuum=INCREMENTAL", err);
	if (rc == 0)
		rc = bt_exec(v->db, "VACUUM", err);
	if (rc == 0)
		rc = vac_checkpoint(v, err);
	vac_unlock(v);
	return rc;
}

/*
 * One step: at most n pages off the freelist and the end of the file,
 * in a transaction of its own under the lock.  Each row of the pragma is
 * a page freed; resetting it ends the step and keeps them.
 */
static int
vacuum_step(struct vac *v, sqlite3_stmt *iv, int64_t n, int64_t *freed,
    char *err)
{
	int rc, step = SQLITE_DONE;

	*freed = 0;
	if ((rc = vac_lock(v, err)) != 0)
		return rc;
	if ((rc = bt_begin(v->db, err)) == 0) {
		while (*freed < n && (step = sqlite3_step(iv)) == SQLITE_ROW)
			(*freed)++;
		sqlite3_reset(iv);
		if (step != SQLITE_ROW && step != SQLITE_DONE) {
			snprintf(err, BT_ERRLEN, "incremental_vacuum: %s",
			    bt_db_errmsg(v->db));
			rc = bt_sqlite_ex(step) ? bt_sqlite_ex(step) :
			    BT_EX_SOFTWARE;
			bt_rollback(v->db);
		} else
			rc = bt_commit(v->db, err);
	}
	vac_unlock(v);
	return rc;
}

/*
 * The freelist given back in steps, the lock free between them, until
 * it is empty or what it held at the start is freed (a writer freeing
 * pages meanwhile cannot keep it going); then the checkpoint.
 */
static int
vacuum_steps(struct vac *v, char *err)
{
	int64_t n = bt_conf_long("BT_VACUUM_STEP_PAGES"), freed;
	double pause = bt_conf_double("BT_VACUUM_PAUSE_MS") / 1000;
	sqlite3_stmt *iv;
	int rc;

	if (sqlite3_prepare_v2(v->db, "PRAGMA incremental_vacuum", -1, &iv,
	    NULL) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(v->db));
		return BT_EX_SOFTWARE;
	}
	while ((rc = vacuum_step(v, iv, n, &freed, err)) == 0) {
		v->steps++;
		v->freed += freed;
		if (freed < n || v->freed >= v->freepages)
			break;
		if (between_fn != NULL)
			between_fn((int)v->steps, between_arg);
		bt_sleep(pause);
	}
	sqlite3_finalize(iv);
	if (rc != 0 || (rc = vac_lock(v, err)) != 0)
		return rc;
	rc = vac_checkpoint(v, err);
	vac_unlock(v);
	return rc;
}

/*
 * A store left as it was, not incremental: its weekly VACUUM blocks
 * writers.  Said once (an INFO event, remembered in the state file's
 * kv), not every week.
 */
static void
say_not_incremental(struct bt_backups *x, const struct vac *v)
{
	static const char key[] = "backup.vacuum.not_incremental_said";
	char err[BT_ERRLEN], *val = NULL;

	if (x->st == NULL || bt_kv_get(x->st, key, &val, err) != 0 ||
	    val != NULL) {
		free(val);
		return;
	}
	bt_event(x->st, "INFO", "vacuum_not_incremental", NULL, NULL,
	    json_pack("{s:s}", "auto_vacuum", av_names[v->mode]), "the store "
	    "is not incremental (auto_vacuum %s), so --vacuum runs VACUUM, "
	    "which blocks writers, the live trader among them, while it "
	    "rewrites the file; bt-backup --vacuum --convert makes it "
	    "incremental once (one more such VACUUM), and every later "
	    "--vacuum frees pages in short steps (bt-backup(1), Vacuum)",
	    av_names[v->mode]);
	if (bt_kv_set(x->st, key, "1", err) != 0)
		bt_warnx("%s", err);
}

/* The message of the vacuum event: what it did, reclaimed, blocked. */
static void
vacuum_message(const struct vac *v, int64_t gain, struct bt_buf *m)
{
	if (v->mode == AV_INCREMENTAL)
		bt_buf_printf(m, "incremental vacuum freed %lld pages in %lld "
		    "step%s and", (long long)v->freed, (long long)v->steps,
		    v->steps == 1 ? "" : "s");
	else
		bt_buf_printf(m, "VACUUM%s", v->convert ? " converted the "
		    "store to incremental vacuum (once; later runs free pages "
		    "in steps) and" : "");
	bt_buf_printf(m, " reclaimed %lld bytes", (long long)gain);
	if (!bt_now_frozen() && v->mode == AV_INCREMENTAL)
		bt_buf_printf(m, "; writers were blocked %.3fs at most at once",
		    v->longest);
	else if (!bt_now_frozen())
		bt_buf_printf(m, "; writers were blocked %.3fs", v->held);
	if (v->wal_left)
		bt_buf_printf(m, "; the checkpoint stayed busy, so its WAL "
		    "waits for the next one");
}

/* The vacuum event, or the failure; returns the run's exit code. */
static int
vacuum_report(struct bt_backups *x, const struct vac *v, int rc,
    const char *err)
{
	bool steps = v->mode == AV_INCREMENTAL;
	int64_t after, gain;
	struct bt_buf m = { 0 };
	json_t *rec;

	if (rc != 0 && !(v->lockout && v->steps > 0)) {
		if (v->lockout)
			bt_warnx("%s", err);
		else
			bt_event(x->st, "CRITICAL", "vacuum_failed", NULL,
			    NULL, NULL, "%s of %s failed%s: %s", steps ?
			    "incremental vacuum" : "VACUUM", x->store,
			    v->steps > 0 ? " (the pages freed before stay "
			    "freed)" : "", err);
		return rc;
	}
	if (rc != 0)
		bt_warnx("%s; the %lld pages freed so far stay freed, and the "
		    "next run goes on", err, (long long)v->freed);
	after = bt_dbf_size(x->store) + bt_dbf_size(v->wal);
	gain = v->before - after;
	rec = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:b, s:b}",
	    "bytes_before", (json_int_t)v->before, "bytes_after",
	    (json_int_t)after, "reclaimed", (json_int_t)gain, "wal_bytes",
	    (json_int_t)bt_dbf_size(v->wal), "free_pages",
	    (json_int_t)v->freepages, "method", steps ? "incremental" :
	    "vacuum", "auto_vacuum", av_names[steps || v->convert ?
	    AV_INCREMENTAL : v->mode], "converted", v->convert, "complete",
	    rc == 0);
	if (steps) {
		json_object_set_new(rec, "steps", json_integer(v->steps));
		json_object_set_new(rec, "pages_freed", json_integer(v->freed));
		bt_rec_dur(rec, "longest_hold_seconds", v->longest);
	}
	bt_rec_dur(rec, "writers_blocked_seconds", v->held);
	vacuum_message(v, gain, &m);
	bt_event(x->st, "INFO", "vacuum", NULL, NULL, rec, "%s", m.p);
	bt_buf_free(&m);
	if (!steps && !v->convert)
		say_not_incremental(x, v);
	return rc;
}

int
bt_backup_vacuum(struct bt_backups *x, bool convert)
{
	struct vac v;
	struct stat sb;
	char err[BT_ERRLEN];
	int rc;


	memset(&v, 0, sizeof(v));
	v.store = x->store;
	snprintf(v.wal, sizeof(v.wal), "%s-wal", x->store);
	if ((rc = bt_dbf_open(x->store, SQLITE_OPEN_READWRITE, false, &v.db,
	    err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (stat(x->store, &sb) == 0) {
		v.dev = sb.st_dev;
		v.ino = sb.st_ino;
	}
	v.freepages = bt_dbf_int(v.db, "PRAGMA freelist_count");
	v.mode = (int)bt_dbf_int(v.db, "PRAGMA auto_vacuum");
	if (v.mode < AV_NONE || v.mode > AV_INCREMENTAL)
		v.mode = AV_NONE;
	v.convert = convert && v.mode != AV_INCREMENTAL;
	v.before = bt_dbf_size(x->store) + bt_dbf_size(v.wal);
	if (v.mode == AV_INCREMENTAL)
		rc = vacuum_steps(&v, err);
	else if ((rc = vacuum_room(x, &v)) == 0)
		rc = vacuum_full(&v, err);
	else {
		sqlite3_close(v.db);
		return rc;
	}
	sqlite3_close(v.db);
	return vacuum_report(x, &v, rc, err);
}
