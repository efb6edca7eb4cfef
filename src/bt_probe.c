/*
 * bt_probe.c - the watchdog's probe of the daily backtest, which runs
 * under the crontab's flock on run/backtest.lock and describes itself in
 * run/backtest.status (contracts.md): is it the backtest, is it healthy
 * (HEALTHY, PAUSED, DEAD, HUNG, STALLED, FLAKY), and what is done about
 * it: the hang procedure of the seed (stack dump, SIGTERM then SIGKILL to
 * its process group, the run recorded, a leftover results.tmp renamed, a
 * quick check of the store, the restart policy), the restart budget,
 * pausing it.
 *
 * Invariants:
 * - It signals a process only when it is the backtest: pid alive (not a
 *   zombie), /proc start time, boot id and process group as recorded in
 *   run/backtest.status, and run/backtest.lock held by a member of that
 *   group (lock_ours()).  Signals go to the recorded process group,
 *   after a pidfd pins the pid, and identity is checked again through
 *   it.
 * - A finished or ended run is recorded in runs once (kv
 *   watchdog.backtest.recorded holds its key), on bt-backtest's behalf.
 * - More than BT_BACKTEST_MAX_RESTARTS restarts in 24 h pause the
 *   backtest (and start the rollback when BT_AUTO_ROLLBACK is on); a
 *   restart runs detached (bt_watch_spawn()).
 * - A dry run signals, writes and renames nothing; it says what it would
 *   do (bt_watch_action()).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_probe.h"
#include "bt_state.h"

/* run/backtest.status, as contracts.md defines it. */
struct bt_status {
	bool	 present;
	long	 pid, pgid;
	int64_t	 start_ticks;
	char	 boot_id[64], state[16], results[PATH_MAX];
	int64_t	 started, heartbeat, ended;
	int	 exitcode;
	bool	 has_exit;
	char	 key[128];	/* identifies the run */
};

/* utime + stime of a process, in clock ticks; -1 when gone. */
static int64_t
proc_cpu_ticks(long pid)
{
	int64_t v[2];

	return bt_proc_stat(pid, NULL, v, 14, 2) == 0 ? v[0] + v[1] : -1;
}

/*
 * Is the lock file held by someone?  A non-blocking attempt, released at
 * once: 1 held, 0 free (or no file).
 */
static int
lock_held(const char *rel)
{
	char *path = bt_path(rel);
	int fd, held = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd == -1)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		flock(fd, LOCK_UN);
	else if (errno == EWOULDBLOCK)
		held = 1;
	close(fd);
	return held;
}

/*
 * Does a member of process group pgid hold run/backtest.lock?  Held is
 * not enough: anyone who can open the file can take the lock, and a
 * status file can name any process, so the holder /proc/locks names
 * (flock(1) of the crontab line, in the backtest's group) must be in the
 * recorded group before that group is signalled.
 */
static bool
lock_ours(long pgid)
{
	char *path = bt_path("run/backtest.lock");
	long pids[16];
	int n, i;

	n = bt_flock_holders(path, pids, 16);
	free(path);
	for (i = 0; i < n; i++)
		if (getpgid((pid_t)pids[i]) == (pid_t)pgid)
			return true;
	return false;
}

/* Now as file names have it: 20221011T000500Z. */
static void
compact_now(char ts[32])
{
	char *sp;

	bt_fmt_time(bt_now_ms(), ts);
	for (sp = ts; *sp; sp++)
		if (*sp == '-' || *sp == ':')
			memmove(sp, sp + 1, strlen(sp));
}

/* ------------------------------------------------------ status, identity */

/* A string member of `o' into buf; "" when it has none. */
static void
json_str(json_t *o, const char *key, char *buf, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(buf, len, "%s", v ? v : "");
}

