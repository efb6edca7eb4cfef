#!/bin/sh
# External signals as JSON lines (contracts.md): a signal stamped at bar t
# fills at bar t+1's open; signals that reproduce a built-in strategy give
# its very lines; look-ahead and malformed signals exit 65 naming the line.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
DB=$BT_HOME/db/crypto_agent.db
H4=14400000

test_expect_success 'setup: a store with BTC and ETH 4h' '
	bt-fetch --import $DATA/freqtrade/BTC_USDT-4h.json $DATA/freqtrade/ETH_USDT-4h.json >/dev/null
'

test_expect_success 'a signal at bar t fills at the open of bar t+1' '
	t=$(sql $DB "select timestamp from ohlcv_h4 where symbol=\"BTCUSDT\" order by timestamp desc limit 1 offset 50") &&
	t2=$(sql $DB "select timestamp from ohlcv_h4 where symbol=\"BTCUSDT\" order by timestamp desc limit 1 offset 20") &&
	printf "{\"symbol\":\"BTCUSDT\",\"timestamp\":%s,\"position\":1}\n{\"symbol\":\"BTCUSDT\",\"timestamp\":%s,\"position\":0}\n" $t $t2 >sig.jsonl &&
	test_expect_code 0 bt-backtest --signals sig.jsonl --fee 0 --slippage 0 --trades tr.csv >out &&
	json_has out "select(.event==\"symbol\") | .symbol==\"BTCUSDT\" and .strategy==\"signals\" and .trades==1" &&
	open1=$(sql $DB "select open from ohlcv_h4 where symbol=\"BTCUSDT\" and timestamp=$t+$H4") &&
	open2=$(sql $DB "select open from ohlcv_h4 where symbol=\"BTCUSDT\" and timestamp=$t2+$H4") &&
	test "$(sed -n 2p tr.csv | cut -d, -f5)" = "$open1" &&
	test "$(sed -n 2p tr.csv | cut -d, -f7)" = "$open2" &&
	json_has out "select(.event==\"symbol\") | .signal.timestamp==$t2 and .signal.position==0"
'

test_expect_success 'signals that restate sma-cross give the same metrics as sma-cross' '
	test_expect_code 0 bt-backtest --symbols BTCUSDT,ETHUSDT --equity eq.csv --last 400 >builtin &&
	awk -F, "NR>1 && \$2!=\"PORTFOLIO\" { if (s==\$2 && pf!=\"\" && ps!=\"\") {
		if (pf<ps && \$7>\$8) print \$1, \$2, 1; else if (pf>ps && \$7<\$8) print \$1, \$2, 0 }
		s=\$2; pf=\$7; ps=\$8 }" eq.csv >cross.txt &&
	test "$(wc -l <cross.txt)" -gt 10 &&
	while read ts sym pos; do
		printf "{\"symbol\":\"%s\",\"timestamp\":\"%s\",\"position\":%s}\n" $sym $ts $pos
	done <cross.txt >cross.jsonl &&
	test_expect_code 0 bt-backtest --signals cross.jsonl --last 400 >ext &&
	jq -c "select(.event==\"symbol\") | del(.ts, .strategy, .params)" builtin >a &&
	jq -c "select(.event==\"symbol\") | del(.ts, .strategy, .params)" ext >b &&
	test_cmp a b
'

test_expect_success 'lines that are not signals are ignored; signals of other symbols too' '
	{ echo "{\"event\":\"summary\",\"exit\":0}"; cat sig.jsonl; } >mixed.jsonl &&
	test_expect_code 0 bt-backtest --signals mixed.jsonl --symbols BTCUSDT,ETHUSDT >out &&
	json_has out "select(.event==\"symbol\" and .symbol==\"ETHUSDT\") | .trades==0 and .signal==null" &&
	json_has out "select(.event==\"summary\") | .signals==2"
'

