/*
 * bt_context.c - the market-context runs of bt-fetch --source (issue 6):
 * sentiment from Binance, macro from FRED, into the store's
 * sentimento_mercado and macro_data through bt_market.c.
 *
 * Owns which sources are asked and how (binance.md section 3; FRED's
 * series/observations), where each run starts, the checks of their
 * configuration keys, and the JSON lines of these runs: a `sentiment',
 * `ticker' or `series' line each, events, a `summary'.
 *
 * Invariants:
 * - Simple sequential requests on the calling thread, retried with
 *   BT_SOURCE_RETRY_DELAYS (bt_binance.c); no coverage is judged.
 * - Each page is stored in a transaction of its own, all or nothing.
 * - An outage, a ban or a store that cannot be written stops what would
 *   only fail the same way: the other sources of the symbol, the other
 *   symbols after BT_CIRCUIT_BREAKER of them in a row, the ticker.
 * - The FRED key goes into the query only, and is redacted from every
 *   line and wiped from memory when the run ends.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_binance.h"
#include "bt_conf.h"
#include "bt_context.h"
#include "bt_db.h"
#include "bt_ingest.h"
#include "bt_market.h"
#include "bt_parse.h"
#include "bt_state.h"

#define DAY_MS	86400000LL

/* ------------------------------------------------------------ sentiment */

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

static const char *sent_periods[] = { "5m", "15m", "30m", "1h", "2h", "4h",
    "6h", "12h", "1d" };
#define NPERIODS	(sizeof(sent_periods) / sizeof(sent_periods[0]))

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

