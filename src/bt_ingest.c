/*
 * bt_ingest.c - what a bt-fetch run does to the store and the state file,
 * whichever way its candles come (bt_update.c's Binance runs, --import's
 * files): a page stored whole with its dirty range, the indicator table
 * brought up after it, the ban-until time and the once-a-day warnings in
 * the state file, the run's totals in its summary line; and the jobs
 * that need no network, --import and --indicators.
 *
 * Invariants:
 * - A page (or an imported file) is upserted in one transaction under
 *   run/write.lock, or not at all, its dirty range first in the state
 *   file: a recorded range with no rows only costs bt-validate a check.
 *   Rerunning changes nothing; a corrected candle replaces the old one.
 * - After a pair's candles are stored, its indicator rows follow, a
 *   write transaction per pair (bt_indtab.c); at the end of the run every
 *   pair still behind, dirty or new is swept up, so the table is whole
 *   after every run.  A failure there leaves the candles stored and the
 *   pair pending.  A dry run writes neither.
 * - A price is stored as Binance gives it once it has passed the parser's
 *   checks, even when it jumps by more than BT_PRICE_JUMP_MAX from the
 *   close before it (crashes are real); such a page raises one WARNING.
 * - SQLite, stdout and events on the calling thread only.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_binance.h"
#include "bt_conf.h"
#include "bt_db.h"
#include "bt_indtab.h"
#include "bt_ingest.h"
#include "bt_parse.h"
#include "bt_state.h"
#include "bt_store.h"

void
bt_ingest_init(struct bt_ingest *x, bool dry, bool quiet, bool verbose)
{
	memset(x, 0, sizeof(*x));
	x->dry = dry;
	x->quiet = quiet;
	x->verbose = verbose;
	x->progress = isatty(STDERR_FILENO) && !quiet;
}

void
bt_ingest_free(struct bt_ingest *x)
{
	json_decref(x->left);
	x->left = NULL;
	bt_binance_free(&x->bn);
	bt_list_free(x->indtfs, x->nindtfs);
	x->indtfs = NULL;
	x->nindtfs = 0;
	bt_http_free(x->http);
	x->http = NULL;
}

/* ------------------------------------------------------------ the state */

