#!/bin/sh
# Numbers that parse are not always prices (issue "A week of chaos with
# nothing lost"): a price or volume above 1e18 ("1e308") is refused with
# its page; the indicator table stays finite over a stored candle that is
# not a price; a price more than BT_PRICE_JUMP_MAX from the close before
# it is stored with a WARNING; futures rows of another contract and FRED
# observations outside the window asked for are refused.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_BINANCE_FUTURES_URL=$binance_URL
export BT_NOW=$NOW BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES=1h
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db

fresh() {
	rm -rf $BT_HOME
	ctl binance "${1:-{\}}"
}
count() {	# count SYMBOL
	sql $DB "select count(*) from ohlcv_h1 where symbol='$1'"
}
# set ROW VALUES: the BTCUSDT 1h page's row ROW gets VALUES (field: value).
set_fault() {
	fresh "{\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"fault\":\"set\",\"row\":$1,\"values\":$2,\"times\":-1}]}"
}

test_expect_success '"1e308" as high and close: the page is refused, 65' '
	set_fault 5 "{\"2\":\"1e308\",\"4\":\"1e308\"}" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | .status==\"failed\" and (.error|test(\"row 6: high 1e\\\\+308 is above 1e\\\\+18\"))" &&
	test "$(count BTCUSDT)" = 0 &&
	test "$(count ETHUSDT)" = 36
'

test_expect_success '"1e308" as a volume, or as a quote volume: refused' '
	set_fault 0 "{\"5\":\"1e308\"}" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | .error|test(\"volume 1e\\\\+308\")" &&
	set_fault 0 "{\"7\":\"2e18\"}" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | .error|test(\"quote volume 2e\\\\+18\")" &&
	test "$(count BTCUSDT)" = 0
'

test_expect_success 'a price of 0 or a negative volume: refused as before' '
	set_fault 0 "{\"3\":\"0\"}" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | .error|test(\"not positive\")" &&
	set_fault 0 "{\"5\":\"-1\"}" &&
	test_expect_code 65 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"pair\" and .symbol==\"BTCUSDT\") | .error|test(\"negative\")"
'

# A store written before the fix: a candle whose high and close are 1e308.
test_expect_success 'the indicator table stays finite over a stored 1e308' '
	fresh &&
	BT_IND_TIMEFRAMES=1h test_expect_code 0 bt-fetch --since 2025-05-25 >/dev/null &&
	bad=1748390400000 &&
	sqlite3 $DB "update candles set h=1e308, c=1e308 where pair=(select id from pairs where symbol=\"BTCUSDT\" and tf=\"1h\") and slot=$bad/3600000" &&
	BT_IND_TIMEFRAMES=1h test_expect_code 0 bt-fetch --indicators >out &&
	json_has out "select(.event==\"indicators_skipped\") | .severity==\"WARNING\" and .symbol==\"BTCUSDT\" and .candles==1" &&
	test "$(sql $DB "select count(*) from indicadores_tecnico where symbol=\"BTCUSDT\" and timeframe=\"1h\" and timestamp>$bad and (atr_14 is null or abs(atr_14) > 1e9 or abs(sma_20) > 1e9 or abs(bb_upper) > 1e9 or abs(ema_12) > 1e9)")" = 0 &&
	test "$(sql $DB "select count(*) from indicadores_tecnico where symbol=\"BTCUSDT\" and timeframe=\"1h\" and timestamp>$bad")" -gt 50 &&
	t=$((bad + 30 * 3600000)) &&
	test "$(sql $DB "select abs(i.sma_20 - (select avg(close) from (select close from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp<=$t order by timestamp desc limit 20))) < 1e-6 from indicadores_tecnico i where symbol=\"BTCUSDT\" and timeframe=\"1h\" and timestamp=$t")" = 1
'

# The SMA(20) state's running sum (after the BLOB's 8-byte fingerprint,
# the period and the count) made Inf, as a table computed over such a
# candle before would hold it: the next candles recompute the pair.
test_expect_success 'a saved indicator state that is not finite is recomputed' '
	sqlite3 $DB "update ind_state set state = substr(state, 1, 24) || x'"'"'000000000000F07F'"'"' || substr(state, 33) where pair=(select id from pairs where symbol=\"BTCUSDT\" and tf=\"1h\")" &&
	ctl binance "{\"now\":\"2025-05-31T14:30:00Z\"}" &&
	BT_NOW=2025-05-31T14:30:00Z BT_IND_TIMEFRAMES=1h test_expect_code 0 bt-fetch >out &&
	json_has out "select(.event==\"indicators\" and .symbol==\"BTCUSDT\") | .mode==\"full\" and .why==\"state\"" &&
	test -z "$(jq -c "select(.event==\"indicators\" and .symbol==\"ETHUSDT\")" out)" &&
	test "$(sql $DB "select count(*) from indicadores_tecnico where symbol=\"BTCUSDT\" and (abs(sma_20) > 1e9 or abs(atr_14) > 1e9)")" = 0
'

