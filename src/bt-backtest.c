/*
 * bt-backtest - backtest strategies on the store's candles (or on files),
 * isolated from live trading; with --job, the seed's Daily Backtest.
 *
 *	bt-backtest [options] [file ...]		ad hoc: JSON lines only
 *	bt-backtest --job [--if-due] [options]		the crontab's daily job
 *	bt-backtest --grid key=range ... [--shard k/n]	parameter sweeps
 *
 * Invariants:
 * - The store is opened read-only and each pair is read by one statement,
 *   so no read transaction outlives a load and the live store's
 *   checkpoints are never starved.  The state file is never opened.  No
 *   order is sent and no socket opened.
 * - A decision is taken on a bar's close and filled at the next bar's
 *   open.  A signal for a bar that has not closed is refused (exit 65).
 * - Indicators are computed from the pair's first stored candle (unless
 *   --warmup bounds it), so every value inside the window is bit for bit
 *   the value a full-history computation gives.
 * - One metrics accumulator serves single runs, sweeps and the portfolio,
 *   so a sweep's line for a combination equals the single run's.
 * - Ad hoc runs write stdout (and --trades, --equity) only.  The job also
 *   replaces run/backtest.status atomically at every change and at least
 *   every BT_HEARTBEAT_SECONDS, from the work loop itself: no thread and
 *   no timer, so a loop that hangs stops beating and bt-watchdog sees it.
 *   Its results go to a temporary file renamed on success (the previous
 *   kept as .prev), or to the incomplete name when it stops early.
 * - With BT_NOW set, a rerun prints the same bytes.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_db.h"
#include "bt_ind.h"
#include "bt_indtab.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_parse.h"
#include "bt_state.h"
#include "bt_store.h"

#define MAXPAR		3
#define MAXIND		4
#define DAY_MS		86400000LL
/* backtesting.py's default order size: just under all of the equity. */
#define BTPY_SIZE	(1 - 2.220446049250313e-16)

/* ---------------------------------------------------------------- types */

enum strat { S_SMA, S_EMA, S_RSI, S_BBANDS, S_DONCHIAN, S_HOLD, S_SIGNALS };

static const struct stratdef {
	const char	*name;
	int		 npar;
	const char	*par[MAXPAR];
	double		 def[MAXPAR], min[MAXPAR], max[MAXPAR];
	unsigned	 integer;	/* bit i: parameter i is a whole number */
	int		 nind;
	const char	*ind[MAXIND];	/* the equity file's indicator columns */
} strats[] = {
	{ "sma-cross", 2, { "fast", "slow" }, { 10, 30 }, { 2, 2 },
	    { BT_IND_MAXPERIOD, BT_IND_MAXPERIOD }, 3, 2, { "fast", "slow" } },
	{ "ema-cross", 2, { "fast", "slow" }, { 12, 26 }, { 2, 2 },
	    { BT_IND_MAXPERIOD, BT_IND_MAXPERIOD }, 3, 2, { "fast", "slow" } },
	{ "rsi", 3, { "period", "lower", "upper" }, { 14, 30, 70 },
	    { 2, 0, 0 }, { BT_IND_MAXPERIOD, 100, 100 }, 1, 1, { "rsi" } },
	{ "bbands", 2, { "period", "k" }, { 20, 2 }, { 2, 0.01 },
	    { BT_IND_MAXPERIOD, 10 }, 1, 3, { "upper", "middle", "lower" } },
	{ "donchian", 2, { "entry", "exit" }, { 20, 10 }, { 2, 2 },
	    { BT_IND_MAXPERIOD, BT_IND_MAXPERIOD }, 3, 4,
	    { "upper", "lower", "exit_lower", "exit_upper" } },
	{ "hold", 0, { NULL }, { 0 }, { 0 }, { 0 }, 0, 0, { NULL } },
	{ "signals", 0, { NULL }, { 0 }, { 0 }, { 0 }, 0, 0, { NULL } },
};

/* A symbol's candles: the window is [w0, n); before it, the warm-up. */
struct series {
	char		 symbol[24];
	int64_t		 iv;		/* bar interval, ms */
	size_t		 n, w0;
	int64_t		*t;		/* open times */
	int64_t		 tclose;	/* close time of the last bar */
	double		*o, *h, *l, *c;
	bool		 borrowed;	/* the arrays are r->ohlc's */
};

/* Events a strategy emits on a bar's close. */
enum { EV_XLONG = 1, EV_XSHORT, EV_LONG, EV_SHORT, EV_TARGET };
struct ev {
	uint32_t	 bar;
	uint32_t	 kind;
	double		 target;	/* EV_TARGET only */
};

/* How orders fill. */
struct exec {
	double		 cash, fee, slip, size, lot;	/* fee, slip: fractions */
	bool		 shorts, compat;
};

struct trade {
	int64_t		 t_in, t_out;
	size_t		 bar_in, bar_out;
	double		 units, p_in, p_out, cost, pnl, fees, ret;
};

/*
 * The metrics accumulator.  Three feeds: equity per bar (drawdowns), the
 * equity series whose returns are annualised (per bar natively, resampled
 * in the backtesting.py mode), and closed trades.  Nothing per bar is
 * stored, so a sweep keeps no equity curve per combination.
 */
struct tacc {
	size_t		 nt, nwin, npos, nneg, expo, covered;
	double		 sp, sp2, spos, snegp, sR, sRpos, sRneg, slogR;
	double		 best, worst, sdur, mdur, fees;
	bool		 Rruined;
};
struct acc {
	const int64_t	*t;
	/* Equity per bar. */
	size_t		 nb, z, ilast;	/* bars; last zero-drawdown bar; last */
	double		 e0, elast, peak, mine, maxdd;
	size_t		 ndd;
	double		 sdd, sddur, mddur;	/* drawdown periods, ms */
	/* Returns. */
	size_t		 nre, nr;
	double		 rfirst, eprev, sr, sr2, sneg;
	bool		 ruined;
	/* Trades. */
	struct tacc	 tr;
};

/* What metrics() needs besides the accumulator. */
struct mctx {
	double		 A;		/* periods per year */
	int64_t		 t0, t1;	/* first and last bar */
	double		 bh;		/* buy & hold, fraction */
	double		 alpha, beta;	/* NAN: not computed */
	int64_t		 round_ms;	/* durations rounded up (compat) */
	size_t		 nbars;		/* exposure's denominator */
	bool		 compat, ab;	/* alpha and beta printed */
};

/* A simulation's optional outputs. */
struct simout {
	struct acc	*acc;
	double		*eq;		/* equity per window bar, or NULL */
	double		*pos;		/* units per window bar, or NULL */
	struct trade	*tr;		/* closed trades, or NULL: not kept */
	size_t		 ntr, trcap;
	bool		 has_sig;	/* the latest change of target */
	int64_t		 sig_t;
	double		 sig_pos;
	size_t		 unfilled;	/* orders too small for one lot */
};

/* An external signal (contracts.md). */
struct sig {
	char		 symbol[24];
	int64_t		 t;
	double		 pos;
	size_t		 line;
};

/* A symbol's outcome, kept for the portfolio and the results file. */
struct symres {
	char		 symbol[24];
	json_t		*metrics;
	int64_t		*t;
	double		*e;
	size_t		 n;
	double		 bh, expo;
	bool		 has_sig, passed;
	int64_t		 sig_t;
	double		 sig_pos;
	json_t		*reasons;
};

/* Candles read from files, by symbol. */
struct src {
	char		 symbol[24];
	char		 file[256];	/* the first file, for messages */
	struct bt_candle *c;
	size_t		 n, cap;
	int64_t		 iv;
};

/* A cached indicator array. */
struct indc {
	int		 kind;
	double		 p1, p2;
	double		*v;
	size_t		 cap;
};
enum { I_SMA, I_EMA, I_RSI, I_BBU, I_BBM, I_BBL, I_MAXH, I_MINL };

struct run {
	/* What to run. */
	enum strat	 strat;
	double		 par[MAXPAR];
	struct exec	 ex;
	char		 tf[8];
	long		 last, warmup;		/* warmup -1: all history */
	int64_t		 from, to;		/* -1: not given */
	bool		 quiet, verbose, job, if_due;
	/* A sweep: grid[g] varies parameter gpar[g] over gv[g][0..gn[g]). */
	int		 ngrid, gpar[MAXPAR];
	size_t		 gn[MAXPAR];
	double		*gv[MAXPAR];
	double		*combos;		/* ncombo x MAXPAR */
	size_t		 ncombo;
	long		 shard_k, shard_n;
	/* Input. */
	char		*dbpath;
	sqlite3		*db;
	struct bt_series ohlc;			/* reused from pair to pair */
	struct src	*srcs;
	size_t		 nsrc;
	char		**syms;
	int		 nsyms;
	const char	*symbol_opt;
	/* Signals. */
	const char	*sigfile;
	struct sig	*sigs;
	size_t		 nsig, sig_ignored;
	/* Outputs. */
	const char	*trades_path, *equity_path;
	FILE		*trades_fp, *equity_fp;
	struct symres	*res;
	size_t		 nres;
	struct tacc	 ptr;			/* the portfolio's trades */
	/* Scratch, reused from symbol to symbol. */
	struct ev	*ev;
	size_t		 nev, evcap;
	struct indc	*cache;
	size_t		 ncache, cachecap, nfree;
	/* Totals. */
	uint64_t	 bar_steps;
	double		 sim_secs;
	size_t		 done, skipped, unfilled;
	int		 exit;
	int64_t		 data_from, data_to;
};

/* ---------------------------------------------------------------- usage */

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
	    "[--slippage bps]\n"
	    "           [--size fraction] [--lot step] [--short | --long-only]"
	    "\n"
	    "           [--trades file] [--equity file] [--symbol sym] "
	    "[file ...]\n"
	    "       bt-backtest --job [--if-due] [-qv] [-d db] [options]\n");
	exit(code);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n ? n : 1, sz)) == NULL)
		abort();
	return p;
}

static void *
xrealloc(void *p, size_t n, size_t sz)
{
	if (n != 0 && sz > SIZE_MAX / n)
		abort();
	if ((p = realloc(p, (n * sz) != 0 ? n * sz : 1)) == NULL)
		abort();
	return p;
}

/* A number for JSON: null when not finite (jansson refuses NaN). */
static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static char *
isot(int64_t ms, char buf[32])
{
	return bt_fmt_time(ms, buf);
}

/* ------------------------------------------------------------ job control */

/*
 * The daily job's status file and stop conditions.  tick() is called from
 * the work loop between symbols and combinations: it notices SIGTERM or
 * SIGINT and the timeout, and rewrites the status when a heartbeat is due.
 */
static struct job {
	bool		 on;
	char		*status_path, *results_path;
	int64_t		 started;
	double		 t0, beat_at, beat_every, timeout;
	long		 beats;
	const char	*stop;		/* why the run stopped early, or NULL */
	long		 held;		/* BT_TEST_HOLD: the last count held at */
} job = { .held = -1 };

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static int
status_write(const char *state, int code, const struct run *r)
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
	json_object_set_new(o, "started", json_string(isot(job.started, ts)));
	json_object_set_new(o, "heartbeat",
	    json_string(isot(bt_now_ms(), ts)));
	/* CLOCK_MONOTONIC, comparable on the same boot (ops.md). */
	json_object_set_new(o, "heartbeat_mono", json_real(bt_mono()));
	json_object_set_new(o, "beats", json_integer(++job.beats));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "exit", strcmp(state, "running") == 0 ?
	    json_null() : json_integer(code));
	json_object_set_new(o, "ended", strcmp(state, "running") == 0 ?
	    json_null() : json_string(isot(bt_now_ms(), ts)));
	json_object_set_new(o, "results", json_string(job.results_path));
	json_object_set_new(o, "progress", json_pack("{s:I, s:I}", "done",
	    (json_int_t)(r != NULL ? r->done : 0), "total",
	    (json_int_t)(r != NULL ? (size_t)r->nsyms : 0)));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	rc = bt_write_atomic(job.status_path, s, strlen(s), 0640, err);
	free(s);
	if (rc == -1)
		bt_warnx("%s", err);
	job.beat_at = bt_mono();
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
test_hold(const struct run *r)
{
	const char *spec, *dir;
	char buf[64], path[PATH_MAX], *list, *tok, *save = NULL;
	bool match = false;
	struct pollfd pfd;
	double left;
	int in, out;
	ssize_t n;

	if ((spec = getenv("BT_TEST_HOLD")) == NULL ||
	    (dir = strchr(spec, ':')) == NULL || job.held == (long)r->done)
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
	job.held = (long)r->done;
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
	left = job.timeout - (bt_mono() - job.t0);
	if (!got_signal && left > 0)
		(void)poll(&pfd, 1, (int)(left * 1000) + 1);
	if (pfd.revents & POLLIN)
		(void)read(in, buf, sizeof(buf));
	/* The pid stays readable while `out' is open: until here. */
	close(out);
	close(in);
}

/* 0 to go on; -1 when the job must stop (job.stop says why). */
static int
tick(const struct run *r)
{
	if (!job.on)
		return 0;
	if (job.stop == NULL && bt_mono() - job.beat_at >= job.beat_every)
		status_write("running", 0, r);
	if (job.stop == NULL)
		test_hold(r);
	if (job.stop == NULL && got_signal)
		job.stop = got_signal == SIGINT ? "SIGINT" : "SIGTERM";
	if (job.stop == NULL && bt_mono() - job.t0 >= job.timeout)
		job.stop = "timeout";
	return job.stop != NULL ? -1 : 0;
}

/*
 * contracts.md "Due": the daily slot is the latest BACKTEST_START_HOUR:
 * MINUTE at or before now; the crontab's lines one and two hours later
 * are retries of it.  Due unless a run that succeeded started at or after
 * that slot, as the status file or the results file's meta records it.
 */
