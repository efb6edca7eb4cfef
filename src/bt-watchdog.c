/*
 * bt-watchdog - the seed's health probe, restart policy and decision
 * matrix, run by cron every minute.
 *
 *	bt-watchdog [-nqv] [-d db]
 *
 * Prints one JSON line per check and exits 0 when all is healthy, 1
 * otherwise.  Checks: the scheduler heartbeat it touches, the
 * configuration, db/LOCKED, the live trader, the backtest's health
 * (HEALTHY, PAUSED, DEAD, HUNG, STALLED, FLAKY), its CPU, the store's
 * integrity, the data's freshness, free disk space, the failed and
 * missing runs and the dead-man's switch of each scheduled job, the alert
 * path itself (unsent CRITICALs, bt-digest failing, a chat Telegram
 * refuses), and the external heartbeat ping, sent only while the alert
 * path is healthy.
 *
 * Invariants:
 * - It signals a process only when it is the backtest: pid alive (not a
 *   zombie), /proc start time, boot id and process group as recorded in
 *   run/backtest.status, and run/backtest.lock held.  Signals go to the
 *   recorded process group, after a pidfd pins the pid.
 * - A condition raises an event when it appears, when it changes, and
 *   again every BT_WATCHDOG_REPEAT_HOURS while it lasts; the check lines
 *   of the minutes between carry the same event_id, so piping them into
 *   bt-digest sends nothing twice.
 * - Every automatic action is switchable, is written to logs/recovery.log
 *   and recorded as an event, and never forces anything: a restore waits
 *   for the live trader to be down.  Actions that take long (re-fetch,
 *   restore, rollback, restart) run detached, with no lock of ours.
 * - It writes only the state file (events, runs, kv, actions) and files
 *   under run/ and logs/.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_db.h"
#include "bt_http.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_state.h"

struct ctx {
	bool		 dry, quiet, verbose;
	sqlite3		*st;
	int		 exit;
	const char	*argv0;
	bool		 trader_down;	/* configured, and seen dead */
	bool		 trader_known;
	bool		 integrity_bad;	/* this run's quick check failed */
	bool		 alert_ok;	/* the alert path check passed */
	bool		 unrecorded;	/* an event could not be recorded */
};

/* run/backtest.status, as contracts.md defines it. */
struct status {
	bool	 present;
	long	 pid, pgid;
	int64_t	 start_ticks;
	char	 boot_id[64], state[16], results[PATH_MAX];
	int64_t	 started, heartbeat, ended;
	int	 exitcode;
	bool	 has_exit;
	char	 key[128];	/* identifies the run */
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: bt-watchdog [-nqv] [-d db]\n");
	exit(code);
}

/* ------------------------------------------------------------- helpers */

static int64_t
kv_int(struct ctx *x, const char *key, int64_t def)
{
	char *v = NULL, err[BT_ERRLEN];
	int64_t n = def;

	if (x->st != NULL && bt_kv_get(x->st, key, &v, err) == 0 && v != NULL)
		n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static char *
kv_str(struct ctx *x, const char *key)
{
	char *v = NULL, err[BT_ERRLEN];

	if (x->st != NULL)
		bt_kv_get(x->st, key, &v, err);
	return v;
}

static void
kv_put(struct ctx *x, const char *key, const char *val)
{
	char err[BT_ERRLEN];

	if (x->dry || x->st == NULL)
		return;
	if (bt_kv_set(x->st, key, val, err) != 0) {
		bt_warnx("%s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_IOERR);
	}
}

static void
kv_put_int(struct ctx *x, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	kv_put(x, key, buf);
}

/* Alive and not a zombie. */
static bool
proc_alive(long pid)
{
	char st;

	return bt_proc_stat(pid, &st, NULL, 0, 0) == 0 && st != 'Z' &&
	    st != 'X' && st != 'x';
}

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

static json_t *
read_json(const char *path, char *err)
{
	char *buf;
	size_t len;
	json_t *j;
	json_error_t je;

	if ((buf = bt_read_file(path, 1 << 20, &len, err)) == NULL)
		return NULL;
	j = json_loadb(buf, len, 0, &je);
	free(buf);
	if (j == NULL || !json_is_object(j)) {
		snprintf(err, BT_ERRLEN, "%s: not a JSON object%s%s", path,
		    j == NULL ? ": " : "", j == NULL ? je.text : "");
		json_decref(j);
		return NULL;
	}
	return j;
}

static int64_t
json_time(json_t *o, const char *key)
{
	int64_t t;
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v) && bt_parse_time(json_string_value(v), &t) == 0)
		return t;
	return -1;
}

