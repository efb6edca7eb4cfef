/*
 * watch-test - bt-watchdog's machinery, driven directly: bt_watch.c (a
 * check line and its event on a change, with repeat and recovery; an
 * action logged, recorded and raised; a detached command; kv) and
 * bt_probe_pause() of bt_probe.c.
 *
 *	watch-test
 *
 * Runs under an empty BT_HOME with BT_NOW set, and moves the wall clock
 * itself (bt_set_now()).  Prints TAP; the lines each case prints are
 * read back from a file.  Nothing sleeps: the detached command answers
 * through a FIFO.
 */
#include <sys/stat.h>

#include <fcntl.h>

#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_probe.h"
#include "bt_state.h"
#include "bt_watch.h"
#include "unit-tap.h"

#define MIN	60000LL

static int64_t t0;

/* Starts capturing stdout anew, at minute m after t0. */
static void
at(int m)
{
	capture();
	bt_set_now(t0 + m * MIN);
}

/* The event_id of the first captured line that has one, or "". */
static void
event_id(char id[32])
{
	FILE *fp;
	char line[8192], *p;

	id[0] = '\0';
	fflush(stdout);
	if ((fp = fopen(outpath, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if ((p = strstr(line, "\"event_id\":\"")) != NULL) {
			snprintf(id, 32, "%.16s", p + 12);
			break;
		}
	fclose(fp);
}

static int64_t
count(sqlite3 *st, const char *sql)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];
	int64_t n = -1;

	if ((q = bt_stmt(st, sql, err)) == NULL)
		die(sql, err);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return n;
}

#define EVENTS(x) count((x)->st, "SELECT count(*) FROM events")

static void
test_check(struct bt_watch *x)
{
	char id1[32], id2[32];
	char *kv;

	at(0);
	bt_watch_check(x, "thing", false, "WARNING", "broken", NULL,
	    "the thing is %s", "broken");
	event_id(id1);
	ok(EVENTS(x) == 1 && *id1 != '\0' && x->exit == BT_EX_FOUND,
	    "a new problem raises an event, with its event_id; exit 1");
	kv = bt_watch_kv_str(x, "watchdog.thing");
	ok(kv != NULL && strstr(kv, "\"state\":\"broken\"") != NULL,
	    "what was raised is kept in kv watchdog.NAME");
	free(kv);

	at(1);
	bt_watch_check(x, "thing", false, "WARNING", "broken", NULL,
	    "the thing is %s", "broken");
	event_id(id2);
	ok(EVENTS(x) == 1 && strcmp(id1, id2) == 0,
	    "the same problem a minute later: no event, the same event_id");

	at(2);
	bt_watch_check(x, "thing", false, "CRITICAL", "gone", NULL,
	    "the thing is gone");
	event_id(id2);
	ok(EVENTS(x) == 2 && strcmp(id1, id2) != 0,
	    "a different problem raises a new event");

	at(2 + 4 * 60);
	bt_watch_check(x, "thing", false, "CRITICAL", "gone", NULL,
	    "the thing is gone");
	ok(EVENTS(x) == 3,
	    "the same problem after BT_WATCHDOG_REPEAT_HOURS is raised again");

	at(250);
	bt_watch_check(x, "thing", true, NULL, "ok", NULL, "the thing works");
	ok(EVENTS(x) == 4 && lines_with("\"severity\":\"INFO\"") == 1 &&
	    lines_with("recovered (was gone): the thing works") == 1 &&
	    lines_with("\"route\":\"CRITICAL\"") == 1,
	    "the recovery is an INFO routed where the alert went");

	at(251);
	bt_watch_check(x, "thing", true, NULL, "ok", NULL, "the thing works");
	ok(EVENTS(x) == 4 && lines_with("severity") == 0 &&
	    lines_with("\"ok\":true") == 1,
	    "all well again: a line, no severity, no event");

	x->quiet = true;
	at(252);
	bt_watch_check(x, "thing", true, NULL, "ok", NULL, "the thing works");
	bt_watch_check(x, "other", false, "WARNING", "bad", NULL, "bad");
	ok(lines_with(NULL) == 1 && lines_with("\"check\":\"other\"") == 1,
	    "-q prints only what is not ok");
	x->quiet = false;
}

static void
test_dry(struct bt_watch *x)
{
	int64_t before = EVENTS(x);
	char *kv;

	x->dry = true;
	at(300);
	bt_watch_check(x, "dry", false, "CRITICAL", "bad", NULL, "bad");
	bt_watch_kv_put(x, "watchdog.test", "1");
	bt_watch_action(x, "WARNING", "poke", "thing", true, "poked %d", 1);
	kv = bt_watch_kv_str(x, "watchdog.test");
	ok(EVENTS(x) == before && kv == NULL &&
	    lines_with("\"dry_run\":true") == 1 &&
	    count(x->st, "SELECT count(*) FROM actions") == 0,
	    "a dry run records nothing and says what it would do");
	free(kv);
	x->dry = false;
}

static void
test_action(struct bt_watch *x)
{
	char *log = bt_path("logs/recovery.log"), *buf, err[BT_ERRLEN];
	size_t len;

	at(310);
	bt_watch_action(x, "WARNING", "poke", "thing", true, "poked %d", 2);
	buf = bt_read_file(log, 1 << 20, &len, err);
	ok(buf != NULL && strstr(buf, "\"action\":\"poke\"") != NULL &&
	    strstr(buf, "poked 2") != NULL,
	    "an action is a line in logs/recovery.log");
	free(buf);
	ok(count(x->st, "SELECT count(*) FROM actions WHERE action='poke' AND "
	    "ok=1") == 1 && count(x->st, "SELECT count(*) FROM events WHERE "
	    "kind='recovery'") == 1,
	    "an action is a row in actions and an event");
	free(log);
}

static void
test_kv(struct bt_watch *x)
{
	bt_watch_kv_put_int(x, "watchdog.n", 42);
	ok(bt_watch_kv_int(x, "watchdog.n", -1) == 42 &&
	    bt_watch_kv_int(x, "watchdog.none", -7) == -7,
	    "kv integers, and the default for a missing key");
}

/*
 * The command reports its session and the files its shell has open
 * through a FIFO that we hold open (so nothing waits on the order of
 * opens): its own session, and none of our files, the state file or a
 * file we opened without close-on-exec: no lock of ours.
 */
static void
test_spawn(struct bt_watch *x)
{
	char fifo[4200], mine[4200], cmd[13000], err[BT_ERRLEN], line[4400];
	FILE *fp;
	long sid = 0;
	int hold, held, nfd = 0, ours = 0;

	snprintf(fifo, sizeof(fifo), "%s/spawn.fifo", getenv("HOME"));
	snprintf(mine, sizeof(mine), "%s/held.file", getenv("HOME"));
	unlink(fifo);
	if (mkfifo(fifo, 0600) == -1 || (hold = open(fifo, O_RDWR)) == -1 ||
	    (held = open(mine, O_RDWR | O_CREAT, 0600)) == -1)
		die("fifo", fifo);
	snprintf(cmd, sizeof(cmd), "awk '{print $6}' /proc/$$/stat >%s; "
	    "ls -l /proc/$$/fd/ >%s; echo end >%s", fifo, fifo, fifo);
	ok(bt_watch_spawn(x, cmd, err) == 0, "a command is started");
	if ((fp = fopen(fifo, "r")) == NULL)
		die("fopen", fifo);
	if (fgets(line, sizeof(line), fp) != NULL)
		sid = strtol(line, NULL, 10);
	while (fgets(line, sizeof(line), fp) != NULL &&
	    strcmp(line, "end\n") != 0) {
		if (strstr(line, " -> ") != NULL)
			nfd++;
		if (strstr(line, "held.file") != NULL ||
		    strstr(line, "bt_state.db") != NULL)
			ours++;
	}
	fclose(fp);
	close(hold);
	close(held);
	ok(sid > 0 && sid != (long)getsid(0), "in a session of its own");
	ok(nfd >= 3 && ours == 0, "holding none of our files");
	unlink(fifo);
}

static void
test_pause(struct bt_watch *x)
{
	char *path = bt_path("run/backtest.paused"), *buf, err[BT_ERRLEN];
	size_t len;

	at(320);
	bt_probe_pause(x, "a test");
	buf = bt_read_file(path, 4096, &len, err);
	ok(buf != NULL && strstr(buf, "\"reason\":\"a test\"") != NULL &&
	    lines_with("\"action\":\"pause\"") == 1,
	    "pausing writes run/backtest.paused with why, as an action");
	free(buf);
	at(321);
	bt_probe_pause(x, "again");
	ok(lines_with(NULL) == 0, "a paused backtest is not paused again");
	free(path);
}

int
main(int argc, char *argv[])
{
	struct bt_watch x;
	char err[BT_ERRLEN], *path;

	(void)argc;
	tap_begin("watch-test");
	if (bt_init("watch-test", err) != 0 || bt_conf_load(err) != 0)
		die("init", err);
	t0 = bt_now_ms();
	memset(&x, 0, sizeof(x));
	x.argv0 = argv[0];
	path = bt_state_path();
	if (bt_mkdirs(bt_conf("BT_HOME"), 0750, err) != 0 ||
	    bt_open_state(path, BT_DB_CREATE, &x.st, err) != 0)
		die("state", err);
	free(path);
	test_check(&x);
	test_dry(&x);
	test_action(&x);
	test_kv(&x);
	test_spawn(&x);
	test_pause(&x);
	bt_close(x.st);
	return tap_end();
}
