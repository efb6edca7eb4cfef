#!/bin/sh
# Signals that match nothing are never silent: each one is counted in
# signals_ignored and said on standard error, and when not one signal
# matches a symbol and bar of the input the run exits 65.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
GOOG=$DATA/backtesting-py/GOOG.csv

sig() {
	printf '{"symbol":"%s","timestamp":"%s","position":%s}\n' "$1" "$2" "$3"
}

test_expect_success 'signals of a symbol the input does not have: 65, said on stderr' '
	sig BTCUSDT 2005-01-03 1 >btc.jsonl &&
	test_expect_code 65 bt-backtest --signals btc.jsonl $GOOG >out 2>err &&
	grep -q "btc.jsonl: no signal names a symbol of the input" err &&
	grep -q "BTCUSDT" err &&
	! grep -q "\"event\":\"symbol\"" out
'

test_expect_success 'some unmatched: counted in signals_ignored, warned, the rest runs' '
	{ sig GOOG 2005-01-03 1; sig FOOUSDT 2005-01-03 1; sig FOOUSDT 2005-02-01 0; } >mix.jsonl &&
	test_expect_code 0 bt-backtest --signals mix.jsonl $GOOG >out 2>err &&
	grep -q "mix.jsonl: 2 of 3 signals name no symbol of the input (FOOUSDT): ignored" err &&
	json_has out "select(.event==\"summary\") | .signals==3 and .signals_ignored==2" &&
	json_has out "select(.event==\"symbol\") | .trades==1"
'

test_expect_success 'signals before the loaded candles: counted and warned; all of them: 65' '
	{ sig GOOG 2005-01-03 1; sig GOOG 2003-01-02 1; } >early.jsonl &&
	test_expect_code 0 bt-backtest --signals early.jsonl $GOOG >out 2>err &&
	grep -q "early.jsonl: 1 signals are before the loaded candles: ignored" err &&
	json_has out "select(.event==\"summary\") | .signals_ignored==1" &&
	sig GOOG 2003-01-02 1 >old.jsonl &&
	test_expect_code 65 bt-backtest --signals old.jsonl $GOOG 2>err &&
	grep -q "old.jsonl: no signal names a bar of the candles" err
'

test_expect_success 'an empty signals file: 65' '
	echo "{\"event\":\"summary\"}" >none.jsonl &&
	test_expect_code 65 bt-backtest --signals none.jsonl $GOOG 2>err &&
	grep -q "none.jsonl: no signals" err
'

test_expect_success 'the store: a symbol without candles leaves its signals ignored' '
	bt-fetch --import $DATA/freqtrade/BTC_USDT-4h.json >/dev/null &&
	t=$(jq ".[-20][0]" $DATA/freqtrade/BTC_USDT-4h.json) &&
	printf "{\"symbol\":\"BTCUSDT\",\"timestamp\":%s,\"position\":1}\n{\"symbol\":\"ETHUSDT\",\"timestamp\":%s,\"position\":1}\n" $t $t >s.jsonl &&
	test_expect_code 0 bt-backtest --signals s.jsonl >out 2>err &&
	json_has out "select(.event==\"no_data\") | .symbol==\"ETHUSDT\"" &&
	json_has out "select(.event==\"summary\") | .signals==2 and .signals_ignored==1"
'

test_done
