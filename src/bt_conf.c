/*
 * bt_conf.c - the one table of configuration keys, and how a value is
 * found: $BT_CONF (default /etc/bt/bt.conf) holds KEY=VALUE lines, the
 * environment overrides the file, options override both (contracts.md).
 *
 * An unknown key in the file is a warning naming file and line.  A
 * malformed value of a known key is an error (exit 78), wherever it came
 * from.  Secrets are handed out only by bt_secret(), and only to the
 * program that asked for them with bt_conf_want().
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

enum kind { K_STR, K_INT, K_NUM, K_BOOL, K_LIST, K_DELAYS, K_URL, K_PATH, K_SLOT,
    K_SYMBOLS, K_TFS, K_TIME, K_SECRET };

struct key {
	const char	*name;
	enum kind	 kind;
	const char	*def;
	double		 min, max;
	char		*val;		/* current value, malloc'd */
	char		 from[128];	/* where it came from, for errors */
};

/* 60 liquid USDT spot pairs; an operator's list replaces it. */
#define DEFAULT_SYMBOLS \
	"BTCUSDT ETHUSDT BNBUSDT SOLUSDT XRPUSDT DOGEUSDT ADAUSDT TRXUSDT " \
	"AVAXUSDT LINKUSDT DOTUSDT TONUSDT SHIBUSDT LTCUSDT BCHUSDT NEARUSDT " \
	"UNIUSDT APTUSDT ICPUSDT ETCUSDT XLMUSDT FILUSDT ATOMUSDT ARBUSDT " \
	"OPUSDT HBARUSDT INJUSDT SUIUSDT PEPEUSDT IMXUSDT VETUSDT AAVEUSDT " \
	"GRTUSDT RENDERUSDT ALGOUSDT SEIUSDT TIAUSDT STXUSDT SANDUSDT " \
	"MANAUSDT AXSUSDT THETAUSDT EGLDUSDT FLOWUSDT XTZUSDT CHZUSDT " \
	"APEUSDT LDOUSDT CRVUSDT SNXUSDT RUNEUSDT KAVAUSDT ZECUSDT DASHUSDT " \
	"NEOUSDT IOTAUSDT QNTUSDT GALAUSDT ENSUSDT WLDUSDT"

