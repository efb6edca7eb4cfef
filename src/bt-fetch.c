/*
 * bt-fetch - keep every configured (symbol, timeframe) of the store
 * current from Binance, and load candles from files.
 *
 *	bt-fetch [-nqv] [-d db] [--since date] [--symbols list] [--tf list]
 *	bt-fetch --repair days [...]
 *	bt-fetch --gaps [...] < gap-records
 *	bt-fetch --import file... [--symbol sym] [--interval tf]
 *	bt-fetch --migrate [-d db]
 *	bt-fetch --source sentiment|macro [-nqv] [-d db] [--symbols list]
 *	    [--if-due]
 *	bt-fetch --indicators [--rebuild] [-nqv] [-d db]
 *	bt-fetch --check [-v]
 *
 * Reads the configuration (bt_conf.c), Binance, FRED, files and stdin;
 * writes the store and the state file under run/write.lock, and JSON
 * lines on stdout (bt-fetch(1), OUTPUT).  Where each job is done:
 *	plain, --repair		bt_update_pairs()	bt_update.c
 *	--gaps			bt_update_gaps()	bt_update.c
 *	--import		bt_ingest_import()	bt_ingest.c
 *	--indicators		bt_ingest_indicators()	bt_ingest.c
 *	--source sentiment	bt_context_sentiment()	bt_context.c
 *	--source macro		bt_context_macro()	bt_context.c
 *	--migrate		bt_store_migrate_plain() bt_migrate.c
 *	--check			bt_upstream_check()	bt_upstream.c
 * Requests, retries, pacing and the kline pager are bt_binance.c's.
 *
 * Invariants of the program:
 * - Every configuration key the run will use is checked before any work
 *   (exit 78), and --since before the store is opened (exit 64).
 * - --gaps reads stdin to the end before it looks at the store: in
 *   `bt-backup --restore | bt-fetch --gaps' the restore holds db/LOCKED
 *   until it exits.  While db/LOCKED is present nothing is written
 *   (exit 75).
 * - A run that writes records its `runs' row, begun before the job and
 *   ended after it with the totals; a --source run with --if-due that
 *   is not due writes none.
 * - Until a recorded 418 ban ends, no run contacts Binance (exit 75).
 * - A candle run (plain, --repair, --gaps) ends by BT_FETCH_DEADLINE
 *   after the program started; what is left waits for the next run.
 * - --check writes nothing: no store, the state file read-only.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_context.h"
#include "bt_ingest.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_state.h"
#include "bt_update.h"
#include "bt_upstream.h"

enum mode { M_UPDATE, M_REPAIR, M_GAPS, M_IMPORT, M_MIGRATE, M_SOURCE,
    M_INDICATORS, M_CHECK };

/* What the command line asks for. */
struct opts {
	enum mode	 mode;
	bool		 dry, quiet, verbose, if_due, rebuild;
	int		 repair;		/* --repair days */
	const char	*since, *symbol, *interval, *source;
	char		**files;		/* --import's */
	int		 nfiles;
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-fetch [-nqv] [-d db] [--since date] [--symbols list] "
	    "[--tf list]\n"
	    "       bt-fetch --repair days [-nqv] [-d db] [--symbols list] "
	    "[--tf list]\n"
	    "       bt-fetch --gaps [-nqv] [-d db]\n"
	    "       bt-fetch --import file ... [-nqv] [-d db] [--symbol sym] "
	    "[--interval tf]\n"
	    "       bt-fetch --migrate [-d db]\n"
	    "       bt-fetch --source sentiment|macro [-nqv] [-d db] "
	    "[--symbols list] [--if-due]\n"
	    "       bt-fetch --indicators [--rebuild] [-nqv] [-d db]\n"
	    "       bt-fetch --check [-v]\n");
	exit(code);
}

/* -------------------------------------------------------------- options */

enum { OPT_SOURCE = 256, OPT_IF_DUE, OPT_INDICATORS, OPT_REBUILD,
    OPT_CHECK };

