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
 *
 * Invariants:
 * - Only closed candles are stored: a row whose close time is not before
 *   Binance's server time is dropped.
 * - A page (or an imported file) is checked whole, then upserted in one
 *   transaction under run/write.lock, or not at all.  Rerunning changes
 *   nothing; a corrected candle replaces the old one.
 * - Pages follow the last open time returned, never interval arithmetic:
 *   real data has gaps and off-grid candles.
 * - One failing pair never stops the others, except that the circuit
 *   breaker ends a run during a whole outage (contracts.md, Retries).
 * - Every run records its dirty ranges and its `runs' row in the state
 *   file, and a plain or --repair run judges coverage at the end.
 * - After candles are stored, the indicator table is brought up to date
 *   for the pairs touched (and any pair found behind or dirty), on this
 *   thread, a write transaction per pair (bt_indtab.c); BT_INDICATORS=0
 *   turns it off.
 * - --source sentiment and --source macro (issue 6) fetch market context
 *   with simple sequential requests on the main thread, retried with
 *   BT_SOURCE_RETRY_DELAYS; they judge no coverage.
 */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_db.h"
#include "bt_http.h"
#include "bt_indtab.h"
#include "bt_lock.h"
#include "bt_market.h"
#include "bt_migrate.h"
#include "bt_parse.h"
#include "bt_state.h"
#include "bt_store.h"

enum mode { M_UPDATE, M_REPAIR, M_GAPS, M_IMPORT, M_MIGRATE, M_SOURCE,
    M_INDICATORS };

/* Why a pair (or request) failed; the order of contracts.md decides. */
enum fail { F_NONE, F_TRANSPORT, F_API, F_DATA, F_BAN, F_STORE, F_RATE };

struct ctx {
	enum mode	 mode;
	bool		 dry, quiet, verbose, progress;
	sqlite3		*db, *st;
	struct bt_http	*http;
	int64_t		 server_ms;	/* Binance's time at the start */
	double		*delays;
	int		 ndelays;
	long		 weight_used;
	long		 weight_cap;
	int		 breaker;	/* transport failures in a row (fetcher) */
	/* Totals for the summary. */
	int64_t		 rows, received;
	long		 requests, retries, paced;
	int		 exit;
	json_t		*status;	/* exchangeInfo: symbol -> status */
	double		 ban_secs;	/* Retry-After of a 418 */
	bool		 banned;
	atomic_bool	 stop;		/* the main thread ends the run */
	/* The indicator table (main thread only). */
	bool		 ind;		/* on, and this run writes */
	struct bt_ind_spec spec;
	char		**indtfs;
	int		 nindtfs;
	int64_t		 ind_pairs, ind_rows, ind_full;
	int		 ind_rc;	/* the worst failure updating it */
};

/*
 * One pair's range to fetch.  The fetcher thread fills requests,
 * retries, received and fail; the main thread rows, first, last and
 * sfail (a failure to store).
 */
struct pairrun {
	const char	*symbol, *tf;
	int64_t		 iv, from, to;	/* to == 0: up to the open candle */
	int64_t		 rows, received, first, last;
	long		 requests, retries;
	enum fail	 fail, sfail;
	atomic_bool	 abort;		/* storing failed: fetch no more */
	bool		 trips;		/* this failure trips the breaker */
	char		 err[BT_ERRLEN], serr[BT_ERRLEN];
	double		 t0;
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
	    "       bt-fetch --indicators [--rebuild] [-nqv] [-d db]\n");
	exit(code);
}

static int
fail_exit(enum fail f)
{
	switch (f) {
	case F_NONE:
		return 0;
	case F_TRANSPORT:
	case F_API:
		return BT_EX_UNAVAILABLE;
	case F_DATA:
		return BT_EX_DATAERR;
	case F_BAN:
	case F_RATE:		/* still 429 after every try: rate limited */
		return BT_EX_TEMPFAIL;
	case F_STORE:
		return BT_EX_IOERR;
	}
	return BT_EX_SOFTWARE;
}

static void
progress(struct ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (!x->progress)
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ requests */

/* Binance's error body: {"code":-1121,"msg":"Invalid symbol."}. */
static void
binance_error(const struct bt_http_resp *r, char *out, size_t len)
{
	json_t *o;
	json_error_t je;

	o = json_loadb(r->body, r->len, 0, &je);
	if (json_is_object(o) && json_is_integer(json_object_get(o, "code")))
		snprintf(out, len, "HTTP %ld, Binance error %lld: %s",
		    r->status, (long long)json_integer_value(json_object_get(o,
		    "code")), json_string_value(json_object_get(o, "msg")) ?
		    json_string_value(json_object_get(o, "msg")) : "");
	else
		snprintf(out, len, "HTTP %ld%s", r->status,
		    r->len > 0 && r->body[0] == '<' ? " (an HTML page)" : "");
	json_decref(o);
}

/* Stays under a share of the minute's request weight (binance.md). */
static void
pace(struct ctx *x, int weight)
{
	double wait;
	int64_t now;

	if (x->weight_used < 0 || x->weight_used + weight <= x->weight_cap)
		return;
	now = bt_now_frozen() ? 0 : bt_now_ms();
	wait = 60.0 - (double)(now % 60000) / 1000.0;
	if (wait > bt_conf_double("BT_PACE_WAIT_MAX"))
		wait = bt_conf_double("BT_PACE_WAIT_MAX");
	if (x->verbose)
		bt_warnx("request weight %ld of %ld used; waiting %.1fs",
		    x->weight_used, x->weight_cap, wait);
	x->paced++;
	bt_sleep(wait);
	x->weight_used = 0;
}

static double
jitter(double d)
{
	/* Up to 10% on each wait, the seed's adaptive_backoff. */
	return d * (1.0 + 0.1 * ((double)random() / RAND_MAX));
}

static void
record_ban(struct ctx *x, double secs)
{
	char err[BT_ERRLEN], val[32], ts[32];
	int64_t until;

	if (secs < 0)
		secs = 120;	/* Binance's shortest ban: 2 minutes */
	until = bt_now_ms() + (int64_t)(secs * 1000);
	snprintf(val, sizeof(val), "%lld", (long long)until);
	if (!x->dry && bt_kv_set(x->st, "binance_ban_until", val, err) != 0)
		bt_warnx("cannot record the ban: %s", err);
	bt_event(x->dry ? NULL : x->st, "CRITICAL", "banned", NULL, NULL,
	    json_pack("{s:s}", "until", bt_fmt_time(until, ts)),
	    "Binance banned this IP (HTTP 418) until %s; no request until "
	    "then", ts);
}

/*
 * GET with the retry policy of contracts.md: BT_RETRY_DELAYS between
 * tries, Retry-After overriding the wait (clamped), 418 and a 429 on
 * every try ending the run (the caller records the ban).  Returns F_NONE
 * with a 200 response in r.
 * Runs on the fetcher thread during the pipeline: no SQLite, no stdout.
 */
static enum fail
request(struct ctx *x, const char *path, const char *query, int weight,
    struct bt_http_resp *r, long *requests, long *retries, char *err)
{
	double wait, lo, hi;
	int attempt;
	enum fail f = F_TRANSPORT;

	lo = bt_conf_double("BT_RETRY_AFTER_MIN");
	hi = bt_conf_double("BT_RETRY_AFTER_MAX");
	for (attempt = 0; ; attempt++) {
		pace(x, weight);
		x->requests++;
		(*requests)++;
		bt_http_get(x->http, path, query, r);
		if (r->used_weight >= 0)
			x->weight_used = r->used_weight;
		else if (x->weight_used >= 0)
			x->weight_used += weight;
		if (r->status == 200)
			return F_NONE;
		wait = attempt < x->ndelays ? jitter(x->delays[attempt]) : 0;
		if (r->status == 0) {
			snprintf(err, BT_ERRLEN, "%s", r->err);
			f = F_TRANSPORT;
		} else if (r->status == 418) {
			binance_error(r, err, BT_ERRLEN);
			x->ban_secs = r->retry_after;
			x->banned = true;
			atomic_store(&x->stop, true);	/* no more requests */
			return F_BAN;
		} else if (r->status == 429) {
			binance_error(r, err, BT_ERRLEN);
			if (r->retry_after >= 0)
				wait = fmin(fmax(r->retry_after, lo), hi);
			f = F_RATE;
		} else if (r->status >= 500) {
			binance_error(r, err, BT_ERRLEN);
			f = F_TRANSPORT;
		} else {
			/* 4xx: the request is at fault; retrying won't help. */
			binance_error(r, err, BT_ERRLEN);
			return F_API;
		}
		if (attempt >= x->ndelays)
			break;
		if (x->verbose)
			bt_warnx("%s: %s; try %d of %d in %.1fs", path, err,
			    attempt + 2, x->ndelays + 1, wait);
		bt_http_resp_free(r);
		x->retries++;
		(*retries)++;
		bt_sleep(wait);
	}
	/*
	 * Still 429 after every try: no more requests.  Said here, in the
	 * fetcher thread, which may be pairs ahead of the main thread that
	 * reads the pair's end (campaign-faults under load).
	 */
	if (f == F_RATE)
		atomic_store(&x->stop, true);
	return f;
}

/* ------------------------------------------------------------- storing */

/* One page or file: dirty range, then candles, all or nothing. */
static enum fail
store(struct ctx *x, const char *symbol, const char *tf,
    const struct bt_candle *c, size_t n, int64_t *changed, char *err)
{
	struct bt_pair p;
	char e2[BT_ERRLEN];
	int rc;

	*changed = 0;
	if (n == 0 || x->dry)
		return F_NONE;
	/* State first: a recorded range with no rows only costs a check. */
	if ((rc = bt_begin(x->st, err)) != 0)
		return F_STORE;
	if ((rc = bt_dirty_add(x->st, symbol, tf, c[0].t, c[n - 1].t, err))
	    != 0) {
		bt_rollback(x->st);
		return F_STORE;
	}
	if ((rc = bt_begin(x->db, err)) != 0)
		goto fail_state;
	if ((rc = bt_pair_get(x->db, symbol, tf, true, c, n, &p, err)) != 0 ||
	    (rc = bt_candles_upsert(x->db, &p, c, n, changed, err)) != 0) {
		bt_rollback(x->db);
		goto fail_state;
	}
	if ((rc = bt_commit(x->st, err)) != 0) {
		bt_rollback(x->db);
		return F_STORE;
	}
	if ((rc = bt_commit(x->db, err)) != 0)
		return F_STORE;
	return F_NONE;
fail_state:
	bt_rollback(x->st);
	(void)e2;
	return rc == BT_EX_TEMPFAIL ? F_BAN : F_STORE;
}

/* ------------------------------------------------------- pair fetching */

/*
 * The pipeline.  Parsing a page of klines costs about as much as storing
 * it, and bt runs on two cores: a fetcher thread requests and parses the
 * pages of every pair while the main thread stores them.  The fetcher
 * speaks only HTTP; everything that writes SQLite, prints or records an
 * event stays on the main thread.  Pages pass through a small queue, so
 * memory stays bounded by a few pages.
 */
struct page {
	struct pairrun	*pr;
	struct bt_candle *c;
	size_t		 n;
	int		 kind;		/* PAGE, PAIR_END, RUN_END */
};
enum { PAGE, PAIR_END, RUN_END };
#define QLEN 4

struct pipe {
	struct ctx	*x;
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

/*
 * Fetches one pair's klines from pr->from (inclusive) up to pr->to or
 * the open candle, page after page; each next page starts just after the
 * last open time returned.  Only closed candles go on.
 */
static void
fetch_pair(struct pipe *p, struct pairrun *pr)
{
	struct ctx *x = p->x;
	struct bt_http_resp r;
	struct bt_candle *c;
	char query[256], why[BT_ERRLEN], ts[32];
	size_t n, keep, i;
	int64_t s = pr->from;
	enum fail f;

	for (;;) {
		if (atomic_load(&x->stop) || atomic_load(&pr->abort))
			return;
		if (pr->to > 0)
			snprintf(query, sizeof(query), "symbol=%s&interval=%s&"
			    "startTime=%lld&endTime=%lld&limit=1000",
			    pr->symbol, pr->tf, (long long)s,
			    (long long)pr->to);
		else
			snprintf(query, sizeof(query), "symbol=%s&interval=%s&"
			    "startTime=%lld&limit=1000", pr->symbol, pr->tf,
			    (long long)s);
		f = request(x, "/api/v3/klines", query, 2, &r, &pr->requests,
		    &pr->retries, why);
		if (f != F_NONE) {
			pr->fail = f;
			snprintf(pr->err, sizeof(pr->err), "%s", why);
			bt_http_resp_free(&r);
			return;
		}
		if (bt_parse_klines(r.body, r.len, pr->iv, &c, &n, why) == -1) {
			pr->fail = F_DATA;
			snprintf(pr->err, sizeof(pr->err), "page from %s: %s",
			    bt_fmt_time(s, ts), why);
			bt_http_resp_free(&r);
			return;
		}
		bt_http_resp_free(&r);
		for (i = 0; i < n; i++)
			if (c[i].t < s || (pr->to > 0 && c[i].t > pr->to)) {
				pr->fail = F_DATA;
				snprintf(pr->err, sizeof(pr->err), "page from "
				    "%s: row %zu: open time %lld is outside "
				    "the requested window", bt_fmt_time(s, ts),
				    i + 1, (long long)c[i].t);
				free(c);
				return;
			}
		/* The open candle: Binance has no "closed" flag on REST. */
		for (keep = n; keep > 0 && c[keep - 1].ct >= x->server_ms;
		    keep--)
			;
		pr->received += (int64_t)keep;
		if (n == 0 || keep < n || n < 1000 ||
		    (pr->to > 0 && c[n - 1].t >= pr->to)) {
			push(p, pr, c, keep, PAGE);
			return;
		}
		s = c[n - 1].t + 1;
		progress(x, "bt-fetch: %s %s %s", pr->symbol, pr->tf,
		    bt_fmt_time(s, ts));
		push(p, pr, c, keep, PAGE);
	}
}

static void *
fetcher(void *arg)
{
	struct pipe *p = arg;
	size_t i;

	for (i = 0; i < p->nprs; i++) {
		p->prs[i].t0 = bt_mono();
		fetch_pair(p, &p->prs[i]);
		/*
		 * The circuit breaker is decided here, not when the pair is
		 * stored, so that not one more request goes out.
		 */
		p->x->breaker = p->prs[i].fail == F_TRANSPORT ?
		    p->x->breaker + 1 : 0;
		if (p->x->breaker >= bt_conf_long("BT_CIRCUIT_BREAKER") &&
		    !atomic_load(&p->x->stop)) {
			p->prs[i].trips = true;
			atomic_store(&p->x->stop, true);
		}
		push(p, &p->prs[i], NULL, 0, PAIR_END);
	}
	bt_parse_release();
	push(p, NULL, NULL, 0, RUN_END);
	return NULL;
}

static void pair_line(struct ctx *, struct pairrun *, double);
static void pair_failed(struct ctx *, struct pairrun *);
static void ind_hook(struct ctx *, const char *, const char *, int64_t);
static int ind_sweep(struct ctx *);
static void ind_fields(struct ctx *, json_t *);

/*
 * Fetches every pair of prs through the pipeline, storing on this thread.
 * Returns the worst failure, by contracts.md's order; stops early on a
 * ban, a store that cannot be written, or the circuit breaker.
 */
static enum fail
fetch_pairs(struct ctx *x, struct pairrun *prs, size_t nprs, int *rc)
{
	struct pipe p;
	struct page pg;
	struct pairrun *pr;
	pthread_t tid;
	int64_t changed;
	enum fail worst = F_NONE, f;
	char why[BT_ERRLEN];

	memset(&p, 0, sizeof(p));
	p.x = x;
	p.prs = prs;
	p.nprs = nprs;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if (pthread_create(&tid, NULL, fetcher, &p) != 0) {
		bt_warnx("cannot start the fetcher thread");
		*rc = bt_exit_worse(*rc, BT_EX_SOFTWARE);
		return F_NONE;
	}
	for (;;) {
		pg = pop(&p);
		if (pg.kind == RUN_END)
			break;
		pr = pg.pr;
		if (pg.kind == PAGE) {
			if (pr->sfail == F_NONE && (f = store(x, pr->symbol,
			    pr->tf, pg.c, pg.n, &changed, why)) != F_NONE) {
				pr->sfail = f;
				snprintf(pr->serr, sizeof(pr->serr), "%s", why);
				atomic_store(&pr->abort, true);
			} else if (pr->sfail == F_NONE && pg.n > 0) {
				if (pr->first == 0 || pg.c[0].t < pr->first)
					pr->first = pg.c[0].t;
				if (pg.c[pg.n - 1].t > pr->last)
					pr->last = pg.c[pg.n - 1].t;
				pr->rows += changed;
				x->rows += changed;
			}
			free(pg.c);
			continue;
		}
		/* PAIR_END: the fetcher is done with pr. */
		if (pr->sfail != F_NONE) {
			pr->fail = pr->sfail;
			memcpy(pr->err, pr->serr, sizeof(pr->err));
		}
		x->received += pr->received;
		/* Its candles are in: its indicators follow (issue 6). */
		ind_hook(x, pr->symbol, pr->tf, pr->rows);
		if (atomic_load(&x->stop) && pr->requests == 0)
			continue;		/* skipped: never started */
		pair_line(x, pr, bt_mono() - pr->t0);
		if (pr->fail == F_NONE)
			continue;
		pair_failed(x, pr);
		if (worst == F_NONE || bt_exit_worse(fail_exit(pr->fail),
		    fail_exit(worst)) == fail_exit(pr->fail))
			worst = pr->fail;
		/*
		 * A ban or a rate limit stopped the fetcher thread where it
		 * happened, in request(); a store that cannot be written
		 * stops it here.
		 */
		if (pr->fail == F_BAN)
			record_ban(x, x->ban_secs);
		else if (pr->fail == F_STORE)
			atomic_store(&x->stop, true);
		if (pr->trips) {
			bt_event(x->dry ? NULL : x->st, "CRITICAL",
			    "circuit_breaker", NULL, NULL, NULL,
			    "%ld pairs in a row failed on transport errors "
			    "(last: %s); skipping the rest of this run",
			    bt_conf_long("BT_CIRCUIT_BREAKER"), pr->err);
			*rc = bt_exit_worse(*rc, BT_EX_UNAVAILABLE);
		}
	}
	pthread_join(tid, NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return worst;
}

static void
pair_line(struct ctx *x, struct pairrun *pr, double secs)
{
	json_t *rec;

	if (x->quiet && pr->fail == F_NONE)
		return;
	rec = bt_rec("pair");
	json_object_set_new(rec, "symbol", json_string(pr->symbol));
	json_object_set_new(rec, "tf", json_string(pr->tf));
	json_object_set_new(rec, "status", json_string(pr->fail == F_NONE ?
	    "ok" : "failed"));
	json_object_set_new(rec, "rows", json_integer(pr->rows));
	json_object_set_new(rec, "received", json_integer(pr->received));
	json_object_set_new(rec, "first", pr->first ?
	    json_integer(pr->first) : json_null());
	json_object_set_new(rec, "last", pr->last ?
	    json_integer(pr->last) : json_null());
	json_object_set_new(rec, "requests", json_integer(pr->requests));
	json_object_set_new(rec, "retries", json_integer(pr->retries));
	if (pr->fail != F_NONE)
		json_object_set_new(rec, "error", json_string(pr->err));
	bt_rec_dur(rec, "seconds", secs);
	bt_emit(rec);
}

static void
pair_failed(struct ctx *x, struct pairrun *pr)
{
	bt_event(x->dry ? NULL : x->st, "WARNING", "fetch_failed", pr->symbol,
	    pr->tf, NULL, "%s %s: %s", pr->symbol, pr->tf, pr->err);
}

/* exchangeInfo for the configured symbols: symbol -> status. */
static void
exchange_info(struct ctx *x, char **syms, int nsyms)
{
	struct bt_http_resp r;
	struct bt_buf q = { 0 };
	char err[BT_ERRLEN], *esc;
	long req = 0, ret = 0;
	json_t *root, *list, *s;
	json_error_t je;
	size_t i;
	int j;

	bt_buf_add(&q, "[", 1);
	for (j = 0; j < nsyms; j++)
		bt_buf_printf(&q, "%s\"%s\"", j ? "," : "", syms[j]);
	bt_buf_add(&q, "]", 1);
	esc = bt_http_escape(x->http, q.p);
	bt_buf_free(&q);
	bt_buf_printf(&q, "symbols=%s", esc);
	free(esc);
	x->status = json_object();
	if (request(x, "/api/v3/exchangeInfo", q.p, 20, &r, &req, &ret, err)
	    != F_NONE) {
		/* One unknown symbol fails the whole request: ask singly. */
		bt_http_resp_free(&r);
		if (x->verbose)
			bt_warnx("exchangeInfo: %s; asking symbol by symbol",
			    err);
		for (j = 0; j < nsyms; j++) {
			bt_buf_free(&q);
			bt_buf_printf(&q, "symbol=%s", syms[j]);
			if (request(x, "/api/v3/exchangeInfo", q.p, 20, &r, &req,
			    &ret, err) == F_API &&
			    strstr(err, "-1121") != NULL)
				json_object_set_new(x->status, syms[j],
				    json_string("INVALID"));
			else if (r.status == 200 &&
			    (root = json_loadb(r.body, r.len, 0, &je)) != NULL) {
				list = json_object_get(root, "symbols");
				json_array_foreach(list, i, s)
					if (json_is_string(json_object_get(s,
					    "status")))
						json_object_set(x->status,
						    syms[j], json_object_get(s,
						    "status"));
				json_decref(root);
			}
			bt_http_resp_free(&r);
		}
		bt_buf_free(&q);
		return;
	}
	bt_buf_free(&q);
	if ((root = json_loadb(r.body, r.len, 0, &je)) == NULL) {
		bt_warnx("exchangeInfo: not JSON: %s", je.text);
		bt_http_resp_free(&r);
		return;
	}
	list = json_object_get(root, "symbols");
	json_array_foreach(list, i, s) {
		const char *sym = json_string_value(json_object_get(s,
		    "symbol"));
		const char *stat = json_string_value(json_object_get(s,
		    "status"));
		if (sym != NULL && stat != NULL && bt_symbol_ok(sym))
			json_object_set_new(x->status, sym, json_string(stat));
	}
	json_decref(root);
	bt_http_resp_free(&r);
}

/*
 * Whether a once-a-day warning about `sym' of `kind' is due: false when
 * one went out today (the state file's kv table remembers the day, which
 * this marks).  A dry run warns every time and remembers nothing.
 */
