/*
 * bt_db.c - connections to bt's two SQLite files, and transactions.
 *
 * Owns: opening a file with the seed's pragmas (and repairing, read-only,
 * what a killed writer left: ro_recover()), the statement cache of a
 * connection, SQLite's errors as bt's exit codes and words, and the write
 * transaction (BEGIN IMMEDIATE under run/write.lock, bt_lock.c).
 *
 * Invariants: every write goes through bt_begin()/bt_commit(), under the
 * write lock of its file (the state file's own, or the store's); readers
 * open read-only, and never with mmap; the busy timeout is set before a
 * connection's first read.  What the files hold is bt_store.c's,
 * bt_state.c's and bt_migrate.c's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_db.h"
#include "bt_lock.h"

/* --------------------------------------------------------------- opening */

int
bt_sqlite_ex(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return BT_EX_TEMPFAIL;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return BT_EX_DATAERR;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return BT_EX_IOERR;
	default:
		return BT_EX_SOFTWARE;
	}
}

/*
 * SQLite's message for db's last error, except that a full disk says so:
 * SQLite reports ENOSPC as SQLITE_FULL ("database or disk is full") or,
 * writing the WAL or a journal, as a bare "disk I/O error"; the operator
 * must read "no space left on device" (bt(7), EXIT STATUS).
 */
const char *
bt_db_errmsg(sqlite3 *db)
{
	static _Thread_local char why[BT_ERRLEN];
	int rc = sqlite3_errcode(db) & 0xff, e;

	if (rc == SQLITE_FULL)
		return "no space left on device (database or disk is full)";
	if (rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN) {
		e = sqlite3_system_errno(db);
		if (e == ENOSPC)
			return "no space left on device";
		if (e == EDQUOT)
			return "disk quota exceeded";
		/* "unable to open database file" alone does not say why. */
		if (rc == SQLITE_CANTOPEN && e != 0) {
			snprintf(why, sizeof(why), "%s: %s",
			    sqlite3_errmsg(db), strerror(e));
			return why;
		}
	}
	return sqlite3_errmsg(db);
}

int
bt_exec(sqlite3 *db, const char *sql, char *err)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", (rc & 0xff) == SQLITE_FULL ||
		    (rc & 0xff) == SQLITE_IOERR ? bt_db_errmsg(db) :
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	return 0;
}

/*
 * The seed's pragmas, on every connection (issue 2, seed 3.1); bt_db_open()
 * has set the busy timeout already.
 */
static int
pragmas(sqlite3 *db, const char *path, char *err)
{
	char sql[512];
	int rc;

	snprintf(sql, sizeof(sql),
	    "PRAGMA wal_autocheckpoint=1000;"
	    "PRAGMA synchronous=NORMAL;"
	    "PRAGMA cache_size=-%ld;"
	    "PRAGMA foreign_keys=ON;"
	    "PRAGMA temp_store=MEMORY;"
	    "PRAGMA mmap_size=0;", bt_conf_long("SQLITE_CACHE_MB") * 1024);
	if ((rc = bt_exec(db, sql, err)) != 0)
		goto fail;
	return 0;
fail:
	{
		char tmp[BT_ERRLEN];
		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		memcpy(err, tmp, BT_ERRLEN);
	}
	return rc;
}

