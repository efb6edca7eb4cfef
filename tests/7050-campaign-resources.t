#!/bin/sh
# Campaign 5, quick: a full disk (RLIMIT_FSIZE) during bt-fetch, bt-backup
# and --vacuum, unwritable directories (as nobody), missing and corrupt
# configuration: a clear error, the documented exit, nothing stored
# lost.  The long run is `scripts/campaign-resources --long' (89 cases).
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick resource-fault campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-resources" --quick >out 2>err ||
	    { tail -20 err >&2; cat out >&2; exit 1; }
	json_has out "select(.cases) | .cases >= 19" &&
	json_has out "select(.case==\"full disk (16 blocks) during bt-fetch\") | .exit==74" &&
	json_has out "select(.case==\"config secret: bt-digest\") | .exit==78"
'

test_done