int
bt_context_config(const char *source, char *err)
{
	char fs[24], **v;
	size_t i;
	int n, j, rc = 0;

	if (strcmp(source, "sentiment") == 0) {
		for (i = 0; i < NPERIODS; i++)
			if (strcmp(bt_conf("BT_SENTIMENT_PERIOD"),
			    sent_periods[i]) == 0)
				break;
		if (i == NPERIODS) {
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

/*
 * An answer of a source, checked inside the retry loop
 * (bt_binance_fetch()): `parse' fills the rows; a protocol break (not
 * JSON, an error object) is tried again like a 5xx, bad data in a well
 * formed answer is kept in rc and why for the caller to report.
 */
struct answer {
	int		(*parse)(struct answer *a, const struct bt_http_resp *r,
			    char *why);
	const struct fsrc *fs;		/* futures: the source */
	const char	*symbol;	/* futures: the contract asked for */
	struct bt_sent_row *rows;
	struct bt_ticker_row *ticks;
	struct bt_fred_obs *obs;
	size_t		 n;
	int64_t		 count;		/* FRED's */
	int		 rc;
	char		 why[BT_ERRLEN];
};

static int
answer_body(void *arg, const struct bt_http_resp *r, char *why)
{
	struct answer *a = arg;

	if ((a->rc = a->parse(a, r, why)) == BT_PARSE_MALFORMED)
		return -1;
	if (a->rc != 0)
		snprintf(a->why, sizeof(a->why), "%s", why);
	return 0;
}

/*
 * GET path?q for a: BT_F_NONE with a's rows, BT_F_DATA for bad data in
 * the answer, or the request's failure; why set.  r is the caller's to
 * free (FRED's error body is in it).
 */
static enum bt_fail
fetch_answer(struct bt_ingest *x, const char *path, const char *q,
    int weight, struct answer *a, struct bt_http_resp *r, long *requests,
    long *retries, char *why)
{
	enum bt_fail f;

	a->rc = 0;
	f = bt_binance_fetch(&x->bn, path, q, weight, answer_body, a, r,
	    requests, retries, why);
	if (f == BT_F_NONE && a->rc != 0) {
		snprintf(why, BT_ERRLEN, "%s", a->why);
		f = BT_F_DATA;
	}
	return f;
}

static int
parse_futures(struct answer *a, const struct bt_http_resp *r, char *why)
{
	return bt_parse_futures(r->body, r->len, a->symbol, a->fs->tkey,
	    a->fs->keys, a->fs->nk, a->fs->nreq, &a->rows, &a->n, why);
}

static int
parse_ticker(struct answer *a, const struct bt_http_resp *r, char *why)
{
	return bt_parse_ticker(r->body, r->len, &a->ticks, &a->n, why);
}

static int
parse_fred(struct answer *a, const struct bt_http_resp *r, char *why)
{
	return bt_parse_fred(r->body, r->len, &a->obs, &a->n, &a->count, why);
}

/* What one symbol's sources did. */
struct sres {
	int64_t	 rows;
	long	 requests, retries;
	int	 gaps;
	enum bt_fail fail;
	bool	 nofutures;
	char	 err[BT_ERRLEN];
};

/* Rows of one page: all, each value under its metric, or none. */
static enum bt_fail
sent_store(struct bt_ingest *x, const char *sym, const struct fsrc *fs,
    const struct bt_sent_row *rows, size_t n, int64_t *changed, char *err)
{
	int64_t c;
	int k, rc;

	*changed = 0;
	if (n == 0 || x->dry)
		return BT_F_NONE;
	if ((rc = bt_begin(x->db, err)) != 0)
		return rc == BT_EX_TEMPFAIL ? BT_F_BUSY : BT_F_STORE;
	for (k = 0; k < fs->nk; k++) {
		if ((rc = bt_sent_store(x->db, sym, fs->metrics[k], &rows[0].t,
		    &rows[0].v[k], n, sizeof(rows[0]), &c, err)) != 0) {
			bt_rollback(x->db);
			return BT_F_STORE;
		}
		*changed += c;
	}
	if ((rc = bt_commit(x->db, err)) != 0)
		return BT_F_STORE;
	return BT_F_NONE;
}

/*
 * Where a source of a symbol starts (*s): just after its newest stored
 * time, or BT_SENTIMENT_DAYS back; never before Binance's 30-day window,
 * and what fell out of it is a WARNING.  -1 when the store cannot tell.
 */
static int
sent_from(struct bt_ingest *x, const char *sym, const struct fsrc *fs,
    int64_t now, int64_t pms, struct sres *res, int64_t *s, char *err)
{
	char a[32], b[32];
	int64_t last, floor;

	if (bt_sent_last(x->db, sym, fs->metrics[0], &last, err) != 0)
		return -1;
	*s = last >= 0 ? last + 1 : now - bt_conf_long("BT_SENTIMENT_DAYS") *
	    DAY_MS;
	if (!fs->period)
		return 0;
	/* Binance keeps 30 days; a minute's margin for clocks. */
	floor = now - 30 * DAY_MS + 60000;
	floor += (pms - floor % pms) % pms;
	if (*s >= floor)
		return 0;
	if (last >= 0 && last + pms < floor) {
		res->gaps++;
		bt_event(x->dry ? NULL : x->st, "WARNING", "sentiment_gap", sym,
		    NULL, json_pack("{s:s, s:I, s:I}", "source", fs->name,
		    "from", (json_int_t)(last + pms), "to",
		    (json_int_t)(floor - pms)), "%s %s: %s..%s fell out of "
		    "Binance's 30-day window before it was fetched; it is lost "
		    "here (data.binance.vision's futures metrics archive has "
		    "it)", sym, fs->name, bt_fmt_time(last + pms, a),
		    bt_fmt_time(floor - pms, b));
	}
	*s = floor;
	return 0;
}

/* A page of a source from s: every row in s..now, or BT_F_DATA. */
static enum bt_fail
sent_window(const struct bt_sent_row *rows, size_t n, int64_t s,
    int64_t now, char *why)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].t < s || rows[i].t > now) {
			snprintf(why, BT_ERRLEN, "row %zu: time %lld is "
			    "outside the requested window", i + 1,
			    (long long)rows[i].t);
			return BT_F_DATA;
		}
	return BT_F_NONE;
}

