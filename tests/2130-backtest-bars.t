#!/bin/sh
# Any bar size.  On the store --tf takes a multiple of a stored timeframe
# (2h, 8h, 12h, 3d, 1w, 1M), built from the finest stored one that divides
# it; a bin with a missing candle is left out with a WARNING, the bin
# still open is dropped.  Files keep --tf as their interval and
# --resample aggregates them, as pandas' resample does (GOOG-W.csv,
# GOOG-MS.csv; tests/unit/bars-test.c checks every column).  Periods per
# year follow the bar size.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
BP=$DATA/backtesting-py
GOOG=$BP/GOOG.csv
FT=$DATA/freqtrade
DB=$BT_HOME/db/crypto_agent.db

# rows EQUITY: time and close of the symbol rows of an equity file.
rows() {
	grep -v PORTFOLIO "$1" | sed 1d | awk -F, '{ print substr($1, 1, 10) "," $6 }' | num
}

# num: date,number lines with the number in one spelling (560.0 is 560).
num() {
	awk -F, '{ printf "%s,%.17g\n", $1, $2 }'
}

test_expect_success 'files: --resample 1w is pandas resample("W") of GOOG, row for row' '
	test_expect_code 0 bt-backtest --resample 1w --strategy hold --equity w.csv $GOOG >w &&
	sed 1d $BP/GOOG-W.csv | cut -d, -f2,6 | num >want &&
	rows w.csv >got && test_cmp want got &&
	json_has w "select(.event==\"symbol\") | .tf==\"1w\" and .bars==446 and .periods_per_year==52.1775"
'

test_expect_success 'files: the backtesting.py mode weeks are the same bins (W-SUN)' '
	test_expect_code 0 bt-backtest --compat backtesting.py --resample 1w --strategy hold --equity wc.csv $GOOG >wc &&
	rows wc.csv >gotc && test_cmp want gotc &&
	json_has wc "select(.event==\"symbol\") | .periods_per_year==52"
'

test_expect_success 'files: --resample 1M is calendar months (pandas MS and M hold the same)' '
	test_expect_code 0 bt-backtest --resample 1M --strategy hold --equity m.csv $GOOG >m &&
	sed 1d $BP/GOOG-MS.csv | cut -d, -f1,5 | num >wantm &&
	rows m.csv >gotm && test_cmp wantm gotm &&
	cut -d, -f2- $BP/GOOG-MS.csv >ms && cut -d, -f2- $BP/GOOG-M.csv >me && test_cmp ms me &&
	json_has m "select(.event==\"symbol\") | .tf==\"1M\" and .periods_per_year==12"
'

test_expect_success 'files: --tf still declares the interval; a bad --resample is 64' '
	test_expect_code 0 bt-backtest --tf 1d $GOOG >d &&
	json_has d "select(.event==\"symbol\") | .tf==\"1d\" and .bars==2148" &&
	test_expect_code 64 bt-backtest --resample 2h $GOOG 2>err &&
	grep -q "do not build 2h" err &&
	test_expect_code 64 bt-backtest --resample 1y $GOOG &&
	test_expect_code 64 bt-backtest --resample 1w 2>err &&
	grep -q "goes with files" err
'

test_expect_success 'setup: a store with BTC 1h and 4h' '
	bt-fetch --import $FT/BTC_USDT-1h.json $FT/BTC_USDT-4h.json >/dev/null
'

test_expect_success 'the store: 2h, 8h, 12h, 3d, 1w, 1M built from the finest stored (1h)' '
	for tf in 2h 8h 12h 3d 1w 1M; do
		test_expect_code 0 bt-backtest --symbols BTCUSDT --tf $tf --last 5 --strategy hold >o.$tf &&
		json_has o.$tf "select(.event==\"symbol\") | .tf==\"$tf\" and .built_from==\"1h\" and .bars==5" || exit 1
	done &&
	json_has o.1w "select(.event==\"symbol\") | .periods_per_year==52.1775 and .start==\"2022-09-05T00:00:00Z\" and .end==\"2022-10-03T00:00:00Z\"" &&
	json_has o.1M "select(.event==\"symbol\") | .periods_per_year==12 and .end==\"2022-09-01T00:00:00Z\"" &&
	json_has o.3d "select(.event==\"symbol\") | .periods_per_year > 121.66 and .periods_per_year < 121.67" &&
	test_expect_code 0 bt-backtest --symbols BTCUSDT --tf 4h --last 5 >o.4h &&
	json_has o.4h "select(.event==\"symbol\") | has(\"built_from\") | not"
'

test_expect_success 'the store: a built day is the aggregate of its hours' '
	test_expect_code 0 bt-backtest --symbols BTCUSDT --tf 1d --last 300 --strategy hold --equity d.csv >o &&
	python3 -c "
import json, datetime
c = {}
for r in json.load(open(\"$FT/BTC_USDT-1h.json\")):
    c[datetime.datetime.utcfromtimestamp(r[0] // 86400000 * 86400).strftime(\"%Y-%m-%d\")] = r[4]
for l in open(\"d.csv\").readlines()[1:]:
    f = l.split(\",\")
    if f[1] == \"BTCUSDT\":
        assert float(f[5]) == c[f[0][:10]], (f, c[f[0][:10]])
"
'

test_expect_success 'the store: a day with a missing hour is left out with a WARNING' '
	t=$(jq ".[5000][0]" $FT/BTC_USDT-1h.json) &&
	sqlite3 $DB "DELETE FROM candles WHERE pair=(SELECT id FROM pairs WHERE tf=\"1h\") AND slot=$t/3600000" &&
	test_expect_code 0 bt-backtest --symbols BTCUSDT --tf 1d --last 400 --strategy hold >o &&
	json_has o "select(.event==\"incomplete_bars\") | .severity==\"WARNING\" and .bars==1 and .built_from==\"1h\" and .first==\"2022-05-07T00:00:00Z\"" &&
	json_has o "select(.event==\"symbol\") | .bars==364"
'

test_expect_success 'the store: the week that has not closed by now is dropped' '
	BT_NOW=2022-10-06T12:00:00Z test_expect_code 0 bt-backtest --symbols BTCUSDT --tf 1w --last 3 --strategy hold >o &&
	json_has o "select(.event==\"symbol\") | .end==\"2022-09-26T00:00:00Z\""
'

test_expect_success 'BACKTEST_TIMEFRAME takes a bar size; a wrong one is 78' '
	BACKTEST_TIMEFRAME=1w test_expect_code 0 bt-backtest --symbols BTCUSDT --last 4 >o &&
	json_has o "select(.event==\"summary\") | .tf==\"1w\"" &&
	BACKTEST_TIMEFRAME=5x test_expect_code 78 bt-backtest --symbols BTCUSDT &&
	test_expect_code 64 bt-backtest --symbols BTCUSDT --tf 1y
'

test_done
