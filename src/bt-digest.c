/*
 * bt-digest - every alert reaches the operator, on Telegram, within the
 * seed's bounds.
 *
 *	bt-digest [-nqv] [-d db] [--critical | --hourly | --daily]
 *	bt-digest [-d db] --today [--since time]
 *	bt-digest --check [--send-test]
 *
 * Input: JSON lines on stdin (when it is not a terminal) and the unsent
 * events of the state file.  A stdin line with a `severity' (INFO, WARNING
 * or CRITICAL) and a `message' is recorded as an event first, unless its
 * `event_id' is already there; other lines are ignored.  Then what is due
 * goes out: CRITICAL at once, WARNING in an hourly batch, INFO in the
 * daily digest (BT_DIGEST_HOUR, 04:00 UTC).  cron runs it every minute;
 * the batches catch up by themselves when a run was missed.
 *
 * The queue is bt_alerts.c (recording, grouping, routing, packing, the
 * volume policy, delivery), Telegram is bt_telegram.c, the digest's text
 * is bt_daily.c.  This file is the order of a run:
 * - its runs row first and its stdin's events next, before anything about
 *   Telegram is checked, so a broken alert path is seen (bt-watchdog) and
 *   loses nothing;
 * - the configuration's own problems raised (it runs on with defaults);
 * - what is due, the digest's text, Telegram's flood control, delivery;
 * - the summary, which is also the runs row's.
 * --check tries the alert path from outside and records nothing
 * (bt_alertcheck.c).  The bot token is read only by bt_telegram.c and
 * never leaves it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_alertcheck.h"
#include "bt_alerts.h"
#include "bt_conf.h"
#include "bt_daily.h"
#include "bt_lock.h"
#include "bt_migrate.h"

static const struct option longopts[] = {
	BT_COMMON_LONGOPTS,
	{ "critical", no_argument, NULL, 'C' },
	{ "hourly", no_argument, NULL, 'H' },
	{ "daily", no_argument, NULL, 'D' },
	{ "today", no_argument, NULL, 'L' },
	{ "since", required_argument, NULL, 'S' },
	{ "check", no_argument, NULL, 'K' },
	{ "send-test", no_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 }
};

/* What the command line asks for, besides the queue's own flags. */
struct opts {
	bool		 critical_only, today, check, send_test;
	int64_t		 since;
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-digest [-nqv] [-d db] [--critical | --hourly | "
	    "--daily]\n"
	    "       bt-digest [-d db] --today [--since time]\n"
	    "       bt-digest --check [--send-test]\n");
	exit(code);
}

static int
options(int argc, char *argv[], struct bt_alerts *x, struct opts *o)
{
	struct bt_common c = { 0 };
	const char *since = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, BT_COMMON_OPTS "h", longopts,
	    NULL)) != -1) {
		if (bt_common_opt(ch, optarg, &c, &rc)) {
			if (rc != 0)
				return rc;
			continue;
		}
		switch (ch) {
		case 'C':
			o->critical_only = true;
			break;
		case 'H':
			x->forced_hourly = true;
			break;
		case 'D':
			x->forced_daily = true;
			break;
		case 'L':
			o->today = true;
			break;
		case 'S':
			since = optarg;
			break;
		case 'K':
			o->check = true;
			break;
		case 'T':
			o->send_test = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, BT_EX_USAGE);
		}
	}
	x->dry = c.dry;
	x->quiet = c.quiet;
	x->verbose = c.verbose;
	if (optind != argc || (o->critical_only + x->forced_hourly +
	    x->forced_daily + o->today + o->check) > 1 ||
	    (since != NULL && !o->today) || (o->send_test && !o->check))
		usage(stderr, BT_EX_USAGE);
	o->since = bt_now_ms() - bt_now_ms() % 86400000;
	if (since != NULL && bt_parse_time(since, &o->since) == -1) {
		bt_warnx("--since: '%s' is not an ISO 8601 UTC time", since);
		return BT_EX_USAGE;
	}
	return 0;
}

