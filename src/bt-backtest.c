/*
 * bt-backtest - backtest strategies on the store's candles (or on files),
 * isolated from live trading; with --job, the seed's Daily Backtest.
 *
 *	bt-backtest [options] [file ...]		ad hoc: JSON lines only
 *	bt-backtest --job [--if-due] [options]		the crontab's daily job
 *	bt-backtest --grid key=range ... [--shard k/n]	parameter sweeps
 *	bt-backtest --grid ... --walk-forward spec	out-of-sample evaluation
 *
 * Where things are (bt-backtest(1)'s sections):
 *	the candles, files, window, --signals	bt_input.c (parsers: bt_parse.c)
 *	BAR SIZES, --tf, --resample		bt_bars.c, built by bt_input.c
 *	--strategy, -p, STRATEGIES		bt_strategy.c
 *	EXECUTION, --compat, --fee-fixed	bt_engine.c
 *	METRICS					bt_metrics.c
 *	--grid, --shard, the portfolio		bt_sweep.c
 *	WALK-FORWARD, --objective		bt_walk.c
 *	the lines, --trades, --equity		bt_report.c
 *	--job, --if-due, the status, results	bt_job.c (and equity.csv, .png)
 *
 * Invariants:
 * - The store is opened read-only and the state file never: no order is
 *   sent and no socket opened.
 * - Ad hoc runs write stdout (and --trades, --equity) only; the job also
 *   its status and results files.
 * - Every option is checked before anything is read or written, in the
 *   order below, so the first wrong one is the one reported.
 * - With BT_NOW set, a rerun prints the same bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_job.h"
#include "bt_walk.h"
#include "bt_state.h"

/* What the command line gave, before the configuration is read. */
struct opts {
	const char	*tf, *strat, *compat, *last, *warmup, *shard, *signals;
	const char	*symbol, *trades, *equity, *resample, *walk, *objective;
	struct { const char *key, *val, *opt; } sets[16];
	int		 nsets, nparams, ngrid;
	char		**params, **grid;
	int		 shorts;		/* -1: BACKTEST_SHORT says */
	unsigned	 given;			/* BT_GIVEN_*: fees, lot, size */
	bool		 symbols, job, if_due, verbose;
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-backtest [-qv] [-d db] [--tf tf] [--symbols list] "
	    "[--last n]\n"
	    "           [--from date] [--to date] [--warmup n] "
	    "[--strategy name]\n"
	    "           [-p key=value] [--grid key=range] [--shard k/n] "
	    "[--signals file]\n"
	    "           [--compat backtesting.py] [--cash n] [--fee bps] "
	    "[--fee-fixed cash]\n"
	    "           [--slippage bps] [--size fraction] [--lot step] "
	    "[--short | --long-only]\n"
	    "           [--resample tf] [--walk-forward spec] "
	    "[--objective metric]\n"
	    "           [--trades file] [--equity file] [--symbol sym] "
	    "[file ...]\n"
	    "       bt-backtest --job [--if-due] [-qv] [-d db] [options]\n");
	exit(code);
}

/* ---------------------------------------------------------------- options */

