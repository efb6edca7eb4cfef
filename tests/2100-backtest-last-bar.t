#!/bin/sh
# A decision on the last bar.  backtesting.py 0.6.6 (finalize_trades)
# closes the open trades at the last bar's open and fills the decision
# there too: the trade it opens stays open, counted in Equity Final and
# not in the trades (tests/data/backtesting-py/grid-last-bar.jsonl, the
# 120 fast < slow combinations of fast=2..18/2 x slow=10..38/2 on GOOG's
# first 100 rows; 3 cross on the last bar).  Natively a decision on the
# last bar is not filled: it is the latest signal only.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
BP=$DATA/backtesting-py

test_expect_success 'setup: GOOG first 100 rows' '
	head -101 $BP/GOOG.csv >g100.csv &&
	test "$(wc -l <g100.csv)" = 101
'

test_expect_success 'the grid of 120 equals backtesting.py, the 3 last-bar crossings included' '
	test_expect_code 0 bt-backtest --compat backtesting.py \
	    --grid fast=2..18/2 --grid slow=10..38/2 g100.csv >grid &&
	jq -c "select(.event==\"combo\") | [.params.fast, .params.slow, .equity_final, .return_pct, .trades]" grid >got &&
	jq -c "select(.fast < .slow) | [.fast, .slow, .equity_final, .return_pct, .n_trades]" $BP/grid-last-bar.jsonl >want &&
	test "$(wc -l <got)" = 120 &&
	python3 -c "
import json
w = [json.loads(l) for l in open(\"want\")]
g = [json.loads(l) for l in open(\"got\")]
bad = [(a, b) for a, b in zip(w, g) if a[:2] != b[:2] or a[4] != b[4] or
       any(abs(x - y) > 1e-12 * max(1, abs(x)) for x, y in zip(a[2:4], b[2:4]))]
assert not bad, bad
"
'

test_expect_success 'a single run of (2, 10): the long opened at the last open stays open' '
	test_expect_code 0 bt-backtest --compat backtesting.py -p fast=2 -p slow=10 \
	    --equity e.csv --trades t.csv g100.csv >one &&
	test "$(grep -v PORTFOLIO e.csv | tail -1 | cut -d, -f3,5)" = "12891.71,66" &&
	test "$(sed 1d t.csv | wc -l)" = 8 &&
	json_has one "select(.event==\"symbol\") | .trades==8"
'

test_expect_success 'natively the last bar decides but does not fill' '
	test_expect_code 0 bt-backtest -p fast=2 -p slow=10 --equity n.csv g100.csv >nat &&
	test "$(grep -v PORTFOLIO n.csv | tail -1 | cut -d, -f5)" = 0 &&
	json_has nat "select(.event==\"symbol\") | .signal.timestamp == $(date -d 2005-01-10 +%s)000 and .signal.position == 1"
'

test_done
