/*
 * bt_parse.c - every parser of outside input: Binance kline pages, kline
 * CSV files from data.binance.vision, freqtrade JSON, gap records, and the
 * market context's answers (Binance's futures statistics and 24 h ticker,
 * FRED's series/observations); and bt-backtest's candle files (OHLCV CSV,
 * JSON lines) and external signals.
 *
 * JSON is read with jansson only.  Every parser refuses the whole input
 * on the first bad row and says where and why, so a caller stores all of
 * a page or file, or none of it.  Each is fuzzed (tests/fuzz/).
 *
 * The market context's answers (binance.md section 3): futures rows are
 * objects whose times are numbers, or strings of digits in Binance's own
 * examples, and whose values are decimal strings, small funding rates in
 * Java's E-notation ("8.4E-7"); FRED's values are strings, "." when
 * missing.  Every value is kept as the double the decimal rounds to.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt_parse.h"

/*
 * A page of 1000 klines is 12,000 small jansson values.  Allocating them
 * one by one from malloc cost more than everything else bt-fetch does, so
 * a page is parsed into an arena that is dropped whole afterwards.
 * jansson's allocator is global, and bt-fetch parses on one thread while
 * it prints on another, so the functions installed (once) dispatch on a
 * thread-local flag: they are malloc and free everywhere except inside
 * load_arena() and drop_arena() on the thread that called them.
 */
struct arena {
	char	*base;
	size_t	 used, cap;
	struct arena *prev;
};
static _Thread_local struct arena *arena;
static _Thread_local bool arena_on;

static void *
arena_alloc(size_t n)
{
	struct arena *a;
	size_t cap;

	if (!arena_on)
		return malloc(n);
	n = (n + 15) & ~(size_t)15;
	if (arena == NULL || arena->used + n > arena->cap) {
		cap = n > (1 << 16) ? n : (1 << 16);
		if (arena != NULL && arena->cap * 2 > cap)
			cap = arena->cap * 2;
		if ((a = malloc(sizeof(*a))) == NULL ||
		    (a->base = malloc(cap)) == NULL)
			abort();
		a->used = 0;
		a->cap = cap;
		a->prev = arena;
		arena = a;
	}
	arena->used += n;
	return arena->base + arena->used - n;
}

static void
arena_free(void *p)
{
	if (!arena_on)
		free(p);
	/* else: dropped with the arena */
}

static void
arena_install(void)
{
	json_set_alloc_funcs(arena_alloc, arena_free);
}

/* Keeps the newest (largest) block for the next page. */
static void
arena_reset(void)
{
	struct arena *a;

	if (arena == NULL)
		return;
	while ((a = arena->prev) != NULL) {
		arena->prev = a->prev;
		free(a->base);
		free(a);
	}
	arena->used = 0;
}

/* Frees this thread's arena; for a thread that is done parsing. */
void
bt_parse_release(void)
{
	arena_reset();
	if (arena != NULL) {
		free(arena->base);
		free(arena);
		arena = NULL;
	}
}

static json_t *
load_arena(const char *body, size_t len, json_error_t *je)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	json_t *root;

	pthread_once(&once, arena_install);
	arena_on = true;
	root = json_loadb(body, len, 0, je);
	arena_on = false;
	return root;
}

static void
drop_arena(json_t *root)
{
	arena_on = true;
	json_decref(root);
	arena_on = false;
	arena_reset();
}

/* 1e14 ms is the year 5138; anything larger is in microseconds. */
#define US_THRESHOLD	100000000000000LL

/*
 * Clinger's fast path: a decimal of at most 2^53 in its digits and at
 * most 22 after the point is m / 10^k with both exact, and one IEEE
 * division rounds it correctly, as strtod() does (the bits are the
 * same).  False for anything else (an exponent, more digits).
 */
static bool
fast_decimal(const char *s, size_t len, double *v)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	    1e19, 1e20, 1e21, 1e22 };
	const char *p = s + (s[0] == '-'), *e = s + len, *f0;
	uint64_t m = 0;
	size_t nd = 0, frac = 0;

	/* Unsigned arithmetic: more than 19 digits wraps, and is refused. */
	for (; p < e && (unsigned)(*p - '0') < 10; p++, nd++)
		m = m * 10 + (uint64_t)(*p - '0');
	if (p < e && *p == '.') {
		for (f0 = ++p; p < e && (unsigned)(*p - '0') < 10; p++)
			m = m * 10 + (uint64_t)(*p - '0');
		frac = (size_t)(p - f0);
		nd += frac;
	}
	if (p != e || nd == 0 || nd > 19 || m > ((uint64_t)1 << 53) ||
	    frac > 22)
		return false;
	*v = (double)m / p10[frac];
	if (s[0] == '-')
		*v = -*v;
	return true;
}

/*
 * A decimal number as Binance writes it ("0.01634790", "8.4E-7"): no
 * spaces, no hex, no nan or inf.
 */
int
bt_parse_decimal(const char *s, size_t len, double *v)
{
	char buf[64], *end;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	if (isdigit((unsigned char)s[0]) || (s[0] == '-' && len > 1 &&
	    isdigit((unsigned char)s[1])))
		if (fast_decimal(s, len, v))
			return 0;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '+' && s[i] != 'e' && s[i] != 'E')
			return -1;
	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && len > 1 &&
	    isdigit((unsigned char)s[1])))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtod(buf, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(*v))
		return -1;
	return 0;
}

bool
bt_price_ok(double p)
{
	return isfinite(p) && p > 0 && p <= BT_VALUE_MAX;
}

/*
 * The first price or volume of c above BT_VALUE_MAX, into why: a number
 * that parses is not always a figure ("1e308" would make every later
 * indicator Inf or nonsense).
 */
