#!/bin/sh
# bt-fetch against a Binance test server on loopback, serving the real
# BTCUSDT and ETHUSDT 1h candles of 2024-11..2025-05 (4h and 1d aggregated
# as Binance does), with every fault the server can make.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_NOW=$NOW
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db

# fresh: an empty BT_HOME and a server without faults.
fresh() {
	rm -rf $BT_HOME
	ctl binance '{}'
	: >$TRASH/binance.log
}
count() {	# count SYMBOL VIEW
	sql $DB "select count(*) from $2 where symbol='$1'"
}
newest() {	# newest SYMBOL VIEW
	sql $DB "select max(timestamp) from $2 where symbol='$1'"
}
klines() {	# klines requests in the server log
	grep -c '"/api/v3/klines"' $TRASH/binance.log || true
}

test_expect_success 'a first run fetches from --since; only closed candles' '
	fresh &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	test "$(count BTCUSDT ohlcv_h1)" = 732 &&
	test "$(count BTCUSDT ohlcv_h4)" = 183 &&
	test "$(count ETHUSDT ohlcv_d1)" = 30 &&
	test "$(newest BTCUSDT ohlcv_h1)" = 1748689200000 &&
	test "$(newest BTCUSDT ohlcv_h4)" = 1748678400000 &&
	test "$(newest BTCUSDT ohlcv_d1)" = 1748563200000 &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\" and .tf==\"1h\") | .rows==732 and .received==732 and .requests==1 and .first==1746057600000 and .last==1748689200000" &&
	json_has out "select(.event==\"summary\") | .coverage==1 and .current==6 and .rows==(732+183+30)*2 and .exit==0" &&
	test "$(klines)" = 6
'

test_expect_success 'values stored equal the server'"'"'s real candles' '
	python3 - $DATA/vision/BTCUSDT-1h-2025-05.csv $DB <<-EOF
	import csv, sqlite3, sys
	db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
	n = 0
	for r in csv.reader(open(sys.argv[1])):
	    t = int(r[0]) // 1000
	    g = db.execute("select open, high, low, close, volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp=?", (t,)).fetchone()
	    if g is None:
	        continue
	    assert list(g) == [float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[6]) // 1000, float(r[7]), int(r[8]), float(r[9]), float(r[10])], (r, g)
	    n += 1
	assert n == 732, n
	EOF
'

test_expect_success 'a second run changes nothing: one request per pair' '
	sum=$(sql $DB "select total(open+close+volume), count(*) from ohlcv_h1") &&
	: >$TRASH/binance.log &&
	test_expect_code 0 bt-fetch >out &&
	json_has out "select(.event==\"summary\") | .rows==0 and .exit==0" &&
	test "$(klines)" = 6 &&
	test "$(sql $DB "select total(open+close+volume), count(*) from ohlcv_h1")" = "$sum"
'

test_expect_success 'time moves on: only newly closed candles come in' '
	ctl binance "{\"now\":\"2025-05-31T15:30:00Z\"}" &&
	BT_NOW=2025-05-31T15:30:00Z test_expect_code 0 bt-fetch >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"ETHUSDT\" and .tf==\"1h\") | .rows==3" &&
	json_has out "select(.event==\"pair\" and .symbol==\"ETHUSDT\" and .tf==\"4h\") | .rows==0" &&
	test "$(newest ETHUSDT ohlcv_h1)" = 1748700000000
'

test_expect_success 'paging follows the last open time returned' '
	fresh &&
	test_expect_code 0 bt-fetch --tf 1h --symbols BTCUSDT --since 2024-11-01 >out &&
	json_has out "select(.event==\"pair\") | .rows==5076 and .requests==6" &&
	jq -r "select(.path==\"/api/v3/klines\") | .query.startTime" $TRASH/binance.log >starts &&
	test "$(sed -n 2p starts)" = $((1730419200000 + 999 * 3600000 + 1)) &&
	test "$(count BTCUSDT ohlcv_h1)" = 5076
'

test_expect_success 'dirty ranges and the run are recorded in the state file' '
	test "$(sql $ST "select min(from_ms), max(to_ms) from dirty where symbol=\"BTCUSDT\" and tf=\"1h\"")" = "1730419200000|1748689200000" &&
	test "$(sql $ST "select exit from runs where prog=\"bt-fetch\" order by id desc limit 1")" = 0
'

test_expect_success '429 with Retry-After is retried and succeeds' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"interval\":\"1h\",\"fault\":\"status\",\"code\":429,\"retry_after\":0}]}" &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\" and .tf==\"1h\") | .retries==1 and .rows==732" &&
	json_has out "select(.event==\"summary\") | .retries==1"
'

