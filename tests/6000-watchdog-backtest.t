#!/bin/sh
# bt-watchdog and a real fake backtest (tests/fake-backtest.sh) under the
# crontab's flock: a healthy one is left alone; a hung one, holding the
# lock with its heartbeat stopped and ignoring SIGTERM, is killed with its
# whole process group; a stale status naming an unrelated process never
# gets that process signalled.  Time is BT_NOW; nothing sleeps.
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1d BT_WATCHDOG_JOBS= BT_AUTO_REFETCH=0
export BT_BACKTEST_KILL_WAIT=0.3 BT_WATCHDOG_GDB=0
export BT_NOW=2022-10-11T00:00:00Z
ST=$BT_HOME/db/bt_state.db
bt-fetch --import $DATA/freqtrade/BTC_USDT-1d.json >/dev/null
mkdir -p $BT_HOME/run
mkfifo "$TRASH/hold"

lock_free() {
	flock -n -E 75 "$BT_HOME/run/backtest.lock" true
}
# start_fake [term]: a fake backtest under flock in its own session; sets
# FPID (the fake) and FPGID (its group: flock's pid).
start_fake() {
	# A holder killed by an earlier test may not be gone yet: flock -n
	# would fail and nobody would write ready.  Wait for it, bounded.
	_i=0
	while ! lock_free; do
		_i=$((_i + 1))
		[ $_i -lt 100000 ] || { echo "# run/backtest.lock stays held"; return 1; }
	done
	rm -f "$TRASH/ready"
	mkfifo "$TRASH/ready"
	setsid flock -n -E 75 "$BT_HOME/run/backtest.lock" \
	    sh "$BT_SRC/tests/fake-backtest.sh" "$TRASH/ready" "$TRASH/hold" \
	    "$@" &
	read -r FPID <"$TRASH/ready"
	FPGID=$(jq .pgid "$BT_HOME/run/backtest.status")
}
# alive PID: exists and is not a zombie.
alive() {
	test -r /proc/$1/stat && ! awk '{ exit !($3 == "Z") }' /proc/$1/stat
}

start_fake term

test_expect_success 'a healthy backtest is left alone' '
	BT_NOW=2022-10-11T00:01:00Z test_expect_code 0 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .ok and .state==\"HEALTHY\" and .pid==$FPID" &&
	json_has out "select(.check==\"scheduler_heartbeat\") | .ok" &&
	alive $FPID && alive $FPGID &&
	test_expect_code 75 flock -n -E 75 "$BT_HOME/run/backtest.lock" true &&
	test ! -e $BT_HOME/logs/recovery.log
'

test_expect_success 'a hung one is killed with its whole process group' '
	echo partial >$BT_HOME/results/backtest_results.json.tmp &&
	BT_NOW=2022-10-11T00:05:00Z test_expect_code 1 bt-watchdog >out 2>err &&
	json_has out "select(.check==\"backtest\") | .ok==false and .state==\"HUNG\" and .severity==\"WARNING\" and (.event_id|length)==16" &&
	! alive $FPID && ! alive $FPGID &&
	lock_free &&
	R=$BT_HOME/logs/recovery.log &&
	test "$(jq -r .action $R | tr "\n" " ")" = "stack_dump sigterm sigkill rename_incomplete quick_check restart " &&
	json_has $R "select(.action==\"quick_check\") | .ok" &&
	test -s $BT_HOME/logs/backtest-stack.20221011T000500Z.$FPID.txt &&
	test -e $BT_HOME/results/backtest_results.incomplete_20221011T000500Z.json &&
	test ! -e $BT_HOME/results/backtest_results.json.tmp &&
	test "$(sql $ST "select prog, pid, started, ended, exit from runs where prog=\"bt-backtest\"")" = "bt-backtest|$FPID|1665446400000|1665446700000|137" &&
	test "$(sql $ST "select count(*) from events where prog=\"bt-watchdog\" and kind=\"recovery\"")" = 6 &&
	test "$(sql $ST "select count(*) from actions where action=\"restart\"")" = 1
'

test_expect_success 'the next run sees it recovered, and records the run only once' '
	BT_NOW=2022-10-11T00:06:00Z test_expect_code 0 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .ok and .severity==\"INFO\" and (.message|startswith(\"recovered (was HUNG)\"))" &&
	BT_NOW=2022-10-11T00:07:00Z test_expect_code 0 bt-watchdog >out &&
	! grep -q severity out &&
	test "$(sql $ST "select count(*) from runs where prog=\"bt-backtest\"")" = 1
'

test_expect_success 'with gdb the stack dump holds the backtrace' '
	test -x /usr/bin/gdb || { echo "# no gdb: skipped"; exit 0; }
	start_fake &&
	BT_WATCHDOG_GDB=1 BT_NOW=2022-10-11T00:13:00Z test_expect_code 1 bt-watchdog >out &&
	! alive $FPID &&
	grep -q "^# gdb -batch -p $FPID" $BT_HOME/logs/backtest-stack.20221011T001300Z.$FPID.txt &&
	grep -q "^# /proc/$FPID/status" $BT_HOME/logs/backtest-stack.20221011T001300Z.$FPID.txt
'

