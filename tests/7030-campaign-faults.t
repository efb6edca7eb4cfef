#!/bin/sh
# Campaign 3, quick: every fault of the Binance test server once, on the
# four timeframes in turn: no bad row stored, the right exit and events,
# a clean rerun heals.  The long run, `scripts/campaign-faults --long',
# takes every fault on every timeframe, single and persistent.
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick exchange-fault campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-faults" --quick >out 2>err ||
	    { tail -20 err >&2; cat out >&2; exit 1; }
	json_has out "select(.cases) | .cases==23 and .healed==23 and .bad_rows_stored==0 and .open_candles_stored==0" &&
	json_has out "select(.tf==\"15m\") | .clean_candles==1343"
'

test_done