static bool
due_today(struct ctx *x, const char *kind, const char *sym)
{
	char key[64], day[32], *last = NULL, err[BT_ERRLEN];
	bool due;

	if (x->dry)
		return true;
	bt_fmt_time(bt_now_ms(), day);
	day[10] = '\0';
	snprintf(key, sizeof(key), "%s:%s", kind, sym);
	due = !(bt_kv_get(x->st, key, &last, err) == 0 && last != NULL &&
	    strcmp(last, day) == 0);
	free(last);
	if (due)
		bt_kv_set(x->st, key, day, err);
	return due;
}

/* contracts.md: one WARNING a day for a symbol that is not TRADING. */
static void
warn_not_trading(struct ctx *x, const char *sym, const char *status)
{
	if (!due_today(x, "not_trading", sym))
		return;
	bt_event(x->dry ? NULL : x->st, "WARNING", "not_trading", sym, NULL,
	    json_pack("{s:s}", "status", status), "%s is %s on Binance, not "
	    "TRADING; left out of coverage", sym, strcmp(status, "INVALID") ?
	    status : "unknown (-1121 Invalid symbol)");
}

static const char *
symbol_status(struct ctx *x, const char *sym)
{
	const char *s;

	if (x->status == NULL ||
	    (s = json_string_value(json_object_get(x->status, sym))) == NULL)
		return "TRADING";	/* unknown: assume so, count it */
	return s;
}