/* false: a status that cannot be read (said in err); none is fine. */
static bool
read_status(struct bt_status *s, char *err)
{
	char *path = bt_path("run/backtest.status");
	json_t *j, *v;

	memset(s, 0, sizeof(*s));
	s->started = s->heartbeat = s->ended = -1;
	j = bt_watch_read_json(path, err);
	free(path);
	if (j == NULL)
		return errno == ENOENT;
	s->present = true;
	s->pid = (long)json_integer_value(json_object_get(j, "pid"));
	s->pgid = (long)json_integer_value(json_object_get(j, "pgid"));
	s->start_ticks = json_integer_value(json_object_get(j, "start_ticks"));
	json_str(j, "boot_id", s->boot_id, sizeof(s->boot_id));
	json_str(j, "state", s->state, sizeof(s->state));
	json_str(j, "results", s->results, sizeof(s->results));
	s->started = bt_watch_json_time(j, "started");
	s->heartbeat = bt_watch_json_time(j, "heartbeat");
	s->ended = bt_watch_json_time(j, "ended");
	v = json_object_get(j, "exit");
	if ((s->has_exit = json_is_integer(v)))
		s->exitcode = (int)json_integer_value(v);
	snprintf(s->key, sizeof(s->key), "%ld:%lld:%lld", s->pid,
	    (long long)s->start_ticks, (long long)s->started);
	json_decref(j);
	if (s->pid <= 1 || s->pgid <= 1 || s->started < 0 || !*s->state) {
		snprintf(err, BT_ERRLEN, "run/backtest.status lacks pid, pgid, "
		    "started or state");
		s->present = false;
		return false;
	}
	return true;
}

/*
 * The backtest, exactly: contracts.md's identity, and the lock held by
 * its process group.
 */
static bool
is_backtest(const struct bt_status *s)
{
	return bt_watch_same(s->pid, s->start_ticks) &&
	    strcmp(s->boot_id, bt_boot_id()) == 0 &&
	    getpgid((pid_t)s->pid) == (pid_t)s->pgid &&
	    lock_ours(s->pgid);
}

/* Records a finished (or ended by us) backtest run in runs, once. */
static void
record_run(struct bt_watch *x, const struct bt_status *s, int code,
    const char *state)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], *seen;
	json_t *sum;
	char *js;

	seen = bt_watch_kv_str(x, "watchdog.backtest.recorded");
	if (seen != NULL && strcmp(seen, s->key) == 0) {
		free(seen);
		return;
	}
	free(seen);
	if (x->dry || x->st == NULL)
		return;
	if (bt_begin(x->st, err) != 0) {
		bt_warnx("%s", err);
		return;
	}
	sum = json_pack("{s:s, s:s, s:s}", "state", state, "results",
	    s->results, "recorded_by", "bt-watchdog");
	js = json_dumps(sum, JSON_COMPACT);
	json_decref(sum);
	if ((q = bt_stmt(x->st, "INSERT INTO runs(prog, job, pid, started, "
	    "ended, exit, summary) VALUES ('bt-backtest', '', ?1, ?2, ?3, ?4, "
	    "?5)", err)) != NULL) {
		sqlite3_bind_int64(q, 1, s->pid);
		sqlite3_bind_int64(q, 2, s->started);
		sqlite3_bind_int64(q, 3, s->ended >= 0 ? s->ended :
		    bt_now_ms());
		sqlite3_bind_int(q, 4, code);
		sqlite3_bind_text(q, 5, js, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE)
			bt_warnx("runs: %s", bt_db_errmsg(x->st));
		sqlite3_reset(q);
	}
	free(js);
	if (bt_kv_set(x->st, "watchdog.backtest.recorded", s->key, err) != 0)
		bt_warnx("%s", err);
	if (bt_commit(x->st, err) != 0)
		bt_warnx("%s", err);
}

/* ------------------------------------------------------------ stopping */

/*
 * The stack of a hung backtest into logs/: gdb in batch mode when it is
 * installed (and BT_WATCHDOG_GDB=1), then what /proc shows.
 */
