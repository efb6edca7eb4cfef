/*
 * bt_upstream.c - bt-fetch --check (issue "Go-live"): whether the
 * services bt-fetch reads answer as its runs need them, for a preflight
 * before going live and for an operator in doubt.
 *
 * Owns the checks and their lines:
 *	{"event":"check","check":"binance","ok":true,...,"reason":...}
 * with "fix" when a check fails.  Binance: a ban remembered in the state
 * file (then nothing is asked: a run would not ask either); /api/v3/ping
 * and /api/v3/time answering; the weight header of those answers leaving
 * room under BT_WEIGHT_LIMIT x BT_WEIGHT_SHARE; the server clock's skew,
 * read half the round trip after the request left, within
 * BT_CLOCK_SKEW_MAX.  FRED, when a key is configured: series/observations
 * answering with the key, one observation of the first BT_FRED_SERIES.
 *
 * Invariants:
 * - Nothing is written: no store is opened, the state file is opened
 *   read-only leaving no trace (BT_DB_SNAPSHOT: not even SQLite's -shm),
 *   no runs row or event is recorded.  So a ban found (a 418
 *   now, or one remembered) is a problem found, exit 1, not exit 75.
 * - A check answers now: each request is tried once, within the HTTP
 *   timeouts, and never waits to retry.
 * - The FRED key goes into the query only, is redacted from every line,
 *   and wiped from memory after.
 * - Exit: 0 every check ok; 1 a problem; 69 a service does not answer
 *   (transport errors, 5xx); 78 the configuration (a URL, the key file).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bt_binance.h"
#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_state.h"
#include "bt_upstream.h"

/* One check: its line, its exit code, why it failed and what to do. */
struct verdict {
	json_t		*rec;
	int		 rc;
	struct bt_buf	 reason, fix;
};

static void
verdict_new(struct verdict *v, const char *check, const char *urlkey)
{
	memset(v, 0, sizeof(*v));
	v->rec = bt_rec("check");
	json_object_set_new(v->rec, "check", json_string(check));
	json_object_set_new(v->rec, "url", json_string(bt_conf(urlkey)));
}

/* A problem found: exit rc (the worst counts), what it is, what to do. */
static void __attribute__((format(printf, 4, 5)))
problem(struct verdict *v, int rc, const char *fix, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bt_redact(msg);
	bt_buf_printf(&v->reason, "%s%s", v->reason.len ? "; " : "", msg);
	bt_buf_printf(&v->fix, "%s%s", v->fix.len ? "; " : "", fix);
	v->rc = bt_exit_worse(v->rc, rc);
}

/* The line, with `ok' the reason when nothing failed; returns the code. */
static int
verdict_end(struct verdict *v, const char *ok)
{
	int rc = v->rc;

	json_object_set_new(v->rec, "ok", json_boolean(rc == 0));
	json_object_set_new(v->rec, "reason", json_string(rc == 0 ? ok :
	    v->reason.p));
	if (rc != 0)
		json_object_set_new(v->rec, "fix", json_string(v->fix.p));
	bt_emit(v->rec);
	bt_buf_free(&v->reason);
	bt_buf_free(&v->fix);
	return rc;
}

/* The code of a failed request in a check: only silence is 69. */
static int
check_exit(enum bt_fail f)
{
	return f == BT_F_NONE ? 0 : f == BT_F_TRANSPORT ? BT_EX_UNAVAILABLE :
	    BT_EX_FOUND;
}

/* ------------------------------------------------------------- Binance */

/*
 * The ban-until time the state file remembers (ms), 0 when none or no
 * state file yet; -1 when the file cannot be read (a problem said).
 */
static int64_t
ban_until(struct verdict *v)
{
	char err[BT_ERRLEN], *path, *ban = NULL;
	sqlite3 *st = NULL;
	int64_t until = 0;
	int rc;

	path = bt_state_path();
	rc = bt_open_state(path, BT_DB_RO | BT_DB_SNAPSHOT, &st, err);
	if (rc == BT_EX_NOINPUT)
		rc = 0;			/* no run yet: nothing remembered */
	else if (rc == 0 && bt_kv_get(st, "binance_ban_until", &ban, err) !=
	    0)
		rc = BT_EX_IOERR;
	if (rc != 0) {
		problem(v, BT_EX_FOUND, "make the state file readable by the "
		    "bt user: every bt-fetch run would fail on it", "the state "
		    "file cannot be read: %s", err);
		until = -1;
	} else if (ban != NULL)
		until = strtoll(ban, NULL, 10);
	free(ban);
	bt_close(st);
	free(path);
	return until;
}

