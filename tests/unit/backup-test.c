/*
 * backup-test - bt-backup's modules driven directly: db/LOCKED's content
 * (bt_lock.c), files handled whole (bt_dbfile.c), the catalogue of
 * backups/ with what a good backup is (bt_catalog.c), and the vacuum in
 * steps (bt_backup.c) with the checkpoint that ends it.
 *
 *	backup-test lock | dbfile | list | check | choose | vacuum
 *
 * Runs one group of checks in $BT_HOME (a scratch directory:
 * tests/4070-backup-modules.t), with BT_NOW frozen by the caller.  Each
 * failed check is a line on stderr, and so is the count at the end; exit
 * 0 when every check passes, 1 when one fails, 2 when the setup fails.
 * `choose' prints the backup_bad lines of the backups it skips on stdout,
 * `vacuum' the vacuum lines.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_backup.h"
#include "bt_catalog.h"
#include "bt_conf.h"
#include "bt_dbfile.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_store.h"

static int	 failed;
static char	 home[PATH_MAX];

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	failed++;
	fprintf(stderr, "backup-test: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "backup-test: %s: %s\n", what, err);
	exit(2);
}

/* $BT_HOME/rel into buf. */
static char *
at(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/%s", home, rel);
	return buf;
}

static void
put(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF)
		die(path, strerror(errno));
}

static bool
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int64_t
ms(const char *iso)
{
	int64_t t;

	if (bt_parse_time(iso, &t) == -1)
		die("time", iso);
	return t;
}

/* ---------------------------------------------------------- db/LOCKED */

/* A pid that was a process of ours and is gone. */
static long
gone_pid(void)
{
	pid_t p;

	if ((p = fork()) == 0)
		_exit(0);
	if (p == -1 || waitpid(p, NULL, 0) != p)
		die("fork", strerror(errno));
	return (long)p;
}

static void
group_lock(void)
{
	struct bt_lockinfo li;
	char err[BT_ERRLEN], path[PATH_MAX], ts[32], buf[512];

	if (bt_mkdirs(at(path, "db"), 0750, err) == -1)
		die("mkdir", err);
	bt_locked_remove(err);
	check(!bt_locked_read(&li), "no db/LOCKED reads as none");
	check(!bt_store_locked(NULL, 0), "no db/LOCKED: not locked");

	check(bt_locked_write("rollback", "/x/damaged", err) == 0,
	    "write: %s", err);
	check(bt_store_locked(NULL, 0), "written: locked");
	check(bt_locked_read(&li) && li.parsed, "written: reads as JSON");
	check(li.pid == (long)getpid(), "pid %ld", li.pid);
	check(li.start == bt_proc_start_ticks(getpid()), "start_ticks");
	check(strcmp(li.boot, bt_boot_id()) == 0, "boot_id %s", li.boot);
	check(strcmp(li.op, "rollback") == 0, "op %s", li.op);
	check(strcmp(li.damaged, "/x/damaged") == 0, "damaged %s",
	    li.damaged);
	check(strcmp(li.started, bt_fmt_time(bt_now_ms(), ts)) == 0,
	    "started %s", li.started);
	check(bt_locked_owner_alive(&li), "our own lock: owner alive");

	check(bt_locked_write("restore", NULL, err) == 0, "write: %s", err);
	check(bt_locked_read(&li) && li.damaged[0] == '\0' &&
	    strcmp(li.op, "restore") == 0, "no copy yet: damaged \"\"");

	/* Another boot, another start time, a pid gone: not alive. */
	snprintf(buf, sizeof(buf), "{\"pid\":%ld,\"start_ticks\":%lld,"
	    "\"boot_id\":\"another-boot\",\"op\":\"restore\"}", (long)getpid(),
	    (long long)bt_proc_start_ticks(getpid()));
	put(at(path, "db/LOCKED"), buf);
	check(bt_locked_read(&li) && !bt_locked_owner_alive(&li),
	    "another boot: owner gone");
	snprintf(buf, sizeof(buf), "{\"pid\":%ld,\"start_ticks\":%lld,"
	    "\"boot_id\":\"%s\"}", (long)getpid(),
	    (long long)bt_proc_start_ticks(getpid()) + 1, bt_boot_id());
	put(path, buf);
	check(bt_locked_read(&li) && !bt_locked_owner_alive(&li),
	    "another start time: owner gone (a reused pid)");
	snprintf(buf, sizeof(buf), "{\"pid\":%ld,\"start_ticks\":1,"
	    "\"boot_id\":\"%s\"}", gone_pid(), bt_boot_id());
	put(path, buf);
	check(bt_locked_read(&li) && !bt_locked_owner_alive(&li),
	    "a pid gone: owner gone");
	check(li.op[0] == '\0' && li.damaged[0] == '\0',
	    "missing members read as \"\"");

	/* A hand-made db/LOCKED (`touch'): locked, owner unknown. */
	put(path, "");
	check(bt_locked_read(&li) && !li.parsed && !bt_locked_owner_alive(&li),
	    "an empty db/LOCKED: present, not parsed, owner gone");
	check(bt_store_locked(NULL, 0), "an empty db/LOCKED: locked");

	check(bt_locked_remove(err) == 0, "remove: %s", err);
	check(!exists(path) && !bt_locked_read(&li), "removed");
	check(bt_locked_remove(err) == 0, "removing none: 0");
}