/*
 * One source of one symbol, page after page from sent_from().  Returns
 * BT_F_NONE, or the failure with err set.  A row of another contract
 * than fsym is bad data.
 */
static enum bt_fail
sent_source(struct bt_ingest *x, const char *sym, const char *fsym,
    const struct fsrc *fs, struct sres *res, char *err)
{
	struct bt_http_resp r;
	struct answer a = { .parse = parse_futures, .fs = fs, .symbol = fsym };
	char q[256], why[BT_ERRLEN], ts[32];
	const char *per = bt_conf("BT_SENTIMENT_PERIOD");
	int64_t now = bt_now_ms(), pms = bt_tf_ms(per), s, c;
	enum bt_fail f;

	if (sent_from(x, sym, fs, now, pms, res, &s, err) != 0)
		return BT_F_STORE;
	for (;;) {
		if (fs->period)
			snprintf(q, sizeof(q), "symbol=%s&period=%s&startTime="
			    "%lld&endTime=%lld&limit=%d", fsym, per,
			    (long long)s, (long long)now, fs->limit);
		else
			snprintf(q, sizeof(q), "symbol=%s&startTime=%lld&"
			    "endTime=%lld&limit=%d", fsym, (long long)s,
			    (long long)now, fs->limit);
		f = fetch_answer(x, fs->path, q, fs->weight, &a, &r,
		    &res->requests, &res->retries, why);
		bt_http_resp_free(&r);
		if (f == BT_F_API && strstr(why, "-1121") != NULL) {
			res->nofutures = true;
			return BT_F_NONE;
		}
		if (f == BT_F_NONE)
			f = sent_window(a.rows, a.n, s, now, why);
		if (f == BT_F_DATA)
			snprintf(err, BT_ERRLEN, "%s from %s: %s", fs->path,
			    bt_fmt_time(s, ts), why);
		else if (f != BT_F_NONE)
			snprintf(err, BT_ERRLEN, "%s: %s", fs->path, why);
		else if ((f = sent_store(x, sym, fs, a.rows, a.n, &c, why)) !=
		    BT_F_NONE)
			snprintf(err, BT_ERRLEN, "%s", why);
		if (f != BT_F_NONE) {
			free(a.rows);
			return f;
		}
		res->rows += c;
		x->rows += c;
		x->received += (int64_t)a.n;
		if (a.n < (size_t)fs->limit || a.rows[a.n - 1].t >= now) {
			free(a.rows);
			return BT_F_NONE;
		}
		s = a.rows[a.n - 1].t + 1;
		free(a.rows);
		a.rows = NULL;
	}
}

