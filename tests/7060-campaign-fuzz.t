#!/bin/sh
# Campaign 6, quick: every parser of outside input has a libFuzzer
# harness with a seed corpus, and the harnesses `make fuzz' has built
# replay their corpora cleanly.  The long run, `scripts/campaign-fuzz
# --long', fuzzes each for 10 minutes and runs the other campaigns under
# valgrind.
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick fuzz campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-fuzz" --quick >out 2>err ||
	    { tail -20 err >&2; cat out >&2; exit 1; }
	test "$(jq -s "[.[] | select(.harness)] | length" out)" = 11 &&
	json_has out "select(.result) | .result==\"ok\""
'

test_done
