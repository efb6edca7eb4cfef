#!/bin/sh
# bt-fetch --source sentiment against the Binance test server: funding
# rates, open interest, the global long/short account ratio and the taker
# buy/sell ratio of USD-M futures, and the spot 24 h ticker, into
# sentimento_mercado keyed (symbol, metric, timestamp); the 30-day window
# and the catch-up inside it; numbers and strings as timestamps;
# E-notation rates; futures symbols that differ; retries and faults.
. "$(dirname "$0")/lib.sh"

N1=2025-03-01T12:30:00Z
start_server binance --data $DATA/vision --now $N1 --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_BINANCE_FUTURES_URL=$binance_URL
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_NOW=$N1
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db

fresh() {
	rm -rf $BT_HOME
	ctl binance "{\"now\":\"$BT_NOW\"}"
	: >$TRASH/binance.log
}
rows() {	# rows SYMBOL METRIC
	sql $DB "select count(*) from sentimento_mercado where symbol='$1' and metric='$2'"
}
# Every stored value of a symbol against the server's own answers for the
# stored range (asked for here with urllib, page by page): the same times,
# and each value the double its decimal string rounds to.
check_server() {	# check_server SYMBOL [FUTURES_SYMBOL]
	python3 - "$binance_URL" "$DB" "$1" "${2:-$1}" <<-'EOF'
	import json, sqlite3, sys, urllib.request
	url, path, sym, fsym = sys.argv[1:]
	db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
	srcs = [("/fapi/v1/fundingRate", None, "fundingTime", 1000,
	         [("fundingRate", "funding_rate"), ("markPrice", "mark_price")]),
	        ("/futures/data/openInterestHist", "1h", "timestamp", 500,
	         [("sumOpenInterest", "open_interest"),
	          ("sumOpenInterestValue", "open_interest_value")]),
	        ("/futures/data/globalLongShortAccountRatio", "1h", "timestamp", 500,
	         [("longShortRatio", "long_short_ratio"), ("longAccount", "long_account"),
	          ("shortAccount", "short_account")]),
	        ("/futures/data/takerlongshortRatio", "1h", "timestamp", 500,
	         [("buySellRatio", "taker_buy_sell_ratio"), ("buyVol", "taker_buy_vol"),
	          ("sellVol", "taker_sell_vol")])]
	enote = 0
	for path, per, tkey, limit, fields in srcs:
	    lo, hi = db.execute("select min(timestamp), max(timestamp) from sentimento_mercado where symbol=? and metric=?", (sym, fields[0][1])).fetchone()
	    got = []
	    s = lo
	    while True:
	        q = "%s%s?symbol=%s&startTime=%d&endTime=%d&limit=%d" % (url, path, fsym, s, hi, limit)
	        if per:
	            q += "&period=" + per
	        page = json.load(urllib.request.urlopen(q))
	        got += page
	        if len(page) < limit:
	            break
	        s = int(page[-1][tkey]) + 1
	    for key, metric in fields:
	        stored = db.execute("select timestamp, value from sentimento_mercado where symbol=? and metric=? order by timestamp", (sym, metric)).fetchall()
	        want = [(int(r[tkey]), float(r[key])) for r in got]
	        assert stored == want, (sym, metric, len(stored), len(want), [x for x in zip(stored, want) if x[0] != x[1]][:3])
	        enote += sum("E" in r[key] for r in got)
	print(enote)
	EOF
}

test_expect_success 'a first run: every source, the window of 30 days, no coverage judged' '
	fresh &&
	test_expect_code 0 bt-fetch --source sentiment >out &&
	test "$(rows BTCUSDT open_interest)" = 720 &&
	test "$(rows ETHUSDT long_short_ratio)" = 720 &&
	test "$(rows BTCUSDT taker_buy_sell_ratio)" = 720 &&
	test "$(rows BTCUSDT funding_rate)" = 90 &&
	test "$(sql $DB "select min(timestamp), max(timestamp) from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"open_interest\"")" = "1738242000000|1740830400000" &&
	test "$(sql $DB "select count(distinct metric) from sentimento_mercado where symbol=\"ETHUSDT\"")" = 18 &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"BTCUSDT\") | .status==\"ok\" and .futures==\"BTCUSDT\" and .rows==(720*8+90*2) and .requests==7 and .retries==0 and .gaps==0" &&
	json_has out "select(.event==\"ticker\") | .status==\"ok\" and .rows==16 and .requests==1" &&
	json_has out "select(.event==\"summary\") | .mode==\"sentiment\" and .symbols==2 and .failed==0 and .exit==0" &&
	! grep -q "\"coverage\"" out &&
	test "$(sql $ST "select job, exit from runs where prog=\"bt-fetch\"")" = "sentiment|0"
