/*
 * bt_prom.c - bt's metrics for Prometheus, in node_exporter's
 * textfile-collector format (bt-watchdog --prom FILE).
 *
 * What is measured, and where from: per pair the age of the newest
 * stored candle and whether it is current, and the coverage (the store,
 * by bt_coverage(), the rule every program uses); per job the time of its
 * last success, its last exit code, and its runs and failures (the state
 * file's runs); the backtest's health as bt-watchdog saw it; events
 * recorded, sent and waiting, messages sent, refused and held (the
 * events table and the digest's counters in kv); the Binance ban-until
 * time; the sizes of the store, the state file and the backups, and the
 * age of the newest recorded backup.
 *
 * Invariants: names follow Prometheus' conventions (bt_ prefix, base
 * units, _seconds, _bytes, _total for counters); a count is a cumulative
 * counter read from the state file, never a per-hour gauge (rate() and
 * increase() make the hour); the file is replaced atomically (written,
 * fsynced, renamed), mode 0640, its group BT_PROM_GROUP, never
 * world-readable, since symbol names and job failures are the operator's
 * business.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_alerts.h"
#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_prom.h"

static void
metric(struct bt_buf *b, const char *name, const char *type,
    const char *help)
{
	bt_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* A label value: backslash, double quote and newline escaped. */
static void
label(struct bt_buf *b, const char *v)
{
	for (; *v != '\0'; v++)
		if (*v == '\\' || *v == '"')
			bt_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			bt_buf_printf(b, "\\n");
		else
			bt_buf_add(b, v, 1);
}

/* The pairs' freshness, from the coverage the freshness check counted. */
static void
pairs(struct bt_buf *b, const struct bt_cov *cov)
{
	int i;
	double now = (double)bt_now_ms() / 1000;

	metric(b, "bt_candle_age_seconds", "gauge", "Time since the open of "
	    "the newest stored candle of a pair (no sample: none stored).");
	for (i = 0; i < cov->n; i++)
		if (cov->p[i].last >= 0)
			bt_buf_printf(b, "bt_candle_age_seconds{symbol=\"%s\","
			    "tf=\"%s\"} %.3f\n", cov->p[i].symbol, cov->p[i].tf,
			    now - (double)cov->p[i].last / 1000);
	metric(b, "bt_pair_current", "gauge", "1 when a pair's newest candle "
	    "is within its staleness threshold, 0 when not; absent when "
	    "left out of coverage (not TRADING).");
	for (i = 0; i < cov->n; i++)
		if (!cov->p[i].excluded)
			bt_buf_printf(b, "bt_pair_current{symbol=\"%s\",tf=\"%s\"} "
			    "%d\n", cov->p[i].symbol, cov->p[i].tf,
			    cov->p[i].current);
	metric(b, "bt_coverage_ratio", "gauge", "Share of the configured "
	    "pairs that are current (contracts.md); below BT_COVERAGE_MIN is "
	    "CRITICAL.");
	bt_buf_printf(b, "bt_coverage_ratio %.6f\n", cov->coverage);
}

static void
jobs(struct bt_buf *b, sqlite3 *st)
{
	static const struct {
		const char *name, *type, *help, *sql;
	} m[] = {
		{ "bt_job_last_success_timestamp_seconds", "gauge",
		  "Start of the newest successful run of a job (exit 0, or 1 "
		  "for a checker), Unix time.",
		  "SELECT prog, job, max(started) / 1000.0 FROM runs WHERE exit "
		  "IN (0, 1) GROUP BY prog, job ORDER BY prog, job" },
		{ "bt_job_last_exit_code", "gauge",
		  "Exit status of the newest finished run of a job "
		  "(contracts.md's codes).",
		  "SELECT prog, job, exit FROM runs r WHERE id=(SELECT max(id) "
		  "FROM runs r2 WHERE r2.prog=r.prog AND r2.job=r.job AND "
		  "r2.exit IS NOT NULL) ORDER BY prog, job" },
		{ "bt_job_runs_total", "counter", "Runs of a job recorded in "
		  "the state file.",
		  "SELECT prog, job, count(*) FROM runs GROUP BY prog, job "
		  "ORDER BY prog, job" },
		{ "bt_job_failures_total", "counter", "Runs of a job that "
		  "ended with an error (not 0, 1 or 75).",
		  "SELECT prog, job, total(exit NOT IN (0, 1, 75)) FROM runs "
		  "GROUP BY prog, job ORDER BY prog, job" },
	};
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		metric(b, m[i].name, m[i].type, m[i].help);
		if ((q = bt_stmt(st, m[i].sql, err)) == NULL)
			continue;
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *job = (const char *)sqlite3_column_text(q,
			    1);
			bt_buf_printf(b, "%s{job=\"", m[i].name);
			label(b, (const char *)sqlite3_column_text(q, 0));
			if (job != NULL && *job != '\0') {
				bt_buf_add(b, "/", 1);
				label(b, job);
			}
			bt_buf_printf(b, "\"} %.15g\n",
			    sqlite3_column_double(q, 2));
		}
		sqlite3_reset(q);
	}
}

