#!/bin/sh
# The write-lock wait is the run's budget, not a wait per write, and a
# trader holding the store's lock keeps no bt run from recording its runs
# row and events: the state file has its own lock (bt(7), WRITING AND
# LOCKING; issue 15).
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z BT_WRITE_LOCK_WAIT=0.2
FT=$DATA/freqtrade
ST=$BT_HOME/db/bt_state.db

# hold LOCK: a stand-in trader holds run/LOCK until `release'.
hold() {
	mkdir -p $BT_HOME/run
	mkfifo $TRASH/hold $TRASH/held
	flock $BT_HOME/run/$1 sh -c "echo held >$TRASH/held; read x <$TRASH/hold" &
	HOLDER=$!
	# Blocks until the holder has the lock (bounded, should flock fail).
	timeout 60 sh -c "read x <$TRASH/held" ||
	    { echo "the holder never held $1" >&2; return 1; }
}
release() {
	echo x >$TRASH/hold
	wait $HOLDER
	rm -f $TRASH/hold $TRASH/held
}

test_expect_success 'a first import creates the store and the state file' '
	test_expect_code 0 bt-fetch -q --import $FT/BTC_USDT-1d.json >/dev/null
'

test_expect_success 'the store locked all along: one budget for the run, said once, and the run is recorded' '
	hold write.lock &&
	rc=0 && bt-fetch --import $FT/ETH_USDT-1d.json $FT/BTC_USDT-4h.json \
	    $FT/ETH_USDT-4h.json >out 2>err || rc=$?
	release &&
	test "$rc" = 75 &&
	test "$(grep -c "\"event\":\"write_lock\"" out)" = 1 &&
	json_has out "select(.event==\"write_lock\") | .severity==\"WARNING\" and .lock==\"run/write.lock\" and (.message|contains(\"in all this run (BT_WRITE_LOCK_WAIT)\"))" &&
	test "$(sql $ST "select exit from runs where prog=\"bt-fetch\" order by id desc limit 1")" = 75 &&
	test "$(sql $ST "select count(*) from runs where exit is null")" = 0 &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from ohlcv_h4")" = 0
'

test_expect_success 'the state file locked: the run waits for its own lock, and says which' '
	hold state.lock &&
	rc=0 && bt-fetch -q --import $FT/ETH_USDT-1d.json >out 2>err || rc=$?
	release &&
	test "$rc" = 75 &&
	grep -q "run/state.lock has been held by another writer" err
'

test_expect_success 'the locks free: the next run does it all' '
	test_expect_code 0 bt-fetch -q --import $FT/ETH_USDT-1d.json $FT/BTC_USDT-4h.json >out &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(distinct symbol) from ohlcv_d1")" = 2
'

# A store held past the budget during a run over Binance is the store's
# business: exit 75, the next run goes on; never a remembered 418 ban
# with its CRITICAL (the lock's 75 was once taken for a ban).
test_expect_success 'over Binance with the store locked: 75, no ban recorded, no banned CRITICAL' '
	start_server binance --data $DATA/vision --now 2025-05-31T12:30:00Z &&
	export BT_BINANCE_URL=$binance_URL BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1d &&
	hold write.lock &&
	rc=0 && BT_NOW=2025-05-31T12:30:00Z bt-fetch -q >out 2>err || rc=$?
	release &&
	test "$rc" = 75 &&
	test "$(sql $ST "select count(*) from kv where key=\"binance_ban_until\"")" = 0 &&
	test "$(sql $ST "select count(*) from events where kind=\"banned\"")" = 0 &&
	! grep -q "banned this IP" out err &&
	BT_NOW=2025-05-31T12:30:00Z test_expect_code 0 bt-fetch -q >out 2>err &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from ohlcv_d1 where symbol=\"BTCUSDT\" and timestamp >= 1735689600000")" -gt 100
'

test_done
