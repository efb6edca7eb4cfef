/*
 * ind-test.c - bt_ind.c against TA-Lib's own numbers, and resumability.
 *
 * usage: ind-test [-q] [-o offset] fixture.json [freqtrade.json]
 *
 * The fixture is tests/data/talib/btc-1h.json, made by
 * scripts/talib-oracle.js with TA-Lib (npm talib 2.0.5).  For every case
 * it checks the lookback against TA-Lib's begIndex, NAN before it, each
 * value to 1e-9 relative, then that every value has TA-Lib's bits (true
 * on x86-64 with SSE2 doubles; a platform failing only that shows how far
 * off it is in the 1e-9 line), and that a streaming state saved by memcpy
 * at many bars and resumed gives the array function's bits.  Then edge
 * cases.  Prints TAP ("ok N - ..."),
 * numbered from offset+1, and the plan last; -q prints only failures and
 * the summary.  Exits 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bt_ind.h"

#define RELTOL	1e-9

enum kind { K_SMA, K_EMA, K_RSI, K_BBANDS, K_ATR, K_MACD, K_MAX, K_MIN };

static const char *kname[] = {
	"SMA", "EMA", "RSI", "BBANDS", "ATR", "MACD", "MAX", "MIN"
};

/* TA-Lib's output names, in the order bt's functions take them. */
static const char *outnames[][3] = {
	{ "outReal" }, { "outReal" }, { "outReal" },
	{ "outRealUpperBand", "outRealMiddleBand", "outRealLowerBand" },
	{ "outReal" },
	{ "outMACD", "outMACDSignal", "outMACDHist" },
	{ "outReal" }, { "outReal" },
};

static int
nouts(enum kind k)
{
	return (k == K_BBANDS || k == K_MACD) ? 3 : 1;
}

/* One indicator with its parameters: enough to run array or stream. */
struct ind {
	enum kind k;
	int	 p, p2, p3;		/* period; MACD fast, slow, signal */
	double	 kup, kdn;
};

union state {
	struct bt_sma_st sma;
	struct bt_ema_st ema;
	struct bt_rsi_st rsi;
	struct bt_bbands_st bb;
	struct bt_atr_st atr;
	struct bt_macd_st macd;
	struct bt_max_st max;
	struct bt_min_st min;
};

/* Input columns: x (or h, l, c for ATR). */
struct in {
	const double *x, *h, *l, *c;
	size_t	 n;
};

static int	 ntest, nfail, quiet;

static void
check(int ok, const char *fmt, ...)
{
	va_list	 ap;

	ntest++;
	if (!ok)
		nfail++;
	if (ok && quiet)
		return;
	printf("%sok %d - ", ok ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
diag(const char *fmt, ...)
{
	va_list	 ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n ? n : 1, sz)) == NULL) {
		perror("calloc");
		exit(2);
	}
	return p;
}

static bool
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static void
ind_str(const struct ind *d, char *buf, size_t len)
{
	switch (d->k) {
	case K_BBANDS:
		snprintf(buf, len, "BBANDS(%d,%g,%g)", d->p, d->kup, d->kdn);
		break;
	case K_MACD:
		snprintf(buf, len, "MACD(%d,%d,%d)", d->p, d->p2, d->p3);
		break;
	default:
		snprintf(buf, len, "%s(%d)", kname[d->k], d->p);
		break;
	}
}

/* The array function; o[0..2] as many outputs as the indicator has. */
static int
run_array(const struct ind *d, const struct in *in, double *o[3])
{
	switch (d->k) {
	case K_SMA:
		return bt_sma(in->x, in->n, d->p, o[0]);
	case K_EMA:
		return bt_ema(in->x, in->n, d->p, o[0]);
	case K_RSI:
		return bt_rsi(in->x, in->n, d->p, o[0]);
	case K_BBANDS:
		return bt_bbands(in->x, in->n, d->p, d->kup, d->kdn, o[0],
		    o[1], o[2]);
	case K_ATR:
		return bt_atr(in->h, in->l, in->c, in->n, d->p, o[0]);
	case K_MACD:
		return bt_macd(in->x, in->n, d->p, d->p2, d->p3, o[0], o[1],
		    o[2]);
	case K_MAX:
		return bt_max(in->x, in->n, d->p, o[0]);
	case K_MIN:
		return bt_min(in->x, in->n, d->p, o[0]);
	}
	return -2;
}