/* The ticker rows asked for, each value under its metric, all or none. */
static enum bt_fail
ticker_store(struct bt_ingest *x, char **syms, int cnt,
    const struct bt_ticker_row *rows, size_t n, struct sres *res, char *err)
{
	char why[BT_ERRLEN];
	size_t i;
	int64_t c;
	int j, k, rc;

	if ((rc = bt_begin(x->db, why)) != 0) {
		snprintf(err, BT_ERRLEN, "%s", why);
		return rc == BT_EX_TEMPFAIL ? BT_F_BUSY : BT_F_STORE;
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
	if (rc != 0 || (rc = bt_commit(x->db, why)) != 0) {
		if (!sqlite3_get_autocommit(x->db))
			bt_rollback(x->db);
		snprintf(err, BT_ERRLEN, "%s", why);
		return BT_F_STORE;
	}
	return BT_F_NONE;
}

/*
 * The 24 h ticker of cnt symbols in one request.  One unknown symbol
 * fails the whole request (-1121): then each is asked for alone, and an
 * unknown one is left out (the candle fetch warns about it).
 */
static enum bt_fail
ticker_batch(struct bt_ingest *x, char **syms, int cnt, struct sres *res,
    char *err)
{
	struct bt_http_resp r;
	struct answer a = { .parse = parse_ticker };
	struct bt_buf q = { 0 };
	char why[BT_ERRLEN];
	int j;
	enum bt_fail f, worst = BT_F_NONE;

	bt_binance_symbols(&x->bn, syms, cnt, &q);
	f = fetch_answer(x, "/api/v3/ticker/24hr", q.p, cnt <= 20 ? 2 : 40, &a,
	    &r, &res->requests, &res->retries, why);
	bt_buf_free(&q);
	bt_http_resp_free(&r);
	if (f == BT_F_API && strstr(why, "-1121") != NULL) {
		if (cnt == 1) {
			if (x->verbose)
				bt_warnx("ticker: %s is not a Binance spot "
				    "symbol", syms[0]);
			return BT_F_NONE;
		}
		for (j = 0; j < cnt; j++) {
			f = ticker_batch(x, &syms[j], 1, res, err);
			bt_fail_worse(&worst, f);
			if (f == BT_F_BAN || f == BT_F_STORE || f == BT_F_BUSY)
				break;
		}
		return worst;
	}
	if (f != BT_F_NONE) {
		snprintf(err, BT_ERRLEN, "/api/v3/ticker/24hr: %s", why);
		return f;
	}
	x->received += (int64_t)a.n;
	f = x->dry || a.n == 0 ? BT_F_NONE : ticker_store(x, syms, cnt,
	    a.ticks, a.n, res, err);
	free(a.ticks);
	return f;
}

/* The 24 h ticker of every symbol: one request per 100 symbols. */
static enum bt_fail
sent_ticker(struct bt_ingest *x, char **syms, int nsyms, struct sres *res,
    char *err)
{
	enum bt_fail f, worst = BT_F_NONE;
	int from;

	for (from = 0; from < nsyms; from += 100) {
		f = ticker_batch(x, syms + from, nsyms - from < 100 ?
		    nsyms - from : 100, res, err);
		bt_fail_worse(&worst, f);
		if (f == BT_F_BAN || f == BT_F_STORE || f == BT_F_BUSY)
			break;
	}
	return worst;
}

static void
sent_line(struct bt_ingest *x, const char *event, const char *sym,
    const char *fsym, struct sres *res)
{
	json_t *rec;

	if (x->quiet && res->fail == BT_F_NONE)
		return;
	rec = bt_rec(event);
	if (sym != NULL) {
		json_object_set_new(rec, "symbol", json_string(sym));
		json_object_set_new(rec, "futures", res->nofutures ?
		    json_null() : json_string(fsym));
	}
	json_object_set_new(rec, "status", json_string(res->fail ==
	    BT_F_NONE ? "ok" : "failed"));
	json_object_set_new(rec, "rows", json_integer(res->rows));
	json_object_set_new(rec, "requests", json_integer(res->requests));
	json_object_set_new(rec, "retries", json_integer(res->retries));
	if (sym != NULL)
		json_object_set_new(rec, "gaps", json_integer(res->gaps));
	if (res->fail != BT_F_NONE)
		json_object_set_new(rec, "error", json_string(res->err));
	bt_emit(rec);
}

/* Every source of one symbol, and its line. */
static void
sent_symbol(struct bt_ingest *x, const char *sym, struct sres *res)
{
	char fsym[24], err[BT_ERRLEN];
	enum bt_fail f;
	size_t k;

	memset(res, 0, sizeof(*res));
	futures_symbol(sym, fsym, sizeof(fsym), err);
	for (k = 0; k < NFSRC && !res->nofutures; k++) {
		f = sent_source(x, sym, fsym, &fsrcs[k], res, err);
		if (f == BT_F_NONE)
			continue;
		if (res->fail == BT_F_NONE)
			snprintf(res->err, sizeof(res->err), "%s", err);
		bt_fail_worse(&res->fail, f);
		/* An outage or a ban: the other sources wait too. */
		if (f == BT_F_TRANSPORT || f == BT_F_BAN || f == BT_F_STORE ||
		    f == BT_F_BUSY)
			break;
	}
	/* contracts.md style: one WARNING a day for a symbol without them. */
	if (res->nofutures)
		bt_ingest_warn_daily(x, "no_futures", sym, json_pack("{s:s}",
		    "futures", fsym), "%s: Binance has no futures contract %s "
		    "(-1121); map it in BT_FUTURES_SYMBOL_MAP (e.g. "
		    "PEPEUSDT=1000PEPEUSDT) or accept no futures figures for it",
		    sym, fsym);
	sent_line(x, "sentiment", sym, fsym, res);
	if (res->fail != BT_F_NONE)
		bt_event(x->dry ? NULL : x->st, "WARNING", "sentiment_failed",
		    sym, NULL, NULL, "%s: %s", sym, res->err);
}

/*
 * The futures statistics of every symbol, until a ban or a store that
 * cannot be written.  Returns whether the circuit breaker tripped.
 */
static bool
sent_futures(struct bt_ingest *x, char **syms, int nsyms, int *failed,
    enum bt_fail *worst)
{
	struct sres res;
	int i, breaker = 0;

	for (i = 0; i < nsyms && !x->bn.banned; i++) {
		sent_symbol(x, syms[i], &res);
		if (res.fail != BT_F_NONE)
			(*failed)++;
		bt_fail_worse(worst, res.fail);
		if (res.fail == BT_F_STORE)
			break;
		breaker = res.fail == BT_F_TRANSPORT ? breaker + 1 : 0;
		if (breaker >= bt_conf_long("BT_CIRCUIT_BREAKER") &&
		    i + 1 < nsyms) {
			bt_event(x->dry ? NULL : x->st, "CRITICAL",
			    "circuit_breaker", NULL, NULL, NULL, "%d symbols "
			    "in a row failed on transport errors (last: %s); "
			    "skipping the rest of this run", breaker, res.err);
			return true;
		}
	}
	return false;
}

/* A --source run's summary line. */
static int
summary(struct bt_ingest *x, const char *mode, const char *what, int n,
    int failed, int rc)
{
	json_t *rec;

	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string(mode));
	json_object_set_new(rec, what, json_integer(n));
	json_object_set_new(rec, "failed", json_integer(failed));
	return bt_ingest_summary(x, rec, rc);
}

