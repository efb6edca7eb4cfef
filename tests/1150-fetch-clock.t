#!/bin/sh
# A wrong server clock stores no open candle (issue "A week of chaos with
# nothing lost"): bt-fetch cuts off at the earlier of Binance's serverTime
# and its own clock, reads a serverTime sent in microseconds as such, and
# warns when the two clocks differ by more than BT_CLOCK_SKEW_MAX.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_NOW=$NOW
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="4h 1h"
DB=$BT_HOME/db/crypto_agent.db
H11=1748689200000	# 2025-05-31T11:00:00Z, the newest closed 1h candle
H12=1748692800000	# 12:00, open at 12:30

fresh() {
	rm -rf $BT_HOME
	ctl binance "$1"
}
newest() {	# newest SYMBOL VIEW
	sql $DB "select max(timestamp) from $2 where symbol='$1'"
}

test_expect_success 'the clocks agree: the open candle is left out, no warning' '
	fresh "{}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	test "$(newest BTCUSDT ohlcv_h1)" = $H11 &&
	! grep -q clock_skew out
'

test_expect_success 'serverTime 2 h ahead: cut at our clock, the partial candle is not stored, a WARNING' '
	fresh "{\"time_offset\":7200000}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	test "$(newest BTCUSDT ohlcv_h1)" = $H11 &&
	test "$(newest ETHUSDT ohlcv_h1)" = $H11 &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where timestamp=$H12")" = 0 &&
	json_has out "select(.event==\"clock_skew\") | .severity==\"WARNING\" and .skew==7200 and .server_time==\"2025-05-31T14:30:00Z\" and (.message|test(\"7200.000 s ahead of this host\"))" &&
	test "$(sql $BT_HOME/db/bt_state.db "select count(*) from events where kind=\"clock_skew\"")" = 1
'

test_expect_success 'serverTime in microseconds: read as such, the open candle left out' '
	fresh "{\"time_unit\":\"us\"}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	test "$(newest BTCUSDT ohlcv_h1)" = $H11 &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where timestamp=$H12")" = 0 &&
	! grep -q clock_skew out
'

test_expect_success 'serverTime 2 h behind: cut at its clock, a WARNING' '
	fresh "{\"time_offset\":-7200000}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	test "$(newest BTCUSDT ohlcv_h1)" = $((H11 - 7200000)) &&
	json_has out "select(.event==\"clock_skew\") | .skew==-7200 and (.message|test(\"behind this host\"))"
'

test_expect_success 'within BT_CLOCK_SKEW_MAX (2 s) no warning; past it one' '
	fresh "{\"time_offset\":1900}" &&
	test_expect_code 0 bt-fetch --since 2025-05-31 >out &&
	! grep -q clock_skew out &&
	fresh "{\"time_offset\":2100}" &&
	test_expect_code 0 bt-fetch --since 2025-05-31 >out &&
	json_has out "select(.event==\"clock_skew\") | .skew==2.1" &&
	BT_CLOCK_SKEW_MAX=3 test_expect_code 0 bt-fetch --since 2025-05-31 >out &&
	! grep -q clock_skew out
'

test_expect_success 'a bad BT_CLOCK_SKEW_MAX is configuration (78)' '
	BT_CLOCK_SKEW_MAX=soon test_expect_code 78 bt-fetch 2>err &&
	grep -q BT_CLOCK_SKEW_MAX err
'

test_done
