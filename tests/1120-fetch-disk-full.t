#!/bin/sh
# The store cannot be written (a full disk: RLIMIT_FSIZE with SIGXFSZ
# ignored, so a write past it fails as on a full disk): exit 74, the
# candles already stored untouched, and the next run completes.  Coverage
# that ends low because nothing could be stored is not "Binance
# unavailable" (69).  Found by scripts/campaign-resources.
. "$(dirname "$0")/lib.sh"

start_server binance --data $DATA/vision --now 2025-05-20T00:00:00Z \
    --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db
dump() { sqlite3 -readonly $DB "select * from ohlcv_h1 order by 1,2"; }

test_expect_success 'setup: a store up to 2025-05-20' '
	BT_NOW=2025-05-20T00:00:00Z bt-fetch --since 2025-04-01 >/dev/null &&
	dump >before &&
	ctl binance "{\"now\":\"2025-05-31T12:30:00Z\"}"
'

export BT_NOW=2025-05-31T12:30:00Z
for lim in 0 64; do
	test_expect_success "a full disk ($lim blocks): exit 74, nothing lost" '
		cp -r $BT_HOME home.saved &&
		{ sh -c "ulimit -f $lim; trap \"\" XFSZ; exec bt-fetch" 2>&1 >/dev/null; echo $? >rc; } | cat >err &&
		test "$(cat rc)" = 74 &&
		grep -q "^bt-fetch: .*I/O error" err &&
		test "$(sqlite3 -readonly $DB "pragma integrity_check")" = ok &&
		dump >after && comm -23 before after >lost && test ! -s lost &&
		test_expect_code 0 bt-fetch >/dev/null &&
		rm -rf $BT_HOME && mv home.saved $BT_HOME
	'
done

test_done