static struct key keys[] = {
	/* Files and time. */
	{ "BT_HOME", K_PATH, "/var/lib/bt", 0, 0, NULL, "" },
	{ "BT_DB", K_PATH, "", 0, 0, NULL, "" },
	{ "BT_STATE", K_PATH, "", 0, 0, NULL, "" },
	{ "BT_NOW", K_TIME, "", 0, 0, NULL, "" },
	/* What to keep current. */
	{ "BT_SYMBOLS", K_SYMBOLS, DEFAULT_SYMBOLS, 0, 0, NULL, "" },
	{ "BT_TIMEFRAMES", K_TFS, "1d 4h 1h 15m", 0, 0, NULL, "" },
	{ "BT_SINCE_DAYS", K_INT, "365", 1, 36500, NULL, "" },
	{ "BT_REPAIR_DAYS", K_INT, "7", 1, 3650, NULL, "" },
	/* Binance and the network. */
	{ "BT_BINANCE_URL", K_URL, "https://api.binance.com", 0, 0, NULL, "" },
	{ "BT_BINANCE_FUTURES_URL", K_URL, "https://fapi.binance.com", 0, 0,
	    NULL, "" },
	{ "BT_FRED_URL", K_URL, "https://api.stlouisfed.org", 0, 0, NULL, "" },
	{ "BT_TELEGRAM_URL", K_URL, "https://api.telegram.org", 0, 0, NULL,
	    "" },
	{ "BT_RETRY_DELAYS", K_DELAYS, "5,15,45", 0, 0, NULL, "" },
	{ "BT_SOURCE_RETRY_DELAYS", K_DELAYS, "10,30,60", 0, 0, NULL, "" },
	{ "BT_RETRY_AFTER_MIN", K_NUM, "1", 0, 600, NULL, "" },
	{ "BT_RETRY_AFTER_MAX", K_NUM, "600", 0, 86400, NULL, "" },
	{ "BT_CIRCUIT_BREAKER", K_INT, "3", 1, 1000, NULL, "" },
	{ "BT_WEIGHT_LIMIT", K_INT, "6000", 1, 1000000000, NULL, "" },
	{ "BT_WEIGHT_SHARE", K_NUM, "0.5", 0.01, 1, NULL, "" },
	{ "BT_PACE_WAIT_MAX", K_NUM, "60", 0, 600, NULL, "" },
	{ "BT_HTTP_CONNECT_TIMEOUT", K_NUM, "10", 0.001, 600, NULL, "" },
	{ "BT_HTTP_TIMEOUT", K_NUM, "30", 0.001, 3600, NULL, "" },
	{ "BT_HTTP_LOW_SPEED_TIME", K_INT, "10", 1, 3600, NULL, "" },
	{ "BT_HTTP_MAX_BODY_MB", K_INT, "64", 1, 4096, NULL, "" },
	/* SQLite. */
	{ "SQLITE_WAL_MODE", K_BOOL, "1", 0, 1, NULL, "" },
	{ "SQLITE_CACHE_MB", K_INT, "10", 1, 65536, NULL, "" },
	{ "SQLITE_BUSY_TIMEOUT_MS", K_INT, "10000", 0, 3600000, NULL, "" },
	{ "BT_WRITE_LOCK_WAIT", K_NUM, "60", 0, 3600, NULL, "" },
	/* Staleness (contracts.md; the seed's names). */
	{ "STALENESS_ALERT_THRESHOLD_D1_DAYS", K_NUM, "7", 0.001, 3650, NULL,
	    "" },
	{ "STALENESS_ALERT_THRESHOLD_H4_HOURS", K_NUM, "24", 0.001, 87600,
	    NULL, "" },
	{ "STALENESS_ALERT_THRESHOLD_H1_HOURS", K_NUM, "6", 0.001, 87600, NULL,
	    "" },
	{ "STALENESS_ALERT_THRESHOLD_M15_MINUTES", K_NUM, "120", 0.001,
	    5256000, NULL, "" },
	{ "BT_COVERAGE_MIN", K_NUM, "0.95", 0, 1, NULL, "" },
	/* Slots of the daily jobs, for --if-due (the seed's schedule). */
	{ "BT_VALIDATE_SLOT", K_SLOT, "01:00", 0, 0, NULL, "" },
	{ "BT_VALIDATE_FULL_SLOT", K_SLOT, "sun 01:00", 0, 0, NULL, "" },
	{ "BT_BACKUP_SLOT", K_SLOT, "03:00", 0, 0, NULL, "" },
	{ "BT_VACUUM_SLOT", K_SLOT, "sun 03:00", 0, 0, NULL, "" },
	{ "BT_TEST_RESTORE_SLOT", K_SLOT, "1 05:00", 0, 0, NULL, "" },
	/* The daily backtest (the seed's .env names). */
	{ "BACKTEST_ENABLED", K_BOOL, "1", 0, 1, NULL, "" },
	{ "BACKTEST_START_HOUR", K_INT, "23", 0, 23, NULL, "" },
	{ "BACKTEST_START_MINUTE", K_INT, "30", 0, 59, NULL, "" },
	{ "BACKTEST_TIMEOUT_MINUTES", K_NUM, "120", 0.001, 1440, NULL, "" },
	{ "BACKTEST_RESULTS", K_PATH, "", 0, 0, NULL, "" },
	/* bt-backtest: what the daily job runs, and its acceptance bar. */
	{ "BACKTEST_TIMEFRAME", K_TFS, "4h", 0, 0, NULL, "" },
	{ "BACKTEST_CANDLES", K_INT, "250", 2, 100000000, NULL, "" },
	{ "BACKTEST_STRATEGY", K_STR, "sma-cross", 0, 0, NULL, "" },
	{ "BACKTEST_PARAMS", K_LIST, "", 0, 0, NULL, "" },
	{ "BACKTEST_SIGNALS", K_PATH, "", 0, 0, NULL, "" },
	{ "BACKTEST_CASH", K_NUM, "10000", 0.01, 1e15, NULL, "" },
	{ "BACKTEST_FEE_BPS", K_NUM, "10", 0, 1000, NULL, "" },
	{ "BACKTEST_SLIPPAGE_BPS", K_NUM, "2", 0, 1000, NULL, "" },
	{ "BACKTEST_SHORT", K_BOOL, "0", 0, 1, NULL, "" },
	{ "BACKTEST_SIZE", K_NUM, "1", 0.000001, 1, NULL, "" },
	{ "BACKTEST_LOT", K_NUM, "0.00000001", 0, 1e9, NULL, "" },
	{ "BACKTEST_MIN_SHARPE", K_NUM, "0.5", -1e6, 1e6, NULL, "" },
	{ "BACKTEST_MAX_DRAWDOWN_PCT", K_NUM, "25", 0, 1e6, NULL, "" },
	{ "BACKTEST_MIN_TRADES", K_INT, "3", 0, 1e9, NULL, "" },
	{ "BT_HEARTBEAT_SECONDS", K_NUM, "30", 0, 60, NULL, "" },
	{ "HEALTH_PROBE_INTERVAL_SECONDS", K_INT, "60", 60, 86400, NULL, "" },
	/* Alerting. */
	{ "TELEGRAM_BACKTEST_CHANNEL", K_STR, "", 0, 0, NULL, "" },
	{ "TELEGRAM_CHAT_CRITICAL", K_STR, "", 0, 0, NULL, "" },
	{ "TELEGRAM_CHAT_WARNING", K_STR, "", 0, 0, NULL, "" },
	{ "TELEGRAM_CHAT_INFO", K_STR, "", 0, 0, NULL, "" },
	{ "TELEGRAM_CRITICAL_TIMEOUT", K_INT, "120", 1, 3600, NULL, "" },
	{ "TELEGRAM_BOT_TOKEN_FILE", K_PATH, "", 0, 0, NULL, "" },
	{ "TELEGRAM_BOT_TOKEN", K_SECRET, "", 0, 0, NULL, "" },
	{ "FRED_API_KEY_FILE", K_PATH, "", 0, 0, NULL, "" },
	{ "FRED_API_KEY", K_SECRET, "", 0, 0, NULL, "" },
	{ "BT_HEARTBEAT_URL", K_STR, "", 0, 0, NULL, "" },
	/* bt-fetch: market context and the indicator table (issue 6). */
	{ "BT_FUTURES_SYMBOL_MAP", K_LIST, "", 0, 0, NULL, "" },
	{ "BT_SENTIMENT_PERIOD", K_STR, "1h", 0, 0, NULL, "" },
	{ "BT_SENTIMENT_DAYS", K_INT, "30", 1, 30, NULL, "" },
	{ "BT_SENTIMENT_SLOT", K_SLOT, "02:00", 0, 0, NULL, "" },
	{ "BT_FRED_SERIES", K_LIST, "DGS10 DFF DTWEXBGS VIXCLS T10Y2Y", 0, 0,
	    NULL, "" },
	{ "BT_MACRO_DAYS", K_INT, "365", 1, 36500, NULL, "" },
	{ "BT_MACRO_SLOT", K_SLOT, "02:00", 0, 0, NULL, "" },
	{ "BT_INDICATORS", K_BOOL, "1", 0, 1, NULL, "" },
	{ "BT_IND_TIMEFRAMES", K_TFS, "1d 4h 1h", 0, 0, NULL, "" },
	{ "BT_IND_SMA", K_LIST, "20 50 200", 0, 0, NULL, "" },
	{ "BT_IND_EMA", K_LIST, "12 26", 0, 0, NULL, "" },
	{ "BT_IND_RSI", K_LIST, "14", 0, 0, NULL, "" },
	{ "BT_IND_BB", K_LIST, "20x2", 0, 0, NULL, "" },
	{ "BT_IND_ATR", K_LIST, "14", 0, 0, NULL, "" },
	{ "BT_IND_MACD", K_LIST, "12 26 9", 0, 0, NULL, "" },
	/* bt-validate and bt-backup. */
	{ "BT_ACCEPTED_GAPS", K_STR, "", 0, 0, NULL, "" },
	{ "BT_VALIDATE_MAX_FINDINGS", K_INT, "20", 1, 1000000, NULL, "" },
	{ "BT_BACKUP_OFFSITE_DIR", K_PATH, "", 0, 0, NULL, "" },
	{ "BT_BACKUP_OFFSITE_CMD", K_STR, "", 0, 0, NULL, "" },
	{ "BT_SQLITE3", K_PATH, "sqlite3", 0, 0, NULL, "" },
	{ "BT_RESTORE_KEEP_DAMAGED", K_INT, "2", 1, 1000, NULL, "" },
	/* How bt sees the live trader. */
	{ "BT_TRADER_PIDFILE", K_PATH, "", 0, 0, NULL, "" },
	{ "BT_TRADER_HEARTBEAT", K_PATH, "", 0, 0, NULL, "" },
	{ "BT_TRADER_HEARTBEAT_MAX_AGE", K_INT, "120", 1, 86400, NULL, "" },
	/* bt-digest: the volume policy (bt-digest(1)). */
	{ "BT_DIGEST_MAX_PER_HOUR", K_INT, "10", 1, 10000, NULL, "" },
	{ "BT_DIGEST_CRITICAL_RESERVE", K_INT, "2", 0, 10000, NULL, "" },
	{ "BT_DIGEST_MAX_PARTS", K_INT, "3", 1, 100, NULL, "" },
	{ "BT_DIGEST_REPEAT_MINUTES", K_NUM, "60", 0, 10080, NULL, "" },
	{ "BT_DIGEST_HOUR", K_INT, "4", 0, 23, NULL, "" },
	{ "BT_DIGEST_TIME_BUDGET", K_NUM, "40", 0, 3600, NULL, "" },
	/* bt-watchdog: the probe and the decision matrix (bt-watchdog(1)). */
	{ "BT_WATCHDOG_JOBS", K_LIST, "bt-fetch:60:60 bt-validate:1440:120 "
	    "bt-backup:1440:120 bt-backtest:1440:240 bt-digest/daily:1440:120 "
	    "bt-fetch/sentiment:1440:120 bt-fetch/macro:1440:120",
	    0, 0, NULL, "" },
	{ "BT_WATCHDOG_REPEAT_HOURS", K_NUM, "4", 0, 8760, NULL, "" },
	{ "BT_WATCHDOG_GDB", K_BOOL, "1", 0, 1, NULL, "" },
	{ "BT_BACKTEST_LOG", K_PATH, "logs/bt-backtest.jsonl", 0, 0, NULL, "" },
	{ "BT_BACKTEST_HUNG_SECONDS", K_INT, "120", 1, 86400, NULL, "" },
	{ "BT_BACKTEST_STALL_GRACE_MINUTES", K_NUM, "15", 0, 1440, NULL, "" },
	{ "BT_BACKTEST_MISSED_MINUTES", K_NUM, "15", 0, 1440, NULL, "" },
	{ "BT_BACKTEST_KILL_WAIT", K_NUM, "30", 0, 600, NULL, "" },
	{ "BT_BACKTEST_MAX_RESTARTS", K_INT, "3", 0, 1000, NULL, "" },
	{ "BT_BACKTEST_RESTART_CMD", K_STR, "", 0, 0, NULL, "" },
	{ "BT_BACKTEST_CPU_PCT", K_NUM, "90", 1, 100000, NULL, "" },
	{ "BT_BACKTEST_CPU_MINUTES", K_NUM, "10", 0, 1440, NULL, "" },
	{ "BT_AUTO_REFETCH", K_BOOL, "1", 0, 1, NULL, "" },
	{ "BT_REFETCH_CMD", K_STR, "bt-fetch --repair 7", 0, 0, NULL, "" },
	{ "BT_REFETCH_INTERVAL_MINUTES", K_NUM, "30", 0, 10080, NULL, "" },
	{ "BT_REFETCH_MAX_FAILURES", K_INT, "3", 1, 1000, NULL, "" },
	{ "BT_AUTO_RESTORE", K_BOOL, "1", 0, 1, NULL, "" },
	{ "BT_RESTORE_CMD", K_STR, "bt-backup --restore", 0, 0, NULL, "" },
	{ "BT_AUTO_ROLLBACK", K_BOOL, "0", 0, 1, NULL, "" },
	{ "BT_ROLLBACK_CMD", K_STR, "bt-backup --rollback 48", 0, 0, NULL,
	    "" },
	{ "BT_HEARTBEAT_TIMEOUT", K_NUM, "10", 0.001, 600, NULL, "" },
	{ NULL, K_STR, NULL, 0, 0, NULL, "" }
};

