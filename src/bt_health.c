/*
 * bt_health.c - the watchdog's checks of everything but the backtest
 * (bt_probe.c): the scheduler heartbeat it touches, the configuration,
 * db/LOCKED, the live trader, the store's integrity and the automatic
 * restore, the data's freshness and the re-fetch, free disk space, the
 * dead-man's switch and the failed and missing runs of each scheduled
 * job, the alert path itself, and the external heartbeat ping.
 *
 * Invariants:
 * - Each check says its verdict through bt_watch_check(), so it raises
 *   an event only on a change (bt_watch.c).
 * - Every automatic action is switchable (BT_AUTO_RESTORE,
 *   BT_AUTO_REFETCH) and never forces anything: a restore waits for the
 *   live trader to be down, and raises CRITICAL meanwhile.  Re-fetches
 *   and restores run detached (bt_watch_spawn()).
 * - The external heartbeat is pinged only while the alert path is
 *   healthy and this run could record its events, so a monitor of the
 *   ping alarms when delivery breaks.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_alerts.h"
#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_health.h"
#include "bt_http.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_probe.h"

/* ------------------------------------------------------------ heartbeat */

void
bt_health_heartbeat(struct bt_watch *x)
{
	char *path = bt_path("run/scheduler.heartbeat"), *dir = bt_path("run");
	char err[BT_ERRLEN], ts[32];
	json_t *hb;
	char *s;

	if (x->dry) {
		bt_watch_check(x, "scheduler_heartbeat", true, NULL, "ok", NULL,
		    "not touched (dry run)");
		goto out;
	}
	hb = json_pack("{s:s, s:I, s:s}", "ts", bt_fmt_time(bt_now_ms(), ts),
	    "pid", (json_int_t)getpid(), "boot_id", bt_boot_id());
	s = json_dumps(hb, JSON_COMPACT);
	json_decref(hb);
	if (bt_mkdirs(dir, 0750, err) == -1 ||
	    bt_write_atomic(path, s, strlen(s), 0640, err) == -1) {
		bt_watch_check(x, "scheduler_heartbeat", false, "CRITICAL",
		    "failed", NULL, "cannot touch run/scheduler.heartbeat: %s",
		    err);
		x->exit = bt_exit_worse(x->exit, BT_EX_IOERR);
	} else
		bt_watch_check(x, "scheduler_heartbeat", true, NULL, "ok", NULL,
		    "touched");
	free(s);
out:
	free(path);
	free(dir);
}

/* -------------------------------------------------------- configuration */

/*
 * A bad value in bt.conf stops the programs that read its key; this
 * says which, and where (bt_conf_events() raises unknown keys).
 */
void
bt_health_config(struct bt_watch *x)
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
		bt_watch_check(x, "config", true, NULL, "ok", NULL,
		    "the configuration is sound");
	else
		bt_watch_check(x, "config", false, "CRITICAL", "bad", NULL,
		    "%s; fix the line (etc/bt.conf.example lists every key and "
		    "its default)", b.p);
	bt_buf_free(&b);
}

/* ----------------------------------------------------------- db/LOCKED */

void
bt_health_store_lock(struct bt_watch *x)
{
	char err[BT_ERRLEN];
	const char *boot, *op;
	json_t *o;
	long pid;
	bool alive;
	char *path;

	if (!bt_store_locked(NULL, 0)) {
		bt_watch_check(x, "store_lock", true, NULL, "ok", NULL,
		    "db/LOCKED is absent");
		return;
	}
	path = bt_path("db/LOCKED");
	o = bt_watch_read_json(path, err);
	free(path);
	pid = (long)json_integer_value(json_object_get(o, "pid"));
	boot = json_string_value(json_object_get(o, "boot_id"));
	alive = o != NULL && bt_watch_same(pid,
	    json_integer_value(json_object_get(o, "start_ticks"))) &&
	    boot != NULL && strcmp(boot, bt_boot_id()) == 0;
	op = json_string_value(json_object_get(o, "op"));
	if (alive)
		bt_watch_check(x, "store_lock", true, NULL, "restoring",
		    json_pack("{s:I}", "pid", (json_int_t)pid), "a %s by pid "
		    "%ld is running", op ? op : "restore", pid);
	else
		bt_watch_check(x, "store_lock", false, "CRITICAL", "owner_gone",
		    json_pack("{s:I}", "pid", (json_int_t)pid), "db/LOCKED "
		    "is present but its owner (pid %ld) is gone: every writer "
		    "of the store refuses to run; finish with bt-backup "
		    "--restore, which takes the lock over", pid);
	json_decref(o);
}

