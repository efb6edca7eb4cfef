/*
 * pager-test.c - bt_binance.c's kline pager and retry policy, driven
 * directly against canned answers.
 *
 * usage: pager-test [-q] [-o offset]
 *
 * The client's requests go to fake_get() instead of bt_http_get(): a
 * canned series of 1h candles (with a hole and an off-grid candle, as
 * real data has) served as Binance serves klines (startTime, endTime,
 * limit), preceded by a script of faults (a status, a Retry-After, a
 * weight header, a bad row) for the first requests.  Waits go to
 * fake_sleep(), which records them: nothing here sleeps.  Checks:
 * paging from a start time through full pages and a short last page, each
 * next start just after the last open time returned (not 1000 intervals
 * on), the candle still open by the server time dropped, a 429 with
 * Retry-After waited out and retried, a 429 on every try, a 418, 5xx
 * retries, an empty last page, a gap range's end, a row outside the
 * window, pacing by the weight header, the server time (in ms or in
 * microseconds, and its skew); answers that break the protocol (a body
 * cut short, Binance's error object, more rows than asked for) tried
 * again, and bad data when every try breaks them; the open candle cut at
 * the earlier of the server's clock and ours; the run's deadline before a
 * request, a retry's wait and a pacing wait.  Prints TAP
 * ("ok N - ..."), numbered from offset+1, and the plan last.  Exits 0
 * when every check passed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_binance.h"
#include "bt_conf.h"
#include "tap.h"

#define IV	3600000LL		/* 1h */
#define T0	1730419200000LL		/* 2024-11-01T00:00:00Z */
#define MAXQ	64
#define MAXSERIES 4000

/* ------------------------------------------------------- canned answers */

/* One scripted answer, for the request of its index. */
struct fault {
	long	 status;	/* 0: serve the series */
	double	 retry_after;	/* -1: none */
	long	 weight;	/* X-MBX-USED-WEIGHT-1M, -1: none */
	bool	 stray;		/* serve, plus a row before startTime */
};
#define NOFAULT	{ 0, -1, -1, false }

static struct fake {
	int64_t	 t[MAXSERIES];	/* open times, ascending */
	size_t	 n;
	int64_t	 server_ms;	/* rows opening after it are not served */
	bool	 time_us;	/* /api/v3/time in microseconds */
	/* By request, too: a 200 with this body; rows past the limit. */
	const char *body[MAXQ];
	int	 extra[MAXQ];
	struct fault faults[MAXQ];
	int	 nfaults;
	char	*q[MAXQ];	/* the queries seen */
	int	 nq;
	double	 waits[MAXQ];	/* what fake_sleep() was asked */
	int	 nwaits;
} F;

static void
reset(void)
{
	int i;

	for (i = 0; i < F.nq; i++)
		free(F.q[i]);
	memset(&F, 0, sizeof(F));
}

/* The series: n candles an hour apart from T0, but for the changes. */
static void
series(size_t n, size_t hole_at, int hole, size_t offgrid_at)
{
	size_t i;
	int64_t t = T0;

	for (i = 0; i < n; i++) {
		if (hole_at > 0 && i == hole_at)
			t += hole * IV;		/* a halt: hours missing */
		F.t[i] = t;
		if (offgrid_at > 0 && i == offgrid_at)
			F.t[i] += 60000;	/* opens a minute late */
		t += IV;
	}
	F.n = n;
	F.server_ms = F.t[n - 1] + IV;	/* every candle closed */
}

static int64_t
qnum(const char *q, const char *key, int64_t dflt)
{
	const char *p = strstr(q, key);

	return p == NULL ? dflt : strtoll(p + strlen(key), NULL, 10);
}

static void
kline(struct bt_buf *b, int64_t t, bool first)
{
	/* Close time within the interval; an open candle's is after now. */
	bt_buf_printf(b, "%s[%lld,\"100.0\",\"101.5\",\"99.5\",\"100.5\","
	    "\"12.25\",%lld,\"1231.0\",42,\"6.0\",\"603.0\",\"0\"]",
	    first ? "" : ",", (long long)t, (long long)(t + IV - 1));
}

static int
fake_get(void *arg, const char *path, const char *query,
    struct bt_http_resp *r)
{
	struct fault f = NOFAULT;
	struct bt_buf b = { 0 };
	const char *body = NULL;
	int64_t start, end, limit;
	size_t i, k = 0;
	int extra = 0;

