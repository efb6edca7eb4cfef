/*
 * bt_accept.c - the accepted ranges: real exchange outages an operator
 * knows about, which the candle checks (bt_scan.c) do not report.  They
 * come from BT_ACCEPTED_GAPS (SYMBOL/TF/FROM/TO entries) and from the
 * state file's accepted_gaps, which `bt-validate --accept' fills from
 * its arguments or from gap records on stdin.
 *
 * Invariants: a bad BT_ACCEPTED_GAPS entry is a configuration error
 * (78), never skipped; --accept writes every range of one call in one
 * transaction, or none; a range accepted again replaces the one with the
 * same start.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_accept.h"
#include "bt_conf.h"
#include "bt_parse.h"

static void
acc_add(struct bt_accepted *a, const struct bt_acc *r)
{
	if ((a->v = realloc(a->v, (a->n + 1) * sizeof(*a->v))) == NULL)
		abort();
	a->v[a->n++] = *r;
}

/* BT_ACCEPTED_GAPS: SYMBOL/TF/FROM/TO entries, comma- or space-separated. */
static int
accepted_conf(struct bt_accepted *acc, char *err)
{
	char **v, *f[4], buf[256], *save;
	int n, i, j;
	struct bt_acc a;

	n = bt_conf_list("BT_ACCEPTED_GAPS", &v);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s", v[i]);
		save = NULL;
		for (j = 0; j < 4; j++)
			f[j] = strtok_r(j ? NULL : buf, "/", &save);
		memset(&a, 0, sizeof(a));
		if (f[3] == NULL || strtok_r(NULL, "/", &save) != NULL ||
		    !bt_symbol_ok(f[0]) || bt_tf_view(f[1]) == NULL ||
		    bt_parse_time(f[2], &a.from) == -1 ||
		    bt_parse_time(f[3], &a.to) == -1 || a.from > a.to) {
			snprintf(err, BT_ERRLEN, "BT_ACCEPTED_GAPS: '%s' is "
			    "not SYMBOL/TF/FROM/TO (e.g. BTCUSDT/1h/"
			    "2023-03-24T12:00/2023-03-24T13:00)", v[i]);
			bt_list_free(v, n);
			return BT_EX_CONFIG;
		}
		snprintf(a.symbol, sizeof(a.symbol), "%s", f[0]);
		snprintf(a.tf, sizeof(a.tf), "%s", f[1]);
		acc_add(acc, &a);
	}
	bt_list_free(v, n);
	return 0;
}

/* The state file's accepted_gaps, which --accept writes. */
static int
accepted_state(sqlite3 *st, struct bt_accepted *acc, char *err)
{
	sqlite3_stmt *s;
	char e[BT_ERRLEN];
	struct bt_acc a;
	int rc;

	if (st == NULL)
		return 0;
	if ((s = bt_stmt(st, "SELECT symbol, tf, from_ms, to_ms FROM "
	    "accepted_gaps", e)) == NULL) {
		snprintf(err, BT_ERRLEN, "state: %s", e);
		return BT_EX_SOFTWARE;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		snprintf(a.symbol, sizeof(a.symbol), "%s",
		    sqlite3_column_text(s, 0));
		snprintf(a.tf, sizeof(a.tf), "%s", sqlite3_column_text(s, 1));
		a.from = sqlite3_column_int64(s, 2);
		a.to = sqlite3_column_int64(s, 3);
		acc_add(acc, &a);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "state: accepted_gaps: %s",
		    bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

int
bt_accept_load(sqlite3 *st, struct bt_accepted *a, char *err)
{
	int rc;

	if ((rc = accepted_conf(a, err)) != 0)
		return rc;
	return accepted_state(st, a, err);
}

void
bt_accept_free(struct bt_accepted *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

bool
bt_accept_covers(const struct bt_accepted *a, const char *symbol,
    const char *tf, int64_t t)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].symbol, symbol) == 0 &&
		    strcmp(a->v[i].tf, tf) == 0 &&
		    a->v[i].from <= t && t <= a->v[i].to)
			return true;
	return false;
}

/* ------------------------------------------------------------ --accept */

