/*
 * bt-validate - one run says whether the store can be trusted: staleness
 * and coverage, gaps, candle sanity, schema and, on request, SQLite's own
 * integrity check.
 *
 *	bt-validate [-nqv] [-d db] [--full] [--integrity quick | full] [--tf list]
 *	    [--if-due]
 *	bt-validate --gaps [-v] [-d db] [--full] [--tf list]
 *	bt-validate --accept [symbol tf from to [note]]
 *
 * Invariants:
 * - The store is opened read-only and never changed.  The only writes go
 *   to the state file: events, this run's `runs' row, cleared dirty
 *   ranges and accepted gaps (-n writes nothing at all).
 * - The routine run checks what changed (the dirty ranges bt-fetch
 *   recorded), --full every candle; a range holding a finding stays dirty
 *   (bt_scan.c).  A corrupt file clears no range.
 * - One JSON line per finding, each also an event; exit 0 when nothing is
 *   CRITICAL, 1 otherwise.  A store that will not open is a finding.
 *
 * The checks are bt_check.c's (findings, schema, staleness, integrity)
 * and bt_scan.c's (gaps and sanity); accepted ranges are bt_accept.c's.
 * From an option to its code: the routine run, bt_scan_routine(); --full,
 * bt_scan_full(); --integrity, bt_check_integrity_start(); --gaps, the
 * gap records of bt_scan.c; --tf, the run's timeframes (struct
 * bt_check); --accept, bt_accept(); --if-due, due_now() here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_accept.h"
#include "bt_check.h"
#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_scan.h"
#include "bt_state.h"

/* The options that shape the program's run rather than the checks. */
struct opts {
	bool	 quiet, accept, if_due, tf_opt;
	const char *job;	/* the job a run counts for (runs.job) */
};

static const struct option longopts[] = {
	BT_COMMON_LONGOPTS,
	{ "full", no_argument, NULL, 'F' },
	{ "gaps", no_argument, NULL, 'G' },
	{ "integrity", required_argument, NULL, 'I' },
	{ "tf", required_argument, NULL, 'T' },
	{ "accept", no_argument, NULL, 'A' },
	{ "if-due", no_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-validate [-nqv] [-d db] [--full] "
	    "[--integrity quick | full] [--tf list] [--if-due]\n"
	    "       bt-validate --gaps [-v] [-d db] [--full] [--tf list]\n"
	    "       bt-validate --accept [symbol tf from to [note]]\n");
	exit(code);
}

/* Sets x's and o's options; 0, or the exit code (said). */
static int
options(int argc, char *argv[], struct bt_check *x, struct opts *o)
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
		case 'F':
			x->full = true;
			break;
		case 'G':
			x->gaps = true;
			break;
		case 'I':
			if (strcmp(optarg, "quick") != 0 &&
			    strcmp(optarg, "full") != 0) {
				bt_warnx("--integrity: '%s' is not quick or "
				    "full", optarg);
				return BT_EX_USAGE;
			}
			x->integrity = optarg;
			break;
		case 'T':
			rc = bt_conf_set("BT_TIMEFRAMES", optarg, err);
			o->tf_opt = true;
			break;
		case 'A':
			o->accept = true;
			break;
		case 'D':
			o->if_due = true;
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
	x->dry = c.dry;
	o->quiet = c.quiet;
	x->verbose = c.verbose;
	if ((!o->accept && argc > optind) || (o->accept && (x->gaps ||
	    x->full || x->integrity || x->dry || o->if_due)) ||
	    (x->gaps && x->integrity) || (o->if_due && (x->gaps || x->dry)))
		usage(stderr, BT_EX_USAGE);
	/*
	 * The job a run counts for: the weekly full check, the daily routine
	 * run over every timeframe, or a gate restricted by --tf (which
	 * never stands in for the daily run).
	 */
	o->job = x->full ? "full" : o->tf_opt ? "tf" : "";
	x->ntfs = bt_conf_list("BT_TIMEFRAMES", &x->tfs);
	/* --full without --integrity reads the whole file anyway. */
	if (x->full && x->integrity == NULL && !x->gaps)
		x->integrity = "full";
	return 0;
}