/* A request of the check that failed: what it means, what to do. */
static void
binance_failed(struct verdict *v, const struct bt_binance *b,
    const char *what, enum bt_fail f, const char *err)
{
	char secs[32];

	switch (f) {
	case BT_F_TRANSPORT:
		problem(v, check_exit(f), "check the network, DNS, any proxy "
		    "or firewall, and BT_BINANCE_URL", "%s: Binance does not "
		    "answer: %s", what, err);
		break;
	case BT_F_BAN:
		snprintf(secs, sizeof(secs), " for %.0f s", b->ban_secs);
		problem(v, check_exit(f), "wait until the ban ends, and find "
		    "what else on this IP spends Binance's weight", "%s: "
		    "Binance answered 418, this IP is banned%s: %s", what,
		    b->ban_secs >= 0 ? secs : "", err);
		break;
	case BT_F_RATE:
		problem(v, check_exit(f), "another client on this IP spends "
		    "the request weight: lower it, or BT_WEIGHT_SHARE", "%s: "
		    "Binance answered 429, the weight is spent: %s", what, err);
		break;
	default:
		problem(v, check_exit(f), "check that BT_BINANCE_URL is "
		    "Binance's spot API (a 403 is a WAF block of this IP)",
		    "%s: %s", what, err);
		break;
	}
}

/* Ping and time answered: the weight they report, and the clock. */
static void
binance_figures(struct verdict *v, const struct bt_binance *b, long cap)
{
	double max = bt_conf_double("BT_CLOCK_SKEW_MAX");
	char ts[32];

	json_object_set_new(v->rec, "server_time", json_string(bt_fmt_time(
	    b->server_ms, ts)));
	json_object_set_new(v->rec, "skew", json_real(round(b->skew * 1000) /
	    1000));
	json_object_set_new(v->rec, "skew_max", json_real(max));
	bt_rec_dur(v->rec, "rtt", b->rtt);
	json_object_set_new(v->rec, "weight_used", b->weight_used < 0 ?
	    json_null() : json_integer(b->weight_used));
	json_object_set_new(v->rec, "weight_cap", json_integer(cap));
	if (b->weight_used >= cap)
		problem(v, BT_EX_FOUND, "something else on this IP spends "
		    "Binance's weight: stop it, or raise BT_WEIGHT_SHARE",
		    "the weight header says %ld used this minute, and "
		    "bt-fetch may use %ld (BT_WEIGHT_LIMIT x BT_WEIGHT_SHARE): "
		    "it leaves no room", b->weight_used, cap);
	if (fabs(b->skew) > max)
		problem(v, BT_EX_FOUND, "synchronise this host's clock (e.g. "
		    "timedatectl set-ntp true, chrony or systemd-timesyncd)",
		    "Binance's clock is %.3f s %s this host's, more than "
		    "BT_CLOCK_SKEW_MAX (%g s)", fabs(b->skew), b->skew > 0 ?
		    "ahead of" : "behind", max);
}

/* Ping, then time, each tried once; the figures when both answered. */
static void
binance_ask(struct verdict *v, struct bt_binance *b, long cap)
{
	struct bt_http_resp r;
	char err[BT_ERRLEN];
	long req = 0, ret = 0;
	enum bt_fail f;

	f = bt_binance_get(b, "/api/v3/ping", NULL, 1, &r, &req, &ret, err);
	bt_http_resp_free(&r);
	json_object_set_new(v->rec, "ping", json_boolean(f == BT_F_NONE));
	if (f != BT_F_NONE) {
		binance_failed(v, b, "/api/v3/ping", f, err);
		return;
	}
	if ((f = bt_binance_server_time(b, err)) != BT_F_NONE) {
		binance_failed(v, b, "/api/v3/time", f, err);
		return;
	}
	binance_figures(v, b, cap);
}

static int
check_binance(bool verbose)
{
	struct verdict v;
	struct bt_binance b;
	struct bt_http *h;
	char err[BT_ERRLEN], ok[512], ts[32];
	long cap = (long)(bt_conf_long("BT_WEIGHT_LIMIT") *
	    bt_conf_double("BT_WEIGHT_SHARE"));
	int64_t until;

	verdict_new(&v, "binance", "BT_BINANCE_URL");
	memset(&b, 0, sizeof(b));
	/* contracts.md: until a recorded ban ends, nothing is asked. */
	if ((until = ban_until(&v)) > bt_now_ms()) {
		json_object_set_new(v.rec, "banned_until", json_string(
		    bt_fmt_time(until, ts)));
		problem(&v, BT_EX_FOUND, "wait until then (bt-fetch runs exit "
		    "75 meanwhile), and find what spent the weight", "a run "
		    "recorded a Binance ban (HTTP 418) until %s; nothing is "
		    "asked before then", ts);
		return verdict_end(&v, NULL);
	}
	json_object_set_new(v.rec, "banned_until", json_null());
	if ((h = bt_http_new(bt_conf("BT_BINANCE_URL"), err)) == NULL) {
		problem(&v, BT_EX_CONFIG, "set BT_BINANCE_URL to "
		    "https://api.binance.com (or another spot API host)",
		    "BT_BINANCE_URL: %s", err);
		return verdict_end(&v, NULL);
	}
	bt_binance_init(&b, h, "BT_RETRY_DELAYS", cap, verbose);
	b.ndelays = 0;		/* one try each: a check answers now */
	binance_ask(&v, &b, cap);
	snprintf(ok, sizeof(ok), "Binance answers ping and time; %ld of %ld "
	    "weight used this minute; its clock is %.3f s from this host's",
	    b.weight_used < 0 ? 0 : b.weight_used, cap, fabs(b.skew));
	bt_binance_free(&b);
	bt_http_free(h);
	return verdict_end(&v, ok);
}

