#!/bin/sh
# The restart budget: hung fake backtests, one after another; the first
# three are restarted (at once, since BT_BACKTEST_RESTART_CMD is set),
# the fourth trips the budget: no restart, run/backtest.paused, CRITICAL,
# and the 48 h rollback only when the operator turned it on.
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1d BT_WATCHDOG_JOBS= BT_AUTO_REFETCH=0
export BT_BACKTEST_KILL_WAIT=0.3 BT_WATCHDOG_GDB=0
export BT_NOW=2022-10-11T00:00:00Z
ST=$BT_HOME/db/bt_state.db
bt-fetch --import $DATA/freqtrade/BTC_USDT-1d.json >/dev/null
mkdir -p $BT_HOME/run
mkfifo "$TRASH/hold" "$TRASH/restarted" "$TRASH/rollback"
# The restart command, as the crontab would run it; it reports on a FIFO.
export BT_BACKTEST_RESTART_CMD="flock -n -E 75 '$BT_HOME/run/backtest.lock' echo restarted >'$TRASH/restarted'"
export BT_ROLLBACK_CMD="echo rollback >'$TRASH/rollback'"

start_fake() {
	rm -f "$TRASH/ready"
	mkfifo "$TRASH/ready"
	FAKE_HEARTBEAT=$1 setsid flock -n -E 75 "$BT_HOME/run/backtest.lock" \
	    sh "$BT_SRC/tests/fake-backtest.sh" "$TRASH/ready" "$TRASH/hold" &
	read -r FPID <"$TRASH/ready"
}
alive() {
	test -r /proc/$1/stat && ! awk '{ exit !($3 == "Z") }' /proc/$1/stat
}

for n in 1 2 3; do
	test_expect_success "hang $n: killed and restarted at once ($n of 3)" '
		start_fake 2022-10-11T0$n:00:00Z &&
		BT_NOW=2022-10-11T0$n:05:00Z test_expect_code 1 bt-watchdog >out &&
		! alive $FPID &&
		test "$(timeout 20 cat "$TRASH/restarted")" = restarted &&
		json_has $BT_HOME/logs/recovery.log "select(.action==\"restart\" and .ts==\"2022-10-11T0$n:05:00Z\") | .message|contains(\"restart $n of 3 in 24 h, at once\")" &&
		test ! -e $BT_HOME/run/backtest.paused
	'
done

test_expect_success 'hang 4: the budget trips: no restart, paused, CRITICAL' '
	start_fake 2022-10-11T04:00:00Z &&
	BT_NOW=2022-10-11T04:05:00Z test_expect_code 1 bt-watchdog >out &&
	! alive $FPID &&
	test -e $BT_HOME/run/backtest.paused &&
	json_has out "select(.action==\"restart_budget\") | .severity==\"CRITICAL\" and (.message|contains(\"more than 3 restarts in 24 h\"))" &&
	json_has out "select(.action==\"pause\") | .severity==\"CRITICAL\"" &&
	! grep -q "\"action\":\"rollback\"" $BT_HOME/logs/recovery.log &&
	test "$(sql $ST "select count(*) from actions where action=\"restart\"")" = 3 &&
	test "$(sql $ST "select count(*) from events where kind=\"recovery\" and severity=\"CRITICAL\"")" = 2
'

test_expect_success 'paused: the backtest is PAUSED until a person removes the file' '
	BT_NOW=2022-10-11T04:06:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"PAUSED\" and .severity==\"WARNING\"" &&
	rm $BT_HOME/run/backtest.paused &&
	BT_NOW=2022-10-11T04:07:00Z test_expect_code 0 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .ok"
'

test_expect_success 'with rollback turned on, the trip also starts the 48 h rollback' '
	start_fake 2022-10-11T05:00:00Z &&
	BT_AUTO_ROLLBACK=1 BT_NOW=2022-10-11T05:05:00Z test_expect_code 1 bt-watchdog >out &&
	test "$(timeout 20 cat "$TRASH/rollback")" = rollback &&
	json_has out "select(.action==\"rollback\") | .ok and .severity==\"CRITICAL\""
'

test_expect_success 'a day later the budget is free again' '
	rm -f $BT_HOME/run/backtest.paused &&
	start_fake 2022-10-12T06:00:00Z &&
	BT_NOW=2022-10-12T06:05:00Z test_expect_code 1 bt-watchdog >out &&
	test "$(timeout 20 cat "$TRASH/restarted")" = restarted &&
	test ! -e $BT_HOME/run/backtest.paused
'

test_done
