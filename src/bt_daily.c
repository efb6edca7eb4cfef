/*
 * bt_daily.c - the daily digest's text (bt-digest(1), The daily digest):
 * per job its last run and the failures of 24 hours, per timeframe the
 * pairs that are current and the first stale ones, bt-validate's
 * findings of 24 hours, the newest backups, the backtest's results and
 * validated signals, what was sent in 24 hours.
 *
 * Invariants: it only reads (the state file, the store read-only, the
 * backups directory, the results file); a missing source is a line saying
 * so, never a failure.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_daily.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_store.h"

/*
 * Per job its last run, and its runs and failures of 24 hours.  The
 * running digest itself is left out (its row has no end yet).  One
 * indexed look per job (runs_job), not one per row of runs: a week of
 * runs rows made a correlated max(id) per row take seconds.
 */
static void
digest_jobs(sqlite3 *st, struct bt_buf *b)
{
	sqlite3_stmt *s, *c;
	char err[BT_ERRLEN], t[32];
	int64_t since = bt_now_ms() - 86400000;
	int n = 0;

	bt_buf_printf(b, "Jobs, last run (24 h: runs, failed):\n");
	if (st == NULL || (s = bt_stmt(st, "SELECT r.prog, r.job, r.started, "
	    "r.ended, r.exit FROM (SELECT max(id) AS id FROM runs GROUP BY "
	    "prog, job) m JOIN runs r ON r.id=m.id WHERE NOT (r.prog="
	    "'bt-digest' AND r.ended IS NULL) ORDER BY r.prog, r.job",
	    err)) == NULL || (c = bt_stmt(st, "SELECT count(*), "
	    "total(exit NOT IN (0, 1)) FROM runs WHERE prog=?1 AND job=?2 AND "
	    "started > ?3", err)) == NULL) {
		bt_buf_printf(b, " no runs recorded\n");
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(s, 1);
		n++;
		bt_buf_printf(b, " %s%s%s %s", sqlite3_column_text(s, 0),
		    job && *job ? " " : "", job ? job : "",
		    bt_fmt_time(sqlite3_column_int64(s, 2), t));
		if (sqlite3_column_type(s, 3) == SQLITE_NULL)
			bt_buf_printf(b, " still running or died");
		else
			bt_buf_printf(b, " %llds exit %d",
			    (long long)((sqlite3_column_int64(s, 3) -
			    sqlite3_column_int64(s, 2)) / 1000),
			    sqlite3_column_int(s, 4));
		sqlite3_bind_text(c, 1, (const char *)sqlite3_column_text(s, 0),
		    -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c, 2, job ? job : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(c, 3, since);
		if (sqlite3_step(c) == SQLITE_ROW)
			bt_buf_printf(b, " (%d, %d)", sqlite3_column_int(c, 0),
			    sqlite3_column_int(c, 1));
		sqlite3_reset(c);
		bt_buf_printf(b, "\n");
	}
	sqlite3_reset(s);
	if (n == 0)
		bt_buf_printf(b, " no runs recorded\n");
}

static void
digest_freshness(struct bt_buf *b)
{
	char err[BT_ERRLEN], *path, **syms, **tfs, t[32];
	sqlite3 *db = NULL;
	struct bt_pair p;
	int nsym, ntf, i, j, cur, shown;
	int64_t last, now = bt_now_ms();
	struct bt_buf stale = { 0 }, late = { 0 };

	bt_buf_printf(b, "Current pairs:");
	path = bt_store_path();
	if (bt_open_store(path, BT_DB_RO, &db, err) != 0) {
		bt_buf_printf(b, " store unreadable: %s\n", err);
		free(path);
		return;
	}
	free(path);
	nsym = bt_conf_list("BT_SYMBOLS", &syms);
	ntf = bt_conf_list("BT_TIMEFRAMES", &tfs);
	for (j = 0; j < ntf; j++) {
		cur = shown = 0;
		stale.len = 0;
		for (i = 0; i < nsym; i++) {
			last = -1;
			if (bt_pair_get(db, syms[i], tfs[j], false, NULL, 0, &p,
			    err) == 0 && p.id != 0)
				bt_pair_last(db, &p, &last, err);
			if (last >= 0 && now - last <= bt_stale_ms(tfs[j])) {
				cur++;
				continue;
			}
			if (shown++ < 5)
				bt_buf_printf(&stale, "%s%s (%s)", shown > 1 ?
				    ", " : "", syms[i], last < 0 ? "none" :
				    bt_fmt_time(last, t));
		}
		bt_buf_printf(b, "%s %s %d/%d", j > 0 ? "," : "", tfs[j], cur,
		    nsym);
		if (shown > 0)
			bt_buf_printf(&late, " %s stale: %s%s\n", tfs[j],
			    stale.p, shown > 5 ? ", ..." : "");
	}
	bt_buf_printf(b, "\n%s", late.len > 0 ? late.p : "");
	bt_buf_free(&late);
	bt_buf_free(&stale);
	bt_list_free(syms, nsym);
	bt_list_free(tfs, ntf);
	bt_close(db);
}

static void
digest_validation(sqlite3 *st, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	struct bt_buf rows = { 0 };
	int n = 0;

	bt_buf_printf(b, "Validation findings (24 h):");
	if (st == NULL || (s = bt_stmt(st, "SELECT severity, kind, "
	    "symbol, tf, message, count(*) FROM events WHERE prog="
	    "'bt-validate' AND ts > ?1 AND severity != 'INFO' GROUP BY "
	    "severity, kind, symbol, tf ORDER BY severity='CRITICAL' DESC, "
	    "min(ts) LIMIT 11", err)) == NULL) {
		bt_buf_printf(b, " none\n");
		return;
	}
	sqlite3_bind_int64(s, 1, bt_now_ms() - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *sym = (const char *)sqlite3_column_text(s, 2);
		const char *tf = (const char *)sqlite3_column_text(s, 3);

		if (++n > 10) {
			bt_buf_printf(&rows, " ...\n");
			break;
		}
		bt_buf_printf(&rows, " %s %s%s%s%s%s: %s",
		    sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
		    sym ? " " : "", sym ? sym : "", tf ? " " : "", tf ? tf : "",
		    sqlite3_column_text(s, 4));
		if (sqlite3_column_int(s, 5) > 1)
			bt_buf_printf(&rows, " (x%d)", sqlite3_column_int(s, 5));
		bt_buf_printf(&rows, "\n");
	}
	sqlite3_reset(s);
	bt_buf_printf(b, "%s%s", n == 0 ? " none\n" : "\n",
	    n == 0 ? "" : rows.p);
	bt_buf_free(&rows);
}

static void
digest_backups(struct bt_buf *b)
{
	char *dir = bt_path("backups"), best[256] = "", wbest[256] = "", t[32];
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	struct stat sb;
	int n = 0;

	bt_buf_printf(b, "Backups:");
	if ((d = opendir(dir)) == NULL) {
		bt_buf_printf(b, " no backups/ directory\n");
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "db_backup_", 10) != 0 ||
		    strlen(de->d_name) < 14 || strcmp(de->d_name +
		    strlen(de->d_name) - 3, ".db") != 0)
			continue;
		n++;
		if (strncmp(de->d_name, "db_backup_weekly_", 17) == 0) {
			if (strcmp(de->d_name, wbest) > 0)
				snprintf(wbest, sizeof(wbest), "%s",
				    de->d_name);
		} else if (strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (*best) {
		snprintf(path, sizeof(path), "%s/%s", dir, best);
		if (stat(path, &sb) == 0)
			bt_buf_printf(b, " %s, %.1f MB, written %s", best,
			    (double)sb.st_size / 1048576,
			    bt_fmt_time((int64_t)sb.st_mtime * 1000, t));
	} else
		bt_buf_printf(b, " no daily backup");
	bt_buf_printf(b, "; weekly %s; %d file%s\n", *wbest ? wbest :
	    "none", n, n == 1 ? "" : "s");
	free(dir);
}

/* " return -8.6%, Sharpe -2.83, max drawdown -12.3%, 7 trades" of m. */
static void
headline(struct bt_buf *b, json_t *m)
{
	static const struct {
		const char *key, *fmt;
	} f[] = {
		{ "return_pct", " return %.1f%%" },
		{ "buy_hold_return_pct", " (buy and hold %.1f%%)" },
		{ "sharpe", " Sharpe %.2f" },
		{ "max_drawdown_pct", " max drawdown %.1f%%" },
		{ "trades", " %.0f trades" },
	};
	size_t i;
	bool first = true;
	json_t *v;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (json_is_number(v = json_object_get(m, f[i].key))) {
			if (!first && f[i].fmt[1] != '(')
				bt_buf_printf(b, ",");
			bt_buf_printf(b, f[i].fmt, json_number_value(v));
			first = false;
		}
	bt_buf_printf(b, "\n");
}

/* The signals bt-backtest validated: a count, then up to 10 of them. */
static void
signals(struct bt_buf *b, json_t *sig)
{
	char t[32];
	size_t i, j;
	json_t *v, *ts, *why;
	int n = 0, pass = 0;

	json_array_foreach(sig, i, v)
		pass += json_is_true(json_object_get(v, "passed"));
	bt_buf_printf(b, " signals validated: %d passed, %d failed\n", pass,
	    (int)json_array_size(sig) - pass);
	json_array_foreach(sig, i, v) {
		const char *sym = json_string_value(json_object_get(v,
		    "symbol")), *str = json_string_value(json_object_get(v,
		    "strategy"));

		if (n++ >= 10) {
			bt_buf_printf(b, "  ...\n");
			break;
		}
		ts = json_object_get(v, "timestamp");
		bt_buf_printf(b, "  %s %s %s position %g %s", sym ? sym : "?",
		    str ? str : "?", json_is_integer(ts) ?
		    bt_fmt_time(json_integer_value(ts), t) : "?",
		    json_number_value(json_object_get(v, "position")),
		    json_is_true(json_object_get(v, "passed")) ? "passed" :
		    "failed");
		if (json_array_size(json_object_get(v, "reasons")) > 0)
			bt_buf_printf(b, ":");
		json_array_foreach(json_object_get(v, "reasons"), j, why)
			if (json_is_string(why))
				bt_buf_printf(b, " %s", json_string_value(why));
		bt_buf_printf(b, "\n");
	}
}

/*
 * The backtest's results file: what ran, the portfolio's headline
 * figures in words, each symbol's when there are few, the signals.
 */
static void
digest_backtest(struct bt_buf *b)
{
	char *path, *buf, err[BT_ERRLEN];
	const char *k, *v;
	size_t len;
	json_t *r, *meta, *m, *syms;

	path = *bt_conf("BACKTEST_RESULTS") ? strdup(bt_conf(
	    "BACKTEST_RESULTS")) : bt_path("results/backtest_results.json");
	buf = bt_read_file(path, 64 << 20, &len, err);
	free(path);
	if (buf == NULL || (r = json_loadb(buf, len, 0, NULL)) == NULL ||
	    !json_is_object(r)) {
		bt_buf_printf(b, "Backtest: no backtest results\n");
		free(buf);
		return;
	}
	free(buf);
	meta = json_object_get(r, "meta");
	bt_buf_printf(b, "Backtest");
	if ((v = json_string_value(json_object_get(meta, "strategy"))))
		bt_buf_printf(b, " %s", v);
	if ((v = json_string_value(json_object_get(meta, "timeframe"))))
		bt_buf_printf(b, " on %s", v);
	if ((v = json_string_value(json_object_get(meta, "mode"))))
		bt_buf_printf(b, " (%s)", v);
	if ((v = json_string_value(json_object_get(meta, "time"))))
		bt_buf_printf(b, ", run %s", v);
	bt_buf_printf(b, ":\n");
	if (json_is_object(m = json_object_get(r, "portfolio"))) {
		bt_buf_printf(b, " portfolio:");
		headline(b, m);
	}
	syms = json_object_get(r, "symbols");
	if (json_object_size(syms) <= 5)
		json_object_foreach(syms, k, m) {
			bt_buf_printf(b, " %s:", k);
			headline(b, m);
		}
	else
		bt_buf_printf(b, " %zu symbols: see the results file\n",
		    json_object_size(syms));
	signals(b, json_object_get(r, "signals_validated"));
	json_decref(r);
}

static void
digest_sent(sqlite3 *st, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int n = 0;

	bt_buf_printf(b, "Sent (24 h):");
	if (st == NULL || (s = bt_stmt(st, "SELECT severity, chat, "
	    "count(*), sum(events) FROM sends WHERE ts > ?1 GROUP BY "
	    "severity, chat ORDER BY severity, chat", err)) == NULL) {
		bt_buf_printf(b, " nothing\n");
		return;
	}
	sqlite3_bind_int64(s, 1, bt_now_ms() - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		bt_buf_printf(b, "%s %s to %s: %d messages, %lld alerts",
		    n++ > 0 ? ";" : "",
		    sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2),
		    (long long)sqlite3_column_int64(s, 3));
	}
	sqlite3_reset(s);
	bt_buf_printf(b, "%s\n", n == 0 ? " nothing" : "");
}

/*
 * The daily digest's text: what the operator reads at 04:00 on a phone,
 * so a line or two a part, no blank lines.  Each part says so when its
 * source is missing; `st' may be NULL.
 */
char *
bt_daily_compose(sqlite3 *st)
{
	struct bt_buf b = { 0 };
	char t[32];

	bt_buf_printf(&b, "bt daily digest, %s\n", bt_fmt_time(bt_now_ms(), t));
	digest_jobs(st, &b);
	digest_freshness(&b);
	digest_validation(st, &b);
	digest_backups(&b);
	digest_backtest(&b);
	digest_sent(st, &b);
	return b.p;
}
