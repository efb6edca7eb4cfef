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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
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

/* ",v" in the shortest form that reads back as the same double. */
static void
csv_num(FILE *fp, double v)
{
	char buf[40];
	int prec;

	if (!isfinite(v)) {
		fputc(',', fp);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fprintf(fp, ",%s", buf);
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