/* ---------------------------------------------------------------- FRED */

/* One observation of `series' with the key: the ok reason, or a problem. */
static void
fred_ask(struct verdict *v, struct bt_binance *b, const char *series,
    const char *key, char *ok, size_t oklen)
{
	struct bt_http_resp r;
	struct bt_fred_obs *o = NULL;
	struct bt_buf q = { 0 };
	char err[BT_ERRLEN], *msg, day[32];
	long req = 0, ret = 0;
	int64_t count;
	size_t n = 0;
	enum bt_fail f;

	bt_buf_printf(&q, "series_id=%s&api_key=%s&file_type=json&"
	    "sort_order=desc&limit=1", series, key);
	f = bt_binance_get(b, "/fred/series/observations", q.p, 0, &r, &req,
	    &ret, err);
	explicit_bzero(q.p, q.len);
	bt_buf_free(&q);
	if (f == BT_F_API && (msg = bt_fred_error(r.body, r.len)) != NULL) {
		problem(v, BT_EX_FOUND, strstr(msg, "api_key") != NULL ?
		    "put the key FRED registered (32 lowercase letters and "
		    "digits) in FRED_API_KEY_FILE" : "check BT_FRED_SERIES",
		    "FRED refuses %s: HTTP %ld: %s", series, r.status, msg);
		free(msg);
	} else if (f != BT_F_NONE)
		problem(v, check_exit(f), "check the network, any proxy or "
		    "firewall, and BT_FRED_URL", "FRED does not answer: %s",
		    err);
	else if (bt_parse_fred(r.body, r.len, &o, &n, &count, err) != 0)
		problem(v, BT_EX_FOUND, "check that BT_FRED_URL is FRED's API",
		    "FRED's answer: %s", err);
	else {
		bt_fmt_time(n > 0 ? o[0].date : 0, day);
		day[10] = '\0';
		snprintf(ok, oklen, "FRED answers with the key: %s's newest "
		    "observation is %s", series, n > 0 ? day : "none");
	}
	free(o);
	bt_http_resp_free(&r);
}

static int
check_fred(bool verbose)
{
	struct verdict v;
	struct bt_binance b;
	struct bt_http *h = NULL;
	char err[BT_ERRLEN], ok[512] = "", *key, *esc = NULL, *sid, **series;
	int n;

	if (!bt_secret_set("FRED_API_KEY"))
		return 0;		/* no FRED configured: no line */
	verdict_new(&v, "fred", "BT_FRED_URL");
	memset(&b, 0, sizeof(b));
	n = bt_conf_list("BT_FRED_SERIES", &series);
	json_object_set_new(v.rec, "series", json_string(n > 0 ? series[0] :
	    "DGS10"));
	if ((key = bt_secret("FRED_API_KEY", err)) == NULL)
		problem(&v, BT_EX_CONFIG, "FRED_API_KEY_FILE must name a file "
		    "holding the key, mode 0600, owned by the bt user", "%s",
		    err);
	else if ((h = bt_http_new(bt_conf("BT_FRED_URL"), err)) == NULL)
		problem(&v, BT_EX_CONFIG, "set BT_FRED_URL to "
		    "https://api.stlouisfed.org", "BT_FRED_URL: %s", err);
	else {
		esc = bt_http_escape(h, key);
		bt_redact_add(esc);
		sid = bt_http_escape(h, n > 0 ? series[0] : "DGS10");
		bt_binance_init(&b, h, "BT_SOURCE_RETRY_DELAYS", 0, verbose);
		b.ndelays = 0;
		fred_ask(&v, &b, sid, esc, ok, sizeof(ok));
		free(sid);
		explicit_bzero(esc, strlen(esc));
	}
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(esc);
	bt_binance_free(&b);
	bt_http_free(h);
	bt_list_free(series, n);
	return verdict_end(&v, ok);
}

int
bt_upstream_check(bool verbose)
{
	int rc;

	rc = check_binance(verbose);
	return bt_exit_worse(rc, check_fred(verbose));
}