/*
 * Coverage (contracts.md), as bt_coverage() computes it for bt-validate
 * too: this run's exchangeInfo decides which symbols are left out.
 */
static double
coverage(struct ctx *x, char **syms, int nsyms, char **tfs, int ntfs,
    int *current, int *counted, json_t **stale)
{
	struct bt_cov cov;
	char err[BT_ERRLEN];
	double out;
	int i;

	*stale = json_array();
	if (bt_coverage(x->db, x->st, x->status, syms, nsyms, tfs, ntfs, &cov,
	    err) != 0)
		bt_warnx("coverage: %s", err);
	for (i = 0; i < cov.n; i++)
		if (!cov.p[i].excluded && !cov.p[i].current)
			json_array_append_new(*stale, json_pack("[s,s]",
			    cov.p[i].symbol, cov.p[i].tf));
	*current = cov.current;
	*counted = cov.counted;
	out = cov.coverage;
	bt_cov_free(&cov);
	return out;
}

static int
server_time(struct ctx *x)
{
	struct bt_http_resp r;
	char err[BT_ERRLEN];
	long req = 0, ret = 0;
	json_t *o;
	json_error_t je;
	enum fail f;

	f = request(x, "/api/v3/time", NULL, 1, &r, &req, &ret, err);
	if (f == F_NONE) {
		o = json_loadb(r.body, r.len, 0, &je);
		if (json_is_integer(json_object_get(o, "serverTime")))
			x->server_ms = json_integer_value(json_object_get(o,
			    "serverTime"));
		else {
			snprintf(err, sizeof(err), "/api/v3/time: no "
			    "serverTime in the answer");
			f = F_DATA;
		}
		json_decref(o);
	}
	bt_http_resp_free(&r);
	if (f == F_BAN) {
		record_ban(x, x->ban_secs);
		return fail_exit(f);
	}
	if (f != F_NONE) {
		bt_event(x->dry ? NULL : x->st, "WARNING", "fetch_failed", NULL,
		    NULL, NULL, "Binance is not answering: %s", err);
		return fail_exit(f);
	}
	return 0;
}

/* Plain and --repair runs over every configured pair. */
static int
run_pairs(struct ctx *x, int64_t since, int repair_days)
{
	char **syms, **tfs, err[BT_ERRLEN];
	int nsyms, ntfs, i, j, k = 0, cur, cnt, rc;
	struct pairrun *prs, *pr;
	struct bt_pair p;
	int64_t last, now = bt_now_ms();
	enum fail worst = F_NONE;
	bool stop = false;
	json_t *stale, *rec;
	double cov;

	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	ntfs = bt_conf_list("BT_TIMEFRAMES", &tfs);
	if ((rc = server_time(x)) == 0) {
		exchange_info(x, syms, nsyms);
		if (x->banned) {
			record_ban(x, x->ban_secs);
			rc = BT_EX_TEMPFAIL;
			stop = true;
		} else if (x->status != NULL)
			for (i = 0; i < nsyms; i++)
				if (strcmp(symbol_status(x, syms[i]),
				    "TRADING") != 0)
					warn_not_trading(x, syms[i],
					    symbol_status(x, syms[i]));
	} else
		stop = true;
	if (!stop) {
		if ((prs = calloc((size_t)(nsyms * ntfs), sizeof(*prs))) ==
		    NULL)
			abort();
		for (i = 0; i < nsyms && !stop; i++)
			for (j = 0; j < ntfs && !stop; j++) {
				pr = &prs[k++];
				pr->symbol = syms[i];
				pr->tf = tfs[j];
				pr->iv = bt_tf_ms(tfs[j]);
				last = -1;
				if (bt_pair_get(x->db, syms[i], tfs[j], false,
				    NULL, 0, &p, err) != 0 ||
				    bt_pair_last(x->db, &p, &last, err) != 0) {
					bt_warnx("%s", err);
					rc = bt_exit_worse(rc, BT_EX_IOERR);
					stop = true;
				}
				if (repair_days > 0)
					pr->from = now - (int64_t)repair_days *
					    86400000;
				else
					pr->from = last >= 0 ? last : since;
				pr->from -= pr->from % pr->iv;
			}
		if (!stop)
			worst = fetch_pairs(x, prs, (size_t)k, &rc);
		free(prs);
	}
	progress(x, "");
	if (x->progress)
		fputs("\r\033[K", stderr);
	cov = coverage(x, syms, nsyms, tfs, ntfs, &cur, &cnt, &stale);
	if (cov < bt_conf_double("BT_COVERAGE_MIN")) {
		bt_event(x->dry ? NULL : x->st, "CRITICAL", "coverage", NULL,
		    NULL, json_pack("{s:f, s:O}", "coverage", cov, "stale",
		    stale), "coverage %.1f%%: only %d of %d pairs are current "
		    "(minimum %.0f%%)", cov * 100, cur, cnt,
		    bt_conf_double("BT_COVERAGE_MIN") * 100);
		/* Bad data only when nothing on the API side went wrong. */
		rc = bt_exit_worse(rc, worst == F_DATA ? BT_EX_DATAERR :
		    worst == F_RATE ? BT_EX_TEMPFAIL : worst == F_STORE ?
		    BT_EX_IOERR : BT_EX_UNAVAILABLE);
	}
	if (worst == F_BAN || worst == F_STORE || worst == F_RATE)
		rc = bt_exit_worse(rc, fail_exit(worst));
	rc = bt_exit_worse(rc, ind_sweep(x));
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string(repair_days ? "repair" :
	    "update"));
	json_object_set_new(rec, "pairs", json_integer(nsyms * ntfs));
	json_object_set_new(rec, "counted", json_integer(cnt));
	json_object_set_new(rec, "current", json_integer(cur));
	json_object_set_new(rec, "coverage", json_real(round(cov * 1e4) /
	    1e4));
	json_object_set_new(rec, "rows", json_integer(x->rows));
	json_object_set_new(rec, "received", json_integer(x->received));
	json_object_set_new(rec, "requests", json_integer(x->requests));
	json_object_set_new(rec, "retries", json_integer(x->retries));
	ind_fields(x, rec);
	json_object_set_new(rec, "exit", json_integer(rc));
	x->exit = rc;
	json_decref(stale);
	bt_list_free(syms, nsyms);
	bt_list_free(tfs, ntfs);
	bt_emit(rec);
	return rc;
}

