/*
 * bt_lock.c - where bt's files are, and the two locks every writer keeps.
 *
 * Owns: the paths under BT_HOME (bt_path(), the store's and the state
 * file's, which BT_DB and BT_STATE may move); the write locks every write
 * transaction and explicit checkpoint is taken under, run/write.lock for
 * the store and run/state.lock for the state file (contracts.md, Writing;
 * the WAL race of SQLite 3.40.1, ops.md 1.1); and db/LOCKED, present
 * while a restore or rollback owns the store: whether it is there (every
 * writer of the store asks), and, for the restore that writes it, its
 * content (owner pid, /proc start time, boot id, the copy of the damaged
 * store) and whether that owner still runs, so that a new restore takes
 * over only a lock whose owner is gone.
 *
 * Invariants: a write lock nests (a helper may take it inside its
 * caller's hold) and is released only by the outermost unlock; its file
 * descriptor is close-on-exec, so no child ever keeps it; a run waits for
 * each lock at most BT_WRITE_LOCK_WAIT seconds in all.  db/LOCKED is
 * replaced atomically, so a reader sees the old content or the new, and
 * an owner is alive only when pid, start time and boot id all match.
 * Nothing here opens a database.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_lock.h"

/* ----------------------------------------------------------------- paths */

char *
bt_path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", bt_conf("BT_HOME"), rel) == -1)
		abort();
	return p;
}


char *
bt_store_path(void)
{
	if (*bt_conf("BT_DB") != '\0')
		return strdup(bt_conf("BT_DB"));
	return bt_path("db/crypto_agent.db");
}

char *
bt_state_path(void)
{
	if (*bt_conf("BT_STATE") != '\0')
		return strdup(bt_conf("BT_STATE"));
	return bt_path("db/bt_state.db");
}

/* ------------------------------------------------------------ the locks */

/*
 * The write locks.  SQLite 3.40.1 can corrupt a WAL database when two
 * connections write or checkpoint it at once (ops.md 1.1), so every write
 * transaction and explicit checkpoint of a file happens under its flock:
 * run/write.lock for the store (the live trader's integration point,
 * bt(7)), run/state.lock for bt's own state file, which only bt writes.
 * Two locks, so that a trader holding the store's lock for minutes never
 * keeps bt from recording its runs and events.  Each nests, so a helper
 * may take it inside its caller's hold.  Close-on-exec: a child must
 * never keep one.
 *
 * The wait, BT_WRITE_LOCK_WAIT, is the run's budget for each lock, not a
 * wait per write: once a run has waited that long in all for a lock,
 * every later attempt fails at once with 75, and the first such failure
 * is said on stdout (a `write_lock' line), so a trader that holds the
 * lock cannot stretch a run write by write.
 */
static struct wlock {
	const char	*rel, *name;
	int		 fd, depth;
	double		 waited;	/* seconds waited in all this run */
	bool		 said;
} wlocks[2] = {
	{ "run/write.lock", "write.lock", -1, 0, 0, false },
	{ "run/state.lock", "state.lock", -1, 0, 0, false },
};

static int
wlock_open(struct wlock *w, char *err)
{
	char *path, *dir;

	path = bt_path(w->rel);
	w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (w->fd == -1 && errno == ENOENT) {
		dir = bt_path("run");
		if (bt_mkdirs(dir, 0750, err) == 0)
			w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		free(dir);
	}
	if (w->fd == -1) {
		snprintf(err, BT_ERRLEN, "open %s: %s", path, strerror(errno));
		free(path);
		return BT_EX_IOERR;
	}
	free(path);
	return 0;
}

/* The run's budget for w is spent: said once on stdout, then 75. */
static int
spent(struct wlock *w, double budget, char *err)
{
	json_t *rec;

	snprintf(err, BT_ERRLEN, "run/%s has been held by another writer for "
	    "more than %gs in all this run (BT_WRITE_LOCK_WAIT); the rest "
	    "waits for the next run", w->name, budget);
	if (!w->said) {
		w->said = true;
		rec = bt_rec("write_lock");
		json_object_set_new(rec, "severity", json_string("WARNING"));
		json_object_set_new(rec, "lock", json_string(w->rel));
		json_object_set_new(rec, "message", json_string(err));
		bt_emit(rec);
	}
	return BT_EX_TEMPFAIL;
}

/*
 * Takes w, waiting within the run's budget unless `now': then a lock
 * another writer holds fails at once, and the budget is left as it was.
 */
static int
wlock_take(struct wlock *w, bool now, char *err)
{
	double start, budget, nap = 0.002;
	int rc;

	if (w->depth++ > 0)
		return 0;
	if (w->fd == -1 && (rc = wlock_open(w, err)) != 0) {
		w->depth--;
		return rc;
	}
	budget = bt_conf_double("BT_WRITE_LOCK_WAIT");
	start = bt_mono();
	while (flock(w->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, BT_ERRLEN, "flock %s: %s", w->rel,
			    strerror(errno));
			w->depth--;
			return BT_EX_IOERR;
		}
		if (now && errno == EWOULDBLOCK) {
			snprintf(err, BT_ERRLEN, "%s is held by another "
			    "writer", w->rel);
			w->depth--;
			return BT_EX_TEMPFAIL;
		}
		if (w->waited + (bt_mono() - start) >= budget) {
			w->waited += bt_mono() - start;
			w->depth--;
			return spent(w, budget, err);
		}
		bt_sleep(nap);
		if (nap < 0.05)
			nap *= 2;
	}
	w->waited += bt_mono() - start;
	return 0;
}

