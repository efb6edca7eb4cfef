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

#include "bt_conf.h"

enum kind { K_STR, K_INT, K_NUM, K_BOOL, K_LIST, K_DELAYS, K_URL, K_PATH, K_SLOT,
    K_SYMBOLS, K_TFS, K_BAR, K_TIME, K_SECRET };

struct key {
	const char	*name;
	enum kind	 kind;
	const char	*def;
	double		 min, max;
	unsigned	 users;		/* BT_USE_* of the programs reading it */
	const char	*help;		/* one line, for bt.conf.example */
	const char	*section;	/* a heading before this key, or NULL */
	char		*val;		/* current value, malloc'd */
	char		 from[128];	/* where it came from, for errors */
	bool		 bad;		/* its value was refused */
};

/* Where `make install' puts scripts/equity.gp; the build may say. */
#ifndef BT_SHAREDIR
#define BT_SHAREDIR	"/usr/local/share/bt"
#endif

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


/*
 * Who reads a key: a bad value stops only these programs (bt(7),
 * CONFIGURATION).  Keys read by the library follow the programs that call
 * it: the store and state file are everybody's, HTTP is fetch's,
 * digest's and watchdog's.
 */
#define F	BT_USE_FETCH
#define V	BT_USE_VALIDATE
#define T	BT_USE_BACKTEST
#define B	BT_USE_BACKUP
#define D	BT_USE_DIGEST
#define W	BT_USE_WATCHDOG
#define ALL	BT_USE_ALL
#define KEY(name, kind, def, min, max, users, help) \
	{ name, kind, def, min, max, users, help, NULL, NULL, "", false }
#define SECTION(title, name, kind, def, min, max, users, help) \
	{ name, kind, def, min, max, users, help, title, NULL, "", false }