'

test_expect_success 'values stored equal the server'"'"'s, E-notation rates included' '
	e=$(check_server BTCUSDT) && check_server ETHUSDT >/dev/null &&
	test "$e" -gt 0
'

test_expect_success 'the ticker: one row per metric at its closeTime' '
	test "$(sql $DB "select timestamp, value from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"ticker_trades\"")" = "$(curl -s "$binance_URL/api/v3/ticker/24hr?symbol=BTCUSDT" | jq -r "[.closeTime, (.count|tostring)] | join(\"|\")").0" &&
	test "$(sql $DB "select value from sentimento_mercado where symbol=\"ETHUSDT\" and metric=\"ticker_last_price\"")" = "$(curl -s "$binance_URL/api/v3/ticker/24hr?symbol=ETHUSDT" | jq -r ".lastPrice | tonumber")"
'

test_expect_success 'the daily figure: sentimento_diario' '
	test "$(sql $DB "select count(*) from sentimento_diario where symbol=\"BTCUSDT\" and metric=\"open_interest\"")" = 31 &&
	test "$(sql $DB "select n from sentimento_diario where symbol=\"BTCUSDT\" and metric=\"open_interest\" and date=\"2025-02-10\"")" = 24 &&
	test "$(sql $DB "select value from sentimento_diario where symbol=\"BTCUSDT\" and metric=\"open_interest\" and date=\"2025-02-10\"")" = "$(sql $DB "select value from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"open_interest\" and timestamp=1739228400000")" &&
	test "$(sql $DB "select round(total, 10) = round((select sum(value) from sentimento_mercado where symbol=\"ETHUSDT\" and metric=\"funding_rate\" and timestamp/86400000 = 20129), 10) from sentimento_diario where symbol=\"ETHUSDT\" and metric=\"funding_rate\" and date=\"2025-02-10\"")" = 1
'

test_expect_success 'a second run at once: nothing new, one request per source' '
	: >$TRASH/binance.log &&
	test_expect_code 0 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"summary\") | .rows==0 and .requests==9 and .exit==0"
'

test_expect_success 'missed days inside the window are filled on the next run' '
	ctl binance "{\"now\":\"2025-03-04T12:30:00Z\"}" &&
	BT_NOW=2025-03-04T12:30:00Z test_expect_code 0 bt-fetch --source sentiment >out &&
	test "$(rows BTCUSDT open_interest)" = 792 &&
	test "$(sql $DB "select (max(timestamp) - min(timestamp)) / 3600000 + 1 from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"open_interest\"")" = 792 &&
	test "$(rows ETHUSDT funding_rate)" = 99 &&
	json_has out "select(.event==\"sentiment\") | .gaps==0"
'

test_expect_success 'what fell out of the 30-day window is a WARNING with its range' '
	ctl binance "{\"now\":\"2025-04-20T12:30:00Z\"}" &&
	BT_NOW=2025-04-20T12:30:00Z test_expect_code 0 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"sentiment_gap\" and .symbol==\"BTCUSDT\" and .source==\"open_interest\") | .severity==\"WARNING\" and .from==1741093200000 and .to==1742558400000" &&
	test "$(grep -c "\"sentiment_gap\"" out)" = 6 &&
	test "$(rows BTCUSDT open_interest)" = $((792 + 720)) &&
	test "$(sql $DB "select (max(timestamp) - min(timestamp)) / 28800000 + 1 = count(*) from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"funding_rate\"")" = 1 &&
	test "$(sql $ST "select count(*) from events where kind=\"sentiment_gap\"")" = 6
'

test_expect_success 'timestamps as strings are read the same' '
	BT_NOW=2025-04-20T12:30:00Z &&
	cp $DB $TRASH/numbers.db &&
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"2025-04-20T12:30:00Z\",\"string_timestamps\":true}" &&
	BT_NOW=2025-04-20T12:30:00Z test_expect_code 0 bt-fetch --source sentiment >out &&
	curl -s "$binance_URL/futures/data/openInterestHist?symbol=BTCUSDT&period=1h&limit=1" | grep -q "\"timestamp\":\"" &&
	test "$(sql $DB "select count(*) from sentimento_mercado where metric not like \"ticker%\"")" -gt 10000 &&
	test "$(sqlite3 $DB "attach \"$TRASH/numbers.db\" as o; select count(*) from sentimento_mercado a left join o.sentimento_mercado b using (symbol, metric, timestamp) where a.metric not like \"ticker%\" and (b.value is not a.value)")" = 0