/* ------------------------------------------------------------ dbfile */

static void
split_is(const char *path, const char *dir, const char *base)
{
	char d[PATH_MAX];
	const char *b;

	b = bt_dbf_split(path, d, sizeof(d));
	check(strcmp(d, dir) == 0 && strcmp(b, base) == 0,
	    "split %s: \"%s\" \"%s\"", path, d, b);
}

static void
group_dbfile(void)
{
	char err[BT_ERRLEN], why[BT_ERRLEN], a[PATH_MAX], b[PATH_MAX];
	char p[PATH_MAX], *s;
	const char *const ours[] = { ".db_backup_", "x.salvage-", NULL };
	const char *keep[] = { ".notes.tmp", "db_backup_20240301.db",
	    "y.salvage-1.tmp" };
	struct stat sb;
	sqlite3 *db, *src;
	size_t n, i;

	split_is("a/b/c.db", "a/b", "c.db");
	split_is("c.db", ".", "c.db");
	split_is("/c.db", "", "c.db");

	if (bt_mkdirs(at(a, "f"), 0750, err) == -1)
		die("mkdir", err);
	put(at(a, "f/src"), "the bytes");
	check(bt_dbf_copy_bytes(a, at(b, "f/dst"), 0600, err) == 0,
	    "copy_bytes: %s", err);
	check((s = bt_read_file(b, 100, &n, err)) != NULL && n == 9 &&
	    memcmp(s, "the bytes", 9) == 0, "copy_bytes: the same bytes");
	free(s);
	check(stat(b, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode 0600");
	put(a, "other bytes");
	check(bt_dbf_copy_bytes(a, b, 0600, err) != 0,
	    "copy_bytes never replaces a file");
	check((s = bt_read_file(b, 100, &n, err)) != NULL && n == 9,
	    "the file it did not replace is as it was");
	free(s);
	check(!exists(at(p, "f/dst.tmp")), "no dst.tmp left");
	check(bt_dbf_size(b) == 9 && bt_dbf_size(at(p, "f/none")) == 0,
	    "sizes");

	/* The sweep takes our temporary names only. */
	put(at(p, "f/.db_backup_20240301.db.tmp"), "");
	put(at(p, "f/x.salvage-1.tmp-journal"), "");
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/f/%s", home, keep[i]);
		put(p, "");
	}
	bt_dbf_sweep_tmp(at(p, "f"), ours);
	check(!exists(at(p, "f/.db_backup_20240301.db.tmp")), "swept .tmp");
	check(!exists(at(p, "f/x.salvage-1.tmp-journal")),
	    "swept .tmp-journal");
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/f/%s", home, keep[i]);
		check(exists(p), "kept %s", keep[i]);
	}

	/* One backup step, checked; garbage fails the check. */
	if (sqlite3_open(at(a, "f/a.db"), &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1),(2)",
	    NULL, NULL, NULL) != SQLITE_OK)
		die("a.db", sqlite3_errmsg(db));
	sqlite3_close(db);
	check(bt_dbf_open(a, SQLITE_OPEN_READONLY, false, &src, err) == 0,
	    "open: %s", err);
	check(bt_dbf_copy(src, at(b, "f/b.db"), err) == 0, "copy: %s", err);
	check(bt_dbf_bytes(src) == bt_dbf_size(b), "bytes of the copy");
	sqlite3_close(src);
	check(bt_dbf_check_file(b, true, true, why, sizeof(why)) == 0 &&
	    strcmp(why, "ok") == 0, "the copy passes integrity_check");
	check(stat(b, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "the copy is 0600");
	put(at(p, "f/garbage.db"), "this is no database, but long enough "
	    "to look like a header of one, or not at all.................."
	    "...............................................................");
	check(bt_dbf_check_file(p, false, true, why, sizeof(why)) == 1 &&
	    strcmp(why, "ok") != 0, "garbage fails quick_check: %s", why);
	check(bt_dbf_open(at(p, "f/no/such.db"), SQLITE_OPEN_READONLY, false,
	    &db, err) != 0 && db == NULL, "a missing file does not open");
}