static struct key keys[] = {
	SECTION("Files and time",
	"BT_HOME", K_PATH, "/var/lib/bt", 0, 0, ALL,
	    "the data directory: db/, run/, logs/, backups/, results/"),
	KEY("BT_DB", K_PATH, "", 0, 0, ALL,
	    "the store, when not $BT_HOME/db/crypto_agent.db"),
	KEY("BT_STATE", K_PATH, "", 0, 0, ALL,
	    "bt's state file, when not $BT_HOME/db/bt_state.db"),
	KEY("BT_NOW", K_TIME, "", 0, 0, ALL,
	    "a frozen current time (ISO 8601 UTC), for tests and replays"),
	SECTION("What to keep current",
	"BT_SYMBOLS", K_SYMBOLS, DEFAULT_SYMBOLS, 0, 0, ALL,
	    "symbols to keep current (default: 60 liquid USDT pairs)"),
	KEY("BT_TIMEFRAMES", K_TFS, "1d 4h 1h 15m", 0, 0, F | V | B | D | W,
	    "timeframes to keep current, of 1d 4h 1h 15m"),
	KEY("BT_SINCE_DAYS", K_INT, "365", 1, 36500, F | B,
	    "days of history a new pair gets"),
	KEY("BT_REPAIR_DAYS", K_INT, "7", 1, 3650, F,
	    "the default window of bt-fetch --repair, days"),
	KEY("BT_PRICE_JUMP_MAX", K_NUM, "10", 1, 1e12, F,
	    "a price this many times the previous close, or 1/this, is a "
	    "WARNING"),
	SECTION("Binance and the network",
	"BT_BINANCE_URL", K_URL, "https://api.binance.com", 0, 0, F,
	    "Binance spot API (http only on a loopback address)"),
	KEY("BT_BINANCE_FUTURES_URL", K_URL, "https://fapi.binance.com", 0, 0,
	    F, "Binance USD-M futures API, for the sentiment source"),
	KEY("BT_FRED_URL", K_URL, "https://api.stlouisfed.org", 0, 0, F,
	    "FRED API, for the macro source"),
	KEY("BT_TELEGRAM_URL", K_URL, "https://api.telegram.org", 0, 0, D | W,
	    "Telegram Bot API"),
	KEY("BT_RETRY_DELAYS", K_DELAYS, "5,15,45", 0, 0, F | D,
	    "seconds between tries (tries = waits + 1), up to 10% jitter"),
	KEY("BT_SOURCE_RETRY_DELAYS", K_DELAYS, "10,30,60", 0, 0, F,
	    "the same for the sentiment and macro sources"),
	KEY("BT_RETRY_AFTER_MIN", K_NUM, "1", 0, 600, F | D,
	    "floor of an honoured Retry-After, seconds"),
	KEY("BT_RETRY_AFTER_MAX", K_NUM, "600", 0, 86400, F | D,
	    "ceiling of an honoured Retry-After, seconds"),
	KEY("BT_CIRCUIT_BREAKER", K_INT, "3", 1, 1000, F,
	    "pairs failing in a row on transport errors before bt-fetch stops"),
	KEY("BT_WEIGHT_LIMIT", K_INT, "6000", 1, 1000000000, F,
	    "Binance's request weight per minute"),
	KEY("BT_WEIGHT_SHARE", K_NUM, "0.5", 0.01, 1, F,
	    "the share of that weight bt-fetch may use"),
	KEY("BT_PACE_WAIT_MAX", K_NUM, "60", 0, 600, F,
	    "longest wait for the weight to fall, seconds"),
	KEY("BT_HTTP_CONNECT_TIMEOUT", K_NUM, "10", 0.001, 600, F | D | W,
	    "seconds to connect"),
	KEY("BT_HTTP_TIMEOUT", K_NUM, "30", 0.001, 3600, F | D | W,
	    "seconds for a whole request"),
	KEY("BT_HTTP_LOW_SPEED_TIME", K_INT, "10", 1, 3600, F | D | W,
	    "seconds a stalled transfer may last"),
	KEY("BT_HTTP_MAX_BODY_MB", K_INT, "64", 1, 4096, F | D | W,
	    "the largest answer accepted, MB"),
	KEY("BT_FETCH_DEADLINE", K_NUM, "780", 0, 86400, F,
	    "seconds a candle run of bt-fetch may take (0: no bound)"),
	KEY("BT_CLOCK_SKEW_MAX", K_NUM, "2", 0.001, 3600, F,
	    "seconds Binance's clock may be off ours (also bt-preflight's)"),
	SECTION("SQLite and the write lock",
	"SQLITE_WAL_MODE", K_BOOL, "1", 0, 1, ALL,
	    "must be 1: WAL is required"),
	KEY("SQLITE_CACHE_MB", K_INT, "10", 1, 65536, ALL,
	    "page cache per connection, MB"),
	KEY("SQLITE_BUSY_TIMEOUT_MS", K_INT, "10000", 0, 3600000, ALL,
	    "SQLite's busy timeout, ms"),
	KEY("BT_WRITE_LOCK_WAIT", K_NUM, "60", 0, 3600, ALL,
	    "seconds to wait for run/write.lock before exit 75"),
	SECTION("Staleness and coverage (the seed's names)",
	"STALENESS_ALERT_THRESHOLD_D1_DAYS", K_NUM, "7", 0.001, 3650,
	    F | V | T | D | W, "a 1d pair is current within this many days"),
	KEY("STALENESS_ALERT_THRESHOLD_H4_HOURS", K_NUM, "24", 0.001, 87600,
	    F | V | T | D | W, "a 4h pair is current within this many hours"),
	KEY("STALENESS_ALERT_THRESHOLD_H1_HOURS", K_NUM, "6", 0.001, 87600,
	    F | V | T | D | W, "a 1h pair is current within this many hours"),
	KEY("STALENESS_ALERT_THRESHOLD_M15_MINUTES", K_NUM, "120", 0.001,
	    5256000, F | V | T | D | W,
	    "a 15m pair is current within this many minutes"),
	KEY("BT_COVERAGE_MIN", K_NUM, "0.95", 0, 1, F | V | W,
	    "share of pairs that must be current; below it is CRITICAL"),
	SECTION("Slots of the daily jobs, UTC (for --if-due)",
	"BT_VALIDATE_SLOT", K_SLOT, "01:00", 0, 0, V,
	    "the daily validation"),
	KEY("BT_VALIDATE_FULL_SLOT", K_SLOT, "sun 01:00", 0, 0, V,
	    "the weekly full validation"),
	KEY("BT_BACKUP_SLOT", K_SLOT, "03:00", 0, 0, B, "the daily backup"),
	KEY("BT_VACUUM_SLOT", K_SLOT, "sun 03:00", 0, 0, B,
	    "the weekly vacuum"),
	KEY("BT_TEST_RESTORE_SLOT", K_SLOT, "1 05:00", 0, 0, B,
	    "the monthly restore test"),
	SECTION("The daily backtest (the seed's names)",
	"BACKTEST_ENABLED", K_BOOL, "1", 0, 1, T | W,
	    "1 runs the daily backtest"),
	KEY("BACKTEST_START_HOUR", K_INT, "23", 0, 23, T | W,
	    "its hour, UTC (tries again one and two hours later)"),
	KEY("BACKTEST_START_MINUTE", K_INT, "30", 0, 59, T | W, "its minute"),
	KEY("BACKTEST_TIMEOUT_MINUTES", K_NUM, "120", 0.001, 1440, T | W,
	    "minutes before it stops itself"),
	KEY("BACKTEST_RESULTS", K_PATH, "", 0, 0, T | D | W,
	    "the results file, when not $BT_HOME/results/backtest_results.json"),
	KEY("BACKTEST_TIMEFRAME", K_BAR, "4h", 0, 0, T,
	    "the bars the daily job tests: a stored timeframe or a multiple"),
	KEY("BACKTEST_CANDLES", K_INT, "250", 2, 100000000, T,
	    "candles per symbol the daily job reads"),
	KEY("BACKTEST_STRATEGY", K_STR, "sma-cross", 0, 0, T,
	    "the daily job's strategy"),
	KEY("BACKTEST_PARAMS", K_LIST, "", 0, 0, T,
	    "its parameters, key=value pairs"),
	KEY("BACKTEST_SIGNALS", K_PATH, "", 0, 0, T,
	    "a signals file: the job backtests those signals instead"),
	KEY("BACKTEST_CASH", K_NUM, "10000", 0.01, 1e15, T, "starting cash"),
	KEY("BACKTEST_FEE_BPS", K_NUM, "10", 0, 1000, T,
	    "fee per fill, basis points"),
	KEY("BACKTEST_FEE_FIXED", K_NUM, "0", 0, 1e9, T,
	    "fixed fee per fill, in the quote currency"),
	KEY("BACKTEST_SLIPPAGE_BPS", K_NUM, "2", 0, 1000, T,
	    "slippage per fill, basis points"),
	KEY("BACKTEST_SHORT", K_BOOL, "0", 0, 1, T, "1 allows short positions"),
	KEY("BACKTEST_SIZE", K_NUM, "1", 0.000001, 1, T,
	    "share of equity an order uses"),
	KEY("BACKTEST_LOT", K_NUM, "0.00000001", 0, 1e9, T,
	    "the smallest quantity an order is rounded down to"),
	KEY("BACKTEST_MIN_SHARPE", K_NUM, "0.5", -1e6, 1e6, T,
	    "acceptance bar of signals_validated: Sharpe at least"),
	KEY("BACKTEST_MAX_DRAWDOWN_PCT", K_NUM, "25", 0, 1e6, T,
	    "acceptance bar: max drawdown at most, %"),
	KEY("BACKTEST_MIN_TRADES", K_INT, "3", 0, 1e9, T,
	    "acceptance bar: trades at least"),
	KEY("BACKTEST_EQUITY_PLOT", K_PATH, BT_SHAREDIR "/scripts/equity.gp", 0, 0, T,
	    "the gnuplot script that draws results/equity.png; empty: none"),
	KEY("BT_HEARTBEAT_SECONDS", K_NUM, "30", 0, 60, T,
	    "how often the job rewrites run/backtest.status"),
	KEY("HEALTH_PROBE_INTERVAL_SECONDS", K_INT, "60", 60, 86400, W,
	    "the health probe's interval; a multiple of 60 (cron's minute)"),
	SECTION("Alerting (bt-digest(1))",
	"TELEGRAM_BACKTEST_CHANNEL", K_STR, "", 0, 0, D | W,
	    "the chat of every severity without a chat of its own"),
	KEY("TELEGRAM_CHAT_CRITICAL", K_STR, "", 0, 0, D | W,
	    "the chat of CRITICAL alerts (id, or @channel)"),
	KEY("TELEGRAM_CHAT_WARNING", K_STR, "", 0, 0, D | W,
	    "the chat of the hourly WARNING batch"),
	KEY("TELEGRAM_CHAT_INFO", K_STR, "", 0, 0, D | W,
	    "the chat of the daily digest"),
	KEY("TELEGRAM_CRITICAL_TIMEOUT", K_INT, "120", 1, 3600, D,
	    "seconds within which a CRITICAL must be sent"),
	KEY("TELEGRAM_BOT_TOKEN_FILE", K_PATH, "", 0, 0, D | W,
	    "file holding the bot token, mode 0600, owned by the bt user"),
	KEY("TELEGRAM_BOT_TOKEN", K_SECRET, "", 0, 0, D,
	    "the token itself, for ad hoc use only: use the _FILE key here"),
	KEY("FRED_API_KEY_FILE", K_PATH, "", 0, 0, F,
	    "file holding the FRED API key, mode 0600"),
	KEY("FRED_API_KEY", K_SECRET, "", 0, 0, F,
	    "the key itself, for ad hoc use only: use the _FILE key here"),
	KEY("BT_HEARTBEAT_URL", K_STR, "", 0, 0, W,
	    "a dead-man's ping URL, pinged while the alert path is healthy"),
	KEY("BT_ALERT_MAX_DELAY", K_NUM, "300", 1, 86400, W,
	    "seconds an unsent CRITICAL may wait before the alert path fails"),
	KEY("BT_DIGEST_MAX_FAILURES", K_INT, "3", 1, 1440, W,
	    "bt-digest runs failing in a row before the alert path fails"),
	SECTION("bt-fetch: market context and the indicator table",
	"BT_FUTURES_SYMBOL_MAP", K_LIST, "", 0, 0, F,
	    "SPOT=FUTURES pairs where the futures symbol differs"),
	KEY("BT_SENTIMENT_PERIOD", K_STR, "1h", 0, 0, F,
	    "period of the futures statistics"),
	KEY("BT_SENTIMENT_DAYS", K_INT, "30", 1, 30, F,
	    "days of sentiment a first run catches up"),
	KEY("BT_SENTIMENT_SLOT", K_SLOT, "02:00", 0, 0, F,
	    "the daily sentiment job"),
	KEY("BT_FRED_SERIES", K_LIST, "DGS10 DFF DTWEXBGS VIXCLS T10Y2Y", 0, 0,
	    F, "FRED series of the macro job"),
	KEY("BT_MACRO_DAYS", K_INT, "365", 1, 36500, F,
	    "days of macro data a first run catches up"),
	KEY("BT_MACRO_SLOT", K_SLOT, "02:00", 0, 0, F, "the daily macro job"),
	KEY("BT_INDICATORS", K_BOOL, "1", 0, 1, F,
	    "1 keeps the indicator table indicadores_tecnico current"),
	KEY("BT_IND_TIMEFRAMES", K_TFS, "1d 4h 1h", 0, 0, F,
	    "timeframes of the indicator table"),
	KEY("BT_IND_SMA", K_LIST, "20 50 200", 0, 0, F, "SMA periods"),
	KEY("BT_IND_EMA", K_LIST, "12 26", 0, 0, F, "EMA periods"),
	KEY("BT_IND_RSI", K_LIST, "14", 0, 0, F, "RSI periods"),
	KEY("BT_IND_BB", K_LIST, "20x2", 0, 0, F,
	    "Bollinger bands, PERIODxDEVIATIONS"),
	KEY("BT_IND_ATR", K_LIST, "14", 0, 0, F, "ATR periods"),
	KEY("BT_IND_MACD", K_LIST, "12 26 9", 0, 0, F,
	    "MACD fast, slow, signal"),
	SECTION("bt-validate and bt-backup",
	"BT_ACCEPTED_GAPS", K_STR, "", 0, 0, V,
	    "gaps known to be real, SYMBOL/TF/FROM/TO entries"),
	KEY("BT_VALIDATE_MAX_FINDINGS", K_INT, "20", 1, 1000000, V,
	    "findings listed per kind and pair"),
	KEY("BT_BACKUP_OFFSITE_DIR", K_PATH, "", 0, 0, B,
	    "a directory off the machine for the weekly backups"),
	KEY("BT_BACKUP_OFFSITE_CMD", K_STR, "", 0, 0, B,
	    "a command that ships a weekly backup off the machine"),
	KEY("BT_SQLITE3", K_PATH, "sqlite3", 0, 0, B,
	    "the sqlite3 shell used for salvage"),
	KEY("BT_RESTORE_KEEP_DAMAGED", K_INT, "2", 1, 1000, B,
	    "damaged copies a restore keeps; older ones go after a restore"),
	KEY("BT_VACUUM_STEP_PAGES", K_INT, "256", 1, 1000000, B,
	    "pages one step of an incremental --vacuum frees, in its own "
	    "transaction"),
	KEY("BT_VACUUM_PAUSE_MS", K_NUM, "100", 0, 60000, B,
	    "ms between two steps of an incremental --vacuum, the write lock "
	    "free"),
	SECTION("How bt sees the live trader",
	"BT_TRADER_PIDFILE", K_PATH, "", 0, 0, B | W,
	    "the live trader's pid file"),
	KEY("BT_TRADER_HEARTBEAT", K_PATH, "", 0, 0, B | W,
	    "a file the live trader touches (or writes a time into)"),
	KEY("BT_TRADER_HEARTBEAT_MAX_AGE", K_INT, "120", 1, 86400, B | W,
	    "seconds after which that heartbeat counts as dead"),
	SECTION("bt-digest: the volume policy",
	"BT_DIGEST_MAX_PER_HOUR", K_INT, "10", 1, 10000, D,
	    "messages in any rolling hour"),
	KEY("BT_DIGEST_CRITICAL_RESERVE", K_INT, "2", 0, 10000, D,
	    "of those, kept for CRITICAL"),
	KEY("BT_DIGEST_MAX_PARTS", K_INT, "3", 1, 100, D,
	    "parts of one split message"),
	KEY("BT_DIGEST_REPEAT_MINUTES", K_NUM, "60", 0, 10080, D,
	    "a repeated CRITICAL within this many minutes waits like a WARNING"),
	KEY("BT_DIGEST_HOUR", K_INT, "4", 0, 23, D,
	    "hour of the daily digest, UTC"),
	KEY("BT_DIGEST_TIME_BUDGET", K_NUM, "40", 0, 3600, D,
	    "seconds a run may spend waiting on Telegram"),
	KEY("BT_DIGEST_PICTURE", K_BOOL, "0", 0, 1, D,
	    "1 sends the daily backtest's equity curve before the digest"),
	KEY("BT_DIGEST_PICTURE_FILE", K_PATH, "results/equity.png", 0, 0, D,
	    "that picture, a PNG (relative to BT_HOME)"),
	SECTION("bt-watchdog: the probe and the decision matrix",
	"BT_WATCHDOG_JOBS", K_LIST, "bt-fetch:60:60 bt-validate:1440:120 "
	    "bt-backup:1440:120 bt-backtest:1440:240 bt-digest/daily:1440:120 "
	    "bt-fetch/sentiment:1440:120 bt-fetch/macro:1440:120", 0, 0, W,
	    "dead-man's switches, prog[/job]:period:grace in minutes"),
	KEY("BT_WATCHDOG_REPEAT_HOURS", K_NUM, "4", 0, 8760, W,
	    "a lasting problem is raised again this often"),
	KEY("BT_WATCHDOG_GDB", K_BOOL, "1", 0, 1, W,
	    "1 dumps a hung backtest's stack with gdb when installed"),
	KEY("BT_BACKTEST_LOG", K_PATH, "logs/bt-backtest.jsonl", 0, 0, W,
	    "the backtest's JSON-lines log, for FLAKY"),
	KEY("BT_BACKTEST_HUNG_SECONDS", K_INT, "120", 1, 86400, W,
	    "a heartbeat older than this is HUNG"),
	KEY("BT_BACKTEST_STALL_GRACE_MINUTES", K_NUM, "15", 0, 1440, W,
	    "past its timeout plus this, a run is STALLED"),
	KEY("BT_BACKTEST_MISSED_MINUTES", K_NUM, "15", 0, 1440, W,
	    "a slot passed this long ago with no run is DEAD"),
	KEY("BT_BACKTEST_KILL_WAIT", K_NUM, "30", 0, 600, W,
	    "seconds between SIGTERM and SIGKILL"),
	KEY("BT_BACKTEST_MAX_RESTARTS", K_INT, "3", 0, 1000, W,
	    "restarts in 24 h before the backtest is paused"),
	KEY("BT_BACKTEST_RESTART_CMD", K_STR, "", 0, 0, W,
	    "a command that restarts the backtest at once (none: next slot)"),
	KEY("BT_BACKTEST_CPU_PCT", K_NUM, "90", 1, 100000, W,
	    "CPU share that, lasting, counts as a hang"),
	KEY("BT_BACKTEST_CPU_MINUTES", K_NUM, "10", 0, 1440, W,
	    "for this many minutes"),
	KEY("BT_AUTO_REFETCH", K_BOOL, "1", 0, 1, W,
	    "1 re-runs the update when data is stale"),
	KEY("BT_REFETCH_CMD", K_STR, "bt-fetch --repair 7", 0, 0, W,
	    "the command it runs"),
	KEY("BT_REFETCH_INTERVAL_MINUTES", K_NUM, "30", 0, 10080, W,
	    "minutes between re-fetches"),
	KEY("BT_REFETCH_MAX_FAILURES", K_INT, "3", 1, 1000, W,
	    "re-fetches before a person must look"),
	KEY("BT_AUTO_RESTORE", K_BOOL, "1", 0, 1, W,
	    "1 restores a corrupt store once the live trader is down"),
	KEY("BT_RESTORE_CMD", K_STR, "bt-backup --restore", 0, 0, W,
	    "the command it runs"),
	KEY("BT_AUTO_ROLLBACK", K_BOOL, "0", 0, 1, W,
	    "1 rolls the store back 48 h when the restart budget trips"),
	KEY("BT_ROLLBACK_CMD", K_STR, "bt-backup --rollback 48", 0, 0, W,
	    "the command it runs"),
	KEY("BT_HEARTBEAT_TIMEOUT", K_NUM, "10", 0.001, 600, W,
	    "seconds the heartbeat ping may take"),
	KEY("BT_DISK_MIN_FREE_MB", K_NUM, "64", 0, 1e9, W,
	    "free space under BT_HOME below which the disk check fails, MB"),
	KEY("BT_PROM_FILE", K_PATH, "", 0, 0, W,
	    "metrics for node_exporter's textfile collector, *.prom (none: off)"),
	KEY("BT_PROM_GROUP", K_STR, "prometheus", 0, 0, W,
	    "the group of BT_PROM_FILE (node_exporter's)"),
	{ NULL, K_STR, NULL, 0, 0, 0, NULL, NULL, NULL, "", false }
};
#undef F
#undef V
#undef T
#undef B
#undef D
#undef W
#undef ALL

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
	char **list, tmp[BT_ERRLEN], unit;
	long bars;
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
		/* node_exporter reads *.prom only: any other name is never
		 * scraped, and nobody would notice. */
		if (strcmp(k->name, "BT_PROM_FILE") == 0 && *v != '\0' &&
		    (strlen(v) < 6 || strcmp(v + strlen(v) - 5, ".prom") != 0 ||
		    *v != '/')) {
			snprintf(why, len, "'%s' is not an absolute path ending "
			    "in .prom (node_exporter's textfile collector reads "
			    "only *.prom)", v);
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
			snprintf(why, len, "'%s' is not %s", v,
			    k->kind == K_INT ? "an integer" : "a number");
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
	case K_BAR:
		if (bt_tf_parse(v, &bars, &unit) == -1) {
			snprintf(why, len, "'%s' is not a bar size (1h, 2h, 3d, "
			    "1w, 1M: a number, then m, h, d, w or M)", v);
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

/* ------------------------------------------------------------- problems */

/*
 * What loading found wrong, kept for the programs that report it
 * (bt-watchdog and bt-digest raise events from these; bt(7),
 * CONFIGURATION).  A fixed table: a file with more problems than this is
 * reported by its first ones.
 */
#define MAXPROBLEMS 32
static struct bt_conf_problem problems[MAXPROBLEMS];
static size_t	 nproblems;
static bool	 tolerant;	/* keep running on a bad value: its default */
static int	 status;	/* BT_EX_CONFIG once a key we read was bad */

static unsigned
my_use(void)
{
	static const struct {
		const char *prog;
		unsigned use;
	} progs[] = {
		{ "bt-fetch", BT_USE_FETCH }, { "bt-validate", BT_USE_VALIDATE },
		{ "bt-backtest", BT_USE_BACKTEST }, { "bt-backup", BT_USE_BACKUP },
		{ "bt-digest", BT_USE_DIGEST }, { "bt-watchdog", BT_USE_WATCHDOG },
	};
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (strcmp(bt_prog(), progs[i].prog) == 0)
			return progs[i].use;
	return BT_USE_ALL;	/* tools and tests: everything matters */
}

/* Levenshtein distance, capped: the nearest known key of a typo. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[72], prev, tmp;

	if (la > 70 || lb > 70)
		return 1000;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < d[j] ?
			    (prev < d[j - 1] ? prev : d[j - 1]) :
			    (d[j] < d[j - 1] ? d[j] : d[j - 1]));
			prev = tmp;
		}
	}
	return d[lb];
}

/* The known key nearest to `name', when it is near enough to be meant. */
static const char *
nearest(const char *name)
{
	const struct key *k, *best = NULL;
	size_t d, bestd = 1000, n = strlen(name);

	for (k = keys; k->name != NULL; k++)
		if ((d = distance(name, k->name)) < bestd) {
			bestd = d;
			best = k;
		}
	/* A third of the name may be wrong, and at least two letters. */
	return best != NULL && bestd <= (n / 3 > 2 ? n / 3 : 2) ? best->name :
	    NULL;
}

static void
problem(int kind, const char *where, const char *key, unsigned users,
    const char *why)
{
	struct bt_conf_problem *p;

	if (users & my_use())
		status = BT_EX_CONFIG;
	if (nproblems == MAXPROBLEMS)
		return;
	p = &problems[nproblems++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->users = users;
	p->mine = (users & my_use()) != 0;
	snprintf(p->where, sizeof(p->where), "%s", where);
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->why, sizeof(p->why), "%s", why);
	if (kind == BT_CONF_UNKNOWN && nearest(key) != NULL)
		snprintf(p->near, sizeof(p->near), "%s", nearest(key));
}

size_t
bt_conf_problems(const struct bt_conf_problem **out)
{
	*out = problems;
	return nproblems;
}

void
bt_conf_tolerate(void)
{
	tolerant = true;
}

int
bt_conf_status(void)
{
	return status;
}

char *
bt_conf_users(unsigned users, char *buf, size_t len)
{
	static const char *names[] = { "bt-fetch", "bt-validate",
	    "bt-backtest", "bt-backup", "bt-digest", "bt-watchdog" };
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < 6; i++)
		if (users & (1u << i))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
			    "%s%s", n ? ", " : "", names[i]);
	return buf;
}

