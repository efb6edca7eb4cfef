/*
 * bt_input.c - what a backtest reads: a symbol's candles from the store
 * (one read-only statement per pair) or from files (every format of
 * bt_parse.c that carries candles), cut to the window with its warm-up
 * (struct series); the symbols to test; the signals file.
 *
 * Invariants:
 * - The store is opened read-only, and each pair is read by one statement,
 *   so no read transaction outlives a load and the live store's
 *   checkpoints are never starved.  The state file is never opened.
 * - Indicators are computed from the pair's first stored candle unless
 *   --warmup bounds it, so the series holds every stored bar before the
 *   window; the backtesting.py mode has no warm-up (backtesting.py sees
 *   only the window).
 * - File input has one bar interval per run: given (--tf), named by the
 *   file names, said by close times, or else the most common spacing;
 *   --resample aggregates it as it is.
 * - A bar size the store does not hold is built from the finest stored
 *   timeframe that divides it (bt_bars.c); a bin with a missing candle is
 *   left out, counted in the series for the program's WARNING.
 * - In the backtesting.py mode --lot is FractionalBacktest's unit: the
 *   prices are scaled by it here, once, for everything downstream.
 * - A window of fewer than 2 bars leaves the symbol out (1), not the run.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bt_conf.h"
#include "bt_input.h"
#include "bt_lock.h"
#include "bt_migrate.h"

/* A bar size's length: months at their nominal length. */
static int64_t
bar_iv(const struct bt_bar *b)
{
	return b->months > 0 ? BT_MONTH_MS * b->months : b->ms;
}

/* Candles read from files, by symbol. */
struct src {
	char		 symbol[24];
	char		 file[256];	/* the first file, for messages */
	struct bt_candle *c;		/* while the files are read */
	size_t		 n, cap;
	int64_t		 iv;
	struct series	 all;		/* then: every bar, as the engine reads */
};

void
bt_input_init(struct input *in)
{
	memset(in, 0, sizeof(*in));
	in->from = in->to = -1;
	in->warmup = -1;
}

void
bt_series_clear(struct series *s)
{
	if (!s->borrowed)
		free(s->t);
	memset(s, 0, sizeof(*s));
}

/* Room for n bars in the arrays the engine reads (one allocation). */
static void
series_alloc(struct series *s, const char *sym, int64_t iv,
    const struct bt_bar *bar, size_t n)
{
	char *blk;

	bt_series_clear(s);
	snprintf(s->symbol, sizeof(s->symbol), "%s", sym);
	s->iv = iv;
	s->bar = *bar;
	s->n = n;
	blk = bt_xcalloc(n, sizeof(int64_t) + 4 * sizeof(double));
	s->t = (int64_t *)blk;
	s->o = (double *)(blk + n * sizeof(int64_t));
	s->h = s->o + n;
	s->l = s->h + n;
	s->c = s->l + n;
}

