/*
 * fuzz-event.c - an event's text from outside (a message, a symbol, a
 * path inside a message) through bt_event() into a real state file:
 * whatever the bytes, the event is recorded, its message is valid UTF-8
 * (invalid bytes as U+FFFD), and a valid text is kept as it was (but
 * for the redaction every diagnostic and event passes).  Also
 * bt_utf8() itself: valid output, idempotent.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_migrate.h"
#include "bt_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *st;
static unsigned long n;
static char home[] = "/tmp/fuzz-event.XXXXXX";

/* The scratch BT_HOME goes when the fuzzer ends. */
static void
cleanup(void)
{
	static const char *files[] = { "db/bt_state.db", "db/bt_state.db-wal",
	    "db/bt_state.db-shm", "run/state.lock", "run/write.lock" };
	char path[128];
	size_t i;

	bt_close(st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", home, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/db", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/run", home);
	rmdir(path);
	rmdir(home);
}

/* Strict UTF-8, as jansson checks it. */
static int
valid(const unsigned char *s)
{
	json_t *j = json_string((const char *)s);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

static void
setup(void)
{
	char err[BT_ERRLEN], path[64];

	if (mkdtemp(home) == NULL)
		abort();
	atexit(cleanup);
	setenv("BT_HOME", home, 1);
	setenv("BT_CONF", "/dev/null", 1);
	bt_set_diag(NULL);
	if (bt_init("fuzz-event", err) != 0 || bt_conf_load(err) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/db/bt_state.db", home);
	if (bt_open_state(path, BT_DB_CREATE, &st, err) != 0)
		abort();
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *u, *u2, *want, err[BT_ERRLEN];
	sqlite3_stmt *q;
	const unsigned char *got;

	if (st == NULL)
		setup();
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	u = bt_utf8(s);
	if (!valid((unsigned char *)u))
		abort();
	u2 = bt_utf8(u);
	if (strcmp(u, u2) != 0)
		abort();
	free(u2);
	if (valid((unsigned char *)s) && strcmp(s, u) != 0)
		abort();
	if (strlen(s) < 900 && bt_event(st, "WARNING", "fuzz", s, NULL, NULL,
	    "%s", s) != 0)
		abort();
	if (strlen(s) < 900) {
		/* What bt_event() keeps: the text redacted, then repaired. */
		if ((want = strdup(s)) == NULL)
			abort();
		bt_redact(want);
		u2 = bt_utf8(want);
		free(want);
		want = u2;
		if (sqlite3_prepare_v2(st, "SELECT message, symbol FROM events "
		    "ORDER BY id DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
			abort();
		if (sqlite3_step(q) != SQLITE_ROW)
			abort();
		got = sqlite3_column_text(q, 0);
		if (got == NULL || !valid(got) ||
		    strcmp((const char *)got, want) != 0)
			abort();
		sqlite3_finalize(q);
		free(want);
	}
	/* The file stays small over millions of runs. */
	if (++n % 1000 == 0 && bt_exec(st, "DELETE FROM events", err) != 0)
		abort();
	free(u);
	free(s);
	return 0;
}
