/*
 * bt_binance.c - the Binance client of bt-fetch: requests under the retry
 * policy, pacing, the ban, server time, exchangeInfo, the kline pager.
 *
 * Owns how one request becomes an answer or a failure (contracts.md,
 * Retries): BT_RETRY_DELAYS (or the key the caller names) between tries
 * with up to 10% jitter, a Retry-After overriding the wait within
 * BT_RETRY_AFTER_MIN..MAX, 5xx and transport errors retried, another 4xx
 * given up at once, a 418 ending the run with its Retry-After as the ban,
 * a 429 on every try ending it as rate limited.  Pacing keeps the
 * minute's weight (X-MBX-USED-WEIGHT-1M) under the caller's cap.  The
 * FRED requests of bt-fetch --source macro go through the same policy,
 * with no weight.  A 200 that breaks the protocol (not JSON, a body cut
 * short, an error object, a page longer than asked for) is retried like
 * a 5xx, and is bad data (exit 65) when every try breaks it.  The run's
 * deadline (BT_FETCH_DEADLINE) bounds every request and every wait.
 *
 * Invariants:
 * - The pager follows the last open time returned, never interval
 *   arithmetic (real data has gaps and off-grid candles), and hands on
 *   only closed candles: a row whose close time is not before the earlier
 *   of Binance's server time and our own clock is the candle still open
 *   (a server clock that runs ahead, or speaks microseconds, must not
 *   let a partial candle in).
 * - A page is handed on whole or not at all: a row outside the requested
 *   window or a page that does not parse fails the pair.
 * - No SQLite, no stdout: the pager runs on bt-fetch's fetcher thread;
 *   what it says goes to stderr (bt_warnx) only under `verbose'.  The ban
 *   is reported (banned, ban_secs), never recorded here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_binance.h"
#include "bt_conf.h"
#include "bt_http.h"
#include "bt_parse.h"

/* ------------------------------------------------------------- failures */

int
bt_fail_exit(enum bt_fail f)
{
	switch (f) {
	case BT_F_NONE:
		return 0;
	case BT_F_TRANSPORT:
	case BT_F_API:
		return BT_EX_UNAVAILABLE;
	case BT_F_DATA:
		return BT_EX_DATAERR;
	case BT_F_BAN:
	case BT_F_RATE:		/* still 429 after every try: rate limited */
	case BT_F_DEADLINE:	/* the rest waits for the next run */
	case BT_F_BUSY:		/* the write lock held past the budget */
		return BT_EX_TEMPFAIL;
	case BT_F_STORE:
		return BT_EX_IOERR;
	}
	return BT_EX_SOFTWARE;
}

void
bt_fail_worse(enum bt_fail *w, enum bt_fail f)
{
	if (f != BT_F_NONE && (*w == BT_F_NONE ||
	    bt_exit_worse(bt_fail_exit(f), bt_fail_exit(*w)) ==
	    bt_fail_exit(f)))
		*w = f;
}

/* --------------------------------------------------------------- client */

static int
http_get(void *arg, const char *path, const char *query,
    struct bt_http_resp *r)
{
	return bt_http_get(arg, path, query, r);
}

void
bt_binance_init(struct bt_binance *b, struct bt_http *h, const char *delays,
    long cap, bool verbose)
{
	memset(b, 0, sizeof(*b));
	atomic_init(&b->stop, false);
	atomic_init(&b->late, false);
	b->sleep = bt_sleep;
	b->verbose = verbose;
	b->ndelays = bt_conf_delays(delays, &b->delays);
	bt_binance_use(b, h, cap);
}

void
bt_binance_use(struct bt_binance *b, struct bt_http *h, long cap)
{
	b->get = http_get;
	b->arg = h;
	b->http = h;
	b->weight_used = -1;
	b->weight_cap = cap;
}

void
bt_binance_deadline(struct bt_binance *b, double deadline)
{
	b->deadline = deadline;
	if (b->http != NULL)
		bt_http_deadline(b->http, deadline);
}

void
bt_binance_free(struct bt_binance *b)
{
	free(b->delays);
	b->delays = NULL;
	json_decref(b->status);
	b->status = NULL;
}

/* ------------------------------------------------------------- requests */

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

/*
 * Whether waiting `wait' seconds more would pass the run's deadline: then
 * no more requests, from anyone, with the reason in err.
 */
static bool
late(struct bt_binance *b, double wait, char *err)
{
	if (b->deadline <= 0 || bt_mono() + wait < b->deadline)
		return false;
	snprintf(err, BT_ERRLEN, "stopped at the run's deadline "
	    "(BT_FETCH_DEADLINE %g s)", bt_conf_double("BT_FETCH_DEADLINE"));
	atomic_store(&b->late, true);
	atomic_store(&b->stop, true);
	return true;
}