/* ------------------------------------------------------- the catalogue */

static void
touch_at(const char *path, int64_t t)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)(t / 1000);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == -1)
		die(path, strerror(errno));
}

static void
group_list(void)
{
	static const char *const junk[] = { "db_backup_2024030.db",
	    "db_backup_20240301.db.tmp", ".db_backup_20240301.db.tmp",
	    "db_backup_2024030x.db", "db_backup_20241301.db",
	    "state_backup_20240302.sqlite", "notes.txt", NULL };
	struct bt_bfile *v;
	char dir[PATH_MAX], p[PATH_MAX], q[PATH_MAX], err[BT_ERRLEN];
	size_t n, i;

	check(bt_catalog_list(at(dir, "nobackups"), -1, &v, &n) == 0 &&
	    n == 0, "no backups/: none");
	free(v);
	if (bt_mkdirs(at(dir, "bk"), 0700, err) == -1)
		die("mkdir", err);
	check(bt_catalog_list(dir, -1, &v, &n) == 0 && n == 0,
	    "an empty backups/: none");
	free(v);
	put(at(p, "bk/db_backup_20240301.db"), "a");
	put(at(p, "bk/state_backup_20240302.db"), "b");
	put(at(p, "bk/db_backup_20240303.db"), "c");
	if (link(p, at(q, "bk/db_backup_weekly_20240303.db")) == -1)
		die("link", strerror(errno));
	for (i = 0; junk[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/bk/%s", home, junk[i]);
		put(p, "x");
	}
	/* An mtime within its day is when it was taken; else midnight. */
	touch_at(at(p, "bk/db_backup_20240301.db"),
	    ms("2024-03-01T05:00:00Z"));
	touch_at(at(p, "bk/db_backup_20240303.db"),
	    ms("2024-03-09T05:00:00Z"));
	check(bt_catalog_list(dir, -1, &v, &n) == 0 && n == 4,
	    "4 backups among the files, got %zu", n);
	if (n == 4) {
		check(strcmp(v[0].name, "db_backup_20240303.db") == 0 &&
		    v[0].kind == BT_BK_DAILY, "newest: the daily %s",
		    v[0].name);
		check(strcmp(v[1].name, "db_backup_weekly_20240303.db") == 0 &&
		    v[1].kind == BT_BK_WEEKLY, "then the weekly it links");
		check(v[0].dev == v[1].dev && v[0].ino == v[1].ino,
		    "the weekly is the daily's file");
		check(v[0].time == ms("2024-03-03T00:00:00Z"),
		    "an mtime outside its day counts as midnight");
		check(strcmp(v[2].name, "state_backup_20240302.db") == 0 &&
		    v[2].kind == BT_BK_STATE && v[2].size == 1, "the state");
		check(strcmp(v[3].name, "db_backup_20240301.db") == 0 &&
		    v[3].time == ms("2024-03-01T05:00:00Z") &&
		    v[3].day == ms("2024-03-01T00:00:00Z"),
		    "the oldest, taken at 05:00");
		check(starts(v[3].path, dir) && strcmp(v[3].path +
		    strlen(dir), "/db_backup_20240301.db") == 0, "its path");
	}
	free(v);
	check(bt_catalog_list(dir, BT_BK_STATE, &v, &n) == 0 && n == 1 &&
	    v[0].kind == BT_BK_STATE, "one kind only");
	free(v);
	check(strcmp(bt_bk_prefix(BT_BK_WEEKLY), "db_backup_weekly_") == 0 &&
	    bt_bk_keep(BT_BK_DAILY) == 3 && bt_bk_keep(BT_BK_WEEKLY) == 4 &&
	    bt_bk_keep(BT_BK_STATE) == 3, "names and rotation counts");
}

/* A store with one pair of three 1d candles and the trader's table. */
static void
make_store(struct bt_backups *b)
{
	struct bt_candle c[3];
	struct bt_pair p;
	char err[BT_ERRLEN];
	sqlite3 *db;
	int64_t changed;
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 3; i++) {
		c[i].t = ms("2024-02-27T00:00:00Z") + i * 86400000LL;
		c[i].o = c[i].h = c[i].l = c[i].c = 100 + i;
		c[i].v = 1;
	}
	if (bt_open_store(b->store, BT_DB_CREATE, &db, err) != 0 ||
	    bt_begin(db, err) != 0 ||
	    bt_pair_get(db, "ETHUSDT", "1d", true, c, 3, &p, err) != 0 ||
	    bt_candles_upsert(db, &p, c, 3, &changed, err) != 0 ||
	    bt_commit(db, err) != 0 ||
	    bt_exec(db, "CREATE TABLE trades(id INTEGER PRIMARY KEY, t)",
	    err) != 0 ||
	    bt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", err) != 0)
		die("store", err);
	bt_close(db);
	if (bt_open_state(b->statepath, BT_DB_CREATE, &b->st, err) != 0)
		die("state", err);
}

/* backups/NAME, a copy of the store (or the state file). */
static void
copy_to(struct bt_backups *b, const char *name, bool state, char *path)
{
	char err[BT_ERRLEN];
	sqlite3 *db;

	snprintf(path, PATH_MAX, "%s/%s", b->bdir, name);
	if (bt_dbf_open(state ? b->statepath : b->store, SQLITE_OPEN_READONLY,
	    false, &db, err) != 0 || bt_dbf_copy(db, path, err) != 0)
		die(name, err);
	sqlite3_close(db);
}

/* The backups of `check' and `choose', newest first by their dates. */
static void
make_backups(struct bt_backups *b)
{
	struct bt_facts f;
	char p[PATH_MAX], q[PATH_MAX], err[BT_ERRLEN], why[BT_ERRLEN];
	sqlite3 *db;

	b->store = strdup(at(p, "db/crypto_agent.db"));
	b->statepath = strdup(at(p, "db/bt_state.db"));
	b->bdir = strdup(at(p, "backups"));
	b->dry = true;		/* events printed, not recorded */
	if (bt_mkdirs(b->bdir, 0700, err) == -1 ||
	    bt_mkdirs(at(p, "db"), 0750, err) == -1)
		die("mkdir", err);
	make_store(b);
	/* The first recorded backup, taken 2024-03-01T03:00Z. */
	copy_to(b, "db_backup_20240301.db", false, p);
	if (bt_catalog_facts(p, false, &f, why, sizeof(why)) != 0)
		die("facts", why);
	if (bt_record_put(b->st, "db_backup_20240301.db",
	    ms("2024-03-01T03:00:00Z"), &f, err) != 0)
		die("record", err);
	/* Recorded, then changed: a table added. */
	copy_to(b, "db_backup_20240302.db", false, p);
	if (bt_catalog_facts(p, false, &f, why, sizeof(why)) != 0 ||
	    bt_record_put(b->st, "db_backup_20240302.db",
	    ms("2024-03-02T03:00:00Z"), &f, err) != 0)
		die("record", err);
	if (sqlite3_open(p, &db) != SQLITE_OK || sqlite3_exec(db,
	    "CREATE TABLE added(x)", NULL, NULL, NULL) != SQLITE_OK)
		die(p, sqlite3_errmsg(db));
	sqlite3_close(db);
	put(at(p, "backups/db_backup_20240303.db"), "");
	if (symlink(at(q, "backups/db_backup_20240301.db"),
	    at(p, "backups/db_backup_20240304.db")) == -1)
		die("symlink", strerror(errno));
	/* Never recorded, though dated after the first record. */
	copy_to(b, "db_backup_20240305.db", false, p);
	if (link(b->store, at(p, "backups/db_backup_20240306.db")) == -1)
		die("link", strerror(errno));
	/* The state file where a store belongs. */
	copy_to(b, "db_backup_20240307.db", true, p);
	/* A schema newer than this bt. */
	copy_to(b, "db_backup_20240308.db", false, p);
	if (sqlite3_open(p, &db) != SQLITE_OK || sqlite3_exec(db,
	    "UPDATE bt_meta SET value=99 WHERE key='schema_version'", NULL,
	    NULL, NULL) != SQLITE_OK)
		die(p, sqlite3_errmsg(db));
	sqlite3_close(db);
	/* Unrecorded, from before bt recorded its backups. */
	copy_to(b, "db_backup_20240228.db", false, p);
	copy_to(b, "state_backup_20240301.db", true, p);
}

static void
free_backups(struct bt_backups *b)
{
	bt_close(b->st);
	free(b->store);
	free(b->statepath);
	free(b->bdir);
}

/* The check of backups/NAME: 0 (and c), or the start of why. */
static void
check_is(struct bt_backups *b, const struct bt_records *r,
    const char *name, const char *want)
{
	struct bt_bfile *v;
	struct bt_cand c;
	char why[BT_ERRLEN];
	size_t n, i;
	int rc = -1;

	if (bt_catalog_list(b->bdir, -1, &v, &n) != 0)
		die("list", strerror(errno));
	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			rc = bt_catalog_check(b, &v[i],
			    v[i].kind == BT_BK_STATE, r, &c, why, sizeof(why));
	free(v);
	if (want == NULL)
		check(rc == 0, "%s passes: %s", name, rc == 1 ? why : "absent");
	else
		check(rc == 1 && starts(why, want), "%s: want \"%s...\", got "
		    "%d \"%s\"", name, want, rc, rc == 1 ? why : "");
}

static void
group_check(void)
{
	struct bt_backups b = { 0 };
	struct bt_records r;
	const struct bt_brec *k;
	struct bt_facts f;
	char p[PATH_MAX], why[BT_ERRLEN];

	make_backups(&b);
	check(bt_catalog_facts(b.store, false, &f, why, sizeof(why)) == 0,
	    "facts of the store: %s", why);
	check(f.candles == 3 && f.first == ms("2024-02-27T00:00:00Z") &&
	    f.last == ms("2024-02-29T00:00:00Z"), "3 candles, their range");
	check(f.schema == BT_STORE_SCHEMA && strstr(f.tables, "trades") !=
	    NULL && starts(f.tables, "bt_meta,"), "schema %lld, tables %s",
	    (long long)f.schema, f.tables);
	check(bt_catalog_facts(at(p, "backups/state_backup_20240301.db"), true,
	    &f, why, sizeof(why)) == 0 && f.candles == -1 &&
	    f.schema == BT_STATE_SCHEMA, "a state file: %s", why);
	check(bt_catalog_facts(b.store, true, &f, why, sizeof(why)) == 1 &&
	    starts(why, "is not a bt state file: it lacks the runs and events "
	    "tables"), "a store is no state file: %s", why);

	bt_records_load(NULL, &r);
	check(r.n == 0 && r.since == -1, "no state file: no records");
	bt_records_load(b.st, &r);
	check(r.n == 2 && r.since == ms("2024-03-01T03:00:00Z"),
	    "2 records since 03:00 of the 1st");
	check((k = bt_record_find(&r, "db_backup_20240301.db")) != NULL &&
	    k->f.candles == 3, "the record holds the facts");

	check_is(&b, &r, "db_backup_20240301.db", NULL);
	check_is(&b, &r, "db_backup_20240302.db",
	    "is not what bt-backup recorded when it took it: ");
	check_is(&b, &r, "db_backup_20240303.db", "is empty (0 bytes)");
	check_is(&b, &r, "db_backup_20240304.db", "is a symbolic link");
	check_is(&b, &r, "db_backup_20240305.db", "has no record, though "
	    "bt-backup has recorded every backup it took since "
	    "2024-03-01T03:00:00Z");
	check_is(&b, &r, "db_backup_20240306.db",
	    "is the live store itself (a hard link)");
	check_is(&b, &r, "db_backup_20240307.db",
	    "is not a bt store: it lacks the pairs and candles tables");
	check_is(&b, &r, "db_backup_20240308.db", "has schema_version 99, "
	    "newer than this bt knows");
	check_is(&b, &r, "db_backup_20240228.db", NULL);
	check_is(&b, &r, "state_backup_20240301.db", NULL);

	check(bt_record_del(b.st, "db_backup_20240302.db", why) == 0,
	    "forget: %s", why);
	bt_records_free(&r);
	bt_records_load(b.st, &r);
	check(r.n == 1 && bt_record_find(&r, "db_backup_20240302.db") == NULL,
	    "forgotten");
	check(bt_record_del(NULL, "x", why) == 0, "no state file: nothing");
	bt_records_free(&r);
	free_backups(&b);
}

static void
group_choose(void)
{
	struct bt_backups b = { 0 };
	struct bt_cand c;
	char err[BT_ERRLEN];

	make_backups(&b);
	check(bt_catalog_choose(&b, false, INT64_MAX, &c, err) == 0 &&
	    strcmp(c.b.name, "db_backup_20240301.db") == 0 && c.recorded &&
	    c.b.time == ms("2024-03-01T03:00:00Z") && c.f.candles == 3,
	    "the newest good backup, recorded: %s", c.b.name);
	check(bt_catalog_choose(&b, false, ms("2024-03-01T02:00:00Z"), &c,
	    err) == 0 && strcmp(c.b.name, "db_backup_20240228.db") == 0 &&
	    !c.recorded, "older than the record: the unrecorded one");
	check(bt_catalog_choose(&b, false, ms("2024-02-27T00:00:00Z"), &c,
	    err) == BT_EX_NOINPUT, "none old enough: 66");
	check(bt_catalog_choose(&b, true, INT64_MAX, &c, err) == 0 &&
	    strcmp(c.b.name, "state_backup_20240301.db") == 0,
	    "the state file's backup");
	free(b.bdir);
	b.bdir = strdup("/nonexistent/backups");
	check(bt_catalog_choose(&b, false, INT64_MAX, &c, err) ==
	    BT_EX_NOINPUT, "no backups/: 66");
	free_backups(&b);
}

/* ------------------------------------------------------------ vacuum */

/* What the probe between two steps saw. */
struct between {
	char	 store[PATH_MAX], lock[PATH_MAX];
	int	 calls, lock_free, wrote;
};

/*
 * Is run/write.lock free?  A lock through an open file description of
 * its own fails while anyone, this process included, holds it.
 */
static bool
lock_free(const char *path)
{
	int fd;
	bool free_ = false;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1)
		die(path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		free_ = true;
		flock(fd, LOCK_UN);
	}
	close(fd);
	return free_;
}

