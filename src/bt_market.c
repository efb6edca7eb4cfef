/*
 * bt_market.c - market context in the store (issue 6): the upserts of
 * sentimento_mercado (per symbol and metric) and macro_data (FRED series),
 * and the newest time stored; bt_parse.c parses the answers.
 *
 * Invariants: a revision replaces the stored value (FRED revises); FRED's
 * "." is NULL; every write is in the caller's transaction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_db.h"
#include "bt_market.h"

/* ---------------------------------------------------------------- store */

static int
series_id(sqlite3 *db, const char *symbol, const char *metric, bool create,
    int64_t *id, char *err)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if ((st = bt_stmt(db, "SELECT id FROM sent_series WHERE symbol=?1 AND "
	    "metric=?2", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (*id != 0 || !create)
		return 0;
	if ((st = bt_stmt(db, "INSERT INTO sent_series(symbol, metric) "
	    "VALUES (?1, ?2)", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
fail:
	snprintf(err, BT_ERRLEN, "sentiment %s %s: %s", symbol, metric,
	    bt_db_errmsg(db));
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}

int
bt_sent_store(sqlite3 *db, const char *symbol, const char *metric,
    const int64_t *t, const double *v, size_t n, size_t stride,
    int64_t *changed, char *err)
{
	sqlite3_stmt *st;
	int64_t id;
	size_t i;
	double x;
	int rc;

	*changed = 0;
	if (n == 0)
		return 0;
	if ((rc = series_id(db, symbol, metric, true, &id, err)) != 0)
		return rc;
	if ((st = bt_stmt(db, "INSERT INTO sent_values(series, t, v) VALUES "
	    "(?1, ?2, ?3) ON CONFLICT(series, t) DO UPDATE SET v=excluded.v "
	    "WHERE v IS NOT excluded.v", err)) == NULL)
		return BT_EX_SOFTWARE;
	for (i = 0; i < n; i++) {
		x = *(const double *)((const char *)v + i * stride);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, *(const int64_t *)((const char *)t +
		    i * stride));
		if (isnan(x))
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_double(st, 3, x);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			snprintf(err, BT_ERRLEN, "sentiment %s %s: %s", symbol,
			    metric, bt_db_errmsg(db));
			return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) :
			    BT_EX_SOFTWARE;
		}
		*changed += sqlite3_changes(db);
	}
	return 0;
}

int
bt_sent_last(sqlite3 *db, const char *symbol, const char *metric,
    int64_t *last, char *err)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	*last = -1;
	if ((rc = series_id(db, symbol, metric, false, &id, err)) != 0 ||
	    id == 0)
		return rc;
	if ((st = bt_stmt(db, "SELECT max(t) FROM sent_values WHERE "
	    "series=?1", err)) == NULL)
		return BT_EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		*last = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, BT_ERRLEN, "sentiment %s %s: %s", symbol, metric,
		    bt_db_errmsg(db));
		return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
	}
	return 0;
}

int
bt_macro_store(sqlite3 *db, const char *series, const struct bt_fred_obs *o,
    size_t n, int64_t *added, int64_t *revised, char *err)
{
	sqlite3_stmt *get, *put;
	size_t i;
	bool have, same;
	double old = 0;
	int rc;

	*added = *revised = 0;
	if ((get = bt_stmt(db, "SELECT value FROM macro_data WHERE series=?1 "
	    "AND date=?2", err)) == NULL ||
	    (put = bt_stmt(db, "INSERT INTO macro_data(series, date, value, "
	    "updated) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(series, date) DO "
	    "UPDATE SET value=excluded.value, updated=excluded.updated",
	    err)) == NULL)
		return BT_EX_SOFTWARE;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(get, 1, series, -1, SQLITE_STATIC);
		sqlite3_bind_int64(get, 2, o[i].date);
		rc = sqlite3_step(get);
		have = rc == SQLITE_ROW;
		if (have && sqlite3_column_type(get, 0) != SQLITE_NULL)
			old = sqlite3_column_double(get, 0);
		same = have && (sqlite3_column_type(get, 0) == SQLITE_NULL ?
		    isnan(o[i].v) : !isnan(o[i].v) && old == o[i].v);
		sqlite3_reset(get);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto fail;
		if (same)
			continue;
		sqlite3_bind_text(put, 1, series, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 2, o[i].date);
		if (isnan(o[i].v))
			sqlite3_bind_null(put, 3);
		else
			sqlite3_bind_double(put, 3, o[i].v);
		sqlite3_bind_int64(put, 4, bt_now_ms());
		rc = sqlite3_step(put);
		sqlite3_reset(put);
		if (rc != SQLITE_DONE)
			goto fail;
		if (have)
			(*revised)++;
		else
			(*added)++;
	}
	return 0;
fail:
	snprintf(err, BT_ERRLEN, "macro_data %s: %s", series,
	    bt_db_errmsg(db));
	return bt_sqlite_ex(rc) ? bt_sqlite_ex(rc) : BT_EX_SOFTWARE;
}