/* Copies candles into the arrays the engine reads. */
static void
series_set(struct series *s, const char *sym, int64_t iv,
    const struct bt_bar *bar, const struct bt_candle *c, size_t n)
{
	size_t i;

	series_alloc(s, sym, iv, bar, n);
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
 * The window of all of one symbol's bars, as files and built bars have
 * them: --last, or --from/--to, as for the store; before it the warm-up
 * (--warmup n: n bars; the backtesting.py mode: none).  With `borrow' s
 * points into all's arrays, else it has its own copy.
 */
static int
window(const struct input *in, const struct series *all, bool borrow,
    struct series *s, char *err)
{
	const int64_t *t = all->t;
	size_t lo = 0, hi = all->n, w0, n;

	while (hi > lo && in->to >= 0 && t[hi - 1] > in->to)
		hi--;
	if (in->from >= 0) {
		for (w0 = lo; w0 < hi && t[w0] < in->from; w0++)
			;
	} else {
		w0 = in->last > 0 && hi - lo > (size_t)in->last ?
		    hi - (size_t)in->last : lo;
	}
	if (in->compat)
		lo = w0;
	else if (in->warmup >= 0 && w0 - lo > (size_t)in->warmup)
		lo = w0 - (size_t)in->warmup;
	if (hi < w0 + 2) {
		snprintf(err, BT_ERRLEN, "%s: %zu candles in the window, need "
		    "2", all->symbol, hi > w0 ? hi - w0 : 0);
		return 1;
	}
	n = hi - lo;
	if (borrow) {
		bt_series_clear(s);
		*s = *all;
		s->t = all->t + lo;
		s->o = all->o + lo;
		s->h = all->h + lo;
		s->l = all->l + lo;
		s->c = all->c + lo;
		s->borrowed = true;
	} else {
		series_alloc(s, all->symbol, all->iv, &all->bar, n);
		memcpy(s->t, all->t + lo, n * sizeof(*s->t));
		memcpy(s->o, all->o + lo, n * sizeof(*s->o));
		memcpy(s->h, all->h + lo, n * sizeof(*s->h));
		memcpy(s->l, all->l + lo, n * sizeof(*s->l));
		memcpy(s->c, all->c + lo, n * sizeof(*s->c));
	}
	s->n = n;
	s->w0 = w0 - lo;
	s->tclose = hi == all->n ? all->tclose : all->t[hi - 1] + all->iv - 1;
	return 0;
}

/*
 * A stored pair: the window (the newest --last bars, or --from..--to)
 * and, before it, every stored bar (the warm-up; --warmup n keeps only
 * n).  One statement, so one short read transaction.  0, 1 when the
 * window is too short (err says why), or an exit code.
 */
static int
load_stored(struct input *in, const struct bt_pair *p, struct series *s,
    char *err)
{
	struct bt_series *d = &in->ohlc;
	size_t keep, w0;
	int64_t to = in->to >= 0 ? in->to : INT64_MAX, lo;
	bool all = in->warmup < 0 && !in->compat;
	int rc;

	if (in->from < 0) {
		keep = (size_t)in->last + (all || in->compat ? 0 :
		    (size_t)in->warmup);
		rc = bt_candles_load(in->db, p, 0, to, all ? 0 : keep,
		    BT_LOAD_OHLC, d, err);
		w0 = d->n > (size_t)in->last ? d->n - (size_t)in->last : 0;
	} else {
		lo = in->compat ? in->from : all ? 0 :
		    in->from - in->warmup * p->iv;
		rc = bt_candles_load(in->db, p, lo < 0 ? 0 : lo, to, 0,
		    BT_LOAD_OHLC, d, err);
		for (w0 = 0; w0 < d->n && d->t[w0] < in->from; w0++)
			;
	}
	if (rc != 0)
		return rc;
	if (d->n - w0 < 2) {
		snprintf(err, BT_ERRLEN, "%s %s: %zu candle%s in the window, "
		    "need 2", p->symbol, in->tf, d->n - w0, d->n - w0 == 1 ?
		    "" : "s");
		return 1;
	}
	bt_series_clear(s);
	snprintf(s->symbol, sizeof(s->symbol), "%s", p->symbol);
	s->iv = p->iv;
	s->bar = in->bar;
	s->n = d->n;
	s->w0 = w0;
	s->t = d->t;		/* the input keeps the arrays */
	s->o = d->o;
	s->h = d->h;
	s->l = d->l;
	s->c = d->c;
	s->borrowed = true;
	/* The store holds closed candles only (bt-fetch). */
	s->tclose = d->t[d->n - 1] + p->iv - 1;
	return 0;
}

/* The longest bin of a bar size, ms. */
static int64_t
bar_span(const struct bt_bar *b)
{
	return b->months > 0 ? b->months * 31 * BT_DAY_MS : b->ms;
}

/*
 * The stored candles that build bars of in->bar for the window: all of
 * them, or with --warmup (and in the backtesting.py mode) those of the
 * bins the window and its warm-up can need.  0 or an exit code.
 */
static int
load_source(struct input *in, const struct bt_pair *p, char *err)
{
	int64_t to = in->to >= 0 ? bt_bar_next(&in->bar,
	    bt_bar_start(&in->bar, in->to)) - 1 : INT64_MAX, lo = 0, last;
	int64_t back = ((in->warmup > 0 && !in->compat ? in->warmup : 0) + 1) *
	    bar_span(&in->bar);
	int rc;

	if (in->warmup >= 0 || in->compat) {
		if (in->from >= 0)
			lo = bt_bar_start(&in->bar, in->from) - back;
		else if ((rc = bt_pair_last(in->db, p, &last, err)) != 0)
			return rc;
		else
			lo = bt_bar_start(&in->bar, in->to >= 0 && in->to <
			    last ? in->to : last) - in->last * bar_span(&in->bar)
			    - back;
	}
	return bt_candles_load(in->db, p, lo < 0 ? 0 : lo, to, 0,
	    BT_LOAD_OHLC, &in->ohlc, err);
}

/*
 * A bar size the store does not hold, built from the finest stored
 * timeframe that divides it.  The pairs are 24/7 markets: a bin with a
 * missing candle is left out (s->left counts them), and so is the bin
 * that has not closed yet.  0, 1 when nothing builds it or the window is
 * too short (err says why), or an exit code.
 */
static int
build_pair(struct input *in, const char *sym, struct series *s, char *err)
{
	char tfs[8][8];
	struct bt_series *d = &in->ohlc;
	struct series all;
	struct bt_candle *c, *bars;
	struct bt_bars_left left;
	struct bt_pair p;
	size_t ntf, k, i, nb;
	int rc;

	if ((rc = bt_pair_tfs(in->db, sym, tfs, 8, &ntf, err)) != 0)
		return rc;
	for (k = 0; k < ntf; k++)
		if (bt_tf_ms(tfs[k]) < bar_span(&in->bar) &&
		    bt_bar_divides(&in->bar, bt_tf_ms(tfs[k])))
			break;
	if (k == ntf) {
		snprintf(err, BT_ERRLEN, "no %s %s candles in the store%s",
		    sym, in->tf, ntf > 0 ? ", and no stored timeframe of it "
		    "builds them" : "");
		return 1;
	}
	if ((rc = bt_pair_get(in->db, sym, tfs[k], false, NULL, 0, &p,
	    err)) != 0 || (rc = load_source(in, &p, err)) != 0)
		return rc;
	c = bt_xcalloc(d->n, sizeof(*c));
	bars = bt_xcalloc(d->n, sizeof(*bars));
	for (i = 0; i < d->n; i++) {
		c[i].t = d->t[i];
		c[i].o = d->o[i];
		c[i].h = d->h[i];
		c[i].l = d->l[i];
		c[i].c = d->c[i];
	}
	nb = bt_bars_make(c, d->n, p.iv, &in->bar, true, bt_now_ms(), bars,
	    &left);
	memset(&all, 0, sizeof(all));
	series_set(&all, sym, bar_iv(&in->bar), &in->bar, bars, nb);
	rc = window(in, &all, false, s, err);
	bt_series_clear(&all);
	if (rc == 0) {
		s->left = left;
		snprintf(s->src_tf, sizeof(s->src_tf), "%s", tfs[k]);
	}
	free(c);
	free(bars);
	return rc;
}

/*
 * A pair from the store: the stored timeframe, else bars built from a
 * finer one.  0, 1 when the pair is absent or too short (err says why),
 * or an exit code.
 */
static int
load_pair(struct input *in, const char *sym, struct series *s, char *err)
{
	struct bt_pair p;
	int rc;

	if (bt_tf_view(in->tf) != NULL) {
		if ((rc = bt_pair_get(in->db, sym, in->tf, false, NULL, 0, &p,
		    err)) != 0)
			return rc;
		if (p.id != 0) {
			if ((rc = load_stored(in, &p, s, err)) == 0) {
				snprintf(s->src_tf, sizeof(s->src_tf), "%s",
				    in->tf);
			}
			return rc;
		}
	}
	return build_pair(in, sym, s, err);
}

/* The window of file input. */
static int
load_src(const struct input *in, const struct src *src, struct series *s,
    char *err)
{
	int rc;

	/* FractionalBacktest's scaling (bt_input_series()) needs a copy. */
	if ((rc = window(in, &src->all, !(in->unit > 0 && in->unit != 1), s,
	    err)) == 0) {
		snprintf(s->src_tf, sizeof(s->src_tf), "%s", in->tf);
	}
	return rc;
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
src_get(struct input *in, const char *sym, const char *file)
{
	size_t i;

	for (i = 0; i < in->nsrc; i++)
		if (strcmp(in->srcs[i].symbol, sym) == 0)
			return &in->srcs[i];
	in->srcs = bt_xrealloc(in->srcs, in->nsrc + 1, sizeof(*in->srcs));
	memset(&in->srcs[in->nsrc], 0, sizeof(in->srcs[0]));
	snprintf(in->srcs[in->nsrc].symbol, 24, "%s", sym);
	snprintf(in->srcs[in->nsrc].file, 256, "%s", file);
	return &in->srcs[in->nsrc++];
}

static void
src_add(struct src *s, const struct bt_candle *c, size_t n, int64_t iv)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		s->c = bt_xrealloc(s->c, s->cap, sizeof(*s->c));
	}
	memcpy(s->c + s->n, c, n * sizeof(*c));
	s->n += n;
	if (iv != 0)
		s->iv = iv;
}

/* As src_add(), taking c (malloc'd) over, which is freed. */
static void
src_take(struct src *s, struct bt_candle *c, size_t n, int64_t iv)
{
	if (s->n > 0) {
		src_add(s, c, n, iv);
		free(c);
		return;
	}
	free(s->c);
	s->c = c;
	s->n = s->cap = n;
	if (iv != 0)
		s->iv = iv;
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

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
 * One candle file into in->srcs, by symbol: OHLCV CSV, Binance kline CSV
 * (data.binance.vision, with or without header), freqtrade JSON, JSON
 * lines.  0 or an exit code.
 */
static int
read_file(struct input *in, const char *path, const char *symbol,
    char *err)
{
	char sym[24], tf[8], *buf, *p;
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	struct bt_candle *c = NULL;
	struct bt_line_candle *lc = NULL;
	size_t len, n = 0, i;
	int64_t iv;
	int rc;

	if (name_symbol(path, sym, tf) == -1 && symbol == NULL) {
		snprintf(err, BT_ERRLEN, "%s: cannot name a symbol after this "
		    "file; use --symbol", name);
		return BT_EX_USAGE;
	}
	if (symbol != NULL)
		snprintf(sym, sizeof(sym), "%s", symbol);
	if ((buf = slurp(path, &len, err)) == NULL)
		return errno == ENOENT ? BT_EX_NOINPUT : BT_EX_IOERR;
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, BT_ERRLEN, "%s: binary data, not candles", name);
		free(buf);
		return BT_EX_DATAERR;
	}
	iv = *tf ? bt_tf_ms(tf) : 0;
	p = buf + strspn(buf, " \t\r\n");
	if (*p == '{') {
		rc = bt_parse_candle_lines(name, buf, sym, &lc, &n, err);
		for (i = 0; rc == 0 && i < n; i++)
			src_add(src_get(in, lc[i].symbol, name), &lc[i].c, 1,
			    0);
		free(lc);
		n = 0;
	} else if (*p == '[') {
		rc = bt_parse_freqtrade(name, buf, len, iv ? iv : BT_LOOSE_IV,
		    &c, &n, err);
	} else if (isdigit((unsigned char)*p) ||
	    strncasecmp(p, "open_time,", 10) == 0) {
		rc = bt_parse_kline_csv(name, buf, len, BT_LOOSE_IV, &c, &n,
		    err);
		/* The interval is what a close time says. */
		if (rc == 0 && n > 0 && iv == 0)
			iv = c[0].ct - c[0].t + 1;
	} else {
		rc = bt_parse_ohlcv_csv(name, buf, &c, &n, err);
	}
	free(buf);
	if (rc == 0 && n > 0)
		src_take(src_get(in, sym, name), c, n, iv);
	else
		free(c);
	return rc != 0 ? BT_EX_DATAERR : 0;
}

/*
 * The most common spacing of a symbol's bars (weekends aside): a
 * spacing of more than half of them (Boyer-Moore's vote, one pass), else
 * the longest run of the sorted spacings, the shortest on a tie.
 */
static int64_t
spacing(const struct src *s)
{
	int64_t *d, best = 0;
	size_t j, run = 0, bestrun = 0;

	for (j = 1; j < s->n; j++) {
		if (run == 0)
			best = s->c[j].t - s->c[j - 1].t;
		run += s->c[j].t - s->c[j - 1].t == best ? 1 : -1;
	}
	for (j = 1, run = 0; j < s->n; j++)
		run += s->c[j].t - s->c[j - 1].t == best;
	if (run > (s->n - 1) / 2)
		return best;
	d = bt_xcalloc(s->n - 1, sizeof(*d));
	best = 0;
	run = 0;
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
	return best;
}

/* A symbol's candles in order, once each, at the run's one interval. */
static int
settle(struct input *in, struct src *s, char *err)
{
	char ts[32];
	size_t j;

	for (j = 1; j < s->n && s->c[j - 1].t <= s->c[j].t; j++)
		;
	if (j < s->n)	/* files of one symbol, given in any order */
		qsort(s->c, s->n, sizeof(*s->c), cmp_candle);
	for (j = 1; j < s->n; j++)
		if (s->c[j].t == s->c[j - 1].t) {
			snprintf(err, BT_ERRLEN, "%s: %s: open time %s appears "
			    "twice", s->file, s->symbol,
			    bt_fmt_time(s->c[j].t, ts));
			return BT_EX_DATAERR;
		}
	if (*in->tf != '\0' && strcmp(in->tf, "auto") != 0)
		s->iv = bar_iv(&in->tfbar);
	if (s->iv == 0 && s->n > 1)
		s->iv = spacing(s);
	if (s->n < 2 || s->iv <= 0) {
		snprintf(err, BT_ERRLEN, "%s: %s: fewer than 2 candles",
		    s->file, s->symbol);
		return BT_EX_DATAERR;
	}
	if (s->iv != in->srcs[0].iv) {
		snprintf(err, BT_ERRLEN, "%s: %s has %lld ms bars, %s has %lld "
		    "ms: one interval per run", s->file, s->symbol,
		    (long long)s->iv, in->srcs[0].symbol,
		    (long long)in->srcs[0].iv);
		return BT_EX_DATAERR;
	}
	return 0;
}

/*
 * --resample: every symbol's bars aggregated into bins of in->bar, as
 * they are (a stock has no weekend: no bin is incomplete), the bin that
 * has not closed by now left out.  0 or an exit code.
 */
static int
resample(struct input *in, char *err)
{
	struct bt_bars_left left;
	struct bt_candle *out;
	struct src *s;
	size_t i;

	if (!bt_bar_divides(&in->bar, in->iv) || bar_iv(&in->bar) < in->iv) {
		snprintf(err, BT_ERRLEN, "--resample %s: %s bars do not build "
		    "%s bars", in->bar.name, in->tf, in->bar.name);
		return BT_EX_USAGE;
	}
	for (i = 0; i < in->nsrc; i++) {
		s = &in->srcs[i];
		out = bt_xcalloc(s->n, sizeof(*out));
		s->n = bt_bars_make(s->c, s->n, s->iv, &in->bar, false,
		    bt_now_ms(), out, &left);
		free(s->c);
		s->c = out;
		s->cap = s->n;
		s->iv = bar_iv(&in->bar);
	}
	in->iv = bar_iv(&in->bar);
	snprintf(in->tf, sizeof(in->tf), "%s", in->bar.name);
	return 0;
}

int
bt_input_files(struct input *in, char **files, int n, const char *symbol,
    char *err)
{
	struct src *s;
	size_t i;
	int f, rc;

	if (*in->tf != '\0' && strcmp(in->tf, "auto") != 0 &&
	    bt_bar_parse(in->tf, &in->tfbar) == -1) {
		snprintf(err, BT_ERRLEN, "--tf '%s': not a bar size", in->tf);
		return BT_EX_USAGE;
	}
	for (f = 0; f < n; f++)
		if ((rc = read_file(in, files[f], symbol, err)) != 0)
			return rc;
	for (i = 0; i < in->nsrc; i++)
		if ((rc = settle(in, &in->srcs[i], err)) != 0)
			return rc;
	if (in->nsrc == 0) {
		snprintf(err, BT_ERRLEN, "no candles in the input");
		return BT_EX_DATAERR;
	}
	in->iv = in->srcs[0].iv;
	if (*in->tf == '\0')
		snprintf(in->tf, sizeof(in->tf), "%s", bt_tf_name(in->iv));
	if (in->resample) {
		if ((rc = resample(in, err)) != 0)
			return rc;
	} else if (in->tfbar.ms > 0 || in->tfbar.months > 0)
		in->bar = in->tfbar;
	else
		bt_bar_of_ms(in->iv, &in->bar);
	/* Candles no more: the engine's arrays, half their size. */
	for (i = 0; i < in->nsrc; i++) {
		s = &in->srcs[i];
		series_set(&s->all, s->symbol, s->iv, &in->bar, s->c, s->n);
		free(s->c);
		s->c = NULL;
		s->cap = 0;
	}
	return 0;
}

int
bt_input_bar(struct input *in, const char *tf, bool resample)
{
	if (bt_bar_parse(tf, &in->bar) == -1)
		return -1;
	/* pandas' 'W' is W-SUN; for daily bars the same Monday weeks. */
	in->bar.wsun = in->compat && in->bar.week && in->bar.ms == 7 *
	    BT_DAY_MS;
	in->resample = resample;
	if (!resample)
		snprintf(in->tf, sizeof(in->tf), "%s", in->bar.name);
	return 0;
}

int
bt_input_store(struct input *in, char *err)
{
	int rc;

	in->dbpath = bt_store_path();
	if ((rc = bt_open_store(in->dbpath, BT_DB_RO, &in->db, err)) != 0)
		return rc;
	/*
	 * Each pair is read once, in order: a page cache bigger than a
	 * pair's pages only costs fresh memory.
	 */
	return bt_exec(in->db, "PRAGMA cache_size=-1024", err);
}

int
bt_input_signals(const struct input *in, const char *path, bool shorts,
    struct bt_signal **sigs, size_t *n, char *err)
{
	struct bt_signal_rules rl;
	char *buf;
	size_t len;
	int rc;

	if ((buf = slurp(path, &len, err)) == NULL)
		return errno == ENOENT ? BT_EX_NOINPUT : BT_EX_IOERR;
	rl.shorts = shorts;
	rl.tf = in->tf;
	/* Candles from files may end at any time: no look-ahead check. */
	rl.iv = in->nsrc == 0 ? bt_tf_ms(in->tf) : 0;
	rl.now = bt_now_ms();
	rc = bt_parse_signals(strcmp(path, "-") == 0 ? "stdin" : path, buf,
	    &rl, sigs, n, err);
	free(buf);
	return rc != 0 ? BT_EX_DATAERR : 0;
}

void
bt_input_symbols(struct input *in, bool from_signals,
    const struct bt_signal *sigs, size_t nsig)
{
	size_t i;
	int n = 0;

	if (in->nsrc > 0) {
		in->syms = bt_xcalloc(in->nsrc, sizeof(char *));
		for (i = 0; i < in->nsrc; i++)
			if ((in->syms[n++] = strdup(in->srcs[i].symbol)) ==
			    NULL)
				abort();
		in->nsyms = n;
		return;
	}
	if (from_signals) {
		in->syms = bt_xcalloc(nsig, sizeof(char *));
		for (i = 0; i < nsig; i++)
			if (i == 0 || strcmp(sigs[i].symbol,
			    sigs[i - 1].symbol) != 0)
				if ((in->syms[n++] = strdup(sigs[i].symbol)) ==
				    NULL)
					abort();
		in->nsyms = n;
		qsort(in->syms, (size_t)n, sizeof(char *), cmp_str);
		return;
	}
	in->nsyms = bt_conf_list("BT_SYMBOLS", &in->syms);
}

int
bt_input_series(struct input *in, size_t k, struct series *s, char *err)
{
	size_t i;
	int rc;

	rc = in->nsrc > 0 ? load_src(in, &in->srcs[k], s, err) :
	    load_pair(in, in->syms[k], s, err);
	if (rc != 0 || in->unit <= 0 || in->unit == 1)
		return rc;
	/*
	 * backtesting.py's FractionalBacktest: whole units of `unit', the
	 * prices (and so the indicators) scaled by it.  The store's arrays
	 * are reloaded for every pair, so they are scaled in place.
	 */
	for (i = 0; i < s->n; i++) {
		s->o[i] *= in->unit;
		s->h[i] *= in->unit;
		s->l[i] *= in->unit;
		s->c[i] *= in->unit;
	}
	s->unit = in->unit;
	return 0;
}