/* --gaps: gap records on stdin, each range fetched exactly. */
static int
run_gaps(struct ctx *x, FILE *in)
{
	char *line = NULL, err[BT_ERRLEN];
	size_t cap = 0, n = 0, i;
	ssize_t len;
	long lineno = 0;
	struct bt_gap g, *gaps = NULL;
	struct pairrun *prs;
	int rc = 0, r;
	enum fail worst;
	json_t *rec;

	while ((len = getline(&line, &cap, in)) != -1) {
		lineno++;
		if ((r = bt_parse_gap(line, &g, err)) == 0)
			continue;
		if (r == -1) {
			bt_warnx("stdin:%ld: bad gap record: %s", lineno, err);
			rc = bt_exit_worse(rc, BT_EX_DATAERR);
			continue;
		}
		if (bt_tf_view(g.tf) == NULL) {
			bt_warnx("stdin:%ld: tf %s is not kept in the store "
			    "(1d 4h 1h 15m)", lineno, g.tf);
			rc = bt_exit_worse(rc, BT_EX_DATAERR);
			continue;
		}
		if ((gaps = realloc(gaps, (n + 1) * sizeof(*gaps))) == NULL)
			abort();
		gaps[n++] = g;
	}
	free(line);
	if (n > 0) {
		if ((r = server_time(x)) != 0) {
			free(gaps);
			return bt_exit_worse(rc, r);
		}
		if ((prs = calloc(n, sizeof(*prs))) == NULL)
			abort();
		for (i = 0; i < n; i++) {
			prs[i].symbol = gaps[i].symbol;
			prs[i].tf = gaps[i].tf;
			prs[i].iv = bt_tf_ms(gaps[i].tf);
			prs[i].from = gaps[i].from;
			prs[i].to = gaps[i].to;
		}
		worst = fetch_pairs(x, prs, n, &rc);
		rc = bt_exit_worse(rc, fail_exit(worst));
		free(prs);
	}
	free(gaps);
	rc = bt_exit_worse(rc, ind_sweep(x));
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("gaps"));
	json_object_set_new(rec, "gaps", json_integer((json_int_t)n));
	json_object_set_new(rec, "rows", json_integer(x->rows));
	json_object_set_new(rec, "received", json_integer(x->received));
	json_object_set_new(rec, "requests", json_integer(x->requests));
	json_object_set_new(rec, "retries", json_integer(x->retries));
	ind_fields(x, rec);
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	return rc;
}

/* ------------------------------------------------------------- import */

/*
 * Symbol and interval from a file name: BTCUSDT-1h-2025-01.csv
 * (data.binance.vision) or BTC_USDT-4h.json (freqtrade).
 */
static void
name_guess(const char *path, char *sym, size_t slen, char *tf, size_t tlen)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char buf[256], *dash, *p, *q;

	snprintf(buf, sizeof(buf), "%s", base);
	if ((dash = strchr(buf, '-')) == NULL)
		return;
	*dash = '\0';
	/* BTC_USDT -> BTCUSDT */
	for (p = q = buf; *p != '\0'; p++)
		if (*p != '_')
			*q++ = *p;
	*q = '\0';
	if (bt_symbol_ok(buf) && *sym == '\0')
		snprintf(sym, slen, "%s", buf);
	p = dash + 1;
	q = p + strcspn(p, "-.");
	*q = '\0';
	if (*tf == '\0' && bt_tf_ms(p) != 0)
		snprintf(tf, tlen, "%s", p);
}

static int
import_file(struct ctx *x, const char *path, const char *osym,
    const char *otf)
{
	char sym[24] = "", tf[8] = "", err[BT_ERRLEN], fmt[16];
	struct bt_candle *c = NULL;
	const char *p;
	size_t len, n = 0;
	int64_t changed = 0, iv;
	char *buf;
	json_t *rec;
	enum fail f;
	int rc;

	snprintf(sym, sizeof(sym), "%s", osym ? osym : "");
	snprintf(tf, sizeof(tf), "%s", otf ? otf : "");
	if (strcmp(path, "-") != 0)
		name_guess(path, sym, sizeof(sym), tf, sizeof(tf));
	if (*sym == '\0' || *tf == '\0') {
		bt_warnx("%s: cannot tell the %s from the name; give --symbol "
		    "and --interval", path, *sym ? "interval" : "symbol");
		return BT_EX_USAGE;
	}
	if (bt_tf_view(tf) == NULL) {
		bt_warnx("%s: interval %s is not kept in the store (1d 4h 1h "
		    "15m)", path, tf);
		return BT_EX_DATAERR;
	}
	iv = bt_tf_ms(tf);
	if ((buf = bt_read_file(path, (size_t)1 << 30, &len, err)) == NULL) {
		bt_warnx("%s", err);
		return BT_EX_NOINPUT;
	}
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	if (*p == '[') {
		snprintf(fmt, sizeof(fmt), "freqtrade");
		rc = bt_parse_freqtrade(path, buf, len, iv, &c, &n, err);
	} else {
		snprintf(fmt, sizeof(fmt), "binance-csv");
		rc = bt_parse_kline_csv(path, buf, len, iv, &c, &n, err);
	}
	free(buf);
	if (rc == -1) {
		bt_warnx("%s", err);
		bt_event(x->dry ? NULL : x->st, "WARNING", "import_failed",
		    sym, tf, NULL, "%s", err);
		return BT_EX_DATAERR;
	}
	f = store(x, sym, tf, c, n, &changed, err);
	rec = bt_rec("import");
	json_object_set_new(rec, "file", json_string(path));
	json_object_set_new(rec, "format", json_string(fmt));
	json_object_set_new(rec, "symbol", json_string(sym));
	json_object_set_new(rec, "tf", json_string(tf));
	json_object_set_new(rec, "status", json_string(f == F_NONE ? "ok" :
	    "failed"));
	json_object_set_new(rec, "rows", json_integer(changed));
	json_object_set_new(rec, "received", json_integer((json_int_t)n));
	json_object_set_new(rec, "first", n ? json_integer(c[0].t) :
	    json_null());
	json_object_set_new(rec, "last", n ? json_integer(c[n - 1].t) :
	    json_null());
	if (f != F_NONE)
		json_object_set_new(rec, "error", json_string(err));
	bt_emit(rec);
	x->rows += changed;
	x->received += (int64_t)n;
	free(c);
	if (f != F_NONE) {
		bt_warnx("%s: %s", path, err);
		return fail_exit(f);
	}
	return 0;
}

/* --- indicator table ------------------------------------------------- */

/*
 * Whether this run keeps the indicator table (issue 6), and with what
 * spec.  Only runs that store candles do; --indicators does even with
 * BT_INDICATORS=0 (an option overrides the configuration).
 */
static int
ind_config(struct ctx *x, bool force, char *err)
{
	int rc;

	x->ind = false;
	if (x->mode == M_SOURCE || x->mode == M_MIGRATE ||
	    (!force && !bt_conf_long("BT_INDICATORS")))
		return 0;
	if ((rc = bt_ind_spec_conf(&x->spec, err)) != 0)
		return rc;
	x->nindtfs = bt_conf_list("BT_IND_TIMEFRAMES", &x->indtfs);
	x->ind = true;
	return 0;
}

/* A new spec re-creates the table; --rebuild empties it. */
static int
ind_prepare(struct ctx *x, bool rebuild)
{
	char err[BT_ERRLEN];
	bool changed;
	int rc;

	if ((rc = bt_ind_prepare(x->db, &x->spec, &changed, err)) != 0 ||
	    (rebuild && (rc = bt_ind_reset(x->db, err)) != 0)) {
		bt_warnx("indicator table: %s", err);
		return rc;
	}
	if (changed)
		bt_event(x->st, "INFO", "indicator_spec", NULL, NULL,
		    json_pack("{s:s}", "spec", x->spec.text), "indicator spec "
		    "is now '%s': the table was re-created and every pair is "
		    "recomputed", x->spec.text);
	return 0;
}

static void
ind_pair(struct ctx *x, const struct bt_pair *p)
{
	struct bt_ind_run r;
	char err[BT_ERRLEN];
	json_t *rec;
	int rc;

	if ((rc = bt_ind_update(x->db, &x->spec, p, &r, err)) != 0) {
		/* The candles are stored; the pair stays pending. */
		bt_event(x->st, "WARNING", "indicators_failed", p->symbol,
		    p->tf, NULL, "%s %s: indicator table not updated: %s",
		    p->symbol, p->tf, err);
		x->ind_rc = bt_exit_worse(x->ind_rc, rc);
		return;
	}
	if (r.candles > 0 || r.full)
		x->ind_pairs++;
	x->ind_rows += r.rows;
	x->ind_full += r.full;
	/* A recomputation other than a pair's first is worth a line. */
	if (r.full && strcmp(r.why, "new") != 0 && !x->quiet) {
		rec = bt_rec("indicators");
		json_object_set_new(rec, "symbol", json_string(p->symbol));
		json_object_set_new(rec, "tf", json_string(p->tf));
		json_object_set_new(rec, "mode", json_string("full"));
		json_object_set_new(rec, "why", json_string(r.why));
		json_object_set_new(rec, "from", r.from >= 0 ?
		    json_integer(r.from) : json_null());
		json_object_set_new(rec, "rows", json_integer(r.rows));
		bt_emit(rec);
	}
}

