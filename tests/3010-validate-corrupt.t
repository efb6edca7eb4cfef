#!/bin/sh
# A store that opens but cannot be read (a b-tree page destroyed) is a
# finding for bt-validate (contracts.md: exit 1, CRITICAL), never an I/O
# error exit.  Found by scripts/campaign-corruption.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z BT_SYMBOLS="BTCUSDT ETHUSDT" \
    BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db
CORRUPT="python3 $BT_SRC/scripts/campaign-corrupt.py"

test_expect_success 'setup' '
	bt-fetch --import $DATA/freqtrade/*.json >/dev/null &&
	test_expect_code 0 bt-validate --full >/dev/null
'

for way in pairs_page_zeroed pairs_page_random candles_interior_zeroed \
    page1_body_random; do
	test_expect_success "$way: exit 1, a CRITICAL integrity finding" '
		cp $DB good.db &&
		$CORRUPT $DB '$way' &&
		test_expect_code 1 bt-validate --full >out 2>err &&
		json_has out "select(.event==\"integrity\") | .severity==\"CRITICAL\"" &&
		json_has out "select(.event==\"summary\") | .exit==1" &&
		cp good.db $DB
	'
done

test_done
