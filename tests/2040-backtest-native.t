#!/bin/sh
# The native engine against tests/unit/native-ref.py, an independent plain
# reading of the execution model and of every metric formula in
# bt-backtest(1); and the warm-up rule against TA-Lib's own numbers.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
FT=$DATA/freqtrade
REF=$BT_SRC/tests/unit/native-ref.py

# signals FILE POS...: one signal every 37 bars of the last 300 4h bars.
signals() {
	_f=$1
	shift
	jq -c --argjson p "$(printf "%s\n" "$@" | jq -s .)" '
	    .[-300:] as $w | [range(0; $p | length)] |
	    .[] as $k | {symbol: "BTCUSDT", timestamp: $w[20 + 37 * $k][0],
	    position: $p[$k]}' $FT/BTC_USDT-4h.json >"$_f"
}

test_expect_success 'long only, whole lots of 0.001, fees and slippage' '
	signals s1.jsonl 1 0 0.6 1 0.2 0 1 &&
	test_expect_code 0 bt-backtest --signals s1.jsonl --last 300 --fee 10 \
	    --slippage 5 --lot 0.001 --trades t1.csv --equity e1.csv \
	    --symbol BTCUSDT $FT/BTC_USDT-4h.json >l1 &&
	python3 $REF $FT/BTC_USDT-4h.json s1.jsonl 300 10 5 0.001 10000 0 l1 t1.csv e1.csv
'

test_expect_success 'long and short, flips, resizes, an open position closed at the end' '
	signals s2.jsonl 1 -0.7 -1 0.5 0 -0.3 1 0.4 &&
	test_expect_code 0 bt-backtest --signals s2.jsonl --last 300 --fee 7.5 \
	    --slippage 3 --lot 0 --short --cash 2500 --trades t2.csv \
	    --equity e2.csv --symbol BTCUSDT $FT/BTC_USDT-4h.json >l2 &&
	python3 $REF $FT/BTC_USDT-4h.json s2.jsonl 300 7.5 3 0 2500 1 l2 t2.csv e2.csv
'

test_expect_success 'the reference can fail: a different fee is caught' '
	test_expect_code 1 python3 $REF $FT/BTC_USDT-4h.json s2.jsonl 300 7 3 0 2500 1 l2 t2.csv e2.csv >o &&
	grep -q MISMATCH o
'

# The first 2200 hours of BTC, the rows tests/data/talib/btc-1h.json holds
# TA-Lib's values for.
FX=$DATA/talib/btc-1h.json

# cmp_ind EQUITY COLUMN CASE OUTPUT SHIFT TOL: the window's column of the
# equity file equals TA-Lib's output for the same bars (the full-history
# computation) to TOL relative; prints how many differ.
cmp_ind() {
	python3 - "$@" "$FX" <<-'PY'
	import csv, json, sys
	ep, col, case, out, shift, tol, fx = sys.argv[1:8]
	f = json.load(open(fx))
	c = [x for x in f["cases"] if "%s %s %s" % (x["name"], json.dumps(x["opt"], sort_keys=True), x["in"][0]) == case][0]
	rows = [r for r in csv.DictReader(open(ep)) if r["symbol"] == "BTCUSDT"]
	n0 = f["rows"] - len(rows)
	bad = 0
	for k, r in enumerate(rows):
	    i = n0 + k - int(shift)
	    want = c["out"][out][i - c["begIndex"]]
	    got = float(r[col])
	    if abs(got - want) > float(tol) * abs(want):
	        bad += 1
	print(bad)
	PY
}

test_expect_success 'setup: a store with the fixture hours' '
	jq -c ".[0:2200]" $FT/BTC_USDT-1h.json >btc2200.json &&
	bt-fetch --import btc2200.json --symbol BTCUSDT --interval 1h >/dev/null
'

export BT_NOW=2022-01-11T00:00:00Z
test_expect_success 'warm-up: window EMA(12), EMA(26) equal TA-Lib on the full history' '
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --strategy ema-cross -p fast=12 -p slow=26 --equity e.csv >o &&
	json_has o "select(.event==\"symbol\") | .bars==300 and .warmup==1900" &&
	test "$(cmp_ind e.csv fast "EMA {\"optInTimePeriod\": 12} close" outReal 0 1e-9)" = 0 &&
	test "$(cmp_ind e.csv slow "EMA {\"optInTimePeriod\": 26} close" outReal 0 1e-9)" = 0 &&
	test "$(cmp_ind e.csv fast "EMA {\"optInTimePeriod\": 12} close" outReal 0 0)" = 0
'

test_expect_success 'warm-up: RSI, Bollinger bands, Donchian channel equal TA-Lib' '
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --strategy rsi --equity r.csv >/dev/null &&
	test "$(cmp_ind r.csv rsi "RSI {\"optInTimePeriod\": 14} close" outReal 0 1e-9)" = 0 &&
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --strategy bbands --equity b.csv >/dev/null &&
	BB="BBANDS {\"optInMAType\": 0, \"optInNbDevDn\": 2, \"optInNbDevUp\": 2, \"optInTimePeriod\": 20} close" &&
	test "$(cmp_ind b.csv upper "$BB" outRealUpperBand 0 1e-9)" = 0 &&
	test "$(cmp_ind b.csv middle "$BB" outRealMiddleBand 0 1e-9)" = 0 &&
	test "$(cmp_ind b.csv lower "$BB" outRealLowerBand 0 1e-9)" = 0 &&
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --strategy donchian --equity d.csv >/dev/null &&
	test "$(cmp_ind d.csv upper "MAX {\"optInTimePeriod\": 20} high" outReal 1 1e-9)" = 0 &&
	test "$(cmp_ind d.csv lower "MIN {\"optInTimePeriod\": 20} low" outReal 1 1e-9)" = 0
'

test_expect_success '--warmup n by the documented bound is within 1e-9; far shorter is not' '
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --warmup 295 --strategy ema-cross -p fast=12 -p slow=26 --equity w.csv >o &&
	json_has o "select(.event==\"symbol\") | .warmup==295" &&
	test "$(cmp_ind w.csv slow "EMA {\"optInTimePeriod\": 26} close" outReal 0 1e-9)" = 0 &&
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --warmup 294 --strategy rsi --equity wr.csv >/dev/null &&
	test "$(cmp_ind wr.csv rsi "RSI {\"optInTimePeriod\": 14} close" outReal 0 1e-9)" = 0 &&
	bt-backtest --symbols BTCUSDT --tf 1h --last 300 --warmup 40 --strategy ema-cross -p fast=12 -p slow=26 --equity w2.csv >/dev/null &&
	test "$(cmp_ind w2.csv slow "EMA {\"optInTimePeriod\": 26} close" outReal 0 1e-9)" -gt 100
'

test_done