static void
dump_stack(struct bt_watch *x, const struct bt_status *s, char *out, size_t len)
{
	char ts[32], path[PATH_MAX], src[128], *dir, buf[8192];
	const char *files[] = { "status", "wchan", "stack", "syscall" };
	pid_t gdb;
	int fd, st, i;
	FILE *fp, *in;
	size_t n;
	double t0;

	compact_now(ts);
	dir = bt_path("logs");
	snprintf(path, sizeof(path), "%s/backtest-stack.%s.%ld.txt", dir, ts,
	    s->pid);
	snprintf(out, len, "logs/backtest-stack.%s.%ld.txt", ts, s->pid);
	bt_mkdirs(dir, 0750, buf);
	free(dir);
	if (x->dry)
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640))
	    == -1) {
		bt_warnx("%s: %s", path, strerror(errno));
		return;
	}
	if (bt_conf_long("BT_WATCHDOG_GDB") && access("/usr/bin/gdb", X_OK) ==
	    0) {
		dprintf(fd, "# gdb -batch -p %ld\n", s->pid);
		fflush(stdout);
		if ((gdb = fork()) == 0) {
			char pid[32];
			int nul = open("/dev/null", O_RDONLY);
			dup2(nul, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			snprintf(pid, sizeof(pid), "%ld", s->pid);
			execl("/usr/bin/gdb", "gdb", "-nx", "-batch", "-p", pid,
			    "-ex", "thread apply all bt", (char *)NULL);
			_exit(127);
		}
		t0 = bt_mono();
		while (gdb > 0 && waitpid(gdb, &st, WNOHANG) == 0) {
			if (bt_mono() - t0 > 20) {
				kill(gdb, SIGKILL);
				waitpid(gdb, &st, 0);
				break;
			}
			bt_sleep(0.02);
		}
	}
	if ((fp = fdopen(fd, "a")) == NULL) {
		close(fd);
		return;
	}
	for (i = 0; i < 4; i++) {
		snprintf(src, sizeof(src), "/proc/%ld/%s", s->pid, files[i]);
		fprintf(fp, "\n# %s\n", src);
		if ((in = fopen(src, "re")) == NULL) {
			fprintf(fp, "(%s)\n", strerror(errno));
			continue;
		}
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, fp);
		fclose(in);
	}
	fclose(fp);
}

