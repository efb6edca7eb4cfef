/*
 * bt_report.h - bt_report.c owns what a backtest says: the head of its
 * JSON lines, a symbol's line, the --trades and --equity files, and the
 * acceptance test of signals_validated.  It reads the engine's outputs
 * and the metrics; it runs nothing.
 */
#ifndef BT_REPORT_H
#define BT_REPORT_H

#include "bt_engine.h"

#define BT_TRADES_HEADER	"symbol,side,units,entry_time,entry_price," \
	"exit_time,exit_price,pnl,return_pct,fees,entry_bar,exit_bar\n"
/* The --equity file's header line, with the strategy's columns; malloc'd. */
char	*bt_equity_header(enum strat id);

/* The parameters of strategy id as a JSON object. */
json_t	*bt_params_json(enum strat id, const double *par);
/* A line's head: what ran on which symbol (bt_rec(event) and more). */
json_t	*bt_line_head(const char *event, const struct series *s,
	    enum strat id, const double *par, const struct exec *ex);
/* A `symbol' line: the head, metrics m, the latest signal, the verdict. */
json_t	*bt_symbol_line(const struct series *s, enum strat id,
	    const double *par, const struct exec *ex, json_t *m,
	    const struct simout *so, bool passed, json_t *reasons);
/*
 * The acceptance test of signals_validated: thresholds on m's sharpe,
 * drawdown and trades, and (for a series from the store) staleness.
 * Appends a reason for each failure; true when none.
 */
bool	 bt_judge(const struct series *s, const char *tf, bool store,
	    json_t *m, json_t *reasons);

/*
 * v in the shortest of "%.15g", "%.16g" and "%.17g" that reads back as v
 * (the CSV files' numbers), into out (BT_NUMLEN bytes); its length.
 */
#define BT_NUMLEN	32
size_t	 bt_fmt_num(double v, char *out);

/* The --trades rows of a symbol's closed trades. */
void	 bt_write_trades(FILE *fp, const char *sym, const struct trade *tr,
	    size_t n);
/*
 * The --equity rows, long format: one per bar j < n (bar w0 + j of t, c
 * and the indicator columns col, which are read `shift' bars back) with
 * equity e[j] and position pos[j]; pos, c and col may be NULL.
 */
void	 bt_write_equity(FILE *fp, const char *sym, const int64_t *t,
	    const double *e, const double *pos, const double *c,
	    const double *const *col, int ncol, int shift, size_t w0,
	    size_t n);

/*
 * The portfolio's curve as CSV (the job's results/equity.csv): time,
 * equity, drawdown_pct, then each of the ns books' equity (names[k],
 * values s[k * n + j]).
 */
void	 bt_write_curve(FILE *fp, const int64_t *t, const double *e, size_t n,
	    char *const *names, const double *s, size_t ns);

#endif /* BT_REPORT_H */
