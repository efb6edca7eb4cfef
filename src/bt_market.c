/*
 * bt_market.c - market context for the store (issue 6): the answers of
 * Binance's futures statistics, its spot 24 h ticker and FRED's
 * series/observations, parsed strictly (fuzzed by tests/fuzz/fuzz-
 * sentiment.c and fuzz-fred.c), and their upserts into
 * sentimento_mercado and macro_data (store schema 2, bt_db.c).
 *
 * What the answers look like (binance.md section 3): futures rows are
 * objects whose times are numbers, or strings of digits in Binance's own
 * examples, and whose values are decimal strings, small funding rates in
 * Java's E-notation ("8.4E-7"); FRED's values are strings, "." when
 * missing.  Every value is kept as the double the decimal rounds to.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

const char *const bt_ticker_keys[BT_TICKER_NF] = { "priceChangePercent",
    "lastPrice", "weightedAvgPrice", "highPrice", "lowPrice", "volume",
    "quoteVolume", "count" };
const char *const bt_ticker_metrics[BT_TICKER_NF] = {
    "ticker_price_change_pct", "ticker_last_price",
    "ticker_weighted_avg_price", "ticker_high", "ticker_low",
    "ticker_volume", "ticker_quote_volume", "ticker_trades" };

/* ---------------------------------------------------------------- values */

/* A time: a JSON integer, or a string of 1..19 digits. */
static int
jtime(json_t *e, int64_t *t)
{
	const char *s;
	size_t len, i;

	if (json_is_integer(e)) {
		*t = json_integer_value(e);
		return *t > 0 ? 0 : -1;
	}
	if (!json_is_string(e))
		return -1;
	s = json_string_value(e);
	len = json_string_length(e);
	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	*t = strtoll(s, NULL, 10);
	return *t > 0 ? 0 : -1;
}

/* A value: a decimal string or a JSON number.  1: absent or "". */
static int
jvalue(json_t *e, double *v)
{
	if (e == NULL || json_is_null(e) ||
	    (json_is_string(e) && json_string_length(e) == 0))
		return 1;
	if (json_is_integer(e)) {
		*v = (double)json_integer_value(e);
		return 0;
	}
	if (json_is_real(e)) {
		*v = json_real_value(e);
		return isfinite(*v) ? 0 : -1;
	}
	if (json_is_string(e))
		return bt_parse_decimal(json_string_value(e),
		    json_string_length(e), v);
	return -1;
}

static json_t *
load(const char *body, size_t len, char *err)
{
	json_t *root;
	json_error_t je;

	if ((root = json_loadb(body, len, 0, &je)) == NULL)
		snprintf(err, BT_ERRLEN, "not JSON: %s (line %d, column %d)",
		    je.text, je.line, je.column);
	return root;
}

/* -------------------------------------------------------------- futures */

int
bt_parse_futures(const char *body, size_t len, const char *tkey,
    const char *const *keys, int nk, int nreq, struct bt_sent_row **out,
    size_t *n, char *err)
{
	json_t *root, *row;
	struct bt_sent_row *v = NULL;
	size_t i;
	int k, r;

	*out = NULL;
	*n = 0;
	if (nk < 1 || nk > BT_SENT_MAXF) {
		snprintf(err, BT_ERRLEN, "%d value fields asked for", nk);
		return -1;
	}
	if ((root = load(body, len, err)) == NULL)
		return -1;
	if (!json_is_array(root)) {
		snprintf(err, BT_ERRLEN, "not a JSON array%s",
		    json_is_object(root) && json_object_get(root, "msg") ?
		    " (an error object)" : "");
		goto fail;
	}
	if (json_array_size(root) > 0 &&
	    (v = calloc(json_array_size(root), sizeof(*v))) == NULL)
		abort();
	json_array_foreach(root, i, row) {
		if (!json_is_object(row)) {
			snprintf(err, BT_ERRLEN, "row %zu: not an object", i + 1);
			goto fail;
		}
		if (jtime(json_object_get(row, tkey), &v[i].t) == -1) {
			snprintf(err, BT_ERRLEN, "row %zu: %s %s", i + 1, tkey,
			    json_object_get(row, tkey) ? "is not a time in ms" :
			    "is missing");
			goto fail;
		}
		if (i > 0 && v[i].t <= v[i - 1].t) {
			snprintf(err, BT_ERRLEN, "row %zu: %s %lld is not after "
			    "the row before (%lld)", i + 1, tkey,
			    (long long)v[i].t, (long long)v[i - 1].t);
			goto fail;
		}
		for (k = 0; k < nk; k++) {
			r = jvalue(json_object_get(row, keys[k]), &v[i].v[k]);
			if (r == 1 && k >= nreq) {
				v[i].v[k] = NAN;
				continue;
			}
			if (r != 0) {
				snprintf(err, BT_ERRLEN, "row %zu: %s %s", i + 1,
				    keys[k], r == 1 ? "is missing" :
				    "is not a decimal number");
				goto fail;
			}
		}
	}
	*n = json_array_size(root);
	*out = v;
	json_decref(root);
	return 0;
fail:
	free(v);
	json_decref(root);
	return -1;
}

/* --------------------------------------------------------------- ticker */