int
bt_context_sentiment(struct bt_ingest *x)
{
	char **syms, err[BT_ERRLEN];
	struct bt_http *fut = NULL, *spot = NULL;
	struct sres tres;
	int nsyms, rc, failed = 0;
	enum bt_fail worst = BT_F_NONE;
	bool tripped;

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
	/* USD-M futures allow 2400 weight a minute, spot 6000. */
	bt_binance_init(&x->bn, fut, "BT_SOURCE_RETRY_DELAYS",
	    (long)(fmin(bt_conf_double("BT_WEIGHT_LIMIT"), 2400) *
	    bt_conf_double("BT_WEIGHT_SHARE")), x->verbose);
	tripped = sent_futures(x, syms, nsyms, &failed, &worst);
	if (!x->bn.banned && !tripped && worst != BT_F_STORE) {
		memset(&tres, 0, sizeof(tres));
		bt_binance_use(&x->bn, spot, (long)(bt_conf_long(
		    "BT_WEIGHT_LIMIT") * bt_conf_double("BT_WEIGHT_SHARE")));
		tres.fail = sent_ticker(x, syms, nsyms, &tres, tres.err);
		sent_line(x, "ticker", NULL, NULL, &tres);
		if (tres.fail != BT_F_NONE) {
			failed++;
			bt_event(x->dry ? NULL : x->st, "WARNING",
			    "sentiment_failed", NULL, NULL, NULL, "ticker: %s",
			    tres.err);
		}
		bt_fail_worse(&worst, tres.fail);
	}
	if (x->bn.banned)
		bt_ingest_ban(x);
	rc = summary(x, "sentiment", "symbols", nsyms, failed,
	    bt_fail_exit(worst));
	bt_binance_use(&x->bn, NULL, 0);	/* the handles go */
	bt_http_free(fut);
	bt_http_free(spot);
	bt_list_free(syms, nsyms);
	return rc;
}