/* Read-only without writes to make (-n, --gaps), and only if it is there. */
static int
open_state(struct bt_check *x, char *err)
{
	char *spath = bt_state_path();
	int rc = 0;

	if (x->dry || x->gaps) {
		if (access(spath, F_OK) == 0)
			rc = bt_open_state(spath, BT_DB_RO, &x->st, err);
	} else
		rc = bt_open_state(spath, BT_DB_CREATE, &x->st, err);
	free(spath);
	return rc;
}

/* The summary line so far: the mode and the checked timeframes. */
static json_t *
summary_begin(const struct bt_check *x)
{
	json_t *sum;
	int i;

	sum = bt_rec("summary");
	json_object_set_new(sum, "mode", json_string(x->gaps ? "gaps" :
	    x->full ? "full" : "routine"));
	json_object_set_new(sum, "tf", json_array());
	for (i = 0; i < x->ntfs; i++)
		json_array_append_new(json_object_get(sum, "tf"),
		    json_string(x->tfs[i]));
	return sum;
}

/* The counts; printed unless -q, and one line in the staleness log. */
static void
summary_end(const struct bt_check *x, json_t *sum, int rc, double t0,
    bool quiet)
{
	char *lp;

	json_object_set_new(sum, "scanned_pairs", json_integer(x->pairs));
	json_object_set_new(sum, "ranges", json_integer(x->ranges));
	json_object_set_new(sum, "candles", json_integer(x->candles));
	json_object_set_new(sum, "findings", json_integer(x->nwarn + x->ncrit));
	json_object_set_new(sum, "warning", json_integer(x->nwarn));
	json_object_set_new(sum, "critical", json_integer(x->ncrit));
	json_object_set_new(sum, "accepted", json_integer(x->naccepted));
	json_object_set_new(sum, "exit", json_integer(rc));
	bt_rec_dur(sum, "seconds", bt_mono() - t0);
	if (x->stalelog != NULL) {
		/* One line per run, so a quiet log still shows the runs. */
		lp = bt_json_line(sum);
		if (lp != NULL)
			fprintf(x->stalelog, "%s\n", lp);
		free(lp);
	}
	if (!quiet)
		bt_emit(json_incref(sum));
}

/* Ends this run's runs row with the summary; the run's exit code. */
static int
run_end(struct bt_check *x, int64_t run, int rc, json_t *sum)
{
	char err[BT_ERRLEN];
	json_t *rsum;
	int orc;

	rsum = json_deep_copy(sum);
	if (rsum != NULL) {
		json_object_del(rsum, "ts");
		json_object_del(rsum, "prog");
		json_object_del(rsum, "event");
	}
	if ((orc = bt_run_end(x->st, run, rc, rsum, err)) != 0) {
		bt_warnx("%s", err);
		rc = bt_exit_worse(rc, orc);
	}
	json_decref(rsum);
	return rc;
}

/*
 * The checks of an open store, in order: the schema; integrity, in a
 * thread of its own; staleness and coverage; gaps and sanity; then the
 * dirty ranges that checked clean are cleared, unless the file is
 * corrupt.
 */
static void
check_store(struct bt_check *x, struct bt_scan *sc, json_t *sum)
{
	struct bt_integ integ;
	bool schema_ok;
	char err[BT_ERRLEN];
	int rc = 0;

	schema_ok = bt_check_schema(x);
	if (x->integrity != NULL)
		bt_check_integrity_start(x, &integ);
	if (!x->gaps && schema_ok)
		bt_check_staleness(x, sum);
	if (schema_ok && (rc = bt_scan_dirty_load(sc, err)) == 0) {
		if (x->full)
			bt_scan_full(sc);
		else
			bt_scan_routine(sc);
	} else if (schema_ok)
		bt_warnx("%s", err);
	/* Integrity before clearing: a corrupt file clears nothing. */
	if (x->integrity != NULL)
		bt_check_integrity_end(x, &integ, sum);
	if (schema_ok && rc == 0 && !x->gaps && (x->integrity == NULL ||
	    integ.n == 0))
		bt_scan_clear(sc);
	x->exit = bt_exit_worse(x->exit, rc);
}