	(void)arg;
	memset(r, 0, sizeof(*r));
	r->used_weight = -1;
	r->retry_after = -1;
	if (F.nq < F.nfaults)
		f = F.faults[F.nq];
	if (F.nq < MAXQ) {
		body = F.body[F.nq];
		extra = F.extra[F.nq];
	}
	if (F.nq < MAXQ)
		F.q[F.nq++] = strdup(query != NULL ? query : "");
	r->used_weight = f.weight;
	if (body != NULL) {
		r->status = 200;
		bt_buf_printf(&b, "%s", body);
	} else if (f.status != 0) {
		r->status = f.status;
		r->retry_after = f.retry_after;
		bt_buf_printf(&b, "{\"code\":-1003,\"msg\":\"canned %ld\"}",
		    f.status);
	} else if (strcmp(path, "/api/v3/time") == 0) {
		r->status = 200;
		bt_buf_printf(&b, "{\"serverTime\":%lld}",
		    (long long)F.server_ms * (F.time_us ? 1000 : 1));
	} else {
		r->status = 200;
		start = qnum(query, "startTime=", 0);
		end = qnum(query, "endTime=", INT64_MAX);
		limit = qnum(query, "limit=", 500);
		bt_buf_add(&b, "[", 1);
		if (f.stray)
			kline(&b, start - IV, k++ == 0);
		for (i = 0; i < F.n && (int64_t)k < limit + extra; i++)
			if (F.t[i] >= start && F.t[i] <= end &&
			    F.t[i] <= F.server_ms)
				kline(&b, F.t[i], k++ == 0);
		bt_buf_add(&b, "]", 1);
	}
	r->body = b.p;
	r->len = b.len;
	return 0;
}

static void
fake_sleep(double seconds)
{
	if (F.nwaits < MAXQ)
		F.waits[F.nwaits++] = seconds;
}

/* ------------------------------------------------------------ the pager */

/* What the page callback was handed. */
struct pages {
	size_t	 n[MAXQ];
	int64_t	 first[MAXQ], last[MAXQ], next[MAXQ];
	int	 npages;
	size_t	 total;
};

static void
page(void *arg, struct bt_klines *k, struct bt_candle *c, size_t n,
    int64_t next)
{
	struct pages *p = arg;

	(void)k;
	if (p->npages < MAXQ) {
		p->n[p->npages] = n;
		p->first[p->npages] = n > 0 ? c[0].t : -1;
		p->last[p->npages] = n > 0 ? c[n - 1].t : -1;
		p->next[p->npages] = next;
		p->npages++;
	}
	p->total += n;
	free(c);
}

/* The client under test, the pair it pages, what it handed on. */
static struct bt_binance B;
static struct bt_klines K;
static struct pages P;

/*
 * A fresh client over a series of n candles an hour apart from T0, all
 * closed, with the faults fs[0..nfs-1] for the first requests.
 */
static void
setup(size_t n, const struct fault *fs, int nfs)
{
	bt_binance_free(&B);
	reset();
	series(n, 0, 0, 0);
	if (nfs > 0)
		memcpy(F.faults, fs, (size_t)nfs * sizeof(*fs));
	F.nfaults = nfs;
	bt_binance_init(&B, NULL, "BT_RETRY_DELAYS", 0, false);
	B.get = fake_get;
	B.sleep = fake_sleep;
	B.server_ms = F.server_ms;
}

/* Pages BTCUSDT 1h from `from' (to `to', 0: the open candle). */
static void
run(int64_t from, int64_t to)
{
	memset(&K, 0, sizeof(K));
	memset(&P, 0, sizeof(P));
	K.symbol = "BTCUSDT";
	K.tf = "1h";
	K.iv = IV;
	K.from = from;
	K.to = to;
	bt_binance_klines(&B, &K, page, &P);
}

static bool
starts(int i, int64_t want)
{
	return i < F.nq && qnum(F.q[i], "startTime=", -1) == want;
}

/*
 * From T0 through two full pages and a short third: a hole of five hours
 * at candle 700 and an off-grid candle at 1500, so interval arithmetic
 * would ask for the wrong hours; the newest candle still open by the
 * server time; a 429 with Retry-After 7 before the third page.
 */