test_expect_success '500 twice, then the answer: stored, two retries' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"ETHUSDT\",\"interval\":\"4h\",\"fault\":\"status\",\"code\":500,\"times\":2}]}" &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"ETHUSDT\" and .tf==\"4h\") | .retries==2 and .rows==183"
'

test_expect_success '5xx on every try: that pair fails, the others do not; coverage is CRITICAL, 69' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"ETHUSDT\",\"interval\":\"1h\",\"fault\":\"status\",\"code\":503,\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"ETHUSDT\" and .tf==\"1h\") | .status==\"failed\" and .requests==4 and .retries==3" &&
	json_has out "select(.event==\"fetch_failed\") | .severity==\"WARNING\" and .symbol==\"ETHUSDT\" and (.message|test(\"HTTP 503\"))" &&
	json_has out "select(.event==\"coverage\") | .severity==\"CRITICAL\" and .coverage < 0.95" &&
	test "$(count ETHUSDT ohlcv_h1)" = 0 && test "$(count ETHUSDT ohlcv_h4)" = 183 &&
	test "$(sql $ST "select count(*) from events where kind=\"coverage\" and severity=\"CRITICAL\"")" = 1
'

test_expect_success 'a clean rerun heals it' '
	ctl binance "{}" &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	test "$(count ETHUSDT ohlcv_h1)" = 732
'

# libcurl itself resends a request once when a reused connection turns out
# dead, so a single reset is invisible: the reset comes twice.
test_expect_success 'a stall past the timeout, a reset and a truncated body are retried' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"interval\":\"1d\",\"fault\":\"stall\",\"seconds\":6},{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"interval\":\"4h\",\"fault\":\"reset\",\"times\":2},{\"path\":\"/api/v3/klines\",\"symbol\":\"ETHUSDT\",\"interval\":\"1d\",\"fault\":\"truncate\"}]}" &&
	BT_HTTP_TIMEOUT=1.5 test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\" and .tf==\"1d\") | .retries==1 and .rows==30" &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\" and .tf==\"4h\") | .retries==1 and .rows==183" &&
	json_has out "select(.event==\"pair\" and .symbol==\"ETHUSDT\" and .tf==\"1d\") | .retries==1 and .rows==30"
'

# bad_page FAULT MESSAGE: that pair is refused whole, with the reason.
bad_page() {
	fresh
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"interval\":\"4h\",\"fault\":\"$1\",\"times\":-1}]}"
	test_expect_code 65 bt-fetch --since 2025-05-01 >out
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\" and .tf==\"4h\") | .status==\"failed\" and .rows==0 and (.error|test(\"$2\"))"
	test "$(count BTCUSDT ohlcv_h4)" = 0
	test "$(count BTCUSDT ohlcv_h1)" = 732
}

test_expect_success 'a malformed row: nothing of the page is stored' '
	bad_page malformed_row "row 1: not a 12-field kline"
'
test_expect_success 'a wrong type: nothing of the page is stored' '
	bad_page wrong_type "row 1: open is not a decimal string"
'
test_expect_success 'an unparsable number: nothing of the page is stored' '
	bad_page unparsable "row 1: open is not a decimal string"
'
test_expect_success 'rows out of order: nothing of the page is stored' '
	bad_page out_of_order "row 2: open time .* is out of order"
'
test_expect_success 'a duplicated row: nothing of the page is stored' '
	bad_page duplicate "row 2: open time .* repeats"
'
test_expect_success 'high below low: nothing of the page is stored' '
	bad_page high_below_low "row 1: high .* is below low"
'
test_expect_success 'a row outside the requested window: nothing stored' '
	bad_page outside_window "outside the requested window"
'

test_expect_success 'an HTML error page is reported as such' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"interval\":\"1d\",\"fault\":\"html\",\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\" and .tf==\"1d\" and .symbol==\"BTCUSDT\") | .error|test(\"HTTP 502 \\\\(an HTML page\\\\)\")"
'

test_expect_success 'an invalid symbol: code and message, left out of coverage, one warning a day' '
	fresh &&
	BT_SYMBOLS="BTCUSDT ETHUSDT FOOUSDT" test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"FOOUSDT\") | .status==\"failed\" and (.error|test(\"Binance error -1121: Invalid symbol.\"))" &&
	json_has out "select(.event==\"not_trading\") | .symbol==\"FOOUSDT\" and .severity==\"WARNING\"" &&
	json_has out "select(.event==\"summary\") | .counted==6 and .current==6" &&
	BT_SYMBOLS="BTCUSDT ETHUSDT FOOUSDT" test_expect_code 0 bt-fetch >out2 &&
	! grep -q not_trading out2 &&
	test "$(sql $ST "select count(*) from events where kind=\"not_trading\"")" = 1
'

