#!/bin/sh
# A grid is never held in memory: its combinations are counted and
# walked, so a 10^7-combination grid with --shard 1/1000 starts at once
# in constant memory, and each shard starts at its own combination.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
GOOG=$DATA/backtesting-py/GOOG.csv
# 500 x 200 x 200 places, 10050000 with lower < upper.
G="--strategy rsi --grid period=2..501 --grid lower=0..99.5/0.5 --grid upper=0.5..100/0.5"

test_expect_success 'shard 1/1000 of 10^7 combinations: its share, in little memory' '
	/usr/bin/time -f %M -o rss bt-backtest --last 100 --warmup 0 $G --shard 1/1000 $GOOG >s1 &&
	json_has s1 "select(.event==\"summary\") | .combos==10050000 and .bar_steps==1005000 and .exit==0" &&
	test "$(grep -c "\"event\":\"combo\"" s1)" = 10050 &&
	test "$(jq -c "select(.event==\"combo\") | .params" s1 | sed -n "1p;\$p" | tr -d "\n")" = "{\"period\":2,\"lower\":0,\"upper\":0.5}{\"period\":2,\"lower\":29,\"upper\":80.5}" &&
	if [ -z "${BT_SANITIZED:-}" ]; then
		test "$(cat rss)" -lt 32768 || { echo "peak RSS $(cat rss) KB" >&2; exit 1; }
	fi
'

test_expect_success 'the last shard starts at its own combination and ends at the last' '
	bt-backtest --last 100 --warmup 0 $G --shard 1000/1000 $GOOG >s2 &&
	test "$(grep -c "\"event\":\"combo\"" s2)" = 10050 &&
	test "$(jq -c "select(.event==\"combo\") | .params" s2 | sed -n "1p;\$p" | tr -d "\n")" = "{\"period\":501,\"lower\":29,\"upper\":81}{\"period\":501,\"lower\":99.5,\"upper\":100}"
'

test_done