static int
pidfd_open_(long pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Has the backtest's process gone, and its group let go of the lock? */
static bool
gone(const struct bt_status *s, int pidfd)
{
	struct pollfd p;
	bool dead;

	if (pidfd >= 0) {
		p.fd = pidfd;
		p.events = POLLIN;
		dead = poll(&p, 1, 0) == 1;
	} else
		dead = !bt_watch_same(s->pid, s->start_ticks);
	return dead && lock_held("run/backtest.lock") == 0;
}

/*
 * Stops the backtest's process group: SIGTERM, BT_BACKTEST_KILL_WAIT
 * seconds, SIGKILL.  Only after is_backtest(); the pid is pinned with a
 * pidfd first, and identity checked again through it.  Returns the
 * signal that ended it (0 when it was already gone, -1 when it would not
 * die).
 */
static int
stop_backtest(struct bt_watch *x, const struct bt_status *s)
{
	int pidfd, sig = SIGTERM;
	double t0, wait = bt_conf_double("BT_BACKTEST_KILL_WAIT");

	if (x->dry)
		return SIGTERM;
	pidfd = pidfd_open_(s->pid);
	if (!is_backtest(s)) {
		if (pidfd >= 0)
			close(pidfd);
		return 0;
	}
	kill(-(pid_t)s->pgid, SIGTERM);
	bt_watch_action(x, "WARNING", "sigterm", "bt-backtest", true,
	    "SIGTERM to the backtest's process group %ld (pid %ld)", s->pgid,
	    s->pid);
	t0 = bt_mono();
	while (!gone(s, pidfd) && bt_mono() - t0 < wait)
		bt_sleep(0.02);
	if (!gone(s, pidfd)) {
		/*
		 * Still there: the group is still ours while the pid lives
		 * or a member holds the lock.
		 */
		if ((pidfd >= 0 ? !gone(s, pidfd) : is_backtest(s)) ||
		    lock_ours(s->pgid)) {
			kill(-(pid_t)s->pgid, SIGKILL);
			sig = SIGKILL;
			bt_watch_action(x, "WARNING", "sigkill", "bt-backtest",
			    true, "SIGKILL to process group %ld after %gs",
			    s->pgid, wait);
		}
		t0 = bt_mono();
		while (!gone(s, pidfd) && bt_mono() - t0 < 5)
			bt_sleep(0.02);
		if (!gone(s, pidfd))
			sig = -1;
	}
	if (pidfd >= 0)
		close(pidfd);
	return sig;
}

/* ------------------------------------------------------------ recovery */

/* A leftover results.tmp of a killed run becomes the incomplete name. */
static void
rename_leftover(struct bt_watch *x, const struct bt_status *s)
{
	char *res, tmp[PATH_MAX], inc[PATH_MAX + 64], ts[32], *dot;

	res = *s->results ? strdup(s->results) : *bt_conf("BACKTEST_RESULTS") ?
	    strdup(bt_conf("BACKTEST_RESULTS")) :
	    bt_path("results/backtest_results.json");
	snprintf(tmp, sizeof(tmp), "%s.tmp", res);
	if (access(tmp, F_OK) == 0) {
		compact_now(ts);
		if ((dot = strrchr(res, '.')) != NULL &&
		    strcmp(dot, ".json") == 0)
			*dot = '\0';
		snprintf(inc, sizeof(inc), "%s.incomplete_%s.json", res, ts);
		if (x->dry || rename(tmp, inc) == 0)
			bt_watch_action(x, "INFO", "rename_incomplete",
			    "bt-backtest", true, "renamed the leftover %s to "
			    "%s", tmp, inc);
		else
			bt_watch_action(x, "WARNING", "rename_incomplete",
			    "bt-backtest", false, "cannot rename %s: %s", tmp,
			    strerror(errno));
	}
	free(res);
}

/* PRAGMA quick_check of the store, read-only. */
static void
quick_check(struct bt_watch *x)
{
	char err[BT_ERRLEN], *path = bt_store_path();
	sqlite3 *db;
	sqlite3_stmt *q;
	const char *r = NULL;
	bool ok = false;

	if (bt_open_store(path, BT_DB_RO, &db, err) != 0) {
		bt_watch_action(x, "WARNING", "quick_check", "store", false,
		    "cannot open the store for a quick check: %s", err);
		free(path);
		return;
	}
	free(path);
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW &&
		    (r = (const char *)sqlite3_column_text(q, 0)) != NULL)
			ok = strcmp(r, "ok") == 0;
		bt_watch_action(x, ok ? "INFO" : "CRITICAL", "quick_check",
		    "store", ok, "quick_check of the store: %s", r ? r :
		    bt_db_errmsg(db));
		sqlite3_finalize(q);
	}
	if (!ok)
		x->integrity_bad = true;
	bt_close(db);
}

/* Once: a paused backtest stays paused until a person removes the file. */
void
bt_probe_pause(struct bt_watch *x, const char *why)
{
	char *path = bt_path("run/backtest.paused"), err[BT_ERRLEN], ts[32];
	json_t *j;
	char *s;

	if (access(path, F_OK) == 0 && !x->dry) {
		free(path);
		return;
	}
	j = json_pack("{s:s, s:s, s:s}", "ts", bt_fmt_time(bt_now_ms(), ts),
	    "by", "bt-watchdog", "reason", why);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!x->dry && bt_write_atomic(path, s, strlen(s), 0640, err) == -1)
		bt_watch_action(x, "CRITICAL", "pause", "bt-backtest", false,
		    "cannot pause the backtest: %s", err);
	else
		bt_watch_action(x, "CRITICAL", "pause", "bt-backtest", true,
		    "backtest paused (run/backtest.paused): %s; remove the "
		    "file to resume", why);
	free(s);
	free(path);
}