/* Records one accepted range and prints it; the caller's transaction. */
static int
accept_one(sqlite3 *st, const char *sym, const char *tf, int64_t from,
    int64_t to, const char *note, char *err)
{
	sqlite3_stmt *s;
	char e[BT_ERRLEN], t1[32], t2[32];
	json_t *rec;
	int rc;

	if ((s = bt_stmt(st, "INSERT INTO accepted_gaps(symbol, tf, "
	    "from_ms, to_ms, note, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT(symbol, tf, from_ms) DO UPDATE SET "
	    "to_ms=excluded.to_ms, note=excluded.note, added=excluded.added",
	    e)) == NULL) {
		snprintf(err, BT_ERRLEN, "state: %s", e);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, sym, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, tf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	if (note != NULL)
		sqlite3_bind_text(s, 5, note, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(s, 6, bt_now_ms());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "state: accepted_gaps: %s",
		    bt_db_errmsg(st));
		return bt_sqlite_ex(rc);
	}
	rec = bt_rec("accepted");
	json_object_set_new(rec, "symbol", json_string(sym));
	json_object_set_new(rec, "tf", json_string(tf));
	json_object_set_new(rec, "from_time", json_string(bt_fmt_time(from,
	    t1)));
	json_object_set_new(rec, "to_time", json_string(bt_fmt_time(to, t2)));
	json_object_set_new(rec, "note", note ? json_string(note) :
	    json_null());
	bt_emit(rec);
	return 0;
}

/* Commits the accepted ranges, or rolls them back after `rc'. */
static int
accept_end(sqlite3 *st, int rc, char *err)
{
	char e[BT_ERRLEN];

	if (rc != 0) {
		bt_rollback(st);
		return rc;
	}
	if ((rc = bt_commit(st, e)) != 0)
		snprintf(err, BT_ERRLEN, "state: %s", e);
	return rc;
}

/* symbol tf from to [note]: one range. */
static int
accept_args(sqlite3 *st, int argc, char **argv, char *err)
{
	char e[BT_ERRLEN];
	int64_t from, to;
	int rc;

	if (!bt_symbol_ok(argv[0])) {
		snprintf(err, BT_ERRLEN, "--accept: '%s' is not a Binance "
		    "symbol", argv[0]);
		return BT_EX_USAGE;
	}
	if (bt_tf_view(argv[1]) == NULL) {
		snprintf(err, BT_ERRLEN, "--accept: '%s' is not one of 1d 4h "
		    "1h 15m", argv[1]);
		return BT_EX_USAGE;
	}
	if (bt_parse_time(argv[2], &from) == -1 ||
	    bt_parse_time(argv[3], &to) == -1 || from > to) {
		snprintf(err, BT_ERRLEN, "--accept: '%s' .. '%s' is not a "
		    "range of ISO 8601 UTC times", argv[2], argv[3]);
		return BT_EX_USAGE;
	}
	if ((rc = bt_begin(st, e)) != 0) {
		snprintf(err, BT_ERRLEN, "state: %s", e);
		return rc;
	}
	rc = accept_one(st, argv[0], argv[1], from, to, argc == 5 ?
	    argv[4] : NULL, err);
	return accept_end(st, rc, err);
}

/* Every gap record on stdin; other lines are passed over. */
static int
accept_records(sqlite3 *st, char *err)
{
	char *line = NULL, e[BT_ERRLEN];
	size_t cap = 0;
	long lineno = 0, n = 0;
	struct bt_gap g;
	int rc = 0, r;

	if ((rc = bt_begin(st, e)) != 0) {
		snprintf(err, BT_ERRLEN, "state: %s", e);
		return rc;
	}
	while (getline(&line, &cap, stdin) != -1) {
		lineno++;
		if ((r = bt_parse_gap(line, &g, e)) == 0)
			continue;
		if (r == -1 || bt_tf_view(g.tf) == NULL || g.from > g.to) {
			snprintf(err, BT_ERRLEN, "stdin:%ld: bad gap record: "
			    "%s", lineno, r == -1 ? e : "timeframe or range");
			rc = BT_EX_DATAERR;
			break;
		}
		if ((rc = accept_one(st, g.symbol, g.tf, g.from, g.to,
		    "accepted from a gap record", err)) != 0)
			break;
		n++;
	}
	free(line);
	if ((rc = accept_end(st, rc, err)) == 0 && n == 0) {
		snprintf(err, BT_ERRLEN, "--accept: no gap records on stdin");
		rc = BT_EX_NOINPUT;
	}
	return rc;
}

int
bt_accept(sqlite3 *st, int argc, char **argv, char *err)
{
	return argc > 0 ? accept_args(st, argc, argv, err) :
	    accept_records(st, err);
}