static int
too_large(const struct bt_candle *c, char *why, size_t len)
{
	static const char *name[] = { "open", "high", "low", "close",
	    "volume", "quote volume", "taker buy base", "taker buy quote" };
	const double v[] = { c->o, c->h, c->l, c->c, c->v,
	    (c->has & BT_HAS_QV) ? c->qv : 0, (c->has & BT_HAS_TB) ? c->tb : 0,
	    (c->has & BT_HAS_TQ) ? c->tq : 0 };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (fabs(v[i]) > BT_VALUE_MAX) {
			snprintf(why, len, "%s %.6g is above %g: not a real "
			    "figure", name[i], v[i], BT_VALUE_MAX);
			return -1;
		}
	return 0;
}

int
bt_candle_check(const struct bt_candle *c, int64_t iv, char *why,
    size_t len)
{
	if (!isfinite(c->o) || !isfinite(c->h) || !isfinite(c->l) ||
	    !isfinite(c->c) || !isfinite(c->v) ||
	    ((c->has & BT_HAS_QV) && !isfinite(c->qv)) ||
	    ((c->has & BT_HAS_TB) && !isfinite(c->tb)) ||
	    ((c->has & BT_HAS_TQ) && !isfinite(c->tq))) {
		snprintf(why, len, "a price or volume is not finite");
		return -1;
	}
	if (c->o <= 0 || c->h <= 0 || c->l <= 0 || c->c <= 0) {
		snprintf(why, len, "a price is not positive");
		return -1;
	}
	if (too_large(c, why, len) == -1)
		return -1;
	if (c->h < c->l) {
		snprintf(why, len, "high %.8g is below low %.8g", c->h, c->l);
		return -1;
	}
	if (c->l > c->o || c->l > c->c || c->h < c->o || c->h < c->c) {
		snprintf(why, len, "open or close is outside low..high");
		return -1;
	}
	if (c->v < 0 || ((c->has & BT_HAS_QV) && c->qv < 0) ||
	    ((c->has & BT_HAS_TB) && c->tb < 0) ||
	    ((c->has & BT_HAS_TQ) && c->tq < 0) ||
	    ((c->has & BT_HAS_N) && c->n < 0)) {
		snprintf(why, len, "a volume or trade count is negative");
		return -1;
	}
	if (c->t < 0) {
		snprintf(why, len, "open time %lld is negative",
		    (long long)c->t);
		return -1;
	}
	if ((c->has & BT_HAS_CT) && (c->ct < c->t || c->ct >= c->t + iv)) {
		snprintf(why, len, "close time %lld is outside its interval",
		    (long long)c->ct);
		return -1;
	}
	return 0;
}

static int
jnum(json_t *a, size_t i, double *v)
{
	json_t *e = json_array_get(a, i);

	if (!json_is_string(e))
		return -1;
	return bt_parse_decimal(json_string_value(e), json_string_length(e), v);
}

static int
jint(json_t *a, size_t i, int64_t *v)
{
	json_t *e = json_array_get(a, i);

	if (!json_is_integer(e))
		return -1;
	*v = json_integer_value(e);
	return 0;
}

/*
 * An answer of JSON that is not of the shape asked for: Binance's error
 * object {"code":-1003,"msg":"..."} is said with its code and message,
 * anything else as `what'.  Returns BT_PARSE_MALFORMED.
 */
static int
malformed(json_t *root, const char *what, char *err)
{
	json_t *code = json_object_get(root, "code");
	const char *msg = json_string_value(json_object_get(root, "msg"));

	if (json_is_integer(code))
		snprintf(err, BT_ERRLEN, "Binance error %lld: %s",
		    (long long)json_integer_value(code), msg ? msg : "");
	else
		snprintf(err, BT_ERRLEN, "%s", what);
	return BT_PARSE_MALFORMED;
}

/* Fields by position in Binance's kline array, for messages. */
static const char *kfield[] = { "open time", "open", "high", "low", "close",
    "volume", "close time", "quote volume", "trades", "taker buy base",
    "taker buy quote" };

/*
 * A /api/v3/klines page: an array of 12-element arrays, times as numbers,
 * prices and volumes as strings.  Open times must strictly increase.
 */
int
bt_parse_klines(const char *body, size_t len, int64_t iv,
    struct bt_candle **out, size_t *nout, char *err)
{
	json_error_t je;
	json_t *root, *row;
	struct bt_candle *c = NULL, *k;
	size_t i, n;
	int bad = -1;
	char why[160];

