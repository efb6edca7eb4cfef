#!/bin/sh
# bt-backtest --job writes results/equity.csv beside its results (the
# portfolio's equity per bar, and each symbol's), and with gnuplot and
# BACKTEST_EQUITY_PLOT's script results/equity.png; without either there
# is no picture and nothing fails.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
export BT_SYMBOLS="BTCUSDT ETHUSDT"
export BACKTEST_EQUITY_PLOT=$BT_SRC/scripts/equity.gp
R=$BT_HOME/results

test_expect_success 'setup: a store with BTC and ETH 4h' '
	bt-fetch --import $DATA/freqtrade/BTC_USDT-4h.json $DATA/freqtrade/ETH_USDT-4h.json >/dev/null
'

test_expect_success 'the job writes results/equity.csv: time, equity, drawdown, each symbol' '
	test_expect_code 0 bt-backtest --job >out &&
	test "$(head -1 $R/equity.csv)" = "time,equity,drawdown_pct,BTCUSDT,ETHUSDT" &&
	test "$(sed 1d $R/equity.csv | wc -l)" = 250 &&
	test "$(sed -n 2p $R/equity.csv)" = "2022-08-30T08:00:00Z,20000,0,10000,10000" &&
	awk -F, "NR > 1 { d = \$2 - \$4 - \$5; if (d < 0) d = -d; if (d > 1e-6) bad++ } END { exit bad > 0 }" $R/equity.csv &&
	last=$(tail -1 $R/equity.csv | cut -d, -f2) &&
	jq -e --argjson l "$last" "(.portfolio.equity_final - \$l) | fabs < 1e-6" $R/backtest_results.json >/dev/null &&
	test "$(stat -c %a $R/equity.csv)" = 640
'

test_expect_success 'with gnuplot and the script: results/equity.png' '
	if command -v gnuplot >/dev/null 2>&1; then
		test "$(head -c 4 $R/equity.png | tail -c 3)" = PNG &&
		test ! -e $R/equity.png.tmp
	else
		echo "# gnuplot missing: no picture expected" >&2 && test ! -e $R/equity.png
	fi
'

test_expect_success 'no script: no picture, exit 0' '
	rm -f $R/equity.png &&
	BACKTEST_EQUITY_PLOT=$TRASH/none.gp test_expect_code 0 bt-backtest --job -q >/dev/null 2>err &&
	test -s $R/equity.csv && test ! -e $R/equity.png && test ! -s err
'

test_expect_success 'no gnuplot on PATH: no picture, exit 0, stdout JSON lines only' '
	mkdir -p nobin && ln -sf "$(command -v bt-backtest)" nobin/bt-backtest &&
	PATH=$TRASH/nobin test_expect_code 0 bt-backtest --job >out2 2>err &&
	test ! -e $R/equity.png && test ! -s err &&
	jq -c . out2 >/dev/null
'

test_done