/* One number from the state file, or `def'. */
static double
one(sqlite3 *st, const char *sql, const char *arg, double def)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	double v = def;

	if ((q = bt_stmt(st, sql, err)) == NULL)
		return def;
	if (arg != NULL)
		sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_double(q, 0);
	sqlite3_reset(q);
	return v;
}

static void
alerts(struct bt_buf *b, sqlite3 *st)
{
	static const struct {
		const char *name, *type, *help, *sql;
	} m[] = {
		{ "bt_events_total", "counter", "Events recorded in the state "
		  "file, by severity.",
		  "SELECT count(*) FROM events WHERE severity=?1" },
		{ "bt_events_sent_total", "counter", "Events delivered (marked "
		  "sent), by severity.",
		  "SELECT count(*) FROM events WHERE severity=?1 AND sent IS NOT "
		  "NULL" },
		{ "bt_events_unsent", "gauge", "Events waiting to be sent, by "
		  "severity.",
		  "SELECT count(*) FROM events WHERE severity=?1 AND sent IS "
		  "NULL" },
	};
	static const struct {
		const char *name, *help, *key;
	} c[] = {
		{ "bt_messages_sent_total", "Messages Telegram took.",
		  "digest.sent_total" },
		{ "bt_messages_refused_total", "Messages Telegram refused "
		  "(a chat that does not exist, a photo it cannot read).",
		  "digest.refused_total" },
		{ "bt_alerts_held_total", "Alerts the volume policy held for a "
		  "later run, summed over runs.", "digest.held_total" },
	};
	size_t i, j;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		metric(b, m[i].name, m[i].type, m[i].help);
		for (j = 0; j < 3; j++)
			bt_buf_printf(b, "%s{severity=\"%s\"} %.0f\n", m[i].name,
			    bt_sevname[j], one(st, m[i].sql, bt_sevname[j], 0));
	}
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		metric(b, c[i].name, "counter", c[i].help);
		bt_buf_printf(b, "%s %.0f\n", c[i].name, one(st, "SELECT "
		    "CAST(value AS REAL) FROM kv WHERE key=?1", c[i].key, 0));
	}
	metric(b, "bt_alert_oldest_unsent_age_seconds", "gauge", "Age of the "
	    "oldest unsent CRITICAL event, 0 when none (BT_ALERT_MAX_DELAY "
	    "bounds it).");
	bt_buf_printf(b, "bt_alert_oldest_unsent_age_seconds %.3f\n",
	    fmax(0, ((double)bt_now_ms() - one(st, "SELECT min(ts) FROM "
	    "events WHERE sent IS NULL AND severity='CRITICAL'", NULL,
	    (double)bt_now_ms())) / 1000));
}

static double
fsize(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (double)sb.st_size : 0;
}

