/*
 * bt_state.c - what bt keeps in its own state file (db/bt_state.db):
 * runs, events, dirty ranges, key/value.
 *
 * Owns: a run's row (begun first, ended last, with its first error),
 * whether a daily job is due, events (recorded and printed as one JSON
 * line, with an event_id stable under BT_NOW; at most once a day for the
 * configuration's problems), the dirty ranges bt-validate checks, and the
 * kv table's small facts (ban-until, batch clocks, remembered states).
 *
 * Invariants: every write is a transaction of its own (bt_db.c) unless
 * the caller holds one; an event that cannot be recorded is still printed,
 * without its event_id.  Schemas are bt_migrate.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_db.h"
#include "bt_state.h"

/*
 * Steps a write and resets it.  On failure err is "table: why" (said
 * before anything else can touch the connection's error), the
 * transaction is rolled back when rb, and the exit code is returned.
 */
static int
step_done(sqlite3 *st, sqlite3_stmt *s, const char *table, bool rb,
    char *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(err, BT_ERRLEN, "%s: %s", table, bt_db_errmsg(st));
	if (rb)
		bt_rollback(st);
	return bt_sqlite_ex(rc);
}

/* ------------------------------------------------------------------ runs */

int64_t
bt_run_begin(sqlite3 *st, const char *job, char *err)
{
	sqlite3_stmt *s;
	int64_t id = -1;
	int rc;

	if ((rc = bt_begin(st, err)) != 0)
		return -rc;
	if ((s = bt_stmt(st, "INSERT INTO runs(prog, job, pid, started) "
	    "VALUES (?1, ?2, ?3, ?4)", err)) == NULL) {
		bt_rollback(st);
		return -BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, bt_prog(), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, job != NULL ? job : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, getpid());
	sqlite3_bind_int64(s, 4, bt_now_ms());
	if ((rc = step_done(st, s, "runs", true, err)) != 0)
		return -rc;
	id = sqlite3_last_insert_rowid(st);
	if ((rc = bt_commit(st, err)) != 0)
		return -rc;
	return id;
}

int
bt_run_end(sqlite3 *st, int64_t run, int code, json_t *summary, char *err)
{
	sqlite3_stmt *s;
	char *js = NULL;
	int rc;

	if (run <= 0)
		return 0;
	if ((rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "UPDATE runs SET ended=?2, exit=?3, summary=?4 "
	    "WHERE id=?1", err)) == NULL) {
		bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	/* A failed run says why: its first diagnostic (bt-watchdog). */
	if (summary != NULL && code != 0 && code != BT_EX_FOUND &&
	    json_object_get(summary, "error") == NULL && *bt_first_diag())
		json_object_set_new(summary, "error",
		    json_string(bt_first_diag()));
	if (summary != NULL)
		js = json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int64(s, 2, bt_now_ms());
	sqlite3_bind_int(s, 3, code);
	if (js != NULL)
		sqlite3_bind_text(s, 4, js, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 4);
	rc = step_done(st, s, "runs", true, err);
	free(js);
	return rc != 0 ? rc : bt_commit(st, err);
}

/* Names the job of a run begun before its job was known (bt-digest). */
int
bt_run_job(sqlite3 *st, int64_t run, const char *job, char *err)
{
	sqlite3_stmt *s;
	int rc;

	if (run <= 0)
		return 0;
	if ((rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "UPDATE runs SET job=?2 WHERE id=?1", err)) ==
	    NULL) {
		bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_text(s, 2, job, -1, SQLITE_STATIC);
	if ((rc = step_done(st, s, "runs", true, err)) != 0)
		return rc;
	return bt_commit(st, err);
}

/*
 * contracts.md: a daily job is due when no run that succeeded started at
 * or after the latest scheduled slot.  `okmax' is the largest exit code
 * that counts as success (1 for the checkers, whose 1 is a finding).
 */