static int
st_init(const struct ind *d, union state *s)
{
	switch (d->k) {
	case K_SMA:
		return bt_sma_init(&s->sma, d->p);
	case K_EMA:
		return bt_ema_init(&s->ema, d->p);
	case K_RSI:
		return bt_rsi_init(&s->rsi, d->p);
	case K_BBANDS:
		return bt_bbands_init(&s->bb, d->p, d->kup, d->kdn);
	case K_ATR:
		return bt_atr_init(&s->atr, d->p);
	case K_MACD:
		return bt_macd_init(&s->macd, d->p, d->p2, d->p3);
	case K_MAX:
		return bt_max_init(&s->max, d->p);
	case K_MIN:
		return bt_min_init(&s->min, d->p);
	}
	return -2;
}

/* Size of the state a caller would store as a BLOB. */
static size_t
st_size(enum kind k)
{
	switch (k) {
	case K_SMA:
		return sizeof(struct bt_sma_st);
	case K_EMA:
		return sizeof(struct bt_ema_st);
	case K_RSI:
		return sizeof(struct bt_rsi_st);
	case K_BBANDS:
		return sizeof(struct bt_bbands_st);
	case K_ATR:
		return sizeof(struct bt_atr_st);
	case K_MACD:
		return sizeof(struct bt_macd_st);
	case K_MAX:
		return sizeof(struct bt_max_st);
	case K_MIN:
		return sizeof(struct bt_min_st);
	}
	return 0;
}

static void
st_step(const struct ind *d, union state *s, const struct in *in, size_t i,
    double v[3])
{
	switch (d->k) {
	case K_SMA:
		v[0] = bt_sma_step(&s->sma, in->x[i]);
		break;
	case K_EMA:
		v[0] = bt_ema_step(&s->ema, in->x[i]);
		break;
	case K_RSI:
		v[0] = bt_rsi_step(&s->rsi, in->x[i]);
		break;
	case K_BBANDS:
		bt_bbands_step(&s->bb, in->x[i], &v[0], &v[1], &v[2]);
		break;
	case K_ATR:
		v[0] = bt_atr_step(&s->atr, in->h[i], in->l[i], in->c[i]);
		break;
	case K_MACD:
		bt_macd_step(&s->macd, in->x[i], &v[0], &v[1], &v[2]);
		break;
	case K_MAX:
		v[0] = bt_max_step(&s->max, in->x[i]);
		break;
	case K_MIN:
		v[0] = bt_min_step(&s->min, in->x[i]);
		break;
	}
}

/* ------------------------------------------------------------ fixture */

static double *
jarray(json_t *a, size_t *n)
{
	double	*v;
	size_t	 i;

	if (!json_is_array(a)) {
		fprintf(stderr, "fixture: not an array\n");
		exit(2);
	}
	*n = json_array_size(a);
	v = xcalloc(*n, sizeof(*v));
	for (i = 0; i < *n; i++) {
		if (!json_is_number(json_array_get(a, i))) {
			fprintf(stderr, "fixture: not a number\n");
			exit(2);
		}
		v[i] = json_number_value(json_array_get(a, i));
	}
	return v;
}

static int
opt_int(json_t *opt, const char *key)
{
	json_t	*v = json_object_get(opt, key);

	return json_is_integer(v) ? (int)json_integer_value(v) : -999;
}

