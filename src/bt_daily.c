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

static void
digest_jobs(sqlite3 *st, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN], t[32];
	int64_t now = bt_now_ms();
	int n = 0;

	bt_buf_printf(b, "\nJobs (last run; runs and failures in 24 h):\n");
	if (st == NULL || (s = bt_stmt(st, "SELECT prog, job, started, "
	    "ended, exit, (SELECT count(*) FROM runs r2 WHERE r2.prog=r.prog "
	    "AND r2.job=r.job AND r2.started > ?1), (SELECT count(*) FROM "
	    "runs r2 WHERE r2.prog=r.prog AND r2.job=r.job AND r2.started > "
	    "?1 AND r2.exit NOT IN (0, 1)) FROM runs r WHERE id=(SELECT "
	    "max(id) FROM runs r3 WHERE r3.prog=r.prog AND r3.job=r.job) "
	    "ORDER BY prog, job", err)) == NULL) {
		bt_buf_printf(b, " no runs recorded\n");
		return;
	}
	sqlite3_bind_int64(s, 1, now - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(s, 1);
		n++;
		bt_buf_printf(b, " %s%s%s: %s", sqlite3_column_text(s, 0),
		    job && *job ? " " : "", job ? job : "",
		    bt_fmt_time(sqlite3_column_int64(s, 2), t));
		if (sqlite3_column_type(s, 3) == SQLITE_NULL)
			bt_buf_printf(b, ", still running or died");
		else
			bt_buf_printf(b, ", %llds, exit %d",
			    (long long)((sqlite3_column_int64(s, 3) -
			    sqlite3_column_int64(s, 2)) / 1000),
			    sqlite3_column_int(s, 4));
		bt_buf_printf(b, " (%d runs, %d failed)\n",
		    sqlite3_column_int(s, 5), sqlite3_column_int(s, 6));
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
	struct bt_buf stale = { 0 };

	bt_buf_printf(b, "\nFreshness (current pairs per timeframe):\n");
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
		bt_buf_printf(b, " %s: %d/%d current", tfs[j], cur, nsym);
		if (shown > 0)
			bt_buf_printf(b, "; stale: %s%s", stale.p,
			    shown > 5 ? ", ..." : "");
		bt_buf_printf(b, "\n");
	}
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
	int n = 0;

	bt_buf_printf(b, "\nValidation findings (24 h):\n");
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
		if (++n > 10) {
			bt_buf_printf(b, " ...\n");
			break;
		}
		bt_buf_printf(b, " %s %s%s%s%s%s: %s", sqlite3_column_text(s,
		    0), sqlite3_column_text(s, 1),
		    sqlite3_column_text(s, 2) ? " " : "",
		    sqlite3_column_text(s, 2) ? (const char *)
		    sqlite3_column_text(s, 2) : "",
		    sqlite3_column_text(s, 3) ? " " : "",
		    sqlite3_column_text(s, 3) ? (const char *)
		    sqlite3_column_text(s, 3) : "", sqlite3_column_text(s, 4));
		if (sqlite3_column_int(s, 5) > 1)
			bt_buf_printf(b, " (x%d)", sqlite3_column_int(s, 5));
		bt_buf_printf(b, "\n");
	}
	sqlite3_reset(s);
	if (n == 0)
		bt_buf_printf(b, " none\n");
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

	bt_buf_printf(b, "\nBackups:\n");
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
			bt_buf_printf(b, " newest daily: %s, %.1f MB, written "
			    "%s\n", best, (double)sb.st_size / 1048576,
			    bt_fmt_time((int64_t)sb.st_mtime * 1000, t));
	} else
		bt_buf_printf(b, " no daily backup\n");
	if (*wbest)
		bt_buf_printf(b, " newest weekly: %s\n", wbest);
	bt_buf_printf(b, " %d backup files\n", n);
	free(dir);
}

