#!/bin/sh
# --grid sweeps: one line per combination and symbol, equal to the single
# run's; --shard K/N parts run with GNU parallel merge into the single
# process's output; with BT_NOW a rerun prints the same bytes.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
export BT_SYMBOLS="BTCUSDT ETHUSDT" BACKTEST_TIMEFRAME=1h BACKTEST_CANDLES=2000
GRID="--grid fast=5..20/5 --grid slow=15..40/5"

test_expect_success 'setup: a store with BTC and ETH 1h' '
	bt-fetch --import $DATA/freqtrade/BTC_USDT-1h.json $DATA/freqtrade/ETH_USDT-1h.json >/dev/null
'

test_expect_success 'one line per combination and symbol; fast >= slow is skipped' '
	test_expect_code 0 bt-backtest $GRID >g &&
	test "$(grep -c "\"event\":\"combo\"" g)" = 42 &&
	json_has g "select(.event==\"summary\") | .combos==21 and .bar_steps==84000 and .exit==0" &&
	test "$(jq -c "select(.event==\"combo\") | [.symbol, .params.fast, .params.slow]" g | head -3 | tr -d "\n")" = "[\"BTCUSDT\",5,15][\"BTCUSDT\",5,20][\"BTCUSDT\",5,25]" &&
	! jq -e "select(.event==\"combo\" and .params.fast >= .params.slow)" g >/dev/null
'

test_expect_success 'a combination line equals the single run with its parameters' '
	test_expect_code 0 bt-backtest -p fast=10 -p slow=30 >single &&
	jq -c "select(.event==\"symbol\") | del(.ts, .event, .alpha_pct, .beta, .signal, .passed, .reasons)" single >a &&
	jq -c "select(.event==\"combo\" and .params.fast==10 and .params.slow==30) | del(.ts, .event)" g >b &&
	test "$(wc -l <a)" = 2 &&
	test_cmp a b
'

test_expect_success 'four shards run by GNU parallel merge into the single output' '
	parallel --will-cite -k bt-backtest $GRID --shard {}/4 ::: 1 2 3 4 >p &&
	grep "\"event\":\"combo\"" p >merged &&
	grep "\"event\":\"combo\"" g >whole &&
	test_cmp whole merged &&
	test "$(grep -c "\"event\":\"summary\"" p)" = 4
'

test_expect_success 'any N: the parts are disjoint and cover everything' '
	for k in 1 2 3 4 5 6 7; do bt-backtest $GRID --shard $k/7 -q; done >q &&
	test "$(jq -s "map(.bar_steps) | add" q)" = 84000 &&
	bt-backtest -p fast=10 -p slow=30 --shard 2/2 >half &&
	test "$(jq -r "select(.event==\"combo\") | .symbol" half)" = ETHUSDT
'

test_expect_success 'lines sort with jq' '
	jq -s -c "map(select(.event==\"combo\")) | sort_by(-.sharpe) | .[0] | has(\"params\")" g | grep -qx true
'

test_expect_success 'BT_NOW: reruns print the same bytes (sweep, run, job)' '
	bt-backtest $GRID >g2 && cmp g g2 &&
	bt-backtest --equity e1.csv --trades t1.csv >r1 && bt-backtest --equity e2.csv --trades t2.csv >r2 &&
	cmp r1 r2 && cmp e1.csv e2.csv && cmp t1.csv t2.csv &&
	bt-backtest --job >j1 && cp $BT_HOME/results/backtest_results.json res1 &&
	bt-backtest --job >j2 && cmp j1 j2 && cmp res1 $BT_HOME/results/backtest_results.json
'

test_expect_success 'the other strategies sweep too' '
	test_expect_code 0 bt-backtest --strategy rsi --grid period=7..21/7 --grid lower=20,30 --grid upper=70,80 -q >o &&
	json_has o "select(.event==\"summary\") | .combos==12" &&
	test_expect_code 0 bt-backtest --strategy bbands --grid k=1.5..2.5/0.5 >o &&
	test "$(jq -c "select(.event==\"combo\") | .params.k" o | tr "\n" " ")" = "1.5 2 2.5 1.5 2 2.5 " &&
	test_expect_code 0 bt-backtest --strategy donchian --grid entry=10,20 --grid exit=5,10 -q >o &&
	json_has o "select(.event==\"summary\") | .combos==4" &&
	test_expect_code 0 bt-backtest --strategy ema-cross --compat backtesting.py --grid fast=5,10 -q >o
'

test_expect_success 'bad --grid, --shard, parameters: 64' '
	test_expect_code 64 bt-backtest --grid fast=20..5 &&
	test_expect_code 64 bt-backtest --grid speed=1..3 &&
	test_expect_code 64 bt-backtest --grid fast=2.5..4 &&
	test_expect_code 64 bt-backtest --grid fast=50..60 -p slow=30 &&
	test_expect_code 64 bt-backtest --shard 0/4 &&
	test_expect_code 64 bt-backtest --shard 5/4 &&
	test_expect_code 64 bt-backtest --shard 1-4 &&
	test_expect_code 64 bt-backtest -p fast=40 -p slow=30 &&
	test_expect_code 64 bt-backtest --strategy moon &&
	test_expect_code 64 bt-backtest --strategy rsi -p fast=3 &&
	test_expect_code 64 bt-backtest --last 1 &&
	test_expect_code 64 bt-backtest --from yesterday
'

test_expect_success 'scripts/equity.gp draws an --equity file' '
	if command -v gnuplot >/dev/null 2>&1; then
		gnuplot -e "in=\"e1.csv\"; out=\"p.png\"; sym=\"BTCUSDT\"" $BT_SRC/scripts/equity.gp &&
		gnuplot -e "in=\"e1.csv\"; out=\"q.png\"" $BT_SRC/scripts/equity.gp &&
		test "$(head -c 4 p.png | tail -c 3)" = PNG &&
		test "$(head -c 4 q.png | tail -c 3)" = PNG
	else
		echo "# gnuplot missing: skipped" >&2
	fi
'

test_done