int
bt_wlock_file(int which, char *err)
{
	return wlock_take(&wlocks[which == BT_LOCK_STATE], false, err);
}

int
bt_wlock_now(int which, char *err)
{
	return wlock_take(&wlocks[which == BT_LOCK_STATE], true, err);
}

void
bt_wunlock_file(int which)
{
	struct wlock *w = &wlocks[which == BT_LOCK_STATE];

	if (w->depth == 0)
		return;
	if (--w->depth == 0 && w->fd != -1)
		flock(w->fd, LOCK_UN);
}

int
bt_wlock(char *err)
{
	return bt_wlock_file(BT_LOCK_STORE, err);
}

void
bt_wunlock(void)
{
	bt_wunlock_file(BT_LOCK_STORE);
}

bool
bt_store_locked(char *owner, size_t len)
{
	char *path, err[BT_ERRLEN], *s;
	size_t n;

	path = bt_path("db/LOCKED");
	if (access(path, F_OK) == -1) {
		free(path);
		return false;
	}
	if (owner != NULL && len > 0) {
		owner[0] = '\0';
		if ((s = bt_read_file(path, 4096, &n, err)) != NULL) {
			snprintf(owner, len, "%s", s);
			owner[strcspn(owner, "\n")] = '\0';
			free(s);
		}
	}
	free(path);
	return true;
}

/*
 * When db/LOCKED is there, says so as every program does: the "locked"
 * WARNING line with the owner's line and what the program leaves undone
 * (why, after "; ", or nothing).  True when it is there.
 */
bool
bt_store_locked_say(const char *why)
{
	char owner[256];
	json_t *rec;

	if (!bt_store_locked(owner, sizeof(owner)))
		return false;
	rec = bt_rec("locked");
	json_object_set_new(rec, "severity", json_string("WARNING"));
	json_object_set_new(rec, "message", json_sprintf("db/LOCKED is "
	    "present: a restore or rollback is running%s%s",
	    why != NULL ? "; " : "", why != NULL ? why : ""));
	json_object_set_new(rec, "owner", json_string(owner));
	bt_emit(rec);
	return true;
}

/* A string member of o into dst; "" when o lacks it. */
static void
copy_member(char *dst, size_t len, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(dst, len, "%s", v != NULL ? v : "");
}

bool
bt_locked_read(struct bt_lockinfo *li)
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
		copy_member(li->boot, sizeof(li->boot), o, "boot_id");
		copy_member(li->op, sizeof(li->op), o, "op");
		copy_member(li->started, sizeof(li->started), o, "started");
		copy_member(li->damaged, sizeof(li->damaged), o, "damaged");
	}
	json_decref(o);
	free(buf);
	return true;
}

bool
bt_locked_owner_alive(const struct bt_lockinfo *li)
{
	if (!li->parsed || li->pid <= 0)
		return false;
	if (strcmp(li->boot, bt_boot_id()) != 0)
		return false;
	if (kill((pid_t)li->pid, 0) == -1 && errno != EPERM)
		return false;
	return bt_proc_start_ticks(li->pid) == li->start;
}

int
bt_locked_write(const char *op, const char *damaged, char *err)
{
	char *path = bt_path("db/LOCKED"), *s, ts[32];
	json_t *o;
	int rc;

	o = json_pack("{s:I, s:I, s:s, s:s, s:s}", "pid", (json_int_t)getpid(),
	    "start_ticks", (json_int_t)bt_proc_start_ticks(getpid()),
	    "boot_id", bt_boot_id(), "op", op, "started",
	    bt_fmt_time(bt_now_ms(), ts));
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

int
bt_locked_remove(char *err)
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

/*
 * /proc/locks has a line per lock: "1: FLOCK  ADVISORY  WRITE 4242
 * fe:00:5309101 0 EOF", the device's major and minor in hex; a waiter's
 * line has "->" after the number, and is not a holder.  The pid is the
 * one that took the lock (flock(1) itself, which holds it for its
 * command), in our pid namespace.
 */
int
bt_flock_holders(const char *path, long *pids, int max)
{
	struct stat sb;
	char line[256], kind[32];
	unsigned maj, mnr;
	unsigned long ino;
	long pid;
	FILE *fp;
	int n = 0;

	if (stat(path, &sb) == -1)
		return -1;
	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%*d: %31s %*s %*s %ld %x:%x:%lu", kind, &pid,
		    &maj, &mnr, &ino) != 5 || strcmp(kind, "FLOCK") != 0)
			continue;
		if (ino == (unsigned long)sb.st_ino &&
		    maj == major(sb.st_dev) && mnr == minor(sb.st_dev) &&
		    n < max)
			pids[n++] = pid;
	}
	fclose(fp);
	return n;
}