void
bt_ingest_ban(struct bt_ingest *x)
{
	char err[BT_ERRLEN], val[32], ts[32];
	double secs = x->bn.ban_secs;
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

bool
bt_ingest_banned(struct bt_ingest *x)
{
	char err[BT_ERRLEN], ts[32], *ban = NULL;
	json_t *rec;
	bool banned;

	banned = bt_kv_get(x->st, "binance_ban_until", &ban, err) == 0 &&
	    ban != NULL && strtoll(ban, NULL, 10) > bt_now_ms();
	if (banned) {
		rec = bt_rec("banned");
		json_object_set_new(rec, "severity", json_string("WARNING"));
		json_object_set_new(rec, "message", json_string("Binance ban in "
		    "force; not contacting Binance"));
		json_object_set_new(rec, "until", json_string(bt_fmt_time(
		    strtoll(ban, NULL, 10), ts)));
		bt_emit(rec);
	}
	free(ban);
	return banned;
}

/*
 * Whether a once-a-day warning about `sym' of `kind' is due: false when
 * one went out today (the state file's kv table remembers the day, which
 * this marks).  A dry run warns every time and remembers nothing.
 */
static bool
due_today(struct bt_ingest *x, const char *kind, const char *sym)
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

void
bt_ingest_warn_daily(struct bt_ingest *x, const char *kind, const char *sym,
    json_t *extra, const char *fmt, ...)
{
	char msg[1024];		/* bt_event()'s own size */
	va_list ap;

	if (!due_today(x, kind, sym)) {
		json_decref(extra);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bt_event(x->dry ? NULL : x->st, "WARNING", kind, sym, NULL, extra,
	    "%s", msg);
}

/* ---------------------------------------------------------------- store */

/* The first jump of a page from the close before a candle, and a count. */
struct jump {
	size_t	 candles;	/* candles with a jump */
	double	 ratio, price, prev;
	int64_t	 t;
	const char *field;
};

/* The close of the stored candle before open time t; NAN when none. */
static double
close_before(struct bt_ingest *x, const char *symbol, const char *tf,
    int64_t t)
{
	struct bt_pair p;
	struct bt_series d = { 0 };
	char err[BT_ERRLEN];
	double prev = NAN;

	if (bt_pair_get(x->db, symbol, tf, false, NULL, 0, &p, err) == 0 &&
	    p.id != 0 && bt_candles_load(x->db, &p, 0, t - 1, 1, BT_LOAD_OHLC,
	    &d, err) == 0 && d.n == 1)
		prev = d.c[0];
	bt_series_free(&d);
	return prev;
}

/*
 * Each price of c against the close before it; crashes are real, so a
 * jump is stored, and the page's first one is a WARNING.
 */
static void
jumps(struct bt_ingest *x, const char *symbol, const char *tf,
    const struct bt_candle *c, size_t n)
{
	static const char *field[] = { "open", "high", "low", "close" };
	struct jump j = { 0 };
	char ts[32];
	double max = bt_conf_double("BT_PRICE_JUMP_MAX"), prev, v[4], r;
	size_t i, k;
	bool hit;

	prev = close_before(x, symbol, tf, c[0].t);
	for (i = 0; i < n; i++) {
		v[0] = c[i].o;
		v[1] = c[i].h;
		v[2] = c[i].l;
		v[3] = c[i].c;
		hit = false;
		for (k = 0; k < 4 && !isnan(prev); k++) {
			r = v[k] > prev ? v[k] / prev : prev / v[k];
			if (r <= max)
				continue;
			hit = true;
			if (j.ratio == 0) {
				j.ratio = r;
				j.price = v[k];
				j.prev = prev;
				j.t = c[i].t;
				j.field = field[k];
			}
		}
		j.candles += hit;
		prev = c[i].c;
	}
	if (j.candles == 0)
		return;
	bt_event(x->dry ? NULL : x->st, "WARNING", "price_jump", symbol, tf,
	    json_pack("{s:I, s:s, s:f, s:f, s:f, s:I}", "at", (json_int_t)j.t,
	    "field", j.field, "price", j.price, "previous", j.prev, "ratio",
	    round(j.ratio * 100) / 100, "candles", (json_int_t)j.candles),
	    "%s %s: %s %.8g at %s is %.1fx %s the close before it (%.8g; "
	    "BT_PRICE_JUMP_MAX %g)%s; stored, since crashes are real: check "
	    "it", symbol, tf, j.field, j.price, bt_fmt_time(j.t, ts), j.ratio,
	    j.price > j.prev ? "above" : "below", j.prev, max, j.candles > 1 ?
	    ", and more jumps in the same page" : "");
}

enum bt_fail
bt_ingest_store(struct bt_ingest *x, const char *symbol, const char *tf,
    const struct bt_candle *c, size_t n, int64_t *changed, char *err)
{
	struct bt_pair p;
	int rc;

	*changed = 0;
	if (n == 0)
		return BT_F_NONE;
	jumps(x, symbol, tf, c, n);
	if (x->dry)
		return BT_F_NONE;
	/* State first: a recorded range with no rows only costs a check. */
	if ((rc = bt_begin(x->st, err)) != 0)
		return BT_F_STORE;
	if ((rc = bt_dirty_add(x->st, symbol, tf, c[0].t, c[n - 1].t, err))
	    != 0) {
		bt_rollback(x->st);
		return BT_F_STORE;
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
		return BT_F_STORE;
	}
	if ((rc = bt_commit(x->db, err)) != 0)
		return BT_F_STORE;
	return BT_F_NONE;
fail_state:
	bt_rollback(x->st);
	return rc == BT_EX_TEMPFAIL ? BT_F_BUSY : BT_F_STORE;
}

/* ------------------------------------------------------ indicator table */

int
bt_ingest_ind_config(struct bt_ingest *x, bool force, char *err)
{
	int rc;

	x->ind = false;
	if (!force && !bt_conf_long("BT_INDICATORS"))
		return 0;
	if ((rc = bt_ind_spec_conf(&x->spec, err)) != 0)
		return rc;
	x->nindtfs = bt_conf_list("BT_IND_TIMEFRAMES", &x->indtfs);
	x->ind = true;
	return 0;
}

int
bt_ingest_ind_prepare(struct bt_ingest *x, bool rebuild)
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
ind_pair(struct bt_ingest *x, const struct bt_pair *p)
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
	if (r.skipped > 0)
		bt_event(x->st, "WARNING", "indicators_skipped", p->symbol,
		    p->tf, json_pack("{s:I}", "candles", (json_int_t)r.skipped),
		    "%s %s: %lld stored candle(s) with a high, low or close "
		    "that is not a price left out of the indicators; "
		    "bt-validate reports them, bt-fetch --repair replaces them",
		    p->symbol, p->tf, (long long)r.skipped);
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

void
bt_ingest_pair_done(struct bt_ingest *x, const char *symbol, const char *tf,
    int64_t rows)
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

/* Each pair costs a query when it is not behind. */
int
bt_ingest_sweep(struct bt_ingest *x)
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
		/* Past the deadline the rest stays pending for the next run. */
		for (i = 0; i < n && x->ind_rc == 0 && !(x->deadline > 0 &&
		    bt_mono() >= x->deadline); i++)
			ind_pair(x, &ps[i]);
		free(ps);
	}
	return x->ind_rc;
}

