/*
 * bt_binance.h - bt_binance.c owns the Binance client: one GET under the
 * retry policy of contracts.md (waits, Retry-After, 429, 418), pacing by
 * the request weight Binance reports, the server time and exchangeInfo,
 * and the kline pager that pages one pair's candles.  It reports a ban
 * and records nothing: bt_ingest.c writes the ban-until time.
 */
#ifndef BT_BINANCE_H
#define BT_BINANCE_H

#include <stdatomic.h>

#include "bt_http.h"
#include "bt_parse.h"

/*
 * Why a pair (or a request) failed.  The client gives the first five,
 * BT_F_RATE and BT_F_DEADLINE (the run's deadline passed: the rest is
 * left for the next run, exit 75); BT_F_STORE and BT_F_BUSY are the
 * store's, given by the modules above: it cannot be written (74), or
 * run/write.lock stayed held past the run's budget (75, and never taken
 * for Binance's ban, whose 75 it shares).
 */
enum bt_fail {
	BT_F_NONE, BT_F_TRANSPORT, BT_F_API, BT_F_DATA, BT_F_BAN, BT_F_STORE,
	BT_F_RATE, BT_F_DEADLINE, BT_F_BUSY
};
/* The exit code of a failure (contracts.md). */
int	 bt_fail_exit(enum bt_fail f);
/* *w becomes f when f's exit code is the one a run ends with. */
void	 bt_fail_worse(enum bt_fail *w, enum bt_fail f);

/*
 * A client of one service at a time (Binance spot or futures, FRED).
 * During a candle run only the fetcher thread uses it; the main thread
 * may set `stop', and reads the rest once the thread has handed a pair
 * over (bt_ingest.c).
 */
struct bt_binance {
	/*
	 * How a request goes out and how a wait is waited: bt_http_get()
	 * on `arg' and bt_sleep() after bt_binance_init(); a unit test puts
	 * canned answers here.
	 */
	int		(*get)(void *arg, const char *path, const char *query,
			    struct bt_http_resp *r);
	void		(*sleep)(double seconds);
	void		*arg;
	struct bt_http	*http;		/* for escaping; not owned */
	bool		 verbose;	/* retries and waits to stderr */
	double		*delays;	/* the waits between tries */
	int		 ndelays;
	long		 weight_used;	/* this minute's weight; -1: unknown */
	long		 weight_cap;
	double		 deadline;	/* bt_mono() time; 0: none */
	int64_t		 sent_ms;	/* our clock when the last try left */
	double		 rtt;		/* the last try's round trip, s */
	/*
	 * Binance's time at the start (/api/v3/time, in ms even when sent in
	 * microseconds, time_us), and our clock at the moment Binance read
	 * its own: skew = server - local, in seconds.
	 */
	int64_t		 server_ms, local_ms;
	double		 skew;
	bool		 time_us;
	json_t		*status;	/* exchangeInfo: symbol -> status */
	long		 requests, retries, paced;	/* this run's */
	double		 ban_secs;	/* Retry-After of a 418 */
	bool		 banned;
	atomic_bool	 stop;		/* no more requests */
	atomic_bool	 late;		/* stopped by the deadline */
};

/*
 * Sets b up for the service behind h: the waits of the configuration key
 * `delays', pacing under `cap' weight a minute (binance.md).  A zeroed b
 * may be freed without it.
 */
void	 bt_binance_init(struct bt_binance *b, struct bt_http *h,
	    const char *delays, long cap, bool verbose);
/* Points b at another service of the same run; the counters go on. */
void	 bt_binance_use(struct bt_binance *b, struct bt_http *h, long cap);
void	 bt_binance_free(struct bt_binance *b);

/*
 * The run's deadline, a bt_mono() time (0: none): no request starts and
 * no wait runs past it, and the request under way is cut at it
 * (bt_http_deadline()); then b->late and b->stop are set, and the
 * request fails with BT_F_DEADLINE.
 */
void	 bt_binance_deadline(struct bt_binance *b, double deadline);

/*
 * Whether a 200's body is what was asked for: 0 (having parsed it into
 * arg, or found bad data there for the caller to report), or -1 with why
 * when the answer breaks the protocol (not JSON, cut short, an error
 * object, more rows than asked).  Such an answer is retried like a 5xx;
 * when every try breaks it, the request fails with BT_F_DATA.
 */
typedef int bt_binance_body(void *arg, const struct bt_http_resp *r,
	    char *why);
/*
 * GET path?query, costing `weight', with the retry policy, a 200 checked
 * by ok (NULL: any body); counts into *requests and *retries as well as
 * b's totals.  BT_F_NONE with a 200 answer in r, or the failure with err
 * set; r is freed by the caller either way.  A 418, a 429 on every try
 * and the deadline set b->stop.
 */
enum bt_fail bt_binance_fetch(struct bt_binance *b, const char *path,
	    const char *query, int weight, bt_binance_body *ok, void *arg,
	    struct bt_http_resp *r, long *requests, long *retries, char *err);
/* bt_binance_fetch() taking any 200. */
enum bt_fail bt_binance_get(struct bt_binance *b, const char *path,
	    const char *query, int weight, struct bt_http_resp *r,
	    long *requests, long *retries, char *err);
/* Appends symbols=["A","B",...], escaped, to q. */
void	 bt_binance_symbols(struct bt_binance *b, char **syms, int n,
	    struct bt_buf *q);
/*
 * /api/v3/time into b->server_ms, and the skew of Binance's clock against
 * ours, read half the round trip after the request left (with BT_NOW
 * frozen there is no round trip, so the output stays byte-identical).
 */
enum bt_fail bt_binance_server_time(struct bt_binance *b, char *err);
/* exchangeInfo of syms into b->status; asks singly when one is unknown. */
void	 bt_binance_exchange_info(struct bt_binance *b, char **syms,
	    int nsyms);
/* A symbol's status by exchangeInfo; "TRADING" when not known. */
const char *bt_binance_status(const struct bt_binance *b, const char *sym);

/*
 * One pair's range of klines, and what fetching it did.  The pager (the
 * fetcher thread) writes all but `abort', which the caller sets when it
 * wants no more pages of the pair.
 */
struct bt_klines {
	const char	*symbol, *tf;
	int64_t		 iv, from, to;	/* to == 0: up to the open candle */
	int64_t		 received;	/* closed candles handed on */
	long		 requests, retries;
	enum bt_fail	 fail;
	bool		 trips;		/* this failure trips the breaker */
	char		 err[BT_ERRLEN];
	double		 t0;		/* when its first request went out */
	atomic_bool	 abort;
};
/*
 * A page of closed candles for `page' to own (c is malloc'd, n may be 0);
 * `next' is the open time the following page starts at, 0 after the last.
 */
typedef void bt_klines_page(void *arg, struct bt_klines *k,
	    struct bt_candle *c, size_t n, int64_t next);
/*
 * Pages k from k->from (inclusive) up to k->to or the open candle, 1000
 * candles a request, each next page starting just after the last open
 * time returned; drops the candle still open by the earlier of
 * b->server_ms and our clock.  Stops at the end, at a failure (k->fail,
 * k->err), or at b->stop or k->abort.
 */
void	 bt_binance_klines(struct bt_binance *b, struct bt_klines *k,
	    bt_klines_page *page, void *arg);

#endif /* BT_BINANCE_H */