static bool
is_due(int64_t *slot_out, char *why, size_t len)
{
	int64_t now = bt_now_ms(), slot, started;
	json_t *o, *v;
	json_error_t je;
	const char *st;
	char ts[32];

	slot = now / DAY_MS * DAY_MS + (bt_conf_long("BACKTEST_START_HOUR") *
	    60 + bt_conf_long("BACKTEST_START_MINUTE")) * 60000;
	if (slot > now)
		slot -= DAY_MS;
	*slot_out = slot;
	if ((o = json_load_file(job.status_path, 0, &je)) != NULL) {
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
	if ((o = json_load_file(job.results_path, 0, &je)) != NULL) {
		v = json_object_get(json_object_get(o, "meta"), "started");
		if (json_is_true(json_object_get(json_object_get(o, "meta"),
		    "complete")) && json_is_string(v) &&
		    bt_parse_time(json_string_value(v), &started) == 0 &&
		    started >= slot) {
			snprintf(why, len, "%s holds a complete run started %s",
			    job.results_path, json_string_value(v));
			json_decref(o);
			return false;
		}
		json_decref(o);
	}
	snprintf(why, len, "no successful run since the slot %s",
	    isot(slot, ts));
	return true;
}

/* ---------------------------------------------------------------- input */

static void
series_free(struct series *s)
{
	if (!s->borrowed)
		free(s->t);
	memset(s, 0, sizeof(*s));
}

/* Copies candles into the arrays the engine reads (one allocation). */
static void
series_set(struct series *s, const char *sym, int64_t iv,
    const struct bt_candle *c, size_t n)
{
	size_t i;
	char *blk;

	series_free(s);
	snprintf(s->symbol, sizeof(s->symbol), "%s", sym);
	s->iv = iv;
	s->n = n;
	blk = xcalloc(n, sizeof(int64_t) + 4 * sizeof(double));
	s->t = (int64_t *)blk;
	s->o = (double *)(blk + n * sizeof(int64_t));
	s->h = s->o + n;
	s->l = s->h + n;
	s->c = s->l + n;
	for (i = 0; i < n; i++) {
		s->t[i] = c[i].t;
		s->o[i] = c[i].o;
		s->h[i] = c[i].h;
		s->l[i] = c[i].l;
		s->c[i] = c[i].c;
	}
	s->tclose = n == 0 ? 0 : (c[n - 1].has & BT_HAS_CT) ? c[n - 1].ct :
	    c[n - 1].t + iv - 1;
}

/*
 * Loads a pair from the store: the window (the newest --last bars, or
 * --from..--to) and, before it, every stored bar (the warm-up; --warmup n
 * keeps only n).  One statement, so one short read transaction.  Returns
 * 0, 1 when the pair is absent or too short (err says why), or an exit
 * code.
 */
static int
load_store(struct run *r, const char *sym, struct series *s, char *err)
{
	struct bt_pair p;
	struct bt_series *d = &r->ohlc;
	size_t keep, w0;
	int64_t to = r->to >= 0 ? r->to : INT64_MAX, lo;
	bool all = r->warmup < 0 && !r->ex.compat;
	int rc;

	if ((rc = bt_pair_get(r->db, sym, r->tf, false, NULL, 0, &p, err)) != 0)
		return rc;
	if (p.id == 0) {
		snprintf(err, BT_ERRLEN, "no %s %s candles in the store", sym,
		    r->tf);
		return 1;
	}
	if (r->from < 0) {
		keep = (size_t)r->last + (all || r->ex.compat ? 0 :
		    (size_t)r->warmup);
		rc = bt_candles_load(r->db, &p, 0, to, all ? 0 : keep,
		    BT_LOAD_OHLC, d, err);
		w0 = d->n > (size_t)r->last ? d->n - (size_t)r->last : 0;
	} else {
		lo = r->ex.compat ? r->from : all ? 0 :
		    r->from - r->warmup * p.iv;
		rc = bt_candles_load(r->db, &p, lo < 0 ? 0 : lo, to, 0,
		    BT_LOAD_OHLC, d, err);
		for (w0 = 0; w0 < d->n && d->t[w0] < r->from; w0++)
			;
	}
	if (rc != 0)
		return rc;
	if (d->n - w0 < 2) {
		snprintf(err, BT_ERRLEN, "%s %s: %zu candle%s in the window, "
		    "need 2", sym, r->tf, d->n - w0, d->n - w0 == 1 ? "" : "s");
		return 1;
	}
	series_free(s);
	snprintf(s->symbol, sizeof(s->symbol), "%s", sym);
	s->iv = p.iv;
	s->n = d->n;
	s->w0 = w0;
	s->t = d->t;		/* r->ohlc keeps the arrays */
	s->o = d->o;
	s->h = d->h;
	s->l = d->l;
	s->c = d->c;
	s->borrowed = true;
	/* The store holds closed candles only (bt-fetch). */
	s->tclose = d->t[d->n - 1] + p.iv - 1;
	return 0;
}

/* A file's symbol and interval from its name: BTCUSDT-1h-2024-11.csv. */
static int
name_symbol(const char *path, char sym[24], char tf[8])
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t i, j = 0, k = 0;

	sym[0] = tf[0] = '\0';
	if (strcmp(path, "-") == 0) {
		snprintf(sym, 24, "INPUT");
		return 0;
	}
	for (i = 0; b[i] != '\0' && b[i] != '-' && b[i] != '.' && j < 23;
	    i++)
		if (b[i] != '_')
			sym[j++] = (char)toupper((unsigned char)b[i]);
	sym[j] = '\0';
	if (b[i] == '-') {
		for (i++; b[i] != '\0' && b[i] != '-' && b[i] != '.' && k < 7;
		    i++)
			tf[k++] = b[i];
		tf[k] = '\0';
		if (bt_tf_ms(tf) == 0)
			tf[0] = '\0';
	}
	return bt_symbol_ok(sym) ? 0 : -1;
}

static struct src *
src_get(struct run *r, const char *sym, const char *file)
{
	size_t i;

	for (i = 0; i < r->nsrc; i++)
		if (strcmp(r->srcs[i].symbol, sym) == 0)
			return &r->srcs[i];
	r->srcs = xrealloc(r->srcs, r->nsrc + 1, sizeof(*r->srcs));
	memset(&r->srcs[r->nsrc], 0, sizeof(r->srcs[0]));
	snprintf(r->srcs[r->nsrc].symbol, 24, "%s", sym);
	snprintf(r->srcs[r->nsrc].file, 256, "%s", file);
	return &r->srcs[r->nsrc++];
}

static void
src_add(struct src *s, const struct bt_candle *c, size_t n, int64_t iv)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		s->c = xrealloc(s->c, s->cap, sizeof(*s->c));
	}
	memcpy(s->c + s->n, c, n * sizeof(*c));
	s->n += n;
	if (iv != 0)
		s->iv = iv;
}

/* A date column: ISO 8601, or epoch seconds, ms or us by magnitude. */
static int
parse_date(const char *s, int64_t *ms)
{
	char *end;
	long long v;

	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0)
			return -1;
		*ms = v < 100000000000LL ? v * 1000 : v < 100000000000000LL ?
		    v : v / 1000;
		return 0;
	}
	return bt_parse_time(s, ms);
}

static char *
trimf(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '"')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '"'))
		*--e = '\0';
	return s;
}

#define LOOSE_IV	(INT64_MAX / 4)	/* any close time is within it */

/*
 * OHLCV CSV with a header whose first column is the date, as pandas
 * writes it (",Open,High,Low,Close,Volume").  Columns are found by name,
 * case-insensitively; Volume is optional.
 */
static int
parse_ohlcv_csv(const char *name, char *buf, struct bt_candle **out,
    size_t *nout, char *err)
{
	struct bt_candle *c = NULL, *k;
	size_t n = 0, cap = 0, lineno = 0;
	char *line, *next, *f[64], why[160];
	int nf, hf = 0, i, col[5] = { -1, -1, -1, -1, -1 };
	static const char *names[] = { "open", "high", "low", "close",
	    "volume" };
	double *dst[5];

	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0')
			continue;
		for (nf = 0; nf < 64; ) {
			f[nf++] = line;
			if ((line = strchr(line, ',')) == NULL)
				break;
			*line++ = '\0';
		}
		if (nf == 64 && line != NULL) {
			snprintf(err, BT_ERRLEN, "%s:%zu: more than 63 "
			    "columns", name, lineno);
			goto fail;
		}
		if (hf == 0) {
			hf = nf;
			for (i = 1; i < nf; i++) {
				int j;
				for (j = 0; j < 5; j++)
					if (strcasecmp(trimf(f[i]), names[j])
					    == 0)
						col[j] = i;
			}
			for (i = 0; i < 4; i++)
				if (col[i] < 0) {
					snprintf(err, BT_ERRLEN, "%s:%zu: no "
					    "'%s' column in the header", name,
					    lineno, names[i]);
					goto fail;
				}
			continue;
		}
		if (nf != hf) {
			snprintf(err, BT_ERRLEN, "%s:%zu: %d fields, the header "
			    "has %d", name, lineno, nf, hf);
			goto fail;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			c = xrealloc(c, cap, sizeof(*c));
		}
		k = &c[n];
		memset(k, 0, sizeof(*k));
		if (parse_date(trimf(f[0]), &k->t) == -1) {
			snprintf(err, BT_ERRLEN, "%s:%zu: '%s' is not a date",
			    name, lineno, f[0]);
			goto fail;
		}
		dst[0] = &k->o;
		dst[1] = &k->h;
		dst[2] = &k->l;
		dst[3] = &k->c;
		dst[4] = &k->v;
		for (i = 0; i < 5; i++) {
			const char *v;
			if (col[i] < 0)
				continue;
			v = trimf(f[col[i]]);
			if (bt_parse_decimal(v, strlen(v), dst[i]) == -1) {
				snprintf(err, BT_ERRLEN, "%s:%zu: %s '%s' is "
				    "not a number", name, lineno, names[i], v);
				goto fail;
			}
		}
		if (bt_candle_check(k, LOOSE_IV, why, sizeof(why)) == -1) {
			snprintf(err, BT_ERRLEN, "%s:%zu: %s", name, lineno,
			    why);
			goto fail;
		}
		if (n > 0 && k->t <= c[n - 1].t) {
			snprintf(err, BT_ERRLEN, "%s:%zu: date %s %s", name,
			    lineno, f[0], k->t == c[n - 1].t ? "repeats" :
			    "is out of order");
			goto fail;
		}
		n++;
	}
	if (hf == 0) {
		snprintf(err, BT_ERRLEN, "%s: empty", name);
		goto fail;
	}
	*out = c;
	*nout = n;
	return 0;
fail:
	free(c);
	return -1;
}

/* A JSON field as a number: a JSON number or a decimal string. */
static int
jfield(json_t *o, const char *a, const char *b, double *v)
{
	json_t *e = json_object_get(o, a);
	const char *s;

	if (e == NULL && b != NULL)
		e = json_object_get(o, b);
	if (json_is_number(e)) {
		*v = json_number_value(e);
		return isfinite(*v) ? 0 : -1;
	}
	if (json_is_string(e)) {
		s = json_string_value(e);
		return bt_parse_decimal(s, strlen(s), v);
	}
	return -1;
}

/* A time field: integer ms, or an ISO 8601 string. */
static int
jtime(json_t *e, int64_t *ms)
{
	if (json_is_integer(e)) {
		*ms = json_integer_value(e);
		return *ms >= 0 ? 0 : -1;
	}
	if (json_is_string(e))
		return bt_parse_time(json_string_value(e), ms);
	return -1;
}

/*
 * JSON lines of candles: {"symbol":..,"timestamp":..,"open":..,"high":..,
 * "low":..,"close":..,"volume":..} (the seed's column names; t, o, h, l,
 * c, v also do).  symbol is optional; lines for several symbols mix.
 */
static int
parse_jsonl(struct run *r, const char *name, char *buf, const char *defsym,
    char *err)
{
	char *line, *next, why[160];
	size_t lineno = 0;
	json_t *o, *e;
	json_error_t je;
	struct bt_candle k;
	struct src *s;
	const char *sym;

	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if ((o = json_loads(line, JSON_REJECT_DUPLICATES, &je)) ==
		    NULL || !json_is_object(o)) {
			snprintf(err, BT_ERRLEN, "%s:%zu: %s", name, lineno,
			    o == NULL ? je.text : "not a JSON object");
			json_decref(o);
			return -1;
		}
		memset(&k, 0, sizeof(k));
		sym = defsym;
		if ((e = json_object_get(o, "symbol")) != NULL) {
			if (!json_is_string(e) ||
			    !bt_symbol_ok(json_string_value(e))) {
				snprintf(err, BT_ERRLEN, "%s:%zu: symbol is not "
				    "a symbol (^[A-Z0-9]{2,20}$)", name, lineno);
				json_decref(o);
				return -1;
			}
			sym = json_string_value(e);
		}
		e = json_object_get(o, "timestamp");
		if (e == NULL)
			e = json_object_get(o, "t");
		if (jtime(e, &k.t) == -1 ||
		    jfield(o, "open", "o", &k.o) == -1 ||
		    jfield(o, "high", "h", &k.h) == -1 ||
		    jfield(o, "low", "l", &k.l) == -1 ||
		    jfield(o, "close", "c", &k.c) == -1) {
			snprintf(err, BT_ERRLEN, "%s:%zu: needs timestamp, "
			    "open, high, low and close as numbers", name,
			    lineno);
			json_decref(o);
			return -1;
		}
		if (jfield(o, "volume", "v", &k.v) == -1)
			k.v = 0;
		if (bt_candle_check(&k, LOOSE_IV, why, sizeof(why)) == -1) {
			snprintf(err, BT_ERRLEN, "%s:%zu: %s", name, lineno,
			    why);
			json_decref(o);
			return -1;
		}
		s = src_get(r, sym, name);
		src_add(s, &k, 1, 0);
		json_decref(o);
	}
	return 0;
}

