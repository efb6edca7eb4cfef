#!/bin/sh
# bt-fetch on a store whose candle pages are damaged: the store is at
# fault, not the exchange.  The run exits 74 and says the store cannot be
# read; it never reports a coverage whose figures disagree ("coverage
# 0.0%: only 5 of 5 pairs are current", exit 69, found by the chaos week).
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_NOW=$NOW
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db
CORRUPT="python3 $BT_SRC/scripts/campaign-corrupt.py"

test_expect_success 'setup: a store filled from the exchange' '
	test_expect_code 0 bt-fetch -q >out
'

test_expect_success 'damaged candle pages: exit 74, the store named, no coverage figures that disagree' '
	$CORRUPT $DB candles_interior_zeroed &&
	test_expect_code 74 bt-fetch -q >out 2>err &&
	json_has out "select(.event==\"coverage\") | .severity==\"CRITICAL\" and (.message|test(\"^coverage unknown: the store cannot be read\"))" &&
	! jq -e "select(.event==\"coverage\" and (.message|test(\"only [0-9]+ of [0-9]+ pairs\")))" out >/dev/null &&
	json_has out "select(.event==\"summary\") | .exit==74 and .coverage==null"
'

test_done
