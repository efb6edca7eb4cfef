#!/bin/sh
# --walk-forward: each window's combination is the grid's best on its
# train segment, its test line equals a single run of that combination
# over the test segment (with the equity the previous test ended with),
# the shards' window lines concatenate to the unsharded ones, and each
# symbol's summary stitches the test segments.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
export BT_SYMBOLS="BTCUSDT ETHUSDT" BACKTEST_TIMEFRAME=1h BACKTEST_CANDLES=3000
FT=$DATA/freqtrade
GRID="--grid fast=5..20/5 --grid slow=30..60/10"
WF="train=600,test=200"

# same A B: A equals B to 1e-9 relative, or both are null.
same() {
	[ "$1" = "$2" ] || awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d;
	    m = b < 0 ? -b : b; exit !(a != "null" && b != "null" && d <= 1e-9 * (m > 1 ? m : 1)) }' || {
		echo "got $1, want $2" >&2
		return 1
	}
}

# sym FILE KEY: KEY of FILE's symbol line.
sym() {
	jq -r "select(.event==\"symbol\") | .$2" "$1"
}

test_expect_success 'setup: a store with BTC and ETH 1h' '
	bt-fetch --import $FT/BTC_USDT-1h.json $FT/ETH_USDT-1h.json >/dev/null
'

test_expect_success 'windows: whole ones only, train then test, moved by test bars' '
	test_expect_code 0 bt-backtest $GRID --walk-forward $WF >wf &&
	test "$(grep -c "\"event\":\"window\"" wf)" = 24 &&
	json_has wf "select(.event==\"summary\") | .windows==24 and .combos==16 and .exit==0" &&
	jq -r "select(.event==\"window\" and .symbol==\"BTCUSDT\") | [.window, .train.bars, .test.bars, .warmup] | @tsv" wf >b &&
	test "$(head -1 b)" = "$(printf "0\t600\t200\t6360")" &&
	test "$(sed -n 12p b)" = "$(printf "11\t600\t200\t8560")" &&
	jq -r "select(.event==\"window\" and .symbol==\"BTCUSDT\") | .train.from" wf | head -1 >first &&
	bt-backtest --symbols BTCUSDT --strategy hold >h && test "$(cat first)" = "$(sym h start)"
'

test_expect_success 'each test line equals a single run of its combination over its test segment' '
	jq -r "select(.event==\"window\") | [.symbol, .params.fast, .params.slow, .test.from, .test.to, .cash, .out_of_sample, .equity_final, .trades] | map(tostring) | join(\" \")" wf >w &&
	test "$(wc -l <w)" = 24 &&
	while read -r s f sl from to cash oos eq n; do
		bt-backtest --symbols $s -p fast=$f -p slow=$sl --from $from --to $to --cash $cash >one &&
		same "$(sym one sharpe)" "$oos" && same "$(sym one equity_final)" "$eq" &&
		test "$(sym one trades)" = "$n" && test "$(sym one bars)" = 200 || exit 1
	done <w
'

test_expect_success 'each choice is the best of the grid on its train segment, the first on a tie' '
	jq -r "select(.event==\"window\" and (.window == 0 or .window == 7)) | [.symbol, .params.fast, .params.slow, .train.from, .train.to, .in_sample] | map(tostring) | join(\" \")" wf >t &&
	test "$(wc -l <t)" = 4 &&
	while read -r s f sl from to is; do
		bt-backtest --symbols $s $GRID --from $from --to $to >g &&
		best=$(jq -s -c "map(select(.event==\"combo\" and .sharpe != null)) | max_by(.sharpe) | .sharpe" g) &&
		first=$(jq -s -c --argjson b "$best" "map(select(.event==\"combo\" and .sharpe == \$b))[0].params | [.fast, .slow]" g) &&
		same "$is" "$best" && test "$first" = "[$f,$sl]" || exit 1
	done <t
'