/* ----------------------------------------------------------- the trader */

/*
 * Is the live trader down: its pid file names no live process, or its
 * heartbeat file is older than BT_TRADER_HEARTBEAT_MAX_AGE?  Says why;
 * *pid is the pid file's pid (0 without one).
 */
static bool
trader_dead(const char *pf, const char *hf, long *pid, char *why,
    size_t len)
{
	char err[BT_ERRLEN], *buf;
	size_t n;
	struct stat sb;
	int64_t age, max = bt_conf_long("BT_TRADER_HEARTBEAT_MAX_AGE") * 1000;

	if (*pf != '\0') {
		if ((buf = bt_read_file(pf, 4096, &n, err)) == NULL) {
			snprintf(why, len, "pid file %s", err);
			return true;
		}
		*pid = strtol(buf, NULL, 10);
		free(buf);
		if (!bt_watch_alive(*pid)) {
			snprintf(why, len, "pid %ld from %s is gone", *pid, pf);
			return true;
		}
	}
	if (*hf == '\0')
		return false;
	if (stat(hf, &sb) == -1) {
		snprintf(why, len, "heartbeat %s: %s", hf, strerror(errno));
		return true;
	}
	age = bt_now_ms() - ((int64_t)sb.st_mtim.tv_sec * 1000 +
	    sb.st_mtim.tv_nsec / 1000000);
	if (age <= max)
		return false;
	snprintf(why, len, "heartbeat %s is %llds old (limit %llds)", hf,
	    (long long)age / 1000, (long long)max / 1000);
	return true;
}

/* A dead trader pauses the backtest, once; bt_probe.c stops a run. */
void
bt_health_trader(struct bt_watch *x)
{
	const char *pf = bt_conf("BT_TRADER_PIDFILE");
	const char *hf = bt_conf("BT_TRADER_HEARTBEAT");
	char why[512] = "", *acted;
	long pid = 0;

	if (*pf == '\0' && *hf == '\0') {
		bt_watch_check(x, "trader", true, NULL, "unconfigured", NULL,
		    "live trader not watched (set BT_TRADER_PIDFILE or "
		    "BT_TRADER_HEARTBEAT)");
		return;
	}
	x->trader_known = true;
	x->trader_down = trader_dead(pf, hf, &pid, why, sizeof(why));
	if (!x->trader_down) {
		bt_watch_kv_put(x, "watchdog.trader.acted", "");
		bt_watch_check(x, "trader", true, NULL, "alive", pid ?
		    json_pack("{s:I}", "pid", (json_int_t)pid) : NULL,
		    "live trader alive");
		return;
	}
	bt_watch_check(x, "trader", false, "CRITICAL", "dead", NULL,
	    "live trader DOWN: %s; the backtest is stopped and paused until a "
	    "person looks", why);
	acted = bt_watch_kv_str(x, "watchdog.trader.acted");
	if (acted == NULL || *acted == '\0') {
		bt_probe_pause(x, "the live trader is down");
		bt_watch_kv_put(x, "watchdog.trader.acted", "1");
	}
	free(acted);
}

/* ----------------------------------------------------------- integrity */

/*
 * Since when an integrity failure is pending (0: none): a new integrity
 * CRITICAL of bt-validate or bt-backup, or this run's quick check.
 */