/* At PAIR_END: a pair whose candles changed, if it is kept. */
static void
ind_hook(struct ctx *x, const char *symbol, const char *tf, int64_t rows)
{
	struct bt_pair p;
	char err[BT_ERRLEN];
	int j;

	if (!x->ind || x->dry || rows <= 0 || x->ind_rc != 0)
		return;
	for (j = 0; j < x->nindtfs; j++)
		if (strcmp(x->indtfs[j], tf) == 0)
			break;
	if (j == x->nindtfs)
		return;
	if (bt_pair_get(x->db, symbol, tf, false, NULL, 0, &p, err) != 0 ||
	    p.id == 0)
		return;		/* the sweep will find it */
	ind_pair(x, &p);
}

/*
 * At the end of a run that stored candles: every pair of the indicator
 * timeframes that is still behind, dirty or new.  Each costs a query
 * when it is not; so the table is whole after every run.
 */
static int
ind_sweep(struct ctx *x)
{
	struct bt_pair *ps;
	char err[BT_ERRLEN];
	size_t n, i;
	int rc;

	if (!x->ind || x->dry)
		return 0;
	if (x->ind_rc == 0) {
		if ((rc = bt_ind_pending(x->db, x->indtfs, x->nindtfs, false,
		    &ps, &n, err)) != 0) {
			bt_warnx("indicator table: %s", err);
			x->ind_rc = rc;
			return rc;
		}
		for (i = 0; i < n && x->ind_rc == 0; i++)
			ind_pair(x, &ps[i]);
		free(ps);
	}
	return x->ind_rc;
}

static void
ind_fields(struct ctx *x, json_t *rec)
{
	if (!x->ind || x->dry)
		return;
	json_object_set_new(rec, "ind_pairs", json_integer(x->ind_pairs));
	json_object_set_new(rec, "ind_rows", json_integer(x->ind_rows));
	json_object_set_new(rec, "ind_full", json_integer(x->ind_full));
}

/* --indicators [--rebuild]: the table up to date, no network. */
static int
run_indicators(struct ctx *x)
{
	json_t *rec;
	int rc;

	rc = ind_sweep(x);
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("indicators"));
	json_object_set_new(rec, "spec", json_string(x->spec.text));
	ind_fields(x, rec);
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	return rc;
}

/* --- sentiment -------------------------------------------------------- */

/*
 * Binance's futures statistics per symbol, and the spot 24 h ticker for
 * all (issue 6; binance.md section 3).  Each source's rows are stored at
 * their own times, keyed (symbol, metric, timestamp), under the spot
 * symbol; BT_FUTURES_SYMBOL_MAP names the futures contract where it
 * differs (PEPEUSDT=1000PEPEUSDT), whose figures are stored as Binance
 * gives them.  Each run starts just after the newest stored time of each
 * source, so a missed day is fetched on the next run.  The statistics
 * under /futures/data reach back 30 days only: what fell out of that
 * window is reported as lost (a WARNING), never guessed.
 */
static const struct fsrc {
	const char	*name, *path;
	bool		 period;	/* takes period= */
	int		 limit, weight;
	const char	*tkey;
	const char	*keys[BT_SENT_MAXF];
	const char	*metrics[BT_SENT_MAXF];
	int		 nk, nreq;
} fsrcs[] = {
	{ "funding", "/fapi/v1/fundingRate", false, 1000, 1, "fundingTime",
	    { "fundingRate", "markPrice" }, { "funding_rate", "mark_price" },
	    2, 1 },
	{ "open_interest", "/futures/data/openInterestHist", true, 500, 0,
	    "timestamp", { "sumOpenInterest", "sumOpenInterestValue" },
	    { "open_interest", "open_interest_value" }, 2, 2 },
	{ "long_short", "/futures/data/globalLongShortAccountRatio", true, 500,
	    0, "timestamp", { "longShortRatio", "longAccount", "shortAccount" },
	    { "long_short_ratio", "long_account", "short_account" }, 3, 3 },
	{ "taker", "/futures/data/takerlongshortRatio", true, 500, 0,
	    "timestamp", { "buySellRatio", "buyVol", "sellVol" },
	    { "taker_buy_sell_ratio", "taker_buy_vol", "taker_sell_vol" }, 3,
	    3 },
};
#define NFSRC	(sizeof(fsrcs) / sizeof(fsrcs[0]))
#define DAY_MS	86400000LL

static const char *sent_periods[] = { "5m", "15m", "30m", "1h", "2h", "4h",
    "6h", "12h", "1d" };

/* The futures symbol of a spot one: BT_FUTURES_SYMBOL_MAP, or itself. */
static int
futures_symbol(const char *spot, char *out, size_t len, char *err)
{
	char **map, *eq;
	int n, i, rc = 0;

	snprintf(out, len, "%s", spot);
	n = bt_conf_list("BT_FUTURES_SYMBOL_MAP", &map);
	for (i = 0; i < n && rc == 0; i++) {
		if ((eq = strchr(map[i], '=')) == NULL) {
			rc = BT_EX_CONFIG;
			break;
		}
		*eq++ = '\0';
		if (!bt_symbol_ok(map[i]) || !bt_symbol_ok(eq)) {
			eq[-1] = '=';
			rc = BT_EX_CONFIG;
			break;
		}
		if (strcmp(map[i], spot) == 0)
			snprintf(out, len, "%s", eq);
	}
	if (rc != 0)
		snprintf(err, BT_ERRLEN, "BT_FUTURES_SYMBOL_MAP: '%s' is not "
		    "SPOT=FUTURES (e.g. PEPEUSDT=1000PEPEUSDT)", map[i]);
	bt_list_free(map, n);
	return rc;
}

static bool
fred_series_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 40 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* The keys of --source, checked before anything runs (exit 78). */
static int
source_config(const char *source, char *err)
{
	char fs[24], **v;
	size_t i;
	int n, j, rc = 0;

	if (strcmp(source, "sentiment") == 0) {
		for (i = 0; i < sizeof(sent_periods) / sizeof(sent_periods[0]);
		    i++)
			if (strcmp(bt_conf("BT_SENTIMENT_PERIOD"),
			    sent_periods[i]) == 0)
				break;
		if (i == sizeof(sent_periods) / sizeof(sent_periods[0])) {
			snprintf(err, BT_ERRLEN, "BT_SENTIMENT_PERIOD: '%s' is "
			    "not one of 5m 15m 30m 1h 2h 4h 6h 12h 1d",
			    bt_conf("BT_SENTIMENT_PERIOD"));
			return BT_EX_CONFIG;
		}
		return futures_symbol("BTCUSDT", fs, sizeof(fs), err);
	}
	n = bt_conf_list("BT_FRED_SERIES", &v);
	if (n == 0) {
		snprintf(err, BT_ERRLEN, "BT_FRED_SERIES is empty");
		rc = BT_EX_CONFIG;
	}
	for (j = 0; j < n && rc == 0; j++)
		if (!fred_series_ok(v[j])) {
			snprintf(err, BT_ERRLEN, "BT_FRED_SERIES: '%s' is not a "
			    "FRED series id", v[j]);
			rc = BT_EX_CONFIG;
		}
	bt_list_free(v, n);
	return rc;
}

/* What one symbol's sources did. */
struct sres {
	int64_t	 rows;
	long	 requests, retries;
	int	 gaps;
	enum fail fail;
	bool	 nofutures;
	char	 err[BT_ERRLEN];
};

static void
worse_fail(enum fail *w, enum fail f)
{
	if (f != F_NONE && (*w == F_NONE || bt_exit_worse(fail_exit(f),
	    fail_exit(*w)) == fail_exit(f)))
		*w = f;
}

/* Rows of one page: all, each value under its metric, or none. */
static enum fail
sent_store(struct ctx *x, const char *sym, const struct fsrc *fs,
    const struct bt_sent_row *rows, size_t n, int64_t *changed, char *err)
{
	int64_t c;
	int k, rc;

	*changed = 0;
	if (n == 0 || x->dry)
		return F_NONE;
	if ((rc = bt_begin(x->db, err)) != 0)
		return rc == BT_EX_TEMPFAIL ? F_BAN : F_STORE;
	for (k = 0; k < fs->nk; k++) {
		if ((rc = bt_sent_store(x->db, sym, fs->metrics[k], &rows[0].t,
		    &rows[0].v[k], n, sizeof(rows[0]), &c, err)) != 0) {
			bt_rollback(x->db);
			return F_STORE;
		}
		*changed += c;
	}
	if ((rc = bt_commit(x->db, err)) != 0)
		return F_STORE;
	return F_NONE;
}

/*
 * One source of one symbol, page after page from just after its newest
 * stored time.  Returns F_NONE, or the failure with err set.
 */