static const struct option longopts[] = {
	BT_COMMON_LONGOPTS,
	{ "since", required_argument, NULL, 'S' },
	{ "symbols", required_argument, NULL, 'Y' },
	{ "tf", required_argument, NULL, 'T' },
	{ "repair", required_argument, NULL, 'R' },
	{ "gaps", no_argument, NULL, 'G' },
	{ "import", no_argument, NULL, 'I' },
	{ "symbol", required_argument, NULL, 's' },
	{ "interval", required_argument, NULL, 'i' },
	{ "migrate", no_argument, NULL, 'M' },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "if-due", no_argument, NULL, OPT_IF_DUE },
	{ "indicators", no_argument, NULL, OPT_INDICATORS },
	{ "rebuild", no_argument, NULL, OPT_REBUILD },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ NULL, 0, NULL, 0 }
};

/* An option's value of a configuration key; `word' as it was given. */
static int
set(const char *key, const char *val, const char *word)
{
	char err[BT_ERRLEN];
	int rc;

	if ((rc = bt_conf_set(key, val, err)) != 0)
		bt_warnx("%s: %s", word, err);
	return rc;
}

/* One option into o or the configuration: 0, or the exit code. */
static int
option(int ch, const char *arg, const char *word, struct opts *o)
{
	switch (ch) {
	case 'S':
		o->since = arg;
		break;
	case 'Y':
		return set("BT_SYMBOLS", arg, word);
	case 'T':
		return set("BT_TIMEFRAMES", arg, word);
	case 'R':
		o->mode = M_REPAIR;
		o->repair = atoi(arg);
		if (o->repair < 1 || o->repair > 3650 ||
		    strspn(arg, "0123456789") != strlen(arg)) {
			bt_warnx("--repair: '%s' is not a number of days "
			    "(1..3650)", arg);
			return BT_EX_USAGE;
		}
		break;
	case 'G':
		o->mode = M_GAPS;
		break;
	case 'I':
		o->mode = M_IMPORT;
		break;
	case 's':
		if (!bt_symbol_ok(arg)) {
			bt_warnx("--symbol: '%s' is not a Binance symbol", arg);
			return BT_EX_USAGE;
		}
		o->symbol = arg;
		break;
	case 'i':
		if (bt_tf_ms(arg) == 0) {
			bt_warnx("--interval: '%s' is not a Binance interval",
			    arg);
			return BT_EX_USAGE;
		}
		o->interval = arg;
		break;
	case 'M':
		o->mode = M_MIGRATE;
		break;
	case OPT_SOURCE:
		if (strcmp(arg, "sentiment") != 0 &&
		    strcmp(arg, "macro") != 0) {
			bt_warnx("--source: '%s' is not sentiment or macro",
			    arg);
			return BT_EX_USAGE;
		}
		o->mode = M_SOURCE;
		o->source = arg;
		break;
	case OPT_IF_DUE:
		o->if_due = true;
		break;
	case OPT_INDICATORS:
		o->mode = M_INDICATORS;
		break;
	case OPT_REBUILD:
		o->rebuild = true;
		break;
	case OPT_CHECK:
		o->mode = M_CHECK;
		break;
	case 'h':
		usage(stdout, 0);
		break;
	default:
		usage(stderr, BT_EX_USAGE);
	}
	return 0;
}

/* The command line into o: 0, or the exit code (usage() exits). */
static int
options(int argc, char *argv[], struct opts *o)
{
	struct bt_common c = { 0 };
	int ch, rc;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, BT_COMMON_OPTS "h", longopts,
	    NULL)) != -1)
		if (bt_common_opt(ch, optarg, &c, &rc) ? rc != 0 :
		    (rc = option(ch, optarg, argv[optind - 1], o)) != 0)
			return rc;
	o->dry = c.dry;
	o->quiet = c.quiet;
	o->verbose = c.verbose;
	argc -= optind;
	argv += optind;
	if ((o->mode == M_IMPORT) != (argc > 0) ||
	    (o->if_due && o->mode != M_SOURCE) ||
	    (o->rebuild && o->mode != M_INDICATORS))
		usage(stderr, BT_EX_USAGE);
	o->files = argv;
	o->nfiles = argc;
	return 0;
}

