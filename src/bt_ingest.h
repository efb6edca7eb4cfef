/*
 * bt_ingest.h - bt_ingest.c owns what a bt-fetch run does to the store
 * and the state file: pages stored whole with their dirty ranges, the
 * indicator table brought up after them, the ban-until time, the
 * once-a-day warnings, the run's totals; and --import, --indicators.
 */
#ifndef BT_INGEST_H
#define BT_INGEST_H

#include "bt_binance.h"
#include "bt_indtab.h"
#include "bt_state.h"

/* One bt-fetch run: what it writes to, its client, its totals. */
struct bt_ingest {
	sqlite3		*db, *st;	/* the caller's */
	bool		 dry, quiet, verbose, progress;
	struct bt_http	*http;		/* owned: freed by bt_ingest_free() */
	struct bt_binance bn;		/* the client and its counters */
	int64_t		 rows, received;	/* totals for the summary */
	/*
	 * A candle run's deadline (BT_FETCH_DEADLINE, a bt_mono() time; 0:
	 * none), and the pairs it left for the next run: [[symbol, tf]...].
	 */
	double		 deadline;
	json_t		*left;
	/* The indicator table. */
	bool		 ind;		/* on, and this run writes */
	struct bt_ind_spec spec;
	char		**indtfs;
	int		 nindtfs;
	int64_t		 ind_pairs, ind_rows, ind_full;
	int		 ind_rc;	/* the worst failure updating it */
};

void	 bt_ingest_init(struct bt_ingest *x, bool dry, bool quiet,
	    bool verbose);
void	 bt_ingest_free(struct bt_ingest *x);	/* not db, st */

/*
 * One page or file of a pair: its dirty range, then its candles, all or
 * nothing; *changed counts the rows inserted or altered.  BT_F_NONE, or
 * BT_F_STORE (BT_F_BAN for a busy write lock: exit 75) with err set.  A
 * price more than BT_PRICE_JUMP_MAX times the close before it (or less
 * than its 1/BT_PRICE_JUMP_MAX) is stored, and one WARNING `price_jump'
 * says so for the page, dry run or not.
 */
enum bt_fail bt_ingest_store(struct bt_ingest *x, const char *symbol,
	    const char *tf, const struct bt_candle *c, size_t n,
	    int64_t *changed, char *err);

/*
 * Whether this run keeps the indicator table, and with what spec: with
 * BT_INDICATORS, or `force' (--indicators).  0 or BT_EX_CONFIG in err.
 */
int	 bt_ingest_ind_config(struct bt_ingest *x, bool force, char *err);
/* A new spec re-creates the table (an event says so); `rebuild' empties it. */
int	 bt_ingest_ind_prepare(struct bt_ingest *x, bool rebuild);
/* A pair's candles are in: its indicator rows, if `rows' changed. */
void	 bt_ingest_pair_done(struct bt_ingest *x, const char *symbol,
	    const char *tf, int64_t rows);
/*
 * At the end of a run that stored candles: every pair of the indicator
 * timeframes still behind, dirty or new, until x->deadline (the rest
 * stays pending for the next run).  0 or the worst failure.
 */
int	 bt_ingest_sweep(struct bt_ingest *x);

/* --import: each file into the store, then the table, then a summary. */
int	 bt_ingest_import(struct bt_ingest *x, char **files, int nfiles,
	    const char *symbol, const char *tf);
/* --indicators: the table up to date, no network. */
int	 bt_ingest_indicators(struct bt_ingest *x);

/*
 * The ban.  bt_ingest_banned() prints the `banned' line while a recorded
 * ban is in force (contracts.md: no request until it ends);
 * bt_ingest_ban() records the one x->bn reported, as an event too.
 */
bool	 bt_ingest_banned(struct bt_ingest *x);
void	 bt_ingest_ban(struct bt_ingest *x);
/*
 * A WARNING event of `kind' about `sym' at most once a UTC day, as the
 * state file's kv table (kind:sym) remembers; a dry run warns every time.
 * Takes `extra' (NULL or an object) either way.
 */
void	 bt_ingest_warn_daily(struct bt_ingest *x, const char *kind,
	    const char *sym, json_t *extra, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/*
 * The end of a run's summary line: rows, received, requests, retries,
 * `left' when the deadline left pairs, the indicator table's figures when
 * it was kept, and `exit' rc.  Prints it; returns rc.
 */
int	 bt_ingest_summary(struct bt_ingest *x, json_t *rec, int rc);

#endif /* BT_INGEST_H */
