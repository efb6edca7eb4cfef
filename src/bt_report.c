/*
 * bt_report.c - what a backtest says: the head of its JSON lines (what
 * ran on which symbol), a symbol's line, the --trades and --equity files
 * (bt-backtest(1), FILES), and the acceptance test of signals_validated.
 *
 * Invariants:
 * - Numbers in the CSV files are the shortest form that reads back as the
 *   same double; a value that is not finite is an empty field.
 * - The judgement reads the thresholds of the configuration only, and
 *   only a series from the store can be stale.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_parse.h"
#include "bt_report.h"

json_t *
bt_params_json(enum strat id, const double *par)
{
	const struct stratdef *d = &bt_strats[id];
	json_t *o = json_object();
	int i;

	for (i = 0; i < d->npar; i++)
		json_object_set_new(o, d->par[i], d->integer & (1u << i) ?
		    json_integer((json_int_t)par[i]) : json_real(par[i]));
	return o;
}

json_t *
bt_line_head(const char *event, const struct series *s, enum strat id,
    const double *par, const struct exec *ex)
{
	json_t *o = bt_rec(event);

	json_object_set_new(o, "symbol", json_string(s->symbol));
	json_object_set_new(o, "tf", json_string(bt_series_tf(s)));
	if (s->src_tf[0] != '\0' && strcmp(s->src_tf, bt_series_tf(s)) != 0)
		json_object_set_new(o, "built_from", json_string(s->src_tf));
	json_object_set_new(o, "strategy", json_string(bt_strats[id].name));
	json_object_set_new(o, "params", bt_params_json(id, par));
	json_object_set_new(o, "mode", json_string(bt_exec_mode(ex)));
	json_object_set_new(o, "bars", json_integer((json_int_t)(s->n -
	    s->w0)));
	json_object_set_new(o, "warmup", json_integer((json_int_t)s->w0));
	return o;
}

json_t *
bt_symbol_line(const struct series *s, enum strat id, const double *par,
    const struct exec *ex, json_t *m, const struct simout *so, bool passed,
    json_t *reasons)
{
	json_t *line = bt_line_head("symbol", s, id, par, ex);
	char ts[32];

	json_object_update(line, m);
	json_object_set_new(line, "signal", so->has_sig ? json_pack("{s:s, "
	    "s:I, s:o}", "time", bt_fmt_time(so->sig_t, ts), "timestamp",
	    (json_int_t)so->sig_t, "position", bt_jnum(so->sig_pos)) :
	    json_null());
	json_object_set_new(line, "passed", json_boolean(passed));
	json_object_set(line, "reasons", reasons);
	if (so->unfilled)
		json_object_set_new(line, "unfilled",
		    json_integer((json_int_t)so->unfilled));
	return line;
}

char *
bt_equity_header(enum strat id)
{
	struct bt_buf h = { 0 };
	int i;

	bt_buf_printf(&h, "time,symbol,equity,drawdown_pct,position,close");
	for (i = 0; i < bt_strats[id].nind; i++)
		bt_buf_printf(&h, ",%s", bt_strats[id].ind[i]);
	bt_buf_printf(&h, "\n");
	return h.p;
}

/*
 * %g's layout of the p digits r (no point) with exponent x: as "%.*g"
 * with precision p prints them, trailing zeros and a bare point dropped.
 */
