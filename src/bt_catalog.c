/*
 * bt_catalog.c - the catalogue of backups/: which files are backups, what
 * each holds, what bt-backup recorded of them, and what a good backup is.
 *
 * Owns: the names (db_backup_YYYYMMDD.db daily, db_backup_weekly_YYYYMMDD.db
 * a hard link to Sunday's daily, state_backup_YYYYMMDD.db the state file;
 * contracts.md) and how many of each rotation keeps; the files found, as
 * lstat(2) sees them (a symbolic link is no backup) and newest first; the
 * facts of a backup (size, schema, tables, candles and their range); the
 * state file's `backups' table, one record per backup taken; and the
 * checks a restore makes (bt_catalog_check(), bt-backup(1), WHAT A
 * RESTORE ACCEPTS), with the choice of the newest backup that passes.
 *
 * Invariants: a backup's facts are read from the file opened immutable,
 * never written; a record is written in a transaction of its own (bt_db.c,
 * under run/write.lock) and before its file is renamed into place, so a
 * kill leaves a record without its file, never a file bt took without its
 * record.  A store backup without a record passes only when dated before
 * the first record (taken before bt recorded its backups).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_catalog.h"
#include "bt_dbfile.h"
#include "bt_migrate.h"
#include "bt_state.h"

static const char *prefixes[] = { "db_backup_", "db_backup_weekly_",
    "state_backup_" };
static const int keep[] = { 3, 4, 3 };

sqlite3 *
bt_bk_events(const struct bt_backups *b)
{
	return b->dry ? NULL : b->st;
}

const char *
bt_bk_prefix(int kind)
{
	return prefixes[kind];
}

int
bt_bk_keep(int kind)
{
	return keep[kind];
}

/* ------------------------------------------------------- the files */

static int
bfile_cmp(const void *a, const void *b)
{
	const struct bt_bfile *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? 1 : -1;
	if (x->kind != y->kind)
		return x->kind - y->kind;	/* the daily names a link */
	return strcmp(y->name, x->name);
}

/* An empty backups/ gives v NULL: qsort(3)'s pointer must not be. */
void
bt_catalog_sort(struct bt_bfile *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), bfile_cmp);
}

int
bt_catalog_list(const char *dir, int kind, struct bt_bfile **out, size_t *n)
{
	DIR *d;
	struct dirent *de;
	struct bt_bfile *v = NULL, *b;
	struct stat sb;
	size_t cap = 0, plen;
	char ds[16];
	int k;
	int64_t day;

	*out = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
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
		snprintf(b->path, sizeof(b->path), "%s/%s", dir,
		    de->d_name);
		/* The link itself: a symlink is no backup (see the checks). */
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
	bt_catalog_sort(v, *n);
	*out = v;
	return 0;
}

/* ------------------------------------------------------- the facts */

/*
 * Is the open database a bt store (or, with `state', bt's state file)
 * of a schema this binary knows?  Fills f's schema and tables; 0, or 1
 * with the reason in why.
 */
static int
db_schema(sqlite3 *db, bool state, struct bt_facts *f, char *why, size_t len)
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
db_counts(sqlite3 *db, struct bt_facts *f, char *why, size_t len)
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