static const char *wanted[4];

static struct key *
lookup(const char *name)
{
	struct key *k;

	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

void
bt_conf_want(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (wanted[i] == NULL) {
			wanted[i] = key;
			return;
		}
}

static bool
is_wanted(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (wanted[i] != NULL && strcmp(wanted[i], key) == 0)
			return true;
	return false;
}

static int
parse_num(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*v))
		return -1;
	return 0;
}

/* Checks v for key k; a reason into why. */
static int
check(const struct key *k, const char *v, char *why, size_t len)
{
	char **list, tmp[BT_ERRLEN];
	double d;
	int n, i, rc = 0;
	int64_t ms;

	switch (k->kind) {
	case K_STR:
	case K_PATH:
	case K_SECRET:
		if (strchr(v, '\n') != NULL) {
			snprintf(why, len, "contains a newline");
			return -1;
		}
		return 0;
	case K_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
			snprintf(why, len, "'%s' is not 0 or 1", v);
			return -1;
		}
		return 0;
	case K_INT:
	case K_NUM:
		if (parse_num(v, &d) == -1 ||
		    (k->kind == K_INT && d != floor(d))) {
			snprintf(why, len, "'%s' is not a%s number", v,
			    k->kind == K_INT ? "n integer" : "");
			return -1;
		}
		if (d < k->min || d > k->max) {
			snprintf(why, len, "%s is outside %g..%g", v, k->min,
			    k->max);
			return -1;
		}
		return 0;
	case K_SLOT:
		if (bt_slot_latest(v, 1700000000000LL, &ms, tmp) == -1) {
			snprintf(why, len, "'%s' is not a slot (HH:MM, DAY HH:MM "
			    "with DAY sun..sat, or 1..28 HH:MM)", v);
			return -1;
		}
		return 0;
	case K_TIME:
		if (*v != '\0' && bt_parse_time(v, &ms) == -1) {
			snprintf(why, len, "'%s' is not an ISO 8601 UTC time",
			    v);
			return -1;
		}
		return 0;
	case K_URL:
		if (strncmp(v, "https://", 8) != 0 &&
		    strncmp(v, "http://", 7) != 0) {
			snprintf(why, len, "'%s' is not an http(s) URL", v);
			return -1;
		}
		return 0;
	case K_DELAYS:
	case K_LIST:
	case K_SYMBOLS:
	case K_TFS:
		n = bt_list_split(v, &list);
		for (i = 0; i < n && rc == 0; i++) {
			if (k->kind == K_DELAYS &&
			    (parse_num(list[i], &d) == -1 || d < 0 ||
			    d > 3600)) {
				snprintf(why, len, "'%s' is not a wait in "
				    "seconds (0..3600)", list[i]);
				rc = -1;
			} else if (k->kind == K_SYMBOLS &&
			    !bt_symbol_ok(list[i])) {
				snprintf(why, len, "'%s' is not a symbol "
				    "(^[A-Z0-9]{2,20}$)", list[i]);
				rc = -1;
			} else if (k->kind == K_TFS &&
			    bt_tf_view(list[i]) == NULL) {
				snprintf(why, len, "'%s' is not one of 1d 4h "
				    "1h 15m", list[i]);
				rc = -1;
			}
		}
		if (rc == 0 && n == 0 && k->kind != K_DELAYS &&
		    k->kind != K_LIST) {
			snprintf(why, len, "is empty");
			rc = -1;
		}
		bt_list_free(list, n);
		return rc;
	}
	return 0;
}