test_expect_success 'a delisted symbol (BREAK) is warned about and left out of coverage' '
	fresh &&
	ctl binance "{\"delisted\":[\"ETHUSDT\"],\"delisted_at\":\"2025-05-10T00:00:00Z\"}" &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"not_trading\") | .symbol==\"ETHUSDT\" and .status==\"BREAK\"" &&
	json_has out "select(.event==\"summary\") | .counted==3 and .current==3 and .exit==0"
'

test_expect_success '418: the ban is recorded, exit 75; later runs do not call Binance' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"fault\":\"status\",\"code\":418,\"retry_after\":600}]}" &&
	test_expect_code 75 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"banned\") | .severity==\"CRITICAL\" and .until==\"2025-05-31T12:40:00Z\"" &&
	test "$(klines)" = 1 &&
	test_expect_code 75 bt-fetch >out &&
	json_has out "select(.event==\"banned\") | .until==\"2025-05-31T12:40:00Z\"" &&
	test "$(klines)" = 1 &&
	BT_NOW=2025-05-31T12:41:00Z test_expect_code 0 bt-fetch --since 2025-05-01 >out
'

test_expect_success 'the circuit breaker stops after 3 pairs fail on transport errors' '
	fresh &&
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"fault\":\"reset\",\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"circuit_breaker\") | .severity==\"CRITICAL\"" &&
	test "$(jq -c "select(.event==\"pair\") | [.status, .requests]" out | sort | uniq -c | tr -s " ")" = " 3 [\"failed\",4]" &&
	test "$(klines)" -ge 12
'

test_expect_success '--repair re-fetches the last days and corrects a changed candle' '
	fresh &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >/dev/null &&
	sqlite3 $DB "update candles set c=c+1 where pair=(select id from pairs where symbol=\"BTCUSDT\" and tf=\"1h\") and slot=1748649600000/3600000" &&
	test_expect_code 0 bt-fetch --repair 2 --tf 1h >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | .rows==1 and .received==48" &&
	json_has out "select(.event==\"summary\") | .mode==\"repair\" and .rows==1"
'

test_expect_success '--gaps fetches exactly the ranges of gap records, ignoring other lines' '
	sqlite3 $DB "delete from candles where pair=(select id from pairs where symbol=\"ETHUSDT\" and tf=\"1h\") and slot between 1746100800000/3600000 and 1746111600000/3600000" &&
	test "$(count ETHUSDT ohlcv_h1)" = 728 &&
	: >$TRASH/binance.log &&
	printf "%s\n" "{\"event\":\"summary\",\"gaps\":1}" "not json" \
	    "{\"ts\":\"x\",\"prog\":\"bt-validate\",\"event\":\"gap\",\"symbol\":\"ETHUSDT\",\"tf\":\"1h\",\"from\":1746100800000,\"to\":1746111600000}" |
	    test_expect_code 0 bt-fetch --gaps >out &&
	json_has out "select(.event==\"pair\") | .symbol==\"ETHUSDT\" and .rows==4 and .received==4 and .requests==1" &&
	test "$(count ETHUSDT ohlcv_h1)" = 732 &&
	test "$(jq -r .query.endTime $TRASH/binance.log | grep -v null)" = 1746111600000
'

test_expect_success 'a bad gap record exits 65 with its line' '
	printf "%s\n" "{\"symbol\":\"eth\",\"tf\":\"1h\",\"from\":1,\"to\":2}" |
	    test_expect_code 65 bt-fetch --gaps >out 2>err &&
	grep -q "stdin:1: bad gap record: symbol is not a Binance symbol" err
'

test_expect_success 'the request weight is paced below the configured share' '
	fresh &&
	BT_WEIGHT_LIMIT=10 BT_WEIGHT_SHARE=0.5 test_expect_code 0 bt-fetch -v --since 2025-05-01 >out 2>err &&
	grep -q "request weight .* used; waiting" err &&
	json_has out "select(.event==\"summary\") | .coverage==1"
'

test_expect_success 'events printed are the events recorded' '
	for id in $(jq -r "select(.event_id) | .event_id" out); do
		test "$(sql $ST "select count(*) from events where event_id=\"$id\"")" = 1 || exit 1
	done
'

test_expect_success 'a reader never fails while bt-fetch writes' '
	fresh
	test_expect_code 0 bt-fetch --tf 1d --since 2025-05-30 >/dev/null
	bt-fetch --since 2024-11-01 >/dev/null 2>&1 &
	writer=$!
	i=0 fails=0
	while kill -0 $writer 2>/dev/null || [ $i -lt 20 ]; do
		sqlite3 -readonly -cmd ".timeout 10000" $DB "select count(*) from ohlcv_h1" >/dev/null || fails=$((fails + 1))
		i=$((i + 1))
	done
	test_expect_code 0 wait $writer
	say "reads: $i, failed: $fails" &&
	test $fails = 0 && test $i -ge 20
'

test_done
