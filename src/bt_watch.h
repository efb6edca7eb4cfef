/*
 * bt_watch.h - bt_watch.c owns the machinery of a bt-watchdog run: the
 * check line and its event, raised on a change and repeated while it
 * lasts; the automatic action, logged and recorded; the detached
 * command; the run's small facts in the state file's kv table.  The
 * checks are bt_probe.c's (the backtest) and bt_health.c's (the rest).
 */
#ifndef BT_WATCH_H
#define BT_WATCH_H

#include "bt_cov.h"
#include "bt_db.h"

/* One watchdog run. */
struct bt_watch {
	bool		 dry, quiet, verbose;	/* -n -q -v */
	sqlite3		*st;		/* the state file, or NULL */
	int		 exit;
	const char	*argv0;		/* its directory leads spawned PATHs */
	/* What one check tells a later one. */
	bool		 trader_down;	/* configured, and seen dead */
	bool		 trader_known;
	bool		 integrity_bad;	/* this run's quick check failed */
	bool		 alert_ok;	/* the alert path check passed */
	bool		 unrecorded;	/* an event could not be recorded */
	/* What the metrics file says of the run (bt_prom.c). */
	int		 failing;	/* checks that found a problem */
	char		 backtest[16];	/* the backtest check's state */
	struct bt_cov	 cov;		/* the freshness check's coverage */
	bool		 have_cov;
};

/*
 * Prints a check's line and raises its event on a change: a new problem,
 * a different problem, the repeat interval, or the recovery (INFO).
 * `extra' is added to the line and stolen.  Not ok: the run exits 1.
 */
void	 bt_watch_check(struct bt_watch *x, const char *name, bool ok,
	    const char *sev, const char *state, json_t *extra,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/*
 * An automatic action: a line in logs/recovery.log, a row in actions, an
 * event.  In a dry run it is only printed, as what would be done.
 */
void	 bt_watch_action(struct bt_watch *x, const char *sev,
	    const char *name, const char *target, bool ok, const char *fmt,
	    ...) __attribute__((format(printf, 6, 7)));
/* Runs a configured shell command line detached; 0, or -1 and why. */
int	 bt_watch_spawn(struct bt_watch *x, const char *cmd, char *err);

/* The kv table (kv_put: not in a dry run); a missing key is `def'. */
int64_t	 bt_watch_kv_int(struct bt_watch *x, const char *key, int64_t def);
char	*bt_watch_kv_str(struct bt_watch *x, const char *key);
void	 bt_watch_kv_put(struct bt_watch *x, const char *key,
	    const char *val);
void	 bt_watch_kv_put_int(struct bt_watch *x, const char *key, int64_t v);

/* A process that is alive and not a zombie. */
bool	 bt_watch_alive(long pid);
/*
 * The same process: alive as bt_watch_alive() says, started at
 * start_ticks (field 22), both from one read of /proc/PID/stat.
 */
bool	 bt_watch_same(long pid, int64_t start_ticks);
/* A JSON object from a file (run/backtest.status, db/LOCKED), or NULL. */
json_t	*bt_watch_read_json(const char *path, char *err);
/* A time of `o': ms, or an ISO 8601 string; -1 when neither. */
int64_t	 bt_watch_json_time(json_t *o, const char *key);

#endif /* BT_WATCH_H */