/* ---------------------------------------------------------------- macro */

/*
 * FRED's series/observations, file_type=json, for BT_FRED_SERIES, into
 * macro_data keyed (series, date).  Each run asks for the last
 * BT_MACRO_DAYS of every series, so a revised value replaces the old one
 * and a late release fills its day; "." is stored as NULL.  The key
 * (FRED_API_KEY_FILE) goes into the query only: never argv, never output
 * (bt_redact removes it and any api_key= value from every line).
 */

/* What one series' run fetched and did. */
struct mres {
	struct bt_fred_obs *all;
	size_t	 total;
	int64_t	 added, revised;
	long	 requests, retries;
};

/*
 * Observations dated outside the window asked for, from `start' to today
 * (BT_NOW's date): such a page is bad data, never stored.
 */
static enum bt_fail
macro_window(const struct bt_fred_obs *o, size_t n, int64_t start,
    char *why)
{
	char a[32], b[32], d[32];
	int64_t today = bt_now_ms() / DAY_MS * DAY_MS;
	size_t i;

	for (i = 0; i < n; i++)
		if (o[i].date < start || o[i].date > today) {
			bt_fmt_time(o[i].date, d);
			bt_fmt_time(start, a);
			bt_fmt_time(today, b);
			d[10] = a[10] = b[10] = '\0';
			snprintf(why, BT_ERRLEN, "observation %zu (%s) is "
			    "outside the window asked for, %s to %s", i + 1, d,
			    a, b);
			return BT_F_DATA;
		}
	return BT_F_NONE;
}

/* Every page of a series from `start' (YYYY-MM-DD), in order. */
static enum bt_fail
macro_fetch(struct bt_ingest *x, const char *series, const char *key,
    const char *start, struct mres *m, char *err)
{
	struct bt_http_resp r;
	struct answer a = { .parse = parse_fred };
	struct bt_fred_obs *o;
	struct bt_buf q = { 0 };
	char why[BT_ERRLEN], *msg;
	size_t n;
	int64_t from = 0;
	enum bt_fail f = BT_F_NONE;

	bt_parse_time(start, &from);
	for (;;) {
		bt_buf_free(&q);
		bt_buf_printf(&q, "series_id=%s&api_key=%s&file_type=json&"
		    "observation_start=%s&sort_order=asc&offset=%zu", series,
		    key, start, m->total);
		f = fetch_answer(x, "/fred/series/observations", q.p, 0, &a, &r,
		    &m->requests, &m->retries, why);
		explicit_bzero(q.p, q.len);
		if (f == BT_F_API && (msg = bt_fred_error(r.body, r.len)) !=
		    NULL) {
			snprintf(why, sizeof(why), "HTTP %ld: %s", r.status,
			    msg);
			free(msg);
		}
		bt_http_resp_free(&r);
		o = a.obs;
		n = a.n;
		if (f == BT_F_NONE)
			f = macro_window(o, n, from, why);
		if (f != BT_F_NONE) {
			snprintf(err, BT_ERRLEN, "%s: %s", series, why);
			free(o);
			break;
		}
		a.obs = NULL;
		if (n > 0 && m->total > 0 &&
		    o[0].date <= m->all[m->total - 1].date) {
			snprintf(err, BT_ERRLEN, "%s: the page at offset %zu "
			    "does not follow the one before", series, m->total);
			free(o);
			f = BT_F_DATA;
			break;
		}
		if ((m->all = realloc(m->all, (m->total + n + 1) *
		    sizeof(*m->all))) == NULL)
			abort();
		if (n > 0)
			memcpy(m->all + m->total, o, n * sizeof(*o));
		m->total += n;
		free(o);
		if (n == 0 || a.count < 0 || (int64_t)m->total >= a.count)
			break;
	}
	bt_buf_free(&q);
	return f;
}