static int
ticker_row(json_t *o, size_t i, struct bt_ticker_row *r, char *err)
{
	const char *sym;
	int k;

	if (!json_is_object(o)) {
		snprintf(err, BT_ERRLEN, "row %zu: not an object", i + 1);
		return -1;
	}
	sym = json_string_value(json_object_get(o, "symbol"));
	if (sym == NULL || !bt_symbol_ok(sym)) {
		snprintf(err, BT_ERRLEN, "row %zu: symbol is missing or not a "
		    "Binance symbol", i + 1);
		return -1;
	}
	snprintf(r->symbol, sizeof(r->symbol), "%s", sym);
	if (jtime(json_object_get(o, "closeTime"), &r->t) == -1) {
		snprintf(err, BT_ERRLEN, "row %zu (%s): closeTime is missing "
		    "or not a time in ms", i + 1, sym);
		return -1;
	}
	for (k = 0; k < BT_TICKER_NF; k++)
		if (jvalue(json_object_get(o, bt_ticker_keys[k]), &r->v[k]) !=
		    0) {
			snprintf(err, BT_ERRLEN, "row %zu (%s): %s is missing "
			    "or not a number", i + 1, sym, bt_ticker_keys[k]);
			return -1;
		}
	return 0;
}

int
bt_parse_ticker(const char *body, size_t len, struct bt_ticker_row **out,
    size_t *n, char *err)
{
	json_t *root, *o;
	struct bt_ticker_row *v = NULL;
	size_t i, cnt;

	*out = NULL;
	*n = 0;
	if ((root = load(body, len, err)) == NULL)
		return -1;
	/* One symbol asked for alone comes as an object. */
	cnt = json_is_array(root) ? json_array_size(root) :
	    json_is_object(root) ? 1 : 0;
	if (!json_is_array(root) && !json_is_object(root)) {
		snprintf(err, BT_ERRLEN, "not a JSON array or object");
		goto fail;
	}
	if (cnt > 0 && (v = calloc(cnt, sizeof(*v))) == NULL)
		abort();
	for (i = 0; i < cnt; i++) {
		o = json_is_array(root) ? json_array_get(root, i) : root;
		if (ticker_row(o, i, &v[i], err) == -1)
			goto fail;
	}
	*n = cnt;
	*out = v;
	json_decref(root);
	return 0;
fail:
	free(v);
	json_decref(root);
	return -1;
}

/* ----------------------------------------------------------------- FRED */

static int
fred_date(const char *s, size_t len, int64_t *ms)
{
	size_t i;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < len; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	return bt_parse_time(s, ms);
}

int
bt_parse_fred(const char *body, size_t len, struct bt_fred_obs **out,
    size_t *n, int64_t *count, char *err)
{
	json_t *root, *obs, *o, *d, *val;
	struct bt_fred_obs *v = NULL;
	size_t i;

	*out = NULL;
	*n = 0;
	*count = -1;
	if ((root = load(body, len, err)) == NULL)
		return -1;
	obs = json_object_get(root, "observations");
	if (!json_is_object(root) || !json_is_array(obs)) {
		snprintf(err, BT_ERRLEN, "no observations array%s",
		    json_object_get(root, "error_message") ?
		    " (an error object)" : "");
		goto fail;
	}
	if (json_is_integer(json_object_get(root, "count")))
		*count = json_integer_value(json_object_get(root, "count"));
	if (json_array_size(obs) > 0 &&
	    (v = calloc(json_array_size(obs), sizeof(*v))) == NULL)
		abort();
	json_array_foreach(obs, i, o) {
		d = json_object_get(o, "date");
		val = json_object_get(o, "value");
		if (!json_is_string(d) || fred_date(json_string_value(d),
		    json_string_length(d), &v[i].date) == -1) {
			snprintf(err, BT_ERRLEN, "observation %zu: date is "
			    "missing or not YYYY-MM-DD", i + 1);
			goto fail;
		}
		if (i > 0 && v[i].date <= v[i - 1].date) {
			snprintf(err, BT_ERRLEN, "observation %zu (%s): dates "
			    "are not ascending", i + 1, json_string_value(d));
			goto fail;
		}
		if (!json_is_string(val)) {
			snprintf(err, BT_ERRLEN, "observation %zu (%s): value "
			    "is missing or not a string", i + 1,
			    json_string_value(d));
			goto fail;
		}
		if (strcmp(json_string_value(val), ".") == 0)
			v[i].v = NAN;	/* FRED's missing value */
		else if (bt_parse_decimal(json_string_value(val),
		    json_string_length(val), &v[i].v) == -1) {
			snprintf(err, BT_ERRLEN, "observation %zu (%s): value "
			    "'%.40s' is not a number", i + 1,
			    json_string_value(d), json_string_value(val));
			goto fail;
		}
	}
	*n = json_array_size(obs);
	*out = v;
	json_decref(root);
	return 0;
fail:
	free(v);
	json_decref(root);
	return -1;
}

char *
bt_fred_error(const char *body, size_t len)
{
	json_t *root;
	json_error_t je;
	const char *m;
	char *s = NULL;

	if ((root = json_loadb(body, len, 0, &je)) == NULL)
		return NULL;
	if ((m = json_string_value(json_object_get(root, "error_message"))) !=
	    NULL && (s = strdup(m)) == NULL)
		abort();
	json_decref(root);
	return s;
}

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