static void
test_paging(void)
{
	static const struct fault fs[] = { NOFAULT, NOFAULT,
	    { 429, 7, -1, false } };

	setup(2300, fs, 3);
	series(2300, 700, 5, 1500);
	B.server_ms = F.server_ms = F.t[2299] + IV / 2;	/* the last: open */
	run(T0, 0);
	check(K.fail == BT_F_NONE, "paging: no failure (%s)", K.err);
	check(P.npages == 3, "paging: three pages handed on (%d)", P.npages);
	check(P.n[0] == 1000 && P.n[1] == 1000, "paging: two full pages");
	check(P.n[2] == 299, "paging: a short last page, the open candle "
	    "dropped (%zu)", P.n[2]);
	check(P.last[2] == F.t[2298], "paging: the last candle handed on is "
	    "the newest closed one");
	check(K.received == 2299 && P.total == 2299, "paging: 2299 closed "
	    "candles received (%lld)", (long long)K.received);
	check(starts(0, T0), "paging: the first page starts at the start time");
	check(starts(1, F.t[999] + 1) && P.next[0] == F.t[999] + 1,
	    "paging: the next page starts just after the last open time "
	    "returned");
	check(P.last[0] == F.t[999] && P.first[1] == F.t[1000] &&
	    P.last[1] == F.t[1999], "paging: not 1000 intervals on: after "
	    "the hole no candle is asked for twice");
	check(starts(2, F.t[1999] + 1) && starts(3, F.t[1999] + 1),
	    "paging: the page after the 429 is asked again from the same "
	    "start");
	check(P.first[2] == F.t[2000], "paging: no candle lost or repeated "
	    "across pages");
	check(P.next[2] == 0, "paging: the last page says so (next 0)");
	check(strstr(F.q[0], "symbol=BTCUSDT&interval=1h&") == F.q[0] &&
	    strstr(F.q[0], "limit=1000") != NULL &&
	    strstr(F.q[0], "endTime=") == NULL,
	    "paging: symbol, interval, limit=1000, no endTime: %s", F.q[0]);
	check(F.nwaits == 1 && F.waits[0] == 7.0, "429: Retry-After 7 is "
	    "waited out (%d waits, %.3f)", F.nwaits, F.nwaits ? F.waits[0] :
	    0);
	check(K.requests == 4 && K.retries == 1 && B.requests == 4 &&
	    B.retries == 1, "429: retried once; four requests (%ld, %ld)",
	    K.requests, K.retries);
	check(F.nq == 4, "paging: stops at the end: no request after the "
	    "short page (%d)", F.nq);
	check(!atomic_load(&B.stop) && !B.banned, "429 then success: the run "
	    "goes on");
}

/* A whole last page: the next one comes back empty, and paging stops. */
static void
test_empty_last(void)
{
	setup(2000, NULL, 0);
	run(T0, 0);
	check(K.fail == BT_F_NONE && P.npages == 3 && P.n[2] == 0 &&
	    P.next[2] == 0 && F.nq == 3, "an empty page ends the pair after "
	    "two full ones (%d pages, %d requests)", P.npages, F.nq);
	check(K.received == 2000, "all 2000 closed candles received");
}

/* --gaps: from..to inclusive, endTime in every query, stops at `to'. */
static void
test_range(void)
{
	int64_t to;

	setup(3000, NULL, 0);
	to = F.t[1499];
	run(F.t[100], to);
	check(K.fail == BT_F_NONE && P.npages == 2 && P.total == 1400 &&
	    P.last[1] == to, "a range ends at its last candle (%zu candles)",
	    P.total);
	check(F.nq == 2 && qnum(F.q[0], "endTime=", -1) == to &&
	    qnum(F.q[1], "endTime=", -1) == to, "a range asks with endTime");
}

/* 429 on every try: rate limited, no more requests for anyone. */
static void
test_rate_limited(void)
{
	static const struct fault fs[] = { { 429, 3000, -1, false },
	    { 429, 3000, -1, false }, { 429, 3000, -1, false },
	    { 429, 3000, -1, false } };

	setup(10, fs, 4);
	run(T0, 0);
	check(K.fail == BT_F_RATE && atomic_load(&B.stop) && F.nq == 4 &&
	    P.npages == 0, "429 on every try: rate limited after 4 tries, "
	    "the run stops");
	check(F.nwaits == 3 && F.waits[0] == 600 && F.waits[2] == 600,
	    "a Retry-After is clamped to BT_RETRY_AFTER_MAX (%.0f)",
	    F.nwaits ? F.waits[0] : 0);
	check(bt_fail_exit(K.fail) == BT_EX_TEMPFAIL, "rate limited exits 75");
	run(T0, 0);
	check(F.nq == 4 && P.npages == 0, "once stopped, no request goes out");
}