static void
append_line(const char *rel, const char *line)
{
	char *path = bt_path(rel), *dir = bt_path("logs"), err[BT_ERRLEN];
	int fd;

	bt_mkdirs(dir, 0750, err);
	free(dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640))
	    == -1) {
		bt_warnx("%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	if (write(fd, line, strlen(line)) == -1 || write(fd, "\n", 1) == -1)
		bt_warnx("%s: %s", path, strerror(errno));
	close(fd);
	free(path);
}

/* ------------------------------------------------------- checks, events */

/*
 * Prints a check's line and raises its event on a change: a new problem,
 * a different problem, the repeat interval, or the recovery (INFO).
 * `extra' is added to the line and stolen.
 */
static void
check(struct ctx *x, const char *name, bool ok, const char *sev,
    const char *state, json_t *extra, const char *fmt, ...)
{
	char key[160], msg[1024], id[40], err[BT_ERRLEN], *prev, ts[32];
	const char *pstate = NULL, *pid = NULL, *k;
	json_t *rec, *pj = NULL, *v, *save;
	int64_t raised = -1, now = bt_now_ms();
	int64_t repeat = (int64_t)(bt_conf_double("BT_WATCHDOG_REPEAT_HOURS") *
	    3600000);
	bool raise = false, recovered = false;
	va_list ap;
	uint64_t h;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bt_redact(msg);
	snprintf(key, sizeof(key), "watchdog.%s", name);
	if ((prev = kv_str(x, key)) != NULL)
		pj = json_loads(prev, 0, NULL);
	free(prev);
	pstate = json_string_value(json_object_get(pj, "state"));
	pid = json_string_value(json_object_get(pj, "event_id"));
	raised = json_time(pj, "raised");
	if (!ok) {
		raise = pstate == NULL || strcmp(pstate, state) != 0 ||
		    pid == NULL || (repeat > 0 && now - raised >= repeat);
	} else if (pstate != NULL && strcmp(pstate, "ok") != 0)
		recovered = raise = true;

	rec = bt_rec(name);
	json_object_set_new(rec, "check", json_string(name));
	json_object_set_new(rec, "ok", json_boolean(ok));
	json_object_set_new(rec, "state", json_string(ok ? state : state));
	if (!ok || recovered) {
		json_object_set_new(rec, "severity", json_string(recovered ?
		    "INFO" : sev));
		json_object_set_new(rec, "symbol", json_null());
		json_object_set_new(rec, "tf", json_null());
	}
	if (recovered) {
		char m2[1100];
		snprintf(m2, sizeof(m2), "recovered (was %s): %s", pstate, msg);
		json_object_set_new(rec, "message", json_string(m2));
		/* The all-clear goes where the alert went (bt-digest(1)). */
		json_object_set_new(rec, "route", json_string(
		    json_string_value(json_object_get(pj, "severity")) ?
		    json_string_value(json_object_get(pj, "severity")) :
		    "CRITICAL"));
	} else
		json_object_set_new(rec, "message", json_string(msg));
	if (extra != NULL) {
		json_object_foreach(extra, k, v)
			json_object_set(rec, k, v);
		json_decref(extra);
	}
	if (raise && !x->dry && x->st != NULL) {
		h = bt_hash64(name, strlen(name) + 1, 0);
		h = bt_hash64(state, strlen(state) + 1, h);
		h = bt_hash64(msg, strlen(msg) + 1, h);
		h = bt_hash64(&now, sizeof(now), h);
		snprintf(id, sizeof(id), "%016llx", (unsigned long long)h);
		json_object_set_new(rec, "event_id", json_string(id));
		if (bt_event_record(x->st, rec, err) != 0) {
			bt_warnx("cannot record event: %s", err);
			json_object_del(rec, "event_id");
			x->exit = bt_exit_worse(x->exit, BT_EX_IOERR);
			x->unrecorded = true;
		} else {
			save = json_pack("{s:s, s:s, s:s, s:s}", "state", ok ?
			    "ok" : state, "event_id", id, "raised",
			    bt_fmt_time(now, ts), "severity", ok ? "INFO" : sev);
			char *s = json_dumps(save, JSON_COMPACT);
			kv_put(x, key, s);
			free(s);
			json_decref(save);
		}
	} else if (!ok && pid != NULL) {
		json_object_set_new(rec, "event_id", json_string(pid));
	}
	if (!ok && !x->dry && x->st == NULL)
		x->unrecorded = true;
	if (!ok)
		x->exit = bt_exit_worse(x->exit, BT_EX_FOUND);
	if (!x->quiet || !ok || recovered)
		bt_emit(rec);
	else
		json_decref(rec);
	json_decref(pj);
}

/*
 * An automatic action: a line in logs/recovery.log, a row in actions, an
 * event.  In a dry run it is only printed, as what would be done.
 */
static void
action(struct ctx *x, const char *sev, const char *name, const char *target,
    bool ok, const char *fmt, ...)
{
	char msg[1024], err[BT_ERRLEN], *line;
	sqlite3_stmt *s;
	json_t *rec;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bt_redact(msg);
	if (x->dry) {
		rec = bt_rec("recovery");
		json_object_set_new(rec, "action", json_string(name));
		json_object_set_new(rec, "target", json_string(target));
		json_object_set_new(rec, "dry_run", json_true());
		json_object_set_new(rec, "message", json_string(msg));
		bt_emit(rec);
		return;
	}
	rec = bt_rec("recovery");
	json_object_set_new(rec, "severity", json_string(sev));
	json_object_set_new(rec, "action", json_string(name));
	json_object_set_new(rec, "target", json_string(target));
	json_object_set_new(rec, "ok", json_boolean(ok));
	json_object_set_new(rec, "message", json_string(msg));
	if ((line = bt_json_line(rec)) != NULL) {
		append_line("logs/recovery.log", line);
		free(line);
	}
	json_decref(rec);
	if (x->st != NULL && bt_begin(x->st, err) == 0) {
		if ((s = bt_stmt(x->st, "INSERT INTO actions(ts, prog, action, "
		    "target, ok, detail) VALUES (?1, 'bt-watchdog', ?2, ?3, ?4, "
		    "?5)", err)) != NULL) {
			sqlite3_bind_int64(s, 1, bt_now_ms());
			sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 3, target, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 4, ok);
			sqlite3_bind_text(s, 5, msg, -1, SQLITE_STATIC);
			if (sqlite3_step(s) != SQLITE_DONE)
				bt_warnx("actions: %s", bt_db_errmsg(x->st));
			sqlite3_reset(s);
		}
		if (bt_commit(x->st, err) != 0)
			bt_warnx("%s", err);
	}
	bt_event(x->st, sev, "recovery", NULL, NULL, json_pack("{s:s, s:s, "
	    "s:b}", "action", name, "target", target, "ok", ok), "%s", msg);
}

/*
 * Runs a shell command line from the configuration detached from us: its
 * own session, no lock of ours (every fd above 2 closed), stdout into
 * logs/recovery.log and stderr into logs/recovery.err.  The programs
 * next to this one come first on PATH.
 */
static int
spawn(struct ctx *x, const char *cmd, char *err)
{
	pid_t pid, gc;
	int status, fd;
	char *out, *errf, *dir, *path, *slash;

	if (x->dry)
		return 0;
	out = bt_path("logs/recovery.log");
	errf = bt_path("logs/recovery.err");
	dir = bt_path("logs");
	bt_mkdirs(dir, 0750, err);
	free(dir);
	fflush(stdout);
	if ((pid = fork()) == -1) {
		snprintf(err, BT_ERRLEN, "fork: %s", strerror(errno));
		free(out);
		free(errf);
		return -1;
	}
	if (pid == 0) {
		setsid();
		if ((gc = fork()) != 0)
			_exit(gc == -1 ? 127 : 0);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if ((fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0640)) !=
		    -1) {
			dup2(fd, 1);
			close(fd);
		}
		if ((fd = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0640)) !=
		    -1) {
			dup2(fd, 2);
			close(fd);
		}
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		setenv("BT_HOME", bt_conf("BT_HOME"), 1);
		if ((slash = strrchr(x->argv0, '/')) != NULL) {
			if (asprintf(&path, "%.*s:%s", (int)(slash - x->argv0),
			    x->argv0, getenv("PATH") ? getenv("PATH") :
			    "/usr/bin:/bin") != -1)
				setenv("PATH", path, 1);
		}
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(out);
	free(errf);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, BT_ERRLEN, "could not start: %s", cmd);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ heartbeat */

