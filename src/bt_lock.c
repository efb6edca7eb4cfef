/*
 * bt_lock.c - where bt's files are, and the two locks every writer keeps.
 *
 * Owns: the paths under BT_HOME (bt_path(), the store's and the state
 * file's, which BT_DB and BT_STATE may move); the write locks every write
 * transaction and explicit checkpoint is taken under, run/write.lock for
 * the store and run/state.lock for the state file (contracts.md, Writing;
 * the WAL race of SQLite 3.40.1, ops.md 1.1); and db/LOCKED, present
 * while a restore or rollback owns the store.
 *
 * Invariants: a write lock nests (a helper may take it inside its
 * caller's hold) and is released only by the outermost unlock; its file
 * descriptor is close-on-exec, so no child ever keeps it; a run waits for
 * each lock at most BT_WRITE_LOCK_WAIT seconds in all.  Nothing here
 * opens a database.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

int
bt_wlock_file(int which, char *err)
{
	struct wlock *w = &wlocks[which == BT_LOCK_STATE];
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
