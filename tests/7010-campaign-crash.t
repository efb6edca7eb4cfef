#!/bin/sh
# Campaign 1, quick: kill -9 bt-fetch (fetch, import), bt-backup (backup,
# vacuum, restore) and bt-digest at random points; nothing lost, nothing
# half-written, no lock held, reruns converge.  The long run is
# `scripts/campaign-crash --long' (200 kills each).
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick crash campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-crash" --quick >out 2>err ||
	    { grep -v "^Killed" err | tail -20 >&2; cat out >&2; exit 1; }
	json_has out "select(.result) | .result==\"ok\" and .failures==0" &&
	test "$(jq -s "[.[] | select(.victim) | .kills] | add" out)" = 24 &&
	test "$(jq -s -c "[.[] | select(.victim==\"digest\") | .telegram_delay_ms]" out)" = "[0,50,200]" &&
	json_has out "select(.victim==\"digest\") | .lost==0 and .events > 0" &&
	json_has out "select(.victim==\"fetch\") | .reruns > 0 and .identical==.reruns"
'

test_done