static void
check_heartbeat(struct ctx *x)
{
	char *path = bt_path("run/scheduler.heartbeat"), *dir = bt_path("run");
	char err[BT_ERRLEN], ts[32];
	json_t *hb;
	char *s;

	if (x->dry) {
		check(x, "scheduler_heartbeat", true, NULL, "ok", NULL,
		    "not touched (dry run)");
		goto out;
	}
	hb = json_pack("{s:s, s:I, s:s}", "ts", bt_fmt_time(bt_now_ms(), ts),
	    "pid", (json_int_t)getpid(), "boot_id", bt_boot_id());
	s = json_dumps(hb, JSON_COMPACT);
	json_decref(hb);
	if (bt_mkdirs(dir, 0750, err) == -1 ||
	    bt_write_atomic(path, s, strlen(s), 0640, err) == -1) {
		check(x, "scheduler_heartbeat", false, "CRITICAL", "failed", NULL,
		    "cannot touch run/scheduler.heartbeat: %s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_IOERR);
	} else
		check(x, "scheduler_heartbeat", true, NULL, "ok", NULL,
		    "touched");
	free(s);
out:
	free(path);
	free(dir);
}

/* ----------------------------------------------------------- db/LOCKED */

static void
check_store_lock(struct ctx *x)
{
	char owner[1024], err[BT_ERRLEN];
	json_t *o;
	long pid;
	bool alive;
	char *path;

	if (!bt_store_locked(owner, sizeof(owner))) {
		check(x, "store_lock", true, NULL, "ok", NULL,
		    "db/LOCKED is absent");
		return;
	}
	path = bt_path("db/LOCKED");
	o = read_json(path, err);
	free(path);
	pid = (long)json_integer_value(json_object_get(o, "pid"));
	alive = o != NULL && proc_alive(pid) &&
	    bt_proc_start_ticks(pid) == json_integer_value(json_object_get(o,
	    "start_ticks")) && json_string_value(json_object_get(o,
	    "boot_id")) != NULL && strcmp(json_string_value(json_object_get(o,
	    "boot_id")), bt_boot_id()) == 0;
	if (alive)
		check(x, "store_lock", true, NULL, "restoring", json_pack(
		    "{s:I}", "pid", (json_int_t)pid), "a %s by pid %ld is "
		    "running", json_string_value(json_object_get(o, "op")) ?
		    json_string_value(json_object_get(o, "op")) : "restore",
		    pid);
	else
		check(x, "store_lock", false, "CRITICAL", "owner_gone",
		    json_pack("{s:I}", "pid", (json_int_t)pid), "db/LOCKED "
		    "is present but its owner (pid %ld) is gone: every writer "
		    "of the store refuses to run; finish with bt-backup "
		    "--restore, which takes the lock over", pid);
	json_decref(o);
}

/* ---------------------------------------------------------- the backtest */

static bool
read_status(struct status *s, char *err)
{
	char *path = bt_path("run/backtest.status");
	json_t *j, *v;

	memset(s, 0, sizeof(*s));
	s->started = s->heartbeat = s->ended = -1;
	j = read_json(path, err);
	free(path);
	if (j == NULL)
		return errno == ENOENT;
	s->present = true;
	s->pid = (long)json_integer_value(json_object_get(j, "pid"));
	s->pgid = (long)json_integer_value(json_object_get(j, "pgid"));
	s->start_ticks = json_integer_value(json_object_get(j, "start_ticks"));
	snprintf(s->boot_id, sizeof(s->boot_id), "%s",
	    json_string_value(json_object_get(j, "boot_id")) ?
	    json_string_value(json_object_get(j, "boot_id")) : "");
	snprintf(s->state, sizeof(s->state), "%s",
	    json_string_value(json_object_get(j, "state")) ?
	    json_string_value(json_object_get(j, "state")) : "");
	snprintf(s->results, sizeof(s->results), "%s",
	    json_string_value(json_object_get(j, "results")) ?
	    json_string_value(json_object_get(j, "results")) : "");
	s->started = json_time(j, "started");
	s->heartbeat = json_time(j, "heartbeat");
	s->ended = json_time(j, "ended");
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

/* The backtest, exactly: contracts.md's identity, and the lock held. */
static bool
is_backtest(const struct status *s)
{
	return proc_alive(s->pid) &&
	    bt_proc_start_ticks(s->pid) == s->start_ticks &&
	    strcmp(s->boot_id, bt_boot_id()) == 0 &&
	    getpgid((pid_t)s->pid) == (pid_t)s->pgid &&
	    lock_held("run/backtest.lock") == 1;
}

/* Records a finished (or ended by us) backtest run in runs, once. */
static void
record_run(struct ctx *x, const struct status *s, int code,
    const char *state)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], *seen;
	json_t *sum;
	char *js;

	seen = kv_str(x, "watchdog.backtest.recorded");
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

/*
 * The stack of a hung backtest into logs/: gdb in batch mode when it is
 * installed (and BT_WATCHDOG_GDB=1), then what /proc shows.
 */
static void
dump_stack(struct ctx *x, const struct status *s, char *out, size_t len)
{
	char ts[32], path[PATH_MAX], src[128], *dir, buf[8192], *sp;
	const char *files[] = { "status", "wchan", "stack", "syscall" };
	pid_t gdb;
	int fd, st, i;
	FILE *fp, *in;
	size_t n;
	double t0;

	bt_fmt_time(bt_now_ms(), ts);
	for (sp = ts; *sp; sp++)
		if (*sp == '-' || *sp == ':')
			memmove(sp, sp + 1, strlen(sp));
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
gone(const struct status *s, int pidfd)
{
	struct pollfd p;
	bool dead;

	if (pidfd >= 0) {
		p.fd = pidfd;
		p.events = POLLIN;
		dead = poll(&p, 1, 0) == 1;
	} else
		dead = !proc_alive(s->pid) ||
		    bt_proc_start_ticks(s->pid) != s->start_ticks;
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
stop_backtest(struct ctx *x, const struct status *s)
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
	action(x, "WARNING", "sigterm", "bt-backtest", true,
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
		    lock_held("run/backtest.lock") == 1) {
			kill(-(pid_t)s->pgid, SIGKILL);
			sig = SIGKILL;
			action(x, "WARNING", "sigkill", "bt-backtest", true,
			    "SIGKILL to process group %ld after %gs", s->pgid,
			    wait);
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

/* A leftover results.tmp of a killed run becomes the incomplete name. */
static void
rename_leftover(struct ctx *x, const struct status *s)
{
	char *res, tmp[PATH_MAX], inc[PATH_MAX + 64], ts[32], *dot, *sp;

	res = *s->results ? strdup(s->results) : *bt_conf("BACKTEST_RESULTS") ?
	    strdup(bt_conf("BACKTEST_RESULTS")) :
	    bt_path("results/backtest_results.json");
	snprintf(tmp, sizeof(tmp), "%s.tmp", res);
	if (access(tmp, F_OK) == 0) {
		bt_fmt_time(bt_now_ms(), ts);
		for (sp = ts; *sp; sp++)
			if (*sp == '-' || *sp == ':')
				memmove(sp, sp + 1, strlen(sp));
		if ((dot = strrchr(res, '.')) != NULL &&
		    strcmp(dot, ".json") == 0)
			*dot = '\0';
		snprintf(inc, sizeof(inc), "%s.incomplete_%s.json", res, ts);
		if (x->dry || rename(tmp, inc) == 0)
			action(x, "INFO", "rename_incomplete", "bt-backtest",
			    true, "renamed the leftover %s to %s", tmp, inc);
		else
			action(x, "WARNING", "rename_incomplete", "bt-backtest",
			    false, "cannot rename %s: %s", tmp,
			    strerror(errno));
	}
	free(res);
}

/* PRAGMA quick_check of the store, read-only. */
static void
quick_check(struct ctx *x)
{
	char err[BT_ERRLEN], *path = bt_store_path();
	sqlite3 *db;
	sqlite3_stmt *q;
	const char *r = NULL;
	bool ok = false;

	if (bt_open_store(path, BT_DB_RO, &db, err) != 0) {
		action(x, "WARNING", "quick_check", "store", false,
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
		action(x, ok ? "INFO" : "CRITICAL", "quick_check", "store", ok,
		    "quick_check of the store: %s", r ? r : bt_db_errmsg(db));
		sqlite3_finalize(q);
	}
	if (!ok)
		x->integrity_bad = true;
	bt_close(db);
}

static void
pause_backtest(struct ctx *x, const char *why)
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
		action(x, "CRITICAL", "pause", "bt-backtest", false,
		    "cannot pause the backtest: %s", err);
	else
		action(x, "CRITICAL", "pause", "bt-backtest", true,
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
restart(struct ctx *x, const char *why)
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
		action(x, "CRITICAL", "restart_budget", "bt-backtest", false,
		    "%s: more than %lld restarts in 24 h; automatic restarts "
		    "stop", why, (long long)max);
		pause_backtest(x, "more than the restart budget in 24 h");
		if (bt_conf_long("BT_AUTO_ROLLBACK")) {
			bool ok = spawn(x, bt_conf("BT_ROLLBACK_CMD"), err) == 0;
			action(x, "CRITICAL", "rollback", "store", ok, ok ?
			    "started the 48 h rollback: %s" : "%s", ok ?
			    bt_conf("BT_ROLLBACK_CMD") : err);
		}
		return true;
	}
	if (*cmd != '\0') {
		bool ok = spawn(x, cmd, err) == 0;
		action(x, "WARNING", "restart", "bt-backtest", ok,
		    "%s: restart %lld of %lld in 24 h, at once: %s", why,
		    (long long)n + 1, (long long)max, ok ? cmd : err);
	} else
		action(x, "WARNING", "restart", "bt-backtest", true,
		    "%s: restart %lld of %lld in 24 h, left to the next "
		    "scheduled slot", why, (long long)n + 1, (long long)max);
	return false;
}

/* The hang procedure of the seed (4.3), for HUNG and STALLED. */
static void
recover(struct ctx *x, const struct status *s, const char *state)
{
	char dump[PATH_MAX], why[128];
	int sig;

	if (strcmp(state, "HUNG") == 0) {
		dump_stack(x, s, dump, sizeof(dump));
		action(x, "INFO", "stack_dump", "bt-backtest", true,
		    "stack of pid %ld written to %s", s->pid, dump);
	}
	sig = stop_backtest(x, s);
	if (sig == -1) {
		action(x, "CRITICAL", "kill", "bt-backtest", false,
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

static int64_t
count_log_problems(int64_t since)
{
	char *path, *buf, err[BT_ERRLEN], *line, *next;
	size_t len;
	int64_t n = 0, t;
	json_t *j;
	const char *sev;

	path = *bt_conf("BT_BACKTEST_LOG") == '/' ?
	    strdup(bt_conf("BT_BACKTEST_LOG")) : bt_path(bt_conf(
	    "BT_BACKTEST_LOG"));
	/* The log's tail is enough for an hour. */
	buf = NULL;
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat sb;
		off_t off;
		ssize_t r;

		if (fd != -1 && fstat(fd, &sb) == 0) {
			off = sb.st_size > (4 << 20) ? sb.st_size - (4 << 20) :
			    0;
			len = (size_t)(sb.st_size - off);
			if ((buf = malloc(len + 1)) == NULL)
				abort();
			r = pread(fd, buf, len, off);
			len = r > 0 ? (size_t)r : 0;
			buf[len] = '\0';
		}
		if (fd != -1)
			close(fd);
	}
	(void)err;
	free(path);
	if (buf == NULL)
		return 0;
	for (line = buf; line != NULL && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((j = json_loads(line, 0, NULL)) == NULL)
			continue;
		sev = json_string_value(json_object_get(j, "severity"));
		t = json_time(j, "ts");
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
run_since(struct ctx *x, const struct status *s, int64_t t, bool ok)
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
check_cpu(struct ctx *x, const struct status *s, bool running)
{
	char *prev, buf[160];
	long long ppid = 0, pst = 0, pticks = 0, streak = 0;
	double pmono = 0, now = bt_mono(), pct = 0;
	int64_t ticks;
	double limit = bt_conf_double("BT_BACKTEST_CPU_PCT");
	double mins = bt_conf_double("BT_BACKTEST_CPU_MINUTES");

	if (!running || (ticks = proc_cpu_ticks(s->pid)) < 0) {
		kv_put(x, "watchdog.cpu", "");
		check(x, "backtest_cpu", true, NULL, "idle", NULL,
		    "no backtest running");
		return;
	}
	prev = kv_str(x, "watchdog.cpu");
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
	kv_put(x, "watchdog.cpu", buf);
	/* A legitimate sweep does this too: a WARNING, never an action. */
	if (streak > 0 && now - (double)streak / 1000 >= mins * 60)
		check(x, "backtest_cpu", false, "WARNING", "busy", json_pack(
		    "{s:f}", "cpu_pct", pct), "backtest pid %ld above %g%% CPU "
		    "for %.0f minutes", s->pid, limit, (now - (double)streak /
		    1000) / 60);
	else
		check(x, "backtest_cpu", true, NULL, "ok", pmono > 0 ?
		    json_pack("{s:f}", "cpu_pct", pct) : NULL,
		    "backtest pid %ld", s->pid);
}

static void
check_backtest(struct ctx *x)
{
	struct status s;
	char err[BT_ERRLEN], *seen, *paused, t[32], *handled;
	bool ok_status, running = false, enabled, ispaused, ours;
	int64_t now = bt_now_ms(), d, slot, l;
	int64_t hung = bt_conf_long("BT_BACKTEST_HUNG_SECONDS") * 1000;
	int64_t limit = (int64_t)((bt_conf_double("BACKTEST_TIMEOUT_MINUTES") +
	    bt_conf_double("BT_BACKTEST_STALL_GRACE_MINUTES")) * 60000);
	int64_t missed = (int64_t)(bt_conf_double("BT_BACKTEST_MISSED_MINUTES")
	    * 60000);
	int64_t flaky;
	json_t *ex;
	int i;

	err[0] = '\0';
	ok_status = read_status(&s, err);
	if (!ok_status)
		bt_warnx("%s", err);
	enabled = bt_conf_long("BACKTEST_ENABLED") != 0;
	paused = bt_path("run/backtest.paused");
	ispaused = access(paused, F_OK) == 0;
	free(paused);
	seen = kv_str(x, "watchdog.backtest.recorded");
	handled = kv_str(x, "watchdog.backtest.handled");

	if (s.present && strcmp(s.state, "running") == 0 &&
	    (seen == NULL || strcmp(seen, s.key) != 0)) {
		ours = is_backtest(&s);
		ex = json_pack("{s:I, s:I}", "pid", (json_int_t)s.pid, "pgid",
		    (json_int_t)s.pgid);
		if (!ours) {
			/* Crashed, or killed: the pid is gone or not ours. */
			check(x, "backtest", false, "CRITICAL", "DEAD", ex,
			    "backtest DEAD: run/backtest.status says running "
			    "(pid %ld, started %s) but that process %s", s.pid,
			    bt_fmt_time(s.started, t), proc_alive(s.pid) ?
			    "is not the backtest (pid reused or the lock is "
			    "free); it is left alone" : "is gone");
			record_run(x, &s, BT_EX_SOFTWARE, "dead");
			restart(x, "backtest DEAD");
			goto out;
		}
		running = true;
		if (s.heartbeat < 0 || now - s.heartbeat > hung) {
			check(x, "backtest", false, "WARNING", "HUNG", ex,
			    "backtest HUNG: heartbeat %s is %llds old (pid %ld); "
			    "killing its process group", s.heartbeat < 0 ?
			    "missing" : bt_fmt_time(s.heartbeat, t),
			    (long long)(now - s.heartbeat) / 1000, s.pid);
			recover(x, &s, "HUNG");
			running = false;
			goto out;
		}
		if (now - s.started > limit) {
			check(x, "backtest", false, "CRITICAL", "STALLED", ex,
			    "backtest STALLED: running since %s, past its "
			    "timeout plus grace (%g min); killing its process "
			    "group", bt_fmt_time(s.started, t),
			    (double)limit / 60000);
			recover(x, &s, "STALLED");
			running = false;
			goto out;
		}
		json_decref(ex);
	} else if (s.present && strcmp(s.state, "running") != 0)
		record_run(x, &s, s.has_exit ? s.exitcode : BT_EX_SOFTWARE,
		    s.state);

	flaky = count_log_problems(now - 3600000);
	if (running && (ispaused || !enabled))
		check(x, "backtest", true, NULL, "HEALTHY", json_pack("{s:I, "
		    "s:b}", "pid", (json_int_t)s.pid, "paused", 1),
		    "backtest running (pid %ld) although paused", s.pid);
	else if (!enabled)
		check(x, "backtest", true, NULL, "PAUSED", NULL,
		    "backtest disabled (BACKTEST_ENABLED=0)");
	else if (ispaused)
		check(x, "backtest", false, "WARNING", "PAUSED", NULL,
		    "backtest paused: run/backtest.paused is present; a person "
		    "must look, then remove it");
	else if (!running) {
		/* DEAD: a slot passed and nothing started since. */
		d = daily_slot(now);
		slot = -1;
		for (i = 2; i >= 0; i--)
			if (d + i * 3600000LL + missed <= now) {
				slot = d + i * 3600000LL;
				break;
			}
		/*
		 * A slot from before the watchdog first ran (a new
		 * installation) is not held against the backtest.
		 */
		if (slot >= 0 && slot < kv_int(x, "watchdog.since", now))
			slot = -1;
		if (slot >= 0 && !run_since(x, &s, d, true) &&
		    !run_since(x, &s, slot, false)) {
			char key[64];
			check(x, "backtest", false, "CRITICAL", "DEAD", NULL,
			    "backtest DEAD: the %s slot passed %lld minutes "
			    "ago and no run has started since",
			    bt_fmt_time(slot, t), (long long)(now - slot) /
			    60000);
			snprintf(key, sizeof(key), "slot:%lld", (long long)slot);
			if (handled == NULL || strcmp(handled, key) != 0) {
				kv_put(x, "watchdog.backtest.handled", key);
				restart(x, "backtest slot missed");
			}
		} else if (flaky > 5)
			check(x, "backtest", false, "WARNING", "FLAKY", json_pack(
			    "{s:I}", "problems", (json_int_t)flaky),
			    "backtest FLAKY: %lld WARNING or CRITICAL lines in "
			    "its log in the last hour", (long long)flaky);
		else
			check(x, "backtest", true, NULL, "HEALTHY", NULL,
			    "backtest not running; %s", s.present ?
			    s.state : "no status yet");
	} else if (flaky > 5)
		check(x, "backtest", false, "WARNING", "FLAKY", json_pack("{s:I}",
		    "problems", (json_int_t)flaky), "backtest FLAKY: %lld "
		    "WARNING or CRITICAL lines in its log in the last hour",
		    (long long)flaky);
	else
		check(x, "backtest", true, NULL, "HEALTHY", json_pack("{s:I}",
		    "pid", (json_int_t)s.pid), "backtest running (pid %ld), "
		    "heartbeat %llds old", s.pid, (long long)(now -
		    s.heartbeat) / 1000);
out:
	(void)l;
	check_cpu(x, &s, running && ok_status);
	/* The live trader's watch acts on a running backtest too. */
	if (x->trader_down && running && !x->dry) {
		int sig = stop_backtest(x, &s);
		if (sig > 0)
			record_run(x, &s, 128 + sig, "stopped");
	}
	free(seen);
	free(handled);
}

/* ----------------------------------------------------------- the trader */

static void
check_trader(struct ctx *x)
{
	const char *pf = bt_conf("BT_TRADER_PIDFILE");
	const char *hf = bt_conf("BT_TRADER_HEARTBEAT");
	char err[BT_ERRLEN], *buf, why[512] = "";
	size_t len;
	long pid = 0;
	struct stat sb;
	int64_t age, max = bt_conf_long("BT_TRADER_HEARTBEAT_MAX_AGE") * 1000;
	bool dead = false;

	if (*pf == '\0' && *hf == '\0') {
		check(x, "trader", true, NULL, "unconfigured", NULL,
		    "live trader not watched (set BT_TRADER_PIDFILE or "
		    "BT_TRADER_HEARTBEAT)");
		return;
	}
	x->trader_known = true;
	if (*pf != '\0') {
		if ((buf = bt_read_file(pf, 4096, &len, err)) == NULL) {
			dead = true;
			snprintf(why, sizeof(why), "pid file %s", err);
		} else {
			pid = strtol(buf, NULL, 10);
			free(buf);
			if (!proc_alive(pid)) {
				dead = true;
				snprintf(why, sizeof(why), "pid %ld from %s is "
				    "gone", pid, pf);
			}
		}
	}
	if (!dead && *hf != '\0') {
		if (stat(hf, &sb) == -1) {
			dead = true;
			snprintf(why, sizeof(why), "heartbeat %s: %s", hf,
			    strerror(errno));
		} else {
			age = bt_now_ms() - ((int64_t)sb.st_mtim.tv_sec * 1000 +
			    sb.st_mtim.tv_nsec / 1000000);
			if (age > max) {
				dead = true;
				snprintf(why, sizeof(why), "heartbeat %s is "
				    "%llds old (limit %llds)", hf,
				    (long long)age / 1000, (long long)max /
				    1000);
			}
		}
	}
	x->trader_down = dead;
	if (!dead) {
		kv_put(x, "watchdog.trader.acted", "");
		check(x, "trader", true, NULL, "alive", pid ? json_pack("{s:I}",
		    "pid", (json_int_t)pid) : NULL, "live trader alive");
		return;
	}
	check(x, "trader", false, "CRITICAL", "dead", NULL, "live trader "
	    "DOWN: %s; the backtest is stopped and paused until a person "
	    "looks", why);
	{
		char *acted = kv_str(x, "watchdog.trader.acted");
		if (acted == NULL || *acted == '\0') {
			pause_backtest(x, "the live trader is down");
			kv_put(x, "watchdog.trader.acted", "1");
		}
		free(acted);
	}
}

/* ----------------------------------------------------------- integrity */

static void
check_integrity(struct ctx *x)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], buf[32], *src = NULL;
	int64_t seen = kv_int(x, "watchdog.integrity.seen", 0), maxid = seen;
	int64_t pending = kv_int(x, "watchdog.integrity.pending", 0);

	/* New integrity findings of bt-validate or bt-backup. */
	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT id, message FROM "
	    "events WHERE kind='integrity' AND severity='CRITICAL' AND prog "
	    "IN ('bt-validate', 'bt-backup') AND id > ?1 ORDER BY id", err)) !=
	    NULL) {
		sqlite3_bind_int64(q, 1, seen);
		while (sqlite3_step(q) == SQLITE_ROW) {
			maxid = sqlite3_column_int64(q, 0);
			free(src);
			src = strdup((const char *)sqlite3_column_text(q, 1));
		}
		sqlite3_reset(q);
	}
	if (maxid > seen) {
		kv_put_int(x, "watchdog.integrity.seen", maxid);
		if (!pending)
			pending = bt_now_ms();
	}
	if (x->integrity_bad && !pending)
		pending = bt_now_ms();
	free(src);
	if (!pending) {
		check(x, "integrity", true, NULL, "ok", NULL,
		    "no integrity failure pending");
		return;
	}
	/* A restore that succeeded since ends the incident. */
	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT 1 FROM runs WHERE "
	    "prog='bt-backup' AND job='restore' AND exit=0 AND started >= ?1",
	    err)) != NULL) {
		bool done;
		sqlite3_bind_int64(q, 1, pending);
		done = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_reset(q);
		if (done) {
			kv_put(x, "watchdog.integrity.pending", "0");
			kv_put(x, "watchdog.integrity.restore", "");
			check(x, "integrity", true, NULL, "ok", NULL,
			    "the store was restored");
			return;
		}
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)pending);
	kv_put(x, "watchdog.integrity.pending", buf);
	{
		char *started = kv_str(x, "watchdog.integrity.restore");
		bool begun = started != NULL && *started != '\0';
		free(started);
		if (begun) {
			check(x, "integrity", false, "CRITICAL", "restoring",
			    NULL, "integrity check failed; the restore was "
			    "started (%s); see logs/recovery.log",
			    bt_conf("BT_RESTORE_CMD"));
		} else if (!bt_conf_long("BT_AUTO_RESTORE")) {
			check(x, "integrity", false, "CRITICAL", "failed", NULL,
			    "integrity check failed; automatic restore is off "
			    "(BT_AUTO_RESTORE=0): restore by hand with "
			    "bt-backup --restore");
		} else if (!x->trader_down) {
			check(x, "integrity", false, "CRITICAL", "waiting",
			    NULL, "integrity check failed; the restore waits "
			    "until the live trader is down (%s); it is never "
			    "forced", x->trader_known ? "it is running" :
			    "not watched: set BT_TRADER_PIDFILE or "
			    "BT_TRADER_HEARTBEAT");
		} else {
			bool ok = spawn(x, bt_conf("BT_RESTORE_CMD"), err) == 0;
			action(x, "CRITICAL", "restore", "store", ok, ok ?
			    "integrity check failed and the live trader is "
			    "down: started %s" : "%s", ok ?
			    bt_conf("BT_RESTORE_CMD") : err);
			if (ok)
				kv_put(x, "watchdog.integrity.restore", "1");
			check(x, "integrity", false, "CRITICAL", "restoring",
			    NULL, "integrity check failed; restore %s",
			    ok ? "started" : "could not start");
		}
	}
}