/*
 * The restart policy after a failed run: count it; past the budget,
 * pause (and roll back if the operator turned that on); otherwise start
 * the backtest again at once if configured, else leave it to the next
 * slot.  Returns true when the budget tripped.
 */
static bool
restart(struct bt_watch *x, const char *why)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	int64_t n = 0, max = bt_conf_long("BT_BACKTEST_MAX_RESTARTS");
	const char *cmd = bt_conf("BT_BACKTEST_RESTART_CMD");

	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT count(*) FROM "
	    "actions WHERE action='restart' AND ts > ?1", err)) != NULL) {
		sqlite3_bind_int64(q, 1, bt_now_ms() - 86400000);
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	if (n >= max) {
		bt_watch_action(x, "CRITICAL", "restart_budget", "bt-backtest",
		    false, "%s: more than %lld restarts in 24 h; automatic "
		    "restarts stop", why, (long long)max);
		bt_probe_pause(x, "more than the restart budget in 24 h");
		if (bt_conf_long("BT_AUTO_ROLLBACK")) {
			bool ok = bt_watch_spawn(x, bt_conf("BT_ROLLBACK_CMD"),
			    err) == 0;
			bt_watch_action(x, "CRITICAL", "rollback", "store", ok,
			    ok ? "started the 48 h rollback: %s" : "%s", ok ?
			    bt_conf("BT_ROLLBACK_CMD") : err);
		}
		return true;
	}
	if (*cmd != '\0') {
		bool ok = bt_watch_spawn(x, cmd, err) == 0;
		bt_watch_action(x, "WARNING", "restart", "bt-backtest", ok,
		    "%s: restart %lld of %lld in 24 h, at once: %s", why,
		    (long long)n + 1, (long long)max, ok ? cmd : err);
	} else
		bt_watch_action(x, "WARNING", "restart", "bt-backtest", true,
		    "%s: restart %lld of %lld in 24 h, left to the next "
		    "scheduled slot", why, (long long)n + 1, (long long)max);
	return false;
}

/* The hang procedure of the seed (4.3), for HUNG and STALLED. */
static void
recover(struct bt_watch *x, const struct bt_status *s, const char *state)
{
	char dump[PATH_MAX], why[128];
	int sig;

	if (strcmp(state, "HUNG") == 0) {
		dump_stack(x, s, dump, sizeof(dump));
		bt_watch_action(x, "INFO", "stack_dump", "bt-backtest", true,
		    "stack of pid %ld written to %s", s->pid, dump);
	}
	sig = stop_backtest(x, s);
	if (sig == -1) {
		bt_watch_action(x, "CRITICAL", "kill", "bt-backtest", false,
		    "process group %ld survived SIGKILL", s->pgid);
		return;
	}
	record_run(x, s, sig > 0 ? 128 + sig : BT_EX_SOFTWARE,
	    strcmp(state, "HUNG") == 0 ? "hung" : "stalled");
	rename_leftover(x, s);
	quick_check(x);
	snprintf(why, sizeof(why), "backtest %s", state);
	restart(x, why);
}

/* -------------------------------------------------------------- health */

/* The last `max' bytes of a file, NUL-terminated; NULL when unreadable. */
static char *
read_tail(const char *path, off_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL;
	size_t len;
	off_t off;
	ssize_t r;

	if (fd != -1 && fstat(fd, &sb) == 0) {
		off = sb.st_size > max ? sb.st_size - max : 0;
		len = (size_t)(sb.st_size - off);
		if ((buf = malloc(len + 1)) == NULL)
			abort();
		r = pread(fd, buf, len, off);
		len = r > 0 ? (size_t)r : 0;
		buf[len] = '\0';
	}
	if (fd != -1)
		close(fd);
	return buf;
}

