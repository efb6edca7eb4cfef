/*
 * bt_watch.c - the machinery of a bt-watchdog run, which every check of
 * bt_probe.c and bt_health.c goes through: the check line and its event,
 * the automatic action, the detached command, the run's facts in kv.
 *
 * Invariants:
 * - A condition raises an event when it appears, when it changes, and
 *   again every BT_WATCHDOG_REPEAT_HOURS while it lasts; the check lines
 *   of the minutes between carry the same event_id, so piping them into
 *   bt-digest sends nothing twice.  Its recovery is an INFO routed where
 *   the alert went.  What was raised is kept in kv `watchdog.NAME'.
 * - Every automatic action is written to logs/recovery.log, recorded in
 *   the actions table and raised as an event; in a dry run it is only
 *   printed, as what would be done.
 * - A spawned command runs detached, in its own session, with no lock of
 *   ours (every fd above 2 closed): it outlives the run and never holds
 *   run/write.lock or the crontab's flock.
 * - A dry run writes nothing: no kv, no event, no action, no process.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_state.h"
#include "bt_watch.h"

/* ------------------------------------------------------------- helpers */

int64_t
bt_watch_kv_int(struct bt_watch *x, const char *key, int64_t def)
{
	char *v = NULL, err[BT_ERRLEN];
	int64_t n = def;

	if (x->st != NULL && bt_kv_get(x->st, key, &v, err) == 0 && v != NULL)
		n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

char *
bt_watch_kv_str(struct bt_watch *x, const char *key)
{
	char *v = NULL, err[BT_ERRLEN];

	if (x->st != NULL)
		bt_kv_get(x->st, key, &v, err);
	return v;
}

void
bt_watch_kv_put(struct bt_watch *x, const char *key, const char *val)
{
	char err[BT_ERRLEN];

	if (x->dry || x->st == NULL)
		return;
	if (bt_kv_set(x->st, key, val, err) != 0) {
		bt_warnx("%s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_IOERR);
	}
}

void
bt_watch_kv_put_int(struct bt_watch *x, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	bt_watch_kv_put(x, key, buf);
}

/* Alive and not a zombie. */
bool
bt_watch_alive(long pid)
{
	char st;

	return bt_proc_stat(pid, &st, NULL, 0, 0) == 0 && st != 'Z' &&
	    st != 'X' && st != 'x';
}

bool
bt_watch_same(long pid, int64_t start_ticks)
{
	char st;
	int64_t v;

	return bt_proc_stat(pid, &st, &v, 22, 1) == 0 && st != 'Z' &&
	    st != 'X' && st != 'x' && v == start_ticks;
}

json_t *
bt_watch_read_json(const char *path, char *err)
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

int64_t
bt_watch_json_time(json_t *o, const char *key)
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
 * Records the check line `rec' as an event, with an event_id that hashes
 * name, state, message and time (stable under BT_NOW), and remembers in
 * kv `key' what was raised.
 */
static void
raise_event(struct bt_watch *x, json_t *rec, const char *key,
    const char *name, bool ok, const char *sev, const char *state,
    const char *msg, int64_t now)
{
	char id[40], err[BT_ERRLEN], ts[32], *s;
	json_t *save;
	uint64_t h;

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
		return;
	}
	save = json_pack("{s:s, s:s, s:s, s:s}", "state", ok ? "ok" : state,
	    "event_id", id, "raised", bt_fmt_time(now, ts), "severity",
	    ok ? "INFO" : sev);
	s = json_dumps(save, JSON_COMPACT);
	bt_watch_kv_put(x, key, s);
	free(s);
	json_decref(save);
}

/*
 * The condition is raised when it is new or changed, when the repeat
 * interval has passed, and when it recovers; the lines between carry the
 * event_id raised last.
 */
void
bt_watch_check(struct bt_watch *x, const char *name, bool ok,
    const char *sev, const char *state, json_t *extra, const char *fmt, ...)
{
	char key[160], msg[1024], *prev;
	const char *pstate = NULL, *pid = NULL, *k;
	json_t *rec, *pj = NULL, *v;
	int64_t raised = -1, now = bt_now_ms();
	int64_t repeat = (int64_t)(bt_conf_double("BT_WATCHDOG_REPEAT_HOURS") *
	    3600000);
	bool raise = false, recovered = false;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bt_redact(msg);
	snprintf(key, sizeof(key), "watchdog.%s", name);
	if ((prev = bt_watch_kv_str(x, key)) != NULL)
		pj = json_loads(prev, 0, NULL);
	free(prev);
	pstate = json_string_value(json_object_get(pj, "state"));
	pid = json_string_value(json_object_get(pj, "event_id"));
	raised = bt_watch_json_time(pj, "raised");
	if (!ok) {
		raise = pstate == NULL || strcmp(pstate, state) != 0 ||
		    pid == NULL || (repeat > 0 && now - raised >= repeat);
	} else if (pstate != NULL && strcmp(pstate, "ok") != 0)
		recovered = raise = true;

	rec = bt_rec(name);
	json_object_set_new(rec, "check", json_string(name));
	json_object_set_new(rec, "ok", json_boolean(ok));
	json_object_set_new(rec, "state", json_string(state));
	if (!ok || recovered) {
		json_object_set_new(rec, "severity", json_string(recovered ?
		    "INFO" : sev));
		json_object_set_new(rec, "symbol", json_null());
		json_object_set_new(rec, "tf", json_null());
	}
	if (recovered) {
		char m2[1100];
		snprintf(m2, sizeof(m2), "recovered (was %s): %s", pstate, msg);
		json_object_set_new(rec, "message", bt_jstr(m2));
		/* The all-clear goes where the alert went (bt-digest(1)). */
		json_object_set_new(rec, "route", json_string(
		    json_string_value(json_object_get(pj, "severity")) ?
		    json_string_value(json_object_get(pj, "severity")) :
		    "CRITICAL"));
	} else
		json_object_set_new(rec, "message", bt_jstr(msg));
	if (extra != NULL) {
		json_object_foreach(extra, k, v)
			json_object_set(rec, k, v);
		json_decref(extra);
	}
	if (raise && !x->dry && x->st != NULL)
		raise_event(x, rec, key, name, ok, sev, state, msg, now);
	else if (!ok && pid != NULL)
		json_object_set_new(rec, "event_id", json_string(pid));
	if (!ok && !x->dry && x->st == NULL)
		x->unrecorded = true;
	if (!ok) {
		x->exit = bt_exit_worse(x->exit, BT_EX_FOUND);
		x->failing++;
	}
	if (strcmp(name, "backtest") == 0)
		snprintf(x->backtest, sizeof(x->backtest), "%s", state);
	if (!x->quiet || !ok || recovered)
		bt_emit(rec);
	else
		json_decref(rec);
	json_decref(pj);
}

void
bt_watch_action(struct bt_watch *x, const char *sev, const char *name,
    const char *target, bool ok, const char *fmt, ...)
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
		json_object_set_new(rec, "message", bt_jstr(msg));
		bt_emit(rec);
		return;
	}
	rec = bt_rec("recovery");
	json_object_set_new(rec, "severity", json_string(sev));
	json_object_set_new(rec, "action", json_string(name));
	json_object_set_new(rec, "target", json_string(target));
	json_object_set_new(rec, "ok", json_boolean(ok));
	json_object_set_new(rec, "message", bt_jstr(msg));
	if ((line = bt_json_line(rec)) != NULL) {
		append_line("logs/recovery.log", line);
		free(line);
	}
	json_decref(rec);
	if (x->st != NULL && bt_begin(x->st, err) == 0) {
		if ((s = bt_stmt(x->st, "INSERT INTO actions(ts, prog, action, "
		    "target, ok, detail) VALUES (?1, 'bt-watchdog', ?2, ?3, "
		    "?4, ?5)", err)) != NULL) {
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
int
bt_watch_spawn(struct bt_watch *x, const char *cmd, char *err)
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
