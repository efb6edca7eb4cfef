/*
 * bt_check.h - bt_check.c owns a validation run of the store and its
 * findings (the JSON line, the event, the staleness log's line, the
 * counts and the exit code), and the checks of the store as a whole:
 * schema and pairs rows, staleness and coverage, SQLite's integrity
 * pragma.  The candle checks build on it (bt_scan.h).
 */
#ifndef BT_CHECK_H
#define BT_CHECK_H

#include <pthread.h>

#include "bt_db.h"

/*
 * One run of bt-validate: what it was asked to do, what it reads, what
 * it found so far.  The program fills the options and the connections;
 * the checks fill the rest.
 */
struct bt_check {
	bool		 dry, verbose;	/* -n -v */
	bool		 full, gaps;	/* --full --gaps */
	const char	*integrity;	/* NULL, "quick" or "full" */
	sqlite3		*db, *st;	/* the store (read-only), state */
	char		**tfs;		/* the checked timeframes */
	int		 ntfs;
	FILE		*stalelog;	/* logs/staleness_check.log */
	int		 nwarn, ncrit, naccepted;
	int64_t		 candles, ranges, pairs;
	int		 exit;
	bool		 hit;		/* a finding since cleared */
};

/*
 * Reports one finding: a JSON line with `check' and `detail' (`extra',
 * stolen; NULL for none), recorded as an event unless -n, and counted;
 * a CRITICAL makes the run exit 1.  In --gaps mode it is only counted.
 */
void	 bt_check_finding(struct bt_check *x, const char *check,
	    const char *sev, const char *kind, const char *sym, const char *tf,
	    json_t *extra, const char *fmt, ...)
	    __attribute__((format(printf, 8, 9)));
/*
 * A check that cannot run: says why on stderr, and the run's exit code
 * becomes at least `code'; the other checks go on.
 */
void	 bt_check_fail(struct bt_check *x, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Counts a finding that is not reported (one over a budget). */
void	 bt_check_count(struct bt_check *x, const char *sev);
/* An SQLite error while reading the store: a finding or an exit code. */
void	 bt_check_read_error(struct bt_check *x, int rc, const char *what);
bool	 bt_check_tf_wanted(const struct bt_check *x, const char *tf);
/* Opens logs/staleness_check.log: 0, or BT_EX_CANTCREAT and why. */
int	 bt_check_stalelog(struct bt_check *x, char *err);

/* The layout bt expects, then each pairs row; false: no candle checks. */
bool	 bt_check_schema(struct bt_check *x);
/* Staleness of each configured pair, coverage; both into `sum' too. */
void	 bt_check_staleness(struct bt_check *x, json_t *sum);

/*
 * The integrity pragma (--integrity, --full) runs in a thread of its own
 * on its own connection while the other checks read the store.
 */
struct bt_integ {
	char		 path[4096];
	bool		 quick;
	char		 msg[10][512];	/* the first ten problems */
	int		 nmsg, n;	/* n: all problems */
	pthread_t	 th;
	bool		 started;
};
void	 bt_check_integrity_start(struct bt_check *x, struct bt_integ *g);
/* Waits for it; its verdict is a finding, and `sum''s "integrity". */
void	 bt_check_integrity_end(struct bt_check *x, struct bt_integ *g,
	    json_t *sum);

#endif /* BT_CHECK_H */