/*
 * Stays under a share of the minute's request weight (binance.md).
 * False when the wait would pass the deadline (err set).
 */
static bool
pace(struct bt_binance *b, int weight, char *err)
{
	double wait;
	int64_t now;

	if (b->weight_used < 0 || b->weight_used + weight <= b->weight_cap)
		return true;
	now = bt_now_frozen() ? 0 : bt_now_ms();
	wait = 60.0 - (double)(now % 60000) / 1000.0;
	if (wait > bt_conf_double("BT_PACE_WAIT_MAX"))
		wait = bt_conf_double("BT_PACE_WAIT_MAX");
	if (late(b, wait, err))
		return false;
	if (b->verbose)
		bt_warnx("request weight %ld of %ld used; waiting %.1fs",
		    b->weight_used, b->weight_cap, wait);
	b->paced++;
	b->sleep(wait);
	b->weight_used = 0;
	return true;
}

static double
jitter(double d)
{
	/* Up to 10% on each wait, the seed's adaptive_backoff. */
	return d * (1.0 + 0.1 * ((double)random() / RAND_MAX));
}

/* One try: the request, its round trip, the weight it reports. */
static void
try_once(struct bt_binance *b, const char *path, const char *query,
    int weight, struct bt_http_resp *r, long *requests)
{
	double t0;

	b->requests++;
	(*requests)++;
	b->sent_ms = bt_now_ms();
	t0 = bt_mono();
	b->get(b->arg, path, query, r);
	b->rtt = bt_mono() - t0;
	if (r->used_weight >= 0)
		b->weight_used = r->used_weight;
	else if (b->weight_used >= 0)
		b->weight_used += weight;
}

enum bt_fail
bt_binance_fetch(struct bt_binance *b, const char *path, const char *query,
    int weight, bt_binance_body *ok, void *arg, struct bt_http_resp *r,
    long *requests, long *retries, char *err)
{
	double wait, lo, hi;
	int attempt;
	enum bt_fail f = BT_F_TRANSPORT;

	memset(r, 0, sizeof(*r));
	lo = bt_conf_double("BT_RETRY_AFTER_MIN");
	hi = bt_conf_double("BT_RETRY_AFTER_MAX");
	for (attempt = 0; ; attempt++) {
		if (!pace(b, weight, err) || late(b, 0, err))
			return BT_F_DEADLINE;
		try_once(b, path, query, weight, r, requests);
		wait = attempt < b->ndelays ? jitter(b->delays[attempt]) : 0;
		if (r->status == 200) {
			if (ok == NULL || ok(arg, r, err) == 0)
				return BT_F_NONE;
			f = BT_F_DATA;	/* a broken answer: tried again */
		} else if (r->status == 0 && late(b, 0, err)) {
			return BT_F_DEADLINE;	/* cut short by the deadline */
		} else if (r->status == 0) {
			snprintf(err, BT_ERRLEN, "%s", r->err);
			f = BT_F_TRANSPORT;
		} else if (r->status == 418) {
			binance_error(r, err, BT_ERRLEN);
			b->ban_secs = r->retry_after;
			b->banned = true;
			atomic_store(&b->stop, true);	/* no more requests */
			return BT_F_BAN;
		} else if (r->status == 429) {
			binance_error(r, err, BT_ERRLEN);
			if (r->retry_after >= 0)
				wait = fmin(fmax(r->retry_after, lo), hi);
			f = BT_F_RATE;
		} else if (r->status >= 500) {
			binance_error(r, err, BT_ERRLEN);
			f = BT_F_TRANSPORT;
		} else {
			/* 4xx: the request is at fault; retrying won't help. */
			binance_error(r, err, BT_ERRLEN);
			return BT_F_API;
		}
		if (attempt >= b->ndelays)
			break;
		if (b->verbose)
			bt_warnx("%s: %s; try %d of %d in %.1fs", path, err,
			    attempt + 2, b->ndelays + 1, wait);
		if (late(b, wait, err))
			return BT_F_DEADLINE;
		bt_http_resp_free(r);
		b->retries++;
		(*retries)++;
		b->sleep(wait);
	}
	/*
	 * Still 429 after every try: no more requests.  Said here, in the
	 * fetcher thread, which may be pairs ahead of the main thread that
	 * reads the pair's end (campaign-faults under load).
	 */
	if (f == BT_F_RATE)
		atomic_store(&b->stop, true);
	return f;
}