/* ----------------------------------------------------------- freshness */

/*
 * Coverage by contracts.md's one rule (bt_coverage(), as bt-fetch and
 * bt-validate count it: a symbol Binance reports not TRADING, or
 * invalid, is left out).  Below BT_COVERAGE_MIN it is CRITICAL, naming
 * the stale pairs, and the decision matrix re-runs the update.
 */
static void
check_freshness(struct ctx *x)
{
	char err[BT_ERRLEN], *path, **syms, **tfs, buf[128];
	sqlite3 *db = NULL;
	struct bt_cov cov;
	struct bt_buf names = { 0 };
	int nsym, ntf, i, shown = 0, rc;
	int64_t now = bt_now_ms(), attempts, lastrun;
	int64_t every = (int64_t)(bt_conf_double("BT_REFETCH_INTERVAL_MINUTES")
	    * 60000);
	int64_t maxf = bt_conf_long("BT_REFETCH_MAX_FAILURES");
	json_t *stale;

	path = bt_store_path();
	rc = bt_open_store(path, BT_DB_RO, &db, err);
	free(path);
	if (rc != 0) {
		check(x, "freshness", false, "WARNING", "no_store", NULL,
		    "cannot read the store: %s", err);
		return;
	}
	nsym = bt_conf_list("BT_SYMBOLS", &syms);
	ntf = bt_conf_list("BT_TIMEFRAMES", &tfs);
	rc = bt_coverage(db, x->st, NULL, syms, nsym, tfs, ntf, &cov, err);
	bt_list_free(syms, nsym);
	bt_list_free(tfs, ntf);
	bt_close(db);
	if (rc != 0) {
		check(x, "freshness", false, "WARNING", "no_store", NULL,
		    "cannot read the store: %s", err);
		bt_cov_free(&cov);
		return;
	}
	stale = json_array();
	for (i = 0; i < cov.n; i++) {
		if (cov.p[i].excluded || cov.p[i].current)
			continue;
		json_array_append_new(stale, json_pack("[s,s]",
		    cov.p[i].symbol, cov.p[i].tf));
		if (shown++ < 10)
			bt_buf_printf(&names, "%s%s %s", shown > 1 ? ", " : "",
			    cov.p[i].symbol, cov.p[i].tf);
	}
	if (shown > 10)
		bt_buf_printf(&names, " and %d more", shown - 10);
	if (cov.coverage >= bt_conf_double("BT_COVERAGE_MIN")) {
		kv_put(x, "watchdog.refetch.attempts", "0");
		check(x, "freshness", true, NULL, "ok", json_pack("{s:f}",
		    "coverage", cov.coverage), "%d of %d pairs current",
		    cov.current, cov.counted);
		goto out;
	}
	/* The matrix: re-run the update; a manual look after 3 failures. */
	attempts = kv_int(x, "watchdog.refetch.attempts", 0);
	lastrun = kv_int(x, "watchdog.refetch.last", -1);
	if (attempts >= maxf) {
		check(x, "freshness", false, "CRITICAL", "manual", json_pack(
		    "{s:f, s:I, s:O}", "coverage", cov.coverage, "attempts",
		    (json_int_t)attempts, "stale", stale), "data stale (%d of "
		    "%d pairs current; stale: %s) after %lld re-fetches: a "
		    "person must look", cov.current, cov.counted, names.p,
		    (long long)attempts);
		goto out;
	}
	if (bt_conf_long("BT_AUTO_REFETCH") && (lastrun < 0 ||
	    now - lastrun >= every)) {
		bool ok = spawn(x, bt_conf("BT_REFETCH_CMD"), err) == 0;
		attempts++;
		action(x, "WARNING", "refetch", "store", ok, ok ? "data stale "
		    "(%d of %d pairs current): re-running the update, attempt "
		    "%lld of %lld: %s" : "%s", cov.current, cov.counted,
		    (long long)attempts, (long long)maxf, ok ?
		    bt_conf("BT_REFETCH_CMD") : err);
		kv_put_int(x, "watchdog.refetch.attempts", attempts);
		kv_put_int(x, "watchdog.refetch.last", now);
	}
	snprintf(buf, sizeof(buf), "%s", bt_conf_long("BT_AUTO_REFETCH") ?
	    "re-fetching" : "automatic re-fetch is off");
	check(x, "freshness", false, "CRITICAL", "stale", json_pack("{s:f, "
	    "s:I, s:O}", "coverage", cov.coverage, "attempts",
	    (json_int_t)attempts, "stale", stale), "data stale: %d of %d "
	    "pairs current (coverage %.1f%%, minimum %.0f%%); stale: %s (%s)",
	    cov.current, cov.counted, cov.coverage * 100,
	    bt_conf_double("BT_COVERAGE_MIN") * 100, names.p, buf);
out:
	json_decref(stale);
	bt_buf_free(&names);
	bt_cov_free(&cov);
}

