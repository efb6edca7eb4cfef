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

# A low below zero keeps low <= open, close <= high: the range check
# alone let it by.  Found by the same campaign (way flip_l_sign).
test_expect_success 'a negative low price is a CRITICAL sanity finding' '
	cp $DB good.db &&
	sqlite3 $DB "update candles set l=-l where pair=(select id from pairs where symbol=\"BTCUSDT\" and tf=\"1h\") and slot=(select max(slot) from candles where pair=(select id from pairs where symbol=\"BTCUSDT\" and tf=\"1h\"))" &&
	test_expect_code 1 bt-validate --full >out 2>err &&
	json_has out "select(.event==\"sanity\") | .severity==\"CRITICAL\" and any(.detail.problems[]; .==\"non_positive_price\") and (.message|test(\"not positive\"))" &&
	cp good.db $DB
'

# A damaged pairs row keeps every candle sane while it shifts the pair's
# times or scales its prices.  Found by the same campaign (ways
# pairs_interval_bit, pairs_price_scale_changed).
for change in "iv=iv+1" "dp=dp/10" "dv=dv*10"; do
	test_expect_success "a pairs row changed ($change): CRITICAL, routine run too" '
		cp $DB good.db &&
		sqlite3 $DB "update pairs set '"$change"' where symbol=\"ETHUSDT\" and tf=\"4h\"" &&
		test_expect_code 1 bt-validate >out 2>err &&
		json_has out "select(.event==\"pairs\") | .severity==\"CRITICAL\" and .symbol==\"ETHUSDT\" and .tf==\"4h\"" &&
		cp good.db $DB
	'
done

test_done
