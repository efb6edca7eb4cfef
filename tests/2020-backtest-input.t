#!/bin/sh
# bt-backtest's inputs: the store, OHLCV CSV, Binance kline CSV (with and
# without header, ms and us), freqtrade JSON, JSON lines, stdin; the same
# candles give the same lines whatever the format.  Malformed input exits
# 65 naming file, line and reason.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2025-06-01T00:00:00Z
GOOG=$DATA/backtesting-py/GOOG.csv
V=$DATA/vision

# metrics FILE: the symbol lines without the fields that name the source.
metrics() {
	jq -c 'select(.event=="symbol") | del(.ts)' "$1"
}

test_expect_success 'OHLCV CSV with a date column (GOOG.csv)' '
	test_expect_code 0 bt-backtest $GOOG >out &&
	json_has out "select(.event==\"symbol\") | .symbol==\"GOOG\" and .tf==\"1d\" and .bars==2148 and .start==\"2004-08-19T00:00:00Z\""
'

test_expect_success 'JSON lines and stdin give the same lines as the CSV' '
	sed 1d $GOOG | awk -F, "{printf \"{\\\"timestamp\\\":\\\"%s\\\",\\\"open\\\":%s,\\\"high\\\":%s,\\\"low\\\":%s,\\\"close\\\":%s,\\\"volume\\\":%s}\\n\", \$1,\$2,\$3,\$4,\$5,\$6}" >GOOG.jsonl &&
	head -2 GOOG.jsonl | grep -q "^{\"timestamp\":\"2004-08-19\",\"open\":100," &&
	test_expect_code 0 bt-backtest GOOG.jsonl >out2 &&
	metrics out >a && metrics out2 >b && test_cmp a b &&
	test_expect_code 0 bt-backtest --symbol GOOG - <$GOOG >out3 &&
	metrics out3 >c && test_cmp a c
'

test_expect_success 'JSON lines may mix symbols' '
	{ sed "s/^{/{\"symbol\":\"AAA\",/" GOOG.jsonl; sed "s/^{/{\"symbol\":\"BBB\",/" GOOG.jsonl; } >two.jsonl &&
	test_expect_code 0 bt-backtest two.jsonl >out &&
	test "$(jq -r "select(.event==\"symbol\") | .symbol" out | tr "\n" " ")" = "AAA BBB " &&
	json_has out "select(.event==\"portfolio\") | .symbols==2 and .cash==20000"
'

test_expect_success 'Binance kline CSV: headerless, ms then us (2025), months joined' '
	test_expect_code 0 bt-backtest $V/BTCUSDT-1h-2024-11.csv $V/BTCUSDT-1h-2024-12.csv $V/BTCUSDT-1h-2025-01.csv >out &&
	json_has out "select(.event==\"symbol\") | .symbol==\"BTCUSDT\" and .tf==\"1h\" and .bars==(720+744+744) and .start==\"2024-11-01T00:00:00Z\" and .end==\"2025-01-31T23:00:00Z\""
'

test_expect_success 'Binance kline CSV with a header, and the 2023-03-24 gap' '
	test_expect_code 0 bt-backtest $DATA/vision-header/BTCUSDT-1h-2023-03.csv >out &&
	json_has out "select(.event==\"symbol\") | .bars==743 and .tf==\"1h\""
'

test_expect_success 'freqtrade JSON, and the store, give the same lines' '
	test_expect_code 0 bt-backtest --last 500 $DATA/freqtrade/BTC_USDT-1h.json >f &&
	bt-fetch --import $DATA/freqtrade/BTC_USDT-1h.json >/dev/null &&
	BT_NOW=2022-10-11T00:00:00Z test_expect_code 0 bt-backtest --symbols BTCUSDT --tf 1h --last 500 >s &&
	json_has s "select(.event==\"symbol\") | .bars==500 and .warmup==8260" &&
	metrics f | jq -c "del(.passed, .reasons)" >a && metrics s | jq -c "del(.passed, .reasons)" >b && test_cmp a b