enum bt_fail
bt_binance_get(struct bt_binance *b, const char *path, const char *query,
    int weight, struct bt_http_resp *r, long *requests, long *retries,
    char *err)
{
	return bt_binance_fetch(b, path, query, weight, NULL, NULL, r,
	    requests, retries, err);
}

void
bt_binance_symbols(struct bt_binance *b, char **syms, int n,
    struct bt_buf *q)
{
	struct bt_buf list = { 0 };
	char *esc;
	int j;

	bt_buf_add(&list, "[", 1);
	for (j = 0; j < n; j++)
		bt_buf_printf(&list, "%s\"%s\"", j ? "," : "", syms[j]);
	bt_buf_add(&list, "]", 1);
	esc = bt_http_escape(b->http, list.p);
	bt_buf_free(&list);
	bt_buf_printf(q, "symbols=%s", esc);
	free(esc);
}

/* 1e14 ms is the year 5138; a larger serverTime is in microseconds. */
#define US_THRESHOLD	100000000000000LL

/* /api/v3/time's answer: {"serverTime":N} into *(int64_t *)arg. */
static int
time_body(void *arg, const struct bt_http_resp *r, char *why)
{
	int64_t *ms = arg;
	json_t *o, *t;
	json_error_t je;
	int rc = -1;

	o = json_loadb(r->body, r->len, 0, &je);
	t = json_object_get(o, "serverTime");
	if (json_is_integer(t) && (*ms = json_integer_value(t)) > 0)
		rc = 0;
	else
		snprintf(why, BT_ERRLEN, "/api/v3/time: no serverTime in the "
		    "answer%s", o == NULL ? " (not JSON)" : "");
	json_decref(o);
	return rc;
}

enum bt_fail
bt_binance_server_time(struct bt_binance *b, char *err)
{
	struct bt_http_resp r;
	long req = 0, ret = 0;
	int64_t ms = 0;
	enum bt_fail f;

	f = bt_binance_fetch(b, "/api/v3/time", NULL, 1, time_body, &ms, &r,
	    &req, &ret, err);
	bt_http_resp_free(&r);
	if (f != BT_F_NONE)
		return f;
	if ((b->time_us = ms > US_THRESHOLD))
		ms /= 1000;
	b->server_ms = ms;
	b->local_ms = b->sent_ms + (bt_now_frozen() ? 0 :
	    (int64_t)llround(b->rtt * 500));
	b->skew = (double)(b->server_ms - b->local_ms) / 1000;
	return BT_F_NONE;
}

/* exchangeInfo of one symbol; -1121 (Invalid symbol) marks it INVALID. */
static void
exchange_info_one(struct bt_binance *b, const char *sym)
{
	struct bt_http_resp r;
	char q[64], err[BT_ERRLEN];
	long req = 0, ret = 0;
	json_t *root, *s;
	json_error_t je;
	size_t i;

	snprintf(q, sizeof(q), "symbol=%s", sym);
	if (bt_binance_get(b, "/api/v3/exchangeInfo", q, 20, &r, &req, &ret,
	    err) == BT_F_API && strstr(err, "-1121") != NULL)
		json_object_set_new(b->status, sym, json_string("INVALID"));
	else if (r.status == 200 &&
	    (root = json_loadb(r.body, r.len, 0, &je)) != NULL) {
		json_array_foreach(json_object_get(root, "symbols"), i, s)
			if (json_is_string(json_object_get(s, "status")))
				json_object_set(b->status, sym,
				    json_object_get(s, "status"));
		json_decref(root);
	}
	bt_http_resp_free(&r);
}

void
bt_binance_exchange_info(struct bt_binance *b, char **syms, int nsyms)
{
	struct bt_http_resp r;
	struct bt_buf q = { 0 };
	char err[BT_ERRLEN];
	long req = 0, ret = 0;
	json_t *root, *list, *s;
	json_error_t je;
	size_t i;
	int j;

	bt_binance_symbols(b, syms, nsyms, &q);
	b->status = json_object();
	if (bt_binance_get(b, "/api/v3/exchangeInfo", q.p, 20, &r, &req, &ret,
	    err) != BT_F_NONE) {
		/* One unknown symbol fails the whole request: ask singly. */
		bt_http_resp_free(&r);
		bt_buf_free(&q);
		if (b->verbose)
			bt_warnx("exchangeInfo: %s; asking symbol by symbol",
			    err);
		for (j = 0; j < nsyms; j++)
			exchange_info_one(b, syms[j]);
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
			json_object_set_new(b->status, sym, json_string(stat));
	}
	json_decref(root);
	bt_http_resp_free(&r);
}