/*
 * Between two steps: run/write.lock is free, and a writer that waits for
 * nothing (busy timeout 0) commits a row under it.
 */
static void
between(int step, void *arg)
{
	struct between *w = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int fd;

	w->calls++;
	if (!lock_free(w->lock))
		return;
	w->lock_free++;
	if ((fd = open(w->lock, O_RDWR | O_CLOEXEC)) == -1 ||
	    flock(fd, LOCK_EX | LOCK_NB) == -1)
		die(w->lock, strerror(errno));
	if (sqlite3_open(w->store, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, "INSERT INTO w(step) VALUES "
	    "(?1)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, step);
		if (sqlite3_step(st) == SQLITE_DONE && sqlite3_exec(db,
		    "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
			w->wrote++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	close(fd);
}

/* Between two steps, a restore takes the store: db/LOCKED. */
static void
restore_between(int step, void *arg)
{
	char err[BT_ERRLEN];

	(void)arg;
	if (step == 1 && bt_locked_write("restore", NULL, err) != 0)
		die("db/LOCKED", err);
}

/* 200 rows of a page each in `drop' and `keep', their pages interleaved. */
static void
interleave(const char *store)
{
	sqlite3 *db;

	if (sqlite3_open(store, &db) != SQLITE_OK || sqlite3_exec(db,
	    "CREATE TABLE IF NOT EXISTS keep(x); CREATE TABLE drop_(x); "
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 200) SELECT count(*) FROM n;", NULL, NULL, NULL) !=
	    SQLITE_OK)
		die(store, sqlite3_errmsg(db));
	for (int i = 0; i < 200; i++)
		if (sqlite3_exec(db, "INSERT INTO keep VALUES "
		    "(randomblob(3000)); INSERT INTO drop_ VALUES "
		    "(randomblob(3000))", NULL, NULL, NULL) != SQLITE_OK)
			die(store, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/*
 * A child that holds the WAL's checkpoint lock: its RESTART checkpoint
 * waits in its busy handler for a reader of its own, says so on `in',
 * and lets the reader go when `go' says so.
 */
static int	 ck_in, ck_go;
static sqlite3	*ck_reader;

static int
ck_busy(void *arg, int n)
{
	char c;

	(void)arg;
	if (n == 0) {
		if (write(ck_in, "i", 1) != 1 || read(ck_go, &c, 1) != 1)
			_exit(2);
		sqlite3_exec(ck_reader, "COMMIT", NULL, NULL, NULL);
	}
	return 1;
}

static pid_t
checkpointer(const char *store, int *in, int *go)
{
	int a[2], b[2];
	sqlite3 *k;
	pid_t pid;

	if (pipe(a) == -1 || pipe(b) == -1 || (pid = fork()) == -1)
		die("fork", strerror(errno));
	if (pid > 0) {
		close(a[1]);
		close(b[0]);
		*in = a[0];
		*go = b[1];
		return pid;
	}
	ck_in = a[1];
	ck_go = b[0];
	if (sqlite3_open(store, &ck_reader) != SQLITE_OK ||
	    sqlite3_exec(ck_reader, "BEGIN; SELECT count(*) FROM keep", NULL,
	    NULL, NULL) != SQLITE_OK || sqlite3_open(store, &k) != SQLITE_OK ||
	    sqlite3_exec(k, "INSERT INTO keep VALUES (1)", NULL, NULL, NULL) !=
	    SQLITE_OK)
		_exit(2);
	sqlite3_busy_handler(k, ck_busy, NULL);
	sqlite3_exec(k, "PRAGMA wal_checkpoint(RESTART)", NULL, NULL, NULL);
	_exit(0);
}

/* The checkpoint that ends a vacuum, while another connection runs one. */
static void
vacuum_checkpoint(const char *store)
{
	char err[BT_ERRLEN], wal[PATH_MAX], c;
	sqlite3 *db;
	int in, go, status;
	pid_t pid;

	snprintf(wal, sizeof(wal), "%s-wal", store);
	pid = checkpointer(store, &in, &go);
	if (read(in, &c, 1) != 1)
		die("checkpointer", "did not start");
	if (bt_dbf_open(store, SQLITE_OPEN_READWRITE, false, &db, err) != 0 ||
	    bt_conf_set("SQLITE_BUSY_TIMEOUT_MS", "0", err) != 0)
		die(store, err);
	check(bt_dbf_checkpoint(db, err) == BT_EX_TEMPFAIL &&
	    strstr(err, "still busy") != NULL, "another connection's "
	    "checkpoint: busy, said: %s", err);
	check(bt_dbf_size(wal) > 0, "busy: the WAL is left");
	if (write(go, "g", 1) != 1 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("checkpointer", "failed");
	check(bt_dbf_checkpoint(db, err) == 0, "then it truncates: %s", err);
	check(bt_dbf_size(wal) == 0, "the WAL truncated: %lld bytes",
	    (long long)bt_dbf_size(wal));
	sqlite3_close(db);
	close(in);
	close(go);
	if (bt_conf_set("SQLITE_BUSY_TIMEOUT_MS", "10000", err) != 0)
		die("conf", err);
}

static void
group_vacuum(void)
{
	struct bt_backups b = { 0 };
	struct between w = { .calls = 0 };
	char p[PATH_MAX], err[BT_ERRLEN];
	int64_t freep, pages, steps;
	sqlite3 *db;

	b.store = strdup(at(p, "db/crypto_agent.db"));
	b.statepath = strdup(at(p, "db/bt_state.db"));
	b.bdir = strdup(at(p, "backups"));
	if (bt_mkdirs(at(p, "db"), 0750, err) == -1)
		die("mkdir", err);
	make_store(&b);
	interleave(b.store);
	check(bt_backup_vacuum(&b, true) == 0, "--convert");
	if (sqlite3_open(b.store, &db) != SQLITE_OK)
		die(b.store, sqlite3_errmsg(db));
	check(bt_dbf_int(db, "PRAGMA auto_vacuum") == 2,
	    "converted: incremental");
	check(sqlite3_exec(db, "DROP TABLE drop_; CREATE TABLE w(step)", NULL,
	    NULL, NULL) == SQLITE_OK, "drop: %s", sqlite3_errmsg(db));
	freep = bt_dbf_int(db, "PRAGMA freelist_count");
	pages = bt_dbf_int(db, "PRAGMA page_count");
	check(freep >= 200, "%lld free pages, scattered", (long long)freep);

	/* The probe sees a lock held, this process's own included. */
	snprintf(w.store, sizeof(w.store), "%s", b.store);
	at(w.lock, "run/write.lock");
	check(bt_wlock(err) == 0 && !lock_free(w.lock), "the probe sees a "
	    "held lock");
	bt_wunlock();
	check(lock_free(w.lock), "and a free one");

	if (bt_conf_set("BT_VACUUM_STEP_PAGES", "16", err) != 0 ||
	    bt_conf_set("BT_VACUUM_PAUSE_MS", "0", err) != 0)
		die("conf", err);
	bt_backup_vacuum_hook(between, &w);
	check(bt_backup_vacuum(&b, false) == 0, "the vacuum in steps");
	bt_backup_vacuum_hook(NULL, NULL);
	steps = (freep + 15) / 16;
	check(w.calls == steps - 1, "%d probes between %lld steps", w.calls,
	    (long long)steps);
	check(w.lock_free == w.calls, "run/write.lock free between steps: "
	    "%d of %d", w.lock_free, w.calls);
	check(w.wrote == w.calls, "a writer got in between steps: %d of %d",
	    w.wrote, w.calls);
	check(bt_dbf_int(db, "SELECT count(*) FROM w") == w.calls,
	    "its rows stay");
	check(bt_dbf_int(db, "PRAGMA freelist_count") == 0,
	    "no free pages left");
	check(bt_dbf_int(db, "PRAGMA page_count") <= pages - freep,
	    "%lld pages of %lld", (long long)bt_dbf_int(db,
	    "PRAGMA page_count"), (long long)pages);
	check(bt_dbf_int(db, "SELECT count(*) FROM keep") == 200,
	    "the kept rows");
	check(bt_dbf_int(db, "SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check <> 'ok'") == 0, "integrity_check ok");

	/* A restore between two steps stops the vacuum; the next goes on. */
	interleave(b.store);
	check(sqlite3_exec(db, "DROP TABLE drop_", NULL, NULL, NULL) ==
	    SQLITE_OK, "drop: %s", sqlite3_errmsg(db));
	freep = bt_dbf_int(db, "PRAGMA freelist_count");
	bt_backup_vacuum_hook(restore_between, NULL);
	check(bt_backup_vacuum(&b, false) == BT_EX_TEMPFAIL, "db/LOCKED "
	    "between two steps: 75");
	bt_backup_vacuum_hook(NULL, NULL);
	check(bt_dbf_int(db, "PRAGMA freelist_count") == freep - 16,
	    "one step done, then it stopped: %lld free of %lld",
	    (long long)bt_dbf_int(db, "PRAGMA freelist_count"),
	    (long long)freep);
	check(bt_locked_remove(err) == 0, "unlock: %s", err);
	check(bt_backup_vacuum(&b, false) == 0 &&
	    bt_dbf_int(db, "PRAGMA freelist_count") == 0,
	    "the next run goes on");
	sqlite3_close(db);

	vacuum_checkpoint(b.store);
	free_backups(&b);
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		void		(*fn)(void);
	} groups[] = { { "lock", group_lock }, { "dbfile", group_dbfile },
	    { "list", group_list }, { "check", group_check },
	    { "choose", group_choose }, { "vacuum", group_vacuum } };
	char err[BT_ERRLEN];
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: backup-test lock|dbfile|list|check|"
		    "choose|vacuum\n");
		return 2;
	}
	if (bt_init("backup-test", err) != 0 || bt_conf_load(err) != 0)
		die("init", err);
	snprintf(home, sizeof(home), "%s", bt_conf("BT_HOME"));
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcmp(argv[1], groups[i].name) == 0) {
			groups[i].fn();
			fprintf(stderr, "backup-test: %s: %d failed\n", argv[1],
			    failed);
			return failed ? 1 : 0;
		}
	fprintf(stderr, "backup-test: no group %s\n", argv[1]);
	return 2;
}