/* WARNING and CRITICAL lines of the backtest's log since `since'. */
static int64_t
count_log_problems(int64_t since)
{
	char *path, *buf, *line, *next;
	int64_t n = 0, t;
	json_t *j;
	const char *sev;

	path = *bt_conf("BT_BACKTEST_LOG") == '/' ?
	    strdup(bt_conf("BT_BACKTEST_LOG")) : bt_path(bt_conf(
	    "BT_BACKTEST_LOG"));
	/* The log's tail is enough for an hour. */
	buf = read_tail(path, 4 << 20);
	free(path);
	if (buf == NULL)
		return 0;
	for (line = buf; line != NULL && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((j = json_loads(line, 0, NULL)) == NULL)
			continue;
		sev = json_string_value(json_object_get(j, "severity"));
		t = bt_watch_json_time(j, "ts");
		if (sev != NULL && (strcmp(sev, "WARNING") == 0 ||
		    strcmp(sev, "CRITICAL") == 0) && t >= since)
			n++;
		json_decref(j);
	}
	free(buf);
	return n;
}

/* Latest backtest slot at or before `t': BACKTEST_START_HOUR:MINUTE. */
static int64_t
daily_slot(int64_t t)
{
	int64_t d = t - t % 86400000 + (bt_conf_long("BACKTEST_START_HOUR") *
	    60 + bt_conf_long("BACKTEST_START_MINUTE")) * 60000LL;

	return d > t ? d - 86400000 : d;
}

/* Did a backtest run start at or after `t' (succeeded: with exit 0)? */
static bool
run_since(struct bt_watch *x, const struct bt_status *s, int64_t t, bool ok)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	bool found = false;

	if (s->present && s->started >= t && (!ok ||
	    (strcmp(s->state, "done") == 0 && s->has_exit &&
	    s->exitcode == 0)))
		return true;
	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT 1 FROM runs WHERE "
	    "prog='bt-backtest' AND started >= ?1 AND (?2 = 0 OR exit = 0) "
	    "LIMIT 1", err)) != NULL) {
		sqlite3_bind_int64(q, 1, t);
		sqlite3_bind_int(q, 2, ok);
		found = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_reset(q);
	}
	return found;
}

static void
check_cpu(struct bt_watch *x, const struct bt_status *s, bool running)
{
	char *prev, buf[160];
	long long ppid = 0, pst = 0, pticks = 0, streak = 0;
	double pmono = 0, now = bt_mono(), pct = 0;
	int64_t ticks;
	double limit = bt_conf_double("BT_BACKTEST_CPU_PCT");
	double mins = bt_conf_double("BT_BACKTEST_CPU_MINUTES");

	if (!running || (ticks = proc_cpu_ticks(s->pid)) < 0) {
		bt_watch_kv_put(x, "watchdog.cpu", "");
		bt_watch_check(x, "backtest_cpu", true, NULL, "idle", NULL,
		    "no backtest running");
		return;
	}
	prev = bt_watch_kv_str(x, "watchdog.cpu");
	if (prev == NULL || sscanf(prev, "%lld %lld %lld %lf %lld", &ppid, &pst,
	    &pticks, &pmono, &streak) != 5 || ppid != s->pid ||
	    pst != s->start_ticks || pmono >= now)
		streak = 0, pmono = 0;
	free(prev);
	if (pmono > 0) {
		pct = (double)(ticks - pticks) / (double)sysconf(_SC_CLK_TCK) /
		    (now - pmono) * 100;
		if (pct > limit) {
			if (streak == 0)
				streak = (long long)(pmono * 1000);
		} else
			streak = 0;
	}
	snprintf(buf, sizeof(buf), "%ld %lld %lld %.3f %lld", s->pid,
	    (long long)s->start_ticks, (long long)ticks, now, streak);
	bt_watch_kv_put(x, "watchdog.cpu", buf);
	/* A legitimate sweep does this too: a WARNING, never an action. */
	if (streak > 0 && now - (double)streak / 1000 >= mins * 60)
		bt_watch_check(x, "backtest_cpu", false, "WARNING", "busy",
		    json_pack("{s:f}", "cpu_pct", pct), "backtest pid %ld "
		    "above %g%% CPU for %.0f minutes", s->pid, limit,
		    (now - (double)streak / 1000) / 60);
	else
		bt_watch_check(x, "backtest_cpu", true, NULL, "ok", pmono > 0 ?
		    json_pack("{s:f}", "cpu_pct", pct) : NULL,
		    "backtest pid %ld", s->pid);
}