int
bt_due(sqlite3 *st, const char *prog, const char *job, int okmax,
    const char *spec, bool *due, int64_t *slot, char *err)
{
	sqlite3_stmt *q;
	int rc;

	if (bt_slot_latest(spec, bt_now_ms(), slot, err) == -1)
		return BT_EX_CONFIG;
	if ((q = bt_stmt(st, "SELECT count(*) FROM runs WHERE prog=?1 AND "
	    "job=?2 AND exit BETWEEN 0 AND ?3 AND started >= ?4", err)) ==
	    NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(q, 1, prog, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, job, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, okmax);
	sqlite3_bind_int64(q, 4, *slot);
	rc = sqlite3_step(q);
	*due = rc == SQLITE_ROW && sqlite3_column_int64(q, 0) == 0;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW) {
		snprintf(err, BT_ERRLEN, "runs: %s", bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

/* The line a job that is not due prints. */
void
bt_not_due(const char *job, int64_t slot)
{
	char ts[32];
	json_t *rec = bt_rec("not_due");

	json_object_set_new(rec, "job", json_string(job));
	json_object_set_new(rec, "slot", json_string(bt_fmt_time(slot, ts)));
	json_object_set_new(rec, "message", json_string("a run since the "
	    "latest slot succeeded; nothing to do"));
	bt_emit(rec);
}

static unsigned long event_seq;

/*
 * An event's id is a hash of what it says and when, plus its place in
 * this run: stable under BT_NOW (byte-identical reruns), unique in
 * practice otherwise.
 */
static void
event_id(char out[40], const char *kind, const char *symbol,
    const char *tf, const char *msg, int64_t ts)
{
	uint64_t h = 0;
	unsigned long seq = event_seq++;

	h = bt_hash64(bt_prog(), strlen(bt_prog()) + 1, h);
	h = bt_hash64(kind, strlen(kind) + 1, h);
	h = bt_hash64(symbol ? symbol : "", symbol ? strlen(symbol) + 1 : 1,
	    h);
	h = bt_hash64(tf ? tf : "", tf ? strlen(tf) + 1 : 1, h);
	h = bt_hash64(msg, strlen(msg) + 1, h);
	h = bt_hash64(&ts, sizeof(ts), h);
	h = bt_hash64(&seq, sizeof(seq), h);
	snprintf(out, 40, "%016llx", (unsigned long long)h);
}

/*
 * What the state file keeps of one event's message: BT_EVENT_KEEP bytes,
 * cut on a UTF-8 boundary and marked, in the message column and in the
 * detail alike.  A script may pipe a 5 MB message; bt-digest sends 500
 * bytes of it (bt-digest(1)) and the whole line stays in its log.
 */
#define BT_EVENT_KEEP	16384

static int	 record(sqlite3 *, json_t *, char *);

static json_t *
kept(json_t *ev, const char *msg)
{
	json_t *copy;
	size_t n = strlen(msg), cut = BT_EVENT_KEEP;
	char *m;

	if (n <= BT_EVENT_KEEP)
		return json_incref(ev);
	while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
		cut--;
	if (asprintf(&m, "%.*s ... [cut: %zu bytes in all; the state file "
	    "keeps %d]", (int)cut, msg, n, BT_EVENT_KEEP) == -1)
		abort();
	copy = json_copy(ev);
	json_object_set_new(copy, "message", json_string(m));
	free(m);
	return copy;
}

int
bt_event_record(sqlite3 *st, json_t *ev, char *err)
{
	const char *msg;
	int rc;

	msg = json_string_value(json_object_get(ev, "message"));
	ev = msg != NULL ? kept(ev, msg) : json_incref(ev);
	rc = record(st, ev, err);
	json_decref(ev);
	return rc;
}

static int
record(sqlite3 *st, json_t *ev, char *err)
{
	sqlite3_stmt *s;
	const char *sev, *kind, *msg, *id;
	char *detail;
	int64_t ts;
	bool own;
	int rc;

	sev = json_string_value(json_object_get(ev, "severity"));
	kind = json_string_value(json_object_get(ev, "event"));
	msg = json_string_value(json_object_get(ev, "message"));
	id = json_string_value(json_object_get(ev, "event_id"));
	if (sev == NULL || msg == NULL || id == NULL) {
		snprintf(err, BT_ERRLEN, "event lacks severity, message or id");
		return BT_EX_DATAERR;
	}
	if (json_string_value(json_object_get(ev, "ts")) == NULL ||
	    bt_parse_time(json_string_value(json_object_get(ev, "ts")),
	    &ts) == -1)
		ts = bt_now_ms();
	own = sqlite3_get_autocommit(st);
	if (own && (rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "INSERT INTO events(event_id, ts, prog, kind, "
	    "severity, symbol, tf, message, detail) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9) ON CONFLICT(event_id) DO NOTHING", err))
	    == NULL) {
		if (own)
			bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	detail = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ts);
	sqlite3_bind_text(s, 3, json_string_value(json_object_get(ev,
	    "prog")) ? json_string_value(json_object_get(ev, "prog")) :
	    "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, kind ? kind : "event", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, sev, -1, SQLITE_STATIC);
	if (json_string_value(json_object_get(ev, "symbol")))
		sqlite3_bind_text(s, 6, json_string_value(json_object_get(ev,
		    "symbol")), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 6);
	if (json_string_value(json_object_get(ev, "tf")))
		sqlite3_bind_text(s, 7, json_string_value(json_object_get(ev,
		    "tf")), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 7);
	sqlite3_bind_text(s, 8, msg, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, detail, -1, free);
	rc = step_done(st, s, "events", own, err);
	sqlite3_clear_bindings(s);
	if (rc != 0)
		return rc;
	if (own)
		return bt_commit(st, err);
	return 0;
}

/*
 * The body of bt_event() and bt_event_once(): `id' is the event_id, or
 * NULL to make one from what the event says and when.
 */
static int
vevent(sqlite3 *st, const char *id, const char *severity, const char *kind,
    const char *symbol, const char *tf, json_t *extra, const char *fmt,
    va_list ap)
{
	char msg[1024], mid[40], err[BT_ERRLEN];
	const char *k;
	json_t *rec, *v;
	int rc = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	bt_redact(msg);
	if (strcmp(severity, "INFO") != 0)
		bt_note_problem(msg);
	rec = bt_rec(kind);
	json_object_set_new(rec, "severity", json_string(severity));
	/* A path or a name with a stray byte must not lose the event. */
	json_object_set_new(rec, "symbol", bt_jstr(symbol));
	json_object_set_new(rec, "tf", bt_jstr(tf));
	json_object_set_new(rec, "message", bt_jstr(msg));
	if (extra != NULL) {
		json_object_foreach(extra, k, v)
			json_object_set(rec, k, v);
		json_decref(extra);
	}
	if (st != NULL) {
		if (id == NULL) {
			event_id(mid, kind, symbol, tf, msg, bt_now_ms());
			id = mid;
		}
		json_object_set_new(rec, "event_id", json_string(id));
		if ((rc = bt_event_record(st, rec, err)) != 0) {
			bt_warnx("cannot record event: %s", err);
			json_object_del(rec, "event_id");
		}
	}
	bt_emit(rec);
	return rc;
}

int
bt_event(sqlite3 *st, const char *severity, const char *kind,
    const char *symbol, const char *tf, json_t *extra, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vevent(st, NULL, severity, kind, symbol, tf, extra, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * An event raised at most once a UTC day: its id is a hash of `kind',
 * `seed' and the day, the same whichever program raises it, and nothing
 * is printed or recorded when the state file has it already.  Returns 0
 * when it was there or is now, else what recording returned.
 */
int
bt_event_once(sqlite3 *st, const char *severity, const char *kind,
    const char *seed, json_t *extra, const char *fmt, ...)
{
	sqlite3_stmt *q;
	char id[40], day[32], err[BT_ERRLEN];
	uint64_t h;
	va_list ap;
	bool have;
	int rc;

	bt_fmt_time(bt_now_ms(), day);
	day[10] = '\0';
	h = bt_hash64("once", 5, 0);
	h = bt_hash64(kind, strlen(kind) + 1, h);
	h = bt_hash64(seed, strlen(seed) + 1, h);
	h = bt_hash64(day, strlen(day) + 1, h);
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)h);
	if (st != NULL && (q = bt_stmt(st, "SELECT 1 FROM events WHERE "
	    "event_id=?1", err)) != NULL) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		have = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_reset(q);
		if (have) {
			json_decref(extra);
			return 0;
		}
	}
	va_start(ap, fmt);
	rc = vevent(st, id, severity, kind, NULL, NULL, extra, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Raises what loading the configuration found (bt_conf_problems()), each
 * at most once a UTC day: an unknown key is a WARNING naming the file,
 * the line and the nearest known key; a bad value is a CRITICAL naming
 * who refuses to run.  bt-digest and bt-watchdog call it: they run on
 * with the default of a bad key, so the alert path can report its own
 * configuration (bt(7), CONFIGURATION).
 */
void
bt_conf_events(sqlite3 *st, bool bad_too)
{
	const struct bt_conf_problem *p;
	char users[128], seed[600];
	size_t i, n;

	n = bt_conf_problems(&p);
	for (i = 0; i < n; i++) {
		snprintf(seed, sizeof(seed), "%s|%s|%s", p[i].where, p[i].key,
		    p[i].why);
		if (p[i].kind == BT_CONF_UNKNOWN) {
			bt_event_once(st, "WARNING", "config", seed, json_pack(
			    "{s:s, s:s, s:s?}", "where", p[i].where, "key",
			    p[i].key, "nearest", *p[i].near ? p[i].near : NULL),
			    "%s: unknown key %s (ignored)%s%s%s", p[i].where,
			    p[i].key, *p[i].near ? "; did you mean " : "",
			    p[i].near, *p[i].near ? "?" : "");
			continue;
		}
		if (!bad_too)
			continue;
		bt_conf_users(p[i].users & ~(BT_USE_DIGEST | BT_USE_WATCHDOG),
		    users, sizeof(users));
		bt_event_once(st, "CRITICAL", "config", seed, json_pack(
		    "{s:s, s:s}", "where", p[i].where, "key", p[i].key),
		    "%s: %s; %s%s%sthe alert path runs on with its default "
		    "until it is fixed (etc/bt.conf.example lists every key)",
		    p[i].where, p[i].why, *users ? "it stops " : "", users,
		    *users ? " (exit 78); " : "");
	}
}

int
bt_dirty_add(sqlite3 *st, const char *symbol, const char *tf, int64_t from,
    int64_t to, char *err)
{
	sqlite3_stmt *s;

	if ((s = bt_stmt(st, "INSERT INTO dirty(symbol, tf, from_ms, to_ms) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(symbol, tf, from_ms) DO "
	    "UPDATE SET to_ms=max(to_ms, excluded.to_ms)", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, tf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	return step_done(st, s, "dirty", false, err);
}

int
bt_kv_get(sqlite3 *st, const char *key, char **val, char *err)
{
	sqlite3_stmt *s;
	int rc;

	*val = NULL;
	if ((s = bt_stmt(st, "SELECT value FROM kv WHERE key=?1", err)) ==
	    NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_text(s, 0) != NULL)
		*val = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "kv: %s", bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

/* Adds n to a counter kept in kv (a count that only grows). */
int
bt_kv_add(sqlite3 *st, const char *key, int64_t n, char *err)
{
	sqlite3_stmt *s;
	bool own = sqlite3_get_autocommit(st);
	int rc;

	if (n == 0)
		return 0;
	if (own && (rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "INSERT INTO kv(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER) + ?2",
	    err)) == NULL) {
		if (own)
			bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	if ((rc = step_done(st, s, "kv", own, err)) != 0)
		return rc;
	return own ? bt_commit(st, err) : 0;
}

int
bt_kv_set(sqlite3 *st, const char *key, const char *val, char *err)
{
	sqlite3_stmt *s;
	bool own = sqlite3_get_autocommit(st);
	int rc;

	if (own && (rc = bt_begin(st, err)) != 0)
		return rc;
	if ((s = bt_stmt(st, "INSERT INTO kv(key, value) VALUES (?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value=excluded.value", err)) ==
	    NULL) {
		if (own)
			bt_rollback(st);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	if ((rc = step_done(st, s, "kv", own, err)) != 0)
		return rc;
	return own ? bt_commit(st, err) : 0;
}