	*out = NULL;
	*nout = 0;
	if ((root = load_arena(body, len, &je)) == NULL) {
		snprintf(err, BT_ERRLEN, "not JSON (%s at byte %d)", je.text,
		    je.position);
		arena_reset();
		return BT_PARSE_MALFORMED;
	}
	if (!json_is_array(root)) {
		bad = malformed(root, "not an array of klines", err);
		drop_arena(root);
		return bad;
	}
	n = json_array_size(root);
	if (n > 0 && (c = calloc(n, sizeof(*c))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		row = json_array_get(root, i);
		k = &c[i];
		if (!json_is_array(row) || json_array_size(row) < 12) {
			snprintf(err, BT_ERRLEN, "row %zu: not a 12-field "
			    "kline", i + 1);
			goto fail;
		}
		if (jint(row, 0, &k->t))
			bad = 0;
		else if (jnum(row, 1, &k->o))
			bad = 1;
		else if (jnum(row, 2, &k->h))
			bad = 2;
		else if (jnum(row, 3, &k->l))
			bad = 3;
		else if (jnum(row, 4, &k->c))
			bad = 4;
		else if (jnum(row, 5, &k->v))
			bad = 5;
		else if (jint(row, 6, &k->ct))
			bad = 6;
		else if (jnum(row, 7, &k->qv))
			bad = 7;
		else if (jint(row, 8, &k->n))
			bad = 8;
		else if (jnum(row, 9, &k->tb))
			bad = 9;
		else if (jnum(row, 10, &k->tq))
			bad = 10;
		if (bad >= 0) {
			snprintf(err, BT_ERRLEN, "row %zu: %s is not a %s",
			    i + 1, kfield[bad], bad == 0 || bad == 6 ||
			    bad == 8 ? "JSON integer" : "decimal string");
			goto fail;
		}
		k->has = BT_HAS_ALL;
		if (bt_candle_check(k, iv, why, sizeof(why)) == -1) {
			snprintf(err, BT_ERRLEN, "row %zu: %s", i + 1, why);
			goto fail;
		}
		if (i > 0 && k->t <= c[i - 1].t) {
			snprintf(err, BT_ERRLEN, "row %zu: open time %lld %s",
			    i + 1, (long long)k->t, k->t == c[i - 1].t ?
			    "repeats" : "is out of order");
			goto fail;
		}
	}
	drop_arena(root);
	*out = c;
	*nout = n;
	return 0;
fail:
	drop_arena(root);
	free(c);
	return -1;
}

/* ------------------------------------------------------------------ CSV */

/*
 * The next line of buf..end, cut into at most 64 fields in place (each
 * NUL-terminated, f[*nf] just past the last; -1: more), a CR before its
 * newline dropped; NULL after the last line.  One pass, no strlen().
 */
static char *
fields(char **p, char *end, size_t *lineno, char **f, int *nf)
{
	char *line = *p, *nl, *q, *e;

	if (line >= end)
		return NULL;
	(*lineno)++;
	nl = memchr(line, '\n', (size_t)(end - line));
	e = nl != NULL ? nl : end;
	*p = nl != NULL ? nl + 1 : end;
	if (e > line && e[-1] == '\r')
		e--;
	*e = '\0';
	*nf = 0;
	for (q = line; *nf < 64; ) {
		f[(*nf)++] = q;
		if ((q = memchr(q, ',', (size_t)(e - q))) == NULL)
			break;
		*q++ = '\0';
	}
	if (q != NULL)
		*nf = -1;
	else
		f[*nf] = e + 1;
	return line;
}

/* Digits only, up to 18 of them (strtoll's work, without its locale). */
static int
csv_int(const char *s, int64_t *v)
{
	int64_t x = 0;
	size_t i;

	for (i = 0; (unsigned)(s[i] - '0') < 10; i++) {
		if (i == 18)
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] != '\0')
		return -1;
	*v = x;
	return 0;
}

/* Field i of fields() as a decimal, its length known. */
static int
fnum(char **f, int i, double *v)
{
	return bt_parse_decimal(f[i], (size_t)(f[i + 1] - f[i] - 1), v);
}

/*
 * data.binance.vision kline CSV: 12 columns, no header (spot) or a
 * header line (futures, and files that users edited).  Times are in ms
 * before 2025 and in us from 2025 for spot; we store ms.  Parsed in
 * place, as the OHLCV CSV is: the files are megabytes, a copy cost more
 * than the store's read of the same candles.
 */
int
bt_parse_kline_csv(const char *name, char *buf, size_t len,
    int64_t iv, struct bt_candle **out, size_t *nout, char *err)
{
	struct bt_candle *c = NULL, *k;
	size_t n = 0, cap = 0, lineno = 0;
	char *line, *p, *f[65], why[160];
	int nf;

	*out = NULL;
	*nout = 0;
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, BT_ERRLEN, "%s: binary data, not CSV", name);
		return -1;
	}
	/* Room for every line: one count, no copy of a growing array. */
	for (p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL;
	    p++)
		cap++;
	if ((c = malloc(++cap * sizeof(*c))) == NULL)
		abort();
	for (p = buf; (line = fields(&p, buf + len, &lineno, f, &nf)) !=
	    NULL; ) {
		if (nf == 1 && *line == '\0')
			continue;
		if (lineno == 1 && !isdigit((unsigned char)*line))
			continue;		/* a header */
		if (nf != 12) {
			snprintf(err, BT_ERRLEN, "%s:%zu: %s fields, expected "
			    "12", name, lineno, nf < 0 || nf > 12 ?
			    "more than 12" : (snprintf(why, sizeof(why), "%d",
			    nf), why));
			goto fail;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((c = realloc(c, cap * sizeof(*c))) == NULL)
				abort();
		}
		k = &c[n];
		memset(k, 0, sizeof(*k));
		if (csv_int(f[0], &k->t) || fnum(f, 1, &k->o) ||
		    fnum(f, 2, &k->h) || fnum(f, 3, &k->l) ||
		    fnum(f, 4, &k->c) || fnum(f, 5, &k->v) ||
		    csv_int(f[6], &k->ct) || fnum(f, 7, &k->qv) ||
		    csv_int(f[8], &k->n) || fnum(f, 9, &k->tb) ||
		    fnum(f, 10, &k->tq)) {
			snprintf(err, BT_ERRLEN, "%s:%zu: a field is not a "
			    "number", name, lineno);
			goto fail;
		}
		if (k->t > US_THRESHOLD) {
			k->t /= 1000;
			k->ct /= 1000;
		}
		k->has = BT_HAS_ALL;
		if (bt_candle_check(k, iv, why, sizeof(why)) == -1) {
			snprintf(err, BT_ERRLEN, "%s:%zu: %s", name, lineno,
			    why);
			goto fail;
		}
		if (n > 0 && k->t <= c[n - 1].t) {
			snprintf(err, BT_ERRLEN, "%s:%zu: open time %lld %s",
			    name, lineno, (long long)k->t, k->t == c[n - 1].t ?
			    "repeats" : "is out of order");
			goto fail;
		}
		n++;
	}
	*out = c;
	*nout = n;
	return 0;
