#!/bin/sh
# Configuration (contracts.md): file, then environment, then options;
# unknown keys warn, malformed known keys exit 78 naming file and line;
# secrets only from owner-only files.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
F=$DATA/freqtrade/BTC_USDT-1d.json

test_expect_success 'an unknown key is a warning naming file and line' '
	printf "# bt\nBT_SINCE_DAYS=30\nNO_SUCH_KEY=1\n" >$BT_CONF &&
	test_expect_code 0 bt-fetch --import $F >out 2>err &&
	grep -q "bt.conf:3: unknown key NO_SUCH_KEY (ignored)" err
'

test_expect_success 'a malformed value of a known key exits 78 naming file and line' '
	printf "BT_SINCE_DAYS=thirty\n" >$BT_CONF &&
	test_expect_code 78 bt-fetch --import $F >out 2>err &&
	grep -q "bt.conf:1: BT_SINCE_DAYS: .thirty. is not an integer" err &&
	test ! -s out
'

test_expect_success 'the environment overrides the file, and is named when wrong' '
	printf "BT_RETRY_DELAYS=5,15,45\n" >$BT_CONF &&
	BT_RETRY_DELAYS=1,x test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "environment BT_RETRY_DELAYS: BT_RETRY_DELAYS: .x. is not a wait" err
'

test_expect_success 'a line without = is refused' '
	printf "BT_SYMBOLS BTCUSDT\n" >$BT_CONF &&
	test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "bt.conf:1: not KEY=VALUE" err
'

# Issue 16: a bad value stops only the programs that read its key, so
# the probe interval (bt-watchdog's) now stops bt-watchdog, not bt-fetch.
test_expect_success 'values bt cannot honour are refused: WAL off, probe not a minute multiple' '
	printf "SQLITE_WAL_MODE=0\n" >$BT_CONF &&
	test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "WAL is required" err &&
	printf "HEALTH_PROBE_INTERVAL_SECONDS=90\n" >$BT_CONF &&
	test_expect_code 78 bt-watchdog -q >out 2>err &&
	grep -q "not a multiple of 60" err &&
	test_expect_code 0 bt-fetch --import $F 2>err
'

test_expect_success 'symbols must match ^[A-Z0-9]{2,20}$, timeframes the four kept' '
	printf "BT_SYMBOLS=BTCUSDT eth-usdt\n" >$BT_CONF &&
	test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "eth-usdt. is not a symbol" err &&
	printf "BT_TIMEFRAMES=1h 2h\n" >$BT_CONF &&
	test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "2h. is not one of 1d 4h 1h 15m" err
'

test_expect_success 'a config file holding a secret must be 0600' '
	printf "TELEGRAM_BOT_TOKEN=123456:ABCdefGHIjklMNOpqrSTUvwx\n" >$BT_CONF &&
	chmod 0644 $BT_CONF &&
	test_expect_code 78 bt-fetch --import $F >out 2>err &&
	grep -q "holds a secret but is mode 644; it must be 0600" err &&
	! grep -q ABCdef err out &&
	chmod 0600 $BT_CONF &&
	test_expect_code 0 bt-fetch --import $F >out 2>err &&
	! grep -q ABCdef err out
'

test_expect_success 'a missing BT_CONF file is an error, the default path is optional' '
	BT_CONF=$TRASH/nope.conf test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "nope.conf" err
'

test_expect_success 'a malformed BT_NOW is a configuration error' '
	: >$BT_CONF &&
	BT_NOW=yesterday test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "BT_NOW: .yesterday. is not an ISO 8601 UTC time" err
'

test_done
