/*
 * bt_update.c - the candle runs of bt-fetch over Binance: a plain run
 * and --repair (every configured pair, then the coverage verdict), and
 * --gaps (the ranges of gap records, exactly).
 *
 * Owns the pipeline of these runs: a fetcher thread pages every pair's
 * klines through bt_binance.c while this thread stores them through
 * bt_ingest.c; the circuit breaker; each pair's `pair' line and its
 * failure; the server time and exchangeInfo before the pairs; and the
 * coverage verdict of plain and --repair runs (contracts.md, "Current",
 * staleness, coverage).
 *
 * Invariants:
 * - Parsing a page of klines costs about as much as storing it, and bt
 *   runs on two cores: so the two overlap.  The fetcher thread speaks
 *   only HTTP; everything that writes SQLite, prints or records an event
 *   stays on this thread.  Pages pass through a queue of QLEN, so memory
 *   stays bounded by a few pages.
 * - One failing pair never stops the others, except that a ban, a rate
 *   limit, a store that cannot be written, or the circuit breaker (after
 *   BT_CIRCUIT_BREAKER pairs in a row fail on transport errors) ends the
 *   fetching.  The breaker is decided on the fetcher thread, so that not
 *   one more request goes out.
 * - The run's deadline (BT_FETCH_DEADLINE from the program's start) is
 *   the other end: the breaker counts failures in a row, and stalls on
 *   every other pair never trip it.  At the deadline the request under
 *   way is cut, nothing more is asked, what was fetched is stored, and
 *   the pairs not done are left for the next run: a `left' pair line for
 *   the one cut, a WARNING `deadline' naming them all, exit 75.
 * - Binance's clock is checked against ours at the start (skew read half
 *   the round trip after the request left): more than BT_CLOCK_SKEW_MAX
 *   apart is a WARNING `clock_skew'; the pager cuts at the earlier clock.
 * - A pair never seen starts at `since' (--since), a known one at its
 *   newest stored open time (that candle is asked for again), and with
 *   --repair every pair days back; each at an open time of its interval.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bt_binance.h"
#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_ingest.h"
#include "bt_parse.h"
#include "bt_state.h"
#include "bt_store.h"
#include "bt_update.h"

/* On a terminal only: where the fetcher is. */
static void
progress(struct bt_ingest *x, const char *fmt, ...)
{
	va_list ap;

	if (!x->progress)
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* BT_BINANCE_URL for x->bn: 0, or BT_EX_CONFIG (said). */
static int
connect(struct bt_ingest *x)
{
	char err[BT_ERRLEN];

	if ((x->http = bt_http_new(bt_conf("BT_BINANCE_URL"), err)) == NULL) {
		bt_warnx("BT_BINANCE_URL: %s", err);
		return BT_EX_CONFIG;
	}
	bt_binance_init(&x->bn, x->http, "BT_RETRY_DELAYS",
	    (long)(bt_conf_long("BT_WEIGHT_LIMIT") *
	    bt_conf_double("BT_WEIGHT_SHARE")), x->verbose);
	bt_binance_deadline(&x->bn, x->deadline);
	return 0;
}

/* ------------------------------------------------------------- pipeline */

/*
 * One pair's run: the pager's half (the fetcher thread fills it), then
 * what storing did (this thread): rows, first, last, and sfail with
 * serr, a failure to store.  The pager's half comes first: the fetcher's
 * callback gets it and finds the rest.
 */
struct pairrun {
	struct bt_klines k;
	int64_t		 rows, first, last;
	enum bt_fail	 sfail;
	char		 serr[BT_ERRLEN];
};

/* What passes from the fetcher thread to this one. */
struct page {
	struct pairrun	*pr;
	struct bt_candle *c;
	size_t		 n;
	int		 kind;		/* PAGE, PAIR_END, RUN_END */
};
enum { PAGE, PAIR_END, RUN_END };
#define QLEN 4

struct pipe {
	struct bt_ingest *x;
	struct pairrun	*prs;
	size_t		 nprs;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct page	 q[QLEN];
	int		 head, len;
};

static void
push(struct pipe *p, struct pairrun *pr, struct bt_candle *c, size_t n,
    int kind)
{
	pthread_mutex_lock(&p->mu);
	while (p->len == QLEN)
		pthread_cond_wait(&p->cv, &p->mu);
	p->q[(p->head + p->len) % QLEN] = (struct page){ pr, c, n, kind };
	p->len++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static struct page
pop(struct pipe *p)
{
	struct page pg;

	pthread_mutex_lock(&p->mu);
	while (p->len == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	pg = p->q[p->head];
	p->head = (p->head + 1) % QLEN;
	p->len--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return pg;
}

/* The pager's page, on the fetcher thread: into the queue. */
static void
fetched(void *arg, struct bt_klines *k, struct bt_candle *c, size_t n,
    int64_t next)
{
	struct pipe *p = arg;
	char ts[32];

	if (next != 0)
		progress(p->x, "bt-fetch: %s %s %s", k->symbol, k->tf,
		    bt_fmt_time(next, ts));
	push(p, (struct pairrun *)k, c, n, PAGE);
}

static void *
fetcher(void *arg)
{
	struct pipe *p = arg;
	struct bt_binance *bn = &p->x->bn;
	size_t i;
	int breaker = 0;	/* transport failures in a row */

	for (i = 0; i < p->nprs; i++) {
		p->prs[i].k.t0 = bt_mono();
		bt_binance_klines(bn, &p->prs[i].k, fetched, p);
		/*
		 * The circuit breaker is decided here, not when the pair is
		 * stored, so that not one more request goes out.
		 */
		breaker = p->prs[i].k.fail == BT_F_TRANSPORT ? breaker + 1 : 0;
		if (breaker >= bt_conf_long("BT_CIRCUIT_BREAKER") &&
		    !atomic_load(&bn->stop)) {
			p->prs[i].k.trips = true;
			atomic_store(&bn->stop, true);
		}
		push(p, &p->prs[i], NULL, 0, PAIR_END);
	}
	bt_parse_release();
	push(p, NULL, NULL, 0, RUN_END);
	return NULL;
}

/* A page off the queue: stored, unless storing the pair failed before. */
static void
store_page(struct bt_ingest *x, struct pairrun *pr, struct page *pg)
{
	char why[BT_ERRLEN];
	int64_t changed;
	enum bt_fail f;

	if (pr->sfail == BT_F_NONE && (f = bt_ingest_store(x, pr->k.symbol,
	    pr->k.tf, pg->c, pg->n, &changed, why)) != BT_F_NONE) {
		pr->sfail = f;
		snprintf(pr->serr, sizeof(pr->serr), "%s", why);
		atomic_store(&pr->k.abort, true);
	} else if (pr->sfail == BT_F_NONE && pg->n > 0) {
		if (pr->first == 0 || pg->c[0].t < pr->first)
			pr->first = pg->c[0].t;
		if (pg->c[pg->n - 1].t > pr->last)
			pr->last = pg->c[pg->n - 1].t;
		pr->rows += changed;
		x->rows += changed;
	}
	free(pg->c);
}

static void
pair_line(struct bt_ingest *x, struct pairrun *pr, double secs)
{
	json_t *rec;

	if (x->quiet && pr->k.fail == BT_F_NONE)
		return;
	rec = bt_rec("pair");
	json_object_set_new(rec, "symbol", json_string(pr->k.symbol));
	json_object_set_new(rec, "tf", json_string(pr->k.tf));
	json_object_set_new(rec, "status", json_string(pr->k.fail ==
	    BT_F_NONE ? "ok" : pr->k.fail == BT_F_DEADLINE ? "left" :
	    "failed"));
	json_object_set_new(rec, "rows", json_integer(pr->rows));
	json_object_set_new(rec, "received", json_integer(pr->k.received));
	json_object_set_new(rec, "first", pr->first ?
	    json_integer(pr->first) : json_null());
	json_object_set_new(rec, "last", pr->last ?
	    json_integer(pr->last) : json_null());
	json_object_set_new(rec, "requests", json_integer(pr->k.requests));
	json_object_set_new(rec, "retries", json_integer(pr->k.retries));
	if (pr->k.fail != BT_F_NONE)
		json_object_set_new(rec, "error", json_string(pr->k.err));
	bt_rec_dur(rec, "seconds", secs);
	bt_emit(rec);
}

/* A pair the deadline left for the next run. */
static void
left(struct bt_ingest *x, const struct pairrun *pr)
{
	if (x->left == NULL)
		x->left = json_array();
	json_array_append_new(x->left, json_pack("[s,s]", pr->k.symbol,
	    pr->k.tf));
}

/* The fetcher is done with pr: its line, its indicators, its failure. */
static void
pair_end(struct bt_ingest *x, struct pairrun *pr, enum bt_fail *worst,
    int *rc)
{
	bool skipped;

	if (pr->sfail != BT_F_NONE) {
		pr->k.fail = pr->sfail;
		memcpy(pr->k.err, pr->serr, sizeof(pr->k.err));
	}
	x->received += pr->k.received;
	/* Its candles are in: its indicators follow (issue 6). */
	bt_ingest_pair_done(x, pr->k.symbol, pr->k.tf, pr->rows);
	skipped = atomic_load(&x->bn.stop) && pr->k.requests == 0;
	if (pr->k.fail == BT_F_DEADLINE || (skipped &&
	    atomic_load(&x->bn.late))) {
		left(x, pr);
		bt_fail_worse(worst, BT_F_DEADLINE);
	}
	if (skipped)
		return;			/* never started */
	pair_line(x, pr, bt_mono() - pr->k.t0);
	if (pr->k.fail == BT_F_NONE || pr->k.fail == BT_F_DEADLINE)
		return;
	bt_event(x->dry ? NULL : x->st, "WARNING", "fetch_failed",
	    pr->k.symbol, pr->k.tf, NULL, "%s %s: %s", pr->k.symbol,
	    pr->k.tf, pr->k.err);
	bt_fail_worse(worst, pr->k.fail);
	/*
	 * A ban or a rate limit stopped the fetcher thread where it
	 * happened, in bt_binance_get(); a store that cannot be written
	 * stops it here.
	 */
	if (pr->k.fail == BT_F_BAN)
		bt_ingest_ban(x);
	else if (pr->k.fail == BT_F_STORE || pr->k.fail == BT_F_BUSY)
		atomic_store(&x->bn.stop, true);
	if (pr->k.trips) {
		bt_event(x->dry ? NULL : x->st, "CRITICAL",
		    "circuit_breaker", NULL, NULL, NULL,
		    "%ld pairs in a row failed on transport errors "
		    "(last: %s); skipping the rest of this run",
		    bt_conf_long("BT_CIRCUIT_BREAKER"), pr->k.err);
		*rc = bt_exit_worse(*rc, BT_EX_UNAVAILABLE);
	}
}

/*
 * Fetches every pair of prs through the pipeline, storing on this thread.
 * Returns the worst failure, by contracts.md's order; stops early on a
 * ban, a store that cannot be written, or the circuit breaker.
 */
static enum bt_fail
fetch_pairs(struct bt_ingest *x, struct pairrun *prs, size_t nprs, int *rc)
{
	struct pipe p;
	struct page pg;
	pthread_t tid;
	enum bt_fail worst = BT_F_NONE;

	memset(&p, 0, sizeof(p));
	p.x = x;
	p.prs = prs;
	p.nprs = nprs;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if (pthread_create(&tid, NULL, fetcher, &p) != 0) {
		bt_warnx("cannot start the fetcher thread");
		*rc = bt_exit_worse(*rc, BT_EX_SOFTWARE);
		return BT_F_NONE;
	}
	for (;;) {
		pg = pop(&p);
		if (pg.kind == RUN_END)
			break;
		if (pg.kind == PAGE)
			store_page(x, pg.pr, &pg);
		else
			pair_end(x, pg.pr, &worst, rc);
	}
	pthread_join(tid, NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return worst;
}

/*
 * The pairs the deadline left, said once: a WARNING naming them, so
 * that the next hour's run is expected to take them up.
 */
static void
deadline_event(struct bt_ingest *x, size_t npairs)
{
	size_t n = json_array_size(x->left);
	json_t *first = json_array_get(x->left, 0);

	if (n == 0)
		return;
	bt_event(x->dry ? NULL : x->st, "WARNING", "deadline", NULL, NULL,
	    json_pack("{s:f, s:I, s:O}", "deadline", bt_conf_double(
	    "BT_FETCH_DEADLINE"), "left", (json_int_t)n, "pairs", x->left),
	    "BT_FETCH_DEADLINE (%g s) passed: %zu of %zu pairs left for the "
	    "next run, from %s %s on", bt_conf_double("BT_FETCH_DEADLINE"), n,
	    npairs, json_string_value(json_array_get(first, 0)),
	    json_string_value(json_array_get(first, 1)));
}

/* Binance's clock more than BT_CLOCK_SKEW_MAX from ours: a WARNING. */
static void
clock_check(struct bt_ingest *x)
{
	struct bt_binance *b = &x->bn;
	double max = bt_conf_double("BT_CLOCK_SKEW_MAX");
	char ts[32];

	if (fabs(b->skew) <= max)
		return;
	bt_event(x->dry ? NULL : x->st, "WARNING", "clock_skew", NULL, NULL,
	    json_pack("{s:f, s:s, s:b}", "skew", round(b->skew * 1000) / 1000,
	    "server_time", bt_fmt_time(b->server_ms, ts), "microseconds",
	    b->time_us), "Binance's clock is %.3f s %s this host's (more than "
	    "BT_CLOCK_SKEW_MAX %g s)%s; candles are cut off at the earlier of "
	    "the two: check the host's time synchronisation", fabs(b->skew),
	    b->skew > 0 ? "ahead of" : "behind", max, b->time_us ?
	    "; its serverTime came in microseconds" : "");
}

/* Binance's time, or the run ends: a ban recorded, or a WARNING. */
static int
server_time(struct bt_ingest *x)
{
	char err[BT_ERRLEN];
	enum bt_fail f;

	f = bt_binance_server_time(&x->bn, err);
	if (f == BT_F_BAN) {
		bt_ingest_ban(x);
		return bt_fail_exit(f);
	}
	if (f == BT_F_DEADLINE) {
		bt_event(x->dry ? NULL : x->st, "WARNING", "deadline", NULL,
		    NULL, NULL, "BT_FETCH_DEADLINE (%g s) passed before "
		    "Binance gave its time: every pair is left for the next "
		    "run", bt_conf_double("BT_FETCH_DEADLINE"));
		return bt_fail_exit(f);
	}
	if (f != BT_F_NONE) {
		bt_event(x->dry ? NULL : x->st, "WARNING", "fetch_failed", NULL,
		    NULL, NULL, "Binance is not answering: %s", err);
		return bt_fail_exit(f);
	}
	clock_check(x);
	return 0;
}

/*
 * Server time and exchangeInfo before the pairs: 0, or the run fetches
 * nothing (a ban, Binance not answering).  contracts.md: one WARNING a
 * day for a symbol that is not TRADING.
 */
static int
update_begin(struct bt_ingest *x, char **syms, int nsyms)
{
	const char *status;
	int rc, i;

	if ((rc = server_time(x)) != 0)
		return rc;
	bt_binance_exchange_info(&x->bn, syms, nsyms);
	if (x->bn.banned) {
		bt_ingest_ban(x);
		return BT_EX_TEMPFAIL;
	}
	for (i = 0; i < nsyms && x->bn.status != NULL; i++)
		if (strcmp((status = bt_binance_status(&x->bn, syms[i])),
		    "TRADING") != 0)
			bt_ingest_warn_daily(x, "not_trading", syms[i],
			    json_pack("{s:s}", "status", status), "%s is %s on "
			    "Binance, not TRADING; left out of coverage",
			    syms[i], strcmp(status, "INVALID") ? status :
			    "unknown (-1121 Invalid symbol)");
	return 0;
}

/*
 * Every configured pair from its newest stored open time (or `since'),
 * or from repair_days back: fetched and stored.
 */
static enum bt_fail
fetch_all(struct bt_ingest *x, char **syms, int nsyms, char **tfs,
    int ntfs, int64_t since, int repair_days, int *rc)
{
	char err[BT_ERRLEN];
	struct pairrun *prs, *pr;
	struct bt_pair p;
	int64_t last, now = bt_now_ms();
	enum bt_fail worst = BT_F_NONE;
	bool stop = false;
	int i, j, k = 0;

	if ((prs = calloc((size_t)(nsyms * ntfs), sizeof(*prs))) == NULL)
		abort();
	for (i = 0; i < nsyms && !stop; i++)
		for (j = 0; j < ntfs && !stop; j++) {
			pr = &prs[k++];
			pr->k.symbol = syms[i];
			pr->k.tf = tfs[j];
			pr->k.iv = bt_tf_ms(tfs[j]);
			last = -1;
			if (bt_pair_get(x->db, syms[i], tfs[j], false, NULL, 0,
			    &p, err) != 0 ||
			    bt_pair_last(x->db, &p, &last, err) != 0) {
				bt_warnx("%s", err);
				*rc = bt_exit_worse(*rc, BT_EX_IOERR);
				stop = true;
			}
			if (repair_days > 0)
				pr->k.from = now - (int64_t)repair_days *
				    86400000;
			else
				pr->k.from = last >= 0 ? last : since;
			pr->k.from -= pr->k.from % pr->k.iv;
		}
	if (!stop)
		worst = fetch_pairs(x, prs, (size_t)k, rc);
	deadline_event(x, (size_t)k);
	free(prs);
	return worst;
}

/*
 * The coverage verdict (contracts.md), as bt_coverage() computes it for
 * bt-validate too: this run's exchangeInfo decides which symbols are
 * left out.  Below BT_COVERAGE_MIN a CRITICAL, and the exit code of the
 * cause: bad data only when nothing on the API side went wrong.
 */
static double
judge(struct bt_ingest *x, char **syms, int nsyms, char **tfs, int ntfs,
    enum bt_fail worst, int *rc, int *current, int *counted)
{
	struct bt_cov cov;
	char err[BT_ERRLEN];
	json_t *stale = json_array();
	double out, min = bt_conf_double("BT_COVERAGE_MIN");
	int i;

	if (bt_coverage(x->db, x->st, x->bn.status, syms, nsyms, tfs, ntfs,
	    &cov, err) != 0) {
		/*
		 * The store is at fault, not the exchange: no figures (they
		 * would be those of the pairs read before it failed), 74.
		 */
		bt_event(x->dry ? NULL : x->st, "CRITICAL", "coverage", NULL,
		    NULL, NULL, "coverage unknown: the store cannot be read "
		    "(%s); bt-validate --integrity full says what is damaged",
		    err);
		*rc = bt_exit_worse(*rc, BT_EX_IOERR);
		*current = *counted = 0;
		bt_cov_free(&cov);
		json_decref(stale);
		return -1;
	}
	for (i = 0; i < cov.n; i++)
		if (!cov.p[i].excluded && !cov.p[i].current)
			json_array_append_new(stale, json_pack("[s,s]",
			    cov.p[i].symbol, cov.p[i].tf));
	*current = cov.current;
	*counted = cov.counted;
	out = cov.coverage;
	bt_cov_free(&cov);
	if (out < min) {
		bt_event(x->dry ? NULL : x->st, "CRITICAL", "coverage", NULL,
		    NULL, json_pack("{s:f, s:O}", "coverage", out, "stale",
		    stale), "coverage %.1f%%: only %d of %d pairs are current "
		    "(minimum %.0f%%)", out * 100, *current, *counted,
		    min * 100);
		*rc = bt_exit_worse(*rc, worst == BT_F_DATA ? BT_EX_DATAERR :
		    worst == BT_F_RATE || worst == BT_F_DEADLINE ||
		    worst == BT_F_BUSY ? BT_EX_TEMPFAIL : worst == BT_F_STORE ?
		    BT_EX_IOERR :
		    BT_EX_UNAVAILABLE);
	}
	json_decref(stale);
	return out;
}

int
bt_update_pairs(struct bt_ingest *x, int64_t since, int repair_days)
{
	char **syms, **tfs;
	int nsyms, ntfs, cur, cnt, rc;
	enum bt_fail worst = BT_F_NONE;
	json_t *rec;
	double cov;

	if ((rc = connect(x)) != 0)
		return rc;
	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	ntfs = bt_conf_list("BT_TIMEFRAMES", &tfs);
	if ((rc = update_begin(x, syms, nsyms)) == 0)
		worst = fetch_all(x, syms, nsyms, tfs, ntfs, since,
		    repair_days, &rc);
	progress(x, "");
	if (x->progress)
		fputs("\r\033[K", stderr);
	cov = judge(x, syms, nsyms, tfs, ntfs, worst, &rc, &cur, &cnt);
	if (worst == BT_F_BAN || worst == BT_F_STORE || worst == BT_F_RATE ||
	    worst == BT_F_DEADLINE || worst == BT_F_BUSY)
		rc = bt_exit_worse(rc, bt_fail_exit(worst));
	rc = bt_exit_worse(rc, bt_ingest_sweep(x));
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string(repair_days ? "repair" :
	    "update"));
	json_object_set_new(rec, "pairs", json_integer(nsyms * ntfs));
	json_object_set_new(rec, "counted", json_integer(cnt));
	json_object_set_new(rec, "current", json_integer(cur));
	json_object_set_new(rec, "coverage", cov < 0 ? json_null() :
	    json_real(round(cov * 1e4) / 1e4));
	rc = bt_ingest_summary(x, rec, rc);
	bt_list_free(syms, nsyms);
	bt_list_free(tfs, ntfs);
	return rc;
}

/* The gap records of in; bad ones are warned about (exit 65). */
static struct bt_gap *
read_gaps(FILE *in, size_t *n, int *rc)
{
	char *line = NULL, err[BT_ERRLEN];
	size_t cap = 0;
	long lineno = 0;
	struct bt_gap g, *gaps = NULL;
	int r;

	*n = 0;
	while (getline(&line, &cap, in) != -1) {
		lineno++;
		if ((r = bt_parse_gap(line, &g, err)) == 0)
			continue;
		if (r == -1) {
			bt_warnx("stdin:%ld: bad gap record: %s", lineno, err);
			*rc = bt_exit_worse(*rc, BT_EX_DATAERR);
			continue;
		}
		if (bt_tf_view(g.tf) == NULL) {
			bt_warnx("stdin:%ld: tf %s is not kept in the store "
			    "(1d 4h 1h 15m)", lineno, g.tf);
			*rc = bt_exit_worse(*rc, BT_EX_DATAERR);
			continue;
		}
		if ((gaps = realloc(gaps, (*n + 1) * sizeof(*gaps))) == NULL)
			abort();
		gaps[(*n)++] = g;
	}
	free(line);
	return gaps;
}

int
bt_update_gaps(struct bt_ingest *x, FILE *in)
{
	struct bt_gap *gaps;
	struct pairrun *prs;
	size_t n, i;
	int rc = 0, r;
	enum bt_fail worst;
	json_t *rec;

	if ((rc = connect(x)) != 0)
		return rc;
	gaps = read_gaps(in, &n, &rc);
	if (n > 0) {
		if ((r = server_time(x)) != 0) {
			free(gaps);
			return bt_exit_worse(rc, r);
		}
		if ((prs = calloc(n, sizeof(*prs))) == NULL)
			abort();
		for (i = 0; i < n; i++) {
			prs[i].k.symbol = gaps[i].symbol;
			prs[i].k.tf = gaps[i].tf;
			prs[i].k.iv = bt_tf_ms(gaps[i].tf);
			prs[i].k.from = gaps[i].from;
			prs[i].k.to = gaps[i].to;
		}
		worst = fetch_pairs(x, prs, n, &rc);
		deadline_event(x, n);
		rc = bt_exit_worse(rc, bt_fail_exit(worst));
		free(prs);
	}
	free(gaps);
	rc = bt_exit_worse(rc, bt_ingest_sweep(x));
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("gaps"));
	json_object_set_new(rec, "gaps", json_integer((json_int_t)n));
	return bt_ingest_summary(x, rec, rc);
}