/*
 * A status that says running, of a run not recorded yet: DEAD when the
 * process is not the backtest, HUNG without a fresh heartbeat, STALLED
 * past its timeout plus grace; each is handled here, and true returned.
 * False: it runs, healthy so far.
 */
static bool
probe_running(struct bt_watch *x, const struct bt_status *s, int64_t now)
{
	char t[32];
	int64_t hung = bt_conf_long("BT_BACKTEST_HUNG_SECONDS") * 1000;
	int64_t limit = (int64_t)((bt_conf_double("BACKTEST_TIMEOUT_MINUTES") +
	    bt_conf_double("BT_BACKTEST_STALL_GRACE_MINUTES")) * 60000);
	json_t *ex;

	ex = json_pack("{s:I, s:I}", "pid", (json_int_t)s->pid, "pgid",
	    (json_int_t)s->pgid);
	if (!is_backtest(s)) {
		/* Crashed, or killed: the pid is gone or not ours. */
		bt_watch_check(x, "backtest", false, "CRITICAL", "DEAD", ex,
		    "backtest DEAD: run/backtest.status says running (pid "
		    "%ld, started %s) but that process %s", s->pid,
		    bt_fmt_time(s->started, t), bt_watch_alive(s->pid) ?
		    "is not the backtest (pid reused, or run/backtest.lock free "
		    "or held outside its process group); it is left alone" :
		    "is gone");
		record_run(x, s, BT_EX_SOFTWARE, "dead");
		restart(x, "backtest DEAD");
		return true;
	}
	if (s->heartbeat < 0 || now - s->heartbeat > hung) {
		bt_watch_check(x, "backtest", false, "WARNING", "HUNG", ex,
		    "backtest HUNG: heartbeat %s is %llds old (pid %ld); "
		    "killing its process group", s->heartbeat < 0 ?
		    "missing" : bt_fmt_time(s->heartbeat, t),
		    (long long)(now - s->heartbeat) / 1000, s->pid);
		recover(x, s, "HUNG");
		return true;
	}
	if (now - s->started > limit) {
		bt_watch_check(x, "backtest", false, "CRITICAL", "STALLED", ex,
		    "backtest STALLED: running since %s, past its timeout plus "
		    "grace (%g min); killing its process group",
		    bt_fmt_time(s->started, t), (double)limit / 60000);
		recover(x, s, "STALLED");
		return true;
	}
	json_decref(ex);
	return false;
}

/*
 * No backtest running: DEAD when one of the day's three slots passed
 * BT_BACKTEST_MISSED_MINUTES ago with no run started since (the restart
 * policy once per slot, kv watchdog.backtest.handled).  True when DEAD.
 */
static bool
missed_slot(struct bt_watch *x, const struct bt_status *s, int64_t now)
{
	int64_t missed = (int64_t)(bt_conf_double("BT_BACKTEST_MISSED_MINUTES")
	    * 60000);
	int64_t d, slot;
	char t[32], key[64], *handled;
	int i;

	d = daily_slot(now);
	slot = -1;
	for (i = 2; i >= 0; i--)
		if (d + i * 3600000LL + missed <= now) {
			slot = d + i * 3600000LL;
			break;
		}
	/*
	 * A slot from before the watchdog first ran (a new installation) is
	 * not held against the backtest.
	 */
	if (slot >= 0 && slot < bt_watch_kv_int(x, "watchdog.since", now))
		slot = -1;
	if (slot < 0 || run_since(x, s, d, true) || run_since(x, s, slot,
	    false))
		return false;
	bt_watch_check(x, "backtest", false, "CRITICAL", "DEAD", NULL,
	    "backtest DEAD: the %s slot passed %lld minutes ago and no run "
	    "has started since", bt_fmt_time(slot, t),
	    (long long)(now - slot) / 60000);
	snprintf(key, sizeof(key), "slot:%lld", (long long)slot);
	handled = bt_watch_kv_str(x, "watchdog.backtest.handled");
	if (handled == NULL || strcmp(handled, key) != 0) {
		bt_watch_kv_put(x, "watchdog.backtest.handled", key);
		restart(x, "backtest slot missed");
	}
	free(handled);
	return true;
}

