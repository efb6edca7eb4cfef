/*
 * bt.h - the one header of libbt, the code the six bt programs share.
 *
 * Grouped by source file.  Library functions never print and never exit:
 * they return -1 (or NULL) and leave a one-line reason in an `err' buffer
 * of BT_ERRLEN bytes, or return one of the exit codes below.  Only a
 * program's main() prints diagnostics and chooses its exit status.
 */
#ifndef BT_H
#define BT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#define BT_VERSION	"1.0.0"
#define BT_ERRLEN	512

/* Exit codes: contracts.md, the same in every program. */
enum {
	BT_EX_OK = 0,
	BT_EX_FOUND = 1,	/* checked and found a problem */
	BT_EX_USAGE = 64,
	BT_EX_DATAERR = 65,
	BT_EX_NOINPUT = 66,
	BT_EX_UNAVAILABLE = 69,
	BT_EX_SOFTWARE = 70,
	BT_EX_CANTCREAT = 73,
	BT_EX_IOERR = 74,
	BT_EX_TEMPFAIL = 75,
	BT_EX_CONFIG = 78,
};

/* ---------------------------------------------------------------- bt_util.c */

/* Sets the program name, umask 027, line-buffered stdout, reads BT_NOW. */
int	 bt_init(const char *prog, char *err);
const char *bt_prog(void);
/* Of two exit codes, the one contracts.md says a run ends with. */
int	 bt_exit_worse(int a, int b);
/* Flushes stdout; a failed write of the JSON lines turns `code' into 74. */
int	 bt_finish(int code);

/* Time.  Wall clock is BT_NOW when set; durations use CLOCK_MONOTONIC. */
int64_t	 bt_now_ms(void);
bool	 bt_now_frozen(void);
double	 bt_mono(void);
int	 bt_parse_time(const char *s, int64_t *ms);	/* ISO 8601 UTC */
char	*bt_fmt_time(int64_t ms, char buf[32]);		/* 2022-10-11T00:00:00Z */
void	 bt_sleep(double seconds);

/* Timeframes (Binance's spelling) and the seed's table names. */
int64_t	 bt_tf_ms(const char *tf);			/* 0 when unknown */
const char *bt_tf_view(const char *tf);			/* "ohlcv_h1" or NULL */
bool	 bt_symbol_ok(const char *s);			/* ^[A-Z0-9]{2,20}$ */

/* Diagnostics to stderr: "bt-fetch: message".  Secrets are redacted. */
void	 bt_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 bt_set_diag(FILE *fp);		/* NULL: silent (fuzzers) */
/* Removes Telegram tokens and API keys from s, in place. */
void	 bt_redact(char *s);
void	 bt_redact_add(const char *secret);	/* also redact this literal */

/* JSON lines on stdout: {"ts":..,"prog":..,"event":..,...}. */
json_t	*bt_rec(const char *event);
void	 bt_rec_dur(json_t *rec, const char *key, double seconds);
void	 bt_emit(json_t *rec);			/* prints one line, decrefs */
char	*bt_json_line(json_t *rec);		/* the same line, malloc'd */

/* Files. */
int	 bt_mkdirs(const char *path, int mode, char *err);
int	 bt_fsync_dir(const char *path, char *err);
/* Writes data to path.tmp, fsyncs, renames onto path, fsyncs the dir. */
int	 bt_write_atomic(const char *path, const void *data, size_t len,
	    int mode, char *err);
char	*bt_read_file(const char *path, size_t max, size_t *len, char *err);
char	*bt_path(const char *rel);		/* $BT_HOME/rel, malloc'd */

/* The write lock (contracts.md): flock on run/write.lock, close-on-exec. */
int	 bt_wlock(char *err);		/* 0, or BT_EX_TEMPFAIL / BT_EX_IOERR */
void	 bt_wunlock(void);
/* db/LOCKED: a restore or rollback is in progress. */
bool	 bt_store_locked(char *owner, size_t len);

/* Process identity, for status files and db/LOCKED. */
int64_t	 bt_proc_start_ticks(long pid);		/* field 22, or -1 */
int	 bt_proc_stat(long pid, char *state, int64_t *v, int from, int n);
const char *bt_boot_id(void);

