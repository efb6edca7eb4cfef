/*
 * bt_backup.c - bt-backup's jobs on backups: taking, rotating, the
 * offsite copy, verifying, the restore test; and the weekly VACUUM.
 *
 * Owns: the daily backup of the store and of the state file into
 * backups/ (one step of SQLite's backup API into a temporary name,
 * fsync, quick_check, the record, rename, fsync of the directory), Sunday's
 * weekly as a hard link to that daily, rotation (3 daily, 4 weekly, 3
 * state backups; the offsite directory keeps the same 4 weeks), the
 * weekly offsite copy (to a directory, or through a command that gets
 * the file as $1), --verify (every backup through a restore's checks,
 * bt_catalog.c), --test-restore (the newest good backup restored into a
 * scratch file and held against the live store), and --vacuum.
 *
 * Invariants: only after a copy is in place does rotation delete
 * anything, and never the copy just made; a failed copy leaves every old
 * backup as it was.  A backup is recorded before it is renamed into place
 * (bt_catalog.c).  VACUUM and its checkpoint hold run/write.lock (ops.md
 * 1.1), and only when the file system has room for a copy of the store.
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

int
bt_backup_vacuum(struct bt_backups *x)
{
	sqlite3 *db;
	char err[BT_ERRLEN], dir[PATH_MAX], wal[PATH_MAX];
	int64_t before, after, need, have, freepages = 0;
	double t0, blocked;
	sqlite3_stmt *st;
	json_t *rec;
	int rc;

	snprintf(wal, sizeof(wal), "%s-wal", x->store);
	bt_dbf_split(x->store, dir, sizeof(dir));
	if ((rc = bt_dbf_open(x->store, SQLITE_OPEN_READWRITE, false, &db,
	    err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA freelist_count", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		freepages = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	before = bt_dbf_size(x->store) + bt_dbf_size(wal);
	/* VACUUM rewrites every page through the WAL: room for a copy. */
	need = bt_dbf_bytes(db) + bt_dbf_bytes(db) / 10;
	if ((have = bt_dbf_free_space(dir)) >= 0 && have < need) {
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
	after = bt_dbf_size(x->store) + bt_dbf_size(wal);
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