/* ----------------------------------------------------------- disk space */

/*
 * Free space where bt writes: BT_HOME, and the store's and state file's
 * directories when they are elsewhere.  A full disk makes every write
 * fail, its own runs rows included; this says so in plain words.
 */
static void
check_disk(struct ctx *x)
{
	char *paths[3], *s, dir[PATH_MAX];
	struct statvfs sv;
	double freemb, min = bt_conf_double("BT_DISK_MIN_FREE_MB");
	double worst = -1;
	char where[PATH_MAX] = "";
	int i;

	paths[0] = strdup(bt_conf("BT_HOME"));
	paths[1] = bt_store_path();
	paths[2] = bt_state_path();
	for (i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s", paths[i]);
		if (i > 0 && (s = strrchr(dir, '/')) != NULL && s != dir)
			*s = '\0';
		if (statvfs(dir, &sv) == -1)
			continue;
		freemb = (double)sv.f_bavail * (double)sv.f_frsize / 1048576;
		if (worst < 0 || freemb < worst) {
			worst = freemb;
			snprintf(where, sizeof(where), "%s", dir);
		}
	}
	for (i = 0; i < 3; i++)
		free(paths[i]);
	if (worst < 0)
		return;
	if (worst < min)
		check(x, "disk", false, "CRITICAL", worst < 1 ? "full" : "low",
		    json_pack("{s:s, s:f}", "path", where, "free_mb",
		    round(worst * 10) / 10), "%s%s has %.1f MB free (limit %g MB, "
		    "BT_DISK_MIN_FREE_MB): writes fail with \"no space left on "
		    "device\"; free space there", worst < 1 ? "no space left on "
		    "device: " : "", where, worst, min);
	else
		check(x, "disk", true, NULL, "ok", json_pack("{s:s, s:f}",
		    "path", where, "free_mb", round(worst * 10) / 10),
		    "%s has %.0f MB free", where, worst);
}