/*
 * The configuration this run will use, checked before any work, and
 * where a pair never seen starts (*since).
 */
static int
check(struct bt_ingest *x, const struct opts *o, double t0, int64_t *since)
{
	char err[BT_ERRLEN];
	int rc = 0;

	if (o->mode != M_SOURCE && o->mode != M_MIGRATE && o->mode != M_CHECK)
		rc = bt_ingest_ind_config(x, o->mode == M_INDICATORS, err);
	if (rc == 0 && o->mode == M_SOURCE)
		rc = bt_context_config(o->source, err);
	if (rc != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	*since = bt_now_ms() - bt_conf_long("BT_SINCE_DAYS") * 86400000LL;
	if (o->since != NULL && bt_parse_time(o->since, since) == -1) {
		bt_warnx("--since: '%s' is not an ISO 8601 UTC date", o->since);
		return BT_EX_USAGE;
	}
	/* The candle runs end by the deadline, from the program's start. */
	if ((o->mode == M_UPDATE || o->mode == M_REPAIR ||
	    o->mode == M_GAPS) && bt_conf_double("BT_FETCH_DEADLINE") > 0)
		x->deadline = t0 + bt_conf_double("BT_FETCH_DEADLINE");
	return 0;
}

/* --gaps: all of stdin, as a stream of its own; NULL when unreadable. */
static FILE *
gaps_input(char **buf)
{
	char err[BT_ERRLEN];
	size_t len = 0;
	FILE *in;

	if ((*buf = bt_read_file("-", (size_t)1 << 28, &len, err)) == NULL) {
		bt_warnx("%s", err);
		return NULL;
	}
	if (len == 0) {
		(*buf)[0] = '\n';	/* fmemopen needs a byte */
		len = 1;
	}
	if ((in = fmemopen(*buf, len, "r")) == NULL)
		abort();
	return in;
}

/* --migrate: the seed's plain tables into bt's layout, and its line. */
static int
migrate(sqlite3 *db)
{
	char err[BT_ERRLEN];
	json_t *rec;
	int rc;

	rec = bt_rec("migrate");
	if (!bt_store_is_plain(db))
		json_object_set_new(rec, "status",
		    json_string("nothing to migrate"));
	else if ((rc = bt_store_migrate_plain(db, rec, err)) != 0) {
		bt_warnx("--migrate: %s", err);
		json_decref(rec);
		return rc;
	} else
		json_object_set_new(rec, "status", json_string("migrated"));
	bt_emit(rec);
	return 0;
}

/* The job's name in `runs' and for --if-due. */
static const char *
job_name(const struct opts *o)
{
	switch (o->mode) {
	case M_IMPORT:
		return "import";
	case M_GAPS:
		return "gaps";
	case M_REPAIR:
		return "repair";
	case M_SOURCE:
		return o->source;
	case M_INDICATORS:
		return "indicators";
	default:
		return "";
	}
}

/* contracts.md, Due: the 02:00 job runs hourly with --if-due. */
static int
due(sqlite3 *st, const struct opts *o, bool *is_due)
{
	char err[BT_ERRLEN];
	int64_t slot;
	int rc;

	*is_due = true;
	if (!o->if_due)
		return 0;
	if ((rc = bt_due(st, "bt-fetch", job_name(o), 0, bt_conf(strcmp(
	    o->source, "macro") == 0 ? "BT_MACRO_SLOT" : "BT_SENTIMENT_SLOT"),
	    is_due, &slot, err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (!*is_due)
		bt_not_due(job_name(o), slot);
	return 0;
}

/* The job itself, by mode. */
static int
job(struct bt_ingest *x, const struct opts *o, int64_t since, FILE *gaps)
{
	if (o->mode == M_IMPORT)
		return bt_ingest_import(x, o->files, o->nfiles, o->symbol,
		    o->interval);
	if (o->mode == M_INDICATORS)
		return bt_ingest_indicators(x);
	if (o->mode == M_SOURCE && strcmp(o->source, "macro") == 0)
		return bt_context_macro(x);
	/* contracts.md: until a 418 ban ends, no request at all. */
	if (bt_ingest_banned(x))
		return BT_EX_TEMPFAIL;
	if (o->mode == M_SOURCE)
		return bt_context_sentiment(x);
	if (o->mode == M_GAPS)
		return bt_update_gaps(x, gaps);
	return bt_update_pairs(x, since, o->repair);
}

/* The run's `runs' row ends with its totals. */
static void
end_run(struct bt_ingest *x, int64_t run, int rc, double t0)
{
	char err[BT_ERRLEN];
	json_t *sum;

	sum = json_pack("{s:I, s:I, s:I, s:I}", "rows", x->rows, "received",
	    x->received, "requests", (json_int_t)x->bn.requests, "retries",
	    (json_int_t)x->bn.retries);
	if (!bt_now_frozen())
		json_object_set_new(sum, "seconds",
		    json_real(round((bt_mono() - t0) * 1000) / 1000));
	if (bt_run_end(x->st, run, rc, sum, err) != 0)
		bt_warnx("%s", err);
	json_decref(sum);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct bt_ingest x;
	char err[BT_ERRLEN], *path = NULL, *spath = NULL, *gaps_buf = NULL;
	FILE *gaps_in = NULL;
	int64_t since, run = -1;
	double t0 = bt_mono();
	bool is_due;
	int rc;

	/* contracts.md: bt-fetch is the program that needs the FRED key. */
	bt_conf_want("FRED_API_KEY");
	if ((rc = bt_start("bt-fetch", argc, argv, usage)) != 0)
		return rc;
	if ((rc = options(argc, argv, &o)) != 0)
		return rc;
	bt_ingest_init(&x, o.dry, o.quiet, o.verbose);
	if ((rc = check(&x, &o, t0, &since)) != 0)
		return rc;
	if (o.mode == M_CHECK) {
		rc = bt_upstream_check(o.verbose);
		goto out;
	}
	srandom((unsigned)(getpid() ^ (unsigned)bt_now_ms()));
	if (o.mode == M_GAPS && (gaps_in = gaps_input(&gaps_buf)) == NULL)
		return bt_finish(BT_EX_NOINPUT);
	if (bt_store_locked_say("not writing")) {
		rc = BT_EX_TEMPFAIL;
		goto out;
	}
	path = bt_store_path();
	spath = bt_state_path();
	if ((rc = bt_open_state(spath, BT_DB_CREATE, &x.st, err)) != 0 ||
	    (rc = bt_open_store(path, BT_DB_CREATE | (o.mode == M_MIGRATE ?
	    BT_DB_PLAIN_OK : 0), &x.db, err)) != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (o.mode == M_MIGRATE) {
		rc = migrate(x.db);
		goto out;
	}
	if ((rc = due(x.st, &o, &is_due)) != 0 || !is_due)
		goto out;
	if (x.ind && !x.dry && (rc = bt_ingest_ind_prepare(&x, o.rebuild)) != 0)
		goto out;
	if (!x.dry && (run = bt_run_begin(x.st, job_name(&o), err)) < 0) {
		rc = (int)-run;
		bt_warnx("%s", err);
		goto out;
	}
	rc = job(&x, &o, since, gaps_in);
	if (!x.dry && run > 0)
		end_run(&x, run, rc, t0);
out:
	if (gaps_in != NULL)
		fclose(gaps_in);
	free(gaps_buf);
	bt_parse_release();
	bt_ingest_free(&x);
	bt_close(x.db);
	bt_close(x.st);
	free(path);
	free(spath);
	return bt_finish(rc);
}
