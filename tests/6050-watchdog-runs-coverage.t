#!/bin/sh
# bt-watchdog sees what fails without a dead-man's window (issue 16): a
# job's failed run with its reason, an hourly job whose runs stop, free
# disk space; and it counts coverage by the rule bt-fetch and bt-validate
# use: a symbol Binance reports not TRADING is left out, reported once,
# and the stale-data CRITICAL names the pairs.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:00:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_SYMBOLS="BTCUSDT ETHUSDT" \
    BT_TIMEFRAMES="1h 4h" BT_SINCE_DAYS=10 BACKTEST_ENABLED=0 \
    BT_AUTO_REFETCH=0 BT_WATCHDOG_JOBS=bt-fetch:60:60
ST=$BT_HOME/db/bt_state.db

test_expect_success 'a failed fetch: the next watchdog run says so, with its reason' '
	BT_NOW=$NOW test_expect_code 0 bt-fetch -q >/dev/null &&
	ctl binance "{\"now\":\"2025-05-31T12:05:00Z\",\"faults\":[{\"fault\":\"status\",\"code\":503,\"times\":-1}]}" &&
	BT_NOW=2025-05-31T12:05:00Z test_expect_code 69 bt-fetch -q >/dev/null 2>err &&
	BT_NOW=2025-05-31T12:06:00Z test_expect_code 1 bt-watchdog -q >out &&
	json_has out "select(.check==\"job:bt-fetch\") | .ok==false and .severity==\"WARNING\" and .state==\"failed\" and .exit==69 and (.message|startswith(\"bt-fetch: its last run (started 2025-05-31T12:05:00Z) failed with exit 69: \"))" &&
	test "$(sql $ST "select json_extract(summary, \"\$.error\") is not null from runs where prog=\"bt-fetch\" order by id desc limit 1")" = 1
'

test_expect_success 'an hourly job whose runs stop is missing a quarter hour after it was due' '
	ctl binance "{\"now\":\"2025-05-31T12:10:00Z\"}" &&
	BT_NOW=2025-05-31T12:10:00Z test_expect_code 0 bt-fetch -q >/dev/null &&
	BT_NOW=2025-05-31T13:24:00Z test_expect_code 0 bt-watchdog -q >out &&
	json_has out "select(.check==\"job:bt-fetch\") | .ok" &&
	BT_NOW=2025-05-31T13:26:00Z test_expect_code 1 bt-watchdog -q >out &&
	json_has out "select(.check==\"job:bt-fetch\") | .ok==false and .severity==\"CRITICAL\" and .state==\"missing\" and (.message|contains(\"no run recorded since 2025-05-31T12:10:00Z\"))"
'

test_expect_success 'a symbol not TRADING is left out of coverage alike, and reported once a day' '
	ctl binance "{\"now\":\"2025-05-31T15:00:00Z\",\"status\":{\"ETHUSDT\":\"BREAK\"}}" &&
	BT_NOW=2025-05-31T15:00:00Z test_expect_code 0 bt-fetch -q >out &&
	json_has out "select(.event==\"not_trading\") | .symbol==\"ETHUSDT\" and .severity==\"WARNING\"" &&
	BT_NOW=2025-05-31T15:05:00Z test_expect_code 0 bt-fetch -q >out &&
	! grep -q not_trading out &&
	BT_NOW=2025-06-01T06:00:00Z test_expect_code 1 bt-validate -q --tf "1h 4h" >v &&
	json_has v "select(.event==\"coverage\") | .detail.counted==2 and .detail.current==1" &&
	BT_NOW=2025-06-01T06:00:00Z test_expect_code 1 bt-watchdog -q >out &&
	json_has out "select(.check==\"freshness\") | .ok==false and .severity==\"CRITICAL\" and (.message|startswith(\"data stale: 1 of 2 pairs current\")) and (.message|contains(\"; stale: BTCUSDT 1h (\")) and (.stale|length)==1"
'

test_expect_success 'the coverage CRITICAL of bt-validate names the pairs too' '
	json_has v "select(.event==\"coverage\") | .severity==\"CRITICAL\" and (.message|endswith(\"; stale: BTCUSDT 1h\"))"
'

test_expect_success 'free disk space under its floor is CRITICAL, in plain words' '
	BT_DISK_MIN_FREE_MB=1000000000 BT_NOW=2025-06-01T06:01:00Z \
	    test_expect_code 1 bt-watchdog -q >out &&
	json_has out "select(.check==\"disk\") | .ok==false and .severity==\"CRITICAL\" and .state==\"low\" and (.message|test(\"has [0-9.]+ MB free \\\\(limit 1e\\\\+09 MB, BT_DISK_MIN_FREE_MB\\\\)\"))" &&
	BT_NOW=2025-06-01T06:02:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"disk\") | .ok and .state==\"ok\""
'

test_done