/* -------------------------------------------------------- configuration */

/*
 * A bad value in bt.conf stops the programs that read its key; this
 * says which, and where (bt_conf_events() raises unknown keys).
 */
static void
check_config(struct ctx *x)
{
	const struct bt_conf_problem *p;
	struct bt_buf b = { 0 };
	char users[128];
	size_t i, n, bad = 0;

	n = bt_conf_problems(&p);
	for (i = 0; i < n; i++) {
		if (p[i].kind != BT_CONF_BAD)
			continue;
		bt_conf_users(p[i].users & ~(BT_USE_DIGEST | BT_USE_WATCHDOG),
		    users, sizeof(users));
		bt_buf_printf(&b, "%s%s: %s%s%s%s", bad++ ? "; " : "",
		    p[i].where, p[i].why, *users ? " (it stops " : "", users,
		    *users ? ")" : "");
	}
	if (bad == 0)
		check(x, "config", true, NULL, "ok", NULL,
		    "the configuration is sound");
	else
		check(x, "config", false, "CRITICAL", "bad", NULL, "%s; fix the "
		    "line (etc/bt.conf.example lists every key and its "
		    "default)", b.p);
	bt_buf_free(&b);
}

/* ----------------------------------------------------------- alert path */

/*
 * The alert path itself: an unsent CRITICAL older than
 * BT_ALERT_MAX_DELAY, bt-digest failing BT_DIGEST_MAX_FAILURES runs in a
 * row (or not running at all), a chat Telegram refuses.  Each is said
 * with its fix.  While it fails, the external heartbeat is not pinged, so
 * a healthchecks.io-style monitor alarms when delivery breaks.
 */