/* Values bt cannot honour (contracts.md). */
static int
check_policy(const struct key *k, const char *v, char *why, size_t len)
{
	if (strcmp(k->name, "SQLITE_WAL_MODE") == 0 && strcmp(v, "1") != 0) {
		snprintf(why, len, "WAL is required; 0 cannot be honoured");
		return -1;
	}
	/* Relative, every file would land wherever the program started. */
	if (strcmp(k->name, "BT_HOME") == 0 && v[0] != '/') {
		snprintf(why, len, "'%s' is not an absolute path", v);
		return -1;
	}
	if (strcmp(k->name, "HEALTH_PROBE_INTERVAL_SECONDS") == 0 &&
	    atol(v) % 60 != 0) {
		snprintf(why, len, "%s is not a multiple of 60 (cron runs "
		    "once a minute)", v);
		return -1;
	}
	return 0;
}

static void
set(struct key *k, const char *v, const char *from)
{
	free(k->val);
	if ((k->val = strdup(v)) == NULL)
		abort();
	snprintf(k->from, sizeof(k->from), "%s", from);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Parses KEY=VALUE lines from buf (NUL-terminated, len bytes); `name' is
 * for messages.  *secret_inside tells whether a secret was set directly.
 */
int
bt_conf_parse(const char *name, char *buf, size_t len, bool *secret_inside,
    char *err)
{
	char *line, *next, *eq, *key, *val, from[128];
	struct key *k;
	int lineno = 0;

	*secret_inside = false;
	if (strlen(buf) != len) {
		snprintf(err, BT_ERRLEN, "%s: contains a NUL byte", name);
		return BT_EX_CONFIG;
	}
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if (strncmp(line, "export ", 7) == 0)
			line = trim(line + 7);
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, BT_ERRLEN, "%s:%d: not KEY=VALUE", name,
			    lineno);
			return BT_EX_CONFIG;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		/* Shell-style quotes, so the file can be sourced too. */
		len = strlen(val);
		if (len >= 2 && (val[0] == '"' || val[0] == '\'') &&
		    val[len - 1] == val[0]) {
			val[len - 1] = '\0';
			val++;
		}
		if ((k = lookup(key)) == NULL) {
			bt_warnx("%s:%d: unknown key %s (ignored)", name,
			    lineno, key);
			continue;
		}
		snprintf(from, sizeof(from), "%s:%d", name, lineno);
		if (k->kind == K_SECRET) {
			*secret_inside = true;
			if (!is_wanted(k->name))
				continue;	/* never held by others */
		}
		set(k, val, from);
	}
	return 0;
}

static int
load_file(const char *path, bool must, char *err)
{
	char *buf;
	size_t len;
	struct stat sb;
	bool secret_inside;
	int rc;

	if ((buf = bt_read_file(path, 1 << 20, &len, err)) == NULL) {
		if (!must && errno == ENOENT)
			return 0;
		return BT_EX_CONFIG;
	}
	rc = bt_conf_parse(path, buf, len, &secret_inside, err);
	free(buf);
	if (rc != 0)
		return rc;
	/* contracts.md: a file holding a secret must be mode 0600. */
	if (secret_inside && stat(path, &sb) == 0 &&
	    (sb.st_mode & 077) != 0) {
		snprintf(err, BT_ERRLEN, "%s: holds a secret but is mode %03o; "
		    "it must be 0600", path, (unsigned)(sb.st_mode & 0777));
		return BT_EX_CONFIG;
	}
	return 0;
}

/* Every key's value against its kind and bt's policy. */
int
bt_conf_check(char *err)
{
	struct key *k;
	char why[256];

	for (k = keys; k->name != NULL; k++) {
		if (check(k, k->val, why, sizeof(why)) == -1 ||
		    check_policy(k, k->val, why, sizeof(why)) == -1) {
			snprintf(err, BT_ERRLEN, "%s: %s: %s", k->from,
			    k->name, why);
			return BT_EX_CONFIG;
		}
	}
	return 0;
}

void
bt_conf_reset(void)
{
	struct key *k;

	for (k = keys; k->name != NULL; k++)
		set(k, k->def, "default");
}

int
bt_conf_load(char *err)
{
	struct key *k;
	const char *path, *env;
	char from[160];
	int rc;

	bt_conf_reset();
	path = getenv("BT_CONF");
	if ((rc = load_file(path != NULL && *path != '\0' ? path :
	    "/etc/bt/bt.conf", path != NULL && *path != '\0', err)) != 0)
		return rc;
	for (k = keys; k->name != NULL; k++) {
		if ((env = getenv(k->name)) == NULL)
			continue;
		if (k->kind == K_SECRET && !is_wanted(k->name)) {
			unsetenv(k->name);
			continue;
		}
		snprintf(from, sizeof(from), "environment %s", k->name);
		set(k, env, from);
		/*
		 * A secret lives on in the table only: no child process
		 * (bt-watchdog's actions, the offsite command, sqlite3)
		 * inherits it from our environment.
		 */
		if (k->kind == K_SECRET)
			unsetenv(k->name);
	}
	return bt_conf_check(err);
}

int
bt_conf_set(const char *key, const char *val, char *err)
{
	struct key *k;
	char why[256];

	if ((k = lookup(key)) == NULL) {
		snprintf(err, BT_ERRLEN, "unknown configuration key %s", key);
		return BT_EX_SOFTWARE;
	}
	if (check(k, val, why, sizeof(why)) == -1 ||
	    check_policy(k, val, why, sizeof(why)) == -1) {
		snprintf(err, BT_ERRLEN, "%s", why);
		return BT_EX_USAGE;
	}
	set(k, val, "option");
	return 0;
}

bool
bt_secret_set(const char *key)
{
	char fkey[64];
	struct key *k;

	snprintf(fkey, sizeof(fkey), "%s_FILE", key);
	return *bt_conf(fkey) != '\0' || ((k = lookup(key)) != NULL &&
	    k->kind == K_SECRET && k->val != NULL && *k->val != '\0');
}

const char *
bt_conf(const char *key)
{
	struct key *k;

	if ((k = lookup(key)) == NULL || k->kind == K_SECRET)
		return "";
	return k->val != NULL ? k->val : k->def;
}

long
bt_conf_long(const char *key)
{
	return strtol(bt_conf(key), NULL, 10);
}

double
bt_conf_double(const char *key)
{
	return strtod(bt_conf(key), NULL);
}

int
bt_list_split(const char *s, char ***out)
{
	char *copy, *tok, *save = NULL;
	char **v = NULL;
	int n = 0;

	if ((copy = strdup(s)) == NULL)
		abort();
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if ((v = realloc(v, sizeof(*v) * (size_t)(n + 1))) == NULL ||
		    (v[n++] = strdup(tok)) == NULL)
			abort();
	}
	free(copy);
	*out = v;
	return n;
}

int
bt_conf_list(const char *key, char ***out)
{
	return bt_list_split(bt_conf(key), out);
}

void
bt_list_free(char **v, int n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

int
bt_conf_delays(const char *key, double **out)
{
	char **list;
	int n, i;

	n = bt_conf_list(key, &list);
	if ((*out = calloc((size_t)n + 1, sizeof(double))) == NULL)
		abort();
	for (i = 0; i < n; i++)
		(*out)[i] = strtod(list[i], NULL);
	bt_list_free(list, n);
	return n;
}

int64_t
bt_stale_ms(const char *tf)
{
	if (strcmp(tf, "1d") == 0)
		return (int64_t)(bt_conf_double(
		    "STALENESS_ALERT_THRESHOLD_D1_DAYS") * 86400000.0);
	if (strcmp(tf, "4h") == 0)
		return (int64_t)(bt_conf_double(
		    "STALENESS_ALERT_THRESHOLD_H4_HOURS") * 3600000.0);
	if (strcmp(tf, "1h") == 0)
		return (int64_t)(bt_conf_double(
		    "STALENESS_ALERT_THRESHOLD_H1_HOURS") * 3600000.0);
	if (strcmp(tf, "15m") == 0)
		return (int64_t)(bt_conf_double(
		    "STALENESS_ALERT_THRESHOLD_M15_MINUTES") * 60000.0);
	return 6 * bt_tf_ms(tf);
}

/*
 * A secret comes from the file named by KEY_FILE, readable by its owner
 * only, or for ad hoc use from the environment or a 0600 config file.
 */
char *
bt_secret(const char *key, char *err)
{
	char fkey[64], *s;
	const char *path;
	struct stat sb;
	struct key *k;
	size_t len;

	snprintf(fkey, sizeof(fkey), "%s_FILE", key);
	path = bt_conf(fkey);
	if (*path != '\0') {
		if (stat(path, &sb) == -1) {
			snprintf(err, BT_ERRLEN, "%s: %s: %s", fkey, path,
			    strerror(errno));
			return NULL;
		}
		if ((sb.st_mode & 077) != 0) {
			snprintf(err, BT_ERRLEN, "%s: %s is mode %03o; it must "
			    "be readable by its owner only (0600 or 0400)",
			    fkey, path, (unsigned)(sb.st_mode & 0777));
			return NULL;
		}
		if ((s = bt_read_file(path, 4096, &len, err)) == NULL)
			return NULL;
		s[strcspn(s, "\r\n")] = '\0';
		if (*s == '\0') {
			snprintf(err, BT_ERRLEN, "%s: %s is empty", fkey, path);
			free(s);
			return NULL;
		}
		bt_redact_add(s);
		return s;
	}
	if ((k = lookup(key)) != NULL && k->val != NULL && *k->val != '\0') {
		if ((s = strdup(k->val)) == NULL)
			abort();
		bt_redact_add(s);
		return s;
	}
	snprintf(err, BT_ERRLEN, "no %s configured (set %s)", key, fkey);
	return NULL;
}

void
bt_conf_dump(FILE *fp)
{
	struct key *k;

	for (k = keys; k->name != NULL; k++)
		fprintf(fp, "%s=%s\n", k->name, k->kind == K_SECRET ?
		    (k->val != NULL && *k->val != '\0' ? "(set)" : "") :
		    k->val);
}
