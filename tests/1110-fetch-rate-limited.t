#!/bin/sh
# A 429 on every try is "rate limited" (contracts.md: 75, try again
# later), not "unavailable": exit 75, and no further pair adds weight.
# Found by scripts/campaign-faults.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_NOW=$NOW
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db

test_expect_success '429 on every try: exit 75, the rest of the run skipped' '
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"fault\":\"status\",\"code\":429,\"retry_after\":0,\"times\":-1}],\"ban_after\":1000}" &&
	test_expect_code 75 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"pair\") | .status==\"failed\" and .requests==4 and (.error|test(\"HTTP 429\"))" &&
	json_has out "select(.event==\"coverage\") | .severity==\"CRITICAL\"" &&
	json_has out "select(.event==\"summary\") | .exit==75" &&
	test "$(jq -s "[.[] | select(.event==\"pair\")] | length" out)" -le 2 &&
	# the fetcher thread stops itself: nothing after the 4th try
	test "$(requests binance /api/v3/klines)" = 4
'

test_expect_success 'a single 429 is retried: exit 0' '
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"fault\":\"status\",\"code\":429,\"retry_after\":0}]}" &&
	test_expect_code 0 bt-fetch --since 2025-05-01 >out &&
	json_has out "select(.event==\"summary\") | .exit==0"
'

test_done
