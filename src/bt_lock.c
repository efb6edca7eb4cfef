/*
 * bt_lock.c - where bt's files are, and the two locks every writer keeps.
 *
 * Owns: the paths under BT_HOME (bt_path(), the store's and the state
 * file's, which BT_DB and BT_STATE may move); run/write.lock, the flock
 * every write transaction and explicit checkpoint of either file is taken
 * under (contracts.md, Writing; the WAL race of SQLite 3.40.1, ops.md
 * 1.1); and db/LOCKED, present while a restore or rollback owns the store.
 *
 * Invariants: the write lock nests (a helper may take it inside its
 * caller's hold) and is released only by the outermost unlock; its file
 * descriptor is close-on-exec, so no child ever keeps it.  Nothing here
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

static int	 wlock_fd = -1;
static int	 wlock_depth;

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
 * The toolkit-wide write lock.  SQLite 3.40.1 can corrupt a WAL database
 * when two connections write or checkpoint at once (ops.md 1.1), so every
 * write transaction and explicit checkpoint of either file happens under
 * this flock.  It nests, so a helper may take it inside a caller's hold.
 * Close-on-exec: a child must never keep it.
 */
int
bt_wlock(char *err)
{
	char *path;
	double start, wait;
	double nap = 0.002;

	if (wlock_depth++ > 0)
		return 0;
	if (wlock_fd == -1) {
		path = bt_path("run/write.lock");
		wlock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		if (wlock_fd == -1 && errno == ENOENT) {
			char *dir = bt_path("run");
			if (bt_mkdirs(dir, 0750, err) == 0)
				wlock_fd = open(path, O_RDWR | O_CREAT |
				    O_CLOEXEC, 0640);
			free(dir);
		}
		if (wlock_fd == -1) {
			snprintf(err, BT_ERRLEN, "open %s: %s", path,
			    strerror(errno));
			free(path);
			wlock_depth--;
			return BT_EX_IOERR;
		}
		free(path);
	}
	wait = bt_conf_double("BT_WRITE_LOCK_WAIT");
	start = bt_mono();
	while (flock(wlock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, BT_ERRLEN, "flock run/write.lock: %s",
			    strerror(errno));
			wlock_depth--;
			return BT_EX_IOERR;
		}
		if (bt_mono() - start >= wait) {
			snprintf(err, BT_ERRLEN, "run/write.lock is held by "
			    "another writer for more than %gs", wait);
			wlock_depth--;
			return BT_EX_TEMPFAIL;
		}
		bt_sleep(nap);
		if (nap < 0.05)
			nap *= 2;
	}
	return 0;
}

void
bt_wunlock(void)
{
	if (wlock_depth == 0)
		return;
	if (--wlock_depth == 0 && wlock_fd != -1)
		flock(wlock_fd, LOCK_UN);
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
