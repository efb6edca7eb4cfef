/*
 * bt_parse.h - bt_parse.c owns every parser of outside input: kline
 * pages, CSV and freqtrade files, gap records, the market context's
 * answers.  Each refuses the whole input on its first bad row.
 * Also bt-backtest's: OHLCV CSV, candle JSON lines, signals.
 */
#ifndef BT_PARSE_H
#define BT_PARSE_H

#include "bt_util.h"

/*
 * A candle as Binance describes it.  Times in ms.  `has' marks the
 * optional fields (freqtrade files carry only t, o, h, l, c, v).
 */
struct bt_candle {
	int64_t	 t, ct;
	double	 o, h, l, c, v, qv, tb, tq;
	int64_t	 n;
	unsigned has;
};
#define BT_HAS_CT	0x01
#define BT_HAS_QV	0x02
#define BT_HAS_N	0x04
#define BT_HAS_TB	0x08
#define BT_HAS_TQ	0x10
#define BT_HAS_ALL	0x1f


/*
 * Parsers of outside input.  Each returns 0 or -1 with err naming where
 * (file:line, row N) and why.  Candles come back sorted as given.  The
 * parsers of HTTP answers (klines, futures, ticker, FRED) return
 * BT_PARSE_MALFORMED instead when the answer is not JSON or not of the
 * shape asked for (a cut body, an HTML page, an error object): a break of
 * the protocol that a caller may retry, where -1 is bad data in a well
 * formed answer.  An error object of Binance's is said with its code and
 * message.
 */
#define BT_PARSE_MALFORMED	(-2)
int	 bt_parse_klines(const char *body, size_t len, int64_t iv,
	    struct bt_candle **out, size_t *n, char *err);
/*
 * data.binance.vision CSV (ms or us, header optional), parsed in place:
 * buf[len] is '\0', and the separators in buf are overwritten.
 */
int	 bt_parse_kline_csv(const char *name, char *buf, size_t len,
	    int64_t iv, struct bt_candle **out, size_t *n, char *err);
/* freqtrade JSON: [[ms,o,h,l,c,v],...]. */
int	 bt_parse_freqtrade(const char *name, const char *buf, size_t len,
	    int64_t iv, struct bt_candle **out, size_t *n, char *err);
/* Frees the calling thread's parse arena (kline pages reuse one). */
void	 bt_parse_release(void);
/* A decimal as Binance writes it ("0.0163", "8.4E-7"); no nan, inf, hex. */
int	 bt_parse_decimal(const char *s, size_t len, double *v);
/*
 * The largest price or volume taken (far above any real Binance figure,
 * and small enough that the indicators' sums of squares over
 * BT_IND_MAXPERIOD bars and every price x volume stay finite).
 */
#define BT_VALUE_MAX	1e18
/* A price a candle may carry: finite, above 0, at most BT_VALUE_MAX. */
bool	 bt_price_ok(double p);
/*
 * Checks one candle: prices bt_price_ok(), volumes finite in
 * 0..BT_VALUE_MAX, high >= max(o,c), low <= min(o,c).
 */
int	 bt_candle_check(const struct bt_candle *c, int64_t iv, char *why,
	    size_t len);
/* A gap record line; 1 when the line is one, 0 when not, -1 on error. */
struct bt_gap {
	char	 symbol[24], tf[8];
	int64_t	 from, to;
};
int	 bt_parse_gap(const char *line, struct bt_gap *g, char *err);


/* Market context: Binance futures statistics, the 24 h ticker, FRED. */
/* One row of a futures answer: its time and up to four values. */
#define BT_SENT_MAXF	4
struct bt_sent_row {
	int64_t	 t;
	double	 v[BT_SENT_MAXF];	/* NAN: absent or empty (optional) */
};
/*
 * A JSON array of objects (fundingRate, openInterestHist, ...): `tkey'
 * is the time field (a number or a string of digits), keys[0..nk-1] the
 * values (decimal strings, E-notation included, or numbers); keys after
 * the first `nreq' may be absent or "".  Rows must ascend strictly.  A
 * row that names a symbol must name `symbol' (NULL: any), the one asked.
 */
int	 bt_parse_futures(const char *body, size_t len, const char *symbol,
	    const char *tkey, const char *const *keys, int nk, int nreq,
	    struct bt_sent_row **out, size_t *n, char *err);
/* /api/v3/ticker/24hr: one row per symbol, t = closeTime. */
#define BT_TICKER_NF	8
extern const char *const bt_ticker_keys[BT_TICKER_NF];
extern const char *const bt_ticker_metrics[BT_TICKER_NF];
struct bt_ticker_row {
	char	 symbol[24];
	int64_t	 t;
	double	 v[BT_TICKER_NF];
};
int	 bt_parse_ticker(const char *body, size_t len,
	    struct bt_ticker_row **out, size_t *n, char *err);
/* FRED series/observations, file_type=json. */
struct bt_fred_obs {
	int64_t	 date;		/* midnight UTC, ms */
	double	 v;		/* NAN for FRED's "." */
};
int	 bt_parse_fred(const char *body, size_t len, struct bt_fred_obs **out,
	    size_t *n, int64_t *count, char *err);
/* FRED's error body {"error_code":400,"error_message":"..."}, or NULL. */
char	*bt_fred_error(const char *body, size_t len);


/*
 * bt-backtest's input files.  Each parses a NUL-terminated buffer that it
 * cuts into lines in place, and returns 0, or -1 with err naming the file
 * and line.  Their candles are checked with an interval that any close
 * time is within (the interval is known only when all are read).
 */
#define BT_LOOSE_IV	(INT64_MAX / 4)
/* OHLCV CSV as pandas writes it: a header, the date first. */
int	 bt_parse_ohlcv_csv(const char *name, char *buf,
	    struct bt_candle **out, size_t *n, char *err);
/* Candle JSON lines, each with its symbol (defsym where it names none). */
struct bt_line_candle {
	char		 symbol[24];
	struct bt_candle c;
};
int	 bt_parse_candle_lines(const char *name, char *buf,
	    const char *defsym, struct bt_line_candle **out, size_t *n,
	    char *err);
/* External signals (contracts.md), sorted by symbol, time and line. */
struct bt_signal {
	char	 symbol[24];
	int64_t	 t;		/* open time of the bar whose close made it */
	double	 pos;		/* target fraction of equity, -1..1 */
	size_t	 line;		/* in the file, for messages */
};
/* What a signal must respect; iv > 0: only bars of tf closed by now. */
struct bt_signal_rules {
	bool		 shorts;
	const char	*tf;
	int64_t		 iv, now;
};
int	 bt_parse_signals(const char *name, char *buf,
	    const struct bt_signal_rules *rl, struct bt_signal **out,
	    size_t *n, char *err);

#endif /* BT_PARSE_H */