test_expect_success 'look-ahead: a signal for the bar that has not closed exits 65 with its line' '
	now=$(date -d 2022-10-11T00:00:00Z +%s)000 &&
	{ cat sig.jsonl; printf "{\"symbol\":\"BTCUSDT\",\"timestamp\":%s,\"position\":1}\n" $now; } >ahead.jsonl &&
	test_expect_code 65 bt-backtest --signals ahead.jsonl >out 2>err &&
	grep -q "^bt-backtest: ahead.jsonl:3: look-ahead: the 4h bar opened at 2022-10-11T00:00:00Z closes at 2022-10-11T03:59:59.999Z, after now" err &&
	test ! -s out
'

test_expect_success 'look-ahead in file input: the last bar of a file that is still open' '
	head -11 $DATA/backtesting-py/GOOG.csv >g.csv &&
	echo "{\"symbol\":\"GG\",\"timestamp\":\"2004-09-01\",\"position\":1}" >gs.jsonl &&
	BT_NOW=2004-09-01T12:00:00Z test_expect_code 65 bt-backtest --signals gs.jsonl --symbol GG g.csv 2>err &&
	grep -q "gs.jsonl:1: look-ahead: the GG bar opened at 2004-09-01T00:00:00Z closes at" err &&
	BT_NOW=2004-09-02T00:00:00Z test_expect_code 0 bt-backtest --signals gs.jsonl --symbol GG g.csv >/dev/null
'

test_expect_success 'a timestamp that is no bar open time exits 65 with its line' '
	t=$(jq .timestamp sig.jsonl | head -1) &&
	printf "{\"symbol\":\"BTCUSDT\",\"timestamp\":%s,\"position\":1}\n" $(($t + 1)) >off.jsonl &&
	test_expect_code 65 bt-backtest --signals off.jsonl 2>err &&
	grep -q "off.jsonl:1: timestamp $(($t + 1)) .* is not the open time of a BTCUSDT bar" err
'

test_expect_success 'bad positions, bad JSON, repeats: 65 with the line' '
	t=$(jq .timestamp sig.jsonl | head -1) &&
	echo "{\"symbol\":\"BTCUSDT\",\"timestamp\":$t,\"position\":1.5}" >b1.jsonl &&
	test_expect_code 65 bt-backtest --signals b1.jsonl 2>err && grep -q "b1.jsonl:1: position is missing or outside -1..1" err &&
	echo "{\"symbol\":\"BTCUSDT\",\"timestamp\":$t,\"position\":-0.5}" >b2.jsonl &&
	test_expect_code 65 bt-backtest --signals b2.jsonl 2>err && grep -q "b2.jsonl:1: position -0.5 is short; allow shorts with --short" err &&
	test_expect_code 0 bt-backtest --short --signals b2.jsonl >out &&
	json_has out "select(.event==\"symbol\") | .trades==1" &&
	{ cat sig.jsonl; echo "{\"symbol\":\"BTCUSDT\",\"timestamp\":"; } >b3.jsonl &&
	test_expect_code 65 bt-backtest --signals b3.jsonl 2>err && grep -q "b3.jsonl:3: " err &&
	{ cat sig.jsonl; head -1 sig.jsonl; } >b4.jsonl &&
	test_expect_code 65 bt-backtest --signals b4.jsonl 2>err && grep -q "b4.jsonl:3: repeats the BTCUSDT signal of line 1" err &&
	echo "{\"symbol\":\"btc\",\"timestamp\":$t,\"position\":1}" >b5.jsonl &&
	test_expect_code 65 bt-backtest --signals b5.jsonl 2>err && grep -q "b5.jsonl:1: symbol" err
'

test_expect_success 'signals from stdin; a signal before the window sets its first target' '
	old=$(sql $DB "select timestamp from ohlcv_h4 where symbol=\"ETHUSDT\" order by timestamp desc limit 1 offset 400") &&
	echo "{\"symbol\":\"ETHUSDT\",\"timestamp\":$old,\"position\":0.5}" |
	    test_expect_code 0 bt-backtest --signals - --last 100 --trades t2.csv >out &&
	json_has out "select(.event==\"symbol\") | .trades==1 and .exposure_pct > 98 and .signal.position==0.5" &&
	test "$(sed -n 2p t2.csv | cut -d, -f2)" = long
'

test_done