int
bt_catalog_facts(const char *path, bool state, struct bt_facts *f, char *why,
    size_t len)
{
	sqlite3 *db;
	char err[BT_ERRLEN];
	int bad;

	memset(f, 0, sizeof(*f));
	f->candles = f->first = f->last = -1;
	f->bytes = bt_dbf_size(path);
	if (bt_dbf_open(path, SQLITE_OPEN_READONLY, true, &db, err) != 0) {
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
facts_differ(const struct bt_facts *rec, const struct bt_facts *got, char *why,
    size_t len)
{
	char a[32], b[32], c[32], d[32];	/* four times: four buffers */

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
		    rec->first < 0 ? "none" : bt_fmt_time(rec->first, c),
		    rec->last < 0 ? "none" : bt_fmt_time(rec->last, d));
	else
		return 0;
	return 1;
}

/* ----------------------------------------------------- the records */

/* Binds an int64 that -1 means unknown: NULL. */
static void
bind_opt(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

/*
 * Steps a write to `backups' once, inside the caller's transaction; on
 * failure rolls it back: 0, or an exit code with err set.
 */
static int
step_write(sqlite3 *st, sqlite3_stmt *s, char *err)
{
	int rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(err, BT_ERRLEN, "backups: %s", sqlite3_errmsg(st));
	bt_rollback(st);
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

int
bt_record_put(sqlite3 *st, const char *name, int64_t taken,
    const struct bt_facts *f, char *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "INSERT OR REPLACE INTO backups(name, taken, "
	    "bytes, schema_version, tables, candles, first_open, last_open) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err)) == NULL) {
		bt_rollback(st);
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
	if ((rc = step_write(st, s, err)) != 0)
		return rc;
	return bt_commit(st, err);
}

/*
 * A failed begin or statement is silent, as it always was: rotation goes
 * on, and a record left behind names a file that is gone, which no
 * restore can pick.  A failed step or commit is told in err.
 */
int
bt_record_del(sqlite3 *st, const char *name, char *err)
{
	sqlite3_stmt *s;
	char e[BT_ERRLEN];

	err[0] = '\0';
	if (st == NULL || bt_begin(st, e) != 0)
		return 0;
	if ((s = bt_stmt(st, "DELETE FROM backups WHERE name=?1", e)) ==
	    NULL) {
		bt_rollback(st);
		return 0;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (step_write(st, s, err) != 0)
		return -1;
	if (bt_commit(st, e) != 0) {
		snprintf(err, BT_ERRLEN, "backups: %s", e);
		return -1;
	}
	return 0;
}

/*
 * Every record, and in r->since the earliest time a store backup was
 * recorded (-1 when none is): bt-backup records every backup it takes
 * since then.  No state file, or one from before records, gives none.
 */
void
bt_records_load(sqlite3 *st, struct bt_records *r)
{
	sqlite3_stmt *s;
	struct bt_brec *v = NULL, *k;
	const char *t;
	size_t n = 0;

	r->v = NULL;
	r->n = 0;
	r->since = -1;
	if (st == NULL || sqlite3_prepare_v2(st, "SELECT name, taken, "
	    "bytes, schema_version, tables, candles, first_open, last_open "
	    "FROM backups ORDER BY name", -1, &s, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if ((v = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			abort();
		k = &v[n];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%s",
		    sqlite3_column_text(s, 0));
		k->taken = sqlite3_column_int64(s, 1);
		k->f.bytes = sqlite3_column_int64(s, 2);
		k->f.schema = sqlite3_column_int64(s, 3);
		t = (const char *)sqlite3_column_text(s, 4);
		snprintf(k->f.tables, sizeof(k->f.tables), "%s", t ? t : "");
		k->f.candles = k->f.first = k->f.last = -1;
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			k->f.candles = sqlite3_column_int64(s, 5);
		if (sqlite3_column_type(s, 6) != SQLITE_NULL)
			k->f.first = sqlite3_column_int64(s, 6);
		if (sqlite3_column_type(s, 7) != SQLITE_NULL)
			k->f.last = sqlite3_column_int64(s, 7);
		if (strncmp(k->name, "db_backup_", 10) == 0 &&
		    (r->since < 0 || k->taken < r->since))
			r->since = k->taken;
		n++;
	}
	sqlite3_finalize(s);
	r->v = v;
	r->n = n;
}

void
bt_records_free(struct bt_records *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

const struct bt_brec *
bt_record_find(const struct bt_records *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

void
bt_records_apply(const struct bt_records *r, struct bt_bfile *v, size_t n)
{
	const struct bt_brec *k;
	size_t i;

	for (i = 0; i < n; i++)
		if ((k = bt_record_find(r, v[i].name)) != NULL)
			v[i].time = k->taken;
	bt_catalog_sort(v, n);
}

/* ------------------------------------------------- a good backup */

/*
 * Can a restore use backup b (a state file's backup with `state')?
 * 0 when it is a regular file that bt-backup wrote: bt's schema of a
 * version this binary knows, integrity_check ok, and what it holds
 * equal to its record (see bt-backup(1), WHAT A RESTORE ACCEPTS, also
 * for a backup without a record).  Else 1 with the reason in why.
 */
int
bt_catalog_check(const struct bt_backups *x, const struct bt_bfile *b,
    bool state, const struct bt_records *r, struct bt_cand *c, char *why,
    size_t len)
{
	struct stat sb, lsb;
	const struct bt_brec *k;
	int64_t t0 = r->since;
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
	if (bt_catalog_facts(b->path, state, &c->f, why, len) != 0)
		return 1;
	if (bt_dbf_check_file(b->path, true, true, msg, sizeof(msg)) != 0) {
		snprintf(why, len, "fails integrity_check: %s", msg);
		return 1;
	}
	if ((k = bt_record_find(r, b->name)) != NULL) {
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

int
bt_catalog_choose(const struct bt_backups *x, bool state, int64_t before,
    struct bt_cand *out, char *err)
{
	struct bt_bfile *v;
	struct bt_records r;
	size_t n, i, j;
	char why[BT_ERRLEN];
	bool tried;

	if (bt_catalog_list(x->bdir, state ? BT_BK_STATE : -1, &v, &n) == -1) {
		snprintf(err, BT_ERRLEN, "%s: %s", x->bdir, strerror(errno));
		return BT_EX_IOERR;
	}
	bt_records_load(x->st, &r);
	bt_records_apply(&r, v, n);
	for (i = 0; i < n; i++) {
		if ((!state && v[i].kind == BT_BK_STATE) || v[i].time > before)
			continue;
		/* A weekly is a link to a daily: one file, tried once. */
		for (tried = false, j = 0; !state && j < i; j++)
			if (v[j].kind != BT_BK_STATE && v[j].time <= before &&
			    v[j].dev == v[i].dev && v[j].ino == v[i].ino)
				tried = true;
		if (tried)
			continue;
		if (bt_catalog_check(x, &v[i], state, &r, out, why,
		    sizeof(why)) == 0) {
			free(v);
			bt_records_free(&r);
			return 0;
		}
		if (!state)
			bt_event(bt_bk_events(x), "WARNING", "backup_bad", NULL,
			    NULL, json_pack("{s:s}", "file", v[i].name),
			    "backup %s skipped: it %s", v[i].name, why);
	}
	free(v);
	bt_records_free(&r);
	return BT_EX_NOINPUT;
}