/* Small growable string. */
struct bt_buf {
	char	*p;
	size_t	 len, cap;
};
void	 bt_buf_add(struct bt_buf *b, const void *p, size_t n);
void	 bt_buf_printf(struct bt_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 bt_buf_free(struct bt_buf *b);

uint64_t bt_hash64(const void *p, size_t n, uint64_t h);	/* FNV-1a */

/* ---------------------------------------------------------------- bt_conf.c */

/*
 * Configuration: $BT_CONF (default /etc/bt/bt.conf), then the environment,
 * then options (bt_conf_set).  One table of known keys lives in bt_conf.c.
 */
int	 bt_conf_load(char *err);	/* 0 or BT_EX_CONFIG */
const char *bt_conf(const char *key);		/* never NULL for known keys */
/* An option's value; checked like the file's.  0 or an exit code. */
int	 bt_conf_set(const char *key, const char *val, char *err);
/* Declares that this program uses a secret key (before bt_conf_load). */
void	 bt_conf_want(const char *key);
long	 bt_conf_long(const char *key);
double	 bt_conf_double(const char *key);
/* Splits a comma- or space-separated list; returns the count. */
int	 bt_conf_list(const char *key, char ***out);
void	 bt_list_free(char **v, int n);
int	 bt_list_split(const char *s, char ***out);
/* Retry waits in seconds, from BT_RETRY_DELAYS or another key. */
int	 bt_conf_delays(const char *key, double **out);
/* Staleness threshold of a timeframe, ms. */
int64_t	 bt_stale_ms(const char *tf);
/* A secret (TELEGRAM_BOT_TOKEN, FRED_API_KEY): from the _FILE, or env. */
char	*bt_secret(const char *key, char *err);
/* The parts of bt_conf_load, for the fuzzer and tests. */
int	 bt_conf_parse(const char *name, char *buf, size_t len,
	    bool *secret_inside, char *err);
int	 bt_conf_check(char *err);
void	 bt_conf_reset(void);
/* The keys, for `--help-config' style listings and tests. */
void	 bt_conf_dump(FILE *fp);

/* ---------------------------------------------------------------- bt_db.c */

enum { BT_DB_RO = 0, BT_DB_RW = 1, BT_DB_CREATE = 2,
	BT_DB_PLAIN_OK = 4 };	/* open a seed-layout store, to migrate it */

/*
 * Opens the store (db/crypto_agent.db) or the state file (db/bt_state.db)
 * with the seed's pragmas, creating or migrating the schema when opened
 * read-write.  Returns 0 or an exit code with err set.
 */
int	 bt_open_store(const char *path, int mode, sqlite3 **db, char *err);
int	 bt_open_state(const char *path, int mode, sqlite3 **db, char *err);
char	*bt_store_path(void);
char	*bt_state_path(void);
/* Exit code for a failed SQLite call: BUSY -> 75, IO/FULL -> 74, ... */
int	 bt_sqlite_ex(int rc);
/* BEGIN IMMEDIATE under the write lock; commit or roll back and unlock. */
int	 bt_begin(sqlite3 *db, char *err);
int	 bt_commit(sqlite3 *db, char *err);
void	 bt_rollback(sqlite3 *db);
int	 bt_exec(sqlite3 *db, const char *sql, char *err);
/* A statement prepared once per connection; bt_close() finalizes it. */
sqlite3_stmt *bt_stmt(sqlite3 *db, const char *sql, char *err);
void	 bt_close(sqlite3 *db);

/* Schema versions. */
#define BT_STORE_SCHEMA	2
#define BT_STATE_SCHEMA	3
/* True when the store holds the seed's plain ohlcv_* tables. */
bool	 bt_store_is_plain(sqlite3 *db);
int	 bt_store_migrate_plain(sqlite3 *db, json_t *report, char *err);

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

/* A (symbol, timeframe) of the store, with its decimal scales. */
struct bt_pair {
	int64_t	 id;		/* 0: not in the store */
	int64_t	 iv;		/* interval, ms */
	double	 dp, dv, dq;	/* 10^k of prices, volumes, quote volumes */
	char	 symbol[24], tf[8];
};
/* Finds a pair; with `create', adds it, scaled to fit the candles c. */
int	 bt_pair_get(sqlite3 *db, const char *symbol, const char *tf,
	    bool create, const struct bt_candle *c, size_t n,
	    struct bt_pair *p, char *err);
/* Upserts n candles; *changed counts rows inserted or altered. */
int	 bt_candles_upsert(sqlite3 *db, const struct bt_pair *p,
	    const struct bt_candle *c, size_t n, int64_t *changed, char *err);
int	 bt_pair_range(sqlite3 *db, const struct bt_pair *p, int64_t *first,
	    int64_t *last, int64_t *count, char *err);
/* Newest stored open time, -1 when none. */
int	 bt_pair_last(sqlite3 *db, const struct bt_pair *p, int64_t *last,
	    char *err);
/* Candles with open time in [from, to], or the newest `last' of them. */
int	 bt_candles_load(sqlite3 *db, const struct bt_pair *p, int64_t from,
	    int64_t to, size_t last, struct bt_candle **c, size_t *n,
	    char *err);

/* State file: runs, events, dirty ranges, key/value. */
int64_t	 bt_run_begin(sqlite3 *st, const char *job, char *err);
int	 bt_run_end(sqlite3 *st, int64_t run, int exitcode, json_t *summary,
	    char *err);
/*
 * Records an event and prints it as a JSON line with its event_id.
 * `st' may be NULL (then only printed).  Takes its own transaction
 * unless one is open.
 */
int	 bt_event(sqlite3 *st, const char *severity, const char *kind,
	    const char *symbol, const char *tf, json_t *extra,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Records an event line (stdin's, or one built here), unless its id is. */
int	 bt_event_record(sqlite3 *st, json_t *ev, char *err);
int	 bt_dirty_add(sqlite3 *st, const char *symbol, const char *tf,
	    int64_t from, int64_t to, char *err);
/* Scheduled slots ("03:00", "sun 03:00", "1 05:00") and due checks. */
int	 bt_slot_latest(const char *spec, int64_t now, int64_t *slot,
	    char *err);
int	 bt_due(sqlite3 *st, const char *prog, const char *job, int okmax,
	    const char *spec, bool *due, int64_t *slot, char *err);
void	 bt_not_due(const char *job, int64_t slot);
int	 bt_kv_get(sqlite3 *st, const char *key, char **val, char *err);
int	 bt_kv_set(sqlite3 *st, const char *key, const char *val, char *err);

/* ---------------------------------------------------------------- bt_http.c */

struct bt_http_resp {
	long	 status;	/* HTTP status; 0 on a transport error */
	int	 curlcode;
	char	*body;
	size_t	 len;
	long	 used_weight;	/* X-MBX-USED-WEIGHT-1M, -1 when absent */
	double	 retry_after;	/* Retry-After seconds, -1 when absent */
	char	 err[BT_ERRLEN];
};
struct bt_http;
/* Base URL must be https, or http on a loopback address. */
struct bt_http *bt_http_new(const char *base, char *err);
void	 bt_http_free(struct bt_http *h);
/* GET base+path?query; query values must already be escaped. */
int	 bt_http_get(struct bt_http *h, const char *path, const char *query,
	    struct bt_http_resp *r);
/* POST application/x-www-form-urlencoded. */
int	 bt_http_post(struct bt_http *h, const char *path, const char *form,
	    struct bt_http_resp *r);
void	 bt_http_resp_free(struct bt_http_resp *r);
char	*bt_http_escape(struct bt_http *h, const char *s);

/* ---------------------------------------------------------------- bt_parse.c */

/*
 * Parsers of outside input.  Each returns 0 or -1 with err naming where
 * (file:line, row N) and why.  Candles come back sorted as given.
 */
int	 bt_parse_klines(const char *body, size_t len, int64_t iv,
	    struct bt_candle **out, size_t *n, char *err);
/* data.binance.vision CSV (ms or us, header optional). */
int	 bt_parse_kline_csv(const char *name, const char *buf, size_t len,
	    int64_t iv, struct bt_candle **out, size_t *n, char *err);
/* freqtrade JSON: [[ms,o,h,l,c,v],...]. */
int	 bt_parse_freqtrade(const char *name, const char *buf, size_t len,
	    int64_t iv, struct bt_candle **out, size_t *n, char *err);
/* Frees the calling thread's parse arena (kline pages reuse one). */
void	 bt_parse_release(void);
/* A decimal as Binance writes it ("0.0163", "8.4E-7"); no nan, inf, hex. */
int	 bt_parse_decimal(const char *s, size_t len, double *v);
/* Checks one candle: finite, high >= max(o,c), low <= min(o,c), v >= 0. */
int	 bt_candle_check(const struct bt_candle *c, int64_t iv, char *why,
	    size_t len);
/* A gap record line; 1 when the line is one, 0 when not, -1 on error. */
struct bt_gap {
	char	 symbol[24], tf[8];
	int64_t	 from, to;
};
int	 bt_parse_gap(const char *line, struct bt_gap *g, char *err);

/* ---------------------------------------------------------------- bt_ind.c */

/*
 * Indicators exactly as TA-Lib (0.6.0-dev, as bundled by npm talib 2.0.5)
 * computes them, default compatibility, no unstable period.  Each array
 * function fills out[0..n-1], NAN before its lookback, and returns the
 * lookback (index of the first valid value, TA-Lib's begIndex when
 * computing from index 0), or -1 with every output NAN when n is too short
 * or a parameter is bad.  Periods follow TA-Lib's ranges (2.., 1.. for ATR)
 * capped at BT_IND_MAXPERIOD; a MACD signal period of 1, which TA-Lib
 * accepts but computes wrongly, is refused.  NaN inputs are not skipped:
 * as in TA-Lib they poison running sums from then on.
 *
 * Each has a streaming form: _init() returns the same lookback or -1 (a
 * state whose init failed yields NAN forever), _step() takes one bar and
 * returns NAN until the lookback is reached.  The states are plain data, no
 * pointers, zeroed by _init(): memcpy one (e.g. to a BLOB of sizeof bytes)
 * and stepping the copy on gives the bits a full recomputation gives.  The
 * array functions are loops over the step functions.
 */
#define BT_IND_MAXPERIOD	512

int	 bt_sma(const double *x, size_t n, int period, double *out);
int	 bt_ema(const double *x, size_t n, int period, double *out);
int	 bt_rsi(const double *x, size_t n, int period, double *out);
int	 bt_bbands(const double *x, size_t n, int period, double kup,
	    double kdn, double *up, double *mid, double *lo);
int	 bt_atr(const double *h, const double *l, const double *c, size_t n,
	    int period, double *out);
/* fast > slow is swapped, as TA-Lib does; lookback (slow-1)+(signal-1). */
int	 bt_macd(const double *x, size_t n, int fast, int slow, int signal,
	    double *macd, double *sig, double *hist);
int	 bt_max(const double *x, size_t n, int period, double *out);
int	 bt_min(const double *x, size_t n, int period, double *out);

/* SMA: running sum, add the new value, then subtract the oldest. */
struct bt_sma_st {
	int	 period;
	int64_t	 n;				/* bars seen */
	double	 sum;
	double	 ring[BT_IND_MAXPERIOD];	/* x[i] at i % period */
};
int	 bt_sma_init(struct bt_sma_st *st, int period);
double	 bt_sma_step(struct bt_sma_st *st, double x);

/* EMA: seeded with the SMA of the first `period' values. */
struct bt_ema_st {
	int	 period;
	int64_t	 n;
	double	 k, sum, prev;
};
int	 bt_ema_init(struct bt_ema_st *st, int period);
double	 bt_ema_step(struct bt_ema_st *st, double x);

/* RSI: Wilder smoothing seeded with plain means; 0 when gain+loss ~ 0. */
struct bt_rsi_st {
	int	 period;
	int64_t	 n;
	double	 prev, gain, loss;
};
int	 bt_rsi_init(struct bt_rsi_st *st, int period);
double	 bt_rsi_step(struct bt_rsi_st *st, double x);

/* BBANDS over an SMA: population deviation from running sums of x, x^2. */
struct bt_bbands_st {
	int	 period;
	int64_t	 n;
	double	 kup, kdn, sum, sum2;
	double	 ring[BT_IND_MAXPERIOD];
};
int	 bt_bbands_init(struct bt_bbands_st *st, int period, double kup,
	    double kdn);
void	 bt_bbands_step(struct bt_bbands_st *st, double x, double *up,
	    double *mid, double *lo);

/* ATR: true range from bar 1, SMA seed, then Wilder; period 1 is TRANGE. */
struct bt_atr_st {
	int	 period;
	int64_t	 n;
	double	 prevc, sum, atr;
};
int	 bt_atr_init(struct bt_atr_st *st, int period);
double	 bt_atr_step(struct bt_atr_st *st, double h, double l, double c);

/* MACD: fast and slow EMAs seeded on windows ending on the same bar. */
struct bt_macd_st {
	int	 fast, slow, signal;
	int64_t	 n;
	struct bt_ema_st fe, se, sg;
};
int	 bt_macd_init(struct bt_macd_st *st, int fast, int slow, int signal);
void	 bt_macd_step(struct bt_macd_st *st, double x, double *macd,
	    double *sig, double *hist);

/* MAX and MIN over the last `period' values, TA-Lib's rescan included. */
struct bt_max_st {
	int	 period;
	int64_t	 n, best_i;
	double	 best;
	double	 ring[BT_IND_MAXPERIOD];
};
int	 bt_max_init(struct bt_max_st *st, int period);
double	 bt_max_step(struct bt_max_st *st, double x);
struct bt_min_st {
	int	 period;
	int64_t	 n, best_i;
	double	 best;
	double	 ring[BT_IND_MAXPERIOD];
};
int	 bt_min_init(struct bt_min_st *st, int period);
double	 bt_min_step(struct bt_min_st *st, double x);

/* ---------------------------------------------------------------- bt_cov.c */

/*
 * Coverage (contracts.md), shared by bt-fetch and bt-validate.  `status'
 * is an exchangeInfo map symbol -> status, or NULL; a symbol it does not
 * name is judged by the state file's not_trading:SYMBOL mark (today's or
 * yesterday's date).  `st' may be NULL.
 */
struct bt_cov_pair {
	char	 symbol[24], tf[8];
	int64_t	 last;		/* newest open time, -1: none */
	int64_t	 threshold;	/* staleness threshold, ms */
	bool	 current;
	bool	 excluded;	/* not TRADING: left out of coverage */
};
struct bt_cov {
	struct bt_cov_pair *p;	/* nsyms x ntfs, symbol-major */
	int	 n, counted, current;
	double	 coverage;	/* current / counted; 1 when none counted */
};
bool	 bt_not_trading(sqlite3 *st, json_t *status, const char *sym);
int	 bt_coverage(sqlite3 *db, sqlite3 *st, json_t *status, char **syms,
	    int nsyms, char **tfs, int ntfs, struct bt_cov *cov, char *err);
void	 bt_cov_free(struct bt_cov *cov);

/* ---------------------------------------------------------------- bt_ohlc.c */

/*
 * A pair's open times and OHLC in arrays (bt-backtest's loader): the rows
 * bt_candles_load() would give for the same arguments, five columns only.
 * t, o, h, l, c share one allocation owned by t, reused by the next call
 * on the same struct (zero it first); bt_ohlc_free() frees it.
 */
struct bt_ohlc {
	size_t	 n, cap;
	int64_t	*t;
	double	*o, *h, *l, *c;
};
int	 bt_ohlc_load(sqlite3 *db, const struct bt_pair *p, int64_t from,
	    int64_t to, size_t last, struct bt_ohlc *d, char *err);
void	 bt_ohlc_free(struct bt_ohlc *d);

/* ---------------------------------------------------------------- bt_indtab.c */

/*
 * The indicator table (issue 6): one row per candle of each pair of the
 * indicator timeframes, one column per indicator value, NULL before each
 * indicator's lookback, kept in the store next to the candles as the
 * compact table `ind' under the seed's view `indicadores_tecnico'.  Each
 * pair's streaming states (bt_ind.c) are kept in `ind_state', so new
 * candles resume them; a trigger on `candles' marks a pair dirty when a
 * candle at or before its last computed one is written, and the next
 * update recomputes it from its first candle, rewriting rows from the
 * earliest changed one.  Either way the rows are, to the bit, those of a
 * full recomputation (tests/1220-indicator-table.t).
 */
#define BT_IND_MAXLIST	8
struct bt_ind_spec {
	int	 sma[BT_IND_MAXLIST], nsma;
	int	 ema[BT_IND_MAXLIST], nema;
	int	 rsi[BT_IND_MAXLIST], nrsi;
	int	 atr[BT_IND_MAXLIST], natr;
	int	 bb;			/* period; 0: no Bollinger bands */
	double	 bbk;			/* deviations, up and down */
	int	 mfast, mslow, msig;	/* 0: no MACD */
	char	 text[256];		/* canonical, kept in bt_meta */
};
/* The defaults: SMA 20 50 200, EMA 12 26, RSI 14, BB 20x2, ATR 14, MACD. */
void	 bt_ind_spec_default(struct bt_ind_spec *s);
/* From BT_IND_SMA ... BT_IND_MACD; 0 or BT_EX_CONFIG naming the key. */
int	 bt_ind_spec_conf(struct bt_ind_spec *s, char *err);
/* Creates (or re-creates, dropping rows and states) table and view. */
int	 bt_ind_create(sqlite3 *db, const struct bt_ind_spec *s, char *err);
/* Re-creates them in a transaction of its own when the spec changed. */
int	 bt_ind_prepare(sqlite3 *db, const struct bt_ind_spec *s,
	    bool *changed, char *err);
/* Drops every row and state: the next updates recompute everything. */
int	 bt_ind_reset(sqlite3 *db, char *err);
/* What one update did. */
struct bt_ind_run {
	int64_t	 rows;		/* rows written */
	int64_t	 candles;	/* candles stepped */
	int64_t	 from;		/* first open time written, -1: none */
	bool	 full;		/* recomputed from the first candle */
	const char *why;	/* why full: "new", "dirty", "state", ... */
};
/* Brings one pair up to date, in a write transaction of its own. */
int	 bt_ind_update(sqlite3 *db, const struct bt_ind_spec *s,
	    const struct bt_pair *p, struct bt_ind_run *r, char *err);
/* Pairs of the timeframes tfs whose rows are missing, behind or dirty. */
int	 bt_ind_pending(sqlite3 *db, char **tfs, int ntfs, bool all,
	    struct bt_pair **out, size_t *n, char *err);

/* ---------------------------------------------------------------- bt_market.c */

/*
 * Market context: Binance futures statistics, the spot 24 h ticker, and
 * FRED series.  Parsers of outside input (fuzzed) and the store's upserts.
 */
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
 * the first `nreq' may be absent or "".  Rows must ascend strictly.
 */
int	 bt_parse_futures(const char *body, size_t len, const char *tkey,
	    const char *const *keys, int nk, int nreq,
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

/* sentimento_mercado: upserts n values of (symbol, metric). */
int	 bt_sent_store(sqlite3 *db, const char *symbol, const char *metric,
	    const int64_t *t, const double *v, size_t n, size_t stride,
	    int64_t *changed, char *err);
/* The newest stored time of (symbol, metric), -1 when none. */
int	 bt_sent_last(sqlite3 *db, const char *symbol, const char *metric,
	    int64_t *last, char *err);
/* macro_data: upserts; counts new rows and revised ones. */
int	 bt_macro_store(sqlite3 *db, const char *series,
	    const struct bt_fred_obs *o, size_t n, int64_t *added,
	    int64_t *revised, char *err);

/* ------------------------------------------------ bt_conf.c (issue 7) */

/*
 * Whether a secret is configured (its _FILE, or the environment or the
 * file directly), without reading it.  bt_conf_load() removes secrets
 * from the environment once read, so getenv() no longer tells.
 */
bool	 bt_secret_set(const char *key);

#endif /* BT_H */