static int64_t
integrity_pending(struct bt_watch *x)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	int64_t seen = bt_watch_kv_int(x, "watchdog.integrity.seen", 0);
	int64_t maxid = seen;
	int64_t pending = bt_watch_kv_int(x, "watchdog.integrity.pending", 0);

	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT id, message FROM "
	    "events WHERE kind='integrity' AND severity='CRITICAL' AND prog "
	    "IN ('bt-validate', 'bt-backup') AND id > ?1 ORDER BY id", err)) !=
	    NULL) {
		sqlite3_bind_int64(q, 1, seen);
		while (sqlite3_step(q) == SQLITE_ROW)
			maxid = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	if (maxid > seen) {
		bt_watch_kv_put_int(x, "watchdog.integrity.seen", maxid);
		if (!pending)
			pending = bt_now_ms();
	}
	if (x->integrity_bad && !pending)
		pending = bt_now_ms();
	return pending;
}

/* Has a restore succeeded since `pending'?  That ends the incident. */
static bool
restored_since(struct bt_watch *x, int64_t pending)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	bool done = false;

	if (x->st != NULL && (q = bt_stmt(x->st, "SELECT 1 FROM runs WHERE "
	    "prog='bt-backup' AND job='restore' AND exit=0 AND started >= ?1",
	    err)) != NULL) {
		sqlite3_bind_int64(q, 1, pending);
		done = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_reset(q);
	}
	return done;
}

/*
 * The store failed an integrity check: the restore (BT_RESTORE_CMD)
 * starts once, only with BT_AUTO_RESTORE and while the trader is down.
 */
static void
integrity_failed(struct bt_watch *x)
{
	char err[BT_ERRLEN], *started;
	bool begun, ok;

	started = bt_watch_kv_str(x, "watchdog.integrity.restore");
	begun = started != NULL && *started != '\0';
	free(started);
	if (begun)
		bt_watch_check(x, "integrity", false, "CRITICAL", "restoring",
		    NULL, "integrity check failed; the restore was started "
		    "(%s); see logs/recovery.log", bt_conf("BT_RESTORE_CMD"));
	else if (!bt_conf_long("BT_AUTO_RESTORE"))
		bt_watch_check(x, "integrity", false, "CRITICAL", "failed",
		    NULL, "integrity check failed; automatic restore is off "
		    "(BT_AUTO_RESTORE=0): restore by hand with bt-backup "
		    "--restore");
	else if (!x->trader_down)
		bt_watch_check(x, "integrity", false, "CRITICAL", "waiting",
		    NULL, "integrity check failed; the restore waits until the "
		    "live trader is down (%s); it is never forced",
		    x->trader_known ? "it is running" : "not watched: set "
		    "BT_TRADER_PIDFILE or BT_TRADER_HEARTBEAT");
	else {
		ok = bt_watch_spawn(x, bt_conf("BT_RESTORE_CMD"), err) == 0;
		bt_watch_action(x, "CRITICAL", "restore", "store", ok, ok ?
		    "integrity check failed and the live trader is down: "
		    "started %s" : "%s", ok ? bt_conf("BT_RESTORE_CMD") : err);
		if (ok)
			bt_watch_kv_put(x, "watchdog.integrity.restore", "1");
		bt_watch_check(x, "integrity", false, "CRITICAL", "restoring",
		    NULL, "integrity check failed; restore %s",
		    ok ? "started" : "could not start");
	}
}

void
bt_health_integrity(struct bt_watch *x)
{
	int64_t pending = integrity_pending(x);

	if (!pending) {
		bt_watch_check(x, "integrity", true, NULL, "ok", NULL,
		    "no integrity failure pending");
		return;
	}
	if (restored_since(x, pending)) {
		bt_watch_kv_put(x, "watchdog.integrity.pending", "0");
		bt_watch_kv_put(x, "watchdog.integrity.restore", "");
		bt_watch_check(x, "integrity", true, NULL, "ok", NULL,
		    "the store was restored");
		return;
	}
	bt_watch_kv_put_int(x, "watchdog.integrity.pending", pending);
	integrity_failed(x);
}

/* ----------------------------------------------------------- freshness */