test_expect_success 'a price 85x the close before it: stored, one WARNING for the page' '
	set_fault 10 "{\"1\":\"9000000.00000000\",\"2\":\"9000000.00000000\",\"3\":\"9000000.00000000\",\"4\":\"9000000.00000000\"}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	test "$(count BTCUSDT)" = 36 &&
	test "$(sql $DB "select close from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp=1748563200000+10*3600000")" = 9000000.0 &&
	test "$(grep -c "\"event\":\"price_jump\"" out)" = 1 &&
	json_has out "select(.event==\"price_jump\") | .severity==\"WARNING\" and .symbol==\"BTCUSDT\" and .tf==\"1h\" and .candles==2 and .ratio > 80 and .at==(1748563200000+10*3600000) and (.message|test(\"stored, since crashes are real\"))" &&
	test "$(sql $ST "select count(*) from events where kind=\"price_jump\"")" = 1
'

test_expect_success 'a tenth of the close before it is a jump too; BT_PRICE_JUMP_MAX moves the bar' '
	set_fault 3 "{\"1\":\"9000.00000000\",\"2\":\"9000.00000000\",\"3\":\"9000.00000000\",\"4\":\"9000.00000000\"}" &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	json_has out "select(.event==\"price_jump\") | .field==\"open\" and .price==9000 and (.message|test(\"below the close before it\"))" &&
	set_fault 3 "{\"1\":\"9000.00000000\",\"2\":\"9000.00000000\",\"3\":\"9000.00000000\",\"4\":\"9000.00000000\"}" &&
	BT_PRICE_JUMP_MAX=20 test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	! grep -q price_jump out &&
	BT_PRICE_JUMP_MAX=0.5 test_expect_code 78 bt-fetch 2>err &&
	grep -q BT_PRICE_JUMP_MAX err
'

test_expect_success 'the jump is checked against the stored candle before the page' '
	fresh &&
	test_expect_code 0 bt-fetch --since 2025-05-30 >out &&
	ctl binance "{\"now\":\"2025-05-31T14:30:00Z\",\"faults\":[{\"path\":\"/api/v3/klines\",\"symbol\":\"BTCUSDT\",\"fault\":\"set\",\"row\":0,\"values\":{\"1\":\"900.00000000\",\"2\":\"900.00000000\",\"3\":\"900.00000000\",\"4\":\"900.00000000\"}}]}" &&
	BT_NOW=2025-05-31T14:30:00Z test_expect_code 0 bt-fetch >out &&
	json_has out "select(.event==\"price_jump\") | .at==1748689200000 and .previous > 90000 and .candles==2"
'

SENT_NOW=2025-03-01T12:30:00Z
test_expect_success 'futures rows of another contract are refused (65), the others stored' '
	fresh "{\"now\":\"$SENT_NOW\",\"faults\":[{\"path\":\"/fundingRate\",\"symbol\":\"BTCUSDT\",\"fault\":\"wrong_symbol\",\"times\":-1}]}" &&
	BT_NOW=$SENT_NOW test_expect_code 65 bt-fetch --source sentiment >out &&
	json_has out "select(.event==\"sentiment\" and .symbol==\"BTCUSDT\") | .status==\"failed\" and (.error|test(\"symbol XRPUSDT is not BTCUSDT, the one asked for\"))" &&
	test "$(sql $DB "select count(*) from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"funding_rate\"")" = 0 &&
	test "$(sql $DB "select count(*) from sentimento_mercado where symbol=\"ETHUSDT\" and metric=\"funding_rate\"")" = 90 &&
	fresh "{\"now\":\"$SENT_NOW\",\"faults\":[{\"path\":\"/openInterestHist\",\"symbol\":\"ETHUSDT\",\"fault\":\"wrong_symbol\",\"as\":\"BTCUSDT\",\"times\":-1}]}" &&
	BT_NOW=$SENT_NOW test_expect_code 65 bt-fetch --source sentiment >out &&
	test "$(sql $DB "select count(*) from sentimento_mercado where symbol=\"ETHUSDT\" and metric=\"open_interest\"")" = 0 &&
	test "$(sql $DB "select count(*) from sentimento_mercado where symbol=\"BTCUSDT\" and metric=\"open_interest\"")" = 720
'

KEY=0123456789abcdefghijklmnopqrstuv
start_server fred --data $DATA/fred.json --key $KEY --ctl $TRASH/fred.ctl --now 2025-05-01
printf '%s\n' $KEY >$TRASH/fred.key
chmod 600 $TRASH/fred.key

# macro WHERE: DGS10 comes with an observation outside the window.
macro() {
	rm -rf $BT_HOME
	ctl fred "{\"faults\":[{\"series_id\":\"DGS10\",\"fault\":\"outside_window\",\"where\":\"$1\",\"times\":-1}]}"
	BT_FRED_URL=$fred_URL FRED_API_KEY_FILE=$TRASH/fred.key \
	    BT_NOW=2025-05-01T02:00:00Z BT_FRED_SERIES="DGS10 DFF" \
	    test_expect_code 65 bt-fetch --source macro >out
}

test_expect_success 'a FRED observation before observation_start is refused (65)' '
	macro before &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .status==\"failed\" and (.error|test(\"observation 1 \\\\(2024-04-30\\\\) is outside the window asked for, 2024-05-01 to 2025-05-01\"))" &&
	test "$(sql $DB "select count(*) from macro_data where series=\"DGS10\"")" = 0 &&
	test "$(sql $DB "select count(*) from macro_data where series=\"DFF\"")" = 119
'

test_expect_success 'a FRED observation after today is refused (65)' '
	macro after &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .status==\"failed\" and (.error|test(\"\\\\(2025-05-02\\\\) is outside the window\"))" &&
	test "$(sql $DB "select count(*) from macro_data where series=\"DGS10\"")" = 0
'

test_done
