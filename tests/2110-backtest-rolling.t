#!/bin/sh
# The backtesting.py mode's SMA is pandas' rolling mean, bit for bit; the
# native mode's is TA-Lib's.  On the 500000-bar random walk of
# tests/unit/walk.h (made here in C) the sma-cross columns of the equity
# file hash as tests/data/backtesting-py/walk-rolling.json says pandas'
# and TA-Lib's means do, and SmaCross(10, 30) trades as backtesting.py
# 0.6.6 did on it (walk-smacross.jsonl).
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-01-01T00:00:00Z
BP=$DATA/backtesting-py

# sha FILE: the SHA-256 of the equity file's fast and slow columns, each
# as little-endian doubles (an empty field is NaN, 0x7ff8000000000000).
sha() {
	python3 -c "
import hashlib, struct, sys
nan = struct.pack('<Q', 0x7ff8000000000000)
h = [hashlib.sha256(), hashlib.sha256()]
f = open(sys.argv[1])
cols = f.readline().rstrip().split(',')
k = [cols.index('fast'), cols.index('slow')]
for line in f:
    r = line.rstrip().split(',')
    if r[1] == 'WALK':
        for j in (0, 1):
            h[j].update(nan if r[k[j]] == '' else struct.pack('<d', float(r[k[j]])))
print(h[0].hexdigest(), h[1].hexdigest())
" "$1"
}

# want N1 N2 KEY: the fixture's KEY hashes of rolling(N1) and rolling(N2).
want() {
	jq -r "[.rolling[\"$1\"].$3, .rolling[\"$2\"].$3] | join(\" \")" \
	    $BP/walk-rolling.json
}

test_expect_success 'setup: the walk as a CSV' '
	${CC:-cc} -std=c17 -O2 -o walk-csv $BT_SRC/tests/unit/walk-csv.c &&
	./walk-csv >walk.csv &&
	test "$(wc -l <walk.csv)" = 500001
'

test_expect_success 'backtesting.py mode: SMA(10) and SMA(30) are pandas rolling means, to the bit' '
	test_expect_code 0 bt-backtest --compat backtesting.py --equity c.csv walk.csv >c &&
	test "$(sha c.csv)" = "$(want 10 30 sha256)"
'

test_expect_success 'native mode: the same columns keep TA-Lib running sums' '
	test_expect_code 0 bt-backtest -p fast=2 -p slow=50 --equity n.csv walk.csv >n &&
	test "$(sha n.csv)" = "$(want 2 50 talib_sha256)"
'

test_expect_success 'SmaCross(10, 30) on the walk trades as backtesting.py did' '
	json_has c "select(.event==\"symbol\") | .trades==17698 and .unfilled==1972" &&
	test_expect_code 0 bt-backtest --compat backtesting.py --cash 1000000000000 walk.csv >big &&
	json_has big "select(.event==\"symbol\") | .trades==19670 and ((.equity_final - 177977850.1355379) | fabs) < 1e-4" &&
	json_has c "select(.event==\"symbol\") | ((.equity_final - 4.464293278447741) | fabs) < 1e-12"
'

test_done