/* The stale pairs, as a list and in words (the first ten). */
static json_t *
stale_pairs(const struct bt_cov *cov, struct bt_buf *names)
{
	json_t *stale = json_array();
	int i, shown = 0;

	for (i = 0; i < cov->n; i++) {
		if (cov->p[i].excluded || cov->p[i].current)
			continue;
		json_array_append_new(stale, json_pack("[s,s]",
		    cov->p[i].symbol, cov->p[i].tf));
		if (shown++ < 10)
			bt_buf_printf(names, "%s%s %s", shown > 1 ? ", " : "",
			    cov->p[i].symbol, cov->p[i].tf);
	}
	if (shown > 10)
		bt_buf_printf(names, " and %d more", shown - 10);
	return stale;
}

/*
 * The decision matrix for stale data: re-run the update every
 * BT_REFETCH_INTERVAL_MINUTES (with BT_AUTO_REFETCH); after
 * BT_REFETCH_MAX_FAILURES attempts, a person must look.
 */
static void
refetch(struct bt_watch *x, const struct bt_cov *cov, json_t *stale,
    const char *names)
{
	char err[BT_ERRLEN], buf[128];
	int64_t now = bt_now_ms(), attempts, lastrun;
	int64_t every = (int64_t)(bt_conf_double("BT_REFETCH_INTERVAL_MINUTES")
	    * 60000);
	int64_t maxf = bt_conf_long("BT_REFETCH_MAX_FAILURES");
	bool ok;

	attempts = bt_watch_kv_int(x, "watchdog.refetch.attempts", 0);
	lastrun = bt_watch_kv_int(x, "watchdog.refetch.last", -1);
	if (attempts >= maxf) {
		bt_watch_check(x, "freshness", false, "CRITICAL", "manual",
		    json_pack("{s:f, s:I, s:O}", "coverage", cov->coverage,
		    "attempts", (json_int_t)attempts, "stale", stale),
		    "data stale (%d of %d pairs current; stale: %s) after "
		    "%lld re-fetches: a person must look", cov->current,
		    cov->counted, names, (long long)attempts);
		return;
	}
	if (bt_conf_long("BT_AUTO_REFETCH") && (lastrun < 0 ||
	    now - lastrun >= every)) {
		ok = bt_watch_spawn(x, bt_conf("BT_REFETCH_CMD"), err) == 0;
		attempts++;
		bt_watch_action(x, "WARNING", "refetch", "store", ok,
		    "data stale (%d of %d pairs current): %s the update, "
		    "attempt %lld of %lld: %s", cov->current, cov->counted,
		    ok ? "re-running" : "could not re-run", (long long)attempts,
		    (long long)maxf, ok ? bt_conf("BT_REFETCH_CMD") : err);
		bt_watch_kv_put_int(x, "watchdog.refetch.attempts", attempts);
		bt_watch_kv_put_int(x, "watchdog.refetch.last", now);
	}
	snprintf(buf, sizeof(buf), "%s", bt_conf_long("BT_AUTO_REFETCH") ?
	    "re-fetching" : "automatic re-fetch is off");
	bt_watch_check(x, "freshness", false, "CRITICAL", "stale",
	    json_pack("{s:f, s:I, s:O}", "coverage", cov->coverage,
	    "attempts", (json_int_t)attempts, "stale", stale), "data stale: "
	    "%d of %d pairs current (coverage %.1f%%, minimum %.0f%%); "
	    "stale: %s (%s)", cov->current, cov->counted, cov->coverage * 100,
	    bt_conf_double("BT_COVERAGE_MIN") * 100, names, buf);
}

/*
 * Coverage by contracts.md's one rule (bt_coverage(), as bt-fetch and
 * bt-validate count it: a symbol Binance reports not TRADING, or
 * invalid, is left out).  Below BT_COVERAGE_MIN it is CRITICAL, naming
 * the stale pairs, and the decision matrix re-runs the update.
 */