/* 418: the ban and its Retry-After reported, nothing retried. */
static void
test_ban(void)
{
	static const struct fault fs[] = { { 418, 7200, -1, false } };

	setup(10, fs, 1);
	run(T0, 0);
	check(K.fail == BT_F_BAN && B.banned && B.ban_secs == 7200 &&
	    atomic_load(&B.stop) && F.nq == 1 && F.nwaits == 0,
	    "418: banned for its Retry-After, no retry, the run stops");
}

/* 5xx retried with the configured waits (plus up to 10% jitter). */
static void
test_5xx(void)
{
	static const struct fault fs[] = { { 500, -1, -1, false },
	    { 503, -1, -1, false } };

	setup(10, fs, 2);
	run(T0, 0);
	check(K.fail == BT_F_NONE && K.retries == 2 && P.total == 10,
	    "5xx twice, then the page");
	check(F.nwaits == 2 && F.waits[0] >= 5 && F.waits[0] <= 5.5 &&
	    F.waits[1] >= 15 && F.waits[1] <= 16.5, "5xx: waits of "
	    "BT_RETRY_DELAYS with up to 10%% jitter (%.2f, %.2f)",
	    F.waits[0], F.waits[1]);
}

/* A row before startTime: the page is refused whole. */
static void
test_stray(void)
{
	static const struct fault fs[] = { { 0, -1, -1, true } };

	setup(10, fs, 1);
	run(T0, 0);
	check(K.fail == BT_F_DATA && P.npages == 0 && strstr(K.err,
	    "outside the requested window") != NULL, "a row outside the "
	    "window fails the pair, nothing handed on: %s", K.err);
}

/* The weight header near the cap: the next request waits first. */
static void
test_pacing(void)
{
	static const struct fault fs[] = { { 0, -1, 2999, false } };
	char err[BT_ERRLEN];

	setup(1500, fs, 1);
	B.weight_cap = 3000;
	bt_conf_set("BT_PACE_WAIT_MAX", "5", err);
	run(T0, 0);
	check(K.fail == BT_F_NONE && B.paced == 1 && F.nwaits == 1 &&
	    F.waits[0] == 5, "pacing: weight 2999 of 3000 used, the next "
	    "request waits (capped at BT_PACE_WAIT_MAX) (%d waits)", F.nwaits);
	check(P.total == 1500 && B.weight_used == 2, "pacing: the minute "
	    "starts again, counted from the answers (%ld)", B.weight_used);
}

static void
test_server_time(void)
{
	char err[BT_ERRLEN];

	setup(10, NULL, 0);
	F.server_ms = 1748694600000LL;
	B.server_ms = 0;
	check(bt_binance_server_time(&B, err) == BT_F_NONE &&
	    B.server_ms == 1748694600000LL && F.nq == 1,
	    "server time from /api/v3/time");
}

/* A body cut short, then Binance's error object: tried again, stored. */
static void
test_malformed(void)
{
	setup(10, NULL, 0);
	F.body[0] = "[[1730419200000,\"100.0\",";
	F.body[1] = "{\"code\":-1003,\"msg\":\"busy\"}";
	run(T0, 0);
	check(K.fail == BT_F_NONE && K.requests == 3 && K.retries == 2 &&
	    P.total == 10, "a 200 cut short, then an error object: tried "
	    "again like a 5xx, then stored (%s)", K.err);
	check(F.nwaits == 2 && F.waits[0] >= 5 && F.waits[1] >= 15,
	    "a broken 200 waits the retry delays");
}

/* Broken on every try: bad data, with Binance's code and message. */
static void
test_malformed_all(void)
{
	int i;

	setup(10, NULL, 0);
	for (i = 0; i < 4; i++)
		F.body[i] = "{\"code\":-1003,\"msg\":\"busy\"}";
	run(T0, 0);
	check(K.fail == BT_F_DATA && F.nq == 4 && P.npages == 0 &&
	    strstr(K.err, "Binance error -1003: busy") != NULL &&
	    bt_fail_exit(K.fail) == BT_EX_DATAERR, "an error object on every "
	    "try: bad data (65), said with its code: %s", K.err);
	check(!atomic_load(&B.stop), "bad data stops only the pair");
}

