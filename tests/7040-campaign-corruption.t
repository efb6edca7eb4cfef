#!/bin/sh
# Campaign 4, quick: the store damaged in 16 ways; each is detected by
# bt-validate and healed by restore plus resync, harmless, or one of the
# silent ways bt-validate(1) lists (WHAT NO CHECK CAN SEE).  The long run,
# `scripts/campaign-corruption --long', takes 90+ ways.
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick corruption campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-corruption" --quick >out 2>err ||
	    { tail -20 err >&2; cat out >&2; exit 1; }
	json_has out "select(.ways) | .ways==16 and .detected==.healed and .detected >= 11" &&
	json_has out "select(.way==\"candles_leaf_mid_random\") | .class==\"detected\"" &&
	json_has out "select(.way==\"wal_deleted\") | .class==\"detected\"" &&
	json_has out "select(.way==\"shm_deleted\") | .class==\"harmless\"" &&
	json_has out "select(.way==\"flip_c_low\") | .class==\"neither\"" &&
	json_has out "select(.way==\"flip_h_sign\") | .class==\"detected\" and .full==\"yes\""
'

test_done