void
bt_health_freshness(struct bt_watch *x)
{
	char err[BT_ERRLEN], *path, **syms, **tfs;
	sqlite3 *db = NULL;
	struct bt_cov cov;
	struct bt_buf names = { 0 };
	int nsym, ntf, rc;
	json_t *stale;

	path = bt_store_path();
	rc = bt_open_store(path, BT_DB_RO, &db, err);
	free(path);
	if (rc == 0) {
		nsym = bt_conf_list("BT_SYMBOLS", &syms);
		ntf = bt_conf_list("BT_TIMEFRAMES", &tfs);
		rc = bt_coverage(db, x->st, NULL, syms, nsym, tfs, ntf, &cov,
		    err);
		bt_list_free(syms, nsym);
		bt_list_free(tfs, ntf);
		bt_close(db);
		if (rc != 0)
			bt_cov_free(&cov);
	}
	if (rc != 0) {
		bt_watch_check(x, "freshness", false, "WARNING", "no_store",
		    NULL, "cannot read the store: %s", err);
		return;
	}
	stale = stale_pairs(&cov, &names);
	if (cov.coverage >= bt_conf_double("BT_COVERAGE_MIN")) {
		bt_watch_kv_put(x, "watchdog.refetch.attempts", "0");
		bt_watch_check(x, "freshness", true, NULL, "ok",
		    json_pack("{s:f}", "coverage", cov.coverage),
		    "%d of %d pairs current", cov.current, cov.counted);
	} else
		refetch(x, &cov, stale, names.p);
	json_decref(stale);
	bt_buf_free(&names);
	x->cov = cov;		/* the metrics count the same (bt_prom.c) */
	x->have_cov = true;
}

/* ----------------------------------------------------------- disk space */

/*
 * Free space where bt writes: BT_HOME, and the store's and state file's
 * directories when they are elsewhere.  A full disk makes every write
 * fail, its own runs rows included; this says so in plain words.
 */
void
bt_health_disk(struct bt_watch *x)
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
		bt_watch_check(x, "disk", false, "CRITICAL", worst < 1 ?
		    "full" : "low", json_pack("{s:o, s:f}", "path", bt_jstr(where),
		    "free_mb", round(worst * 10) / 10), "%s%s has %.1f MB free "
		    "(limit %g MB, BT_DISK_MIN_FREE_MB): writes fail with \"no "
		    "space left on device\"; free space there", worst < 1 ?
		    "no space left on device: " : "", where, worst, min);
	else
		bt_watch_check(x, "disk", true, NULL, "ok", json_pack("{s:o, "
		    "s:f}", "path", bt_jstr(where), "free_mb", round(worst * 10) / 10),
		    "%s has %.0f MB free", where, worst);
}

/* ---------------------------------------------------- dead-man per job */

/* A job's latest run: when it started, whether it ended, how. */
struct lastrun {
	int64_t	 started;	/* -1: none */
	bool	 ended;
	int	 exit;
	char	*why;		/* its summary's error, or NULL */
};