'

test_expect_success 'funding every 4 h for some symbols' '
	ctl binance "{\"now\":\"2025-04-20T12:30:00Z\",\"funding_4h\":[\"ETHUSDT\"]}" &&
	rm -rf $BT_HOME &&
	BT_NOW=2025-04-20T12:30:00Z test_expect_code 0 bt-fetch --source sentiment >out &&
	test "$(rows BTCUSDT funding_rate)" = 90 &&
	test "$(rows ETHUSDT funding_rate)" = 180
'

test_expect_success 'a futures symbol that differs: mapped, stored under the spot symbol' '
	ctl binance "{\"now\":\"$N1\",\"futures_alias\":{\"1000BTCUSDT\":\"BTCUSDT\"}}" &&
	rm -rf $BT_HOME && : >$TRASH/binance.log &&
	BT_FUTURES_SYMBOL_MAP="BTCUSDT=1000BTCUSDT" test_expect_code 0 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"BTCUSDT\") | .futures==\"1000BTCUSDT\" and .status==\"ok\"" &&
	test "$(grep -c "\"symbol\": *\"1000BTCUSDT\"" $TRASH/binance.log)" = 7 &&
	test "$(rows BTCUSDT open_interest)" = 720 &&
	test "$(sql $DB "select count(distinct symbol) from sentimento_mercado")" = 2 &&
	check_server BTCUSDT 1000BTCUSDT >/dev/null
'

test_expect_success 'a symbol without futures: one WARNING a day, the run succeeds' '
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/fundingRate\",\"symbol\":\"ETHUSDT\",\"fault\":\"invalid_symbol\",\"times\":-1}]}" &&
	rm -rf $BT_HOME &&
	test_expect_code 0 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"no_futures\") | .symbol==\"ETHUSDT\" and .severity==\"WARNING\"" &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"ETHUSDT\") | .status==\"ok\" and .futures==null and .rows==0" &&
	test "$(rows ETHUSDT ticker_last_price)" = 1 &&
	test_expect_code 0 bt-fetch --source sentiment >out &&
	! grep -q no_futures out
'

test_expect_success 'retries: two 500s are retried; a fourth failure is 69 and a WARNING' '
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/openInterestHist\",\"symbol\":\"BTCUSDT\",\"fault\":\"status\",\"code\":500,\"times\":2}]}" &&
	test_expect_code 0 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"BTCUSDT\") | .status==\"ok\" and .retries==2 and .rows==(720*8+90*2)" &&
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/globalLongShortAccountRatio\",\"symbol\":\"BTCUSDT\",\"fault\":\"status\",\"code\":503,\"times\":-1}]}" &&
	: >$TRASH/binance.log &&
	test_expect_code 69 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"BTCUSDT\") | .status==\"failed\" and .retries==3 and (.error | test(\"HTTP 503\"))" &&
	json_has out "select(.event==\"sentiment_failed\") | .symbol==\"BTCUSDT\" and .severity==\"WARNING\"" &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"ETHUSDT\") | .status==\"ok\"" &&
	test "$(rows BTCUSDT open_interest)" = 720 &&
	test "$(rows BTCUSDT long_short_ratio)" = 0 &&
	test "$(grep -c "globalLongShortAccountRatio.*BTCUSDT" $TRASH/binance.log)" = 4
'

test_expect_success 'the retry waits are BT_SOURCE_RETRY_DELAYS (10,30,60 by default)' '
	BT_SOURCE_RETRY_DELAYS=0,0 test_expect_code 69 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"BTCUSDT\") | .retries==2" &&
	bt-fetch --help 2>&1 | grep -q sentiment &&
	BT_SOURCE_RETRY_DELAYS=x test_expect_code 78 bt-fetch --source sentiment 2>err &&
	grep -q BT_SOURCE_RETRY_DELAYS err
'

