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
 *   file names, said by close times, or else the most common spacing.
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

/* Candles read from files, by symbol. */
struct src {
	char		 symbol[24];
	char		 file[256];	/* the first file, for messages */
	struct bt_candle *c;
	size_t		 n, cap;
	int64_t		 iv;
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

/* Copies candles into the arrays the engine reads (one allocation). */
static void
series_set(struct series *s, const char *sym, int64_t iv,
    const struct bt_candle *c, size_t n)
{
	size_t i;
	char *blk;

	bt_series_clear(s);
	snprintf(s->symbol, sizeof(s->symbol), "%s", sym);
	s->iv = iv;
	s->n = n;
	blk = bt_xcalloc(n, sizeof(int64_t) + 4 * sizeof(double));
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
load_pair(struct input *in, const char *sym, struct series *s, char *err)
{
	struct bt_pair p;
	struct bt_series *d = &in->ohlc;
	size_t keep, w0;
	int64_t to = in->to >= 0 ? in->to : INT64_MAX, lo;
	bool all = in->warmup < 0 && !in->compat;
	int rc;

	if ((rc = bt_pair_get(in->db, sym, in->tf, false, NULL, 0, &p,
	    err)) != 0)
		return rc;
	if (p.id == 0) {
		snprintf(err, BT_ERRLEN, "no %s %s candles in the store", sym,
		    in->tf);
		return 1;
	}
	if (in->from < 0) {
		keep = (size_t)in->last + (all || in->compat ? 0 :
		    (size_t)in->warmup);
		rc = bt_candles_load(in->db, &p, 0, to, all ? 0 : keep,
		    BT_LOAD_OHLC, d, err);
		w0 = d->n > (size_t)in->last ? d->n - (size_t)in->last : 0;
	} else {
		lo = in->compat ? in->from : all ? 0 :
		    in->from - in->warmup * p.iv;
		rc = bt_candles_load(in->db, &p, lo < 0 ? 0 : lo, to, 0,
		    BT_LOAD_OHLC, d, err);
		for (w0 = 0; w0 < d->n && d->t[w0] < in->from; w0++)
			;
	}
	if (rc != 0)
		return rc;
	if (d->n - w0 < 2) {
		snprintf(err, BT_ERRLEN, "%s %s: %zu candle%s in the window, "
		    "need 2", sym, in->tf, d->n - w0, d->n - w0 == 1 ? "" :
		    "s");
		return 1;
	}
	bt_series_clear(s);
	snprintf(s->symbol, sizeof(s->symbol), "%s", sym);
	s->iv = p.iv;
	s->n = d->n;
	s->w0 = w0;
	s->t = d->t;		/* the input keeps the arrays */
	s->o = d->o;
	s->h = d->h;
	s->l = d->l;
	s->c = d->c;
	s->borrowed = true;
	/* The store holds closed candles only (bt-fetch). */
	s->tclose = d->t[d->n - 1] + p.iv - 1;
	return 0;
}

/* The window of file input: --last, or --from/--to, as for the store. */
static int
load_src(const struct input *in, const struct src *src, struct series *s,
    char *err)
{
	size_t lo = 0, hi = src->n, w0;

	while (hi > lo && in->to >= 0 && src->c[hi - 1].t > in->to)
		hi--;
	if (in->from >= 0) {
		for (w0 = lo; w0 < hi && src->c[w0].t < in->from; w0++)
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
		    "2", src->symbol, hi > w0 ? hi - w0 : 0);
		return 1;
	}
	series_set(s, src->symbol, src->iv, src->c + lo, hi - lo);
	s->w0 = w0 - lo;
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
		src_add(src_get(in, sym, name), c, n, iv);
	free(c);
	return rc != 0 ? BT_EX_DATAERR : 0;
}

/* The most common spacing of a symbol's bars (weekends aside). */
static int64_t
spacing(const struct src *s)
{
	int64_t *d = bt_xcalloc(s->n - 1, sizeof(*d)), best = 0;
	size_t j, run = 0, bestrun = 0;

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

	qsort(s->c, s->n, sizeof(*s->c), cmp_candle);
	for (j = 1; j < s->n; j++)
		if (s->c[j].t == s->c[j - 1].t) {
			snprintf(err, BT_ERRLEN, "%s: %s: open time %s appears "
			    "twice", s->file, s->symbol,
			    bt_fmt_time(s->c[j].t, ts));
			return BT_EX_DATAERR;
		}
	if (*in->tf != '\0' && strcmp(in->tf, "auto") != 0)
		s->iv = bt_tf_ms(in->tf);
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

int
bt_input_files(struct input *in, char **files, int n, const char *symbol,
    char *err)
{
	size_t i;
	int f, rc;

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
	if (in->nsrc > 0)
		return load_src(in, &in->srcs[k], s, err);
	return load_pair(in, in->syms[k], s, err);
}

void
bt_input_free(struct input *in)
{
	size_t i;

	bt_close(in->db);
	in->db = NULL;
	for (i = 0; i < in->nsrc; i++)
		free(in->srcs[i].c);
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