static void
last_run(struct bt_watch *x, const char *prog, const char *job,
    struct lastrun *r)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];

	memset(r, 0, sizeof(*r));
	r->started = -1;
	if (x->st == NULL || (q = bt_stmt(x->st, "SELECT started, exit, "
	    "json_extract(summary, '$.error') FROM runs WHERE prog=?1 AND "
	    "job=?2 ORDER BY started DESC, id DESC LIMIT 1", err)) == NULL)
		return;
	sqlite3_bind_text(q, 1, prog, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, job, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		r->started = sqlite3_column_int64(q, 0);
		r->ended = sqlite3_column_type(q, 1) != SQLITE_NULL;
		r->exit = sqlite3_column_int(q, 1);
		if (sqlite3_column_text(q, 2) != NULL)
			r->why = strdup((const char *)sqlite3_column_text(q,
			    2));
	}
	sqlite3_reset(q);
}

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
job_verdict(struct bt_watch *x, const char *t, const char *name,
    const char *prog, const char *job, int64_t last, int64_t since,
    long period, long grace)
{
	struct lastrun r;
	char ts[32];
	int64_t now = bt_now_ms();
	long quarter = grace < 15 ? grace : 15;

	last_run(x, prog, job, &r);
	if (now - (last >= 0 ? last : since) > (period + grace) * 60000LL)
		bt_watch_check(x, t, false, "CRITICAL", "overdue",
		    json_pack("{s:s, s:o}", "job", name, "last_success",
		    last >= 0 ? json_string(bt_fmt_time(last, ts)) :
		    json_null()), "%s: no successful run %s%s (period %ld min "
		    "+ grace %ld min): crashed, never started, or cron stopped",
		    name, last >= 0 ? "since " : "since the watchdog started "
		    "at ", bt_fmt_time(last >= 0 ? last : since, ts), period,
		    grace);
	else if (period <= 60 && now - (r.started >= 0 ? r.started : since) >
	    (period + quarter) * 60000LL)
		bt_watch_check(x, t, false, "CRITICAL", "missing",
		    json_pack("{s:s}", "job", name), "%s: no run recorded "
		    "since %s (expected every %ld min): cron is not running "
		    "it, or it cannot write the state file (a full disk, or "
		    "BT_HOME not writable by the bt user); see its log", name,
		    bt_fmt_time(r.started >= 0 ? r.started : since, ts),
		    period);
	else if (r.started >= 0 && r.ended && r.exit != 0 && r.exit != 1 &&
	    r.exit != BT_EX_TEMPFAIL)
		bt_watch_check(x, t, false, "WARNING", "failed",
		    json_pack("{s:s, s:i}", "job", name, "exit", r.exit),
		    "%s: its last run (started %s) failed with exit %d%s%s",
		    name, bt_fmt_time(r.started, ts), r.exit, r.why ? ": " : "",
		    r.why ? r.why : "");
	else
		bt_watch_check(x, t, true, NULL, "ok", json_pack("{s:s}", "job",
		    name), "%s: last success %s", name, last >= 0 ?
		    bt_fmt_time(last, ts) : "none yet");
	free(r.why);
}

/* The latest start of a run of prog/job that succeeded (exit 0 or 1). */
static int64_t
last_success(struct bt_watch *x, const char *prog, const char *job)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	int64_t last = -1;

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
	return last;
}

/*
 * BT_WATCHDOG_JOBS: prog[/job]:period:grace entries, in minutes.  The
 * backtest's job is not held against it while it is paused or disabled.
 */
void
bt_health_jobs(struct bt_watch *x)
{
	char **jobs, name[128], prog[64], job[64], t[32];
	int n, i;
	long period, grace;
	int64_t since, now = bt_now_ms();
	bool paused;
	char *pp = bt_path("run/backtest.paused");

	paused = access(pp, F_OK) == 0 || !bt_conf_long("BACKTEST_ENABLED");
	free(pp);
	since = bt_watch_kv_int(x, "watchdog.since", -1);
	if (since < 0) {
		since = now;
		bt_watch_kv_put_int(x, "watchdog.since", now);
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
			bt_watch_check(x, t, true, NULL, "paused",
			    json_pack("{s:s}", "job", name),
			    "%s paused or disabled", name);
			continue;
		}
		job_verdict(x, t, name, prog, job, last_success(x, prog, job),
		    since, period, grace);
	}
	bt_list_free(jobs, n);
}

/* ----------------------------------------------------------- alert path */

/* An unsent CRITICAL older than BT_ALERT_MAX_DELAY. */
static void
unsent_critical(struct bt_watch *x, struct bt_buf *b, int64_t now,
    int64_t maxd)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], t[32];
	int64_t oldest = -1;

	if ((q = bt_stmt(x->st, "SELECT min(ts) FROM events WHERE sent IS NULL "
	    "AND severity='CRITICAL'", err)) != NULL) {
		if (sqlite3_step(q) == SQLITE_ROW &&
		    sqlite3_column_type(q, 0) != SQLITE_NULL)
			oldest = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	if (oldest >= 0 && now - oldest > maxd)
		bt_buf_printf(b, "%sthe oldest unsent CRITICAL is %lld min old "
		    "(raised %s; limit %g min, BT_ALERT_MAX_DELAY)", b->len ?
		    "; " : "", (long long)(now - oldest) / 60000,
		    bt_fmt_time(oldest, t), (double)maxd / 60000);
}