test_expect_success 'compounding: each test starts with the equity the previous ended with' '
	jq -r "select(.event==\"window\" and .symbol==\"ETHUSDT\") | [.cash, .equity_final] | @tsv" wf >c &&
	test "$(head -1 c | cut -f1)" = 10000 &&
	awk -F"\t" "NR > 1 && \$1 != prev { bad++ } { prev = \$2 } END { exit bad > 0 }" c
'

test_expect_success 'the summary stitches the test segments' '
	json_has wf "select(.event==\"walk_forward\" and .symbol==\"BTCUSDT\") | .windows==12 and (.chosen | map(.windows) | add)==12" &&
	last=$(jq -r "select(.event==\"window\" and .symbol==\"BTCUSDT\") | .equity_final" wf | tail -1) &&
	same "$(jq -r "select(.event==\"walk_forward\" and .symbol==\"BTCUSDT\") | .equity_final" wf)" "$last" &&
	json_has wf "select(.event==\"walk_forward\" and .symbol==\"BTCUSDT\") | .start==\"$(jq -r "select(.event==\"window\" and .symbol==\"BTCUSDT\") | .test.from" wf | head -1)\"" &&
	json_has wf "select(.event==\"walk_forward\") | .out_of_sample==.sharpe and has(\"oos_is_ratio\") and has(\"in_sample_mean\")"
'

test_expect_success 'shards: the (symbol, window) items, lines concatenating to the unsharded' '
	grep "\"event\":\"window\"" wf >whole &&
	for k in 1 2 3 4 5; do bt-backtest $GRID --walk-forward $WF --shard $k/5; done >p &&
	grep "\"event\":\"window\"" p >merged &&
	test_cmp whole merged &&
	test "$(grep -c "\"event\":\"walk_forward\"" p)" = 0 &&
	test "$(grep -c "\"event\":\"summary\"" p)" = 5
'

test_expect_success 'anchored, a gap, another objective' '
	test_expect_code 0 bt-backtest --symbols BTCUSDT $GRID --walk-forward train=600,test=200,step=400,gap=24,anchored --objective max_drawdown_pct >a &&
	jq -r "select(.event==\"window\") | [.train.bars, .warmup] | @tsv" a >ab &&
	test "$(sed -n 1p ab)" = "$(printf "600\t6384")" &&
	test "$(sed -n 2p ab)" = "$(printf "1000\t6784")" &&
	json_has a "select(.event==\"window\") | .objective==\"max_drawdown_pct\"" &&
	jq -r "select(.event==\"window\" and .window==1) | [.train.from, .train.to, .in_sample] | map(tostring) | join(\" \")" a >a1 &&
	read -r from to is <a1 &&
	bt-backtest --symbols BTCUSDT $GRID --from $from --to $to >g &&
	same "$is" "$(jq -s "map(select(.event==\"combo\")) | max_by(.max_drawdown_pct) | .max_drawdown_pct" g)"
'

test_expect_success 'BT_NOW: a rerun prints the same bytes' '
	bt-backtest $GRID --walk-forward $WF >wf2 && cmp wf wf2
'

test_expect_success 'a symbol too short for one window is left out with a WARNING; all: 66' '
	test_expect_code 66 bt-backtest $GRID --walk-forward train=2000,test=1500 >short 2>err &&
	test "$(grep -c "\"event\":\"window\"" short)" = 0 &&
	test "$(grep -c "\"event\":\"no_window\"" short)" = 2 &&
	grep -q "no symbol had a whole window" err
'

test_expect_success 'bad uses: 64' '
	test_expect_code 64 bt-backtest --walk-forward $WF &&
	test_expect_code 64 bt-backtest $GRID --walk-forward $WF --compat backtesting.py &&
	test_expect_code 64 bt-backtest $GRID --walk-forward train=600 &&
	test_expect_code 64 bt-backtest $GRID --walk-forward train=600,test=200,step=100 &&
	test_expect_code 64 bt-backtest $GRID --walk-forward train=600,test=200,size=3 &&
	test_expect_code 64 bt-backtest $GRID --walk-forward $WF --objective luck &&
	test_expect_code 64 bt-backtest $GRID --objective sharpe &&
	test_expect_code 64 bt-backtest $GRID --walk-forward $WF --job
'

test_done