enum {
	O_TF = 256, O_SYMBOLS, O_LAST, O_FROM, O_TO, O_WARMUP, O_STRATEGY,
	O_GRID, O_SHARD, O_SIGNALS, O_COMPAT, O_CASH, O_FEE, O_SLIPPAGE,
	O_SIZE, O_LOT, O_SHORT, O_LONGONLY, O_TRADES, O_EQUITY, O_SYMBOL,
	O_JOB, O_IFDUE, O_FEEFIXED, O_RESAMPLE, O_WALK, O_OBJECTIVE
};

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "param", required_argument, NULL, 'p' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "tf", required_argument, NULL, O_TF },
	{ "symbols", required_argument, NULL, O_SYMBOLS },
	{ "last", required_argument, NULL, O_LAST },
	{ "from", required_argument, NULL, O_FROM },
	{ "to", required_argument, NULL, O_TO },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "strategy", required_argument, NULL, O_STRATEGY },
	{ "grid", required_argument, NULL, O_GRID },
	{ "shard", required_argument, NULL, O_SHARD },
	{ "signals", required_argument, NULL, O_SIGNALS },
	{ "compat", required_argument, NULL, O_COMPAT },
	{ "cash", required_argument, NULL, O_CASH },
	{ "fee", required_argument, NULL, O_FEE },
	{ "fee-fixed", required_argument, NULL, O_FEEFIXED },
	{ "slippage", required_argument, NULL, O_SLIPPAGE },
	{ "size", required_argument, NULL, O_SIZE },
	{ "lot", required_argument, NULL, O_LOT },
	{ "short", no_argument, NULL, O_SHORT },
	{ "long-only", no_argument, NULL, O_LONGONLY },
	{ "trades", required_argument, NULL, O_TRADES },
	{ "equity", required_argument, NULL, O_EQUITY },
	{ "symbol", required_argument, NULL, O_SYMBOL },
	{ "job", no_argument, NULL, O_JOB },
	{ "if-due", no_argument, NULL, O_IFDUE },
	{ "resample", required_argument, NULL, O_RESAMPLE },
	{ "walk-forward", required_argument, NULL, O_WALK },
	{ "objective", required_argument, NULL, O_OBJECTIVE },
	{ NULL, 0, NULL, 0 }
};

/*
 * Options that set a configuration key, applied once bt.conf is read;
 * `given' marks those the backtesting.py mode honours from the command
 * line only.
 */
static const struct {
	int		 ch;
	const char	*key, *opt;
	unsigned	 given;
} confopts[] = {
	{ 'd', "BT_DB", "-d", 0 },
	{ O_SYMBOLS, "BT_SYMBOLS", "--symbols", 0 },
	{ O_CASH, "BACKTEST_CASH", "--cash", 0 },
	{ O_FEE, "BACKTEST_FEE_BPS", "--fee", BT_GIVEN_FEE },
	{ O_FEEFIXED, "BACKTEST_FEE_FIXED", "--fee-fixed", BT_GIVEN_FIXED },
	{ O_SLIPPAGE, "BACKTEST_SLIPPAGE_BPS", "--slippage", BT_GIVEN_SLIP },
	{ O_SIZE, "BACKTEST_SIZE", "--size", BT_GIVEN_SIZE },
	{ O_LOT, "BACKTEST_LOT", "--lot", BT_GIVEN_LOT },
};

static void
push(char ***v, int *n, char *s)
{
	*v = bt_xrealloc(*v, (size_t)*n + 1, sizeof(char *));
	(*v)[(*n)++] = s;
}

/*
 * One option: a flag, a value kept as given (checked once bt.conf is
 * read), a configuration key, or one checked at once.  0 or an exit code.
 */
static int
option(int ch, struct opts *o, struct run *r)
{
	const struct { int ch; bool *flag; const char **val; } opts[] = {
		{ 'q', &r->quiet, NULL }, { 'v', &o->verbose, NULL },
		{ O_JOB, &o->job, NULL }, { O_IFDUE, &o->if_due, NULL },
		{ O_TF, NULL, &o->tf }, { O_LAST, NULL, &o->last },
		{ O_WARMUP, NULL, &o->warmup }, { O_STRATEGY, NULL, &o->strat },
		{ O_SHARD, NULL, &o->shard }, { O_SIGNALS, NULL, &o->signals },
		{ O_COMPAT, NULL, &o->compat }, { O_TRADES, NULL, &o->trades },
		{ O_EQUITY, NULL, &o->equity }, { O_RESAMPLE, NULL, &o->resample },
		{ O_WALK, NULL, &o->walk }, { O_OBJECTIVE, NULL, &o->objective },
	};
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].ch == ch) {
			if (opts[i].flag != NULL)
				*opts[i].flag = true;
			else
				*opts[i].val = optarg;
			return 0;
		}
	for (i = 0; i < sizeof(confopts) / sizeof(confopts[0]); i++)
		if (confopts[i].ch == ch) {
			if (o->nsets < 16) {
				o->sets[o->nsets].key = confopts[i].key;
				o->sets[o->nsets].val = optarg;
				o->sets[o->nsets++].opt = confopts[i].opt;
			}
			o->symbols |= ch == O_SYMBOLS;
			o->given |= confopts[i].given;
			return 0;
		}
	switch (ch) {
	case 'h':
		usage(stdout, 0);
		break;
	case 'p':
		push(&o->params, &o->nparams, optarg);
		break;
	case O_GRID:
		push(&o->grid, &o->ngrid, optarg);
		break;
	case O_SHORT:
	case O_LONGONLY:
		o->shorts = ch == O_SHORT;
		break;
	case O_FROM:
	case O_TO:
		if (bt_parse_time(optarg, ch == O_FROM ? &r->in.from :
		    &r->in.to) == -1) {
			bt_warnx("--%s '%s': not an ISO 8601 UTC time",
			    ch == O_FROM ? "from" : "to", optarg);
			return BT_EX_USAGE;
		}
		break;
	case O_SYMBOL:
		if (!bt_symbol_ok(optarg)) {
			bt_warnx("--symbol '%s': not a symbol "
			    "(^[A-Z0-9]{2,20}$)", optarg);
			return BT_EX_USAGE;
		}
		o->symbol = optarg;
		break;
	default:
		usage(stderr, BT_EX_USAGE);
	}
	return 0;
}