static enum kind
kind_of(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(kname) / sizeof(kname[0]); i++)
		if (strcmp(name, kname[i]) == 0)
			return (enum kind)i;
	fprintf(stderr, "fixture: unknown indicator %s\n", name);
	exit(2);
}

static const double *
input(json_t *inputs, const char *name, size_t *n)
{
	json_t	*a = json_object_get(inputs, name);

	if (a == NULL) {
		fprintf(stderr, "fixture: no input %s\n", name);
		exit(2);
	}
	return jarray(a, n);
}

/* ------------------------------------------------------------ checks */

/* Per indicator kind: worst relative error and bit-identical counts. */
struct agg {
	double	 maxrel;
	long	 nval, nbits;
};

/*
 * Split at k: step over [0, k], save the state as bytes, resume a fresh
 * copy over [k+1, n); every output must equal the array's bits, and the
 * final state must be the same bytes as an unbroken run's.
 */
static int
resume_ok(const struct ind *d, const struct in *in, double *const ref[3],
    const size_t *ks, size_t nk, size_t *badk)
{
	union state a, b, whole;
	unsigned char *blob;
	size_t	 sz = st_size(d->k), i, j, t;
	double	 v[3];
	int	 no = nouts(d->k);

	blob = xcalloc(1, sz);
	st_init(d, &whole);
	for (i = 0; i < in->n; i++)
		st_step(d, &whole, in, i, v);
	for (t = 0; t < nk; t++) {
		size_t	 k = ks[t];

		if (k >= in->n)
			continue;
		st_init(d, &a);
		for (i = 0; i <= k; i++) {
			v[0] = v[1] = v[2] = 0;
			st_step(d, &a, in, i, v);
			for (j = 0; j < (size_t)no; j++)
				if (!same_bits(v[j], ref[j][i]))
					goto bad;
		}
		memcpy(blob, &a, sz);
		memset(&a, 0xa5, sizeof(a));	/* the old one is gone */
		memset(&b, 0x5a, sizeof(b));
		memcpy(&b, blob, sz);
		for (i = k + 1; i < in->n; i++) {
			v[0] = v[1] = v[2] = 0;
			st_step(d, &b, in, i, v);
			for (j = 0; j < (size_t)no; j++)
				if (!same_bits(v[j], ref[j][i]))
					goto bad;
		}
		if (memcmp(&b, &whole, sz) != 0)
			goto bad;
		continue;
bad:
		*badk = k;
		free(blob);
		return 0;
	}
	free(blob);
	return 1;
}

static size_t
split_points(size_t n, int lb, size_t *ks, size_t max)
{
	size_t	 m = 0, k;
	long	 near[] = { 0, 1, 2, lb - 2, lb - 1, lb, lb + 1, lb + 2 };
	size_t	 i;

	for (i = 0; i < sizeof(near) / sizeof(near[0]); i++)
		if (near[i] >= 0 && (size_t)near[i] < n && m < max)
			ks[m++] = (size_t)near[i];
	for (k = 3; k < n && m < max; k += 97)
		ks[m++] = k;
	if (n >= 2 && m < max)
		ks[m++] = n - 2;
	if (n >= 1 && m < max)
		ks[m++] = n - 1;
	return m;
}