static enum fail
sent_source(struct ctx *x, const char *sym, const char *fsym,
    const struct fsrc *fs, struct sres *res, char *err)
{
	struct bt_http_resp r;
	struct bt_sent_row *rows;
	char q[256], why[BT_ERRLEN], a[32], b[32];
	const char *per = bt_conf("BT_SENTIMENT_PERIOD");
	int64_t now = bt_now_ms(), pms = bt_tf_ms(per), last, s, floor, c;
	size_t n, i;
	enum fail f;
	int rc;

	if ((rc = bt_sent_last(x->db, sym, fs->metrics[0], &last, err)) != 0)
		return F_STORE;
	s = last >= 0 ? last + 1 : now - bt_conf_long("BT_SENTIMENT_DAYS") *
	    DAY_MS;
	if (fs->period) {
		/* Binance keeps 30 days; a minute's margin for clocks. */
		floor = now - 30 * DAY_MS + 60000;
		floor += (pms - floor % pms) % pms;
		if (s < floor) {
			if (last >= 0 && last + pms < floor) {
				res->gaps++;
				bt_event(x->dry ? NULL : x->st, "WARNING",
				    "sentiment_gap", sym, NULL, json_pack(
				    "{s:s, s:I, s:I}", "source", fs->name,
				    "from", (json_int_t)(last + pms), "to",
				    (json_int_t)(floor - pms)), "%s %s: "
				    "%s..%s fell out of Binance's 30-day window "
				    "before it was fetched; it is lost here "
				    "(data.binance.vision's futures metrics "
				    "archive has it)", sym, fs->name,
				    bt_fmt_time(last + pms, a),
				    bt_fmt_time(floor - pms, b));
			}
			s = floor;
		}
	}
	for (;;) {
		if (fs->period)
			snprintf(q, sizeof(q), "symbol=%s&period=%s&startTime="
			    "%lld&endTime=%lld&limit=%d", fsym, per,
			    (long long)s, (long long)now, fs->limit);
		else
			snprintf(q, sizeof(q), "symbol=%s&startTime=%lld&"
			    "endTime=%lld&limit=%d", fsym, (long long)s,
			    (long long)now, fs->limit);
		f = request(x, fs->path, q, fs->weight, &r, &res->requests,
		    &res->retries, why);
		if (f == F_API && strstr(why, "-1121") != NULL) {
			res->nofutures = true;
			bt_http_resp_free(&r);
			return F_NONE;
		}
		if (f != F_NONE) {
			snprintf(err, BT_ERRLEN, "%s: %s", fs->path, why);
			bt_http_resp_free(&r);
			return f;
		}
		rc = bt_parse_futures(r.body, r.len, fs->tkey, fs->keys, fs->nk,
		    fs->nreq, &rows, &n, why);
		bt_http_resp_free(&r);
		if (rc == -1) {
			snprintf(err, BT_ERRLEN, "%s from %s: %s", fs->path,
			    bt_fmt_time(s, a), why);
			return F_DATA;
		}
		for (i = 0; i < n; i++)
			if (rows[i].t < s || rows[i].t > now) {
				snprintf(err, BT_ERRLEN, "%s from %s: row %zu: "
				    "time %lld is outside the requested window",
				    fs->path, bt_fmt_time(s, a), i + 1,
				    (long long)rows[i].t);
				free(rows);
				return F_DATA;
			}
		f = sent_store(x, sym, fs, rows, n, &c, why);
		if (f != F_NONE) {
			snprintf(err, BT_ERRLEN, "%s", why);
			free(rows);
			return f;
		}
		res->rows += c;
		x->rows += c;
		x->received += (int64_t)n;
		if (n < (size_t)fs->limit || rows[n - 1].t >= now) {
			free(rows);
			return F_NONE;
		}
		s = rows[n - 1].t + 1;
		free(rows);
	}
}

/* contracts.md style: one WARNING a day for a symbol without futures. */
static void
warn_no_futures(struct ctx *x, const char *sym, const char *fsym)
{
	if (!due_today(x, "no_futures", sym))
		return;
	bt_event(x->dry ? NULL : x->st, "WARNING", "no_futures", sym, NULL,
	    json_pack("{s:s}", "futures", fsym), "%s: Binance has no futures "
	    "contract %s (-1121); map it in BT_FUTURES_SYMBOL_MAP (e.g. "
	    "PEPEUSDT=1000PEPEUSDT) or accept no futures figures for it",
	    sym, fsym);
}

/*
 * The 24 h ticker of cnt symbols in one request.  One unknown symbol
 * fails the whole request (-1121): then each is asked for alone, and an
 * unknown one is left out (the candle fetch warns about it).
 */
static enum fail
ticker_batch(struct ctx *x, char **syms, int cnt, struct sres *res,
    char *err)
{
	struct bt_http_resp r;
	struct bt_ticker_row *rows = NULL;
	struct bt_buf q = { 0 }, list = { 0 };
	char why[BT_ERRLEN], *esc;
	size_t n, i;
	int64_t c;
	int j, k, rc = 0;
	enum fail f, worst = F_NONE;

	bt_buf_add(&list, "[", 1);
	for (j = 0; j < cnt; j++)
		bt_buf_printf(&list, "%s\"%s\"", j ? "," : "", syms[j]);
	bt_buf_add(&list, "]", 1);
	esc = bt_http_escape(x->http, list.p);
	bt_buf_printf(&q, "symbols=%s", esc);
	free(esc);
	bt_buf_free(&list);
	f = request(x, "/api/v3/ticker/24hr", q.p, cnt <= 20 ? 2 : 40, &r,
	    &res->requests, &res->retries, why);
	bt_buf_free(&q);
	if (f == F_API && strstr(why, "-1121") != NULL) {
		bt_http_resp_free(&r);
		if (cnt == 1) {
			if (x->verbose)
				bt_warnx("ticker: %s is not a Binance spot "
				    "symbol", syms[0]);
			return F_NONE;
		}
		for (j = 0; j < cnt; j++) {
			f = ticker_batch(x, &syms[j], 1, res, err);
			worse_fail(&worst, f);
			if (f == F_BAN || f == F_STORE)
				break;
		}
		return worst;
	}
	if (f != F_NONE) {
		snprintf(err, BT_ERRLEN, "/api/v3/ticker/24hr: %s", why);
		bt_http_resp_free(&r);
		return f;
	}
	rc = bt_parse_ticker(r.body, r.len, &rows, &n, why);
	bt_http_resp_free(&r);
	if (rc == -1) {
		snprintf(err, BT_ERRLEN, "/api/v3/ticker/24hr: %s", why);
		return F_DATA;
	}
	x->received += (int64_t)n;
	if (x->dry || n == 0) {
		free(rows);
		return F_NONE;
	}
	if ((rc = bt_begin(x->db, why)) != 0) {
		snprintf(err, BT_ERRLEN, "%s", why);
		free(rows);
		return rc == BT_EX_TEMPFAIL ? F_BAN : F_STORE;
	}
	for (i = 0; i < n && rc == 0; i++) {
		for (j = 0; j < cnt; j++)
			if (strcmp(rows[i].symbol, syms[j]) == 0)
				break;
		if (j == cnt)
			continue;	/* not asked for */
		for (k = 0; k < BT_TICKER_NF && rc == 0; k++) {
			rc = bt_sent_store(x->db, rows[i].symbol,
			    bt_ticker_metrics[k], &rows[i].t, &rows[i].v[k], 1,
			    0, &c, why);
			res->rows += c;
			x->rows += c;
		}
	}
	free(rows);
	if (rc != 0 || (rc = bt_commit(x->db, why)) != 0) {
		if (!sqlite3_get_autocommit(x->db))
			bt_rollback(x->db);
		snprintf(err, BT_ERRLEN, "%s", why);
		return F_STORE;
	}
	return F_NONE;
}

/* The 24 h ticker of every symbol: one request per 100 symbols. */
static enum fail
sent_ticker(struct ctx *x, char **syms, int nsyms, struct sres *res,
    char *err)
{
	enum fail f, worst = F_NONE;
	int from;

	for (from = 0; from < nsyms; from += 100) {
		f = ticker_batch(x, syms + from, nsyms - from < 100 ?
		    nsyms - from : 100, res, err);
		worse_fail(&worst, f);
		if (f == F_BAN || f == F_STORE)
			break;
	}
	return worst;
}

static void
sent_line(struct ctx *x, const char *event, const char *sym, const char *fsym,
    struct sres *res)
{
	json_t *rec;

	if (x->quiet && res->fail == F_NONE)
		return;
	rec = bt_rec(event);
	if (sym != NULL) {
		json_object_set_new(rec, "symbol", json_string(sym));
		json_object_set_new(rec, "futures", res->nofutures ? json_null() :
		    json_string(fsym));
	}
	json_object_set_new(rec, "status", json_string(res->fail == F_NONE ?
	    "ok" : "failed"));
	json_object_set_new(rec, "rows", json_integer(res->rows));
	json_object_set_new(rec, "requests", json_integer(res->requests));
	json_object_set_new(rec, "retries", json_integer(res->retries));
	if (sym != NULL)
		json_object_set_new(rec, "gaps", json_integer(res->gaps));
	if (res->fail != F_NONE)
		json_object_set_new(rec, "error", json_string(res->err));
	bt_emit(rec);
}