/* A date of macro_data as its line gives it: YYYY-MM-DD. */
static json_t *
day(int64_t ms)
{
	char ts[32];

	bt_fmt_time(ms, ts);
	ts[10] = '\0';
	return json_string(ts);
}

static enum bt_fail
macro_series(struct bt_ingest *x, const char *series, const char *key,
    json_t *rec, char *err)
{
	struct mres m = { 0 };
	char why[BT_ERRLEN], start[32];
	size_t i, missing = 0;
	enum bt_fail f;
	int rc;

	bt_fmt_time(bt_now_ms() - bt_conf_long("BT_MACRO_DAYS") * DAY_MS,
	    start);
	start[10] = '\0';
	f = macro_fetch(x, series, key, start, &m, err);
	for (i = 0; i < m.total; i++)
		missing += isnan(m.all[i].v);
	if (f == BT_F_NONE && m.total > 0 && !x->dry) {
		if ((rc = bt_begin(x->db, why)) != 0 ||
		    (rc = bt_macro_store(x->db, series, m.all, m.total,
		    &m.added, &m.revised, why)) != 0 ||
		    (rc = bt_commit(x->db, why)) != 0) {
			if (!sqlite3_get_autocommit(x->db))
				bt_rollback(x->db);
			snprintf(err, BT_ERRLEN, "%s: %s", series, why);
			f = rc == BT_EX_TEMPFAIL ? BT_F_BUSY : BT_F_STORE;
		}
	}
	x->rows += m.added + m.revised;
	x->received += (int64_t)m.total;
	json_object_set_new(rec, "series", json_string(series));
	json_object_set_new(rec, "status", json_string(f == BT_F_NONE ? "ok" :
	    "failed"));
	json_object_set_new(rec, "observations", json_integer(
	    (json_int_t)m.total));
	json_object_set_new(rec, "missing", json_integer((json_int_t)missing));
	json_object_set_new(rec, "new", json_integer(m.added));
	json_object_set_new(rec, "revised", json_integer(m.revised));
	json_object_set_new(rec, "first", m.total > 0 ? day(m.all[0].date) :
	    json_null());
	json_object_set_new(rec, "last", m.total > 0 ?
	    day(m.all[m.total - 1].date) : json_null());
	json_object_set_new(rec, "requests", json_integer(m.requests));
	json_object_set_new(rec, "retries", json_integer(m.retries));
	if (f != BT_F_NONE)
		json_object_set_new(rec, "error", json_string(err));
	free(m.all);
	return f;
}

int
bt_context_macro(struct bt_ingest *x)
{
	char **series, err[BT_ERRLEN], *key, *esc;
	int n, i, rc = 0, failed = 0;
	enum bt_fail f;
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
	/* FRED: no Binance weight, so no pacing. */
	bt_binance_init(&x->bn, x->http, "BT_SOURCE_RETRY_DELAYS", 0,
	    x->verbose);
	n = bt_conf_list("BT_FRED_SERIES", &series);
	for (i = 0; i < n; i++) {
		rec = bt_rec("series");
		f = macro_series(x, series[i], esc, rec, err);
		if (!x->quiet || f != BT_F_NONE)
			bt_emit(rec);
		else
			json_decref(rec);
		if (f == BT_F_NONE)
			continue;
		failed++;
		bt_event(x->dry ? NULL : x->st, "WARNING", "macro_failed", NULL,
		    NULL, json_pack("{s:s}", "series", series[i]), "FRED %s",
		    err);
		/*
		 * FRED refuses a request for a bad key or an unknown series
		 * (HTTP 400): that is the configuration's fault.
		 */
		rc = bt_exit_worse(rc, f == BT_F_API ? BT_EX_CONFIG :
		    bt_fail_exit(f));
		if (f == BT_F_STORE || f == BT_F_BAN || f == BT_F_BUSY)
			break;
	}
	rc = summary(x, "macro", "series", n, failed, rc);
	bt_list_free(series, n);
	explicit_bzero(esc, strlen(esc));
	explicit_bzero(key, strlen(key));
	free(esc);
	free(key);
	return rc;
}