const char *
bt_binance_status(const struct bt_binance *b, const char *sym)
{
	const char *s;

	if (b->status == NULL ||
	    (s = json_string_value(json_object_get(b->status, sym))) == NULL)
		return "TRADING";	/* unknown: assume so, count it */
	return s;
}

/* ---------------------------------------------------------------- pager */

#define KLINES_LIMIT	1000	/* rows a request asks for */

/* A 200 of /api/v3/klines as the pager's check leaves it. */
struct kpage {
	int64_t		 iv;
	struct bt_candle *c;
	size_t		 n;
	bool		 bad;		/* bad data (not retried): why */
	char		 why[BT_ERRLEN];
};

/*
 * A page parsed into p; a protocol break (not JSON, an error object,
 * more rows than asked for) is retried, bad rows are not.
 */
static int
kline_body(void *arg, const struct bt_http_resp *r, char *why)
{
	struct kpage *p = arg;
	int rc;

	p->bad = false;
	rc = bt_parse_klines(r->body, r->len, p->iv, &p->c, &p->n, why);
	if (rc == BT_PARSE_MALFORMED)
		return -1;
	if (rc != 0) {
		p->bad = true;
		snprintf(p->why, sizeof(p->why), "%s", why);
	} else if (p->n > KLINES_LIMIT) {
		snprintf(why, BT_ERRLEN, "%zu rows for limit=%d: more than "
		    "asked for", p->n, KLINES_LIMIT);
		free(p->c);
		p->c = NULL;
		p->n = 0;
		return -1;
	}
	return 0;
}

/* One page of k from s: BT_F_NONE with the candles in p, or k->fail. */
static enum bt_fail
klines_page(struct bt_binance *b, struct bt_klines *k, int64_t s,
    struct kpage *p)
{
	struct bt_http_resp r;
	char query[256], why[BT_ERRLEN], ts[32];
	enum bt_fail f;

	if (k->to > 0)
		snprintf(query, sizeof(query), "symbol=%s&interval=%s&"
		    "startTime=%lld&endTime=%lld&limit=%d", k->symbol, k->tf,
		    (long long)s, (long long)k->to, KLINES_LIMIT);
	else
		snprintf(query, sizeof(query), "symbol=%s&interval=%s&"
		    "startTime=%lld&limit=%d", k->symbol, k->tf, (long long)s,
		    KLINES_LIMIT);
	memset(p, 0, sizeof(*p));
	p->iv = k->iv;
	f = bt_binance_fetch(b, "/api/v3/klines", query, 2, kline_body, p, &r,
	    &k->requests, &k->retries, why);
	bt_http_resp_free(&r);
	if (f == BT_F_NONE && p->bad) {
		f = BT_F_DATA;
		snprintf(why, sizeof(why), "%s", p->why);
	}
	if (f == BT_F_DATA)
		snprintf(k->err, sizeof(k->err), "page from %s: %s",
		    bt_fmt_time(s, ts), why);
	else if (f != BT_F_NONE)
		snprintf(k->err, sizeof(k->err), "%s", why);
	k->fail = f;
	return f;
}

void
bt_binance_klines(struct bt_binance *b, struct bt_klines *k,
    bt_klines_page *page, void *arg)
{
	struct kpage p;
	struct bt_candle *c;
	char ts[32];
	size_t n, keep, i;
	int64_t s = k->from, cut, now;

	for (;;) {
		if (atomic_load(&b->stop) || atomic_load(&k->abort))
			return;
		if (klines_page(b, k, s, &p) != BT_F_NONE)
			return;
		c = p.c;
		n = p.n;
		for (i = 0; i < n; i++)
			if (c[i].t < s || (k->to > 0 && c[i].t > k->to)) {
				k->fail = BT_F_DATA;
				snprintf(k->err, sizeof(k->err), "page from "
				    "%s: row %zu: open time %lld is outside "
				    "the requested window", bt_fmt_time(s, ts),
				    i + 1, (long long)c[i].t);
				free(c);
				return;
			}
		/*
		 * The open candle: Binance has no "closed" flag on REST.  A
		 * server clock ahead of ours (or in microseconds) must not
		 * let it in, so the cut is the earlier of the two clocks.
		 */
		cut = b->server_ms;
		if ((now = bt_now_ms()) < cut)
			cut = now;
		for (keep = n; keep > 0 && c[keep - 1].ct >= cut; keep--)
			;
		k->received += (int64_t)keep;
		if (n == 0 || keep < n || n < KLINES_LIMIT ||
		    (k->to > 0 && c[n - 1].t >= k->to)) {
			page(arg, k, c, keep, 0);
			return;
		}
		s = c[n - 1].t + 1;
		page(arg, k, c, keep, s);
	}
}
