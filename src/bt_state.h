/*
 * bt_state.h - bt_state.c owns what bt keeps in its state file: runs,
 * events, dirty ranges, key/value, due checks.
 */
#ifndef BT_STATE_H
#define BT_STATE_H

#include "bt_db.h"

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
/* At most once a UTC day, whichever program raises it (see bt_state.c). */
int	 bt_event_once(sqlite3 *st, const char *severity, const char *kind,
	    const char *seed, json_t *extra, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
int	 bt_run_job(sqlite3 *st, int64_t run, const char *job, char *err);
/* Raises the configuration's problems as events, once a day each. */
void	 bt_conf_events(sqlite3 *st, bool bad_too);
/* Records an event line (stdin's, or one built here), unless its id is. */
int	 bt_event_record(sqlite3 *st, json_t *ev, char *err);
int	 bt_dirty_add(sqlite3 *st, const char *symbol, const char *tf,
	    int64_t from, int64_t to, char *err);
/* Due checks of the daily jobs (contracts.md, Due). */
int	 bt_due(sqlite3 *st, const char *prog, const char *job, int okmax,
	    const char *spec, bool *due, int64_t *slot, char *err);
void	 bt_not_due(const char *job, int64_t slot);
int	 bt_kv_get(sqlite3 *st, const char *key, char **val, char *err);
int	 bt_kv_set(sqlite3 *st, const char *key, const char *val, char *err);
int	 bt_kv_add(sqlite3 *st, const char *key, int64_t n, char *err);

#endif /* BT_STATE_H */
