/*
 * bt-watchdog - the seed's health probe, restart policy and decision
 * matrix, run by cron every minute.
 *
 *	bt-watchdog [-nqv] [-d db] [--prom file]
 *
 * Prints one JSON line per check and exits 0 when all is healthy, 1
 * otherwise.  Checks: the scheduler heartbeat it touches, the
 * configuration, db/LOCKED, the live trader, the backtest's health
 * (HEALTHY, PAUSED, DEAD, HUNG, STALLED, FLAKY), its CPU, the store's
 * integrity, the data's freshness, free disk space, the failed and
 * missing runs and the dead-man's switch of each scheduled job, the alert
 * path itself (unsent CRITICALs, bt-digest failing, a chat Telegram
 * refuses), and the external heartbeat ping, sent only while the alert
 * path is healthy.  Then, with --prom or BT_PROM_FILE, the metrics file
 * for Prometheus (bt_prom.c).
 *
 * Invariants:
 * - It signals a process only when it is the backtest: pid alive (not a
 *   zombie), /proc start time, boot id and process group as recorded in
 *   run/backtest.status, and run/backtest.lock held by a member of that
 *   group as /proc/locks says (bt_probe.c).
 * - A condition raises an event when it appears, when it changes, and
 *   again every BT_WATCHDOG_REPEAT_HOURS while it lasts (bt_watch.c).
 * - Every automatic action is switchable, is written to logs/recovery.log
 *   and recorded as an event, and never forces anything: a restore waits
 *   for the live trader to be down.  Actions that take long (re-fetch,
 *   restore, rollback, restart) run detached, with no lock of ours.
 * - It writes only the state file (events, runs, kv, actions) and files
 *   under run/ and logs/.
 * - The checks run in the order below: a later one reads what an earlier
 *   one found (the trader's state, the quick check, the alert path).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_health.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_probe.h"
#include "bt_prom.h"
#include "bt_state.h"

static const struct option longopts[] = {
	BT_COMMON_LONGOPTS,
	{ "prom", required_argument, NULL, 'P' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: bt-watchdog [-nqv] [-d db] [--prom file]\n");
	exit(code);
}

/* Sets x's options; 0, or the exit code (said). */
static int
options(int argc, char *argv[], struct bt_watch *x)
{
	struct bt_common c = { 0 };
	char err[BT_ERRLEN];
	int ch, rc;

	while ((ch = getopt_long(argc, argv, BT_COMMON_OPTS "h", longopts,
	    NULL)) != -1) {
		if (bt_common_opt(ch, optarg, &c, &rc)) {
			if (rc != 0)
				return rc;
			continue;
		}
		rc = 0;
		switch (ch) {
		case 'P':
			rc = bt_conf_set("BT_PROM_FILE", optarg, err);
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
	x->dry = c.dry;
	x->quiet = c.quiet;
	x->verbose = c.verbose;
	return 0;
}

/*
 * The state file; without it the checks still run and say what they
 * can (a dry run does not mind its absence).
 */
static void
open_state(struct bt_watch *x)
{
	char err[BT_ERRLEN], *spath = bt_state_path();
	int rc;

	rc = bt_open_state(spath, x->dry ? BT_DB_RO : BT_DB_CREATE, &x->st,
	    err);
	free(spath);
	if (rc != 0) {
		bt_warnx("%s", err);
		if (!x->dry || rc != BT_EX_NOINPUT)
			x->exit = bt_exit_worse(x->exit, rc);
		x->st = NULL;
	}
}

/*
 * The metrics, last: they count what the checks found.  A file that
 * cannot be written is a failed check of its own, so that the graphs
 * going flat is never the only sign.  A dry run writes none.
 */
static void
metrics(struct bt_watch *x)
{
	struct bt_prom_in in;
	const char *path = bt_conf("BT_PROM_FILE");
	char err[BT_ERRLEN];
	int rc;

	if (*path == '\0' || x->dry)
		return;
	in.backtest = x->backtest;
	in.failing = x->failing;
	in.cov = x->have_cov ? &x->cov : NULL;
	if ((rc = bt_prom_write(x->st, path, &in, err)) != 0) {
		bt_watch_check(x, "metrics", false, "WARNING", "unwritten",
		    NULL, "metrics not written: %s", err);
		x->exit = bt_exit_worse(x->exit, rc);
	} else
		bt_watch_check(x, "metrics", true, NULL, "ok", NULL,
		    "metrics written to %s", path);
}

int
main(int argc, char *argv[])
{
	struct bt_watch x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.argv0 = argv[0];
	/* The alert path runs on with the defaults of bad keys. */
	bt_conf_tolerate();
	if ((rc = bt_start("bt-watchdog", argc, argv, usage)) != 0)
		return rc;
	if (*bt_conf("BT_HEARTBEAT_URL") != '\0')
		bt_redact_add(bt_conf("BT_HEARTBEAT_URL"));
	if ((rc = options(argc, argv, &x)) != 0)
		return rc;

	bt_health_heartbeat(&x);
	open_state(&x);
	bt_health_config(&x);
	if (!x.dry)
		bt_conf_events(x.st, false);
	bt_health_store_lock(&x);
	bt_health_trader(&x);
	bt_probe_backtest(&x);
	bt_health_integrity(&x);
	bt_health_freshness(&x);
	bt_health_disk(&x);
	bt_health_jobs(&x);
	bt_health_alert_path(&x);
	bt_health_ping(&x);
	metrics(&x);
	bt_cov_free(&x.cov);
	bt_close(x.st);
	return bt_finish(bt_exit_worse(x.exit, bt_conf_status()));
}