/* Is the job due (--if-due)?  Not due, or failed: false, and *rc. */
static bool
due_now(struct bt_check *x, const struct opts *o, int *rc)
{
	char err[BT_ERRLEN];
	int64_t slot;
	bool due;

	if ((*rc = bt_due(x->st, "bt-validate", o->job, 1, bt_conf(x->full ?
	    "BT_VALIDATE_FULL_SLOT" : "BT_VALIDATE_SLOT"), &due, &slot,
	    err)) != 0) {
		bt_warnx("%s", err);
		return false;
	}
	if (!due)
		bt_not_due(*o->job ? o->job : "daily", slot);
	return due;
}

/*
 * This run's runs row, and the seed's staleness log: without the log the
 * checks run, and the run exits 73.  0, or the exit code (said).
 */
static int
run_begin(struct bt_check *x, const char *job, int64_t *run)
{
	char err[BT_ERRLEN];
	int rc;

	if ((*run = bt_run_begin(x->st, job, err)) < 0) {
		bt_warnx("%s", err);
		return (int)-*run;
	}
	if ((rc = bt_check_stalelog(x, err)) != 0) {
		bt_warnx("%s", err);
		x->exit = rc;
	}
	return 0;
}

/*
 * Opens the store read-only and checks it.  A store that will not open
 * is a finding (contracts.md); a busy one is 75, with no summary.
 */
static int
validate(struct bt_check *x, struct bt_scan *sc, json_t *sum)
{
	char err[BT_ERRLEN], *path = bt_store_path();
	int rc;

	rc = bt_open_store(path, BT_DB_RO, &x->db, err);
	free(path);
	if (rc == BT_EX_TEMPFAIL) {
		bt_warnx("%s", err);
		return rc;
	}
	if (rc != 0) {
		bt_check_finding(x, "integrity", "CRITICAL", "integrity", NULL,
		    NULL, json_pack("{s:s}", "error", err),
		    "the store will not open: %s", err);
		if (x->gaps) {
			bt_warnx("%s", err);
			x->exit = BT_EX_FOUND;
		}
	} else
		check_store(x, sc, sum);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct bt_check x;
	struct bt_accepted acc = { 0 };
	struct bt_scan *sc = NULL;
	struct opts o = { 0 };
	char err[BT_ERRLEN];
	int rc;
	int64_t run = -1;
	double t0 = bt_mono();
	json_t *sum = NULL;

	memset(&x, 0, sizeof(x));
	if ((rc = bt_start("bt-validate", argc, argv, usage)) != 0)
		return rc;
	if ((rc = options(argc, argv, &x, &o)) != 0)
		return rc;
	argc -= optind;
	argv += optind;

	/* A restore or rollback owns the store (contracts.md). */
	if (!o.accept &&
	    bt_store_locked_say("not validating a store being replaced")) {
		rc = BT_EX_TEMPFAIL;
		goto out;
	}
	if ((rc = open_state(&x, err)) != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (o.accept) {
		if (argc != 0 && argc != 4 && argc != 5)
			usage(stderr, BT_EX_USAGE);
		if ((rc = bt_accept(x.st, argc, argv, err)) != 0)
			bt_warnx("%s", err);
		goto out;
	}
	if ((rc = bt_accept_load(x.st, &acc, err)) != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (o.if_due && !due_now(&x, &o, &rc))
		goto out;
	if (!x.dry && !x.gaps && (rc = run_begin(&x, o.job, &run)) != 0)
		goto out;

	sum = summary_begin(&x);
	sc = bt_scan_new(&x, &acc);
	if ((rc = validate(&x, sc, sum)) != 0) {
		json_decref(sum);
		sum = NULL;
	} else {
		rc = x.exit;
		summary_end(&x, sum, rc, t0, o.quiet);
	}
	if (run > 0)
		rc = run_end(&x, run, rc, sum);
	json_decref(sum);
out:
	if (x.stalelog != NULL && fclose(x.stalelog) == EOF) {
		bt_warnx("logs/staleness_check.log: %s", strerror(errno));
		rc = bt_exit_worse(rc, BT_EX_IOERR);
	}
	bt_scan_free(sc);
	bt_accept_free(&acc);
	bt_list_free(x.tfs, x.ntfs);
	bt_close(x.db);
	bt_close(x.st);
	return bt_finish(rc);
}
