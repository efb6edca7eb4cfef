#!/bin/sh
# bt-backtest --compat backtesting.py: SmaCross(10, 30) on GOOG.csv gives
# backtesting.py 0.6.6's test_compute_stats values to 1e-8 relative.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
GOOG=$DATA/backtesting-py/GOOG.csv

# close FILE JQPATH WANT: the value at JQPATH of the symbol line is WANT
# to 1e-8 relative.
close() {
	jq -e -s "map(select(.event==\"symbol\"))[0] | (($2 - ($3)) | fabs) <= 1e-8 * (($3) | fabs)" "$1" >/dev/null || {
		echo "$2: got $(jq "select(.event==\"symbol\") | $2" "$1"), want $3" >&2
		return 1
	}
}

test_expect_success 'SmaCross(10, 30) on GOOG runs in the backtesting.py mode' '
	test_expect_code 0 bt-backtest --compat backtesting.py \
	    -p fast=10 -p slow=30 --trades trades.csv --equity equity.csv \
	    $GOOG >out &&
	json_has out "select(.event==\"symbol\") | .symbol==\"GOOG\" and .tf==\"1d\" and .bars==2148 and .mode==\"backtesting.py\"" &&
	json_has out "select(.event==\"summary\") | .exit==0"
'

test_expect_success 'equity, return, buy & hold, CAGR, volatility' '
	close out .equity_final 51422.98999999996 &&
	close out .return_pct 414.2298999999996 &&
	close out .buy_hold_return_pct 522.0601851851852 &&
	close out .cagr_pct 21.160245705962623 &&
	close out .volatility_ann_pct 36.49716090702389 &&
	close out .return_ann_pct 21.191099249053224 &&
	close out .equity_peak 75787.44
'

test_expect_success 'trades, win rate, exposure' '
	json_has out "select(.event==\"symbol\") | .trades==66" &&
	close out .win_rate_pct 46.96969696969697 &&
	close out .exposure_pct 96.74115456238361
'

test_expect_success 'drawdown and the ratios' '
	close out .max_drawdown_pct -47.98012705007589 &&
	close out .avg_drawdown_pct -5.925851581948801 &&
	close out .sharpe 0.5806232244485349 &&
	close out .sortino 1.0853434352488662 &&
	close out .calmar 0.44166409202994605
'

test_expect_success 'profit factor, SQN and the rest of the trade statistics' '
	close out .profit_factor 2.167945974262033 &&
	close out .sqn 1.0766187356697705 &&
	close out .expectancy_pct 3.2748078066748834 &&
	close out .kelly 0.1518705127029717 &&
	close out .avg_trade_pct 2.531715975158555 &&
	close out .best_trade_pct 53.59595229490424 &&
	close out .worst_trade_pct -18.39887353835481 &&
	close out .alpha_pct 394.37391142027462 &&
	close out .beta 0.03803390709192
'

test_expect_success 'durations are rounded up to days, as backtesting.py does' '
	json_has out "select(.event==\"symbol\") | .max_drawdown_duration_days==584 and .avg_drawdown_duration_days==41 and .max_trade_duration_days==183 and .avg_trade_duration_days==46 and .duration_days==3116 and .periods_per_year==252"
'

test_expect_success 'the trade list: 33 shorts and 33 longs, first short 55 @ 180.36, last long 64 closed at the last open' '
	test "$(sed 1d trades.csv | wc -l)" = 66 &&
	test "$(grep -c ",short," trades.csv)" = 33 &&
	sed -n 2p trades.csv | grep -q "^GOOG,short,55,2004-11-29T00:00:00Z,180.36,.*,70,"  &&
	tail -1 trades.csv | grep -q "^GOOG,long,64,.*,695,2013-03-01T00:00:00Z,797.8[0-9]*,.*,2147$"
'

test_expect_success 'the equity file ends at the final equity' '
	head -1 equity.csv | grep -q "^time,symbol,equity,drawdown_pct,position,close,fast,slow$" &&
	grep -c ",GOOG," equity.csv | grep -qx 2148 &&
	test "$(grep ",GOOG," equity.csv | tail -1 | cut -d, -f3)" = 51422.98999999996
'

test_expect_success 'the native mode on the same data differs as documented' '
	test_expect_code 0 bt-backtest --fee 0 --slippage 0 $GOOG >native &&
	json_has native "select(.event==\"symbol\") | .mode==\"native\" and .periods_per_year==365 and .warmup==0 and .bars==2148"
'

test_done