static int
cmp_candle(const void *a, const void *b)
{
	const struct bt_candle *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads a whole file, or stdin for "-". */
static char *
slurp(const char *path, size_t *len, char *err)
{
	struct bt_buf b = { 0 };
	char tmp[65536];
	size_t n;

	if (strcmp(path, "-") != 0)
		return bt_read_file(path, (size_t)1 << 32, len, err);
	while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
		bt_buf_add(&b, tmp, n);
	if (ferror(stdin)) {
		snprintf(err, BT_ERRLEN, "stdin: %s", strerror(errno));
		bt_buf_free(&b);
		return NULL;
	}
	bt_buf_add(&b, "", 0);
	*len = b.len;
	return b.p;
}

/*
 * Reads candle files: OHLCV CSV, Binance kline CSV (data.binance.vision,
 * with or without header), freqtrade JSON, JSON lines.  Exit code or 0.
 */
static int
load_files(struct run *r, char **files, int nfiles)
{
	char err[BT_ERRLEN], sym[24], tf[8], ts[32], *buf, *p;
	const char *name;
	struct bt_candle *c;
	size_t len, n, i, j;
	int64_t iv;
	int f, rc;
	struct src *s;

	for (f = 0; f < nfiles; f++) {
		name = strcmp(files[f], "-") == 0 ? "stdin" : files[f];
		if (name_symbol(files[f], sym, tf) == -1 && r->symbol_opt ==
		    NULL) {
			bt_warnx("%s: cannot name a symbol after this file; "
			    "use --symbol", name);
			return BT_EX_USAGE;
		}
		if (r->symbol_opt != NULL)
			snprintf(sym, sizeof(sym), "%s", r->symbol_opt);
		if ((buf = slurp(files[f], &len, err)) == NULL) {
			bt_warnx("%s", err);
			return errno == ENOENT ? BT_EX_NOINPUT : BT_EX_IOERR;
		}
		if (memchr(buf, '\0', len) != NULL) {
			bt_warnx("%s: binary data, not candles", name);
			free(buf);
			return BT_EX_DATAERR;
		}
		iv = *tf ? bt_tf_ms(tf) : 0;
		p = buf + strspn(buf, " \t\r\n");
		c = NULL;
		n = 0;
		if (*p == '{') {
			rc = parse_jsonl(r, name, buf, sym, err);
		} else if (*p == '[') {
			rc = bt_parse_freqtrade(name, buf, len, iv ? iv :
			    LOOSE_IV, &c, &n, err);
		} else if (isdigit((unsigned char)*p) ||
		    strncasecmp(p, "open_time,", 10) == 0) {
			rc = bt_parse_kline_csv(name, buf, len, LOOSE_IV, &c,
			    &n, err);
			/* The interval is what a close time says. */
			if (rc == 0 && n > 0 && iv == 0)
				iv = c[0].ct - c[0].t + 1;
		} else {
			rc = parse_ohlcv_csv(name, buf, &c, &n, err);
		}
		free(buf);
		if (rc != 0) {
			bt_warnx("%s", err);
			free(c);
			return BT_EX_DATAERR;
		}
		if (n > 0)
			src_add(src_get(r, sym, name), c, n, iv);
		free(c);
	}
	for (i = 0; i < r->nsrc; i++) {
		s = &r->srcs[i];
		qsort(s->c, s->n, sizeof(*s->c), cmp_candle);
		for (j = 1; j < s->n; j++)
			if (s->c[j].t == s->c[j - 1].t) {
				bt_warnx("%s: %s: open time %s appears twice",
				    s->file, s->symbol, isot(s->c[j].t, ts));
				return BT_EX_DATAERR;
			}
		if (*r->tf != '\0' && strcmp(r->tf, "auto") != 0)
			s->iv = bt_tf_ms(r->tf);
		if (s->iv == 0 && s->n > 1) {
			/* The most common spacing (weekends aside). */
			int64_t *d = xcalloc(s->n - 1, sizeof(*d)), best = 0;
			size_t run = 0, bestrun = 0;
			for (j = 1; j < s->n; j++)
				d[j - 1] = s->c[j].t - s->c[j - 1].t;
			qsort(d, s->n - 1, sizeof(*d), cmp_i64);
			for (j = 0; j < s->n - 1; j++) {
				run = j > 0 && d[j] == d[j - 1] ? run + 1 : 1;
				if (run > bestrun) {
					bestrun = run;
					best = d[j];
				}
			}
			free(d);
			s->iv = best;
		}
		if (s->n < 2 || s->iv <= 0) {
			bt_warnx("%s: %s: fewer than 2 candles", s->file,
			    s->symbol);
			return BT_EX_DATAERR;
		}
		if (s->iv != r->srcs[0].iv) {
			bt_warnx("%s: %s has %lld ms bars, %s has %lld ms: one "
			    "interval per run", s->file, s->symbol,
			    (long long)s->iv, r->srcs[0].symbol,
			    (long long)r->srcs[0].iv);
			return BT_EX_DATAERR;
		}
	}
	if (r->nsrc == 0) {
		bt_warnx("no candles in the input");
		return BT_EX_DATAERR;
	}
	return 0;
}

/* The window of file input: --last, or --from/--to, as for the store. */
static int
load_src(struct run *r, const struct src *src, struct series *s, char *err)
{
	size_t lo = 0, hi = src->n, w0;

	while (hi > lo && r->to >= 0 && src->c[hi - 1].t > r->to)
		hi--;
	if (r->from >= 0) {
		for (w0 = lo; w0 < hi && src->c[w0].t < r->from; w0++)
			;
	} else {
		w0 = r->last > 0 && hi - lo > (size_t)r->last ?
		    hi - (size_t)r->last : lo;
	}
	if (r->ex.compat)
		lo = w0;
	else if (r->warmup >= 0 && w0 - lo > (size_t)r->warmup)
		lo = w0 - (size_t)r->warmup;
	if (hi < w0 + 2) {
		snprintf(err, BT_ERRLEN, "%s: %zu candles in the window, need "
		    "2", src->symbol, hi > w0 ? hi - w0 : 0);
		return 1;
	}
	series_set(s, src->symbol, src->iv, src->c + lo, hi - lo);
	s->w0 = w0 - lo;
	return 0;
}

/* ------------------------------------------------------------- signals */

static int
cmp_sig(const void *a, const void *b)
{
	const struct sig *x = a, *y = b;
	int c = strcmp(x->symbol, y->symbol);

	if (c != 0)
		return c;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * External signals, JSON lines (contracts.md): {"symbol":..,"timestamp":
 * <open time of the bar whose close produced it>,"position":-1..1}.
 * Lines with none of the three fields are ignored, so whole outputs can
 * be piped; a line with some of them must be a valid signal.  A signal
 * for a bar that cannot have closed yet is look-ahead: refused.
 */
static int parse_signals(struct run *, const char *, char *);

static int
load_signals(struct run *r)
{
	char err[BT_ERRLEN], *buf;
	size_t len;
	int rc;

	if ((buf = slurp(r->sigfile, &len, err)) == NULL) {
		bt_warnx("%s", err);
		return errno == ENOENT ? BT_EX_NOINPUT : BT_EX_IOERR;
	}
	rc = parse_signals(r, strcmp(r->sigfile, "-") == 0 ? "stdin" :
	    r->sigfile, buf);
	free(buf);
	return rc;
}

/* The lines of buf (NUL-terminated, changed in place) into r->sigs. */
static int
parse_signals(struct run *r, const char *name, char *buf)
{
	char *line, *next, ts[32], ts2[32], ts3[32];
	size_t lineno = 0, i, cap = 0;
	json_t *o, *sy, *tm, *po;
	json_error_t je;
	struct sig *g;
	int64_t iv = bt_tf_ms(r->tf), now = bt_now_ms();

	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if ((o = json_loads(line, 0, &je)) == NULL) {
			bt_warnx("%s:%zu: %s", name, lineno, je.text);
			goto bad;
		}
		sy = json_object_get(o, "symbol");
		tm = json_object_get(o, "timestamp");
		po = json_object_get(o, "position");
		if (sy == NULL && tm == NULL && po == NULL) {
			json_decref(o);
			continue;
		}
		if (r->nsig == cap) {
			cap = cap ? cap * 2 : 256;
			r->sigs = xrealloc(r->sigs, cap, sizeof(*r->sigs));
		}
		g = &r->sigs[r->nsig];
		g->line = lineno;
		if (!json_is_string(sy) || !bt_symbol_ok(json_string_value(sy))) {
			bt_warnx("%s:%zu: symbol is missing or not a symbol",
			    name, lineno);
			goto badj;
		}
		snprintf(g->symbol, sizeof(g->symbol), "%s",
		    json_string_value(sy));
		if (jtime(tm, &g->t) == -1) {
			bt_warnx("%s:%zu: timestamp is missing or not a time "
			    "(ms since the epoch, or ISO 8601)", name, lineno);
			goto badj;
		}
		if (!json_is_number(po) || !(fabs(json_number_value(po)) <=
		    1)) {
			bt_warnx("%s:%zu: position is missing or outside "
			    "-1..1", name, lineno);
			goto badj;
		}
		g->pos = json_number_value(po);
		if (g->pos < 0 && !r->ex.shorts) {
			bt_warnx("%s:%zu: position %g is short; allow shorts "
			    "with --short", name, lineno, g->pos);
			goto badj;
		}
		/* Look-ahead: the bar opened at t closes at t + iv - 1. */
		if (r->nsrc == 0 && iv > 0 && g->t + iv - 1 >= now) {
			bt_warnx("%s:%zu: look-ahead: the %s bar opened at %s "
			    "closes at %s, after now (%s); a signal may only "
			    "use closed bars", name, lineno, r->tf,
			    isot(g->t, ts), isot(g->t + iv - 1, ts2),
			    isot(now, ts3));
			goto badj;
		}
		json_decref(o);
		r->nsig++;
	}
	if (r->nsig > 1)	/* none: sigs is NULL, which qsort may not get */
		qsort(r->sigs, r->nsig, sizeof(*r->sigs), cmp_sig);
	for (i = 1; i < r->nsig; i++)
		if (strcmp(r->sigs[i].symbol, r->sigs[i - 1].symbol) == 0 &&
		    r->sigs[i].t == r->sigs[i - 1].t) {
			bt_warnx("%s:%zu: repeats the %s signal of line %zu",
			    name, r->sigs[i].line, r->sigs[i].symbol,
			    r->sigs[i - 1].line);
			return BT_EX_DATAERR;
		}
	return 0;
badj:
	json_decref(o);
bad:
	return BT_EX_DATAERR;
}

/* Binary search of an open time; -1 when no bar opened then. */
static long
bar_at(const struct series *s, int64_t t)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->t[lo] == t ? (long)lo : -1;
}

/* ------------------------------------------------------------ indicators */

/* Forgets the cached values; the arrays stay for the next symbol. */
static void
cache_clear(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ncache; i++)
		r->cache[i].kind = -1;
	r->nfree = r->ncache;
	r->ncache = 0;
}

static double *
cache_put(struct run *r, int kind, double p1, double p2, size_t n)
{
	struct indc *e;

	if (r->ncache == r->cachecap) {
		r->cachecap = r->cachecap ? r->cachecap * 2 : 16;
		r->cache = xrealloc(r->cache, r->cachecap, sizeof(*r->cache));
		memset(r->cache + r->ncache, 0, (r->cachecap - r->ncache) *
		    sizeof(*r->cache));
	}
	e = &r->cache[r->ncache++];
	if (r->ncache > r->nfree || e->cap < n) {
		e->v = xrealloc(e->v, n, sizeof(double));
		e->cap = n;
	}
	e->kind = kind;
	e->p1 = p1;
	e->p2 = p2;
	return e->v;
}

/*
 * An indicator over the whole loaded series, computed once per symbol
 * and parameter however many combinations read it (bt_ind.c: TA-Lib's
 * definitions, NAN before the lookback).
 */
static const double *
ind(struct run *r, const struct series *s, int kind, double p1, double p2)
{
	size_t i;
	double *u, *m, *l, *v;

	for (i = 0; i < r->ncache; i++)
		if (r->cache[i].kind == kind && r->cache[i].p1 == p1 &&
		    r->cache[i].p2 == p2)
			return r->cache[i].v;
	switch (kind) {
	case I_BBU:
	case I_BBM:
	case I_BBL:
		u = cache_put(r, I_BBU, p1, p2, s->n);
		m = cache_put(r, I_BBM, p1, p2, s->n);
		l = cache_put(r, I_BBL, p1, p2, s->n);
		bt_bbands(s->c, s->n, (int)p1, p2, p2, u, m, l);
		return kind == I_BBU ? u : kind == I_BBM ? m : l;
	}
	v = cache_put(r, kind, p1, p2, s->n);
	switch (kind) {
	case I_SMA:
		bt_sma(s->c, s->n, (int)p1, v);
		break;
	case I_EMA:
		bt_ema(s->c, s->n, (int)p1, v);
		break;
	case I_RSI:
		bt_rsi(s->c, s->n, (int)p1, v);
		break;
	case I_MAXH:
		bt_max(s->h, s->n, (int)p1, v);
		break;
	case I_MINL:
		bt_min(s->l, s->n, (int)p1, v);
		break;
	}
	return v;
}

/* The index of a strategy's first valid indicator value. */
static size_t
lookback(enum strat st, const double *par)
{
	switch (st) {
	case S_SMA:
	case S_EMA:
		return (size_t)fmax(par[0], par[1]) - 1;
	case S_RSI:
		return (size_t)par[0];
	case S_BBANDS:
		return (size_t)par[0] - 1;
	case S_DONCHIAN:
		return (size_t)fmax(par[0], par[1]) - 1;
	default:
		return 0;
	}
}

/*
 * The values a strategy compares at bar i, for the equity file; *shift
 * is 1 when bar i reads them at i - 1 (Donchian's channel excludes the
 * bar being tested).
 */