static void
check_alert_path(struct ctx *x)
{
	sqlite3_stmt *q;
	struct bt_buf b = { 0 };
	char err[BT_ERRLEN], t[32];
	int64_t now = bt_now_ms(), oldest = -1, lastrun = -1;
	int64_t maxd = (int64_t)(bt_conf_double("BT_ALERT_MAX_DELAY") * 1000);
	int64_t since = kv_int(x, "watchdog.since", now);
	int maxf = (int)bt_conf_long("BT_DIGEST_MAX_FAILURES"), fails = 0;
	int lastexit = 0;
	char *why = NULL;
	bool failing = true;

	/* Without Telegram, bt-digest prints alerts: nothing to deliver. */
	if (!bt_secret_set("TELEGRAM_BOT_TOKEN") &&
	    *bt_conf("TELEGRAM_CHAT_CRITICAL") == '\0' &&
	    *bt_conf("TELEGRAM_CHAT_WARNING") == '\0' &&
	    *bt_conf("TELEGRAM_CHAT_INFO") == '\0' &&
	    *bt_conf("TELEGRAM_BACKTEST_CHANNEL") == '\0') {
		x->alert_ok = true;
		check(x, "alert_path", true, NULL, "unconfigured", NULL,
		    "no Telegram configured: bt-digest prints alerts instead "
		    "of sending them");
		return;
	}
	if (x->st == NULL) {
		check(x, "alert_path", false, "CRITICAL", "no_state", NULL,
		    "the state file cannot be opened, so no alert can be "
		    "queued; see this program's stderr");
		return;
	}
	if ((q = bt_stmt(x->st, "SELECT min(ts) FROM events WHERE sent IS NULL "
	    "AND severity='CRITICAL'", err)) != NULL) {
		if (sqlite3_step(q) == SQLITE_ROW &&
		    sqlite3_column_type(q, 0) != SQLITE_NULL)
			oldest = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	if (oldest >= 0 && now - oldest > maxd)
		bt_buf_printf(&b, "%sthe oldest unsent CRITICAL is %lld min old "
		    "(raised %s; limit %g min, BT_ALERT_MAX_DELAY)", b.len ?
		    "; " : "", (long long)(now - oldest) / 60000,
		    bt_fmt_time(oldest, t), (double)maxd / 60000);
	/* bt-digest's last runs: failing in a row, or none lately. */
	if ((q = bt_stmt(x->st, "SELECT started, exit, json_extract(summary, "
	    "'$.error') FROM runs WHERE prog='bt-digest' ORDER BY id DESC "
	    "LIMIT ?1", err)) != NULL) {
		sqlite3_bind_int(q, 1, maxf);
		while (sqlite3_step(q) == SQLITE_ROW) {
			int64_t st = sqlite3_column_int64(q, 0);
			bool done = sqlite3_column_type(q, 1) != SQLITE_NULL;
			int e = sqlite3_column_int(q, 1);
			if (lastrun < 0) {
				lastrun = st;
				lastexit = e;
				if (sqlite3_column_text(q, 2) != NULL)
					why = strdup((const char *)
					    sqlite3_column_text(q, 2));
			}
			/* 75 is Telegram's "later"; the age check sees it. */
			if (failing && ((done && e != 0 && e != BT_EX_TEMPFAIL) ||
			    (!done && now - st > 120000)))
				fails++;
			else
				failing = false;
		}
		sqlite3_reset(q);
	}
	if (fails >= maxf)
		bt_buf_printf(&b, "%sbt-digest failed its last %d runs (exit %d%s"
		    "%s)", b.len ? "; " : "", fails, lastexit, why ? ": " : "",
		    why ? why : "");
	if (now - (lastrun >= 0 ? lastrun : since) > maxd && now - since > maxd)
		bt_buf_printf(&b, "%sbt-digest has not run since %s: is its "
		    "crontab line installed, and can it write BT_HOME?", b.len ?
		    "; " : "", lastrun >= 0 ? bt_fmt_time(lastrun, t) : "the "
		    "watchdog started");
	free(why);
	/* A chat whose latest message was refused, in the last day. */
	if ((q = bt_stmt(x->st, "SELECT s.chat, s.error, s.ts FROM sends s "
	    "WHERE s.ok=0 AND s.ts > ?1 AND s.id=(SELECT max(id) FROM sends "
	    "s2 WHERE s2.chat=s.chat) ORDER BY s.chat", err)) != NULL) {
		sqlite3_bind_int64(q, 1, now - 86400000);
		while (sqlite3_step(q) == SQLITE_ROW)
			bt_buf_printf(&b, "%sTelegram refuses chat %s (%s, since "
			    "%s): check the chat id in bt.conf and that the bot "
			    "is a member of the chat", b.len ? "; " : "",
			    sqlite3_column_text(q, 0), sqlite3_column_text(q, 1),
			    bt_fmt_time(sqlite3_column_int64(q, 2), t));
		sqlite3_reset(q);
	}
	x->alert_ok = b.len == 0;
	if (x->alert_ok)
		check(x, "alert_path", true, NULL, "ok", NULL, "alerts are "
		    "being delivered");
	else
		check(x, "alert_path", false, "CRITICAL", "failing", NULL,
		    "the alert path is failing: %s; the heartbeat ping is "
		    "withheld until it recovers", b.p);
	bt_buf_free(&b);
}

/* ---------------------------------------------------- dead-man per job */

/*
 * One job's verdict, worst first: overdue (no success within period +
 * grace: the dead-man's switch), missing (an hourly job with no run at
 * all within its period and a quarter hour: cron stopped, or the job
 * cannot write the state file, so its failures leave no row; a daily
 * job writes a row only when due, so its dead-man's switch covers it),
 * failed (its latest run exited with an error other than 75, "try again
 * later"), or ok.
 */
static void
job_verdict(struct ctx *x, const char *t, const char *name, const char *prog,
    const char *job, int64_t last, int64_t since, long period, long grace)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], ts[32], *why = NULL;
	int64_t now = bt_now_ms(), lastrun = -1;
	int lastexit = 0;
	bool ended = false;
	long quarter = grace < 15 ? grace : 15;

	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT started, exit, "
	    "json_extract(summary, '$.error') FROM runs WHERE prog=?1 AND "
	    "job=?2 ORDER BY started DESC, id DESC LIMIT 1", err)) != NULL) {
		sqlite3_bind_text(q, 1, prog, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, job, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			lastrun = sqlite3_column_int64(q, 0);
			ended = sqlite3_column_type(q, 1) != SQLITE_NULL;
			lastexit = sqlite3_column_int(q, 1);
			if (sqlite3_column_text(q, 2) != NULL)
				why = strdup((const char *)
				    sqlite3_column_text(q, 2));
		}
		sqlite3_reset(q);
	}
	if (now - (last >= 0 ? last : since) > (period + grace) * 60000LL)
		check(x, t, false, "CRITICAL", "overdue", json_pack(
		    "{s:s, s:o}", "job", name, "last_success", last >= 0 ?
		    json_string(bt_fmt_time(last, ts)) : json_null()),
		    "%s: no successful run %s%s (period %ld min + grace %ld "
		    "min): crashed, never started, or cron stopped", name,
		    last >= 0 ? "since " : "since the watchdog started at ",
		    bt_fmt_time(last >= 0 ? last : since, ts), period, grace);
	else if (period <= 60 && now - (lastrun >= 0 ? lastrun : since) >
	    (period + quarter) * 60000LL)
		check(x, t, false, "CRITICAL", "missing", json_pack("{s:s}",
		    "job", name), "%s: no run recorded since %s (expected every "
		    "%ld min): cron is not running it, or it cannot write the "
		    "state file (a full disk, or BT_HOME not writable by the "
		    "bt user); see its log", name, bt_fmt_time(lastrun >= 0 ?
		    lastrun : since, ts), period);
	else if (lastrun >= 0 && ended && lastexit != 0 && lastexit != 1 &&
	    lastexit != BT_EX_TEMPFAIL)
		check(x, t, false, "WARNING", "failed", json_pack("{s:s, s:i}",
		    "job", name, "exit", lastexit), "%s: its last run (started "
		    "%s) failed with exit %d%s%s", name, bt_fmt_time(lastrun, ts),
		    lastexit, why ? ": " : "", why ? why : "");
	else
		check(x, t, true, NULL, "ok", json_pack("{s:s}", "job", name),
		    "%s: last success %s", name, last >= 0 ?
		    bt_fmt_time(last, ts) : "none yet");
	free(why);
}