static void
fixture_case(json_t *c, json_t *inputs, struct agg *agg)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	json_t	*opt = json_object_get(c, "opt"), *ins = json_object_get(c, "in");
	json_t	*outs = json_object_get(c, "out");
	struct ind d;
	struct in in;
	double	*o[3] = { NULL, NULL, NULL }, *want[3] = { NULL, NULL, NULL };
	char	 label[96], what[160];
	size_t	 i, nw = 0, ks[64], nk, badk = 0;
	int	 lb, j, no, beg = -1, allnan = 1, nanok = 1, lenok = 1;
	const char *inname;
	double	 maxrel = 0;
	long	 nbits = 0, nval = 0;

	memset(&d, 0, sizeof(d));
	memset(&in, 0, sizeof(in));
	d.k = kind_of(name);
	d.p = opt_int(opt, "optInTimePeriod");
	if (d.k == K_MACD) {
		d.p = opt_int(opt, "optInFastPeriod");
		d.p2 = opt_int(opt, "optInSlowPeriod");
		d.p3 = opt_int(opt, "optInSignalPeriod");
	}
	if (d.k == K_BBANDS) {
		d.kup = json_number_value(json_object_get(opt, "optInNbDevUp"));
		d.kdn = json_number_value(json_object_get(opt, "optInNbDevDn"));
	}
	inname = json_string_value(json_array_get(ins, 0));
	if (d.k == K_ATR) {
		in.h = input(inputs, json_string_value(json_array_get(ins, 0)),
		    &in.n);
		in.l = input(inputs, json_string_value(json_array_get(ins, 1)),
		    &in.n);
		in.c = input(inputs, json_string_value(json_array_get(ins, 2)),
		    &in.n);
	} else
		in.x = input(inputs, inname, &in.n);
	ind_str(&d, label, sizeof(label));
	snprintf(what, sizeof(what), "%s on %s[%zu]", label, inname, in.n);

	no = nouts(d.k);
	for (j = 0; j < 3; j++) {
		o[j] = xcalloc(in.n, sizeof(double));
		for (i = 0; i < in.n; i++)
			o[j][i] = 12345.0;	/* must be overwritten */
	}
	lb = run_array(&d, &in, o);

	if (d.k == K_MACD && d.p3 == 1) {
		/*
		 * TA-Lib's MACD with signal 1 reads before its buffer and
		 * puts the signal two bars early (see bt_macd_init): bt
		 * refuses it rather than match it.
		 */
		for (j = 0; j < no; j++)
			for (i = 0; i < in.n; i++)
				if (!isnan(o[j][i]))
					allnan = 0;
		check(lb == -1 && allnan, "%s: -1 and all NAN (TA-Lib's "
		    "begIndex %d is one short, its output misaligned)", what,
		    (int)json_integer_value(json_object_get(c, "begIndex")));
		goto out;
	}
	if (json_object_get(c, "error") != NULL ||
	    json_integer_value(json_object_get(c, "nbElement")) == 0) {
		/* TA-Lib refused or had nothing to output: -1, all NAN. */
		for (j = 0; j < no; j++)
			for (i = 0; i < in.n; i++)
				if (!isnan(o[j][i]))
					allnan = 0;
		check(lb == -1 && allnan, "%s: -1 and all NAN (TA-Lib: %s)",
		    what, json_object_get(c, "error") ? "error" :
		    "no elements");
		goto out;
	}

	beg = (int)json_integer_value(json_object_get(c, "begIndex"));
	check(lb == beg, "%s: lookback %d, TA-Lib begIndex %d", what, lb, beg);
	for (j = 0; j < no; j++) {
		want[j] = jarray(json_object_get(outs, outnames[d.k][j]), &nw);
		if (beg < 0 || nw != in.n - (size_t)beg)
			lenok = 0;
	}
	check(lenok, "%s: TA-Lib gave n - begIndex values", what);
	if (!lenok || lb != beg)
		goto out;
	for (j = 0; j < no; j++) {
		for (i = 0; i < (size_t)lb; i++)
			if (!isnan(o[j][i]))
				nanok = 0;
		for (i = (size_t)lb; i < in.n; i++) {
			double	 a = o[j][i], b = want[j][i - (size_t)lb];
			double	 rel;

			nval++;
			if (same_bits(a, b)) {
				nbits++;
				continue;
			}
			if (a == b)
				rel = 0;	/* 0.0 vs -0.0 */
			else if (isnan(a) || isnan(b))
				rel = INFINITY;
			else
				rel = fabs(a - b) / fmax(fabs(a), fabs(b));
			if (rel > maxrel)
				maxrel = rel;
		}
	}
	check(nanok, "%s: NAN before the lookback", what);
	check(maxrel <= RELTOL, "%s: %ld values within %g, max rel err %.3g",
	    what, nval, RELTOL, maxrel);
	/* The stricter promise: same operations, same order, same bits. */
	check(nbits == nval, "%s: %ld of %ld bit-identical", what, nbits,
	    nval);
	agg[d.k].nval += nval;
	agg[d.k].nbits += nbits;
	if (maxrel > agg[d.k].maxrel)
		agg[d.k].maxrel = maxrel;

	nk = split_points(in.n, lb, ks, sizeof(ks) / sizeof(ks[0]));
	if (resume_ok(&d, &in, o, ks, nk, &badk))
		check(1, "%s: state memcpy'd at %zu splits resumes to the "
		    "same bits", what, nk);
	else
		check(0, "%s: state memcpy'd after bar %zu resumes to other "
		    "bits", what, badk);
