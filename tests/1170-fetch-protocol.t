#!/bin/sh
# Pages that break the protocol (issue "A week of chaos with nothing
# lost"): a page longer than the limit asked for is refused; a complete
# 200 whose body is cut short, is not JSON, or is Binance's error object
# is tried again like a 5xx, and is bad data (65) when every try breaks
# it; Binance's code and message are reported.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_NOW=$NOW
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES=1h
DB=$BT_HOME/db/crypto_agent.db

# fault RULE: a fresh store, and RULE on BTCUSDT's klines.
fault() {
	rm -rf $BT_HOME
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",$1}]}"
	: >$TRASH/binance.log
}
count() {	# count SYMBOL
	sql $DB "select count(*) from ohlcv_h1 where symbol='$1'"
}
btc() {		# btc FILTER: the BTCUSDT pair line satisfies FILTER
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | $1"
}

test_expect_success 'a page of 1003 rows for limit=1000 is refused, tried again, 65' '
	fault "\"fault\":\"overlong\",\"times\":-1" &&
	test_expect_code 65 bt-fetch --since 2024-11-01 >out &&
	btc ".status==\"failed\" and .rows==0 and .requests==4 and .retries==3 and (.error|test(\"1003 rows for limit=1000: more than asked for\"))" &&
	test "$(count BTCUSDT)" = 0 &&
	test "$(count ETHUSDT)" = 5076
'

test_expect_success 'an over-long page once: the next try is right, every candle stored' '
	fault "\"fault\":\"overlong\",\"skip\":2" &&
	test_expect_code 0 bt-fetch --since 2024-11-01 >out &&
	btc ".status==\"ok\" and .rows==5076 and .retries==1" &&
	test "$(count BTCUSDT)" = 5076
'

test_expect_success 'a complete 200 whose JSON is cut short is tried again and stored' '
	fault "\"fault\":\"cut_body\"" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	btc ".status==\"ok\" and .rows==36 and .requests==2 and .retries==1" &&
	test "$(grep -c "\"fault\":\"cut_body\"" $TRASH/binance.log)" = 1
'

test_expect_success 'a 200 that is not JSON is tried again and stored' '
	fault "\"fault\":\"status\",\"code\":200,\"body\":\"<html>maintenance</html>\",\"times\":2" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	btc ".status==\"ok\" and .rows==36 and .retries==2"
'

test_expect_success 'broken on every try: bad data, 65, the reason of the last' '
	fault "\"fault\":\"cut_body\",\"times\":-1" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	btc ".status==\"failed\" and .requests==4 and .retries==3 and (.error|test(\"^page from 2025-05-30T00:00:00Z: not JSON\"))" &&
	test "$(count BTCUSDT)" = 0 &&
	test "$(count ETHUSDT)" = 36
'

test_expect_success 'Binance'"'"'s error object in a 200: its code and message, tried again' '
	fault "\"fault\":\"status\",\"code\":200,\"body\":{\"code\":-1003,\"msg\":\"Too much request weight used\"},\"times\":-1" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	btc ".status==\"failed\" and .requests==4 and (.error|test(\"Binance error -1003: Too much request weight used\"))" &&
	! grep -q "not an array of klines" out
'

test_expect_success 'bad rows in a well-formed page are not tried again' '
	fault "\"fault\":\"high_below_low\",\"times\":-1" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	btc ".status==\"failed\" and .requests==1 and .retries==0"
'

test_expect_success 'a cut /api/v3/time answer is tried again too' '
	rm -rf $BT_HOME &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/time\",\"fault\":\"cut_body\"}]}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"summary\") | .exit==0 and .retries==1"
'

test_done