/* The command line, then bt.conf under the options that set its keys. */
static int
parse_options(int argc, char *argv[], struct opts *o, struct run *r)
{
	char err[BT_ERRLEN];
	int ch, rc, i;

	o->shorts = -1;
	while ((ch = getopt_long(argc, argv, "d:hp:qv", longopts, NULL)) !=
	    -1)
		if ((rc = option(ch, o, r)) != 0)
			return rc;
	if ((rc = bt_conf_load(err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	for (i = 0; i < o->nsets; i++)
		if ((rc = bt_conf_set(o->sets[i].key, o->sets[i].val,
		    err)) != 0) {
			bt_warnx("%s '%s': %s", o->sets[i].opt, o->sets[i].val,
			    err);
			return rc;
		}
	if (o->if_due && !o->job)
		usage(stderr, BT_EX_USAGE);
	return 0;
}

static int
parse_long(const char *opt, const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || *v < lo || *v > hi) {
		bt_warnx("%s '%s': want a whole number from %ld to %ld", opt, s,
		    lo, hi);
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- the run */

/* The strategy, its parameters and signals file. */
static int
setup_strategy(struct run *r, const struct opts *o)
{
	const char *name = o->strat, *sigconf = bt_conf("BACKTEST_SIGNALS");
	char err[BT_ERRLEN], **kv;
	int i, n;

	if (name == NULL)
		name = o->signals != NULL || (*sigconf != '\0' && o->job) ?
		    "signals" : bt_conf("BACKTEST_STRATEGY");
	if (bt_strategy_set(&r->st, name) == -1) {
		bt_warnx("strategy '%s': not one of sma-cross, ema-cross, rsi, "
		    "bbands, donchian, hold, signals", name);
		return BT_EX_USAGE;
	}
	if (r->st.id == S_SIGNALS) {
		r->st.sigfile = o->signals != NULL ? o->signals :
		    *sigconf != '\0' ? sigconf : NULL;
		if (r->st.sigfile == NULL) {
			bt_warnx("strategy signals needs --signals file");
			return BT_EX_USAGE;
		}
	} else if (o->signals != NULL) {
		bt_warnx("--signals goes with --strategy signals (the default "
		    "when --signals is given)");
		return BT_EX_USAGE;
	}
	/* BACKTEST_PARAMS go with BACKTEST_STRATEGY, not with --strategy. */
	if (name == bt_conf("BACKTEST_STRATEGY")) {
		n = bt_conf_list("BACKTEST_PARAMS", &kv);
		for (i = 0; i < n; i++)
			if (bt_set_param(&r->st, kv[i], err) == -1) {
				bt_warnx("%s", err);
				bt_warnx("BACKTEST_PARAMS: see above");
				bt_list_free(kv, n);
				return BT_EX_CONFIG;
			}
		bt_list_free(kv, n);
	}
	for (i = 0; i < o->nparams; i++)
		if (bt_set_param(&r->st, o->params[i], err) == -1) {
			bt_warnx("%s", err);
			return BT_EX_USAGE;
		}
	return 0;
}

/* The grid's combinations and this shard's share. */
static int
setup_grid(struct run *r, const struct opts *o)
{
	char err[BT_ERRLEN];
	int i;

	for (i = 0; i < o->ngrid; i++)
		if (bt_grid_add(r, o->grid[i], err) == -1) {
			if (*err != '\0')
				bt_warnx("%s", err);
			return BT_EX_USAGE;
		}
	if (r->ngrid > 0 && (o->job || o->trades || o->equity)) {
		bt_warnx("--grid goes without --job, --trades and --equity");
		return BT_EX_USAGE;
	}
	if (r->ngrid == 0 && !bt_params_ok(r->st.id, r->st.par)) {
		bt_warnx("%s: the parameters are inverted (fast < slow, lower "
		    "< upper)", bt_strats[r->st.id].name);
		return BT_EX_USAGE;
	}
	bt_grid_combos(r);
	if (r->ncombo == 0) {
		bt_warnx("--grid: no valid combination (fast < slow, lower < "
		    "upper)");
		return BT_EX_USAGE;
	}
	if ((o->walk != NULL || o->objective != NULL) && (o->walk == NULL ||
	    r->ngrid == 0 || bt_walk_parse(&r->walk, o->walk, o->objective,
	    err) == -1)) {
		bt_warnx("%s", o->walk == NULL ? "--objective goes with "
		    "--walk-forward" : r->ngrid == 0 ? "--walk-forward needs "
		    "--grid" : err);
		return BT_EX_USAGE;
	}
	r->sweep = r->ngrid > 0 || o->shard != NULL;
	r->sharded = o->shard != NULL;
	if (o->shard == NULL)
		return 0;
	if (sscanf(o->shard, "%ld/%ld", &r->shard_k, &r->shard_n) != 2 ||
	    r->shard_n < 1 || r->shard_k < 1 || r->shard_k > r->shard_n ||
	    strchr(o->shard, ' ')) {
		bt_warnx("--shard '%s': want K/N with 1 <= K <= N", o->shard);
		return BT_EX_USAGE;
	}
	if (o->job) {
		bt_warnx("--shard goes without --job");
		return BT_EX_USAGE;
	}
	return 0;
}

/* The execution model, then the window; nfiles: candles from files. */
static int
setup_window(struct run *r, const struct opts *o, int nfiles)
{
	struct input *in = &r->in;
	char err[BT_ERRLEN];
	int rc;

	if (o->compat != NULL && strcmp(o->compat, "backtesting.py") != 0) {
		bt_warnx("--compat '%s': only backtesting.py", o->compat);
		return BT_EX_USAGE;
	}
	bt_exec_conf(&r->ex, o->compat != NULL, o->given, o->shorts);
	if (r->ex.compat && !(r->ex.lot > 0)) {
		bt_warnx("--lot 0: backtesting.py trades whole multiples of a "
		    "unit (FractionalBacktest); give the unit");
		return BT_EX_USAGE;
	}
	if (r->ex.compat && r->walk.on) {
		bt_warnx("--walk-forward goes without --compat: backtesting.py "
		    "has no walk-forward, and no warm-up before the data");
		return BT_EX_USAGE;
	}
	in->compat = r->st.pandas = r->ex.compat;
	in->unit = r->ex.compat ? r->ex.lot : 0;
	if (o->tf != NULL &&
	    (rc = bt_conf_set("BACKTEST_TIMEFRAME", o->tf, err)) != 0) {
		bt_warnx("--tf '%s': %s", o->tf, err);
		return rc;
	}
	snprintf(in->tf, sizeof(in->tf), "%s", nfiles > 0 && o->tf == NULL ?
	    "" : bt_conf("BACKTEST_TIMEFRAME"));
	if (nfiles == 0)
		(void)bt_input_bar(in, in->tf, false);	/* checked by bt.conf */
	if (o->resample != NULL && (nfiles == 0 ||
	    bt_input_bar(in, o->resample, true) == -1)) {
		bt_warnx("--resample '%s': %s", o->resample, nfiles == 0 ?
		    "goes with files; on the store --tf builds the bars" :
		    "not a bar size (2h, 3d, 1w, 1M)");
		return BT_EX_USAGE;
	}
	if (o->last == NULL)
		in->last = nfiles > 0 ? 0 : bt_conf_long("BACKTEST_CANDLES");
	else if (parse_long("--last", o->last, 2, 100000000, &in->last) == -1)
		return BT_EX_USAGE;
	if (o->warmup != NULL && strcmp(o->warmup, "all") != 0 &&
	    parse_long("--warmup", o->warmup, 0, 100000000, &in->warmup) == -1)
		return BT_EX_USAGE;
	if (in->from >= 0 && o->last != NULL) {
		bt_warnx("--last and --from: one or the other");
		return BT_EX_USAGE;
	}
	if (in->from >= 0 && in->to >= 0 && in->to < in->from) {
		bt_warnx("--to is before --from");
		return BT_EX_USAGE;
	}
	return 0;
}

static FILE *
open_out(const char *path, const char *header)
{
	FILE *fp;

	if (strcmp(path, "-") == 0) {
		bt_warnx("stdout carries JSON lines; give --trades and --equity "
		    "a file");
		exit(BT_EX_USAGE);
	}
	if ((fp = fopen(path, "we")) == NULL) {
		bt_warnx("%s: %s", path, strerror(errno));
		exit(BT_EX_CANTCREAT);
	}
	fputs(header, fp);
	return fp;
}

/*
 * Signals that name no symbol of the input are counted and said; when
 * none names one, nothing would be tested: exit 65.
 */
static int
signals_unmatched(struct run *r)
{
	char names[256];
	const char *f = strcmp(r->st.sigfile, "-") == 0 ? "stdin" :
	    r->st.sigfile;
	size_t n = bt_signals_without(&r->st, r->in.syms, r->in.nsyms, names,
	    sizeof(names));

	r->st.sig_nosym = n;
	if (r->st.nsig == 0 || n == r->st.nsig) {
		bt_warnx("%s: %s", f, r->st.nsig == 0 ? "no signals" :
		    "no signal names a symbol of the input");
		if (n > 0)
			bt_warnx("%s: the signals name %s; the input has %s%s",
			    f, names, r->in.syms[0], r->in.nsyms > 1 ?
			    " and more" : "");
		return BT_EX_DATAERR;
	}
	if (n > 0)
		bt_warnx("%s: %zu of %zu signals name no symbol of the input "
		    "(%s): ignored", f, n, r->st.nsig, names);
	return 0;
}

/*
 * After the work: signals before the loaded candles, or of symbols left
 * out, were ignored too; when not one signal named a bar (and every
 * symbol ran: no --shard), exit 65.
 */
static int
signals_verdict(const struct run *r, const struct opts *o, int rc)
{
	const struct strategy *st = &r->st;
	const char *f;

	if (st->sigfile == NULL || rc != 0)
		return rc;
	f = strcmp(st->sigfile, "-") == 0 ? "stdin" : st->sigfile;
	if (st->sig_early > 0)
		bt_warnx("%s: %zu signals are before the loaded candles: "
		    "ignored", f, st->sig_early);
	if (st->sig_matched == 0 && o->shard == NULL) {
		bt_warnx("%s: no signal names a bar of the candles", f);
		return BT_EX_DATAERR;
	}
	return 0;
}

/* The candles (files, else the store), the signals, the output files. */
static int
open_input(struct run *r, const struct opts *o, char **files, int nfiles)
{
	char err[BT_ERRLEN], *h;
	int rc;

	rc = nfiles > 0 ? bt_input_files(&r->in, files, nfiles, o->symbol,
	    err) : bt_input_store(&r->in, err);
	if (rc == 0 && r->st.sigfile != NULL)
		rc = bt_input_signals(&r->in, r->st.sigfile, r->ex.shorts,
		    &r->st.sigs, &r->st.nsig, err);
	if (rc != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	bt_input_symbols(&r->in, r->st.id == S_SIGNALS && !o->symbols,
	    r->st.sigs, r->st.nsig);
	if (r->st.sigfile != NULL && (rc = signals_unmatched(r)) != 0)
		return rc;
	if (o->trades != NULL)
		r->trades_fp = open_out(o->trades, BT_TRADES_HEADER);
	if (o->equity != NULL) {
		h = bt_equity_header(r->st.id);
		r->equity_fp = open_out(o->equity, h);
		free(h);
	}
	return 0;
}

/* Built bars with a missing candle: a WARNING (a 24/7 market's gap). */
static void
incomplete(const struct series *s, const char *tf)
{
	char ts[32];

	bt_fmt_time(s->left.first_incomplete, ts);
	bt_event(NULL, "WARNING", "incomplete_bars", s->symbol, tf,
	    json_pack("{s:I, s:s, s:s}", "bars", (json_int_t)s->left.incomplete,
	    "first", ts, "built_from", s->src_tf), "%zu %s %s bars miss a %s "
	    "candle and are left out (the first opens %s)", s->left.incomplete,
	    s->symbol, tf, s->src_tf, ts);
}

/* A symbol left out (no candles, no whole window): a WARNING line. */
static void
left_out(struct run *r, size_t si, const char *event, const char *why)
{
	bt_event(NULL, "WARNING", event, r->in.syms[si], r->in.tf, NULL,
	    "%s; %s left out", why, r->in.syms[si]);
	if (r->st.sigfile != NULL)
		r->st.sig_nosym += bt_signals_of(&r->st, r->in.syms[si]);
	r->skipped++;
	r->done++;
}

/*
 * The work: this shard's items, (symbol, combination) or with
 * --walk-forward (symbol, window), one symbol's series at a time, the job
 * beating between symbols.  A symbol without candles in the window is
 * left out with a warning; all left out exits 66.
 */
static int
work(struct run *r, struct job *j, bool verbose)
{
	struct series s;
	char err[BT_ERRLEN];
	size_t si, c0, c1;
	bool loaded;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	if (r->walk.on && r->sharded && (rc = bt_walk_plan(r, err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	for (si = 0; si < (size_t)r->in.nsyms && rc == 0; si++) {
		if (!(r->walk.on ? bt_walk_share(r, si, &c0, &c1) :
		    bt_sweep_share(r, si, &c0, &c1)))
			continue;
		if (bt_job_tick(j, r) != 0)
			break;
		if ((loaded = (rc = bt_input_series(&r->in, si, &s, err)) ==
		    0)) {
			if (verbose)
				bt_warnx("%s: %zu bars, window %zu", s.symbol,
				    s.n, s.n - s.w0);
			if (s.left.incomplete > 0)
				incomplete(&s, r->in.tf);
			rc = r->walk.on ? bt_walk_symbol(r, &s, c0, c1, err) :
			    r->sweep ? bt_run_combos(r, &s, c0, c1, err) :
			    bt_run_symbol(r, &s, err);
		}
		if (rc == 1) {
			left_out(r, si, loaded ? "no_window" : "no_data", err);
			rc = 0;
		} else if (rc != 0)
			bt_warnx("%s", err);
		else if (j->stop == NULL)
			r->done++;
		bt_strategy_reset(&r->st);
		bt_series_clear(&s);
	}
	if (rc == 0 && r->nres == 0 && r->skipped > 0 && r->skipped ==
	    (size_t)r->in.nsyms) {
		bt_warnx("no symbol had %s", r->walk.on ? "a whole window" :
		    "candles to test");
		rc = BT_EX_NOINPUT;
	}
	return rc;
}

/* The last line: what ran, how much, how it ended. */
static void
summary(const struct run *r, const struct opts *o, const struct job *j,
    int code, double t_start)
{
	json_t *sum = bt_rec("summary");

	json_object_set_new(sum, "strategy",
	    json_string(bt_strats[r->st.id].name));
	json_object_set_new(sum, "mode", json_string(bt_exec_mode(&r->ex)));
	json_object_set_new(sum, "tf", json_string(r->in.tf));
	json_object_set_new(sum, "symbols", json_integer(r->in.nsyms));
	json_object_set_new(sum, "done", json_integer((json_int_t)r->done));
	json_object_set_new(sum, "skipped",
	    json_integer((json_int_t)r->skipped));
	json_object_set_new(sum, "combos", json_integer((json_int_t)r->ncombo));
	if (o->shard != NULL)
		json_object_set_new(sum, "shard", json_string(o->shard));
	if (r->walk.on)
		json_object_set_new(sum, "windows",
		    json_integer((json_int_t)r->walk.lines));
	json_object_set_new(sum, "bar_steps",
	    json_integer((json_int_t)r->bar_steps));
	if (r->st.sigfile != NULL) {
		json_object_set_new(sum, "signals",
		    json_integer((json_int_t)r->st.nsig));
		json_object_set_new(sum, "signals_ignored",
		    json_integer((json_int_t)(r->st.sig_early +
		    r->st.sig_nosym)));
	}
	if (r->unfilled)
		json_object_set_new(sum, "unfilled",
		    json_integer((json_int_t)r->unfilled));
	if (j->on) {
		json_object_set_new(sum, "state",
		    json_string(bt_job_state(j, code)));
		json_object_set_new(sum, "results",
		    json_string(j->results_path));
	}
	json_object_set_new(sum, "exit", json_integer(code));
	bt_rec_dur(sum, "elapsed", bt_mono() - t_start);
	bt_rec_dur(sum, "sim_seconds", r->sim_secs);
	if (!bt_now_frozen() && r->sim_secs > 0) {
		json_object_set_new(sum, "bar_steps_per_s",
		    json_real(round((double)r->bar_steps /
		    (bt_mono() - t_start))));
		json_object_set_new(sum, "sim_bar_steps_per_s",
		    json_real(round((double)r->bar_steps / r->sim_secs)));
	}
	bt_emit(sum);
}

/* Closes the --trades and --equity files: a failed write exits 74. */
static int
close_outputs(struct run *r, const struct opts *o, int code)
{
	if (r->trades_fp != NULL && fclose(r->trades_fp) == EOF) {
		bt_warnx("%s: %s", o->trades, strerror(errno));
		code = bt_exit_worse(code, BT_EX_IOERR);
	}
	if (r->equity_fp != NULL && fclose(r->equity_fp) == EOF) {
		bt_warnx("%s: %s", o->equity, strerror(errno));
		code = bt_exit_worse(code, BT_EX_IOERR);
	}
	return code;
}

int
main(int argc, char *argv[])
{
	struct run R, *r = &R;
	struct job job;
	struct opts o;
	char err[BT_ERRLEN];
	json_t *pm = NULL;
	double t_start = bt_mono();
	int rc;

#ifdef M_MMAP_THRESHOLD
	/*
	 * Keep freed memory for reuse: every symbol allocates arrays of the
	 * same sizes, and on a VM a fresh page fault costs more than the
	 * simulation of the bar it holds.  RSS is what the run uses anyway.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	bt_run_init(r);
	bt_job_init(&job);
	memset(&o, 0, sizeof(o));
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-backtest", err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}

	/* Every option checked, in this order, before anything is read. */
	if ((rc = parse_options(argc, argv, &o, r)) != 0 ||
	    (rc = setup_strategy(r, &o)) != 0 ||
	    (rc = setup_grid(r, &o)) != 0 ||
	    (rc = setup_window(r, &o, argc - optind)) != 0)
		goto early;
	argc -= optind;
	argv += optind;
	r->keep_curve = o.job;
	if (o.job && !bt_job_start(&job, t_start, o.if_due, argc > 0, &rc,
	    err)) {
		if (*err != '\0')
			bt_warnx("%s", err);
		goto early;
	}

	/* Input, the work, its portfolio; the job's files; the summary. */
	if ((rc = open_input(r, &o, argv, argc)) != 0) {
		if (o.job)
			rc = bt_job_end(&job, r, NULL, rc);
		goto out;
	}
	rc = signals_verdict(r, &o, work(r, &job, o.verbose));
	if (rc == 0 && !r->sweep)
		pm = bt_portfolio(r);
	if (o.job)
		rc = bt_job_end(&job, r, pm, rc);
	summary(r, &o, &job, rc, t_start);
	json_decref(pm);
out:
	rc = close_outputs(r, &o, rc);
early:
	free(o.params);
	free(o.grid);
	bt_run_free(r);
	bt_job_free(&job);
	return bt_finish(rc);
}