out:
	for (j = 0; j < 3; j++) {
		free(o[j]);
		free(want[j]);
	}
	free((void *)in.x);
	free((void *)in.h);
	free((void *)in.l);
	free((void *)in.c);
}

/* The fixture's inputs are the freqtrade file's first rows. */
static void
provenance(json_t *fx, const char *ftpath)
{
	json_error_t jerr;
	json_t	*ft, *inputs = json_object_get(fx, "inputs");
	const char *col[] = { "high", "low", "close" };
	size_t	 rows, i, n;
	int	 j, ok = 1;
	double	*v;

	if ((ft = json_load_file(ftpath, 0, &jerr)) == NULL) {
		check(0, "read %s: %s", ftpath, jerr.text);
		return;
	}
	rows = (size_t)json_integer_value(json_object_get(fx, "rows"));
	for (j = 0; j < 3; j++) {
		v = jarray(json_object_get(inputs, col[j]), &n);
		if (n != rows || json_array_size(ft) < rows)
			ok = 0;
		for (i = 0; ok && i < n; i++)
			if (!same_bits(v[i], json_number_value(json_array_get(
			    json_array_get(ft, i), (size_t)j + 2))))
				ok = 0;
		free(v);
	}
	check(ok, "fixture inputs are the first %zu rows of %s", rows,
	    ftpath);
	json_decref(ft);
}

/* ------------------------------------------------------------ edge cases */