/*
 * The verdict when nothing was handled above: PAUSED (disabled or
 * paused), DEAD (a missed slot), FLAKY (more than 5 WARNING or CRITICAL
 * lines in its log in the last hour), or HEALTHY.
 */
static void
health(struct bt_watch *x, const struct bt_status *s, bool running,
    bool enabled, bool paused, int64_t now)
{
	int64_t flaky;

	/* The log (up to 4 MB of JSON) is read only when it can decide. */
	if (running && (paused || !enabled))
		bt_watch_check(x, "backtest", true, NULL, "HEALTHY",
		    json_pack("{s:I, s:b}", "pid", (json_int_t)s->pid,
		    "paused", 1), "backtest running (pid %ld) although paused",
		    s->pid);
	else if (!enabled)
		bt_watch_check(x, "backtest", true, NULL, "PAUSED", NULL,
		    "backtest disabled (BACKTEST_ENABLED=0)");
	else if (paused)
		bt_watch_check(x, "backtest", false, "WARNING", "PAUSED", NULL,
		    "backtest paused: run/backtest.paused is present; a person "
		    "must look, then remove it");
	else if (!running && missed_slot(x, s, now))
		;
	else if ((flaky = count_log_problems(now - 3600000)) > 5)
		bt_watch_check(x, "backtest", false, "WARNING", "FLAKY",
		    json_pack("{s:I}", "problems", (json_int_t)flaky),
		    "backtest FLAKY: %lld WARNING or CRITICAL lines in its log "
		    "in the last hour", (long long)flaky);
	else if (!running)
		bt_watch_check(x, "backtest", true, NULL, "HEALTHY", NULL,
		    "backtest not running; %s", s->present ? s->state :
		    "no status yet");
	else
		bt_watch_check(x, "backtest", true, NULL, "HEALTHY",
		    json_pack("{s:I}", "pid", (json_int_t)s->pid),
		    "backtest running (pid %ld), heartbeat %llds old", s->pid,
		    (long long)(now - s->heartbeat) / 1000);
}

/*
 * The probe of the backtest, in order: its status and identity, then
 * its health, its CPU, and whether the live trader's watch must stop it.
 */
void
bt_probe_backtest(struct bt_watch *x)
{
	struct bt_status s;
	char err[BT_ERRLEN], *seen, *path;
	bool ok_status, running = false, enabled, paused, handled = false;
	int64_t now = bt_now_ms();
	int sig;

	err[0] = '\0';
	if (!(ok_status = read_status(&s, err)))
		bt_warnx("%s", err);
	enabled = bt_conf_long("BACKTEST_ENABLED") != 0;
	path = bt_path("run/backtest.paused");
	paused = access(path, F_OK) == 0;
	free(path);
	seen = bt_watch_kv_str(x, "watchdog.backtest.recorded");
	if (s.present && strcmp(s.state, "running") == 0 &&
	    (seen == NULL || strcmp(seen, s.key) != 0))
		running = !(handled = probe_running(x, &s, now));
	else if (s.present && strcmp(s.state, "running") != 0)
		record_run(x, &s, s.has_exit ? s.exitcode : BT_EX_SOFTWARE,
		    s.state);
	if (!handled)
		health(x, &s, running, enabled, paused, now);
	check_cpu(x, &s, running && ok_status);
	/* The live trader's watch acts on a running backtest too. */
	if (x->trader_down && running && !x->dry) {
		sig = stop_backtest(x, &s);
		if (sig > 0)
			record_run(x, &s, 128 + sig, "stopped");
	}
	free(seen);
}
