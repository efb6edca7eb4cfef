/*
 * bt_restore.c - putting a backup back: --restore (the seed's 4.1) and
 * --rollback hours (4.4), and the state file with --state.
 *
 * Owns, in the order a restore goes (bt-backup(1), Restore and
 * rollback): the refusals while the live trader runs or another live
 * restore owns db/LOCKED; the candidate, the newest backup that passes
 * every check (bt_catalog.c); its comparison with the live store (a
 * table bt cannot rebuild that the backup lacks, or far fewer candles
 * than the live store still reads and no re-fetch brings back: refused
 * without --force); db/LOCKED, written, or taken over from an owner that
 * is gone; the damaged file set aside (a whole copy through .tmp,
 * recorded in the state file's `asides' before it is made) and the
 * newest BT_RESTORE_KEEP_DAMAGED such copies kept; the restore itself
 * (the backup API into the live file, else a fresh file renamed into
 * place); REINDEX and integrity_check; the salvage of the tables bt
 * cannot re-fetch (bt_salvage.c); and, after it, every pair marked dirty
 * for bt-validate and the gap records of what to re-fetch.
 *
 * Invariants: the caller holds run/write.lock from before anything is
 * read to the end, and with --state run/state.lock, under which the
 * state file is checkpointed, kept aside and replaced
 * (bt_restore_wlock()); db/LOCKED is there from before
 * the store is touched until integrity_check has passed on the result,
 * and stays when anything fails; a damaged file is kept, never deleted,
 * except by the rotation of recorded copies after a restore succeeded;
 * gap records are printed only after db/LOCKED is gone, so
 * `bt-backup --restore | bt-fetch --gaps' works.  A dry run (-n) makes
 * every check and comparison, prints the plan, and writes nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_dbfile.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_restore.h"
#include "bt_salvage.h"
#include "bt_state.h"

/* ------------------------------------------------ what bt can rebuild */

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

/* ---------------------------------------------------- the live trader */

/*
 * Is the live trader running?  Its pid file names a live process, or its
 * heartbeat is fresh: the time written in it (ISO 8601, epoch seconds or
 * ms), else its mtime, within BT_TRADER_HEARTBEAT_MAX_AGE.
 *
 * bt-watchdog's check_trader() asks the same question with another
 * reading (a missing pid file or heartbeat is a dead trader there, and
 * only the heartbeat's mtime counts); unify the two in one module below
 * both programs once bt-watchdog's layout is done, keeping each
 * program's documented answer.
 */
static bool
trader_running(char *why, size_t len)
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