static void
edges(void)
{
	double	 x[600], h[600], l[600], c[600], a[600], b[600], e[600];
	double	 f[600], g[600], u[600], m[600], lo[600];
	struct bt_sma_st sst;
	struct bt_rsi_st rst;
	size_t	 i;
	int	 ok, r;

	for (i = 0; i < 600; i++) {
		x[i] = 100.0 + 10.0 * sin((double)i / 7.0) + (double)(i % 5);
		h[i] = x[i] + 1.5;
		l[i] = x[i] - 1.25;
		c[i] = x[i] + 0.25;
	}

	/* Too short: n == lookback gives -1, one more gives a value. */
	ok = bt_sma(x, 19, 20, a) == -1 && bt_sma(x, 20, 20, b) == 19 &&
	    !isnan(b[19]) && isnan(b[18]);
	for (i = 0; i < 19; i++)
		ok = ok && isnan(a[i]);
	check(ok, "SMA(20): n=19 gives -1 and all NAN, n=20 gives one value");
	ok = bt_rsi(x, 14, 14, a) == -1 && bt_rsi(x, 15, 14, b) == 14 &&
	    bt_atr(h, l, c, 14, 14, a) == -1 && bt_atr(h, l, c, 15, 14, b) ==
	    14 && bt_macd(x, 33, 12, 26, 9, a, b, e) == -1 &&
	    bt_macd(x, 34, 12, 26, 9, a, b, e) == 33 && !isnan(e[33]);
	check(ok, "RSI, ATR, MACD: -1 at n == lookback, lookback at n+1");
	ok = bt_sma(x, 0, 2, a) == -1 && bt_ema(NULL, 0, 2, NULL) == -1;
	check(ok, "n = 0 gives -1");

	/* Bad parameters. */
	ok = 1;
	for (r = -1; r <= 1; r++)
		ok = ok && bt_sma(x, 600, r, a) == -1 &&
		    bt_ema(x, 600, r, a) == -1 && bt_rsi(x, 600, r, a) == -1 &&
		    bt_max(x, 600, r, a) == -1 && bt_min(x, 600, r, a) == -1 &&
		    bt_bbands(x, 600, r, 2, 2, u, m, lo) == -1;
	ok = ok && bt_atr(h, l, c, 600, 0, a) == -1 &&
	    bt_atr(h, l, c, 600, -3, a) == -1 &&
	    bt_macd(x, 600, 1, 26, 9, a, b, e) == -1 &&
	    bt_macd(x, 600, 12, 1, 9, a, b, e) == -1 &&
	    bt_macd(x, 600, 12, 26, 0, a, b, e) == -1 &&
	    bt_macd(x, 600, 12, 26, 1, a, b, e) == -1;
	ok = ok && bt_bbands(x, 600, 20, NAN, 2, u, m, lo) == -1 &&
	    bt_bbands(x, 600, 20, 2, INFINITY, u, m, lo) == -1 &&
	    bt_bbands(x, 600, 20, 4e37, 2, u, m, lo) == -1 &&
	    bt_bbands(x, 600, 20, -2, 3e37, u, m, lo) == 19;
	check(ok, "periods out of TA-Lib's ranges and bad BBANDS k give -1");
	ok = bt_sma(x, 600, BT_IND_MAXPERIOD, a) == BT_IND_MAXPERIOD - 1 &&
	    bt_sma(x, 600, BT_IND_MAXPERIOD + 1, a) == -1 &&
	    bt_rsi(x, 600, BT_IND_MAXPERIOD + 1, a) == -1 &&
	    bt_max(x, 600, BT_IND_MAXPERIOD, a) == BT_IND_MAXPERIOD - 1 &&
	    bt_macd(x, 600, 2, BT_IND_MAXPERIOD + 1, 1, a, b, e) == -1;
	check(ok, "BT_IND_MAXPERIOD %d accepted, %d refused",
	    BT_IND_MAXPERIOD, BT_IND_MAXPERIOD + 1);
	ok = bt_sma_init(&sst, 1) == -1 && isnan(bt_sma_step(&sst, 1.0)) &&
	    bt_rsi_init(&rst, 600) == -1 && isnan(bt_rsi_step(&rst, 1.0));
	check(ok, "a state whose init failed steps to NAN");

	/* SMA(512) against a plain sum, to 1e-12: the ring wraps right. */
	bt_sma(x, 600, BT_IND_MAXPERIOD, a);
	ok = 1;
	for (i = BT_IND_MAXPERIOD - 1; i < 600; i++) {
		double	 s = 0;
		size_t	 j;

		for (j = i + 1 - BT_IND_MAXPERIOD; j <= i; j++)
			s += x[j];
		s /= BT_IND_MAXPERIOD;
		ok = ok && fabs(a[i] - s) <= 1e-12 * fabs(s);
	}
	check(ok, "SMA(%d) matches a naive window sum", BT_IND_MAXPERIOD);

	/* Period 1 where TA-Lib allows it: ATR(1) is the true range. */
	ok = bt_atr(h, l, c, 600, 1, a) == 1 && isnan(a[0]);
	for (i = 1; i < 600; i++) {
		double	 tr = fmax(h[i] - l[i], fmax(fabs(c[i - 1] - h[i]),
		    fabs(c[i - 1] - l[i])));

		ok = ok && a[i] == tr;
	}
	check(ok, "ATR(1) is TRANGE from bar 1");
	ok = bt_macd(x, 600, 12, 26, 2, a, b, e) == 26;
	for (i = 26; i < 600; i++)
		ok = ok && e[i] == a[i] - b[i];
	check(ok, "MACD signal 2: lookback slow, hist = macd - signal");

	/* MACD swaps fast > slow, to the same bits. */
	bt_macd(x, 600, 12, 26, 9, a, b, e);
	bt_macd(x, 600, 26, 12, 9, f, g, u);
	ok = 1;
	for (i = 0; i < 600; i++)
		ok = ok && same_bits(a[i], f[i]) && same_bits(b[i], g[i]) &&
		    same_bits(e[i], u[i]);
	check(ok, "MACD(26,12,9) is MACD(12,26,9)");
	/* The fast EMA is not a standalone EMA(12) from bar 0. */
	bt_ema(x, 600, 12, f);
	bt_ema(x, 600, 26, g);
	ok = 0;
	for (i = 33; i < 600; i++)
		if (!same_bits(a[i], f[i] - g[i]))
			ok = 1;
	check(ok, "MACD line differs from EMA(12) - EMA(26) (aligned seeds)");

	/* Constant series: RSI 0 (TA_IS_ZERO), bands collapse. */
	for (i = 0; i < 600; i++)
		f[i] = 0.1;
	ok = bt_rsi(f, 600, 14, a) == 14;
	for (i = 14; i < 600; i++)
		ok = ok && a[i] == 0.0;
	check(ok, "RSI of a constant series is 0, not 50 or NAN");
	ok = bt_bbands(f, 600, 20, 2, 2, u, m, lo) == 19;
	for (i = 19; i < 600; i++)
		ok = ok && u[i] == m[i] && lo[i] == m[i] &&
		    fabs(m[i] - 0.1) < 1e-15;
	check(ok, "BBANDS of a constant 0.1: variance noise clamped, width 0");
	/* Gains only: RSI 100. */
	for (i = 0; i < 600; i++)
		f[i] = (double)i;
	ok = bt_rsi(f, 600, 14, a) == 14;
	for (i = 14; i < 600; i++)
		ok = ok && a[i] == 100.0;
	check(ok, "RSI of a rising series is 100");
	ok = bt_max(f, 600, 20, a) == 19 && bt_min(f, 600, 20, b) == 19;
	for (i = 19; i < 600; i++)
		ok = ok && a[i] == f[i] && b[i] == f[i - 19];
	check(ok, "MAX, MIN(20) of a rising series");
}