static void
digest_backtest(struct bt_buf *b)
{
	char *path, *buf, err[BT_ERRLEN];
	const char *k;
	size_t len, i;
	json_t *r, *v, *sig, *meta;
	int n = 0, pass = 0, fail = 0;

	bt_buf_printf(b, "\nBacktest:\n");
	path = *bt_conf("BACKTEST_RESULTS") ? strdup(bt_conf(
	    "BACKTEST_RESULTS")) : bt_path("results/backtest_results.json");
	buf = bt_read_file(path, 64 << 20, &len, err);
	free(path);
	if (buf == NULL || (r = json_loadb(buf, len, 0, NULL)) == NULL ||
	    !json_is_object(r)) {
		bt_buf_printf(b, " no backtest results\n");
		free(buf);
		return;
	}
	free(buf);
	meta = json_object_get(r, "meta");
	if (json_is_object(meta)) {
		bt_buf_printf(b, " run");
		json_object_foreach(meta, k, v)
			if (json_is_string(v) && (strcmp(k, "time") == 0 ||
			    strcmp(k, "strategy") == 0 ||
			    strcmp(k, "timeframe") == 0 ||
			    strcmp(k, "mode") == 0))
				bt_buf_printf(b, " %s=%s", k,
				    json_string_value(v));
		bt_buf_printf(b, "\n");
	}
	if (json_is_object(json_object_get(r, "portfolio"))) {
		bt_buf_printf(b, " portfolio:");
		json_object_foreach(json_object_get(r, "portfolio"), k, v) {
			if (!json_is_number(v) || n++ >= 12)
				continue;
			bt_buf_printf(b, " %s=%.4g", k, json_number_value(v));
		}
		bt_buf_printf(b, "\n");
	}
	sig = json_object_get(r, "signals_validated");
	json_array_foreach(sig, i, v) {
		if (json_is_true(json_object_get(v, "passed")))
			pass++;
		else
			fail++;
	}
	bt_buf_printf(b, " signals validated: %d passed, %d failed\n", pass,
	    fail);
	n = 0;
	json_array_foreach(sig, i, v) {
		char t[32];
		json_t *ts = json_object_get(v, "timestamp");
		if (n++ >= 10) {
			bt_buf_printf(b, "  ...\n");
			break;
		}
		bt_buf_printf(b, "  %s %s %s position %g %s",
		    json_string_value(json_object_get(v, "symbol")) ?
		    json_string_value(json_object_get(v, "symbol")) : "?",
		    json_string_value(json_object_get(v, "strategy")) ?
		    json_string_value(json_object_get(v, "strategy")) : "?",
		    json_is_integer(ts) ? bt_fmt_time(json_integer_value(ts),
		    t) : "?", json_number_value(json_object_get(v, "position")),
		    json_is_true(json_object_get(v, "passed")) ? "passed" :
		    "failed");
		if (json_array_size(json_object_get(v, "reasons")) > 0) {
			size_t j;
			json_t *why;
			bt_buf_printf(b, ":");
			json_array_foreach(json_object_get(v, "reasons"), j,
			    why)
				if (json_is_string(why))
					bt_buf_printf(b, " %s",
					    json_string_value(why));
		}
		bt_buf_printf(b, "\n");
	}
	json_decref(r);
}

static void
digest_sent(sqlite3 *st, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int n = 0;

	bt_buf_printf(b, "\nSent in the last 24 h:\n");
	if (st == NULL || (s = bt_stmt(st, "SELECT severity, chat, "
	    "count(*), sum(events) FROM sends WHERE ts > ?1 GROUP BY "
	    "severity, chat ORDER BY severity, chat", err)) == NULL) {
		bt_buf_printf(b, " nothing\n");
		return;
	}
	sqlite3_bind_int64(s, 1, bt_now_ms() - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		n++;
		bt_buf_printf(b, " %s to %s: %d messages, %lld alerts\n",
		    sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2),
		    (long long)sqlite3_column_int64(s, 3));
	}
	sqlite3_reset(s);
	if (n == 0)
		bt_buf_printf(b, " nothing\n");
}

/*
 * The daily digest's text: what the operator reads at 04:00.  Each part
 * says so when its source is missing; `st' may be NULL.
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