test_expect_success 'bad data: a WARNING and 65; the rest is stored' '
	for f in unparsable out_of_order duplicate malformed_row outside_window; do
		rm -rf $BT_HOME &&
		ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/takerlongshortRatio\",\"symbol\":\"ETHUSDT\",\"fault\":\"$f\",\"times\":-1}]}" &&
		test_expect_code 65 bt-fetch --source sentiment >out &&
		json_has out "select(.event==\"sentiment\" and .symbol==\"ETHUSDT\") | .status==\"failed\" and (.error | test(\"takerlongshortRatio\"))" &&
		test "$(rows ETHUSDT taker_buy_sell_ratio)" = 0 &&
		test "$(rows ETHUSDT open_interest)" = 720 &&
		test "$(rows BTCUSDT taker_buy_sell_ratio)" = 720 || { echo "fault $f"; exit 1; }
	done
'

test_expect_success 'an HTML page (200) is bad data, 65; a cut body is retried, then 69' '
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/ticker/24hr\",\"fault\":\"html\",\"code\":200,\"times\":-1}]}" &&
	test_expect_code 65 bt-fetch --source sentiment >out &&
	test "$(sql $DB "select count(*) from sentimento_mercado where metric like \"ticker%\"")" = 0 &&
	test "$(rows BTCUSDT funding_rate)" = 90 &&
	json_has out "select(.event==\"ticker\") | .status==\"failed\" and (.error | test(\"not JSON\"))" &&
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/fundingRate\",\"symbol\":\"ETHUSDT\",\"fault\":\"truncate\",\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch --source sentiment >out &&
	test "$(rows ETHUSDT funding_rate)" = 0 &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"ETHUSDT\") | .status==\"failed\" and .retries==3"
'

test_expect_success 'a 418: the ban is recorded, 75, and the next run asks nothing' '
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/openInterestHist\",\"fault\":\"status\",\"code\":418,\"retry_after\":300}]}" &&
	test_expect_code 75 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"banned\") | .severity==\"CRITICAL\"" &&
	: >$TRASH/binance.log &&
	test_expect_code 75 bt-fetch --source sentiment >out &&
	test "$(requests binance)" = 0
'

test_expect_success 'the circuit breaker: symbols failing on transport end the run' '
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\",\"faults\":[{\"path\":\"/fundingRate\",\"fault\":\"reset\",\"times\":-1}]}" &&
	: >$TRASH/binance.log &&
	BT_SYMBOLS="BTCUSDT ETHUSDT BNBUSDT" BT_CIRCUIT_BREAKER=2 test_expect_code 69 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"circuit_breaker\") | .severity==\"CRITICAL\"" &&
	! grep -q "\"symbol\":\"BNBUSDT\"" $TRASH/binance.log &&
	test "$(requests binance)" = 8
'

test_expect_success '--if-due: at 02:00 and after, once a day' '
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"2025-03-01T01:10:00Z\"}" &&
	BT_NOW=2025-03-01T01:10:00Z test_expect_code 0 bt-fetch --source sentiment --if-due >out &&
	json_has out "select(.event==\"summary\")" &&
	ctl binance "{\"now\":\"2025-03-01T02:10:00Z\"}" &&
	BT_NOW=2025-03-01T02:10:00Z test_expect_code 0 bt-fetch --source sentiment --if-due >out &&
	json_has out "select(.event==\"summary\") | .rows > 0" &&
	BT_NOW=2025-03-01T03:10:00Z test_expect_code 0 bt-fetch --source sentiment --if-due >out &&
	json_has out "select(.event==\"not_due\") | .job==\"sentiment\" and .slot==\"2025-03-01T02:00:00Z\"" &&
	test "$(sql $ST "select count(*) from runs where job=\"sentiment\"")" = 2 &&
	test_expect_code 64 bt-fetch --if-due 2>/dev/null
'

test_expect_success 'configuration errors are 78' '
	BT_SENTIMENT_PERIOD=3h test_expect_code 78 bt-fetch --source sentiment 2>err &&
	grep -q "BT_SENTIMENT_PERIOD: .3h. is not one of" err &&
	BT_FUTURES_SYMBOL_MAP="PEPEUSDT:1000PEPEUSDT" test_expect_code 78 bt-fetch --source sentiment 2>err &&
	grep -q "BT_FUTURES_SYMBOL_MAP: .PEPEUSDT:1000PEPEUSDT. is not SPOT=FUTURES" err &&
	test_expect_code 64 bt-fetch --source weather 2>err
'

test_expect_success 'a 4 h period' '
	rm -rf $BT_HOME &&
	ctl binance "{\"now\":\"$N1\"}" &&
	BT_SENTIMENT_PERIOD=4h test_expect_code 0 bt-fetch --source sentiment >out &&
	test "$(rows BTCUSDT open_interest)" = 180 &&
	grep -q "\"period\": *\"4h\"" $TRASH/binance.log
'

test_done