int
main(int argc, char *argv[])
{
	json_error_t jerr;
	json_t	*fx, *cases, *c;
	struct agg agg[8];
	size_t	 i;
	int	 ch, offset = 0;

	while ((ch = getopt(argc, argv, "qo:")) != -1) {
		switch (ch) {
		case 'q':
			quiet = 1;
			break;
		case 'o':
			offset = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2) {
usage:
		fprintf(stderr, "usage: ind-test [-q] [-o offset] "
		    "fixture.json [freqtrade.json]\n");
		return 2;
	}
	ntest = offset;
	if ((fx = json_load_file(argv[0], 0, &jerr)) == NULL) {
		fprintf(stderr, "%s:%d: %s\n", argv[0], jerr.line, jerr.text);
		return 2;
	}
	diag("fixture %s: %s", argv[0],
	    json_string_value(json_object_get(fx, "talib")));
	if (argc == 2)
		provenance(fx, argv[1]);

	memset(agg, 0, sizeof(agg));
	cases = json_object_get(fx, "cases");
	json_array_foreach(cases, i, c)
		fixture_case(c, json_object_get(fx, "inputs"), agg);
	for (i = 0; i < 8; i++)
		if (agg[i].nval)
			diag("%-6s %6ld values, max rel err %.3g, "
			    "%ld bit-identical", kname[i], agg[i].nval,
			    agg[i].maxrel, agg[i].nbits);
	json_decref(fx);

	edges();

	diag("%d checks, %d failed", ntest - offset, nfail);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