'

test_expect_success '--from and --to select the window; the warm-up comes before it' '
	BT_NOW=2022-10-11T00:00:00Z test_expect_code 0 bt-backtest --symbols BTCUSDT --tf 1h --from 2022-05-01 --to 2022-05-31T23:00:00Z >out &&
	json_has out "select(.event==\"symbol\") | .bars==744 and .start==\"2022-05-01T00:00:00Z\" and .end==\"2022-05-31T23:00:00Z\" and .warmup > 4000"
'

test_expect_success 'a bad number: exit 65, file:line: reason' '
	sed "5s/,111.6,/,1l1.6,/" $GOOG >bad1.csv && grep -q 1l1 bad1.csv &&
	test_expect_code 65 bt-backtest bad1.csv 2>err &&
	grep -q "^bt-backtest: bad1.csv:5: .*is not a number" err
'

test_expect_success 'high below low, a date out of order, a short row: 65 with the line' '
	sed "3s/^2004-08-20,101.01,109.08,/2004-08-20,101.01,99.08,/" $GOOG >bad2.csv &&
	test_expect_code 65 bt-backtest bad2.csv 2>err && grep -q "^bt-backtest: bad2.csv:3: " err &&
	sed "4s/^2004-08-23/2004-08-01/" $GOOG >bad3.csv &&
	test_expect_code 65 bt-backtest bad3.csv 2>err && grep -q "bad3.csv:4: date 2004-08-01 is out of order" err &&
	sed "6s/,[0-9]*\$//" $GOOG >bad4.csv &&
	test_expect_code 65 bt-backtest bad4.csv 2>err && grep -q "bad4.csv:6: 5 fields, the header has 6" err
'

test_expect_success 'bad JSON lines and bad kline CSV: 65 with the line' '
	{ head -2 GOOG.jsonl; echo "{\"timestamp\":1,"; } >bad.jsonl &&
	test_expect_code 65 bt-backtest bad.jsonl 2>err && grep -q "bad.jsonl:3: " err &&
	{ head -2 GOOG.jsonl; echo "{\"timestamp\":\"2004-08-25\",\"open\":1}"; } >bad2.jsonl &&
	test_expect_code 65 bt-backtest bad2.jsonl 2>err && grep -q "bad2.jsonl:3: needs timestamp, open, high, low and close" err &&
	cut -d, -f1-11 $V/ETHUSDT-1h-2025-02.csv >ETHUSDT-1h-x.csv &&
	test_expect_code 65 bt-backtest ETHUSDT-1h-x.csv 2>err && grep -q "ETHUSDT-1h-x.csv:1: 11 fields, expected 12" err
'

test_expect_success 'missing file 66; empty file and mixed intervals 65; unnamed file 64' '
	test_expect_code 66 bt-backtest nothere.csv 2>err && grep -q "nothere.csv" err &&
	: >empty.csv && test_expect_code 65 bt-backtest empty.csv &&
	test_expect_code 65 bt-backtest $GOOG $V/BTCUSDT-1h-2024-11.csv 2>err && grep -q "one interval per run" err &&
	cp $GOOG "my data.csv" && test_expect_code 64 bt-backtest "my data.csv"
'

test_expect_success 'a missing store exits 66, a pair not in it is a WARNING' '
	BT_DB=$TRASH/none.db test_expect_code 66 bt-backtest &&
	BT_NOW=2022-10-11T00:00:00Z test_expect_code 0 bt-backtest --symbols BTCUSDT,DOGEUSDT --tf 1h >out &&
	json_has out "select(.event==\"no_data\") | .severity==\"WARNING\" and .symbol==\"DOGEUSDT\"" &&
	json_has out "select(.event==\"summary\") | .skipped==1 and .done==2" &&
	BT_NOW=2022-10-11T00:00:00Z test_expect_code 66 bt-backtest --symbols DOGEUSDT --tf 1h
'

test_done