/* ---------------------------------------------------------------- loading */

/*
 * Parses KEY=VALUE lines from buf (NUL-terminated, len bytes); `name' is
 * for messages.  *secret_inside tells whether a secret was set directly.
 * An unknown key is a warning; a line that is not KEY=VALUE is a problem
 * of every program (what was meant cannot be known), recorded like a bad
 * value: only bt_conf_check() decides who stops.
 */
int
bt_conf_parse(const char *name, char *buf, size_t len, bool *secret_inside,
    char *err)
{
	char *line, *next, *eq, *key, *val, from[160], why[256];
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
		snprintf(from, sizeof(from), "%s:%d", name, lineno);
		if ((eq = strchr(line, '=')) == NULL) {
			problem(BT_CONF_BAD, from, "", BT_USE_ALL,
			    "not KEY=VALUE");
			bt_warnx("%s: not KEY=VALUE", from);
			continue;
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
			problem(BT_CONF_UNKNOWN, from, key, 0, "unknown key");
			if (nearest(key) != NULL)
				snprintf(why, sizeof(why), " (did you mean %s?)",
				    nearest(key));
			else
				why[0] = '\0';
			bt_warnx("%s: unknown key %s (ignored)%s", from, key,
			    why);
			continue;
		}
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

/*
 * Every key's value against its kind and bt's policy.  A bad value stops
 * the programs that read that key (BT_EX_CONFIG, naming where it came
 * from); the others run on.  A tolerant program (bt_conf_tolerate(): the
 * alert path) runs on with the key's default and exits 78 afterwards, so
 * that it can still report what is wrong.
 */
int
bt_conf_check(char *err)
{
	struct key *k;
	char why[256], msg[BT_ERRLEN];
	size_t i;
	int rc = 0;

	for (i = 0; i < nproblems; i++)
		if (problems[i].kind == BT_CONF_BAD && problems[i].mine &&
		    rc == 0) {
			snprintf(err, BT_ERRLEN, "%s: %s", problems[i].where,
			    problems[i].why);
			rc = BT_EX_CONFIG;
		}
	for (k = keys; k->name != NULL; k++) {
		if (check(k, k->val, why, sizeof(why)) == 0 &&
		    check_policy(k, k->val, why, sizeof(why)) == 0)
			continue;
		snprintf(msg, sizeof(msg), "%s: %s", k->name, why);
		problem(BT_CONF_BAD, k->from, k->name, k->users, msg);
		k->bad = true;
		if (!(k->users & my_use()))
			continue;
		if (rc == 0) {
			snprintf(err, BT_ERRLEN, "%s: %s: %s", k->from,
			    k->name, why);
			rc = BT_EX_CONFIG;
		}
	}
	/*
	 * Where the files are cannot fall back to a default: that would be
	 * another installation's, or none.  Even the alert path stops.
	 */
	for (k = keys; k->name != NULL; k++)
		if (k->bad && (strcmp(k->name, "BT_HOME") == 0 ||
		    strcmp(k->name, "BT_DB") == 0 ||
		    strcmp(k->name, "BT_STATE") == 0))
			return rc;
	if (rc != 0 && tolerant) {
		bt_warnx("%s (running on with the defaults of the keys in "
		    "error; exit 78 at the end)", err);
		for (k = keys; k->name != NULL; k++)
			if (k->bad)
				set(k, k->def, "default");
		return 0;
	}
	return rc;
}

void
bt_conf_reset(void)
{
	struct key *k;

	for (k = keys; k->name != NULL; k++) {
		set(k, k->def, "default");
		k->bad = false;
	}
	nproblems = 0;
	status = 0;
}

int
bt_conf_load(char *err)
{
	struct key *k;
	const char *path, *env;
	char from[160];
	int64_t ms;
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
	if ((rc = bt_conf_check(err)) != 0)
		return rc;
	/* BT_NOW from the file counts too (bt_init() saw only the env). */
	if (*bt_conf("BT_NOW") != '\0' &&
	    bt_parse_time(bt_conf("BT_NOW"), &ms) == 0)
		bt_set_now(ms);
	return 0;
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
bt_conf_list(const char *key, char ***out)
{
	return bt_list_split(bt_conf(key), out);
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

/*
 * etc/bt.conf.example: every key of the table, commented out with its
 * default and its line of help, under the table's headings.  Generated
 * (make etc/bt.conf.example), so it cannot drift from the table.
 */
void
bt_conf_example(FILE *fp)
{
	const struct key *k;
	char users[128];

	fprintf(fp, "# bt.conf - the configuration of bt(7): KEY=VALUE lines, "
	    "read from\n# $BT_CONF (default /etc/bt/bt.conf).  The environment "
	    "overrides this file,\n# and options override both.  Lists are "
	    "comma- or space-separated.\n#\n# Generated from the key table in "
	    "src/bt_conf.c; every key is shown\n# commented out with its "
	    "default.  The programs in brackets read a key:\n# a bad value "
	    "stops only them, and bt-digest and bt-watchdog run on with\n# "
	    "the default and report it.  An unknown key is a warning.\n");
	for (k = keys; k->name != NULL; k++) {
		if (k->section != NULL)
			fprintf(fp, "\n# ---- %s\n", k->section);
		if (k->users == BT_USE_ALL)
			snprintf(users, sizeof(users), "all programs");
		else
			bt_conf_users(k->users, users, sizeof(users));
		fprintf(fp, "\n# %s [%s]\n#%s=%s\n", k->help, users, k->name,
		    k->def);
	}
}

int
bt_start(const char *prog, int argc, char *argv[], void (*usage)(FILE *, int))
{
	char err[BT_ERRLEN];
	int rc;

	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init(prog, err)) != 0 || (rc = bt_conf_load(err)) != 0)
		bt_warnx("%s", err);
	return rc;
}

bool
bt_common_opt(int ch, const char *arg, struct bt_common *c, int *rc)
{
	char err[BT_ERRLEN];

	*rc = 0;
	switch (ch) {
	case 'd':
		if ((*rc = bt_conf_set("BT_DB", arg, err)) != 0)
			bt_warnx("%s: %s", arg, err);
		return true;
	case 'n':
		c->dry = true;
		return true;
	case 'q':
		c->quiet = true;
		return true;
	case 'v':
		c->verbose = true;
		return true;
	}
	return false;
}