static size_t
g_layout(char *out, bool neg, const char *r, int p, int x)
{
	char *o = out, *dot = NULL;
	int i;

	if (neg)
		*o++ = '-';
	if (x < -4 || x >= p) {
		*o++ = r[0];
		dot = o;
		*o++ = '.';
		memcpy(o, r + 1, (size_t)(p - 1));
		o += p - 1;
	} else if (x >= 0) {
		memcpy(o, r, (size_t)x + 1);
		o += x + 1;
		dot = o;
		*o++ = '.';
		memcpy(o, r + x + 1, (size_t)(p - 1 - x));
		o += p - 1 - x;
	} else {
		*o++ = '0';
		dot = o;
		*o++ = '.';
		for (i = x; i < -1; i++)
			*o++ = '0';
		memcpy(o, r, (size_t)p);
		o += p;
	}
	while (o[-1] == '0')
		o--;
	if (o - 1 == dot)
		o--;
	if (x < -4 || x >= p)
		o += sprintf(o, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
	*o = '\0';
	return (size_t)(o - out);
}

/* The same as bt_fmt_num(), as the C library says it: the reference. */
static size_t
fmt_num_libc(double v, char *out)
{
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(out, BT_NUMLEN, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(out, BT_NUMLEN, "%.17g", v);
	return strlen(out);
}

/* 5^k for the scales k of exact17(), and 10^(17 - p) for p = 17..15. */
static const uint64_t pow5[23] = { 1, 5, 25, 125, 625, 3125, 15625,
    78125, 390625, 1953125, 9765625, 48828125, 244140625, 1220703125,
    6103515625, 30517578125, 152587890625, 762939453125, 3814697265625,
    19073486328125, 95367431640625, 476837158203125, 2384185791015625 };
static const uint64_t drop10[] = { 1, 10, 100 };

/* A double v = m * 2^e on the scale k of its 17 digits (exact17()). */
struct exact {
	uint64_t	 m;	/* v's significand, 53 bits */
	int		 e;	/* v = m * 2^e */
	int		 k;	/* the scale: v * 10^k has 17 digits */
};

/*
 * v * 10^k rounded to p digits (to the nearest multiple of 10^(17-p)),
 * as a p-digit integer (10^p when it rounds up to one more digit).
 * False on an exact tie, which the library's rounding mode settles.
 */
static bool
round_to(const struct exact *x, int p, uint64_t *n)
{
	unsigned __int128 a, d, q, r;
	int t = x->e + x->k;

	a = (unsigned __int128)x->m * pow5[x->k];
	if (t >= 0) {
		a <<= t;
		d = drop10[17 - p];
	} else
		d = (unsigned __int128)drop10[17 - p] << -t;
	q = a / d;
	r = a % d;
	if (2 * r == d)
		return false;
	*n = (uint64_t)q + (2 * r > d);
	return true;
}

/*
 * A positive finite double v = m * 2^e, exactly, on the scale of its 17
 * digits: v * 10^k = m * 5^k * 2^(e + k) is from 10^16 to 10^17, for k
 * from 0 to 22 (v from about 10^-6 to 10^16, which every equity, price
 * and percentage is), in 128 bits.  False elsewhere, and for a
 * subnormal: the C library decides those.
 */
static bool
exact17(double v, struct exact *x)
{
	uint64_t n;
	int ex, tries;

	x->m = (uint64_t)ldexp(frexp(v, &ex), 53);
	x->e = ex - 53;
	if (x->m < ((uint64_t)1 << 52))
		return false;			/* subnormal */
	x->k = 16 - (int)floor(log10(v));
	for (tries = 0; tries < 3; tries++) {
		/* Within 128 bits: m 5^k < 2^105, the shifts below 2^120. */
		if (x->k < 0 || x->k > 22 || x->e + x->k < -100 ||
		    x->e + x->k > 10 || !round_to(x, 17, &n))
			return false;
		if (n >= 100000000000000000ULL)
			x->k--;
		else if (n < 10000000000000000ULL)
			x->k++;
		else
			return true;
	}
	return false;
}

/*
 * Whether c (17 digits' worth, on x's scale: c * 10^-k) reads back as x's
 * double: it lies within half a unit in the last place of v, the bounds
 * included when m is even (ties go to even).  -1 when this cannot say
 * (v a power of two, whose lower neighbour is nearer).
 */
static int
reads_back(const struct exact *x, uint64_t c)
{
	unsigned __int128 a, b, d, h;
	uint64_t p5 = pow5[x->k];
	int t = x->e + x->k;

	if (x->m == ((uint64_t)1 << 52))
		return -1;
	/* Twice both sides, so that half a unit is whole: */
	if (t < 0) {	/* |c * 2^(1-t) - 2 m 5^k| against 5^k */
		a = (unsigned __int128)c << (1 - t);
		b = ((unsigned __int128)x->m * p5) << 1;
		h = p5;
	} else {	/* |2c - 2 m 5^k 2^t| against 5^k 2^t */
		a = (unsigned __int128)c << 1;
		b = ((unsigned __int128)x->m * p5) << (t + 1);
		h = (unsigned __int128)p5 << t;
	}
	d = a > b ? a - b : b - a;
	return d < h || (d == h && (x->m & 1) == 0);
}

/*
 * The first of "%.15g", "%.16g" and "%.17g" that reads back as v, byte
 * for byte, without the C library: v's exact value rounded to 15, 16
 * and 17 digits (round_to()), laid out as %g does (g_layout()), the
 * first that lies nearer v than its neighbours (reads_back()).  What
 * exact17() does not take, and exact ties, go to the library.  A job's
 * equity.csv has 60 x 250 numbers, and trying each precision with
 * snprintf and strtod was a third of the daily job's instructions.
 */
size_t
bt_fmt_num(double v, char *out)
{
	struct exact x;
	char r[17];
	bool neg = signbit(v);
	uint64_t n, c;
	int p, i, xr, ok;
	size_t len;
	double back;

	if (v == 0)
		return (size_t)sprintf(out, "%s", neg ? "-0" : "0");
	if (!isfinite(v) || !exact17(fabs(v), &x))
		return fmt_num_libc(v, out);
	for (p = 15;; p++) {
		if (!round_to(&x, p, &n))
			return fmt_num_libc(v, out);
		c = n * drop10[17 - p];
		xr = 16 - x.k;
		if (c == 100000000000000000ULL) {	/* 9.99... up to 10 */
			n /= 10;
			xr++;
		}
		for (i = p - 1; i >= 0; i--, n /= 10)
			r[i] = (char)('0' + n % 10);
		len = g_layout(out, neg, r, p, xr);
		if (p == 17)
			return len;
		if ((ok = reads_back(&x, c)) == -1) {
			if (bt_parse_decimal(out, len, &back) == -1)
				back = strtod(out, NULL);
			ok = back == v;
		}
		if (ok)
			return len;
	}
}

/* ",v", or "," when v is not finite. */
static void
csv_num(FILE *fp, double v)
{
	char buf[1 + BT_NUMLEN];

	buf[0] = ',';
	if (!isfinite(v)) {
		fputc(',', fp);
		return;
	}
	fwrite(buf, 1, 1 + bt_fmt_num(v, buf + 1), fp);
}

void
bt_write_trades(FILE *fp, const char *sym, const struct trade *tr, size_t n)
{
	size_t i;
	char a[32], b[32];
	const struct trade *t;

	for (i = 0; i < n; i++) {
		t = &tr[i];
		fprintf(fp, "%s,%s", sym, t->units > 0 ?
		    "long" : "short");
		csv_num(fp, fabs(t->units));
		fprintf(fp, ",%s", bt_fmt_time(t->t_in, a));
		csv_num(fp, t->p_in);
		fprintf(fp, ",%s", bt_fmt_time(t->t_out, b));
		csv_num(fp, t->p_out);
		csv_num(fp, t->pnl);
		csv_num(fp, t->ret * 100);
		csv_num(fp, t->fees);
		fprintf(fp, ",%zu,%zu\n", t->bar_in, t->bar_out);
	}
}

void
bt_write_equity(FILE *fp, const char *sym, const int64_t *t,
    const double *e, const double *pos, const double *c,
    const double *const *col, int ncol, int shift, size_t w0, size_t n)
{
	size_t j, i;
	double peak = -INFINITY;
	char ts[32];
	int k;

	for (j = 0; j < n; j++) {
		i = w0 + j;
		if (e[j] > peak)
			peak = e[j];
		fprintf(fp, "%s,%s", bt_fmt_time(t[i], ts), sym);
		csv_num(fp, e[j]);
		csv_num(fp, e[j] < peak ? -(1 - e[j] / peak) * 100 :
		    0);
		csv_num(fp, pos != NULL ? pos[j] : NAN);
		csv_num(fp, c != NULL ? c[i] : NAN);
		for (k = 0; k < ncol; k++)
			csv_num(fp, i >= (size_t)shift ?
			    col[k][i - (size_t)shift] : NAN);
		fputc('\n', fp);
	}
}

void
bt_write_curve(FILE *fp, const int64_t *t, const double *e, size_t n,
    char *const *names, const double *s, size_t ns)
{
	double peak = -INFINITY;
	size_t j, k;
	char ts[32];

	fputs("time,equity,drawdown_pct", fp);
	for (k = 0; k < ns; k++)
		fprintf(fp, ",%s", names[k]);
	fputc('\n', fp);
	for (j = 0; j < n; j++) {
		if (e[j] > peak)
			peak = e[j];
		fputs(bt_fmt_time(t[j], ts), fp);
		csv_num(fp, e[j]);
		csv_num(fp, e[j] < peak ? -(1 - e[j] / peak) * 100 : 0);
		for (k = 0; k < ns; k++)
			csv_num(fp, s[k * n + j]);
		fputc('\n', fp);
	}
}

bool
bt_judge(const struct series *s, const char *tf, bool store, json_t *m,
    json_t *reasons)
{
	double sharpe = json_real_value(json_object_get(m, "sharpe"));
	double dd = json_real_value(json_object_get(m, "max_drawdown_pct"));
	json_int_t nt = json_integer_value(json_object_get(m, "trades"));
	double min_sharpe = bt_conf_double("BACKTEST_MIN_SHARPE");
	double max_dd = bt_conf_double("BACKTEST_MAX_DRAWDOWN_PCT");
	long min_trades = bt_conf_long("BACKTEST_MIN_TRADES");
	char buf[160], ts[32];

	if (json_is_null(json_object_get(m, "sharpe")))
		json_array_append_new(reasons, json_string("sharpe undefined "
		    "(no volatility)"));
	else if (sharpe < min_sharpe) {
		snprintf(buf, sizeof(buf), "sharpe %.4g < %g", sharpe,
		    min_sharpe);
		json_array_append_new(reasons, json_string(buf));
	}
	if (-dd > max_dd) {
		snprintf(buf, sizeof(buf), "max drawdown %.4g%% > %g%%", -dd,
		    max_dd);
		json_array_append_new(reasons, json_string(buf));
	}
	if (nt < min_trades) {
		snprintf(buf, sizeof(buf), "%lld trades < %ld",
		    (long long)nt, min_trades);
		json_array_append_new(reasons, json_string(buf));
	}
	/* A signal from stale data is no signal (contracts.md "current"). */
	if (store && bt_now_ms() - s->t[s->n - 1] > bt_stale_ms(tf)) {
		snprintf(buf, sizeof(buf), "stale data: newest candle %s",
		    bt_fmt_time(s->t[s->n - 1], ts));
		json_array_append_new(reasons, json_string(buf));
	}
	return json_array_size(reasons) == 0;
}