/* bt-digest's last runs: failing BT_DIGEST_MAX_FAILURES in a row, or none. */
static void
digest_failing(struct bt_watch *x, struct bt_buf *b, int64_t now,
    int64_t maxd)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], t[32], *why = NULL;
	int64_t lastrun = -1, st;
	int64_t since = bt_watch_kv_int(x, "watchdog.since", now);
	int maxf = (int)bt_conf_long("BT_DIGEST_MAX_FAILURES"), fails = 0;
	int lastexit = 0, e;
	bool failing = true, done, bad;

	if ((q = bt_stmt(x->st, "SELECT started, exit, json_extract(summary, "
	    "'$.error') FROM runs WHERE prog='bt-digest' ORDER BY id DESC "
	    "LIMIT ?1", err)) != NULL) {
		sqlite3_bind_int(q, 1, maxf);
		while (sqlite3_step(q) == SQLITE_ROW) {
			st = sqlite3_column_int64(q, 0);
			done = sqlite3_column_type(q, 1) != SQLITE_NULL;
			e = sqlite3_column_int(q, 1);
			if (lastrun < 0) {
				lastrun = st;
				lastexit = e;
				if (sqlite3_column_text(q, 2) != NULL)
					why = strdup((const char *)
					    sqlite3_column_text(q, 2));
			}
			/* 75 is Telegram's "later"; the age check sees it. */
			bad = (done && e != 0 && e != BT_EX_TEMPFAIL) ||
			    (!done && now - st > 120000);
			if (failing && bad)
				fails++;
			else
				failing = false;
		}
		sqlite3_reset(q);
	}
	if (fails >= maxf)
		bt_buf_printf(b, "%sbt-digest failed its last %d runs (exit "
		    "%d%s%s)", b->len ? "; " : "", fails, lastexit,
		    why ? ": " : "", why ? why : "");
	if (now - (lastrun >= 0 ? lastrun : since) > maxd && now - since > maxd)
		bt_buf_printf(b, "%sbt-digest has not run since %s: is its "
		    "crontab line installed, and can it write BT_HOME?",
		    b->len ? "; " : "", lastrun >= 0 ? bt_fmt_time(lastrun, t) :
		    "the watchdog started");
	free(why);
}

/* A chat whose latest message Telegram refused, in the last day. */
static void
refused_chats(struct bt_watch *x, struct bt_buf *b, int64_t now)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], t[32];

	if ((q = bt_stmt(x->st, "SELECT s.chat, s.error, s.ts FROM sends s "
	    "WHERE s.ok=0 AND s.ts > ?1 AND s.id=(SELECT max(id) FROM sends "
	    "s2 WHERE s2.chat=s.chat) ORDER BY s.chat", err)) == NULL)
		return;
	sqlite3_bind_int64(q, 1, now - 86400000);
	while (sqlite3_step(q) == SQLITE_ROW)
		bt_buf_printf(b, "%sTelegram refuses chat %s (%s, since %s): "
		    "check the chat id in bt.conf and that the bot is a member "
		    "of the chat", b->len ? "; " : "",
		    sqlite3_column_text(q, 0), sqlite3_column_text(q, 1),
		    bt_fmt_time(sqlite3_column_int64(q, 2), t));
	sqlite3_reset(q);
}

/*
 * The alert path itself: an unsent CRITICAL older than
 * BT_ALERT_MAX_DELAY, bt-digest failing BT_DIGEST_MAX_FAILURES runs in a
 * row (or not running at all), a chat Telegram refuses.  Each is said
 * with its fix.  While it fails, the external heartbeat is not pinged, so
 * a healthchecks.io-style monitor alarms when delivery breaks.
 */