/* ---------------------------------------- setting aside, putting back */

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
	const char *base, *prefix[5];

	base = bt_dbf_split(store, dir, sizeof(dir));
	snprintf(pre1, sizeof(pre1), "%s.damaged-", base);
	snprintf(pre2, sizeof(pre2), "%s.before-rollback-", base);
	snprintf(pre3, sizeof(pre3), "%s.salvage-", base);
	prefix[0] = pre1;
	prefix[1] = pre2;
	prefix[2] = pre3;
	prefix[3] = ".restore.tmp";
	prefix[4] = NULL;
	bt_dbf_sweep_tmp(dir, prefix);
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
 * place.  The caller holds the file's write lock: run/write.lock (and
 * db/LOCKED) for the store, run/state.lock for the state file.
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

	if ((rc = bt_dbf_open(from, SQLITE_OPEN_READONLY, true, &src,
	    err)) != 0)
		return rc;
	*method = "backup_api";
	if (access(live, F_OK) == 0 &&
	    bt_dbf_open(live, SQLITE_OPEN_READWRITE, false, &dst, err) == 0) {
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
	if ((rc = bt_dbf_copy(src, tmp, err)) != 0) {
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

/* ------------------------------------------------------ what is lost */

/* Rows of trades newer than `after' (ms) in db; -1 when unknown. */
static int64_t
trades_after(const char *path, bool immutable, int64_t after)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int64_t n = -1;

	if (bt_dbf_open(path, SQLITE_OPEN_READONLY, immutable, &db, err) != 0)
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
	if (bt_dbf_open(path, SQLITE_OPEN_READONLY, false, db, err) == 0) {
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
	if (bt_dbf_open(path, SQLITE_OPEN_READWRITE, false, db, err) != 0)
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

	if (bt_dbf_open(cand, SQLITE_OPEN_READONLY, true, &cd, err) != 0 ||
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
compare_live(const struct bt_backups *x, const struct bt_cand *c,
    struct live *lv, char *why, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	struct bt_buf m = { 0 };
	const char *name;
	size_t i;

	lv->tables = json_array();
	lv->missing = json_array();
	lv->candles = -1;
	if (live_open(x->store, &db) != 0)
		return 0;
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
aside_record(struct bt_backups *x, const char *path)
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
aside_rotate(struct bt_backups *x)
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

/* -------------------------------------------------- after the restore */

/*
 * The stored pairs of the restored store: each wholly dirty for
 * bt-validate, and a gap record for what came after the restore point,
 * to the last closed candle (one without from/to when nothing did).
 */
static void
gaps_stored(struct bt_backups *x, sqlite3 *db, json_t *gaps, int64_t now)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int64_t iv, from, to, first, last;

	if (x->st != NULL && bt_begin(x->st, err) != 0)
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
}

/* Configured pairs the backup lacks: a gap record of their whole history. */
static void
gaps_missing(json_t *gaps, int64_t now)
{
	char **syms, **tfs;
	int nsyms, ntfs, i, j;
	int64_t iv, from, to;
	size_t k;
	json_t *g;
	bool seen;

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
}

/*
 * Salvages what the damaged file `from' still reads of the `lost'
 * tables into a new NAME.salvage-STAMP next to the store, through a
 * .tmp name (a killed salvage leaves only that, which the next restore
 * removes).  Sets `out' to the file ("" when nothing came back).
 */
static void
salvage_into(struct bt_backups *x, const char *from, json_t *lost, char *out,
    size_t len, const char **how)
{
	char tmp[PATH_MAX], err[BT_ERRLEN];

	aside_name(x->store, "salvage", out, len);
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	if (bt_salvage(from, tmp, lost, how, err) != 0) {
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

/* ------------------------------------------------------ one restore */

/* A restore or rollback as it goes, step by step. */
struct run {
	struct bt_backups	*x;
	const struct bt_restore_req *rq;
	const char	*op;		/* "restore" or "rollback" */
	int64_t		 before;	/* the newest restore point allowed */
	struct bt_lockinfo li;		/* db/LOCKED as found */
	bool		 takeover;	/* of a lock whose owner is gone */
	struct bt_cand	 c;		/* the backup put back */
	struct live	 lv;		/* the live store before */
	char		 forced[BT_ERRLEN];	/* what --force went past */
	char		 aside[PATH_MAX];	/* the damaged file set aside */
	bool		 copied;	/* aside is a whole copy of it */
	bool		 opens;		/* the live store opened */
	char		 src_salv[PATH_MAX];	/* what a salvage reads */
	const char	*method;	/* "backup_api", "rename" or "none" */
	sqlite3		*db;		/* the restored store */
	json_t		*gaps;		/* printed once db/LOCKED is gone */
	char		 err[BT_ERRLEN];	/* why a step failed */
};

/* What was lost, and what of it was salvaged. */
struct salvaged {
	json_t		*lost;		/* tables bt cannot re-fetch */
	bool		 trades;	/* the live trader's among them */
	char		 path[PATH_MAX];	/* "" when none */
	const char	*how;		/* "recover", "dump" or "copy" */
	int64_t		 rows;		/* newer trades rows in it; -1 */
};

/* 1, 2: the live trader down (or --force); no live restore's db/LOCKED. */
static int
refuse_busy(struct run *r)
{
	char why[BT_ERRLEN];

	if (trader_running(why, sizeof(why))) {
		if (!r->rq->force) {
			bt_event(bt_bk_events(r->x), "CRITICAL",
			    "restore_refused", NULL, NULL, NULL,
			    "%s refused: %s; stop it first (or --force)", r->op,
			    why);
			return BT_EX_TEMPFAIL;
		}
		bt_warnx("--force: %s; going on regardless", why);
	}
	if (bt_locked_read(&r->li) && bt_locked_owner_alive(&r->li) &&
	    r->li.pid != getpid()) {
		bt_warnx("db/LOCKED: a %s by pid %ld (started %s) is running",
		    r->li.op, r->li.pid, r->li.started);
		return BT_EX_TEMPFAIL;
	}
	return 0;
}

/*
 * 3. Under run/write.lock no other restore can start: a db/LOCKED still
 * there is a live one's (refused) or a gone one's, taken over.
 */
static int
take_over(struct run *r)
{
	if (!bt_locked_read(&r->li))
		return 0;
	if (bt_locked_owner_alive(&r->li) && r->li.pid != getpid()) {
		bt_warnx("db/LOCKED: a %s by pid %ld is running", r->li.op,
		    r->li.pid);
		return BT_EX_TEMPFAIL;
	}
	r->takeover = true;
	return 0;
}

/* 4. The backup to restore: the newest that passes every check. */
static int
choose_candidate(struct run *r)
{
	int rc;

	if ((rc = bt_catalog_choose(r->x, false, r->before, &r->c,
	    r->err)) == BT_EX_IOERR)
		bt_warnx("%s", r->err);
	else if (rc == BT_EX_NOINPUT)
		bt_event(bt_bk_events(r->x), "CRITICAL", r->op, NULL, NULL,
		    NULL, "%s impossible: no backup%s in %s passes the checks "
		    "(bt-backup(1), WHAT A RESTORE ACCEPTS); the store is "
		    "untouched", r->op, r->rq->rollback ? " old enough" : "",
		    r->x->bdir);
	return rc;
}

/* 5. Nothing the live store holds may be lost for good, unless forced. */
static int
compare(struct run *r)
{
	char why[BT_ERRLEN];
	json_t *rec;

	r->forced[0] = '\0';
	if (compare_live(r->x, &r->c, &r->lv, why, sizeof(why)) == 0)
		return 0;
	rec = json_pack("{s:s, s:O, s:I, s:I}", "backup", r->c.b.name,
	    "missing_tables", r->lv.missing, "backup_candles",
	    (json_int_t)r->c.f.candles, "live_candles",
	    (json_int_t)r->lv.candles);
	if (!r->rq->force) {
		bt_event(bt_bk_events(r->x), "CRITICAL", "restore_refused",
		    NULL, NULL, rec, "%s from %s refused: %s; the store is "
		    "untouched (--force restores it regardless)", r->op,
		    r->c.b.name, why);
		return BT_EX_DATAERR;
	}
	snprintf(r->forced, sizeof(r->forced), "%s", why);
	bt_event(bt_bk_events(r->x), "WARNING", "restore_forced", NULL, NULL,
	    rec, "--force: %s from %s goes on although %s", r->op,
	    r->c.b.name, why);
	return 0;
}

/* -n: what the restore would do. */
static int
plan(struct run *r)
{
	char ts[32];
	json_t *rec;

	rec = bt_rec("plan");
	json_object_set_new(rec, "op", json_string(r->op));
	json_object_set_new(rec, "backup", json_string(r->c.b.name));
	json_object_set_new(rec, "restore_point",
	    json_string(bt_fmt_time(r->c.b.time, ts)));
	json_object_set_new(rec, "recorded", json_boolean(r->c.recorded));
	if (r->forced[0] != '\0')
		json_object_set_new(rec, "forced", json_string(r->forced));
	bt_emit(rec);
	return 0;
}

/* 6. db/LOCKED: every writer of the store now exits 75. */
static int
lock_store(struct run *r)
{
	int rc;

	if ((rc = bt_locked_write(r->op, r->takeover ? r->li.damaged : NULL,
	    r->err)) != 0) {
		bt_warnx("%s", r->err);
		return rc;
	}
	if (r->takeover)
		bt_event(r->x->st, "WARNING", "lock_takeover", NULL, NULL, NULL,
		    "took over db/LOCKED from %s %s (pid %ld, gone)",
		    r->li.op[0] ? r->li.op : "an unknown", r->li.op[0] ? "run" :
		    "owner", r->li.pid);
	/* A restore killed before: its partial copies, never a whole file. */
	sweep_store_tmp(r->x->store);
	return 0;
}

/* Does the live store open and read as a database? */
static bool
store_opens(const char *path)
{
	sqlite3 *db;
	char err[BT_ERRLEN];
	bool opens = false;

	if (bt_dbf_open(path, SQLITE_OPEN_READONLY, false, &db, err) == 0) {
		opens = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema",
		    NULL, NULL, NULL) == SQLITE_OK;
		sqlite3_close(db);
	}
	return opens;
}

/* A live file and its -wal copied to dst (and dst-wal), or an error. */
static int
copy_with_wal(const char *src, const char *dst, int mode, char *err)
{
	char wal[PATH_MAX], dwal[PATH_MAX];
	int rc;

	if ((rc = bt_dbf_copy_bytes(src, dst, mode, err)) != 0)
		return rc;
	snprintf(wal, sizeof(wal), "%s-wal", src);
	snprintf(dwal, sizeof(dwal), "%s-wal", dst);
	if (access(wal, F_OK) == 0)
		return bt_dbf_copy_bytes(wal, dwal, mode, err);
	return 0;
}

/* The store and its -wal copied to r->aside: a whole copy, or an error. */
static int
copy_aside(struct run *r)
{
	int rc;

	if ((rc = copy_with_wal(r->x->store, r->aside, 0640, r->err)) != 0)
		return rc;
	r->copied = true;
	return 0;
}

/*
 * 7. The current file aside; only aside_rotate() deletes one.  Then
 * db/LOCKED names the file a salvage reads, once it is whole.
 */
static int
set_aside(struct run *r)
{
	struct bt_backups *x = r->x;
	bool reuse;
	int rc;

	r->opens = false;
	reuse = r->takeover && r->li.damaged[0] != '\0' &&
	    access(r->li.damaged, F_OK) == 0;
	if (reuse) {
		/*
		 * db/LOCKED names a copy only once it is whole, and the
		 * store may since be half restored: that copy is the
		 * damaged file, and no second one is made.
		 */
		snprintf(r->aside, sizeof(r->aside), "%s", r->li.damaged);
		r->copied = true;
	} else {
		aside_name(x->store, r->rq->rollback ? "before-rollback" :
		    "damaged", r->aside, sizeof(r->aside));
		if (access(x->store, F_OK) == 0) {
			r->opens = store_opens(x->store);
			/* Recorded first: a kill cannot leave one unknown. */
			if (!r->rq->rollback)
				aside_record(x, r->aside);
		}
		if (r->opens && (rc = copy_aside(r)) != 0)
			return rc;
	}
	snprintf(r->src_salv, sizeof(r->src_salv), "%s", reuse ?
	    r->li.damaged : r->copied ? r->aside : r->opens ? "" : r->aside);
	return bt_locked_write(r->op, r->src_salv, r->err);
}

/* 8, 9. The restore itself; REINDEX, integrity_check before any write. */
static int
put_back(struct run *r)
{
	char why[BT_ERRLEN];
	int rc;

	if ((rc = restore_file(r->c.b.path, r->x->store, r->aside, r->copied,
	    &r->method, r->err)) != 0)
		return rc;
	if (!r->copied && strcmp(r->method, "rename") == 0 &&
	    !(r->takeover && r->li.damaged[0]))
		snprintf(r->src_salv, sizeof(r->src_salv), "%s", r->aside);
	if ((rc = bt_dbf_open(r->x->store, SQLITE_OPEN_READWRITE, false,
	    &r->db, r->err)) != 0)
		return rc;
	if ((rc = bt_exec(r->db, "REINDEX", r->err)) != 0 ||
	    (rc = bt_exec(r->db, "PRAGMA wal_checkpoint(TRUNCATE)",
	    r->err)) != 0)
		return rc;
	if (bt_dbf_check(r->db, true, why, sizeof(why)) != 0) {
		snprintf(r->err, sizeof(r->err), "integrity_check after the "
		    "%s: %s", r->op, why);
		return BT_EX_IOERR;
	}
	return 0;
}

/* A step failed: db/LOCKED stays, since the store is not known good. */
static int
failed(struct run *r, int rc)
{
	bt_close(r->db);
	r->db = NULL;
	bt_event(r->x->st, "CRITICAL", r->op, NULL, NULL, json_pack("{s:s}",
	    "backup", r->c.b.name), "%s from %s failed, db/LOCKED left in "
	    "place: %s", r->op, r->c.b.name, r->err);
	return rc;
}

/*
 * 10. The state file, only when asked (--state): under run/state.lock,
 * which bt_restore_wlock() took and holds (this only nests), so no bt
 * run writes it from the choice of its backup to its replacement.
 */
static void
restore_state_file(struct run *r)
{
	struct bt_backups *x = r->x;
	struct bt_cand sc;
	char salv[PATH_MAX], err[BT_ERRLEN];
	const char *m2;
	int rc;

	if (!r->rq->state)
		return;
	/* backups/ that does not read leaves the state file as it is. */
	if ((rc = bt_catalog_choose(x, true, r->before, &sc, err)) ==
	    BT_EX_IOERR)
		return;
	if (rc != 0) {
		bt_warnx("--state: no good state backup");
		return;
	}
	if (bt_wlock_file(BT_LOCK_STATE, err) != 0) {
		bt_warnx("state file not restored: %s", err);
		return;
	}
	/* Its WAL into the file first: the copy kept is then whole. */
	if (x->st != NULL && bt_exec(x->st, "PRAGMA wal_checkpoint(TRUNCATE)",
	    err) != 0)
		bt_warnx("state file: %s", err);
	bt_close(x->st);
	x->st = NULL;
	aside_name(x->statepath, "before-restore", salv, sizeof(salv));
	if (copy_with_wal(x->statepath, salv, 0600, err) != 0 ||
	    restore_file(sc.b.path, x->statepath, salv, true, &m2, err) != 0)
		bt_warnx("state file not restored: %s", err);
	if (bt_open_state(x->statepath, BT_DB_CREATE, &x->st, err) != 0) {
		bt_warnx("%s", err);
		x->st = NULL;
	}
	bt_wunlock_file(BT_LOCK_STATE);
}

/* 11. What is lost, and what can be salvaged from it. */
static void
salvage_lost(struct run *r, struct salvaged *sv)
{
	int64_t tnew;
	size_t i;

	sv->lost = lost_tables(r->db, r->lv.tables);
	sv->trades = false;
	sv->path[0] = '\0';
	sv->how = "copy";
	sv->rows = -1;
	tnew = trades_newest(r->db);
	for (i = 0; i < json_array_size(sv->lost); i++)
		sv->trades = sv->trades || strcmp(json_string_value(
		    json_array_get(sv->lost, i)), "trades") == 0;
	if (json_array_size(sv->lost) == 0 || r->src_salv[0] == '\0' ||
	    access(r->src_salv, F_OK) != 0)
		return;
	if (r->rq->rollback)
		/* The file set aside is healthy: all there. */
		snprintf(sv->path, sizeof(sv->path), "%s", r->src_salv);
	else
		salvage_into(r->x, r->src_salv, sv->lost, sv->path,
		    sizeof(sv->path), &sv->how);
	if (sv->trades && sv->path[0] != '\0')
		sv->rows = trades_after(sv->path, false, tnew);
}

/* The message of the CRITICAL restore (rollback) event. */
static void
report_message(const struct run *r, const struct salvaged *sv,
    const char *ts, struct bt_buf *m)
{
	size_t i;

	bt_buf_printf(m, "store %s from %s (restore point %s); candles since "
	    "then are re-fetched by bt-fetch --gaps", r->rq->rollback ?
	    "rolled back" : "restored", r->c.b.name, ts);
	if (!r->c.recorded)
		bt_buf_printf(m, "; the backup has no record of bt-backup "
		    "(taken before bt recorded its backups) and passed every "
		    "other check");
	if (r->forced[0] != '\0')
		bt_buf_printf(m, "; forced although %s", r->forced);
	if (json_array_size(sv->lost) > 0) {
		bt_buf_printf(m, "; rows written after %s to ", ts);
		for (i = 0; i < json_array_size(sv->lost); i++)
			bt_buf_printf(m, "%s%s", i ? ", " : "",
			    json_string_value(json_array_get(sv->lost, i)));
		bt_buf_printf(m, " are lost from the store");
	}
	if (sv->path[0] != '\0' && sv->rows >= 0)
		bt_buf_printf(m, "; %lld newer trades rows are in %s (%s; "
		    "review before merging)", (long long)sv->rows, sv->path,
		    r->rq->rollback ? "the file set aside" :
		    "salvaged from the damaged file, suspect");
	else if (sv->path[0] != '\0')
		bt_buf_printf(m, "; what %s still reads of those tables is in "
		    "%s (suspect; review before merging)", r->src_salv,
		    sv->path);
	else if (json_array_size(sv->lost) > 0 && r->src_salv[0] != '\0')
		bt_buf_printf(m, "; nothing of %s could be salvaged from %s",
		    sv->trades ? "trades" : "those tables", r->src_salv);
}

/* 12. The CRITICAL restore (rollback) event, with the restore point. */
static void
report(struct run *r, const struct salvaged *sv)
{
	struct bt_buf m = { 0 };
	char ts[32];
	json_t *rec;

	rec = json_pack("{s:s, s:s, s:I, s:b, s:s, s:s, s:O}", "backup",
	    r->c.b.name, "restore_point", bt_fmt_time(r->c.b.time, ts),
	    "restore_point_ms", (json_int_t)r->c.b.time, "recorded",
	    r->c.recorded, "method", r->method, "set_aside", r->copied ||
	    strcmp(r->method, "rename") == 0 ? r->aside : "", "lost_tables",
	    sv->lost);
	if (r->forced[0] != '\0')
		json_object_set_new(rec, "forced", json_string(r->forced));
	if (sv->path[0] != '\0') {
		json_object_set_new(rec, "salvage", json_string(sv->path));
		json_object_set_new(rec, "salvaged_by", json_string(sv->how));
		json_object_set_new(rec, "salvaged_rows",
		    json_integer(sv->rows));
	}
	report_message(r, sv, ts, &m);
	bt_event(r->x->st, "CRITICAL", r->op, NULL, NULL, rec, "%s", m.p);
	bt_buf_free(&m);
}

/*
 * 11 to 13, after the restore: salvage, dirty marks and gap records,
 * the event, db/LOCKED removed; the store being good again, the oldest
 * damaged copies may go.
 */
static int
after_restore(struct run *r)
{
	struct salvaged sv;
	int64_t now;
	int rc;

	salvage_lost(r, &sv);
	now = bt_now_ms();
	r->gaps = json_array();
	gaps_stored(r->x, r->db, r->gaps, now);
	gaps_missing(r->gaps, now);
	bt_close(r->db);
	r->db = NULL;
	report(r, &sv);
	json_decref(sv.lost);
	if ((rc = bt_locked_remove(r->err)) != 0)
		bt_warnx("%s", r->err);
	if (rc == 0 && !r->rq->rollback)
		aside_rotate(r->x);
	return rc;
}

/* 13. The gap records, printed only now that db/LOCKED is gone. */
static void
print_gaps(const struct run *r)
{
	json_t *g, *rec;
	size_t i;

	json_array_foreach(r->gaps, i, g) {
		if (json_object_get(g, "from") == NULL)
			continue;
		rec = bt_rec("gap");
		json_object_update(rec, g);
		json_object_set_new(rec, "reason", json_string(r->op));
		bt_emit(rec);
	}
}

/* Steps 3 to 13, under run/write.lock. */
static int
restore_locked(struct run *r)
{
	int rc;

	if ((rc = take_over(r)) != 0 || (rc = choose_candidate(r)) != 0 ||
	    (rc = compare(r)) != 0)
		return rc;
	if (r->x->dry)
		return plan(r);
	if ((rc = lock_store(r)) != 0)
		return rc;
	if ((rc = set_aside(r)) != 0 || (rc = put_back(r)) != 0)
		return failed(r, rc);
	restore_state_file(r);
	return after_restore(r);
}

int
bt_restore(struct bt_backups *x, const struct bt_restore_req *rq)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.x = x;
	r.rq = rq;
	r.op = rq->rollback ? "rollback" : "restore";
	r.before = rq->rollback ? bt_now_ms() - rq->hours * 3600000LL :
	    INT64_MAX;
	r.method = "none";
	if ((rc = refuse_busy(&r)) != 0)
		return rc;
	/*
	 * No bt writer may be inside a write: the caller took
	 * run/write.lock before anything else (bt_restore_wlock()), so this
	 * only nests.
	 */
	if ((rc = bt_wlock(r.err)) != 0) {
		bt_warnx("%s", r.err);
		return rc;
	}
	rc = restore_locked(&r);
	live_free(&r.lv);
	bt_wunlock();
	if (r.gaps != NULL) {
		print_gaps(&r);
		json_decref(r.gaps);
	}
	return rc;
}

/* ----------------------------------------------------- the write locks */

/* One lock of a restore: at once (75 while held), or --force waits. */
static int
restore_lock(int which, const struct bt_restore_req *rq, char *err)
{
	return rq->force ? bt_wlock_file(which, err) : bt_wlock_now(which,
	    err);
}

/*
 * A restore or rollback takes run/write.lock before anything else, and
 * with --state run/state.lock after it, and holds them to the end.
 * Without --force it refuses at once (75) while a writer holds either,
 * as -n does; with --force it waits up to BT_WRITE_LOCK_WAIT for each.
 */
int
bt_restore_wlock(struct bt_backups *x, const struct bt_restore_req *rq)
{
	const char *op = rq->rollback ? "rollback" : "restore";
	char err[BT_ERRLEN];
	int rc;

	if ((rc = restore_lock(BT_LOCK_STORE, rq, err)) != 0) {
		bt_warnx("%s%s", err, rq->force || rc != BT_EX_TEMPFAIL ? "" :
		    "; a writer is writing: try again (or --force waits for "
		    "it)");
		if (rc == BT_EX_TEMPFAIL)
			/* Recorded: the state file has a lock of its own. */
			bt_event(bt_bk_events(x), "WARNING", "restore_refused",
			    NULL, NULL, json_pack("{s:s}", "lock",
			    "run/write.lock"), "%s refused: run/write.lock is "
			    "held by a writer; the store is untouched", op);
		return rc;
	}
	if (!rq->state || (rc = restore_lock(BT_LOCK_STATE, rq, err)) == 0)
		return 0;
	bt_warnx("%s%s", err, rq->force || rc != BT_EX_TEMPFAIL ? "" :
	    "; a bt run is writing the state file: try again (or --force "
	    "waits for it)");
	if (rc == BT_EX_TEMPFAIL)
		/* Printed only: the lock it would be recorded under is held. */
		bt_event(NULL, "WARNING", "restore_refused", NULL, NULL,
		    json_pack("{s:s}", "lock", "run/state.lock"), "%s --state "
		    "refused: run/state.lock is held by a writer of the state "
		    "file; the store and the state file are untouched", op);
	bt_wunlock();
	return rc;
}