test_expect_success 'a stale status naming an unrelated process: that process survives' '
	setsid sh -c "read -r x <\"$TRASH/hold\"" &
	other=$! &&
	i=0; while ! test -r /proc/$other/stat || test "$(awk "{print \$5}" /proc/$other/stat)" != $other; do
		i=$((i + 1)); test $i -lt 100000; done &&
	ticks=$(awk "{print \$22}" /proc/$other/stat) &&
	printf "{\"pid\":%d,\"pgid\":%d,\"start_ticks\":%s,\"boot_id\":\"%s\",\"started\":\"2022-10-11T00:20:00Z\",\"heartbeat\":\"2022-10-11T00:20:00Z\",\"state\":\"running\",\"exit\":null,\"ended\":null,\"results\":\"\"}\n" \
	    $other $other $ticks $(cat /proc/sys/kernel/random/boot_id) >$BT_HOME/run/backtest.status &&
	BT_NOW=2022-10-11T00:30:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"DEAD\" and .severity==\"CRITICAL\" and (.message|contains(\"is not the backtest\"))" &&
	alive $other &&
	test "$(jq -r "select(.ts==\"2022-10-11T00:30:00Z\") | .action" $BT_HOME/logs/recovery.log)" = restart &&
	kill $other
'

# The hole of issue 15: the status names an unrelated process exactly
# (pid, group, start time, boot id) while a process of another group
# holds run/backtest.lock.  Holding the lock is not being the backtest:
# /proc/locks must name a holder in the recorded group.
test_expect_success 'an exact status of an unrelated process while another group holds the lock: nobody signalled' '
	mkfifo hold2 ready2
	setsid sh -c "read -r x <\"$TRASH/hold2\"" &
	other=$!
	setsid flock -n -E 75 "$BT_HOME/run/backtest.lock" sh -c "echo \$\$ >\"$TRASH/ready2\"; read -r x <\"$TRASH/hold2\"" &
	holder=$!
	read -r inner <ready2
	# Whatever fails below, the three go: the later tests need the lock.
	if i=0; while ! test -r /proc/$other/stat || test "$(awk "{print \$5}" /proc/$other/stat)" != $other; do
		i=$((i + 1)); test $i -lt 100000; done &&
	    ticks=$(awk "{print \$22}" /proc/$other/stat) &&
	    printf "{\"pid\":%d,\"pgid\":%d,\"start_ticks\":%s,\"boot_id\":\"%s\",\"started\":\"2022-10-12T00:20:00Z\",\"heartbeat\":\"2022-10-12T00:20:00Z\",\"state\":\"running\",\"exit\":null,\"ended\":null,\"results\":\"\"}\n" \
	        $other $other $ticks $(cat /proc/sys/kernel/random/boot_id) >$BT_HOME/run/backtest.status &&
	    grep -q "FLOCK .* $holder " /proc/locks &&
	    BT_NOW=2022-10-12T00:30:00Z test_expect_code 1 bt-watchdog >out &&
	    json_has out "select(.check==\"backtest\") | .state==\"DEAD\" and (.message|contains(\"held outside its process group\"))" &&
	    ! jq -e "select(.action==\"sigterm\" or .action==\"sigkill\")" out >/dev/null &&
	    alive $other && alive $holder && alive $inner
	then rc=0; else rc=1; fi
	kill $other $holder $inner
	exit $rc
'

test_expect_success 'a status whose start time does not match is not signalled either, lock held or not' '
	start_fake &&
	jq -c ".start_ticks += 1 | .heartbeat = \"2022-10-11T00:00:00Z\"" $BT_HOME/run/backtest.status >s &&
	mv s $BT_HOME/run/backtest.status &&
	BT_NOW=2022-10-11T00:40:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"DEAD\"" &&
	alive $FPID && alive $FPGID &&
	kill -KILL -$FPGID
'

test_expect_success 'dry run: reports, touches nothing, signals nothing' '
	start_fake &&
	cp $ST before.db &&
	BT_NOW=2022-10-11T00:55:00Z test_expect_code 1 bt-watchdog -n >out &&
	json_has out "select(.check==\"backtest\") | .state==\"HUNG\"" &&
	json_has out "select(.event==\"recovery\") | .dry_run" &&
	alive $FPID &&
	cmp $ST before.db &&
	kill -KILL -$FPGID
'

test_expect_success 'the live trader down: the backtest is stopped and paused, CRITICAL' '
	rm -f $BT_HOME/run/backtest.paused &&
	start_fake &&
	: >trader.hb && touch -d 2022-10-11T01:00:00Z trader.hb &&
	BT_TRADER_HEARTBEAT=$TRASH/trader.hb BT_NOW=2022-10-11T01:20:00Z \
	    test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"trader\") | .state==\"dead\" and .severity==\"CRITICAL\"" &&
	! alive $FPID && lock_free &&
	test -e $BT_HOME/run/backtest.paused &&
	json_has $BT_HOME/run/backtest.paused ".reason==\"the live trader is down\"" &&
	BT_TRADER_HEARTBEAT=$TRASH/trader.hb BT_NOW=2022-10-11T01:21:00Z \
	    test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"PAUSED\""
'

test_done