fail:
	free(c);
	return -1;
}

/* freqtrade's data files: [[open_ms, o, h, l, c, v], ...], numbers. */
int
bt_parse_freqtrade(const char *name, const char *buf, size_t len,
    int64_t iv, struct bt_candle **out, size_t *nout, char *err)
{
	json_error_t je;
	json_t *root, *row, *e;
	struct bt_candle *c = NULL, *k;
	size_t i, j, n;
	double *dst[5];
	char why[160];

	*out = NULL;
	*nout = 0;
	if ((root = json_loadb(buf, len, 0, &je)) == NULL) {
		snprintf(err, BT_ERRLEN, "%s:%d: not JSON: %s", name, je.line,
		    je.text);
		return -1;
	}
	if (!json_is_array(root)) {
		snprintf(err, BT_ERRLEN, "%s: not an array of candles", name);
		json_decref(root);
		return -1;
	}
	n = json_array_size(root);
	if (n > 0 && (c = calloc(n, sizeof(*c))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		row = json_array_get(root, i);
		k = &c[i];
		if (!json_is_array(row) || json_array_size(row) < 6) {
			snprintf(err, BT_ERRLEN, "%s: candle %zu: not "
			    "[time, open, high, low, close, volume]", name,
			    i + 1);
			goto fail;
		}
		e = json_array_get(row, 0);
		if (!json_is_integer(e)) {
			snprintf(err, BT_ERRLEN, "%s: candle %zu: time is not "
			    "an integer", name, i + 1);
			goto fail;
		}
		k->t = json_integer_value(e);
		if (k->t > US_THRESHOLD)
			k->t /= 1000;
		dst[0] = &k->o;
		dst[1] = &k->h;
		dst[2] = &k->l;
		dst[3] = &k->c;
		dst[4] = &k->v;
		for (j = 0; j < 5; j++) {
			e = json_array_get(row, j + 1);
			if (!json_is_number(e)) {
				snprintf(err, BT_ERRLEN, "%s: candle %zu: "
				    "field %zu is not a number", name, i + 1,
				    j + 2);
				goto fail;
			}
			*dst[j] = json_number_value(e);
		}
		k->has = 0;
		if (bt_candle_check(k, iv, why, sizeof(why)) == -1) {
			snprintf(err, BT_ERRLEN, "%s: candle %zu: %s", name,
			    i + 1, why);
			goto fail;
		}
		if (i > 0 && k->t <= c[i - 1].t) {
			snprintf(err, BT_ERRLEN, "%s: candle %zu: time %lld %s",
			    name, i + 1, (long long)k->t, k->t == c[i - 1].t ?
			    "repeats" : "is out of order");
			goto fail;
		}
	}
	json_decref(root);
	*out = c;
	*nout = n;
	return 0;
fail:
	json_decref(root);
	free(c);
	return -1;
}

/* ------------------------------------------------------------ gap records */

/*
 * contracts.md: a line with symbol, tf, from and to is a gap record; any
 * other line is ignored, so whole outputs can be piped.  A line that has
 * the four fields but wrong values is an error.
 */
int
bt_parse_gap(const char *line, struct bt_gap *g, char *err)
{
	json_t *o, *sym, *tf, *from, *to;
	json_error_t je;
	int rc = 0;

	if ((o = json_loads(line, 0, &je)) == NULL)
		return 0;
	if (!json_is_object(o))
		goto out;
	sym = json_object_get(o, "symbol");
	tf = json_object_get(o, "tf");
	from = json_object_get(o, "from");
	to = json_object_get(o, "to");
	if (sym == NULL || tf == NULL || from == NULL || to == NULL)
		goto out;
	rc = -1;
	if (!json_is_string(sym) || !bt_symbol_ok(json_string_value(sym)))
		snprintf(err, BT_ERRLEN, "symbol is not a Binance symbol");
	else if (!json_is_string(tf) || bt_tf_ms(json_string_value(tf)) == 0)
		snprintf(err, BT_ERRLEN, "tf is not a Binance interval");
	else if (!json_is_integer(from) || !json_is_integer(to) ||
	    json_integer_value(from) < 0 ||
	    json_integer_value(to) < json_integer_value(from))
		snprintf(err, BT_ERRLEN, "from and to are not ms times with "
		    "from <= to");
	else {
		snprintf(g->symbol, sizeof(g->symbol), "%s",
		    json_string_value(sym));
		snprintf(g->tf, sizeof(g->tf), "%s", json_string_value(tf));
		g->from = json_integer_value(from);
		g->to = json_integer_value(to);
		rc = 1;
	}
out:
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------- market context */

const char *const bt_ticker_keys[BT_TICKER_NF] = { "priceChangePercent",
    "lastPrice", "weightedAvgPrice", "highPrice", "lowPrice", "volume",
    "quoteVolume", "count" };
const char *const bt_ticker_metrics[BT_TICKER_NF] = {
    "ticker_price_change_pct", "ticker_last_price",
    "ticker_weighted_avg_price", "ticker_high", "ticker_low",
    "ticker_volume", "ticker_quote_volume", "ticker_trades" };

/* ---------------------------------------------------------------- values */

/* A time: a JSON integer, or a string of 1..19 digits. */
static int
jtime(json_t *e, int64_t *t)
{
	const char *s;
	size_t len, i;

	if (json_is_integer(e)) {
		*t = json_integer_value(e);
		return *t > 0 ? 0 : -1;
	}
	if (!json_is_string(e))
		return -1;
	s = json_string_value(e);
	len = json_string_length(e);
	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	*t = strtoll(s, NULL, 10);
	return *t > 0 ? 0 : -1;
}

/* A value: a decimal string or a JSON number.  1: absent or "". */
static int
jvalue(json_t *e, double *v)
{
	if (e == NULL || json_is_null(e) ||
	    (json_is_string(e) && json_string_length(e) == 0))
		return 1;
	if (json_is_integer(e)) {
		*v = (double)json_integer_value(e);
		return 0;
	}
	if (json_is_real(e)) {
		*v = json_real_value(e);
		return isfinite(*v) ? 0 : -1;
	}
	if (json_is_string(e))
		return bt_parse_decimal(json_string_value(e),
		    json_string_length(e), v);
	return -1;
}

static json_t *
load(const char *body, size_t len, char *err)
{
	json_t *root;
	json_error_t je;

	if ((root = json_loadb(body, len, 0, &je)) == NULL)
		snprintf(err, BT_ERRLEN, "not JSON: %s (line %d, column %d)",
		    je.text, je.line, je.column);
	return root;
}

/* -------------------------------------------------------------- futures */

int
bt_parse_futures(const char *body, size_t len, const char *symbol,
    const char *tkey, const char *const *keys, int nk, int nreq,
    struct bt_sent_row **out, size_t *n, char *err)
{
	json_t *root, *row, *sym;
	struct bt_sent_row *v = NULL;
	size_t i;
	int k, r, rc = -1;

	*out = NULL;
	*n = 0;
	if (nk < 1 || nk > BT_SENT_MAXF) {
		snprintf(err, BT_ERRLEN, "%d value fields asked for", nk);
		return -1;
	}
	if ((root = load(body, len, err)) == NULL)
		return BT_PARSE_MALFORMED;
	if (!json_is_array(root)) {
		rc = malformed(root, "not a JSON array", err);
		goto fail;
	}
	if (json_array_size(root) > 0 &&
	    (v = calloc(json_array_size(root), sizeof(*v))) == NULL)
		abort();
	json_array_foreach(root, i, row) {
		if (!json_is_object(row)) {
			snprintf(err, BT_ERRLEN, "row %zu: not an object", i + 1);
			goto fail;
		}
		/* A row of another symbol than the one asked is not ours. */
		sym = json_object_get(row, "symbol");
		if (symbol != NULL && sym != NULL && (!json_is_string(sym) ||
		    strcmp(json_string_value(sym), symbol) != 0)) {
			snprintf(err, BT_ERRLEN, "row %zu: symbol %.24s is not "
			    "%s, the one asked for", i + 1,
			    json_is_string(sym) ? json_string_value(sym) :
			    "(not a string)", symbol);
			goto fail;
		}
		if (jtime(json_object_get(row, tkey), &v[i].t) == -1) {
			snprintf(err, BT_ERRLEN, "row %zu: %s %s", i + 1, tkey,
			    json_object_get(row, tkey) ? "is not a time in ms" :
			    "is missing");
			goto fail;
		}
		if (i > 0 && v[i].t <= v[i - 1].t) {
			snprintf(err, BT_ERRLEN, "row %zu: %s %lld is not after "
			    "the row before (%lld)", i + 1, tkey,
			    (long long)v[i].t, (long long)v[i - 1].t);
			goto fail;
		}
		for (k = 0; k < nk; k++) {
			r = jvalue(json_object_get(row, keys[k]), &v[i].v[k]);
			if (r == 1 && k >= nreq) {
				v[i].v[k] = NAN;
				continue;
			}
			if (r != 0) {
				snprintf(err, BT_ERRLEN, "row %zu: %s %s", i + 1,
				    keys[k], r == 1 ? "is missing" :
				    "is not a decimal number");
				goto fail;
			}
		}
	}
	*n = json_array_size(root);
	*out = v;
	json_decref(root);
	return 0;
fail:
	free(v);
	json_decref(root);
	return rc;
}

/* --------------------------------------------------------------- ticker */

static int
ticker_row(json_t *o, size_t i, struct bt_ticker_row *r, char *err)
{
	const char *sym;
	int k;

	if (!json_is_object(o)) {
		snprintf(err, BT_ERRLEN, "row %zu: not an object", i + 1);
		return -1;
	}
	sym = json_string_value(json_object_get(o, "symbol"));
	if (sym == NULL || !bt_symbol_ok(sym)) {
		snprintf(err, BT_ERRLEN, "row %zu: symbol is missing or not a "
		    "Binance symbol", i + 1);
		return -1;
	}
	snprintf(r->symbol, sizeof(r->symbol), "%s", sym);
	if (jtime(json_object_get(o, "closeTime"), &r->t) == -1) {
		snprintf(err, BT_ERRLEN, "row %zu (%s): closeTime is missing "
		    "or not a time in ms", i + 1, sym);
		return -1;
	}
	for (k = 0; k < BT_TICKER_NF; k++)
		if (jvalue(json_object_get(o, bt_ticker_keys[k]), &r->v[k]) !=
		    0) {
			snprintf(err, BT_ERRLEN, "row %zu (%s): %s is missing "
			    "or not a number", i + 1, sym, bt_ticker_keys[k]);
			return -1;
		}
	return 0;
}

int
bt_parse_ticker(const char *body, size_t len, struct bt_ticker_row **out,
    size_t *n, char *err)
{
	json_t *root, *o;
	struct bt_ticker_row *v = NULL;
	size_t i, cnt;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if ((root = load(body, len, err)) == NULL)
		return BT_PARSE_MALFORMED;
	/* One symbol asked for alone comes as an object. */
	cnt = json_is_array(root) ? json_array_size(root) :
	    json_is_object(root) ? 1 : 0;
	if ((!json_is_array(root) && !json_is_object(root)) ||
	    (json_is_object(root) && json_object_get(root, "symbol") == NULL)) {
		rc = malformed(root, "not a JSON array or object", err);
		goto fail;
	}
	if (cnt > 0 && (v = calloc(cnt, sizeof(*v))) == NULL)
		abort();
	for (i = 0; i < cnt; i++) {
		o = json_is_array(root) ? json_array_get(root, i) : root;
		if (ticker_row(o, i, &v[i], err) == -1)
			goto fail;
	}
	*n = cnt;
	*out = v;
	json_decref(root);
	return 0;
fail:
	free(v);
	json_decref(root);
	return rc;
}

/* ----------------------------------------------------------------- FRED */

static int
fred_date(const char *s, size_t len, int64_t *ms)
{
	size_t i;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < len; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	return bt_parse_time(s, ms);
}

int
bt_parse_fred(const char *body, size_t len, struct bt_fred_obs **out,
    size_t *n, int64_t *count, char *err)
{
	json_t *root, *obs, *o, *d, *val;
	struct bt_fred_obs *v = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	*n = 0;
	*count = -1;
	if ((root = load(body, len, err)) == NULL)
		return BT_PARSE_MALFORMED;
	obs = json_object_get(root, "observations");
	if (!json_is_object(root) || !json_is_array(obs)) {
		snprintf(err, BT_ERRLEN, "no observations array%s",
		    json_object_get(root, "error_message") ?
		    " (an error object)" : "");
		rc = BT_PARSE_MALFORMED;
		goto fail;
	}
	if (json_is_integer(json_object_get(root, "count")))
		*count = json_integer_value(json_object_get(root, "count"));
	if (json_array_size(obs) > 0 &&
	    (v = calloc(json_array_size(obs), sizeof(*v))) == NULL)
		abort();
	json_array_foreach(obs, i, o) {
		d = json_object_get(o, "date");
		val = json_object_get(o, "value");
		if (!json_is_string(d) || fred_date(json_string_value(d),
		    json_string_length(d), &v[i].date) == -1) {
			snprintf(err, BT_ERRLEN, "observation %zu: date is "
			    "missing or not YYYY-MM-DD", i + 1);
			goto fail;
		}
		if (i > 0 && v[i].date <= v[i - 1].date) {
			snprintf(err, BT_ERRLEN, "observation %zu (%s): dates "
			    "are not ascending", i + 1, json_string_value(d));
			goto fail;
		}
		if (!json_is_string(val)) {
			snprintf(err, BT_ERRLEN, "observation %zu (%s): value "
			    "is missing or not a string", i + 1,
			    json_string_value(d));
			goto fail;
		}
		if (strcmp(json_string_value(val), ".") == 0)
			v[i].v = NAN;	/* FRED's missing value */
		else if (bt_parse_decimal(json_string_value(val),
		    json_string_length(val), &v[i].v) == -1) {
			snprintf(err, BT_ERRLEN, "observation %zu (%s): value "
			    "'%.40s' is not a number", i + 1,
			    json_string_value(d), json_string_value(val));
			goto fail;
		}
	}
	*n = json_array_size(obs);
	*out = v;
	json_decref(root);
	return 0;
fail:
	free(v);
	json_decref(root);
	return rc;
}

char *
bt_fred_error(const char *body, size_t len)
{
	json_t *root;
	json_error_t je;
	const char *m;
	char *s = NULL;

	if ((root = json_loadb(body, len, 0, &je)) == NULL)
		return NULL;
	if ((m = json_string_value(json_object_get(root, "error_message"))) !=
	    NULL && (s = strdup(m)) == NULL)
		abort();
	json_decref(root);
	return s;
}

/* ------------------------------------------- bt-backtest's candle files */

/* A line's reason, "name:line: ...", into err. */
static void __attribute__((format(printf, 4, 5)))
line_error(char *err, const char *name, size_t lineno, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(err, BT_ERRLEN, "%s:%zu: ", name, lineno);
	if (k < 0 || k >= BT_ERRLEN)
		return;
	va_start(ap, fmt);
	vsnprintf(err + k, BT_ERRLEN - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Room in p for row n of sz bytes: *cap doubles, from `first'. */
static void *
grow(void *p, size_t n, size_t *cap, size_t sz, size_t first)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : first;
	if ((p = realloc(p, *cap * sz)) == NULL)
		abort();
	return p;
}

/*
 * The next line of a NUL-terminated buffer, cut in place and counted in
 * *lineno; NULL after the last.  The backtest's three line formats share
 * it: OHLCV CSV, candle JSON lines and signals.
 */
static char *
next_line(char **p, size_t *lineno)
{
	char *line = *p, *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	(*lineno)++;
	if ((nl = strchr(line, '\n')) != NULL)
		*nl++ = '\0';
	*p = nl;
	return line;
}

/* A date column: ISO 8601, or epoch seconds, ms or us by magnitude. */
static int
csv_date(const char *s, int64_t *ms)
{
	char *end;
	long long v;

	if (*s != '\0' && s[strspn(s, "0123456789")] == '\0') {
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

/*
 * A field of fields(): field i without the blanks and quotes around it
 * (cut in place), its length in *len.
 */
static char *
trimfl(char **f, int i, size_t *len)
{
	char *s = f[i], *e = f[i + 1] - 1;

	while (s < e && (*s == ' ' || *s == '\t' || *s == '"'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '"'))
		e--;
	*e = '\0';
	*len = (size_t)(e - s);
	return s;
}

/* The OHLCV CSV header: the columns of open..volume, by name. */
static const char *ohlcv_names[] = { "open", "high", "low", "close",
    "volume" };

static int
ohlcv_header(const char *name, size_t lineno, char **f, int nf, int col[5],
    char *err)
{
	size_t len;
	int i, j;

	for (i = 1; i < nf; i++)
		for (j = 0; j < 5; j++)
			if (strcasecmp(trimfl(f, i, &len), ohlcv_names[j]) == 0)
				col[j] = i;
	for (i = 0; i < 4; i++)
		if (col[i] < 0) {
			line_error(err, name, lineno, "no '%s' column in the "
			    "header", ohlcv_names[i]);
			return -1;
		}
	return 0;
}

/* One OHLCV CSV row into k: the date, then the columns found by name. */
static int
ohlcv_row(const char *name, size_t lineno, char **f, const int col[5],
    struct bt_candle *k, char *err)
{
	double *dst[5] = { &k->o, &k->h, &k->l, &k->c, &k->v };
	const char *v;
	char why[160];
	size_t len;
	int i;

	memset(k, 0, sizeof(*k));
	if (csv_date(trimfl(f, 0, &len), &k->t) == -1) {
		line_error(err, name, lineno, "'%s' is not a date", f[0]);
		return -1;
	}
	for (i = 0; i < 5; i++) {
		if (col[i] < 0)
			continue;
		v = trimfl(f, col[i], &len);
		if (bt_parse_decimal(v, len, dst[i]) == -1) {
			line_error(err, name, lineno, "%s '%s' is not a number",
			    ohlcv_names[i], v);
			return -1;
		}
	}
	if (bt_candle_check(k, BT_LOOSE_IV, why, sizeof(why)) == -1) {
		line_error(err, name, lineno, "%s", why);
		return -1;
	}
	return 0;
}

/*
 * OHLCV CSV with a header whose first column is the date, as pandas
 * writes it (",Open,High,Low,Close,Volume").  Columns are found by name,
 * case-insensitively; Volume is optional.  Dates must increase.
 */
int
bt_parse_ohlcv_csv(const char *name, char *buf, struct bt_candle **out,
    size_t *nout, char *err)
{
	struct bt_candle *c = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char *p = buf, *end = buf + strlen(buf), *line, *f[65];
	int nf, hf = 0, col[5] = { -1, -1, -1, -1, -1 };

	*out = NULL;
	*nout = 0;
	/* Room for every line: one count, no copy of a growing array. */
	for (line = buf; (line = memchr(line, '\n', (size_t)(end - line))) !=
	    NULL; line++)
		cap++;
	if ((c = malloc(++cap * sizeof(*c))) == NULL)
		abort();
	while ((line = fields(&p, end, &lineno, f, &nf)) != NULL) {
		if (nf == 1 && *line == '\0')
			continue;	/* an empty line */
		if (nf == -1) {
			line_error(err, name, lineno, "more than 63 columns");
			goto fail;
		}
		if (hf == 0) {
			hf = nf;
			if (ohlcv_header(name, lineno, f, nf, col, err) == -1)
				goto fail;
			continue;
		}
		if (nf != hf) {
			line_error(err, name, lineno, "%d fields, the header "
			    "has %d", nf, hf);
			goto fail;
		}
		c = grow(c, n, &cap, sizeof(*c), 1024);
		if (ohlcv_row(name, lineno, f, col, &c[n], err) == -1)
			goto fail;
		if (n > 0 && c[n].t <= c[n - 1].t) {
			line_error(err, name, lineno, "date %s %s", f[0],
			    c[n].t == c[n - 1].t ? "repeats" :
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

/* A line of JSON lines as an object; NULL (err set) when it is none. */
static json_t *
line_object(const char *name, size_t lineno, const char *line, size_t flags,
    char *err)
{
	json_error_t je;
	json_t *o;

	if ((o = json_loads(line, flags, &je)) == NULL)
		line_error(err, name, lineno, "%s", je.text);
	return o;
}

/* A field of a line's object as a number: a JSON number or a decimal. */
static int
line_field(json_t *o, const char *a, const char *b, double *v)
{
	json_t *e = json_object_get(o, a);

	if (e == NULL && b != NULL)
		e = json_object_get(o, b);
	return jvalue(e, v) == 0 ? 0 : -1;
}

/* A line's time: integer ms (not negative), or an ISO 8601 string. */
static int
line_time(json_t *e, int64_t *ms)
{
	if (json_is_integer(e)) {
		*ms = json_integer_value(e);
		return *ms >= 0 ? 0 : -1;
	}
	if (json_is_string(e))
		return bt_parse_time(json_string_value(e), ms);
	return -1;
}

/* One candle line's object into k and its symbol (defsym when none). */
static int
candle_line(json_t *o, const char *defsym, struct bt_line_candle *k,
    const char *name, size_t lineno, char *err)
{
	json_t *e;
	char why[160];

	memset(k, 0, sizeof(*k));
	snprintf(k->symbol, sizeof(k->symbol), "%s", defsym);
	if ((e = json_object_get(o, "symbol")) != NULL) {
		if (!json_is_string(e) || !bt_symbol_ok(json_string_value(e))) {
			line_error(err, name, lineno, "symbol is not a symbol "
			    "(^[A-Z0-9]{2,20}$)");
			return -1;
		}
		snprintf(k->symbol, sizeof(k->symbol), "%s",
		    json_string_value(e));
	}
	if ((e = json_object_get(o, "timestamp")) == NULL)
		e = json_object_get(o, "t");
	if (line_time(e, &k->c.t) == -1 ||
	    line_field(o, "open", "o", &k->c.o) == -1 ||
	    line_field(o, "high", "h", &k->c.h) == -1 ||
	    line_field(o, "low", "l", &k->c.l) == -1 ||
	    line_field(o, "close", "c", &k->c.c) == -1) {
		line_error(err, name, lineno, "needs timestamp, open, high, "
		    "low and close as numbers");
		return -1;
	}
	if (line_field(o, "volume", "v", &k->c.v) == -1)
		k->c.v = 0;
	if (bt_candle_check(&k->c, BT_LOOSE_IV, why, sizeof(why)) == -1) {
		line_error(err, name, lineno, "%s", why);
		return -1;
	}
	return 0;
}

/*
 * JSON lines of candles: {"symbol":..,"timestamp":..,"open":..,"high":..,
 * "low":..,"close":..,"volume":..} (the seed's column names; t, o, h, l,
 * c, v also do).  symbol is optional (defsym); lines for several symbols
 * mix.  Candles come back in the order of the lines.
 */
int
bt_parse_candle_lines(const char *name, char *buf, const char *defsym,
    struct bt_line_candle **out, size_t *nout, char *err)
{
	struct bt_line_candle *c = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char *p = buf, *line;
	json_t *o;
	int rc;

	*out = NULL;
	*nout = 0;
	while ((line = next_line(&p, &lineno)) != NULL) {
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if ((o = line_object(name, lineno, line,
		    JSON_REJECT_DUPLICATES, err)) == NULL)
			goto fail;
		c = grow(c, n, &cap, sizeof(*c), 1024);
		if (!json_is_object(o)) {
			line_error(err, name, lineno, "not a JSON object");
			rc = -1;
		} else
			rc = candle_line(o, defsym, &c[n], name, lineno, err);
		json_decref(o);
		if (rc == -1)
			goto fail;
		n++;
	}
	*out = c;
	*nout = n;
	return 0;
fail:
	free(c);
	return -1;
}

/* ------------------------------------------------------------- signals */

static int
cmp_signal(const void *a, const void *b)
{
	const struct bt_signal *x = a, *y = b;
	int c = strcmp(x->symbol, y->symbol);

	if (c != 0)
		return c;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* One signal line's fields into g, checked against the rules. */
static int
signal_line(json_t *sy, json_t *tm, json_t *po,
    const struct bt_signal_rules *rl, struct bt_signal *g, const char *name,
    char *err)
{
	char ts[32], ts2[32], ts3[32];

	if (!json_is_string(sy) || !bt_symbol_ok(json_string_value(sy))) {
		line_error(err, name, g->line, "symbol is missing or not a "
		    "symbol");
		return -1;
	}
	snprintf(g->symbol, sizeof(g->symbol), "%s", json_string_value(sy));
	if (line_time(tm, &g->t) == -1) {
		line_error(err, name, g->line, "timestamp is missing or not a "
		    "time (ms since the epoch, or ISO 8601)");
		return -1;
	}
	if (!json_is_number(po) || !(fabs(json_number_value(po)) <= 1)) {
		line_error(err, name, g->line, "position is missing or outside "
		    "-1..1");
		return -1;
	}
	g->pos = json_number_value(po);
	if (g->pos < 0 && !rl->shorts) {
		line_error(err, name, g->line, "position %g is short; allow "
		    "shorts with --short", g->pos);
		return -1;
	}
	/* Look-ahead: the bar opened at t closes at t + iv - 1. */
	if (rl->iv > 0 && g->t + rl->iv - 1 >= rl->now) {
		line_error(err, name, g->line, "look-ahead: the %s bar opened "
		    "at %s closes at %s, after now (%s); a signal may only use "
		    "closed bars", rl->tf, bt_fmt_time(g->t, ts),
		    bt_fmt_time(g->t + rl->iv - 1, ts2),
		    bt_fmt_time(rl->now, ts3));
		return -1;
	}
	return 0;
}

/*
 * External signals, JSON lines (contracts.md): {"symbol":..,"timestamp":
 * <open time of the bar whose close produced it>,"position":-1..1}.
 * Lines with none of the three fields are ignored, so whole outputs can
 * be piped; a line with some of them must be a valid signal.  They come
 * back sorted by symbol, time and line; two for one bar are refused.
 */
int
bt_parse_signals(const char *name, char *buf,
    const struct bt_signal_rules *rl, struct bt_signal **out, size_t *nout,
    char *err)
{
	struct bt_signal *g = NULL;
	size_t n = 0, cap = 0, lineno = 0, i;
	char *p = buf, *line;
	json_t *o, *sy, *tm, *po;
	int rc;

	*out = NULL;
	*nout = 0;
	while ((line = next_line(&p, &lineno)) != NULL) {
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if ((o = line_object(name, lineno, line, 0, err)) == NULL)
			goto fail;
		sy = json_object_get(o, "symbol");
		tm = json_object_get(o, "timestamp");
		po = json_object_get(o, "position");
		if (sy == NULL && tm == NULL && po == NULL) {
			json_decref(o);
			continue;
		}
		g = grow(g, n, &cap, sizeof(*g), 256);
		g[n].line = lineno;
		rc = signal_line(sy, tm, po, rl, &g[n], name, err);
		json_decref(o);
		if (rc == -1)
			goto fail;
		n++;
	}
	if (n > 1)	/* none: g is NULL, which qsort may not get */
		qsort(g, n, sizeof(*g), cmp_signal);
	for (i = 1; i < n; i++)
		if (strcmp(g[i].symbol, g[i - 1].symbol) == 0 &&
		    g[i].t == g[i - 1].t) {
			line_error(err, name, g[i].line, "repeats the %s "
			    "signal of line %zu", g[i].symbol, g[i - 1].line);
			goto fail;
		}
	*out = g;
	*nout = n;
	return 0;
fail:
	free(g);
	return -1;
}