/* The first read of a connection: SQLite's result code. */
static int
probe(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * A writer killed at the wrong moment can leave what only a read-write
 * connection may repair, and a read-only one then fails with "attempt to
 * write a readonly database": a hot rollback journal (SQLITE_READONLY_
 * ROLLBACK; campaign-crash met it a few times in a thousand kills, a
 * writer killed while its first `PRAGMA journal_mode=WAL' turned a new
 * file into WAL, which SQLite does through a rollback journal), or a WAL
 * index to rebuild (_RECOVERY, _CANTINIT).  bt-validate would then call a
 * sound store unreadable.  So a reader that meets one opens the file
 * read-write once, only to read, which rolls the journal back or rebuilds
 * the index in the -shm file, as the next writer would; it closes with no
 * checkpoint, so a WAL file keeps its bytes; then it reads again.
 */
static int
ro_recover(sqlite3 *db, const char *path, char *err)
{
	sqlite3 *rw;
	int rc, rc2;

	rc = probe(db);
	if (rc == SQLITE_READONLY_RECOVERY || rc == SQLITE_READONLY_CANTINIT ||
	    rc == SQLITE_READONLY_ROLLBACK) {
		rw = NULL;
		rc2 = sqlite3_open_v2(path, &rw, SQLITE_OPEN_READWRITE |
		    SQLITE_OPEN_NOMUTEX, NULL);
		if (rc2 == SQLITE_OK) {
			sqlite3_db_config(rw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
			    1, NULL);
			sqlite3_busy_timeout(rw,
			    (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
			probe(rw);
		}
		sqlite3_close(rw);
		rc = probe(db);
	}
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, BT_ERRLEN, "%s: %s%s", path, bt_db_errmsg(db),
	    (rc & 0xff) == SQLITE_READONLY ? " (the WAL index needs a "
	    "writer to rebuild it, and this user cannot open the file "
	    "read-write)" : "");
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

/*
 * Which write lock a connection's writes take (bt_lock.c): the state
 * file's connections are registered at open (BT_DB_STATE), every other
 * one is the store's.  A program holds a handful of connections.
 */
static sqlite3	*state_conns[8];

static void
lock_register(sqlite3 *db, bool state)
{
	size_t i;

	for (i = 0; i < sizeof(state_conns) / sizeof(state_conns[0]); i++)
		if (state ? state_conns[i] == NULL : state_conns[i] == db) {
			state_conns[i] = state ? db : NULL;
			return;
		}
}

static int
lock_of(sqlite3 *db)
{
	size_t i;

	for (i = 0; i < sizeof(state_conns) / sizeof(state_conns[0]); i++)
		if (state_conns[i] == db)
			return BT_LOCK_STATE;
	return BT_LOCK_STORE;
}

/* A file: URI of path, read as immutable when asked (SQLite's URI rules). */
char *
bt_db_uri(const char *path, bool immutable)
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

/*
 * The name SQLite is to open for path, malloc'd, or NULL for path itself.
 * With BT_DB_SNAPSHOT and no -wal file beside it (no writer between a
 * commit and its checkpoint: the file is whole), the file as immutable,
 * so that reading it creates no -shm or -wal file and takes no lock: a
 * reader that leaves no trace (bt-fetch --check).  With a -wal there,
 * the plain read-only open, which then creates nothing either.
 */
static char *
snapshot_name(const char *path, int mode)
{
	char *wal;
	bool whole;

	if (!(mode & BT_DB_SNAPSHOT))
		return NULL;
	if (asprintf(&wal, "%s-wal", path) == -1)
		abort();
	whole = access(wal, F_OK) == -1;
	free(wal);
	if (!whole)
		return NULL;
	return bt_db_uri(path, true);
}

/*
 * Opens path with the seed's pragmas: read-only (BT_DB_RO), read-write, or
 * created (BT_DB_CREATE, with mode fmode before SQLite opens it, since the
 * -wal and -shm files copy the database's mode).  0 or an exit code.
 * bt_migrate.c's bt_open_store() and bt_open_state() add the schema.
 * BT_DB_RO | BT_DB_SNAPSHOT writes nothing at all (snapshot_name()), not
 * even to recover a WAL index for the read.
 */
int
bt_db_open(const char *path, int mode, int fmode, sqlite3 **db, char *err)
{
	static bool configured;
	char *dir, *s, *name;
	int flags, rc, fd;
	struct stat sb;

	*db = NULL;
	/*
	 * No memory statistics: with them every sqlite3_malloc() takes a
	 * global mutex: 5% of bt-fetch's CPU in perf, 0.1% without; nothing
	 * reads them.  Only possible before SQLite's first use, which is the
	 * first open.
	 */
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	if (mode & BT_DB_CREATE) {
		if ((dir = strdup(path)) == NULL)
			abort();
		if ((s = strrchr(dir, '/')) != NULL && s != dir) {
			*s = '\0';
			if (bt_mkdirs(dir, 0750, err) == -1) {
				free(dir);
				return BT_EX_CANTCREAT;
			}
		}
		free(dir);
		/*
		 * Create the file with its final mode before SQLite opens
		 * it: the -wal and -shm files copy the database's mode.
		 */
		if (stat(path, &sb) == -1 && errno == ENOENT) {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    fmode);
			if (fd == -1) {
				snprintf(err, BT_ERRLEN, "create %s: %s", path,
				    strerror(errno));
				return errno == ENOSPC || errno == EDQUOT ?
				    BT_EX_IOERR : BT_EX_CANTCREAT;
			}
			close(fd);
		}
	} else if (access(path, F_OK) == -1) {
		snprintf(err, BT_ERRLEN, "%s: %s", path, strerror(errno));
		return BT_EX_NOINPUT;
	}
	flags = (mode & (BT_DB_RW | BT_DB_CREATE)) ?
	    SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
	name = snapshot_name(path, mode);
	rc = sqlite3_open_v2(name != NULL ? name : path, db, flags |
	    SQLITE_OPEN_NOMUTEX | (name != NULL ? SQLITE_OPEN_URI : 0), NULL);
	free(name);
	if (rc != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s: %s", path, *db != NULL ?
		    bt_db_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return BT_EX_IOERR;
	}
	sqlite3_extended_result_codes(*db, 1);
	if (mode & BT_DB_STATE)
		lock_register(*db, true);
	/* The busy timeout first: ro_recover() makes the first read. */
	sqlite3_busy_timeout(*db, (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
	if ((flags == SQLITE_OPEN_READONLY && !(mode & BT_DB_SNAPSHOT) &&
	    (rc = ro_recover(*db, path, err)) != 0) ||
	    (rc = pragmas(*db, path, err)) != 0) {
		bt_close(*db);
		*db = NULL;
	}
	return rc;
}

void
bt_close(sqlite3 *db)
{
	sqlite3_stmt *st;

	if (db == NULL)
		return;
	lock_register(db, false);
	while ((st = sqlite3_next_stmt(db, NULL)) != NULL)
		sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * A prepared statement kept for the life of the connection, found by its
 * SQL text; bt_close() finalizes it.
 */
sqlite3_stmt *
bt_stmt(sqlite3 *db, const char *sql, char *err)
{
	sqlite3_stmt *st = NULL;

	while ((st = sqlite3_next_stmt(db, st)) != NULL)
		if (strcmp(sqlite3_sql(st), sql) == 0 && !sqlite3_stmt_busy(st))
			return st;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, BT_ERRLEN, "%s", bt_db_errmsg(db));
		return NULL;
	}
	return st;
}

/* ---------------------------------------------------------- transactions */

int
bt_db_lock(sqlite3 *db, char *err)
{
	return bt_wlock_file(lock_of(db), err);
}

void
bt_db_unlock(sqlite3 *db)
{
	bt_wunlock_file(lock_of(db));
}

int
bt_begin(sqlite3 *db, char *err)
{
	int rc;

	if ((rc = bt_db_lock(db, err)) != 0)
		return rc;
	if ((rc = bt_exec(db, "BEGIN IMMEDIATE", err)) != 0)
		bt_db_unlock(db);
	return rc;
}

int
bt_commit(sqlite3 *db, char *err)
{
	int rc;

	if ((rc = bt_exec(db, "COMMIT", err)) != 0) {
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	bt_db_unlock(db);
	return rc;
}

void
bt_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	bt_db_unlock(db);
}