/* Builds the daily digest's text when it is due, and logs/digest.txt. */
static int
daily(struct bt_alerts *x)
{
	if (!x->due[BT_SEV_INFO])
		return 0;
	x->digest = bt_daily_compose(x->st);
	return x->dry ? 0 : bt_alerts_write_digest(x);
}

/* Ends the run: its runs row (with the batch it sent) and summary. */
static void
finish(struct bt_alerts *x, const struct bt_alert_stats *rs, int64_t run,
    int rc)
{
	const char *job = bt_alerts_job(x);
	char err[BT_ERRLEN];
	json_t *sum;

	sum = bt_alerts_summary(x, rs, rc);
	if (run > 0)
		bt_alerts_count(x);
	if (run > 0) {
		if ((*job != '\0' && bt_run_job(x->st, run, job, err) != 0) ||
		    bt_run_end(x->st, run, rc, sum, err) != 0)
			bt_warnx("%s", err);
		bt_alerts_prune(x->st);
	}
	bt_emit(sum);
}

int
main(int argc, char *argv[])
{
	struct bt_alerts x;
	struct bt_alert_stats rs = { 0 };
	struct opts o = { 0 };
	char err[BT_ERRLEN], *spath;
	int rc = 0, s;
	int64_t run = -1;

	memset(&x, 0, sizeof(x));
	x.t0 = bt_mono();
	bt_conf_want("TELEGRAM_BOT_TOKEN");
	/* The alert path runs on with the defaults of bad keys. */
	bt_conf_tolerate();
	if ((rc = bt_start("bt-digest", argc, argv, usage)) != 0)
		return rc;
	if ((rc = options(argc, argv, &x, &o)) != 0)
		return rc;
	if (o.check)
		return bt_finish(bt_exit_worse(bt_alertcheck(o.send_test),
		    bt_conf_status()));
	spath = bt_state_path();
	rc = bt_open_state(spath, x.dry || o.today ? BT_DB_RO : BT_DB_CREATE,
	    &x.st, err);
	free(spath);
	if (rc == BT_EX_NOINPUT && (x.dry || o.today))
		rc = 0;		/* nothing recorded yet */
	else if (rc != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (o.today) {
		rc = x.st != NULL ? bt_alerts_list(&x, o.since) : 0;
		goto out;
	}
	/* The runs row first: a run that fails is seen (bt-watchdog). */
	if (!x.dry && (run = bt_run_begin(x.st, "", err)) < 0) {
		bt_alerts_failed(&x, "%s", err);
		rc = (int)-run;
		goto out;
	}
	/* Then stdin's events, before anything about Telegram can fail. */
	if (!isatty(STDIN_FILENO))
		rc = bt_alerts_record_stdin(&x, &rs);
	if (!x.dry)
		bt_conf_events(x.st, true);
	bt_alerts_decide_due(&x, o.critical_only);
	if (bt_exit_worse(rc, BT_EX_DATAERR) != BT_EX_DATAERR)
		goto end;	/* the state file failed */
	if ((s = bt_alerts_open_telegram(&x, err)) != 0) {
		bt_alerts_failed(&x, "%s", err);
		rc = bt_exit_worse(rc, s);
		if (x.tg.http == NULL && !x.offline)
			goto end;	/* nothing can be sent */
	}
	if ((s = bt_alerts_load_pending(&x)) != 0) {
		rc = bt_exit_worse(rc, s);
		goto end;
	}
	rc = bt_exit_worse(rc, daily(&x));
	if (bt_alerts_rate_limited(&x))
		rc = bt_exit_worse(rc, BT_EX_TEMPFAIL);
	else
		rc = bt_exit_worse(rc, bt_alerts_send(&x));
end:
	rc = bt_exit_worse(rc, x.exit);
	rc = bt_exit_worse(rc, bt_conf_status());
	finish(&x, &rs, run, rc);
out:
	bt_alerts_free(&x);
	bt_close(x.st);
	return bt_finish(rc);
}
