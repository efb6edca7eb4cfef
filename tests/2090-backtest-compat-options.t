#!/bin/sh
# The backtesting.py mode takes its fee, slippage, fixed fee, lot and size
# from the command line only (bt.conf's keys do not apply there), --lot
# is FractionalBacktest's fractional_unit, --size the order size, and
# --fee-fixed the fixed part of commission=(fixed, relative): each checked
# against the real backtesting.py 0.6.6 (tests/data/backtesting-py,
# fees.jsonl and fractional.jsonl).  Natively --fee-fixed is paid on every
# fill and reserved once by the sizing.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
BP=$DATA/backtesting-py
GOOG=$BP/GOOG.csv

# field FILE KEY: KEY of the symbol line.
field() {
	jq -r "select(.event==\"symbol\") | .$2" "$1"
}

# near A B: A equals B to 1e-12 relative (the lines print 15 digits).
near() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d;
	    m = b < 0 ? -b : b; exit !(d <= 1e-12 * (m > 1 ? m : 1)) }' || {
		echo "got $1, want $2" >&2
		return 1
	}
}

test_expect_success '--fee 0 alone: the slippage stays backtesting.py 0, not the native 2 bps' '
	test_expect_code 0 bt-backtest --compat backtesting.py --fee 0 $GOOG >f0 &&
	near "$(field f0 equity_final)" 51422.98999999996
'

test_expect_success '--slippage 0 alone: the fee stays backtesting.py 0, not the native 10 bps' '
	test_expect_code 0 bt-backtest --compat backtesting.py --slippage 0 $GOOG >s0 &&
	near "$(field s0 equity_final)" 51422.98999999996 &&
	near "$(field s0 commissions)" 0
'

test_expect_success 'bt.conf fee, slippage, lot, size and fixed fee do not apply in the mode' '
	cat >"$BT_CONF" <<-EOF &&
	BACKTEST_FEE_BPS=25
	BACKTEST_SLIPPAGE_BPS=7
	BACKTEST_FEE_FIXED=3
	BACKTEST_LOT=0.001
	BACKTEST_SIZE=0.5
	EOF
	test_expect_code 0 bt-backtest --compat backtesting.py $GOOG >c &&
	near "$(field c equity_final)" 51422.98999999996 &&
	test_expect_code 0 bt-backtest --compat backtesting.py --fee 10 $GOOG >c2 &&
	test_expect_code 0 bt-backtest --compat backtesting.py --fee 10 --slippage 0 --size 1 --lot 1 --fee-fixed 0 $GOOG >c3 &&
	test "$(field c2 equity_final)" = "$(field c3 equity_final)" &&
	: >"$BT_CONF"
'

# fees.jsonl: SmaCross(10, 30) on GOOG with commission=(fixed, relative).
test_expect_success 'commission=(fixed, relative): equity, commissions, Sharpe and every trade of backtesting.py' '
	n=0 &&
	while read -r line; do
		n=$((n + 1)) &&
		fixed=$(echo "$line" | jq ".commission[0]") &&
		bps=$(echo "$line" | jq ".commission[1] * 10000") &&
		test_expect_code 0 bt-backtest --compat backtesting.py \
		    --fee-fixed $fixed --fee $bps --trades t$n.csv $GOOG >o$n &&
		near "$(field o$n equity_final)" "$(echo "$line" | jq .equity_final)" &&
		near "$(field o$n commissions)" "$(echo "$line" | jq .commissions)" &&
		near "$(field o$n sharpe)" "$(echo "$line" | jq .sharpe)" &&
		test "$(field o$n trades)" = "$(echo "$line" | jq .n_trades)" &&
		echo "$line" | jq -r ".trades[] | [(if .size > 0 then \"long\" else \"short\" end), (.size | fabs), .entry_price, .exit_price, .pnl, .return_pct * 100, .commission, .entry_bar, .exit_bar] | @csv" >want$n &&
		sed 1d t$n.csv | cut -d, -f2,3,5,7,8,9,10,11,12 | sed "s/^\([a-z]*\),/\"\1\",/" >got$n &&
		python3 -c "
