/*
 * bt_job.c - the daily backtest as a job (bt-backtest --job): whether it
 * runs, run/backtest.status and its heartbeat, its stop on SIGTERM,
 * SIGINT or BACKTEST_TIMEOUT_MINUTES, and the results file.
 *
 * Invariants:
 * - No new session: the status records getpgrp(), so a signal to the
 *   group also ends the crontab line's flock and nice (contracts.md).
 * - The status file is replaced atomically at every change and at least
 *   every BT_HEARTBEAT_SECONDS, from the work loop itself (bt_job_tick()
 *   between items): no thread and no timer, so a loop that hangs stops
 *   beating and bt-watchdog sees it.
 * - The results go to a temporary file renamed on success, the previous
 *   kept as .prev by a hard link taken first, so a results file exists at
 *   every instant; a run that stops early writes the incomplete name.
 * - The status and results files, and beside the results equity.csv and
 *   equity.png, are the job's only writes; the store and the state file
 *   are never written.  The picture is optional: without gnuplot or its
 *   script there is none, and nothing fails.
 *
 * The choice: a status or results file that cannot be written does not
 * stop the job from recording its end, so this module says so itself on
 * stderr (bt_warnx) and goes on, where other library code returns the
 * reason to its caller.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_job.h"
#include "bt_lock.h"
#include "bt_state.h"

static volatile sig_atomic_t got_signal;

void
bt_job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->held = -1;
}

void
bt_job_free(struct job *j)
{
	free(j->status_path);
	free(j->results_path);
}

const char *
bt_job_state(const struct job *j, int code)
{
	if (j->stop != NULL)
		return strcmp(j->stop, "timeout") == 0 ? "timeout" : "stopped";
	return code == 0 ? "done" : "failed";
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static int
status_write(struct job *j, const char *state, int code,
    const struct run *r)
{
	char ts[32], err[BT_ERRLEN], *s;
	json_t *o;
	int rc;

	o = json_object();
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "pgid", json_integer(getpgrp()));
	json_object_set_new(o, "start_ticks",
	    json_integer(bt_proc_start_ticks(getpid())));
	json_object_set_new(o, "boot_id", json_string(bt_boot_id()));
	json_object_set_new(o, "started",
	    json_string(bt_fmt_time(j->started, ts)));
	json_object_set_new(o, "heartbeat",
	    json_string(bt_fmt_time(bt_now_ms(), ts)));
	/* CLOCK_MONOTONIC, comparable on the same boot (ops.md). */
	json_object_set_new(o, "heartbeat_mono", json_real(bt_mono()));
	json_object_set_new(o, "beats", json_integer(++j->beats));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "exit", strcmp(state, "running") == 0 ?
	    json_null() : json_integer(code));
	json_object_set_new(o, "ended", strcmp(state, "running") == 0 ?
	    json_null() : json_string(bt_fmt_time(bt_now_ms(), ts)));
	json_object_set_new(o, "results", json_string(j->results_path));
	json_object_set_new(o, "progress", json_pack("{s:I, s:I}", "done",
	    (json_int_t)(r != NULL ? r->done : 0), "total",
	    (json_int_t)(r != NULL ? (size_t)r->in.nsyms : 0)));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	rc = bt_write_atomic(j->status_path, s, strlen(s), 0640, err);
	free(s);
	if (rc == -1)
		bt_warnx("%s", err);
	j->beat_at = bt_mono();
	return rc;
}

/*
 * A test hook, never needed in production: BT_TEST_HOLD="N[,M...]:dir"
 * makes the job pause after N symbols: it writes its pid into the FIFO
 * dir/out, then waits until a line is written into the FIFO dir/in, a
 * signal arrives, or its timeout expires.  Both FIFOs are opened read and
 * write, so nothing here blocks on a peer that never comes.  Tests kill,
 * signal or time out the job at a known point this way without sleeping.
 */