static int
ind_cols(struct run *r, const struct series *s, const double *par,
    const double *col[MAXIND], int *shift)
{
	*shift = 0;
	switch (r->strat) {
	case S_SMA:
	case S_EMA:
		col[0] = ind(r, s, r->strat == S_SMA ? I_SMA : I_EMA, par[0], 0);
		col[1] = ind(r, s, r->strat == S_SMA ? I_SMA : I_EMA, par[1], 0);
		return 2;
	case S_RSI:
		col[0] = ind(r, s, I_RSI, par[0], 0);
		return 1;
	case S_BBANDS:
		col[0] = ind(r, s, I_BBU, par[0], par[1]);
		col[1] = ind(r, s, I_BBM, par[0], par[1]);
		col[2] = ind(r, s, I_BBL, par[0], par[1]);
		return 3;
	case S_DONCHIAN:
		*shift = 1;
		col[0] = ind(r, s, I_MAXH, par[0], 0);
		col[1] = ind(r, s, I_MINL, par[0], 0);
		col[2] = ind(r, s, I_MINL, par[1], 0);
		col[3] = ind(r, s, I_MAXH, par[1], 0);
		return 4;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ strategies */

static void
ev_push(struct run *r, size_t bar, uint32_t kind, double target)
{
	if (r->nev == r->evcap) {
		r->evcap = r->evcap ? r->evcap * 2 : 1024;
		r->ev = xrealloc(r->ev, r->evcap, sizeof(*r->ev));
	}
	r->ev[r->nev].bar = (uint32_t)bar;
	r->ev[r->nev].kind = kind;
	r->ev[r->nev].target = target;
	r->nev++;
}

/*
 * Crossovers as backtesting.py's crossover(a, b) sees them: a[-2] < b[-2]
 * and a[-1] > b[-1], strictly; NaN compares false, so nothing fires
 * before both series are valid.
 */
static void
ev_cross(struct run *r, const double *a, const double *b, size_t from,
    size_t n)
{
	size_t i;
	unsigned lt0, gt0, lt, gt;

	if (from < 1)
		from = 1;
	if (from >= n)
		return;
	lt0 = a[from - 1] < b[from - 1];
	gt0 = a[from - 1] > b[from - 1];
	/* One rarely taken branch per bar: the comparisons are flags. */
	for (i = from; i < n; i++) {
		lt = a[i] < b[i];
		gt = a[i] > b[i];
		if ((lt0 & gt) | (gt0 & lt))
			ev_push(r, i, gt ? EV_LONG : EV_SHORT, 0);
		lt0 = lt;
		gt0 = gt;
	}
}

/* The first signal of a symbol in the sorted list. */
static size_t
sig_first(const struct run *r, const char *sym)
{
	size_t lo = 0, hi = r->nsig, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(r->sigs[mid].symbol, sym) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * External signals into events.  Each must name a bar's open time; the
 * newest before the window becomes the target at the window's first bar.
 * Exit code or 0.
 */
static int
ev_signals(struct run *r, const struct series *s)
{
	size_t i, first = sig_first(r, s->symbol);
	long b;
	double pre = NAN;
	int64_t closes, now = bt_now_ms();
	char ts[32], ts2[32], ts3[32];
	const char *name = strcmp(r->sigfile, "-") == 0 ? "stdin" :
	    r->sigfile;
	const struct sig *g;

	for (i = first; i < r->nsig && strcmp(r->sigs[i].symbol,
	    s->symbol) == 0; i++) {
		g = &r->sigs[i];
		if ((b = bar_at(s, g->t)) < 0) {
			if (g->t < s->t[0]) {
				r->sig_ignored++;	/* before the data */
				continue;
			}
			if (g->t > s->t[s->n - 1] && g->t + s->iv - 1 >= now) {
				bt_warnx("%s:%zu: look-ahead: the %s bar opened "
				    "at %s has not closed (now is %s); a signal "
				    "may only use closed bars", name, g->line,
				    s->symbol, isot(g->t, ts), isot(now, ts3));
				return BT_EX_DATAERR;
			}
			bt_warnx("%s:%zu: timestamp %lld (%s) is not the open "
			    "time of a %s bar (loaded %s..%s)", name, g->line,
			    (long long)g->t, isot(g->t, ts), s->symbol,
			    isot(s->t[0], ts2), isot(s->t[s->n - 1], ts3));
			return BT_EX_DATAERR;
		}
		closes = (size_t)b + 1 < s->n ? s->t[b + 1] - 1 : s->tclose;
		if (closes >= now) {
			bt_warnx("%s:%zu: look-ahead: the %s bar opened at %s "
			    "closes at %s, after now (%s)", name, g->line,
			    s->symbol, isot(g->t, ts), isot(closes, ts2),
			    isot(now, ts3));
			return BT_EX_DATAERR;
		}
		if ((size_t)b < s->w0)
			pre = g->pos;
	}
	if (!isnan(pre))
		ev_push(r, s->w0, EV_TARGET, pre);
	for (i = first; i < r->nsig && strcmp(r->sigs[i].symbol,
	    s->symbol) == 0; i++)
		if ((b = bar_at(s, r->sigs[i].t)) >= 0 && (size_t)b >= s->w0)
			ev_push(r, (size_t)b, EV_TARGET, r->sigs[i].pos);
	return 0;
}

/*
 * A strategy's events on the bars from `from' on.  The rules (bt-backtest
 * (1), STRATEGIES) compare closed bars only.
 */
static int
events(struct run *r, const struct series *s, const double *par,
    size_t from)
{
	const double *a, *b, *u, *m, *l, *c = s->c;
	const double *ue, *le, *lx, *ux;
	size_t i, n = s->n;

	r->nev = 0;
	switch (r->strat) {
	case S_SMA:
	case S_EMA:
		a = ind(r, s, r->strat == S_SMA ? I_SMA : I_EMA, par[0], 0);
		b = ind(r, s, r->strat == S_SMA ? I_SMA : I_EMA, par[1], 0);
		ev_cross(r, a, b, from, n);
		break;
	case S_RSI:
		a = ind(r, s, I_RSI, par[0], 0);
		for (i = from > 0 ? from : 1; i < n; i++) {
			if (a[i - 1] >= par[1] && a[i] < par[1])
				ev_push(r, i, EV_LONG, 0);
			else if (a[i - 1] <= par[2] && a[i] > par[2])
				ev_push(r, i, EV_SHORT, 0);
		}
		break;
	case S_BBANDS:
		u = ind(r, s, I_BBU, par[0], par[1]);
		m = ind(r, s, I_BBM, par[0], par[1]);
		l = ind(r, s, I_BBL, par[0], par[1]);
		for (i = from > 0 ? from : 1; i < n; i++) {
			if (c[i - 1] < m[i - 1] && c[i] >= m[i])
				ev_push(r, i, EV_XLONG, 0);
			if (c[i - 1] > m[i - 1] && c[i] <= m[i])
				ev_push(r, i, EV_XSHORT, 0);
			if (c[i - 1] >= l[i - 1] && c[i] < l[i])
				ev_push(r, i, EV_LONG, 0);
			else if (c[i - 1] <= u[i - 1] && c[i] > u[i])
				ev_push(r, i, EV_SHORT, 0);
		}
		break;
	case S_DONCHIAN:
		ue = ind(r, s, I_MAXH, par[0], 0);
		le = ind(r, s, I_MINL, par[0], 0);
		lx = ind(r, s, I_MINL, par[1], 0);
		ux = ind(r, s, I_MAXH, par[1], 0);
		for (i = from > 0 ? from : 1; i < n; i++) {
			if (c[i] < lx[i - 1])
				ev_push(r, i, EV_XLONG, 0);
			if (c[i] > ux[i - 1])
				ev_push(r, i, EV_XSHORT, 0);
			if (c[i] > ue[i - 1])
				ev_push(r, i, EV_LONG, 0);
			else if (c[i] < le[i - 1])
				ev_push(r, i, EV_SHORT, 0);
		}
		break;
	case S_HOLD:
		if (from < n)
			ev_push(r, from, EV_LONG, 0);
		break;
	case S_SIGNALS:
		return ev_signals(r, s);
	}
	return 0;
}

/* --------------------------------------------------------------- metrics */

static void
acc_init(struct acc *a, const int64_t *t)
{
	memset(a, 0, sizeof(*a));
	a->t = t;
	a->tr.best = -INFINITY;
	a->tr.worst = INFINITY;
}

/* A drawdown period from the last zero-drawdown bar to bar q. */
static void
dd_period(struct acc *a, size_t q)
{
	double dd = 1 - a->mine / a->peak, dur = (double)(a->t[q] -
	    a->t[a->z]);

	a->ndd++;
	a->sdd += dd;
	a->sddur += dur;
	if (dur > a->mddur)
		a->mddur = dur;
	if (dd > a->maxdd)
		a->maxdd = dd;
}

/*
 * Equity at bar i.  A drawdown period runs between two bars whose
 * drawdown is zero (the last bar closes the last one), as backtesting.py
 * counts them; within one the peak is fixed, so the period's deepest
 * point is its lowest equity and no division is needed per bar.
 */
static inline void
acc_eq(struct acc *a, size_t i, double e)
{
	if (a->nb++ == 0) {
		a->e0 = a->peak = a->mine = e;
		a->z = i;
	} else if (e >= a->peak) {
		if (i > a->z + 1)
			dd_period(a, i);
		a->peak = a->mine = e;
		a->z = i;
	} else if (e < a->mine)
		a->mine = e;
	a->elast = e;
	a->ilast = i;
}

/* The next value of the series whose simple returns are annualised. */
static inline void
acc_ret(struct acc *a, double e)
{
	double r;

	if (a->nre++ == 0) {
		a->rfirst = a->eprev = e;
		return;
	}
	r = e / a->eprev - 1;
	a->eprev = e;
	a->nr++;
	a->sr += r;
	a->sr2 += r * r;
	if (r < 0)
		a->sneg += r * r;
	if (r <= -1)
		a->ruined = true;
}

static inline void
acc_bar(struct acc *a, size_t i, double e)
{
	acc_eq(a, i, e);
	acc_ret(a, e);
}

/* Bars [i, to) all at the equity of the bar before: returns of zero. */
static void
acc_flat(struct acc *a, size_t i, size_t to, double e)
{
	size_t k = to - i;

	a->nb += k;
	a->nre += k;
	a->nr += k;
	if (e >= a->peak) {
		if (i > a->z + 1)
			dd_period(a, i);
		a->peak = a->mine = e;
		a->z = to - 1;
	}
	a->elast = e;
	a->ilast = to - 1;
}

static void
acc_trade(struct tacc *a, const struct trade *t)
{
	size_t from;

	a->nt++;
	if (t->pnl > 0) {
		a->nwin++;
		a->npos++;
		a->spos += t->pnl;
	} else if (t->pnl < 0) {
		a->nneg++;
		a->snegp += t->pnl;
	}
	a->sp += t->pnl;
	a->sp2 += t->pnl * t->pnl;
	a->sR += t->ret;
	if (t->ret > 0)
		a->sRpos += t->ret;
	else if (t->ret < 0)
		a->sRneg += t->ret;
	if (1 + t->ret <= 0)
		a->Rruined = true;
	else
		a->slogR += log(1 + t->ret);
	if (t->ret > a->best)
		a->best = t->ret;
	if (t->ret < a->worst)
		a->worst = t->ret;
	a->sdur += (double)(t->t_out - t->t_in);
	if ((double)(t->t_out - t->t_in) > a->mdur)
		a->mdur = (double)(t->t_out - t->t_in);
	a->fees += t->fees;
	/* Exposure: bars [entry, exit], each counted once. */
	from = t->bar_in > a->covered ? t->bar_in : a->covered;
	if (t->bar_out + 1 > from)
		a->expo += t->bar_out + 1 - from;
	if (t->bar_out + 1 > a->covered)
		a->covered = t->bar_out + 1;
}

static double
roundup(double ms, int64_t to)
{
	return to > 0 && isfinite(ms) ? ceil(ms / (double)to) * (double)to :
	    ms;
}

#define PUT(k, v)	json_object_set_new(o, k, v)

/*
 * The metrics, backtesting.py's set under its names in snake case; the
 * formulas are in bt-backtest(1), METRICS.  Percentages are in percent.
 */
static json_t *
metrics(const struct acc *a0, const struct mctx *m)
{
	struct acc a = *a0;
	const struct tacc *t = &a0->tr;
	json_t *o = json_object();
	double ret, g, rann, var, vol, years, w, nt = (double)t->nt, sd;
	char ts[32];

	if (a.nb > 0 && a.ilast > a.z + 1)
		dd_period(&a, a.ilast);
	if (a.nb > 0 && 1 - a.mine / a.peak > a.maxdd)
		a.maxdd = 1 - a.mine / a.peak;
	ret = (a.elast - a.e0) / a.e0;
	g = a.nr == 0 ? NAN : a.ruined ? 0 :
	    exp(log(a.eprev / a.rfirst) / (double)a.nr) - 1;
	rann = pow(1 + g, m->A) - 1;
	var = a.nr > 1 ? (a.sr2 - a.sr * a.sr / (double)a.nr) /
	    (double)(a.nr - 1) : NAN;
	if (var < 0)
		var = 0;
	vol = sqrt(pow(var + (1 + g) * (1 + g), m->A) - pow(1 + g, 2 * m->A));
	years = (double)((m->t1 - m->t0) / 1000) / 86400 / 365.25;
	w = nt > 0 ? (double)t->nwin / nt : NAN;
	sd = t->nt > 1 ? sqrt(fmax(0, (t->sp2 - t->sp * t->sp / nt) /
	    (nt - 1))) : NAN;

	PUT("start", json_string(isot(m->t0, ts)));
	PUT("end", json_string(isot(m->t1, ts)));
	PUT("duration_days", jnum((double)(m->t1 - m->t0) / DAY_MS));
	PUT("exposure_pct", jnum(m->nbars ? (double)t->expo /
	    (double)m->nbars * 100 : NAN));
	PUT("equity_final", jnum(a.elast));
	PUT("equity_peak", jnum(a.peak));
	PUT("return_pct", jnum(ret * 100));
	PUT("buy_hold_return_pct", jnum(m->bh * 100));
	PUT("return_ann_pct", jnum(rann * 100));
	PUT("volatility_ann_pct", jnum(vol * 100));
	PUT("cagr_pct", jnum(years > 0 ? (pow(a.elast / a.e0, 1 / years) -
	    1) * 100 : NAN));
	PUT("sharpe", jnum(vol != 0 ? rann * 100 / (vol * 100) : NAN));
	PUT("sortino", jnum(rann / (sqrt(a.sneg / (double)a.nr) *
	    sqrt(m->A))));
	PUT("calmar", jnum(a.maxdd != 0 ? rann / a.maxdd : NAN));
	if (m->ab) {
		PUT("alpha_pct", jnum(m->alpha));
		PUT("beta", jnum(m->beta));
	}
	PUT("max_drawdown_pct", jnum(-a.maxdd * 100));
	PUT("avg_drawdown_pct", jnum(a.ndd ? -a.sdd / (double)a.ndd * 100 :
	    NAN));
	PUT("max_drawdown_duration_days", jnum(a.ndd ? roundup(a.mddur,
	    m->round_ms) / DAY_MS : NAN));
	PUT("avg_drawdown_duration_days", jnum(a.ndd ? roundup(a.sddur /
	    (double)a.ndd, m->round_ms) / DAY_MS : NAN));
	PUT("trades", json_integer((json_int_t)t->nt));
	PUT("win_rate_pct", jnum(w * 100));
	PUT("best_trade_pct", jnum(t->nt ? t->best * 100 : NAN));
	PUT("worst_trade_pct", jnum(t->nt ? t->worst * 100 : NAN));
	PUT("avg_trade_pct", jnum(t->nt ? (t->Rruined ? 0 :
	    exp(t->slogR / nt) - 1) * 100 : NAN));
	PUT("max_trade_duration_days", jnum(t->nt ? roundup(t->mdur,
	    m->round_ms) / DAY_MS : NAN));
	PUT("avg_trade_duration_days", jnum(t->nt ? roundup(t->sdur / nt,
	    m->round_ms) / DAY_MS : NAN));
	/* backtesting.py divides percentage returns; natively, cash. */
	PUT("profit_factor", jnum(m->compat ?
	    (t->sRneg != 0 ? t->sRpos / fabs(t->sRneg) : NAN) :
	    (t->snegp != 0 ? t->spos / fabs(t->snegp) : NAN)));
	PUT("expectancy_pct", jnum(t->nt ? t->sR / nt * 100 : NAN));
	PUT("sqn", jnum(sd != 0 ? sqrt(nt) * (t->sp / nt) / sd : NAN));
	PUT("kelly", jnum(t->npos && t->nneg ? w - (1 - w) /
	    ((t->spos / (double)t->npos) / (-t->snegp / (double)t->nneg)) :
	    NAN));
	PUT("commissions", jnum(t->fees));
	PUT("periods_per_year", jnum(m->A));
	return o;
}

/* -------------------------------------------------------------- simulate */

struct sim {
	const struct series *s;
	const struct exec *ex;
	struct simout	*so;
	double		 cash, u, held, tgt;
	bool		 pend, open;
	struct trade	 tr;
};

static double
lots(double units, double lot)
{
	if (lot <= 0)
		return units;
	return floor(units / lot * (1 + 1e-12)) * lot;
}

static void
trade_done(struct sim *m)
{
	struct simout *so = m->so;

	acc_trade(&so->acc->tr, &m->tr);
	if (so->tr != NULL) {
		if (so->ntr == so->trcap) {
			so->trcap = so->trcap ? so->trcap * 2 : 64;
			so->tr = xrealloc(so->tr, so->trcap, sizeof(*so->tr));
		}
		so->tr[so->ntr++] = m->tr;
	}
	m->open = false;
}

/* Closes the position at base price adjusted by slippage, fee paid. */
static void
pos_close(struct sim *m, size_t i, double base, int64_t when)
{
	double px = base * (1 + (m->u > 0 ? -m->ex->slip : m->ex->slip));
	double fee = fabs(m->u) * px * m->ex->fee;

	m->cash += m->u * px - fee;
	m->tr.pnl += m->u * (px - m->tr.p_in) - fee - m->tr.fees;
	m->tr.fees += fee;
	m->tr.p_out = px;
	m->tr.bar_out = i - m->s->w0;
	m->tr.t_out = when;
	m->tr.ret = m->tr.pnl / m->tr.cost;
	m->u = 0;
	trade_done(m);
}

/* Buys (du > 0) or sells du units at bar i's open, with slippage. */
static void
pos_change(struct sim *m, size_t i, double du)
{
	double o = m->s->o[i];
	double px = o * (1 + (du > 0 ? m->ex->slip : -m->ex->slip));
	double fee = fabs(du) * px * m->ex->fee;

	if (!m->open) {
		memset(&m->tr, 0, sizeof(m->tr));
		m->open = true;
		m->tr.t_in = m->s->t[i];
		m->tr.bar_in = i - m->s->w0;
		m->tr.units = du;
		m->tr.p_in = px;
		m->tr.cost = fabs(du) * px;
		m->tr.fees = fee;
	} else if ((du > 0) == (m->u > 0)) {
		m->tr.p_in = (fabs(m->u) * m->tr.p_in + fabs(du) * px) /
		    (fabs(m->u) + fabs(du));
		m->tr.cost += fabs(du) * px;
		m->tr.fees += fee;
		if (fabs(m->u + du) > fabs(m->tr.units))
			m->tr.units = m->u + du;
	} else {
		m->tr.pnl += -du * (px - m->tr.p_in);
		m->tr.fees += fee;
	}
	m->cash -= du * px + fee;
	m->u += du;
	if (m->u == 0) {
		/* Reduced to nothing: the trade ends here. */
		m->tr.pnl -= m->tr.fees;
		m->tr.p_out = px;
		m->tr.bar_out = i - m->s->w0;
		m->tr.t_out = m->s->t[i];
		m->tr.ret = m->tr.pnl / m->tr.cost;
		trade_done(m);
	}
}

/*
 * Fills the target decided on the previous close at bar i's open: a
 * position on the other side (or a target of 0) is closed first, then
 * the new one is sized on the equity then: |target| of it, over the
 * price with slippage and the fee, rounded down to whole lots.
 */
static void
fill(struct sim *m, size_t i)
{
	const struct exec *ex = m->ex;
	double o = m->s->o[i], t = m->tgt, px, e, want;

	m->pend = false;
	if (t == m->held)
		return;
	if (m->u != 0 && (t == 0 || (t > 0) != (m->u > 0)))
		pos_close(m, i, o, m->s->t[i]);
	if (t != 0) {
		px = o * (1 + (t > 0 ? ex->slip : -ex->slip));
		e = m->cash + m->u * o;
		want = copysign(lots(fabs(t) * fmax(e, 0) /
		    (px * (1 + ex->fee)), ex->lot), t);
		if (want != m->u)
			pos_change(m, i, want - m->u);
		if (m->u == 0)
			m->so->unfilled++;
	}
	m->held = t;
}

/* The events of bar `bar' set the target; a change is the latest signal. */
static size_t
decide(struct sim *m, const struct ev *ev, size_t nev, size_t k,
    size_t bar)
{
	double t = m->tgt, size = m->ex->compat ? 1 : m->ex->size;

	for (; k < nev && ev[k].bar == bar; k++) {
		switch (ev[k].kind) {
		case EV_LONG:
			t = size;
			break;
		case EV_SHORT:
			t = m->ex->shorts ? -size : 0;
			break;
		case EV_XLONG:
			if (t > 0)
				t = 0;
			break;
		case EV_XSHORT:
			if (t < 0)
				t = 0;
			break;
		case EV_TARGET:
			t = ev[k].target;
			break;
		}
	}
	if (t != m->tgt) {
		m->tgt = t;
		m->pend = t != m->held;
		m->so->has_sig = true;
		m->so->sig_t = m->s->t[bar];
		m->so->sig_pos = t;
	}
	return k;
}

/*
 * Marks bars [i, to) to market at their close.  The hot loop of every
 * simulation: the accumulator lives in locals here (through the struct
 * it would round-trip memory on every bar), bar w0 was fed already.
 */
static inline void
mark(struct sim *m, size_t i, size_t to)
{
	struct acc *a = m->so->acc;
	const double *c = m->s->c;
	double cash = m->cash, u = m->u, e, r;
	double *eq = m->so->eq, *pos = m->so->pos;
	double sr, sr2, sneg, eprev, peak, mine;
	size_t w0 = m->s->w0, z, k = to - i;
	bool ruined;

	if (i >= to)
		return;
	if (u == 0 && eq == NULL && pos == NULL) {
		acc_bar(a, i, cash);
		if (i + 1 < to)
			acc_flat(a, i + 1, to, cash);
		return;
	}
	sr = a->sr;
	sr2 = a->sr2;
	sneg = a->sneg;
	eprev = a->eprev;
	peak = a->peak;
	mine = a->mine;
	z = a->z;
	ruined = a->ruined;
	for (; i < to; i++) {
		e = cash + u * c[i];
		r = e / eprev - 1;
		eprev = e;
		sr += r;
		sr2 += r * r;
		if (r < 0) {
			sneg += r * r;
			if (r <= -1)
				ruined = true;
		}
		if (e >= peak) {
			if (i > z + 1) {
				a->z = z;
				a->peak = peak;
				a->mine = mine;
				dd_period(a, i);
			}
			peak = mine = e;
			z = i;
		} else if (e < mine)
			mine = e;
		if (eq != NULL) {
			eq[i - w0] = e;
			pos[i - w0] = u;
		}
	}
	a->sr = sr;
	a->sr2 = sr2;
	a->sneg = sneg;
	a->eprev = a->elast = eprev;
	a->peak = peak;
	a->mine = mine;
	a->z = z;
	a->ruined = ruined;
	a->nb += k;
	a->nre += k;
	a->nr += k;
	a->ilast = to - 1;
}

/*
 * The native engine.  The window starts flat at bar w0; events on a bar's
 * close are filled at the next bar's open; each bar is marked at its
 * close; a position still open is closed at the last bar's close.  Work
 * happens only on event bars; between them the loop marks to market.
 */
static void
sim_native(const struct series *s, const struct ev *ev, size_t nev,
    const struct exec *ex, struct simout *so)
{
	struct sim m;
	struct acc *a = so->acc;
	size_t n = s->n, w0 = s->w0, i, k = 0, end;

	memset(&m, 0, sizeof(m));
	m.s = s;
	m.ex = ex;
	m.so = so;
	m.cash = ex->cash;
	acc_init(a, s->t);
	acc_bar(a, w0, m.cash);
	if (so->eq != NULL)
		so->eq[0] = m.cash;
	if (so->pos != NULL)
		so->pos[0] = 0;
	while (k < nev && ev[k].bar < w0)
		k++;
	k = decide(&m, ev, nev, k, w0);
	for (i = w0 + 1; i < n; i = end + 1) {
		if (m.pend)
			fill(&m, i);
		end = k < nev && ev[k].bar < n - 1 ? ev[k].bar : n - 1;
		if (end == n - 1) {
			mark(&m, i, n - 1);
			if (m.u != 0)
				pos_close(&m, n - 1, s->c[n - 1], s->t[n - 1] +
				    s->iv);
			mark(&m, n - 1, n);
			decide(&m, ev, nev, k, n - 1);	/* the latest signal */
			break;
		}
		mark(&m, i, end + 1);
		k = decide(&m, ev, nev, k, end);
	}
}

/* Python's float floor division, as backtesting.py's sizing uses it. */
static double
pyfloordiv(double vx, double wx)
{
	double mod = fmod(vx, wx), div = (vx - mod) / wx, fd;

	if (mod != 0 && ((wx < 0) != (mod < 0)))
		div -= 1.0;
	if (div != 0) {
		fd = floor(div);
		if (div - fd > 0.5)
			fd += 1.0;
	} else
		fd = copysign(0.0, vx / wx);
	return fd;
}

/* backtesting.py's close: raw price, commission on the exit value. */
static void
compat_close(struct sim *m, size_t i, double px)
{
	double exitc = fabs(m->u) * px * m->ex->fee;

	m->cash += m->u * (px - m->tr.p_in) - exitc;
	m->tr.fees += exitc;
	m->tr.pnl = m->u * (px - m->tr.p_in) - m->tr.fees;
	m->tr.ret = copysign(1, m->u) * (px / m->tr.p_in - 1) - m->tr.fees /
	    (fabs(m->u) * m->tr.p_in);
	m->tr.p_out = px;
	m->tr.bar_out = i;
	m->tr.t_out = m->s->t[i];
	m->u = 0;
	trade_done(m);
}

/*
 * backtesting.py's broker at bar i's open: the close order first, then
 * the new one sized in whole units, int(cash * f // (price adjusted by
 * the spread + the commission per unit)).  A position on the same side
 * is kept as it is.
 */
static void
compat_fill(struct sim *m, size_t i)
{
	const struct exec *ex = m->ex;
	double o = m->s->o[i], t = m->tgt, adj, units;

	m->pend = false;
	if (t == m->held)
		return;
	if (m->u != 0 && (t == 0 || (t > 0) != (m->u > 0)))
		compat_close(m, i, o);
	if (t != 0 && m->u == 0) {
		adj = o * (1 + copysign(ex->slip, t));
		units = pyfloordiv(fmax(m->cash, 0) * fmin(fabs(t), BTPY_SIZE),
		    adj + o * ex->fee);
		units = (double)(int64_t)units;
		if (units == 0) {
			m->so->unfilled++;
		} else {
			memset(&m->tr, 0, sizeof(m->tr));
			m->open = true;
			m->u = copysign(units, t);
			m->tr.units = m->u;
			m->tr.p_in = adj;
			m->tr.fees = units * adj * ex->fee;
			m->tr.cost = units * adj;
			m->tr.bar_in = i;
			m->tr.t_in = m->s->t[i];
			m->cash -= m->tr.fees;
		}
	}
	m->held = t;
}

/*
 * The backtesting.py-compatible engine (bt-backtest(1), BACKTESTING.PY MODE):
 * decisions from bar `start' (the first with every indicator valid, plus
 * one), equity = cash + unrealised PnL, open trades closed at the last
 * bar's open.  so->eq must hold s->n values; the accumulator is fed by
 * the caller (returns are resampled).
 */
static void
sim_compat(const struct series *s, const struct ev *ev, size_t nev,
    const struct exec *ex, size_t start, struct simout *so)
{
	struct sim m;
	size_t n = s->n, i, k = 0;

	memset(&m, 0, sizeof(m));
	m.s = s;
	m.ex = ex;
	m.so = so;
	m.cash = ex->cash;
	for (i = 0; i < n; i++) {
		if (i >= start && m.pend)
			compat_fill(&m, i);
		so->eq[i] = m.u == 0 ? m.cash : m.cash + m.u * (s->c[i] -
		    m.tr.p_in);
		if (so->pos != NULL)
			so->pos[i] = m.u;
		while (k < nev && ev[k].bar < i)
			k++;
		if (i >= start)
			k = decide(&m, ev, nev, k, i);
	}
	if (m.u != 0) {
		compat_close(&m, n - 1, s->o[n - 1]);
		so->eq[n - 1] = m.cash;
		if (so->pos != NULL)
			so->pos[n - 1] = 0;
	}
}

/* backtesting.py's resampling of the equity: 1 (days), 7, 31, 365. */
static int64_t
period_key(int64_t t, int freq)
{
	int64_t d = t >= 0 ? t / DAY_MS : (t - DAY_MS + 1) / DAY_MS;
	time_t sec = (time_t)(d * 86400);
	struct tm tm;

	switch (freq) {
	case 7:
		/* W-SUN: weeks Monday..Sunday; day 0 was a Thursday. */
		return (d + 3 >= 0 ? (d + 3) / 7 : (d + 3 - 6) / 7);
	case 31:
	case 365:
		gmtime_r(&sec, &tm);
		return freq == 31 ? (int64_t)tm.tm_year * 12 + tm.tm_mon :
		    tm.tm_year;
	default:
		return d;
	}
}

/* The last equity of each period (empty periods dropped) as returns. */
static void
acc_resampled(struct acc *a, const int64_t *t, const double *e, size_t n,
    int freq)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (i + 1 == n || period_key(t[i], freq) !=
		    period_key(t[i + 1], freq))
			acc_ret(a, e[i]);
}

/*
 * backtesting.py's view of a series: its period is the median spacing of
 * the last 100 bars; daily data count 252 periods a year unless more
 * than 60% of a 7-day week's share of bars fall on weekends (then 365).
 */
static void
compat_calendar(const int64_t *t, size_t n, int *freq, double *A,
    int64_t *round_ms)
{
	size_t k = n < 100 ? n : 100, i, m, wk = 0;
	int64_t *d, med, days;

	*freq = 1;
	*A = 365;
	*round_ms = DAY_MS;
	if (k < 2)
		return;
	d = xcalloc(k - 1, sizeof(*d));
	for (i = 0; i + 1 < k; i++)
		d[i] = t[n - k + i + 1] - t[n - k + i];
	qsort(d, k - 1, sizeof(*d), cmp_i64);
	m = k - 1;
	med = m % 2 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2;
	free(d);
	days = med / DAY_MS;
	*round_ms = med % DAY_MS == 0 ? DAY_MS : med % 3600000 == 0 ?
	    3600000 : med % 60000 == 0 ? 60000 : med % 1000 == 0 ? 1000 : 1;
	for (i = 0; i < n; i++) {
		int64_t dd = t[i] >= 0 ? t[i] / DAY_MS : (t[i] - DAY_MS + 1) /
		    DAY_MS;
		if ((((dd + 3) % 7) + 7) % 7 >= 5)
			wk++;
	}
	if (days == 7) {
		*freq = 7;
		*A = 52;
	} else if (days == 31) {
		*freq = 31;
		*A = 12;
	} else if (days == 365) {
		*freq = 365;
		*A = 1;
	} else {
		*freq = 1;
		*A = (double)wk / (double)n > 2.0 / 7 * 0.6 ? 365 : 252;
	}
}

/* backtesting.py's beta: cov(log returns of equity, of close), ddof 1. */
static void
alpha_beta(const double *e, const double *c, size_t n, double ret_pct,
    double bh_pct, double *alpha, double *beta)
{
	size_t i, m = n - 1;
	double me = 0, mm = 0, cov = 0, var = 0, le, lm;

	*alpha = *beta = NAN;
	if (n < 3)
		return;
	for (i = 1; i < n; i++) {
		me += log(e[i] / e[i - 1]);
		mm += log(c[i] / c[i - 1]);
	}
	me /= (double)m;
	mm /= (double)m;
	for (i = 1; i < n; i++) {
		le = log(e[i] / e[i - 1]) - me;
		lm = log(c[i] / c[i - 1]) - mm;
		cov += le * lm;
		var += lm * lm;
	}
	*beta = (cov / (double)(m - 1)) / (var / (double)(m - 1));
	*alpha = ret_pct - *beta * bh_pct;
}

/* ---------------------------------------------------------------- output */

/* A Binance interval name for a bar length, for file input. */
static const char *
tf_name(int64_t iv)
{
	static const char *names[] = { "1m", "3m", "5m", "15m", "30m", "1h",
	    "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w" };
	static char buf[32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bt_tf_ms(names[i]) == iv)
			return names[i];
	snprintf(buf, sizeof(buf), "%llds", (long long)(iv / 1000));
	return buf;
}

static json_t *
params_json(const struct run *r, const double *par)
{
	const struct stratdef *d = &strats[r->strat];
	json_t *o = json_object();
	int i;

	for (i = 0; i < d->npar; i++)
		json_object_set_new(o, d->par[i], d->integer & (1u << i) ?
		    json_integer((json_int_t)par[i]) : json_real(par[i]));
	return o;
}

/* A line's head: what ran on which symbol. */
static json_t *
line_head(const struct run *r, const char *event, const struct series *s,
    const double *par)
{
	json_t *o = bt_rec(event);

	json_object_set_new(o, "symbol", json_string(s->symbol));
	json_object_set_new(o, "tf", json_string(tf_name(s->iv)));
	json_object_set_new(o, "strategy", json_string(strats[r->strat].name));
	json_object_set_new(o, "params", params_json(r, par));
	json_object_set_new(o, "mode", json_string(r->ex.compat ?
	    "backtesting.py" : "native"));
	json_object_set_new(o, "bars", json_integer((json_int_t)(s->n -
	    s->w0)));
	json_object_set_new(o, "warmup", json_integer((json_int_t)s->w0));
	return o;
}

/* ",v" in the shortest form that reads back as the same double. */
static void
csv_num(FILE *fp, double v)
{
	char buf[40];
	int prec;

	if (!isfinite(v)) {
		fputc(',', fp);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fprintf(fp, ",%s", buf);
}

static void
write_trades(struct run *r, const struct series *s, const struct simout *so)
{
	size_t i;
	char a[32], b[32];
	const struct trade *t;

	for (i = 0; i < so->ntr; i++) {
		t = &so->tr[i];
		fprintf(r->trades_fp, "%s,%s", s->symbol, t->units > 0 ?
		    "long" : "short");
		csv_num(r->trades_fp, fabs(t->units));
		fprintf(r->trades_fp, ",%s", isot(t->t_in, a));
		csv_num(r->trades_fp, t->p_in);
		fprintf(r->trades_fp, ",%s", isot(t->t_out, b));
		csv_num(r->trades_fp, t->p_out);
		csv_num(r->trades_fp, t->pnl);
		csv_num(r->trades_fp, t->ret * 100);
		csv_num(r->trades_fp, t->fees);
		fprintf(r->trades_fp, ",%zu,%zu\n", t->bar_in, t->bar_out);
	}
}

/* Long format: one row per bar and symbol, then the portfolio's rows. */
static void
write_equity(struct run *r, const char *sym, const int64_t *t,
    const double *e, const double *pos, const double *c,
    const double *const *col, int ncol, int shift, size_t w0, size_t n)
{
	size_t j, i;
	double peak = -INFINITY;
	char ts[32];
	int k;

	for (j = 0; j < n; j++) {
		i = w0 + j;
		if (e[j] > peak)
			peak = e[j];
		fprintf(r->equity_fp, "%s,%s", isot(t[i], ts), sym);
		csv_num(r->equity_fp, e[j]);
		csv_num(r->equity_fp, e[j] < peak ? -(1 - e[j] / peak) * 100 :
		    0);
		csv_num(r->equity_fp, pos != NULL ? pos[j] : NAN);
		csv_num(r->equity_fp, c != NULL ? c[i] : NAN);
		for (k = 0; k < ncol; k++)
			csv_num(r->equity_fp, i >= (size_t)shift ?
			    col[k][i - (size_t)shift] : NAN);
		fputc('\n', r->equity_fp);
	}
}

/* The acceptance test of signals_validated. */
static bool
judge(const struct run *r, const struct series *s, json_t *m,
    json_t *reasons)
{
	double sharpe = json_real_value(json_object_get(m, "sharpe"));
	double dd = json_real_value(json_object_get(m, "max_drawdown_pct"));
	json_int_t nt = json_integer_value(json_object_get(m, "trades"));
	double min_sharpe = bt_conf_double("BACKTEST_MIN_SHARPE");
	double max_dd = bt_conf_double("BACKTEST_MAX_DRAWDOWN_PCT");
	long min_trades = bt_conf_long("BACKTEST_MIN_TRADES");
	char buf[160], ts[32];

	if (json_is_null(json_object_get(m, "sharpe")))
		json_array_append_new(reasons, json_string("sharpe undefined "
		    "(no volatility)"));
	else if (sharpe < min_sharpe) {
		snprintf(buf, sizeof(buf), "sharpe %.4g < %g", sharpe,
		    min_sharpe);
		json_array_append_new(reasons, json_string(buf));
	}
	if (-dd > max_dd) {
		snprintf(buf, sizeof(buf), "max drawdown %.4g%% > %g%%", -dd,
		    max_dd);
		json_array_append_new(reasons, json_string(buf));
	}
	if (nt < min_trades) {
		snprintf(buf, sizeof(buf), "%lld trades < %ld",
		    (long long)nt, min_trades);
		json_array_append_new(reasons, json_string(buf));
	}
	/* A signal from stale data is no signal (contracts.md "current"). */
	if (r->db != NULL && bt_now_ms() - s->t[s->n - 1] > bt_stale_ms(r->tf)) {
		snprintf(buf, sizeof(buf), "stale data: newest candle %s",
		    isot(s->t[s->n - 1], ts));
		json_array_append_new(reasons, json_string(buf));
	}
	return json_array_size(reasons) == 0;
}

/* ---------------------------------------------------------------- runs */

/* The periods per year, buy & hold and rounding of one series. */
static void
calendar(const struct run *r, const struct series *s, const double *par,
    struct mctx *mc, int *freq)
{
	size_t W;

	memset(mc, 0, sizeof(*mc));
	mc->compat = r->ex.compat;
	mc->alpha = mc->beta = NAN;
	if (r->ex.compat) {
		compat_calendar(s->t, s->n, freq, &mc->A, &mc->round_ms);
		W = lookback(r->strat, par);
		if (W > s->n - 1)
			W = s->n - 1;
		mc->bh = (s->c[s->n - 1] - s->c[W]) / s->c[W];
		mc->nbars = s->n;
	} else {
		*freq = 0;
		mc->A = 365.0 * DAY_MS / (double)s->iv;
		mc->bh = (s->c[s->n - 1] - s->c[s->w0]) / s->c[s->w0];
		mc->nbars = s->n - s->w0;
	}
	mc->t0 = s->t[s->w0];
	mc->t1 = s->t[s->n - 1];
}

/* Simulates one parameter set on one series into so (acc filled). */
static int
simulate(struct run *r, const struct series *s, const double *par,
    struct simout *so, struct mctx *mc)
{
	size_t from, i;
	int rc, freq;
	double *eq = so->eq;

	calendar(r, s, par, mc, &freq);
	from = s->w0;
	if (r->ex.compat && from < lookback(r->strat, par) + 1)
		from = lookback(r->strat, par) + 1;
	if ((rc = events(r, s, par, from)) != 0)
		return rc;
	if (!r->ex.compat) {
		sim_native(s, r->ev, r->nev, &r->ex, so);
		return 0;
	}
	/* Trades reach the accumulator as they close; then the equity. */
	acc_init(so->acc, s->t);
	sim_compat(s, r->ev, r->nev, &r->ex, from, so);
	for (i = 0; i < s->n; i++)
		acc_eq(so->acc, i, eq[i]);
	acc_resampled(so->acc, s->t, eq, s->n, freq);
	return 0;
}

/* One symbol, one parameter set: a `symbol' line, kept for the end. */
static int
run_symbol(struct run *r, struct series *s)
{
	struct acc a;
	struct simout so;
	struct mctx mc;
	struct symres *res;
	const double *col[MAXIND];
	json_t *line, *m, *reasons;
	size_t nw = s->n - s->w0, i;
	int rc, ncol, shift;
	double t0 = bt_mono();
	char ts[32];

	memset(&so, 0, sizeof(so));
	so.acc = &a;
	so.eq = xcalloc(r->ex.compat ? s->n : nw, sizeof(double));
	so.pos = xcalloc(r->ex.compat ? s->n : nw, sizeof(double));
	so.tr = xcalloc(1, sizeof(*so.tr));
	rc = simulate(r, s, r->par, &so, &mc);
	if (rc != 0)
		goto out;
	r->sim_secs += bt_mono() - t0;
	r->bar_steps += nw;
	r->unfilled += so.unfilled;
	mc.ab = true;
	alpha_beta(so.eq, s->c + s->w0, r->ex.compat ? s->n : nw,
	    ((so.eq[(r->ex.compat ? s->n : nw) - 1] - so.eq[0]) / so.eq[0]) *
	    100, mc.bh * 100, &mc.alpha, &mc.beta);
	m = metrics(&a, &mc);
	reasons = json_array();
	res = NULL;
	line = line_head(r, "symbol", s, r->par);
	json_object_update(line, m);
	json_object_set_new(line, "signal", so.has_sig ? json_pack("{s:s, "
	    "s:I, s:o}", "time", isot(so.sig_t, ts), "timestamp",
	    (json_int_t)so.sig_t, "position", jnum(so.sig_pos)) : json_null());
	json_object_set_new(line, "passed", json_boolean(judge(r, s, m,
	    reasons)));
	json_object_set(line, "reasons", reasons);
	if (so.unfilled)
		json_object_set_new(line, "unfilled",
		    json_integer((json_int_t)so.unfilled));
	/* Keep what the portfolio and the results file need. */
	r->res = xrealloc(r->res, r->nres + 1, sizeof(*r->res));
	res = &r->res[r->nres++];
	memset(res, 0, sizeof(*res));
	snprintf(res->symbol, sizeof(res->symbol), "%s", s->symbol);
	res->metrics = m;
	res->reasons = reasons;
	res->passed = json_is_true(json_object_get(line, "passed"));
	res->has_sig = so.has_sig;
	res->sig_t = so.sig_t;
	res->sig_pos = so.sig_pos;
	res->bh = mc.bh;
	res->expo = json_real_value(json_object_get(m, "exposure_pct"));
	res->n = r->ex.compat ? s->n : nw;
	res->t = xcalloc(res->n, sizeof(int64_t));
	memcpy(res->t, s->t + (r->ex.compat ? 0 : s->w0),
	    res->n * sizeof(int64_t));
	res->e = so.eq;
	so.eq = NULL;
	for (i = 0; i < so.ntr; i++)
		acc_trade(&r->ptr, &so.tr[i]);
	if (s->t[s->w0] < r->data_from || r->data_from < 0)
		r->data_from = s->t[s->w0];
	if (s->t[s->n - 1] > r->data_to)
		r->data_to = s->t[s->n - 1];
	if (!r->quiet)
		bt_emit(line);
	else
		json_decref(line);
	if (r->trades_fp != NULL)
		write_trades(r, s, &so);
	if (r->equity_fp != NULL) {
		ncol = ind_cols(r, s, r->par, col, &shift);
		write_equity(r, s->symbol, s->t, res->e, so.pos, s->c, col,
		    ncol, shift, r->ex.compat ? 0 : s->w0, res->n);
	}
out:
	free(so.eq);
	free(so.pos);
	free(so.tr);
	return rc;
}

/* One symbol, every combination in [c0, c1): `combo' lines. */
static int
run_sweep(struct run *r, struct series *s, size_t c0, size_t c1)
{
	struct acc a;
	struct simout so;
	struct mctx mc;
	json_t *line, *m;
	size_t c, nw = s->n - s->w0;
	const double *par;
	double t0;
	int rc;

	memset(&so, 0, sizeof(so));
	so.acc = &a;
	if (r->ex.compat)
		so.eq = xcalloc(s->n, sizeof(double));
	for (c = c0; c < c1; c++) {
		if (tick(r) != 0)
			break;
		par = r->combos + c * MAXPAR;
		t0 = bt_mono();
		if ((rc = simulate(r, s, par, &so, &mc)) != 0) {
			free(so.eq);
			return rc;
		}
		r->sim_secs += bt_mono() - t0;
		r->bar_steps += r->ex.compat ? s->n : nw;
		r->unfilled += so.unfilled;
		so.unfilled = 0;
		if (r->quiet)
			continue;
		m = metrics(&a, &mc);
		line = line_head(r, "combo", s, par);
		json_object_update(line, m);
		json_decref(m);
		bt_emit(line);
	}
	free(so.eq);
	return 0;
}

/* Merges sorted unique a[0..na) and b[0..nb) into out; returns count. */
static size_t
merge_times(const int64_t *a, size_t na, const int64_t *b, size_t nb,
    int64_t *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			out[k++] = a[i++];
		else if (i == na || b[j] < a[i])
			out[k++] = b[j++];
		else {
			out[k++] = a[i++];
			j++;
		}
	}
	return k;
}

/*
 * The portfolio: equal capital per symbol in independent books, equity
 * summed over the union of their bar times (a book is flat at its cash
 * before its first bar and stays at its final equity after its last).
 */
static json_t *
portfolio(struct run *r)
{
	int64_t *T, *tmp;
	double *E, v, expo = 0, bh = 0;
	size_t nT, k, j, *p, i;
	struct acc a;
	struct mctx mc;
	json_t *m, *line;
	int freq = 1;

	if (r->nres == 0)
		return NULL;
	for (k = 0, nT = 0; k < r->nres; k++)
		nT += r->res[k].n;
	T = xcalloc(nT, sizeof(*T));
	tmp = xcalloc(nT, sizeof(*tmp));
	memcpy(T, r->res[0].t, r->res[0].n * sizeof(*T));
	nT = r->res[0].n;
	for (k = 1; k < r->nres; k++) {
		nT = merge_times(T, nT, r->res[k].t, r->res[k].n, tmp);
		memcpy(T, tmp, nT * sizeof(*T));
	}
	free(tmp);
	E = xcalloc(nT, sizeof(*E));
	p = xcalloc(r->nres, sizeof(*p));
	for (j = 0; j < nT; j++) {
		for (k = 0, v = 0; k < r->nres; k++) {
			while (p[k] < r->res[k].n && r->res[k].t[p[k]] <= T[j])
				p[k]++;
			v += p[k] == 0 ? r->ex.cash : r->res[k].e[p[k] - 1];
		}
		E[j] = v;
	}
	free(p);
	for (k = 0; k < r->nres; k++) {
		expo += r->res[k].expo;
		bh += r->res[k].bh;
	}
	memset(&mc, 0, sizeof(mc));
	mc.compat = r->ex.compat;
	if (r->ex.compat)
		compat_calendar(T, nT, &freq, &mc.A, &mc.round_ms);
	else
		mc.A = 365.0 * DAY_MS / (double)(r->nsrc ? r->srcs[0].iv :
		    bt_tf_ms(r->tf));
	mc.t0 = T[0];
	mc.t1 = T[nT - 1];
	mc.bh = bh / (double)r->nres;
	mc.nbars = nT;
	acc_init(&a, T);
	for (i = 0; i < nT; i++) {
		acc_eq(&a, i, E[i]);
		if (!r->ex.compat)
			acc_ret(&a, E[i]);
	}
	if (r->ex.compat)
		acc_resampled(&a, T, E, nT, freq);
	a.tr = r->ptr;
	m = metrics(&a, &mc);
	/* Exposure: the books' mean, as capital at work. */
	json_object_set_new(m, "exposure_pct", jnum(expo / (double)r->nres));
	line = bt_rec("portfolio");
	json_object_set_new(line, "symbols", json_integer((json_int_t)r->nres));
	json_object_set_new(line, "strategy",
	    json_string(strats[r->strat].name));
	json_object_set_new(line, "params", params_json(r, r->par));
	json_object_set_new(line, "mode", json_string(r->ex.compat ?
	    "backtesting.py" : "native"));
	json_object_set_new(line, "cash", jnum(r->ex.cash * (double)r->nres));
	json_object_update(line, m);
	if (!r->quiet)
		bt_emit(line);
	else
		json_decref(line);
	if (r->equity_fp != NULL)
		write_equity(r, "PORTFOLIO", T, E, NULL, NULL, NULL, 0, 0, 0,
		    nT);
	free(T);
	free(E);
	return m;
}

/* ---------------------------------------------------------------- results */

static json_t *
results_json(struct run *r, json_t *pm, bool complete)
{
	json_t *o = json_object(), *meta, *syms, *sv, *thr, *exj;
	char ts[32];
	size_t k;

	meta = json_object();
	json_object_set_new(meta, "time", json_string(isot(bt_now_ms(), ts)));
	json_object_set_new(meta, "started",
	    json_string(isot(job.started, ts)));
	json_object_set_new(meta, "complete", json_boolean(complete));
	json_object_set_new(meta, "stopped", job.stop != NULL ?
	    json_string(job.stop) : json_null());
	json_object_set_new(meta, "engine_version", json_string(BT_VERSION));
	json_object_set_new(meta, "mode", json_string(r->ex.compat ?
	    "backtesting.py" : "native"));
	json_object_set_new(meta, "timeframe", json_string(r->tf));
	json_object_set_new(meta, "strategy",
	    json_string(strats[r->strat].name));
	json_object_set_new(meta, "params", params_json(r, r->par));
	if (r->sigfile != NULL)
		json_object_set_new(meta, "signals", json_string(r->sigfile));
	json_object_set_new(meta, "from", r->data_from >= 0 ?
	    json_string(isot(r->data_from, ts)) : json_null());
	json_object_set_new(meta, "to", r->data_to >= 0 ?
	    json_string(isot(r->data_to, ts)) : json_null());
	json_object_set_new(meta, "candles", r->from >= 0 ? json_null() :
	    json_integer(r->last));
	json_object_set_new(meta, "warmup", r->warmup < 0 ?
	    json_string("all") : json_integer(r->warmup));
	json_object_set_new(meta, "symbols_requested",
	    json_integer(r->nsyms));
	json_object_set_new(meta, "symbols_done",
	    json_integer((json_int_t)r->nres));
	json_object_set_new(meta, "symbols_skipped",
	    json_integer((json_int_t)r->skipped));
	exj = json_object();
	json_object_set_new(exj, "cash", jnum(r->ex.cash));
	json_object_set_new(exj, "fee_bps", jnum(r->ex.fee * 1e4));
	json_object_set_new(exj, "slippage_bps", jnum(r->ex.slip * 1e4));
	json_object_set_new(exj, "size", jnum(r->ex.size));
	json_object_set_new(exj, "lot", jnum(r->ex.lot));
	json_object_set_new(exj, "shorts", json_boolean(r->ex.shorts));
	json_object_set_new(meta, "execution", exj);
	thr = json_object();
	json_object_set_new(thr, "min_sharpe",
	    jnum(bt_conf_double("BACKTEST_MIN_SHARPE")));
	json_object_set_new(thr, "max_drawdown_pct",
	    jnum(bt_conf_double("BACKTEST_MAX_DRAWDOWN_PCT")));
	json_object_set_new(thr, "min_trades",
	    json_integer(bt_conf_long("BACKTEST_MIN_TRADES")));
	json_object_set_new(meta, "thresholds", thr);
	json_object_set_new(meta, "sharpe", json_string("annualised "
	    "geometric return / compounded annualised volatility, "
	    "backtesting.py's"));
	if (!bt_now_frozen())
		json_object_set_new(meta, "elapsed",
		    json_real(round((bt_mono() - job.t0) * 1000) / 1000));
	json_object_set_new(o, "meta", meta);
	json_object_set_new(o, "portfolio", pm != NULL ? json_incref(pm) :
	    json_null());
	syms = json_object();
	sv = json_array();
	for (k = 0; k < r->nres; k++) {
		json_object_set(syms, r->res[k].symbol, r->res[k].metrics);
		json_array_append_new(sv, json_pack("{s:s, s:s, s:o, s:o, "
		    "s:b, s:O}", "symbol", r->res[k].symbol, "strategy",
		    strats[r->strat].name, "timestamp", r->res[k].has_sig ?
		    json_integer(r->res[k].sig_t) : json_null(), "position",
		    r->res[k].has_sig ? jnum(r->res[k].sig_pos) : json_real(0),
		    "passed", r->res[k].passed, "reasons", r->res[k].reasons));
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
write_results(json_t *o, const char *final)
{
	char tmp[PATH_MAX], prev[PATH_MAX], dir[PATH_MAX], err[BT_ERRLEN];
	char *s, *slash;
	size_t len;
	ssize_t w;
	int fd;

	snprintf(dir, sizeof(dir), "%s", job.results_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (bt_mkdirs(dir, 0750, err) == -1) {
		bt_warnx("%s", err);
		return BT_EX_CANTCREAT;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", job.results_path);
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
	if (strcmp(final, job.results_path) == 0) {
		snprintf(prev, sizeof(prev), "%s.prev", job.results_path);
		if (unlink(prev) == -1 && errno != ENOENT)
			bt_warnx("unlink %s: %s", prev, strerror(errno));
		if (link(job.results_path, prev) == -1 && errno != ENOENT)
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

/* ---------------------------------------------------------------- options */

static int
par_index(const struct run *r, const char *key, size_t len)
{
	const struct stratdef *d = &strats[r->strat];
	int i;

	for (i = 0; i < d->npar; i++)
		if (strlen(d->par[i]) == len && strncmp(d->par[i], key, len)
		    == 0)
			return i;
	return -1;
}

static int
par_value(const struct run *r, int i, const char *s, double *v)
{
	const struct stratdef *d = &strats[r->strat];
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*v) ||
	    *v < d->min[i] || *v > d->max[i] ||
	    ((d->integer & (1u << i)) && *v != floor(*v))) {
		bt_warnx("%s: %s=%s: want %s from %g to %g", d->name,
		    d->par[i], s, (d->integer & (1u << i)) ? "a whole number" :
		    "a number", d->min[i], d->max[i]);
		return -1;
	}
	return 0;
}

/* key=value for the chosen strategy. */
static int
set_param(struct run *r, const char *kv)
{
	const char *eq = strchr(kv, '=');
	int i;

	if (eq == NULL || (i = par_index(r, kv, (size_t)(eq - kv))) < 0) {
		bt_warnx("'%s': %s takes %s", kv, strats[r->strat].name,
		    strats[r->strat].npar == 0 ? "no parameters" :
		    strats[r->strat].npar == 2 ? "fast=, slow=, or its own two "
		    "(see bt-backtest(1))" : "period=, lower=, upper=");
		return -1;
	}
	return par_value(r, i, eq + 1, &r->par[i]);
}

/* key=from..to[/step], or key=a,b,c: one axis of the grid. */
static int
add_grid(struct run *r, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char *s, *dots, *slash, *tok, *save = NULL;
	double lo, hi, step = 1, v;
	int i, g;
	size_t n = 0, cap = 16;
	double *vals;

	if (eq == NULL || (i = par_index(r, spec, (size_t)(eq - spec))) < 0) {
		bt_warnx("--grid '%s': not a parameter of %s", spec,
		    strats[r->strat].name);
		return -1;
	}
	for (g = 0; g < r->ngrid; g++)
		if (r->gpar[g] == i) {
			bt_warnx("--grid '%s': %s given twice", spec,
			    strats[r->strat].par[i]);
			return -1;
		}
	if ((s = strdup(eq + 1)) == NULL)
		abort();
	vals = xcalloc(cap, sizeof(double));
	if ((dots = strstr(s, "..")) != NULL) {
		*dots = '\0';
		if ((slash = strchr(dots + 2, '/')) != NULL)
			*slash = '\0';
		if (par_value(r, i, s, &lo) == -1 ||
		    par_value(r, i, dots + 2, &hi) == -1)
			goto fail;
		if (slash != NULL) {
			char *end;
			step = strtod(slash + 1, &end);
			if (end == slash + 1 || *end != '\0' || !(step > 0)) {
				bt_warnx("--grid '%s': the step must be > 0",
				    spec);
				goto fail;
			}
		}
		if (hi < lo || (hi - lo) / step > 1e7) {
			bt_warnx("--grid '%s': empty or too large a range",
			    spec);
			goto fail;
		}
		/* Values lo + k*step, computed so, never accumulated. */
		for (v = lo; v <= hi * (1 + 1e-12); v = lo + (double)n * step) {
			if (n == cap)
				vals = xrealloc(vals, cap *= 2, sizeof(double));
			vals[n++] = v;
		}
	} else {
		for (tok = strtok_r(s, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (par_value(r, i, tok, &v) == -1)
				goto fail;
			if (n == cap)
				vals = xrealloc(vals, cap *= 2, sizeof(double));
			vals[n++] = v;
		}
	}
	if (n == 0)
		goto fail;
	free(s);
	r->gpar[r->ngrid] = i;
	r->gv[r->ngrid] = vals;
	r->gn[r->ngrid++] = n;
	return 0;
fail:
	free(s);
	free(vals);
	return -1;
}

/* A combination worth running: crossovers need fast < slow, etc. */
static bool
combo_ok(const struct run *r, const double *p)
{
	switch (r->strat) {
	case S_SMA:
	case S_EMA:
		return p[0] < p[1];
	case S_RSI:
		return p[1] < p[2];
	default:
		return true;
	}
}

/* Every combination, the last --grid varying fastest. */
static void
make_combos(struct run *r)
{
	size_t total = 1, k, idx, cap = 0;
	double p[MAXPAR];
	int g;

	for (g = 0; g < r->ngrid; g++)
		total *= r->gn[g];
	for (k = 0; k < total; k++) {
		memcpy(p, r->par, sizeof(p));
		for (g = r->ngrid - 1, idx = k; g >= 0; g--) {
			p[r->gpar[g]] = r->gv[g][idx % r->gn[g]];
			idx /= r->gn[g];
		}
		if (r->ngrid > 0 && !combo_ok(r, p))
			continue;
		if (r->ncombo == cap) {
			cap = cap ? cap * 2 : 64;
			r->combos = xrealloc(r->combos, cap * MAXPAR,
			    sizeof(double));
		}
		memcpy(r->combos + r->ncombo++ * MAXPAR, p, sizeof(p));
	}
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

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Symbols: files name theirs; signals theirs; else the configured list. */
static void
pick_symbols(struct run *r, bool symbols_opt)
{
	size_t i;
	int n = 0;

	if (r->nsrc > 0) {
		r->syms = xcalloc(r->nsrc, sizeof(char *));
		for (i = 0; i < r->nsrc; i++)
			if ((r->syms[n++] = strdup(r->srcs[i].symbol)) == NULL)
				abort();
		r->nsyms = n;
		return;
	}
	if (r->strat == S_SIGNALS && !symbols_opt) {
		r->syms = xcalloc(r->nsig, sizeof(char *));
		for (i = 0; i < r->nsig; i++)
			if (i == 0 || strcmp(r->sigs[i].symbol,
			    r->sigs[i - 1].symbol) != 0)
				if ((r->syms[n++] = strdup(r->sigs[i].symbol))
				    == NULL)
					abort();
		r->nsyms = n;
		qsort(r->syms, (size_t)n, sizeof(char *), cmp_str);
		return;
	}
	r->nsyms = bt_conf_list("BT_SYMBOLS", &r->syms);
}

enum {
	O_TF = 256, O_SYMBOLS, O_LAST, O_FROM, O_TO, O_WARMUP, O_STRATEGY,
	O_GRID, O_SHARD, O_SIGNALS, O_COMPAT, O_CASH, O_FEE, O_SLIPPAGE,
	O_SIZE, O_LOT, O_SHORT, O_LONGONLY, O_TRADES, O_EQUITY, O_SYMBOL,
	O_JOB, O_IFDUE
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
	{ NULL, 0, NULL, 0 }
};

/* ---------------------------------------------------------------- main */

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

/* Frees what a run holds, so leak checkers see only real leaks. */
static void
run_free(struct run *r)
{
	size_t i;
	int g;

	for (i = 0; i < r->cachecap; i++)
		free(r->cache[i].v);
	free(r->cache);
	free(r->ev);
	free(r->combos);
	for (g = 0; g < r->ngrid; g++)
		free(r->gv[g]);
	for (i = 0; i < r->nsrc; i++)
		free(r->srcs[i].c);
	free(r->srcs);
	if (r->syms != NULL)
		bt_list_free(r->syms, r->nsyms);
	free(r->sigs);
	for (i = 0; i < r->nres; i++) {
		json_decref(r->res[i].metrics);
		json_decref(r->res[i].reasons);
		free(r->res[i].t);
		free(r->res[i].e);
	}
	free(r->res);
	bt_series_free(&r->ohlc);
	free(r->dbpath);
	free(job.status_path);
	free(job.results_path);
}

/* Ends the job: results, status and its event.  Returns the exit code. */
static int
job_end(struct run *r, json_t *pm, int code)
{
	char path[PATH_MAX], *slash, stamp[32], ts[32];
	json_t *o;
	int rc;
	const char *state;
	int64_t now = bt_now_ms();

	if (job.stop != NULL) {
		/* backtest_results.incomplete_YYYYMMDDTHHMMSSZ.json */
		isot(now, ts);
		snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts,
		    ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);
		snprintf(path, sizeof(path), "%s", job.results_path);
		if ((slash = strrchr(path, '/')) != NULL)
			slash[1] = '\0';
		else
			path[0] = '\0';
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "backtest_results.incomplete_%s.json", stamp);
		o = results_json(r, pm, false);
		rc = write_results(o, path);
		json_decref(o);
		state = strcmp(job.stop, "timeout") == 0 ? "timeout" :
		    "stopped";
		code = bt_exit_worse(BT_EX_TEMPFAIL, rc);
		if (strcmp(state, "timeout") == 0)
			bt_event(NULL, "WARNING", "timeout", NULL, r->tf,
			    json_pack("{s:s, s:I, s:I}", "incomplete", path,
			    "done", (json_int_t)r->nres, "total",
			    (json_int_t)r->nsyms), "the daily backtest timed "
			    "out after %g minutes (%zu of %d symbols); partial "
			    "results in %s",
			    bt_conf_double("BACKTEST_TIMEOUT_MINUTES"), r->nres,
			    r->nsyms, path);
		else
			bt_event(NULL, "WARNING", "stopped", NULL, r->tf,
			    json_pack("{s:s, s:I, s:I}", "incomplete", path,
			    "done", (json_int_t)r->nres, "total",
			    (json_int_t)r->nsyms), "the daily backtest was "
			    "stopped by %s (%zu of %d symbols); partial results "
			    "in %s", job.stop, r->nres, r->nsyms, path);
	} else if (code == 0) {
		o = results_json(r, pm, true);
		rc = write_results(o, job.results_path);
		json_decref(o);
		code = rc;
		state = rc == 0 ? "done" : "failed";
	} else {
		state = "failed";
	}
	if (strcmp(state, "failed") == 0)
		bt_event(NULL, "CRITICAL", "backtest_failed", NULL, r->tf,
		    json_pack("{s:i}", "exit", code), "the daily backtest "
		    "failed with exit %d; %s keeps the previous results", code,
		    job.results_path);
	status_write(state, code, r);
	return code;
}

int
main(int argc, char *argv[])
{
	struct run R, *r = &R;
	struct series s;
	char err[BT_ERRLEN], *p, **plist = NULL, **glist = NULL, ts[32];
	const char *tf_opt = NULL, *strat_opt = NULL, *compat_opt = NULL;
	const char *last_opt = NULL, *warm_opt = NULL, *shard_opt = NULL;
	const char *sig_opt = NULL;
	struct { const char *key, *val, *opt; } sets[16];
	int nsets = 0, nplist = 0, nglist = 0, ch, rc, i, short_opt = -1;
	bool symbols_opt = false, compat_fees = false;
	size_t si, total, lo, hi, c0, c1, nc;
	json_t *pm = NULL, *sum;
	struct sigaction sa;
	double t_start = bt_mono();

#ifdef M_MMAP_THRESHOLD
	/*
	 * Keep freed memory for reuse: every symbol allocates arrays of the
	 * same sizes, and on a VM a fresh page fault costs more than the
	 * simulation of the bar it holds.  RSS is what the run uses anyway.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	memset(r, 0, sizeof(*r));
	r->from = r->to = -1;
	r->warmup = -1;
	r->data_from = r->data_to = -1;
	r->shard_k = r->shard_n = 1;
	memset(&s, 0, sizeof(s));
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-backtest", err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
#define SET(k, v, o) do { if (nsets < 16) { sets[nsets].key = k; \
	sets[nsets].val = v; sets[nsets++].opt = o; } } while (0)
	while ((ch = getopt_long(argc, argv, "d:hp:qv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			SET("BT_DB", optarg, "-d");
			break;
		case 'p':
			plist = xrealloc(plist, (size_t)nplist + 1,
			    sizeof(char *));
			plist[nplist++] = optarg;
			break;
		case 'q':
			r->quiet = true;
			break;
		case 'v':
			r->verbose = true;
			break;
		case O_TF:
			tf_opt = optarg;
			break;
		case O_SYMBOLS:
			SET("BT_SYMBOLS", optarg, "--symbols");
			symbols_opt = true;
			break;
		case O_LAST:
			last_opt = optarg;
			break;
		case O_FROM:
		case O_TO:
			if (bt_parse_time(optarg, ch == O_FROM ? &r->from :
			    &r->to) == -1) {
				bt_warnx("--%s '%s': not an ISO 8601 UTC time",
				    ch == O_FROM ? "from" : "to", optarg);
				rc = BT_EX_USAGE;
				goto early;
			}
			break;
		case O_WARMUP:
			warm_opt = optarg;
			break;
		case O_STRATEGY:
			strat_opt = optarg;
			break;
		case O_GRID:
			glist = xrealloc(glist, (size_t)nglist + 1,
			    sizeof(char *));
			glist[nglist++] = optarg;
			break;
		case O_SHARD:
			shard_opt = optarg;
			break;
		case O_SIGNALS:
			sig_opt = optarg;
			break;
		case O_COMPAT:
			compat_opt = optarg;
			break;
		case O_CASH:
			SET("BACKTEST_CASH", optarg, "--cash");
			break;
		case O_FEE:
			SET("BACKTEST_FEE_BPS", optarg, "--fee");
			compat_fees = true;
			break;
		case O_SLIPPAGE:
			SET("BACKTEST_SLIPPAGE_BPS", optarg, "--slippage");
			compat_fees = true;
			break;
		case O_SIZE:
			SET("BACKTEST_SIZE", optarg, "--size");
			break;
		case O_LOT:
			SET("BACKTEST_LOT", optarg, "--lot");
			break;
		case O_SHORT:
			short_opt = 1;
			break;
		case O_LONGONLY:
			short_opt = 0;
			break;
		case O_TRADES:
			r->trades_path = optarg;
			break;
		case O_EQUITY:
			r->equity_path = optarg;
			break;
		case O_SYMBOL:
			if (!bt_symbol_ok(optarg)) {
				bt_warnx("--symbol '%s': not a symbol "
				    "(^[A-Z0-9]{2,20}$)", optarg);
				rc = BT_EX_USAGE;
				goto early;
			}
			r->symbol_opt = optarg;
			break;
		case O_JOB:
			r->job = true;
			break;
		case O_IFDUE:
			r->if_due = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, BT_EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((rc = bt_conf_load(err)) != 0) {
		bt_warnx("%s", err);
		goto early;
	}
	for (i = 0; i < nsets; i++)
		if ((rc = bt_conf_set(sets[i].key, sets[i].val, err)) != 0) {
			bt_warnx("%s '%s': %s", sets[i].opt, sets[i].val, err);
			goto early;
		}
	if (r->if_due && !r->job)
		usage(stderr, BT_EX_USAGE);

	/* The strategy and its parameters. */
	if (strat_opt == NULL)
		strat_opt = sig_opt != NULL ? "signals" :
		    *bt_conf("BACKTEST_SIGNALS") != '\0' && r->job ? "signals" :
		    bt_conf("BACKTEST_STRATEGY");
	for (i = 0; i < (int)(sizeof(strats) / sizeof(strats[0])); i++)
		if (strcmp(strats[i].name, strat_opt) == 0)
			break;
	if (i == (int)(sizeof(strats) / sizeof(strats[0]))) {
		bt_warnx("strategy '%s': not one of sma-cross, ema-cross, rsi, "
		    "bbands, donchian, hold, signals", strat_opt);
		rc = BT_EX_USAGE;
		goto early;
	}
	r->strat = (enum strat)i;
	memcpy(r->par, strats[i].def, sizeof(r->par));
	if (r->strat == S_SIGNALS) {
		r->sigfile = sig_opt != NULL ? sig_opt :
		    *bt_conf("BACKTEST_SIGNALS") != '\0' ?
		    bt_conf("BACKTEST_SIGNALS") : NULL;
		if (r->sigfile == NULL) {
			bt_warnx("strategy signals needs --signals file");
			rc = BT_EX_USAGE;
			goto early;
		}
	} else if (sig_opt != NULL) {
		bt_warnx("--signals goes with --strategy signals (the "
		    "default when --signals is given)");
		rc = BT_EX_USAGE;
		goto early;
	}
	/* BACKTEST_PARAMS go with BACKTEST_STRATEGY, not with --strategy. */
	if (strat_opt == bt_conf("BACKTEST_STRATEGY")) {
		char **kv;
		int n = bt_conf_list("BACKTEST_PARAMS", &kv), j;
		for (j = 0; j < n; j++)
			if (set_param(r, kv[j]) == -1) {
				bt_warnx("BACKTEST_PARAMS: see above");
				bt_list_free(kv, n);
				rc = BT_EX_CONFIG;
				goto early;
			}
		bt_list_free(kv, n);
	}
	for (i = 0; i < nplist; i++)
		if (set_param(r, plist[i]) == -1) {
			rc = BT_EX_USAGE;
			goto early;
		}
	for (i = 0; i < nglist; i++)
		if (add_grid(r, glist[i]) == -1) {
			rc = BT_EX_USAGE;
			goto early;
		}
	free(plist);
	free(glist);
	plist = glist = NULL;
	if (r->ngrid > 0 && (r->job || r->trades_path || r->equity_path)) {
		bt_warnx("--grid goes without --job, --trades and --equity");
		rc = BT_EX_USAGE;
		goto early;
	}
	if (r->ngrid == 0 && !combo_ok(r, r->par)) {
		bt_warnx("%s: the parameters are inverted (fast < slow, lower "
		    "< upper)", strats[r->strat].name);
		rc = BT_EX_USAGE;
		goto early;
	}
	make_combos(r);
	if (r->ncombo == 0) {
		bt_warnx("--grid: no valid combination (fast < slow, lower < "
		    "upper)");
		rc = BT_EX_USAGE;
		goto early;
	}
	if (shard_opt != NULL) {
		if (sscanf(shard_opt, "%ld/%ld", &r->shard_k, &r->shard_n) != 2 ||
		    r->shard_n < 1 || r->shard_k < 1 ||
		    r->shard_k > r->shard_n || strchr(shard_opt, ' ')) {
			bt_warnx("--shard '%s': want K/N with 1 <= K <= N",
			    shard_opt);
			rc = BT_EX_USAGE;
			goto early;
		}
		if (r->job) {
			bt_warnx("--shard goes without --job");
			rc = BT_EX_USAGE;
			goto early;
		}
	}

	/* Execution. */
	if (compat_opt != NULL) {
		if (strcmp(compat_opt, "backtesting.py") != 0) {
			bt_warnx("--compat '%s': only backtesting.py",
			    compat_opt);
			rc = BT_EX_USAGE;
			goto early;
		}
		r->ex.compat = true;
	}
	r->ex.cash = bt_conf_double("BACKTEST_CASH");
	r->ex.size = bt_conf_double("BACKTEST_SIZE");
	r->ex.lot = bt_conf_double("BACKTEST_LOT");
	r->ex.fee = bt_conf_double("BACKTEST_FEE_BPS") / 1e4;
	r->ex.slip = bt_conf_double("BACKTEST_SLIPPAGE_BPS") / 1e4;
	r->ex.shorts = short_opt >= 0 ? short_opt :
	    bt_conf_long("BACKTEST_SHORT") != 0;
	if (r->ex.compat) {
		/* backtesting.py's defaults, unless given on the line. */
		if (!compat_fees)
			r->ex.fee = r->ex.slip = 0;
		r->ex.shorts = short_opt != 0;
		r->ex.size = 1;
		r->ex.lot = 1;
	}

	/* The window. */
	if (tf_opt != NULL) {
		if ((rc = bt_conf_set("BACKTEST_TIMEFRAME", tf_opt, err)) != 0) {
			bt_warnx("--tf '%s': %s", tf_opt, err);
			goto early;
		}
	}
	snprintf(r->tf, sizeof(r->tf), "%s", argc > 0 && tf_opt == NULL ? "" :
	    bt_conf("BACKTEST_TIMEFRAME"));
	if (strchr(r->tf, ' ') || strchr(r->tf, ',')) {
		bt_warnx("BACKTEST_TIMEFRAME '%s': one timeframe", r->tf);
		rc = BT_EX_CONFIG;
		goto early;
	}
	if (last_opt != NULL) {
		if (parse_long("--last", last_opt, 2, 100000000, &r->last) ==
		    -1) {
			rc = BT_EX_USAGE;
			goto early;
		}
	} else
		r->last = argc > 0 ? 0 : bt_conf_long("BACKTEST_CANDLES");
	if (warm_opt != NULL && strcmp(warm_opt, "all") != 0 &&
	    parse_long("--warmup", warm_opt, 0, 100000000, &r->warmup) == -1) {
		rc = BT_EX_USAGE;
		goto early;
	}
	if (r->from >= 0 && last_opt != NULL) {
		bt_warnx("--last and --from: one or the other");
		rc = BT_EX_USAGE;
		goto early;
	}
	if (r->from >= 0 && r->to >= 0 && r->to < r->from) {
		bt_warnx("--to is before --from");
		rc = BT_EX_USAGE;
		goto early;
	}

	/* The job's controls, before anything is read or written. */
	if (r->job) {
		job.on = true;
		job.status_path = bt_path("run/backtest.status");
		job.results_path = *bt_conf("BACKTEST_RESULTS") != '\0' ?
		    strdup(bt_conf("BACKTEST_RESULTS")) :
		    bt_path("results/backtest_results.json");
		job.t0 = t_start;
		job.started = bt_now_ms();
		job.beat_every = bt_conf_double("BT_HEARTBEAT_SECONDS");
		job.timeout = bt_conf_double("BACKTEST_TIMEOUT_MINUTES") * 60;
		if (bt_conf_long("BACKTEST_ENABLED") == 0) {
			bt_event(NULL, "INFO", "disabled", NULL, NULL, NULL,
			    "the daily backtest is disabled "
			    "(BACKTEST_ENABLED=0); nothing done");
			rc = BT_EX_TEMPFAIL;
			goto early;
		}
		p = bt_path("run/backtest.paused");
		if (access(p, F_OK) == 0) {
			bt_event(NULL, "WARNING", "paused", NULL, NULL,
			    json_pack("{s:s}", "file", p), "the daily backtest "
			    "is paused (%s exists); nothing done; remove it to "
			    "resume", p);
			free(p);
			rc = BT_EX_TEMPFAIL;
			goto early;
		}
		free(p);
		if (r->if_due) {
			int64_t slot;
			char why[PATH_MAX + 128];
			if (!is_due(&slot, why, sizeof(why))) {
				json_t *l = bt_rec("not_due");
				json_object_set_new(l, "slot",
				    json_string(isot(slot, ts)));
				json_object_set_new(l, "message",
				    json_string(why));
				bt_emit(l);
				rc = 0;
				goto early;
			}
		}
		if (bt_store_locked(err, sizeof(err)) && argc == 0) {
			bt_event(NULL, "WARNING", "store_locked", NULL, NULL,
			    NULL, "the store is being restored (db/LOCKED, "
			    "%s); the backtest runs after it", err);
			rc = BT_EX_TEMPFAIL;
			goto early;
		}
		p = bt_path("run");
		if (bt_mkdirs(p, 0750, err) == -1) {
			bt_warnx("%s", err);
			free(p);
			rc = BT_EX_CANTCREAT;
			goto early;
		}
		free(p);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;	/* no SA_RESTART: waits end */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		status_write("running", 0, NULL);
	}

	/* Input. */
	if (argc > 0) {
		if ((rc = load_files(r, argv, argc)) != 0)
			goto fail;
		if (*r->tf == '\0')
			snprintf(r->tf, sizeof(r->tf), "%s",
			    tf_name(r->srcs[0].iv));
	} else {
		r->dbpath = bt_store_path();
		if ((rc = bt_open_store(r->dbpath, BT_DB_RO, &r->db, err)) !=
		    0) {
			bt_warnx("%s", err);
			goto fail;
		}
		/*
		 * Each pair is read once, in order: a page cache bigger than
		 * a pair's pages only costs fresh memory.
		 */
		if ((rc = bt_exec(r->db, "PRAGMA cache_size=-1024", err)) != 0) {
			bt_warnx("%s", err);
			goto fail;
		}
	}
	if (r->sigfile != NULL && (rc = load_signals(r)) != 0)
		goto fail;
	pick_symbols(r, symbols_opt);
	if (r->trades_path != NULL)
		r->trades_fp = open_out(r->trades_path, "symbol,side,units,"
		    "entry_time,entry_price,exit_time,exit_price,pnl,"
		    "return_pct,fees,entry_bar,exit_bar\n");
	if (r->equity_path != NULL) {
		struct bt_buf h = { 0 };
		bt_buf_printf(&h, "time,symbol,equity,drawdown_pct,position,"
		    "close");
		for (i = 0; i < strats[r->strat].nind; i++)
			bt_buf_printf(&h, ",%s", strats[r->strat].ind[i]);
		bt_buf_printf(&h, "\n");
		r->equity_fp = open_out(r->equity_path, h.p);
		bt_buf_free(&h);
	}

	/* The work: symbol x combination items, this shard's share. */
	r->ptr.best = -INFINITY;
	r->ptr.worst = INFINITY;
	nc = r->ncombo;
	total = (size_t)r->nsyms * nc;
	lo = (size_t)((unsigned __int128)total * (size_t)(r->shard_k - 1) /
	    (size_t)r->shard_n);
	hi = (size_t)((unsigned __int128)total * (size_t)r->shard_k /
	    (size_t)r->shard_n);
	rc = 0;
	for (si = 0; si < (size_t)r->nsyms && rc == 0; si++) {
		c0 = si * nc > lo ? 0 : lo - si * nc;
		c1 = (si + 1) * nc < hi ? nc : hi > si * nc ? hi - si * nc : 0;
		if (c0 >= c1)
			continue;
		if (tick(r) != 0)
			break;
		if (r->nsrc > 0)
			rc = load_src(r, &r->srcs[si], &s, err);
		else
			rc = load_store(r, r->syms[si], &s, err);
		if (rc == 1) {
			bt_event(NULL, "WARNING", "no_data", r->syms[si], r->tf,
			    NULL, "%s; %s left out", err, r->syms[si]);
			r->skipped++;
			rc = 0;
			r->done++;
			continue;
		}
		if (rc != 0) {
			bt_warnx("%s", err);
			break;
		}
		if (r->verbose)
			bt_warnx("%s: %zu bars, window %zu", s.symbol, s.n,
			    s.n - s.w0);
		if (r->ngrid > 0 || shard_opt != NULL)
			rc = run_sweep(r, &s, c0, c1);
		else
			rc = run_symbol(r, &s);
		cache_clear(r);
		series_free(&s);
		if (rc == 0 && job.stop == NULL)
			r->done++;
	}
	if (rc == 0 && r->nres == 0 && r->skipped > 0 && r->skipped ==
	    (size_t)r->nsyms) {
		bt_warnx("no symbol had candles to test");
		rc = BT_EX_NOINPUT;
	}
	if (rc == 0 && r->ngrid == 0 && shard_opt == NULL)
		pm = portfolio(r);
	r->exit = rc;

	/* The summary, then the job's files. */
	if (r->job)
		r->exit = job_end(r, pm, rc);
	sum = bt_rec("summary");
	json_object_set_new(sum, "strategy", json_string(strats[r->strat].name));
	json_object_set_new(sum, "mode", json_string(r->ex.compat ?
	    "backtesting.py" : "native"));
	json_object_set_new(sum, "tf", json_string(r->tf));
	json_object_set_new(sum, "symbols", json_integer(r->nsyms));
	json_object_set_new(sum, "done", json_integer((json_int_t)r->done));
	json_object_set_new(sum, "skipped", json_integer((json_int_t)r->skipped));
	json_object_set_new(sum, "combos", json_integer((json_int_t)r->ncombo));
	if (shard_opt != NULL)
		json_object_set_new(sum, "shard", json_string(shard_opt));
	json_object_set_new(sum, "bar_steps",
	    json_integer((json_int_t)r->bar_steps));
	if (r->sigfile != NULL) {
		json_object_set_new(sum, "signals",
		    json_integer((json_int_t)r->nsig));
		json_object_set_new(sum, "signals_ignored",
		    json_integer((json_int_t)r->sig_ignored));
	}
	if (r->unfilled)
		json_object_set_new(sum, "unfilled",
		    json_integer((json_int_t)r->unfilled));
	if (r->job) {
		json_object_set_new(sum, "state", json_string(job.stop != NULL ?
		    (strcmp(job.stop, "timeout") == 0 ? "timeout" : "stopped") :
		    r->exit == 0 ? "done" : "failed"));
		json_object_set_new(sum, "results",
		    json_string(job.results_path));
	}
	json_object_set_new(sum, "exit", json_integer(r->exit));
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
	json_decref(pm);
	goto out;
fail:
	r->exit = rc;
	if (r->job)
		r->exit = job_end(r, NULL, rc);
out:
	if (r->trades_fp != NULL && fclose(r->trades_fp) == EOF) {
		bt_warnx("%s: %s", r->trades_path, strerror(errno));
		r->exit = bt_exit_worse(r->exit, BT_EX_IOERR);
	}
	if (r->equity_fp != NULL && fclose(r->equity_fp) == EOF) {
		bt_warnx("%s: %s", r->equity_path, strerror(errno));
		r->exit = bt_exit_worse(r->exit, BT_EX_IOERR);
	}
	rc = r->exit;
early:
	free(plist);
	free(glist);
	bt_close(r->db);
	run_free(r);
	return bt_finish(rc);
}