/* 1003 rows for limit=1000: tried again; the right page is stored. */
static void
test_overlong(void)
{
	setup(1500, NULL, 0);
	F.extra[0] = 3;
	run(T0, 0);
	check(K.fail == BT_F_NONE && K.retries == 1 && P.npages == 2 &&
	    P.n[0] == 1000 && P.total == 1500, "a page longer than asked for "
	    "is refused and asked again (%zu, %s)", P.total, K.err);
}

/*
 * The server's clock far ahead of ours (every candle closed by its
 * clock): the candles still open by ours are not handed on.
 */
static void
test_cutoff(void)
{
	setup(10, NULL, 0);
	B.server_ms = F.server_ms = F.t[9] + 100 * IV;
	bt_set_now(F.t[7] + IV / 2);
	run(T0, 0);
	bt_set_now(1748694600000LL);
	check(K.fail == BT_F_NONE && P.total == 7 && P.last[0] == F.t[6],
	    "a server clock ahead: cut at ours, the open candle and those "
	    "after it dropped (%zu)", P.total);
}

/* serverTime in microseconds; the skew with the clock frozen. */
static void
test_server_time_us(void)
{
	char err[BT_ERRLEN];
	enum bt_fail f;

	setup(10, NULL, 0);
	F.server_ms = 1748694600000LL + 7200000;
	F.time_us = true;
	f = bt_binance_server_time(&B, err);
	check(f == BT_F_NONE && B.server_ms == 1748694600000LL + 7200000 &&
	    B.time_us && B.skew == 7200.0, "serverTime in microseconds is "
	    "read as such; the skew 2 h (%.3f)", B.skew);
}

/* The deadline: before a request, before a retry's wait, before pacing. */
static void
test_deadline(void)
{
	static const struct fault five[] = { { 500, -1, -1, false } };
	static const struct fault heavy[] = { { 0, -1, 2999, false } };
	char err[BT_ERRLEN];

	setup(10, NULL, 0);
	bt_binance_deadline(&B, bt_mono() - 1);
	run(T0, 0);
	check(K.fail == BT_F_DEADLINE && F.nq == 0 && atomic_load(&B.late) &&
	    atomic_load(&B.stop) && bt_fail_exit(K.fail) == BT_EX_TEMPFAIL,
	    "past the deadline no request goes out: exit 75 (%s)", K.err);
	setup(10, five, 1);
	bt_binance_deadline(&B, bt_mono() + 3);
	run(T0, 0);
	check(K.fail == BT_F_DEADLINE && F.nq == 1 && F.nwaits == 0,
	    "a retry's wait (5 s) that would pass the deadline (3 s) is not "
	    "waited (%d waits)", F.nwaits);
	setup(1500, heavy, 1);
	B.weight_cap = 3000;
	bt_conf_set("BT_PACE_WAIT_MAX", "5", err);
	bt_binance_deadline(&B, bt_mono() + 3);
	run(T0, 0);
	check(K.fail == BT_F_DEADLINE && F.nq == 1 && F.nwaits == 0 &&
	    P.npages == 1, "a pacing wait past the deadline is not waited "
	    "either; the page fetched is handed on");
}

int
main(int argc, char *argv[])
{
	char err[BT_ERRLEN];

	tap_args(argc, argv, "pager-test");
	if (bt_init("pager-test", err) != 0 ||
	    bt_conf_set("BT_RETRY_DELAYS", "5,15,45", err) != 0 ||
	    bt_conf_set("BT_RETRY_AFTER_MIN", "1", err) != 0 ||
	    bt_conf_set("BT_RETRY_AFTER_MAX", "600", err) != 0) {
		fprintf(stderr, "pager-test: %s\n", err);
		return 2;
	}
	bt_set_now(1748694600000LL);	/* pacing waits from the minute */
	srandom(1);
	test_paging();
	test_empty_last();
	test_range();
	test_rate_limited();
	test_ban();
	test_5xx();
	test_stray();
	test_pacing();
	test_server_time();
	test_malformed();
	test_malformed_all();
	test_overlong();
	test_cutoff();
	test_server_time_us();
	test_deadline();
	bt_binance_free(&B);
	reset();
	bt_parse_release();
	return tap_done();
}