static void
ind_fields(struct bt_ingest *x, json_t *rec)
{
	if (!x->ind || x->dry)
		return;
	json_object_set_new(rec, "ind_pairs", json_integer(x->ind_pairs));
	json_object_set_new(rec, "ind_rows", json_integer(x->ind_rows));
	json_object_set_new(rec, "ind_full", json_integer(x->ind_full));
}

int
bt_ingest_summary(struct bt_ingest *x, json_t *rec, int rc)
{
	json_object_set_new(rec, "rows", json_integer(x->rows));
	json_object_set_new(rec, "received", json_integer(x->received));
	json_object_set_new(rec, "requests", json_integer(x->bn.requests));
	json_object_set_new(rec, "retries", json_integer(x->bn.retries));
	if (json_array_size(x->left) > 0)
		json_object_set_new(rec, "left", json_integer(
		    (json_int_t)json_array_size(x->left)));
	ind_fields(x, rec);
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	return rc;
}

int
bt_ingest_indicators(struct bt_ingest *x)
{
	json_t *rec;
	int rc;

	rc = bt_ingest_sweep(x);
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("indicators"));
	json_object_set_new(rec, "spec", json_string(x->spec.text));
	ind_fields(x, rec);
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	return rc;
}

/* --------------------------------------------------------------- import */

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

/* A file's candles, by its first byte: freqtrade JSON or Binance CSV. */
static int
import_parse(const char *path, int64_t iv, struct bt_candle **c, size_t *n,
    char *fmt, size_t flen, char *err)
{
	const char *p;
	size_t len;
	char *buf;
	int rc;

	if ((buf = bt_read_file(path, (size_t)1 << 30, &len, err)) == NULL)
		return BT_EX_NOINPUT;
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	if (*p == '[') {
		snprintf(fmt, flen, "freqtrade");
		rc = bt_parse_freqtrade(path, buf, len, iv, c, n, err);
	} else {
		snprintf(fmt, flen, "binance-csv");
		rc = bt_parse_kline_csv(path, buf, len, iv, c, n, err);
	}
	free(buf);
	return rc == -1 ? BT_EX_DATAERR : 0;
}

static int
import_file(struct bt_ingest *x, const char *path, const char *osym,
    const char *otf)
{
	char sym[24] = "", tf[8] = "", err[BT_ERRLEN], fmt[16];
	struct bt_candle *c = NULL;
	size_t n = 0;
	int64_t changed = 0;
	json_t *rec;
	enum bt_fail f;
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
	if ((rc = import_parse(path, bt_tf_ms(tf), &c, &n, fmt, sizeof(fmt),
	    err)) != 0) {
		bt_warnx("%s", err);
		if (rc == BT_EX_DATAERR)
			bt_event(x->dry ? NULL : x->st, "WARNING",
			    "import_failed", sym, tf, NULL, "%s", err);
		return rc;
	}
	f = bt_ingest_store(x, sym, tf, c, n, &changed, err);
	rec = bt_rec("import");
	json_object_set_new(rec, "file", json_string(path));
	json_object_set_new(rec, "format", json_string(fmt));
	json_object_set_new(rec, "symbol", json_string(sym));
	json_object_set_new(rec, "tf", json_string(tf));
	json_object_set_new(rec, "status", json_string(f == BT_F_NONE ? "ok" :
	    "failed"));
	json_object_set_new(rec, "rows", json_integer(changed));
	json_object_set_new(rec, "received", json_integer((json_int_t)n));
	json_object_set_new(rec, "first", n ? json_integer(c[0].t) :
	    json_null());
	json_object_set_new(rec, "last", n ? json_integer(c[n - 1].t) :
	    json_null());
	if (f != BT_F_NONE)
		json_object_set_new(rec, "error", json_string(err));
	bt_emit(rec);
	x->rows += changed;
	x->received += (int64_t)n;
	free(c);
	if (f != BT_F_NONE) {
		bt_warnx("%s: %s", path, err);
		return bt_fail_exit(f);
	}
	return 0;
}

int
bt_ingest_import(struct bt_ingest *x, char **files, int nfiles,
    const char *symbol, const char *tf)
{
	json_t *rec;
	int rc = 0, i;

	for (i = 0; i < nfiles; i++)
		rc = bt_exit_worse(rc, import_file(x, files[i], symbol, tf));
	rc = bt_exit_worse(rc, bt_ingest_sweep(x));
	rec = bt_rec("summary");
	json_object_set_new(rec, "mode", json_string("import"));
	json_object_set_new(rec, "files", json_integer(nfiles));
	json_object_set_new(rec, "rows", json_integer(x->rows));
	json_object_set_new(rec, "received", json_integer(x->received));
	ind_fields(x, rec);
	json_object_set_new(rec, "exit", json_integer(rc));
	bt_emit(rec);
	return rc;
}