void
bt_health_alert_path(struct bt_watch *x)
{
	struct bt_buf b = { 0 };
	int64_t now = bt_now_ms();
	int64_t maxd = (int64_t)(bt_conf_double("BT_ALERT_MAX_DELAY") * 1000);

	/* Without Telegram, bt-digest prints alerts: nothing to deliver. */
	if (!bt_alerts_configured()) {
		x->alert_ok = true;
		bt_watch_check(x, "alert_path", true, NULL, "unconfigured",
		    NULL, "no Telegram configured: bt-digest prints alerts "
		    "instead of sending them");
		return;
	}
	if (x->st == NULL) {
		bt_watch_check(x, "alert_path", false, "CRITICAL", "no_state",
		    NULL, "the state file cannot be opened, so no alert can be "
		    "queued; see this program's stderr");
		return;
	}
	unsent_critical(x, &b, now, maxd);
	digest_failing(x, &b, now, maxd);
	refused_chats(x, &b, now);
	x->alert_ok = b.len == 0;
	if (x->alert_ok)
		bt_watch_check(x, "alert_path", true, NULL, "ok", NULL,
		    "alerts are being delivered");
	else
		bt_watch_check(x, "alert_path", false, "CRITICAL", "failing",
		    NULL, "the alert path is failing: %s; the heartbeat ping "
		    "is withheld until it recovers", b.p);
	bt_buf_free(&b);
}

/* ----------------------------------------------- the external dead-man */

/* Says why no ping goes out: the alert path, or unrecorded events. */
static void
ping_withheld(const struct bt_watch *x)
{
	json_t *rec = bt_rec("heartbeat_ping");

	json_object_set_new(rec, "check", json_string("heartbeat_ping"));
	json_object_set_new(rec, "state", json_string("withheld"));
	json_object_set_new(rec, "message", json_string(x->alert_ok ?
	    "not pinged: this run could not record its events" :
	    "not pinged: the alert path is failing"));
	bt_emit(rec);
}

/*
 * A GET of BT_HEARTBEAT_URL, within BT_HEARTBEAT_TIMEOUT.  The URL is a
 * credential: it is redacted, and only the status is ever said.
 */
void
bt_health_ping(struct bt_watch *x)
{
	const char *url = bt_conf("BT_HEARTBEAT_URL");
	char err[BT_ERRLEN], *base, *slash, tmo[32];
	struct bt_http *h;
	struct bt_http_resp r;

	if (*url == '\0')
		return;
	bt_redact_add(url);
	if (!x->alert_ok || x->unrecorded) {
		ping_withheld(x);
		return;
	}
	if (x->dry) {
		bt_watch_check(x, "heartbeat_ping", true, NULL, "ok", NULL,
		    "not pinged (dry run)");
		return;
	}
	snprintf(tmo, sizeof(tmo), "%g",
	    bt_conf_double("BT_HEARTBEAT_TIMEOUT"));
	bt_conf_set("BT_HTTP_TIMEOUT", tmo, err);
	bt_conf_set("BT_HTTP_CONNECT_TIMEOUT", tmo, err);
	if ((base = strdup(url)) == NULL)
		abort();
	slash = strstr(base, "://") ? strchr(strstr(base, "://") + 3, '/') :
	    NULL;
	if (slash != NULL)
		*slash = '\0';
	if ((h = bt_http_new(base, err)) == NULL) {
		bt_watch_check(x, "heartbeat_ping", false, "WARNING", "failed",
		    NULL, "BT_HEARTBEAT_URL: %s", err);
		free(base);
		return;
	}
	bt_http_get(h, slash ? url + (slash - base) : "/", NULL, &r);
	if (r.status >= 200 && r.status < 300)
		bt_watch_check(x, "heartbeat_ping", true, NULL, "ok", NULL,
		    "pinged");
	else
		bt_watch_check(x, "heartbeat_ping", false, "WARNING", "failed",
		    NULL, "the heartbeat ping failed: %s", r.status ?
		    "HTTP error" : r.err);
	bt_http_resp_free(&r);
	bt_http_free(h);
	free(base);
}