int64_t
bt_series_next(const struct series *s, size_t i)
{
	if (s->bar.months > 0)
		return bt_bar_next(&s->bar, bt_bar_start(&s->bar, s->t[i]));
	return s->t[i] + (s->bar.ms > 0 ? s->bar.ms : s->iv);
}

double
bt_series_per_year(const struct series *s)
{
	if (s->bar.months > 0 || s->bar.ms > 0)
		return bt_bar_per_year(&s->bar);
	return 365.0 * BT_DAY_MS / (double)s->iv;
}

const char *
bt_series_tf(const struct series *s)
{
	return s->bar.name[0] != '\0' ? s->bar.name : bt_tf_name(s->iv);
}

void
bt_input_free(struct input *in)
{
	size_t i;

	bt_close(in->db);
	in->db = NULL;
	for (i = 0; i < in->nsrc; i++) {
		free(in->srcs[i].c);
		bt_series_clear(&in->srcs[i].all);
	}
	free(in->srcs);
	if (in->syms != NULL)
		bt_list_free(in->syms, in->nsyms);
	bt_series_free(&in->ohlc);
	free(in->dbpath);
}

/* A Binance interval name for a bar length, for file input. */
const char *
bt_tf_name(int64_t iv)
{
	static char buf[32];

	if (bt_tf_of_ms(iv) != NULL)
		return bt_tf_of_ms(iv);
	snprintf(buf, sizeof(buf), "%llds", (long long)(iv / 1000));
	return buf;
}