static void
check_jobs(struct ctx *x)
{
	char **jobs, name[128], prog[64], job[64], t[32], err[BT_ERRLEN];
	int n, i;
	long period, grace;
	int64_t since, last, now = bt_now_ms();
	sqlite3_stmt *q;
	bool paused;
	char *pp = bt_path("run/backtest.paused");

	paused = access(pp, F_OK) == 0 || !bt_conf_long("BACKTEST_ENABLED");
	free(pp);
	since = kv_int(x, "watchdog.since", -1);
	if (since < 0) {
		since = now;
		kv_put_int(x, "watchdog.since", now);
	}
	n = bt_conf_list("BT_WATCHDOG_JOBS", &jobs);
	for (i = 0; i < n; i++) {
		job[0] = '\0';
		if (sscanf(jobs[i], "%63[^:]:%ld:%ld", name, &period, &grace) !=
		    3 || period <= 0 || grace < 0) {
			bt_warnx("BT_WATCHDOG_JOBS: '%s' is not prog[/job]:"
			    "period:grace (minutes)", jobs[i]);
			x->exit = bt_exit_worse(x->exit, BT_EX_CONFIG);
			continue;
		}
		snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(name, "/"),
		    name);
		if (strchr(name, '/') != NULL)
			snprintf(job, sizeof(job), "%s", strchr(name, '/') + 1);
		snprintf(t, sizeof(t), "job:%s", name);
		if (strcmp(prog, "bt-backtest") == 0 && paused) {
			check(x, t, true, NULL, "paused", json_pack("{s:s}",
			    "job", name), "%s paused or disabled", name);
			continue;
		}
		last = -1;
		if (x->st != NULL && (q = bt_stmt(x->st, "SELECT max(started) "
		    "FROM runs WHERE prog=?1 AND job=?2 AND exit IN (0, 1)",
		    err)) != NULL) {
			sqlite3_bind_text(q, 1, prog, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, job, -1, SQLITE_STATIC);
			if (sqlite3_step(q) == SQLITE_ROW &&
			    sqlite3_column_type(q, 0) != SQLITE_NULL)
				last = sqlite3_column_int64(q, 0);
			sqlite3_reset(q);
		}
		job_verdict(x, t, name, prog, job, last, since, period, grace);
	}
	bt_list_free(jobs, n);
}

/* ----------------------------------------------- the external dead-man */

static void
check_ping(struct ctx *x)
{
	const char *url = bt_conf("BT_HEARTBEAT_URL");
	char err[BT_ERRLEN], *base, *slash, tmo[32];
	struct bt_http *h;
	struct bt_http_resp r;

	if (*url == '\0')
		return;
	bt_redact_add(url);
	if (!x->alert_ok || x->unrecorded) {
		json_t *rec = bt_rec("heartbeat_ping");
		json_object_set_new(rec, "check", json_string("heartbeat_ping"));
		json_object_set_new(rec, "state", json_string("withheld"));
		json_object_set_new(rec, "message", json_string(x->alert_ok ?
		    "not pinged: this run could not record its events" :
		    "not pinged: the alert path is failing"));
		bt_emit(rec);
		return;
	}
	if (x->dry) {
		check(x, "heartbeat_ping", true, NULL, "ok", NULL,
		    "not pinged (dry run)");
		return;
	}
	snprintf(tmo, sizeof(tmo), "%g", bt_conf_double("BT_HEARTBEAT_TIMEOUT"));
	bt_conf_set("BT_HTTP_TIMEOUT", tmo, err);
	bt_conf_set("BT_HTTP_CONNECT_TIMEOUT", tmo, err);
	if ((base = strdup(url)) == NULL)
		abort();
	slash = strstr(base, "://") ? strchr(strstr(base, "://") + 3, '/') :
	    NULL;
	if (slash != NULL)
		*slash = '\0';
	if ((h = bt_http_new(base, err)) == NULL) {
		check(x, "heartbeat_ping", false, "WARNING", "failed", NULL,
		    "BT_HEARTBEAT_URL: %s", err);
		free(base);
		return;
	}
	bt_http_get(h, slash ? url + (slash - base) : "/", NULL, &r);
	if (r.status >= 200 && r.status < 300)
		check(x, "heartbeat_ping", true, NULL, "ok", NULL, "pinged");
	else
		check(x, "heartbeat_ping", false, "WARNING", "failed", NULL,
		    "the heartbeat ping failed: %s", r.status ? "HTTP error" :
		    r.err);
	if (r.status != 0 && (r.status < 200 || r.status >= 300)) {
		/* The status only: the URL itself is a credential. */
	}
	bt_http_resp_free(&r);
	bt_http_free(h);
	free(base);
}

/* ------------------------------------------------------------------ main */

int
main(int argc, char *argv[])
{
	struct ctx x;
	char err[BT_ERRLEN], *spath;
	int ch, rc;

	memset(&x, 0, sizeof(x));
	x.argv0 = argv[0];
	/* The alert path runs on with the defaults of bad keys. */
	bt_conf_tolerate();
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-watchdog", err)) != 0 ||
	    (rc = bt_conf_load(err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (*bt_conf("BT_HEARTBEAT_URL") != '\0')
		bt_redact_add(bt_conf("BT_HEARTBEAT_URL"));
	while ((ch = getopt_long(argc, argv, "d:hnqv", longopts, NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case 'd':
			rc = bt_conf_set("BT_DB", optarg, err);
			break;
		case 'n':
			x.dry = true;
			break;
		case 'q':
			x.quiet = true;
			break;
		case 'v':
			x.verbose = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, BT_EX_USAGE);
		}
		if (rc != 0) {
			bt_warnx("%s: %s", argv[optind - 1], err);
			return rc;
		}
	}
	if (optind != argc)
		usage(stderr, BT_EX_USAGE);
	check_heartbeat(&x);
	spath = bt_state_path();
	rc = bt_open_state(spath, x.dry ? BT_DB_RO : BT_DB_CREATE, &x.st, err);
	free(spath);
	if (rc != 0) {
		bt_warnx("%s", err);
		if (!x.dry || rc != BT_EX_NOINPUT)
			x.exit = bt_exit_worse(x.exit, rc);
		x.st = NULL;
	}
	check_config(&x);
	if (!x.dry)
		bt_conf_events(x.st, false);
	check_store_lock(&x);
	check_trader(&x);
	check_backtest(&x);
	check_integrity(&x);
	check_freshness(&x);
	check_disk(&x);
	check_jobs(&x);
	check_alert_path(&x);
	check_ping(&x);
	bt_close(x.st);
	return bt_finish(bt_exit_worse(x.exit, bt_conf_status()));
}
