#!/bin/sh
# Campaign 2, quick: bt-fetch, bt-backup, bt-validate, two bt-backtest
# readers and a stand-in trader at once, in a loop: no SQLITE_BUSY, no
# wrong result.  The long run is `scripts/campaign-concurrency --long'
# (1000 iterations).
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick concurrency campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-concurrency" --quick >out 2>err ||
	    { tail -20 err >&2; cat out >&2; exit 1; }
	json_has out "select(.iterations) | .iterations==8 and .busy_failures==0 and .wrong_results==0 and .bad_exits==0 and .trader_rows==161"
'

test_done