static void
test_hold(struct job *j, const struct run *r)
{
	const char *spec, *dir;
	char buf[64], path[PATH_MAX], *list, *tok, *save = NULL;
	bool match = false;
	struct pollfd pfd;
	double left;
	int in, out;
	ssize_t n;

	if ((spec = getenv("BT_TEST_HOLD")) == NULL ||
	    (dir = strchr(spec, ':')) == NULL || j->held == (long)r->done)
		return;
	if ((list = strndup(spec, (size_t)(dir - spec))) == NULL)
		abort();
	dir++;
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if (strtol(tok, NULL, 10) == (long)r->done)
			match = true;
	free(list);
	if (!match)
		return;
	j->held = (long)r->done;
	snprintf(path, sizeof(path), "%s/in", dir);
	if ((in = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return;
	snprintf(path, sizeof(path), "%s/out", dir);
	if ((out = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		close(in);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(out, buf, (size_t)n) != n)
		bt_warnx("BT_TEST_HOLD: write: %s", strerror(errno));
	pfd.fd = in;
	pfd.events = POLLIN;
	pfd.revents = 0;
	left = j->timeout - (bt_mono() - j->t0);
	if (!got_signal && left > 0)
		(void)poll(&pfd, 1, (int)(left * 1000) + 1);
	if (pfd.revents & POLLIN)
		(void)read(in, buf, sizeof(buf));
	/* The pid stays readable while `out' is open: until here. */
	close(out);
	close(in);
}

int
bt_job_tick(struct job *j, const struct run *r)
{
	if (!j->on)
		return 0;
	if (j->stop == NULL && bt_mono() - j->beat_at >= j->beat_every)
		status_write(j, "running", 0, r);
	if (j->stop == NULL)
		test_hold(j, r);
	if (j->stop == NULL && got_signal)
		j->stop = got_signal == SIGINT ? "SIGINT" : "SIGTERM";
	if (j->stop == NULL && bt_mono() - j->t0 >= j->timeout)
		j->stop = "timeout";
	return j->stop != NULL ? -1 : 0;
}

/*
 * contracts.md "Due": the daily slot is the latest BACKTEST_START_HOUR:
 * MINUTE at or before now; the crontab's lines one and two hours later
 * are retries of it.  Due unless a run that succeeded started at or after
 * that slot, as the status file or the results file's meta records it.
 */
static bool
is_due(const struct job *j, int64_t *slot_out, char *why, size_t len)
{
	int64_t now = bt_now_ms(), slot, started;
	json_t *o, *v;
	json_error_t je;
	const char *st;
	char ts[32];

	slot = now / BT_DAY_MS * BT_DAY_MS +
	    (bt_conf_long("BACKTEST_START_HOUR") * 60 +
	    bt_conf_long("BACKTEST_START_MINUTE")) * 60000;
	if (slot > now)
		slot -= BT_DAY_MS;
	*slot_out = slot;
	if ((o = json_load_file(j->status_path, 0, &je)) != NULL) {
		st = json_string_value(json_object_get(o, "state"));
		v = json_object_get(o, "started");
		if (st != NULL && strcmp(st, "done") == 0 &&
		    json_is_string(v) && bt_parse_time(json_string_value(v),
		    &started) == 0 && started >= slot) {
			snprintf(why, len, "the run started %s succeeded",
			    json_string_value(v));
			json_decref(o);
			return false;
		}
		json_decref(o);
	}
	if ((o = json_load_file(j->results_path, 0, &je)) != NULL) {
		v = json_object_get(json_object_get(o, "meta"), "started");
		if (json_is_true(json_object_get(json_object_get(o, "meta"),
		    "complete")) && json_is_string(v) &&
		    bt_parse_time(json_string_value(v), &started) == 0 &&
		    started >= slot) {
			snprintf(why, len, "%s holds a complete run started %s",
			    j->results_path, json_string_value(v));
			json_decref(o);
			return false;
		}
		json_decref(o);
	}
	snprintf(why, len, "no successful run since the slot %s",
	    bt_fmt_time(slot, ts));
	return true;
}

/* True when the job does nothing this time (it says why), with *code. */
static bool
skip(const struct job *j, bool if_due, bool files, int *code)
{
	char err[BT_ERRLEN], ts[32], why[PATH_MAX + 128], *p;
	int64_t slot;
	json_t *l;

	*code = BT_EX_TEMPFAIL;
	if (bt_conf_long("BACKTEST_ENABLED") == 0) {
		bt_event(NULL, "INFO", "disabled", NULL, NULL, NULL,
		    "the daily backtest is disabled (BACKTEST_ENABLED=0); "
		    "nothing done");
		return true;
	}
	p = bt_path("run/backtest.paused");
	if (access(p, F_OK) == 0) {
		bt_event(NULL, "WARNING", "paused", NULL, NULL,
		    json_pack("{s:s}", "file", p), "the daily backtest is "
		    "paused (%s exists); nothing done; remove it to resume", p);
		free(p);
		return true;
	}
	free(p);
	if (if_due && !is_due(j, &slot, why, sizeof(why))) {
		l = bt_rec("not_due");
		json_object_set_new(l, "slot",
		    json_string(bt_fmt_time(slot, ts)));
		json_object_set_new(l, "message", json_string(why));
		bt_emit(l);
		*code = 0;
		return true;
	}
	if (bt_store_locked(err, sizeof(err)) && !files) {
		bt_event(NULL, "WARNING", "store_locked", NULL, NULL, NULL,
		    "the store is being restored (db/LOCKED, %s); the backtest "
		    "runs after it", err);
		return true;
	}
	return false;
}

bool
bt_job_start(struct job *j, double t0, bool if_due, bool files, int *code,
    char *err)
{
	struct sigaction sa;
	char *p;
	int rc;

	*err = '\0';
	j->on = true;
	j->status_path = bt_path("run/backtest.status");
	j->results_path = *bt_conf("BACKTEST_RESULTS") != '\0' ?
	    strdup(bt_conf("BACKTEST_RESULTS")) :
	    bt_path("results/backtest_results.json");
	j->t0 = t0;
	j->started = bt_now_ms();
	j->beat_every = bt_conf_double("BT_HEARTBEAT_SECONDS");
	j->timeout = bt_conf_double("BACKTEST_TIMEOUT_MINUTES") * 60;
	if (skip(j, if_due, files, code))
		return false;
	p = bt_path("run");
	rc = bt_mkdirs(p, 0750, err);
	free(p);
	if (rc == -1) {
		*code = BT_EX_CANTCREAT;
		return false;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits end */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	status_write(j, "running", 0, NULL);
	return true;
}

/* The results file's meta: what ran, on what, how it ended. */
static json_t *
results_meta(const struct job *j, const struct run *r, bool complete)
{
	json_t *meta = json_object(), *thr, *exj;
	char ts[32];

	json_object_set_new(meta, "time",
	    json_string(bt_fmt_time(bt_now_ms(), ts)));
	json_object_set_new(meta, "started",
	    json_string(bt_fmt_time(j->started, ts)));
	json_object_set_new(meta, "complete", json_boolean(complete));
	json_object_set_new(meta, "stopped", j->stop != NULL ?
	    json_string(j->stop) : json_null());
	json_object_set_new(meta, "engine_version", json_string(BT_VERSION));
	json_object_set_new(meta, "mode", json_string(bt_exec_mode(&r->ex)));
	json_object_set_new(meta, "timeframe", json_string(r->in.tf));
	json_object_set_new(meta, "strategy",
	    json_string(bt_strats[r->st.id].name));
	json_object_set_new(meta, "params", bt_params_json(r->st.id,
	    r->st.par));
	if (r->st.sigfile != NULL)
		json_object_set_new(meta, "signals",
		    json_string(r->st.sigfile));
	json_object_set_new(meta, "from", r->data_from >= 0 ?
	    json_string(bt_fmt_time(r->data_from, ts)) : json_null());
	json_object_set_new(meta, "to", r->data_to >= 0 ?
	    json_string(bt_fmt_time(r->data_to, ts)) : json_null());
	json_object_set_new(meta, "candles", r->in.from >= 0 ? json_null() :
	    json_integer(r->in.last));
	json_object_set_new(meta, "warmup", r->in.warmup < 0 ?
	    json_string("all") : json_integer(r->in.warmup));
	json_object_set_new(meta, "symbols_requested",
	    json_integer(r->in.nsyms));
	json_object_set_new(meta, "symbols_done",
	    json_integer((json_int_t)r->nres));
	json_object_set_new(meta, "symbols_skipped",
	    json_integer((json_int_t)r->skipped));
	exj = json_object();
	json_object_set_new(exj, "cash", bt_jnum(r->ex.cash));
	json_object_set_new(exj, "fee_bps", bt_jnum(r->ex.fee * 1e4));
	json_object_set_new(exj, "fee_fixed", bt_jnum(r->ex.fixed));
	json_object_set_new(exj, "slippage_bps", bt_jnum(r->ex.slip * 1e4));
	json_object_set_new(exj, "size", bt_jnum(r->ex.size));
	json_object_set_new(exj, "lot", bt_jnum(r->ex.lot));
	json_object_set_new(exj, "shorts", json_boolean(r->ex.shorts));
	json_object_set_new(meta, "execution", exj);
	thr = json_object();
	json_object_set_new(thr, "min_sharpe",
	    bt_jnum(bt_conf_double("BACKTEST_MIN_SHARPE")));
	json_object_set_new(thr, "max_drawdown_pct",
	    bt_jnum(bt_conf_double("BACKTEST_MAX_DRAWDOWN_PCT")));
	json_object_set_new(thr, "min_trades",
	    json_integer(bt_conf_long("BACKTEST_MIN_TRADES")));
	json_object_set_new(meta, "thresholds", thr);
	json_object_set_new(meta, "sharpe", json_string("annualised "
	    "geometric return / compounded annualised volatility, "
	    "backtesting.py's"));
	if (!bt_now_frozen())
		json_object_set_new(meta, "elapsed",
		    json_real(round((bt_mono() - j->t0) * 1000) / 1000));
	return meta;
}

/* The results file (contracts.md): meta, portfolio, symbols, signals. */
static json_t *
results_json(const struct job *j, const struct run *r, json_t *pm,
    bool complete)
{
	json_t *o = json_object(), *syms, *sv;
	const struct symres *k;

	json_object_set_new(o, "meta", results_meta(j, r, complete));
	json_object_set_new(o, "portfolio", pm != NULL ? json_incref(pm) :
	    json_null());
	syms = json_object();
	sv = json_array();
	for (k = r->res; k < r->res + r->nres; k++) {
		json_object_set(syms, k->symbol, k->metrics);
		json_array_append_new(sv, json_pack("{s:s, s:s, s:o, s:o, "
		    "s:b, s:O}", "symbol", k->symbol, "strategy",
		    bt_strats[r->st.id].name, "timestamp", k->has_sig ?
		    json_integer(k->sig_t) : json_null(), "position",
		    k->has_sig ? bt_jnum(k->sig_pos) : json_real(0),
		    "passed", k->passed, "reasons", k->reasons));
	}
	json_object_set_new(o, "symbols", syms);
	json_object_set_new(o, "signals_validated", sv);
	return o;
}

/*
 * Writes backtest_results.json.tmp, then renames it onto `final': the
 * results file (the previous one kept as .prev, by a hard link taken
 * first, so a results file exists at every instant) or the incomplete
 * name.  0 or an exit code.
 */
static int
write_results(const struct job *j, json_t *o, const char *final)
{
	char tmp[PATH_MAX], prev[PATH_MAX], dir[PATH_MAX], err[BT_ERRLEN];
	char *s, *slash;
	size_t len;
	ssize_t w;
	int fd;

	snprintf(dir, sizeof(dir), "%s", j->results_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (bt_mkdirs(dir, 0750, err) == -1) {
		bt_warnx("%s", err);
		return BT_EX_CANTCREAT;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->results_path);
	if ((s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15))) == NULL)
		abort();
	len = strlen(s);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd == -1) {
		bt_warnx("create %s: %s", tmp, strerror(errno));
		free(s);
		return BT_EX_CANTCREAT;
	}
	w = write(fd, s, len);
	if (w != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		bt_warnx("write %s: %s", tmp, w < 0 || errno ? strerror(errno) :
		    "short write");
		close(fd);
		unlink(tmp);
		free(s);
		return BT_EX_IOERR;
	}
	free(s);
	if (close(fd) == -1) {
		bt_warnx("close %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return BT_EX_IOERR;
	}
	if (strcmp(final, j->results_path) == 0) {
		snprintf(prev, sizeof(prev), "%s.prev", j->results_path);
		if (unlink(prev) == -1 && errno != ENOENT)
			bt_warnx("unlink %s: %s", prev, strerror(errno));
		if (link(j->results_path, prev) == -1 && errno != ENOENT)
			bt_warnx("keep %s: %s", prev, strerror(errno));
	}
	if (rename(tmp, final) == -1) {
		bt_warnx("rename %s to %s: %s", tmp, final, strerror(errno));
		unlink(tmp);
		return BT_EX_IOERR;
	}
	if (bt_fsync_dir(final, err) == -1)
		bt_warnx("%s", err);
	return 0;
}

/* backtest_results.incomplete_YYYYMMDDTHHMMSSZ.json beside the results. */
static void
incomplete_path(const struct job *j, char *path, size_t len)
{
	char *slash, stamp[32], ts[32];

	bt_fmt_time(bt_now_ms(), ts);
	snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts,
	    ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);
	snprintf(path, len, "%s", j->results_path);
	if ((slash = strrchr(path, '/')) != NULL)
		slash[1] = '\0';
	else
		path[0] = '\0';
	snprintf(path + strlen(path), len - strlen(path),
	    "backtest_results.incomplete_%s.json", stamp);
}

/* A gnuplot string: in single quotes, a quote doubled. */
static void
gp_quote(struct bt_buf *b, const char *s)
{
	bt_buf_add(b, "'", 1);
	for (; *s != '\0'; s++)
		if (*s == '\'')
			bt_buf_add(b, "''", 2);
		else
			bt_buf_add(b, s, 1);
	bt_buf_add(b, "'", 1);
}

/*
 * gnuplot draws `csv' into `png' with the script of BACKTEST_EQUITY_PLOT
 * (scripts/equity.gp, wide=1 for this file's columns), through a
 * temporary file renamed when it succeeds.  No gnuplot, no script, a
 * failure or a minute gone: no picture, a line on stderr at most.
 */
static void
plot(const char *csv, const char *png)
{
	const char *script = bt_conf("BACKTEST_EQUITY_PLOT");
	char tmp[PATH_MAX];
	struct bt_buf e = { 0 };
	double t0 = bt_mono();
	pid_t pid, w = 0;
	int status = 0, fd;

	if (*script == '\0' || access(script, R_OK) == -1)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", png);
	bt_buf_printf(&e, "in=");
	gp_quote(&e, csv);
	bt_buf_printf(&e, "; out=");
	gp_quote(&e, tmp);
	bt_buf_printf(&e, "; wide=1");
	bt_buf_add(&e, "", 1);
	if ((pid = fork()) == 0) {
		/* stdout carries JSON lines: gnuplot's goes to /dev/null. */
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execlp("gnuplot", "gnuplot", "-e", e.p, script, (char *)NULL);
		_exit(127);
	}
	bt_buf_free(&e);
	while (pid > 0 && (w = waitpid(pid, &status, WNOHANG)) == 0 &&
	    bt_mono() - t0 < 60)
		bt_sleep(0.01);
	if (pid > 0 && w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (pid > 0 && w == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 && rename(tmp, png) == 0)
		return;
	unlink(tmp);
	if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 127))
		bt_warnx("gnuplot %s: no %s", script, png);
}

/*
 * Beside the results: equity.csv, the portfolio's equity per bar (and
 * each symbol's), then equity.png drawn from it.
 */
static void
equity_files(const struct job *j, const struct run *r)
{
	char dir[PATH_MAX], csv[PATH_MAX], png[PATH_MAX], err[BT_ERRLEN];
	char **names, *s, *slash;
	size_t len, k;
	FILE *fp;

	if (r->np == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", j->results_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(csv, sizeof(csv), "%s/equity.csv", dir);
	snprintf(png, sizeof(png), "%s/equity.png", dir);
	names = bt_xcalloc(r->nres, sizeof(*names));
	for (k = 0; k < r->nres; k++)
		names[k] = (char *)r->res[k].symbol;
	if ((fp = open_memstream(&s, &len)) == NULL)
		abort();
	bt_write_curve(fp, r->pt, r->pe, r->np, names, r->ps, r->nres);
	fclose(fp);
	free(names);
	if (bt_write_atomic(csv, s, len, 0640, err) == -1)
		bt_warnx("%s", err);
	else
		plot(csv, png);
	free(s);
}

int
bt_job_end(struct job *j, const struct run *r, json_t *pm, int code)
{
	char path[PATH_MAX], why[128];
	json_t *o;
	int rc;
	const char *state;

	if (j->stop != NULL) {
		incomplete_path(j, path, sizeof(path));
		o = results_json(j, r, pm, false);
		rc = write_results(j, o, path);
		json_decref(o);
		code = bt_exit_worse(BT_EX_TEMPFAIL, rc);
		if (strcmp(j->stop, "timeout") == 0)
			snprintf(why, sizeof(why), "the daily backtest timed "
			    "out after %g minutes",
			    bt_conf_double("BACKTEST_TIMEOUT_MINUTES"));
		else
			snprintf(why, sizeof(why), "the daily backtest was "
			    "stopped by %s", j->stop);
		bt_event(NULL, "WARNING", bt_job_state(j, code), NULL,
		    r->in.tf, json_pack("{s:s, s:I, s:I}", "incomplete", path,
		    "done", (json_int_t)r->nres, "total",
		    (json_int_t)r->in.nsyms), "%s (%zu of %d symbols); partial "
		    "results in %s", why, r->nres, r->in.nsyms, path);
	} else if (code == 0) {
		o = results_json(j, r, pm, true);
		code = write_results(j, o, j->results_path);
		json_decref(o);
		if (code == 0)
			equity_files(j, r);
	}
	state = bt_job_state(j, code);
	if (strcmp(state, "failed") == 0)
		bt_event(NULL, "CRITICAL", "backtest_failed", NULL, r->in.tf,
		    json_pack("{s:i}", "exit", code), "the daily backtest "
		    "failed with exit %d; %s keeps the previous results", code,
		    j->results_path);
	status_write(j, state, code, r);
	return code;
}