import csv, sys
w = list(csv.reader(open(\"want$n\"))); g = list(csv.reader(open(\"got$n\")))
assert len(w) == len(g) == 66, (len(w), len(g))
for a, b in zip(w, g):
    assert a[0] == b[0], (a, b)
    for x, y in zip(a[1:], b[1:]):
        assert abs(float(x) - float(y)) <= 1e-9 * max(1, abs(float(x))), (a, b)
" || exit 1
	done <$BP/fees.jsonl &&
	test $n = 3
'

test_expect_success 'fixed commission: the prices and fees are exact, the quirk of the sizing included' '
	python3 -c "
import csv, json
f = [json.loads(l) for l in open(\"$BP/fees.jsonl\")]
for k, case in enumerate(f, 1):
    got = list(csv.DictReader(open(\"t%d.csv\" % k)))
    for a, b in zip(case[\"trades\"], got):
        assert abs(a[\"size\"]) == float(b[\"units\"]), (a, b)
        assert a[\"entry_price\"] == float(b[\"entry_price\"]), (a, b)
        assert a[\"commission\"] == float(b[\"fees\"]), (a, b)
        assert a[\"pnl\"] == float(b[\"pnl\"]), (a, b)
"
'

# fractional.jsonl: FractionalBacktest on BTCUSD (monthly), 32 settings.
test_expect_success '--lot is FractionalBacktest fractional_unit, --size the order size' '
	n=0 &&
	while read -r line; do
		n=$((n + 1)) &&
		set -- --compat backtesting.py -p fast=$(echo "$line" | jq .fast) \
		    -p slow=$(echo "$line" | jq .slow) \
		    --lot $(echo "$line" | jq .fractional_unit) \
		    --cash $(echo "$line" | jq .cash) &&
		sz=$(echo "$line" | jq .order_size) &&
		if [ "$sz" != null ]; then set -- "$@" --size $sz; fi &&
		if [ "$(echo "$line" | jq -r .data)" != BTCUSD ]; then set -- "$@" --from 2015-01-01; fi &&
		test_expect_code 0 bt-backtest "$@" --trades ft$n.csv $BP/BTCUSD.csv >fo$n &&
		near "$(field fo$n equity_final)" "$(echo "$line" | jq .equity_final)" &&
		near "$(field fo$n return_pct)" "$(echo "$line" | jq .return_pct)" &&
		test "$(field fo$n trades)" = "$(echo "$line" | jq .n_trades)" &&
		echo "$line" | jq -r ".trades[] | [.size, .entry_price, .exit_price] | @csv" >fw$n &&
		sed 1d ft$n.csv | awk -F, "{ printf \"%s%s,%s,%s\\n\", (\$2 == \"short\" ? \"-\" : \"\"), \$3, \$5, \$7 }" >fg$n &&
		python3 -c "
import csv
w = list(csv.reader(open(\"fw$n\"))); g = list(csv.reader(open(\"fg$n\")))
assert len(w) == len(g) and len(w) > 0, (len(w), len(g))
for a, b in zip(w, g):
    assert [float(x) for x in a] == [float(x) for x in b], (a, b)
" || exit 1
	done <$BP/fractional.jsonl &&
	test $n = 32
'

test_expect_success '--lot 0 has no backtesting.py meaning: 64' '
	test_expect_code 64 bt-backtest --compat backtesting.py --lot 0 $GOOG 2>err &&
	grep -q "lot 0" err
'

test_expect_success 'natively --fee-fixed is paid per fill and reserved once by the sizing' '
	head -61 $GOOG >g60.csv &&
	test_expect_code 0 bt-backtest --strategy hold --fee 0 --slippage 0 --lot 0 \
	    --fee-fixed 7 --trades h.csv g60.csv >h &&
	near "$(field h commissions)" 14 &&
	test "$(sed -n 2p h.csv | cut -d, -f10)" = 14 &&
	python3 -c "
import csv
r = list(csv.DictReader(open(\"h.csv\")))[0]
assert float(r[\"units\"]) == (10000 - 7) / float(r[\"entry_price\"]), r
"
'

test_done