static void
files(struct bt_buf *b, sqlite3 *st)
{
	char *p;
	double ban, newest;

	metric(b, "bt_binance_ban_until_timestamp_seconds", "gauge", "Until "
	    "when Binance has banned this IP (a 418), Unix time; 0 when no ban "
	    "is remembered.");
	ban = one(st, "SELECT CAST(value AS REAL) FROM kv WHERE key="
	    "'binance_ban_until'", NULL, 0);
	bt_buf_printf(b, "bt_binance_ban_until_timestamp_seconds %.3f\n",
	    ban > (double)bt_now_ms() ? ban / 1000 : 0);
	metric(b, "bt_file_size_bytes", "gauge", "Size of bt's files: the "
	    "store and the state file (their -wal files besides).");
	p = bt_store_path();
	bt_buf_printf(b, "bt_file_size_bytes{file=\"store\"} %.0f\n", fsize(p));
	free(p);
	p = bt_state_path();
	bt_buf_printf(b, "bt_file_size_bytes{file=\"state\"} %.0f\n", fsize(p));
	free(p);
	metric(b, "bt_backups_size_bytes", "gauge", "Bytes of the backups "
	    "bt-backup recorded and still keeps.");
	bt_buf_printf(b, "bt_backups_size_bytes %.0f\n", one(st, "SELECT "
	    "total(bytes) FROM backups", NULL, 0));
	metric(b, "bt_backup_newest_age_seconds", "gauge", "Age of the newest "
	    "store backup bt-backup wrote and recorded; absent when none.");
	newest = one(st, "SELECT max(taken) FROM backups WHERE candles IS NOT "
	    "NULL", NULL, -1);
	if (newest >= 0)
		bt_buf_printf(b, "bt_backup_newest_age_seconds %.3f\n",
		    ((double)bt_now_ms() - newest) / 1000);
}

/* The file's group: BT_PROM_GROUP, so that node_exporter can read it. */
static int
group_of(char *err, gid_t *gid)
{
	const char *name = bt_conf("BT_PROM_GROUP");
	struct group *g;

	if ((g = getgrnam(name)) == NULL) {
		snprintf(err, BT_ERRLEN, "BT_PROM_GROUP: no group '%s' (create "
		    "it, or name node_exporter's group)", name);
		return BT_EX_CONFIG;
	}
	*gid = g->gr_gid;
	return 0;
}

int
bt_prom_write(sqlite3 *st, const char *path, const struct bt_prom_in *in,
    char *err)
{
	static const char *states[] = { "HEALTHY", "PAUSED", "DEAD", "HUNG",
	    "STALLED", "FLAKY" };
	struct bt_buf b = { 0 };
	char tmp[4096];
	gid_t gid;
	size_t i;
	int rc;

	if ((rc = group_of(err, &gid)) != 0)
		return rc;
	metric(&b, "bt_backtest_state", "gauge", "The daily backtest's health "
	    "as bt-watchdog saw it: 1 for the current state.");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		bt_buf_printf(&b, "bt_backtest_state{state=\"%s\"} %d\n",
		    states[i], in->backtest != NULL &&
		    strcmp(in->backtest, states[i]) == 0);
	metric(&b, "bt_watchdog_failing_checks", "gauge", "Checks of the last "
	    "bt-watchdog run that found a problem.");
	bt_buf_printf(&b, "bt_watchdog_failing_checks %d\n", in->failing);
	if (st != NULL) {
		if (in->cov != NULL)
			pairs(&b, in->cov);
		jobs(&b, st);
		alerts(&b, st);
		files(&b, st);
	}
	/*
	 * Written (and fsynced) under a name node_exporter ignores (it reads
	 * *.prom only), given its group, then renamed into place: it never
	 * reads half a file, nor one it may not read.
	 */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	rc = bt_write_atomic(tmp, b.p, b.len, 0640, err) == -1 ?
	    (errno == ENOSPC ? BT_EX_IOERR : BT_EX_CANTCREAT) : 0;
	bt_buf_free(&b);
	if (rc != 0)
		return rc;
	if (chown(tmp, (uid_t)-1, gid) == -1 || chmod(tmp, 0640) == -1) {
		snprintf(err, BT_ERRLEN, "%s: group %s: %s", path,
		    bt_conf("BT_PROM_GROUP"), strerror(errno));
		unlink(tmp);
		return BT_EX_CANTCREAT;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, BT_ERRLEN, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return BT_EX_CANTCREAT;
	}
	return bt_fsync_dir(path, err) == -1 ? BT_EX_IOERR : 0;
}