/* --source sentiment. */
static int
run_sentiment(struct ctx *x)
{
	char **syms, fsym[24], err[BT_ERRLEN];
	struct bt_http *fut = NULL, *spot = NULL;
	struct sres res, tres;
	int nsyms, i, rc = 0, failed = 0, breaker = 0;
	size_t k;
	enum fail f, worst = F_NONE;
	bool tripped = false;
	json_t *rec;

	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	if ((fut = bt_http_new(bt_conf("BT_BINANCE_FUTURES_URL"), err)) ==
	    NULL || (spot = bt_http_new(bt_conf("BT_BINANCE_URL"), err)) ==
	    NULL) {
		bt_warnx("%s: %s", fut == NULL ? "BT_BINANCE_FUTURES_URL" :
		    "BT_BINANCE_URL", err);
		bt_http_free(fut);
		bt_list_free(syms, nsyms);
		return BT_EX_CONFIG;
	}
	x->ndelays = bt_conf_delays("BT_SOURCE_RETRY_DELAYS", &x->delays);
	/* USD-M futures allow 2400 weight a minute, spot 6000. */
	x->weight_cap = (long)(fmin(bt_conf_double("BT_WEIGHT_LIMIT"), 2400) *
	    bt_conf_double("BT_WEIGHT_SHARE"));
	x->http = fut;
	for (i = 0; i < nsyms && !x->banned; i++) {
		memset(&res, 0, sizeof(res));
		futures_symbol(syms[i], fsym, sizeof(fsym), err);
		for (k = 0; k < NFSRC && !res.nofutures; k++) {
			f = sent_source(x, syms[i], fsym, &fsrcs[k], &res, err);
			if (f == F_NONE)
				continue;
			if (res.fail == F_NONE)
				snprintf(res.err, sizeof(res.err), "%s", err);
			worse_fail(&res.fail, f);
			/* An outage or a ban: the other sources wait too. */
			if (f == F_TRANSPORT || f == F_BAN || f == F_STORE)
				break;
		}
		if (res.nofutures)
			warn_no_futures(x, syms[i], fsym);
		sent_line(x, "sentiment", syms[i], fsym, &res);
		if (res.fail != F_NONE) {
			failed++;
			bt_event(x->dry ? NULL : x->st, "WARNING",
			    "sentiment_failed", syms[i], NULL, NULL, "%s: %s",
			    syms[i], res.err);
		}
		worse_fail(&worst, res.fail);
		if (res.fail == F_STORE)
			break;
		breaker = res.fail == F_TRANSPORT ? breaker + 1 : 0;
		if (breaker >= bt_conf_long("BT_CIRCUIT_BREAKER") &&
		    i + 1 < nsyms) {
			bt_event(x->dry ? NULL : x->st, "CRITICAL",
			    "circuit_breaker", NULL, NULL, NULL, "%d symbols "
			    "in a row failed on transport errors (last: %s); "
			    "skipping the rest of this run", breaker, res.err);
			tripped = true;
			break;
		}
	}
	if (!x->banned && !tripped && worst != F_STORE) {
		memset(&tres, 0, sizeof(tres));
		x->http = spot;
		x->weight_used = -1;
		x->weight_cap = (long)(bt_conf_long("BT_WEIGHT_LIMIT") *
		    bt_conf_double("BT_WEIGHT_SHARE"));
		tres.fail = sent_ticker(x, syms, nsyms, &tres, tres.err);
		sent_line(x, "ticker", NULL, NULL, &tres);
		if (tres.fail != F_NONE) {
			failed++;
			bt_event(x->dry ? NULL : x->st, "WARNING",
			    "sentiment_failed", NULL, NULL, NULL, "ticker: %s",
			    tres.err);
		}
		worse_fail(&worst, tres.fail);
	}
	if (x->banned)
		record_ban(x, x->ban_secs);
	rc = fail_exit(worst);
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("sentiment"));
	json_object_set_new(rec, "symbols", json_integer(nsyms));
	json_object_set_new(rec, "failed", json_integer(failed));
	json_object_set_new(rec, "rows", json_integer(x->rows));
	json_object_set_new(rec, "received", json_integer(x->received));
	json_object_set_new(rec, "requests", json_integer(x->requests));
	json_object_set_new(rec, "retries", json_integer(x->retries));
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	x->http = NULL;
	bt_http_free(fut);
	bt_http_free(spot);
	bt_list_free(syms, nsyms);
	return rc;
}

/* --- macro ------------------------------------------------------------ */

/*
 * FRED's series/observations, file_type=json, for BT_FRED_SERIES, into
 * macro_data keyed (series, date).  Each run asks for the last
 * BT_MACRO_DAYS of every series, so a revised value replaces the old one
 * and a late release fills its day; "." is stored as NULL.  The key
 * (FRED_API_KEY_FILE) goes into the query only: never argv, never output
 * (bt_redact removes it and any api_key= value from every line).
 */
static enum fail
macro_series(struct ctx *x, const char *series, const char *key,
    json_t *rec, char *err)
{
	struct bt_http_resp r;
	struct bt_fred_obs *all = NULL, *o;
	struct bt_buf q = { 0 };
	char why[BT_ERRLEN], start[32], *msg;
	size_t n, total = 0, i, missing = 0;
	int64_t count, added = 0, revised = 0;
	long requests = 0, retries = 0;
	enum fail f = F_NONE;
	int rc;

	bt_fmt_time(bt_now_ms() - bt_conf_long("BT_MACRO_DAYS") * DAY_MS,
	    start);
	start[10] = '\0';
	for (;;) {
		bt_buf_free(&q);
		bt_buf_printf(&q, "series_id=%s&api_key=%s&file_type=json&"
		    "observation_start=%s&sort_order=asc&offset=%zu", series,
		    key, start, total);
		f = request(x, "/fred/series/observations", q.p, 0, &r,
		    &requests, &retries, why);
		explicit_bzero(q.p, q.len);
		if (f == F_API && (msg = bt_fred_error(r.body, r.len)) != NULL) {
			snprintf(why, sizeof(why), "HTTP %ld: %s", r.status, msg);
			free(msg);
		}
		if (f != F_NONE) {
			snprintf(err, BT_ERRLEN, "%s: %s", series, why);
			bt_http_resp_free(&r);
			break;
		}
		rc = bt_parse_fred(r.body, r.len, &o, &n, &count, why);
		bt_http_resp_free(&r);
		if (rc == -1) {
			snprintf(err, BT_ERRLEN, "%s: %s", series, why);
			f = F_DATA;
			break;
		}
		if (n > 0 && total > 0 && o[0].date <= all[total - 1].date) {
			snprintf(err, BT_ERRLEN, "%s: the page at offset %zu "
			    "does not follow the one before", series, total);
			free(o);
			f = F_DATA;
			break;
		}
		if ((all = realloc(all, (total + n + 1) * sizeof(*all))) ==
		    NULL)
			abort();
		if (n > 0)
			memcpy(all + total, o, n * sizeof(*o));
		total += n;
		free(o);
		if (n == 0 || count < 0 || (int64_t)total >= count)
			break;
	}
	bt_buf_free(&q);
	for (i = 0; i < total; i++)
		missing += isnan(all[i].v);
	if (f == F_NONE && total > 0 && !x->dry) {
		if ((rc = bt_begin(x->db, why)) != 0 ||
		    (rc = bt_macro_store(x->db, series, all, total, &added,
		    &revised, why)) != 0 || (rc = bt_commit(x->db, why)) != 0) {
			if (!sqlite3_get_autocommit(x->db))
				bt_rollback(x->db);
			snprintf(err, BT_ERRLEN, "%s: %s", series, why);
			f = rc == BT_EX_TEMPFAIL ? F_BAN : F_STORE;
		}
	}
	x->rows += added + revised;
	x->received += (int64_t)total;
	json_object_set_new(rec, "series", json_string(series));
	json_object_set_new(rec, "status", json_string(f == F_NONE ? "ok" :
	    "failed"));
	json_object_set_new(rec, "observations", json_integer(
	    (json_int_t)total));
	json_object_set_new(rec, "missing", json_integer((json_int_t)missing));
	json_object_set_new(rec, "new", json_integer(added));
	json_object_set_new(rec, "revised", json_integer(revised));
	if (total > 0) {
		bt_fmt_time(all[0].date, start);
		start[10] = '\0';
		json_object_set_new(rec, "first", json_string(start));
		bt_fmt_time(all[total - 1].date, start);
		start[10] = '\0';
		json_object_set_new(rec, "last", json_string(start));
	} else {
		json_object_set_new(rec, "first", json_null());
		json_object_set_new(rec, "last", json_null());
	}
	json_object_set_new(rec, "requests", json_integer(requests));
	json_object_set_new(rec, "retries", json_integer(retries));
	if (f != F_NONE)
		json_object_set_new(rec, "error", json_string(err));
	free(all);
	return f;
}

/* --source macro. */
static int
run_macro(struct ctx *x)
{
	char **series, err[BT_ERRLEN], *key, *esc;
	int n, i, rc = 0, failed = 0;
	enum fail f;
	json_t *rec;

	if ((key = bt_secret("FRED_API_KEY", err)) == NULL) {
		bt_warnx("%s", err);
		return BT_EX_CONFIG;
	}
	if ((x->http = bt_http_new(bt_conf("BT_FRED_URL"), err)) == NULL) {
		bt_warnx("BT_FRED_URL: %s", err);
		explicit_bzero(key, strlen(key));
		free(key);
		return BT_EX_CONFIG;
	}
	esc = bt_http_escape(x->http, key);
	bt_redact_add(esc);
	x->ndelays = bt_conf_delays("BT_SOURCE_RETRY_DELAYS", &x->delays);
	x->weight_used = -1;		/* FRED: no Binance weight */
	n = bt_conf_list("BT_FRED_SERIES", &series);
	for (i = 0; i < n; i++) {
		rec = bt_rec("series");
		f = macro_series(x, series[i], esc, rec, err);
		if (!x->quiet || f != F_NONE)
			bt_emit(rec);
		else
			json_decref(rec);
		if (f == F_NONE)
			continue;
		failed++;
		bt_event(x->dry ? NULL : x->st, "WARNING", "macro_failed", NULL,
		    NULL, json_pack("{s:s}", "series", series[i]), "FRED %s",
		    err);
		/*
		 * FRED refuses a request for a bad key or an unknown series
		 * (HTTP 400): that is the configuration's fault.
		 */
		rc = bt_exit_worse(rc, f == F_API ? BT_EX_CONFIG :
		    fail_exit(f));
		if (f == F_STORE || f == F_BAN)
			break;
	}
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("macro"));
	json_object_set_new(rec, "series", json_integer(n));
	json_object_set_new(rec, "failed", json_integer(failed));
	json_object_set_new(rec, "rows", json_integer(x->rows));
	json_object_set_new(rec, "received", json_integer(x->received));
	json_object_set_new(rec, "requests", json_integer(x->requests));
	json_object_set_new(rec, "retries", json_integer(x->retries));
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	bt_list_free(series, n);
	explicit_bzero(esc, strlen(esc));
	explicit_bzero(key, strlen(key));
	free(esc);
	free(key);
	return rc;
}

/* ---------------------------------------------------------------- main */

enum { OPT_SOURCE = 256, OPT_IF_DUE, OPT_INDICATORS, OPT_REBUILD };

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
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
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct ctx x;
	char err[BT_ERRLEN], owner[256], *path = NULL, *spath = NULL;
	char *ban = NULL, ts[32], *gaps_buf = NULL;
	size_t gaps_len = 0;
	FILE *gaps_in = NULL;
	const char *since_opt = NULL, *osym = NULL, *otf = NULL;
	const char *source = NULL, *job;
	bool if_due = false, rebuild = false, due;
	int64_t slot;
	int ch, rc, repair = 0, i;
	int64_t since, run = -1;
	double t0 = bt_mono();
	json_t *sum;

	memset(&x, 0, sizeof(x));
	x.weight_used = -1;
	/* contracts.md: bt-fetch is the program that needs the FRED key. */
	bt_conf_want("FRED_API_KEY");
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-fetch", err)) != 0 ||
	    (rc = bt_conf_load(err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	while ((ch = getopt_long(argc, argv, "d:hnqv", longopts, NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case 'd':
			rc = bt_conf_set("BT_DB", optarg, err);
			break;
		case 'n':
			x.dry = true;
			break;
		case 'q':
			x.quiet = true;
			break;
		case 'v':
			x.verbose = true;
			break;
		case 'S':
			since_opt = optarg;
			break;
		case 'Y':
			rc = bt_conf_set("BT_SYMBOLS", optarg, err);
			break;
		case 'T':
			rc = bt_conf_set("BT_TIMEFRAMES", optarg, err);
			break;
		case 'R':
			x.mode = M_REPAIR;
			repair = atoi(optarg);
			if (repair < 1 || repair > 3650 ||
			    strspn(optarg, "0123456789") != strlen(optarg)) {
				bt_warnx("--repair: '%s' is not a number of "
				    "days (1..3650)", optarg);
				return BT_EX_USAGE;
			}
			break;
		case 'G':
			x.mode = M_GAPS;
			break;
		case 'I':
			x.mode = M_IMPORT;
			break;
		case 's':
			if (!bt_symbol_ok(optarg)) {
				bt_warnx("--symbol: '%s' is not a Binance "
				    "symbol", optarg);
				return BT_EX_USAGE;
			}
			osym = optarg;
			break;
		case 'i':
			if (bt_tf_ms(optarg) == 0) {
				bt_warnx("--interval: '%s' is not a Binance "
				    "interval", optarg);
				return BT_EX_USAGE;
			}
			otf = optarg;
			break;
		case 'M':
			x.mode = M_MIGRATE;
			break;
		case OPT_SOURCE:
			if (strcmp(optarg, "sentiment") != 0 &&
			    strcmp(optarg, "macro") != 0) {
				bt_warnx("--source: '%s' is not sentiment or "
				    "macro", optarg);
				return BT_EX_USAGE;
			}
			x.mode = M_SOURCE;
			source = optarg;
			break;
		case OPT_IF_DUE:
			if_due = true;
			break;
		case OPT_INDICATORS:
			x.mode = M_INDICATORS;
			break;
		case OPT_REBUILD:
			rebuild = true;
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
	argc -= optind;
	argv += optind;
	if ((x.mode == M_IMPORT) != (argc > 0) ||
	    (if_due && x.mode != M_SOURCE) ||
	    (rebuild && x.mode != M_INDICATORS))
		usage(stderr, BT_EX_USAGE);
	/* The configuration this run will use, checked before any work. */
	if ((rc = ind_config(&x, x.mode == M_INDICATORS, err)) != 0 ||
	    (x.mode == M_SOURCE && (rc = source_config(source, err)) != 0)) {
		bt_warnx("%s", err);
		return rc;
	}
	since = bt_now_ms() - bt_conf_long("BT_SINCE_DAYS") * 86400000LL;
	if (since_opt != NULL && bt_parse_time(since_opt, &since) == -1) {
		bt_warnx("--since: '%s' is not an ISO 8601 UTC date", since_opt);
		return BT_EX_USAGE;
	}
	x.progress = isatty(STDERR_FILENO) && !x.quiet;
	srandom((unsigned)(getpid() ^ (unsigned)bt_now_ms()));

	/*
	 * --gaps reads its records to the end first: in `bt-backup --restore
	 * | bt-fetch --gaps' the restore holds db/LOCKED until it exits.
	 */
	if (x.mode == M_GAPS) {
		if ((gaps_buf = bt_read_file("-", (size_t)1 << 28, &gaps_len,
		    err)) == NULL) {
			bt_warnx("%s", err);
			return bt_finish(BT_EX_NOINPUT);
		}
		if (gaps_len == 0) {
			gaps_buf[0] = '\n';	/* fmemopen needs a byte */
			gaps_len = 1;
		}
		if ((gaps_in = fmemopen(gaps_buf, gaps_len, "r")) == NULL)
			abort();
	}
	/* A restore or rollback owns the store (contracts.md, db/LOCKED). */
	if (bt_store_locked(owner, sizeof(owner))) {
		sum = bt_rec("locked");
		json_object_set_new(sum, "severity", json_string("WARNING"));
		json_object_set_new(sum, "message", json_string("db/LOCKED is "
		    "present: a restore or rollback is running; not writing"));
		json_object_set_new(sum, "owner", json_string(owner));
		bt_emit(sum);
		rc = BT_EX_TEMPFAIL;
		goto out;
	}
	path = bt_store_path();
	spath = bt_state_path();
	if ((rc = bt_open_state(spath, BT_DB_CREATE, &x.st, err)) != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	rc = bt_open_store(path, BT_DB_CREATE | (x.mode == M_MIGRATE ?
	    BT_DB_PLAIN_OK : 0), &x.db, err);
	if (rc != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (x.mode == M_MIGRATE) {
		sum = bt_rec("migrate");
		if (!bt_store_is_plain(x.db))
			json_object_set_new(sum, "status",
			    json_string("nothing to migrate"));
		else if ((rc = bt_store_migrate_plain(x.db, sum, err)) != 0) {
			bt_warnx("--migrate: %s", err);
			json_decref(sum);
			goto out;
		} else
			json_object_set_new(sum, "status",
			    json_string("migrated"));
		bt_emit(sum);
		goto out;
	}
	job = x.mode == M_IMPORT ? "import" : x.mode == M_GAPS ? "gaps" :
	    x.mode == M_REPAIR ? "repair" : x.mode == M_SOURCE ? source :
	    x.mode == M_INDICATORS ? "indicators" : "";
	/* contracts.md, Due: the 02:00 job runs hourly with --if-due. */
	if (if_due) {
		if ((rc = bt_due(x.st, "bt-fetch", job, 0, bt_conf(strcmp(source,
		    "macro") == 0 ? "BT_MACRO_SLOT" : "BT_SENTIMENT_SLOT"),
		    &due, &slot, err)) != 0) {
			bt_warnx("%s", err);
			goto out;
		}
		if (!due) {
			bt_not_due(job, slot);
			goto out;
		}
	}
	if (x.ind && !x.dry && (rc = ind_prepare(&x, rebuild)) != 0)
		goto out;
	if (!x.dry && (run = bt_run_begin(x.st, job, err)) < 0) {
		rc = (int)-run;
		bt_warnx("%s", err);
		goto out;
	}
	if (x.mode == M_IMPORT) {
		for (i = 0; i < argc; i++)
			rc = bt_exit_worse(rc, import_file(&x, argv[i], osym,
			    otf));
		rc = bt_exit_worse(rc, ind_sweep(&x));
		sum = bt_rec("summary");
		json_object_set_new(sum, "mode", json_string("import"));
		json_object_set_new(sum, "files", json_integer(argc));
		json_object_set_new(sum, "rows", json_integer(x.rows));
		json_object_set_new(sum, "received", json_integer(x.received));
		ind_fields(&x, sum);
		json_object_set_new(sum, "exit", json_integer(rc));
		bt_emit(sum);
		goto done;
	}
	if (x.mode == M_INDICATORS) {
		rc = run_indicators(&x);
		goto done;
	}
	if (x.mode == M_SOURCE && strcmp(source, "macro") == 0) {
		rc = run_macro(&x);
		goto done;
	}
	/* contracts.md: until a 418 ban ends, no request at all. */
	if (bt_kv_get(x.st, "binance_ban_until", &ban, err) == 0 &&
	    ban != NULL && strtoll(ban, NULL, 10) > bt_now_ms()) {
		sum = bt_rec("banned");
		json_object_set_new(sum, "severity", json_string("WARNING"));
		json_object_set_new(sum, "message", json_string("Binance ban in "
		    "force; not contacting Binance"));
		json_object_set_new(sum, "until", json_string(bt_fmt_time(
		    strtoll(ban, NULL, 10), ts)));
		bt_emit(sum);
		rc = BT_EX_TEMPFAIL;
		goto done;
	}
	if (x.mode == M_SOURCE) {
		rc = run_sentiment(&x);
		goto done;
	}
	if ((x.http = bt_http_new(bt_conf("BT_BINANCE_URL"), err)) == NULL) {
		bt_warnx("BT_BINANCE_URL: %s", err);
		rc = BT_EX_CONFIG;
		goto done;
	}
	x.ndelays = bt_conf_delays("BT_RETRY_DELAYS", &x.delays);
	x.weight_cap = (long)(bt_conf_long("BT_WEIGHT_LIMIT") *
	    bt_conf_double("BT_WEIGHT_SHARE"));
	if (x.mode == M_GAPS)
		rc = run_gaps(&x, gaps_in);
	else
		rc = run_pairs(&x, since, repair);
done:
	if (!x.dry && run > 0) {
		sum = json_pack("{s:I, s:I, s:I, s:I}", "rows", x.rows,
		    "received", x.received, "requests", (json_int_t)x.requests,
		    "retries", (json_int_t)x.retries);
		if (!bt_now_frozen())
			json_object_set_new(sum, "seconds",
			    json_real(round((bt_mono() - t0) * 1000) / 1000));
		if (bt_run_end(x.st, run, rc, sum, err) != 0)
			bt_warnx("%s", err);
		json_decref(sum);
	}
out:
	if (gaps_in != NULL)
		fclose(gaps_in);
	free(gaps_buf);
	bt_parse_release();
	free(ban);
	free(x.delays);
	bt_list_free(x.indtfs, x.nindtfs);
	json_decref(x.status);
	bt_http_free(x.http);
	bt_close(x.db);
	bt_close(x.st);
	free(path);
	free(spath);
	return bt_finish(rc);
}
