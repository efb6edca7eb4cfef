#!/bin/sh
# bt-watchdog's other checks: the dead-man's switch per job from runs
# (BT_NOW, no sleeping), a missed backtest slot, db/LOCKED, the decision
# matrix (re-fetch, restore), the scheduler heartbeat and the external
# ping, whose URL is a credential.
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES=1d BT_AUTO_REFETCH=0
export BT_NOW=2022-10-11T00:00:00Z BACKTEST_ENABLED=0
ST=$BT_HOME/db/bt_state.db
FT=$DATA/freqtrade
bt-fetch --import $FT/BTC_USDT-1d.json $FT/ETH_USDT-1d.json >/dev/null

test_expect_success 'the dead-man fires for a job whose last success is too old' '
	BT_NOW=2022-10-10T04:00:00Z bt-digest --daily </dev/null >/dev/null &&
	export BT_WATCHDOG_JOBS="bt-digest/daily:1440:120 bt-fetch/import:60:30" &&
	BT_NOW=2022-10-11T01:59:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"job:bt-digest/daily\") | .ok and .message==\"bt-digest/daily: last success 2022-10-10T04:00:00Z\"" &&
	json_has out "select(.check==\"job:bt-fetch/import\") | .ok==false" &&
	BT_NOW=2022-10-11T06:01:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"job:bt-digest/daily\") | .ok==false and .severity==\"CRITICAL\" and .state==\"overdue\" and .last_success==\"2022-10-10T04:00:00Z\"" &&
	id=$(jq -r "select(.check==\"job:bt-digest/daily\") | .event_id" out) &&
	test "$(sql $ST "select severity, kind from events where event_id=\"$id\"")" = "CRITICAL|job:bt-digest/daily"
'

test_expect_success 'the same condition a minute later raises no new event, and carries its id' '
	n=$(sql $ST "select count(*) from events") &&
	BT_WATCHDOG_JOBS="bt-digest/daily:1440:120" BT_NOW=2022-10-11T06:02:00Z \
	    test_expect_code 1 bt-watchdog >out &&
	test "$(sql $ST "select count(*) from events")" = "$n" &&
	test "$(jq -r "select(.check==\"job:bt-digest/daily\") | .event_id" out)" = "$(sql $ST "select event_id from events where kind=\"job:bt-digest/daily\"")" &&
	bt-digest -n <out >d &&
	json_has d "select(.event==\"summary\") | .duplicates >= 1 and .recorded == 0"
'

test_expect_success 'a job that never ran fires too, counted from the first watchdog run' '
	BT_WATCHDOG_JOBS="bt-validate:1440:120" BT_NOW=2022-10-12T03:58:00Z \
	    test_expect_code 0 bt-watchdog >out &&
	BT_WATCHDOG_JOBS="bt-validate:1440:120" BT_NOW=2022-10-12T04:00:00Z \
	    test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"job:bt-validate\") | .ok==false and (.message|contains(\"since the watchdog started at 2022-10-11T01:59:00Z\"))"
'

export BT_WATCHDOG_JOBS=

test_expect_success 'a missed backtest slot is DEAD; not before its 15 minutes' '
	BACKTEST_ENABLED=1 BT_NOW=2022-10-12T23:44:00Z test_expect_code 0 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .ok and .state==\"HEALTHY\"" &&
	BACKTEST_ENABLED=1 BT_NOW=2022-10-12T23:46:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"DEAD\" and (.message|contains(\"the 2022-10-12T23:30:00Z slot passed 16 minutes ago\"))" &&
	BACKTEST_ENABLED=1 BT_NOW=2022-10-13T00:46:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"DEAD\" and (.message|contains(\"2022-10-13T00:30:00Z slot\"))" &&
	test "$(sql $ST "select count(*) from actions where action=\"restart\"")" = 2
'

test_expect_success 'a finished run in the status file is recorded in runs, once, and counts' '
	mkdir -p $BT_HOME/run &&
	echo "{\"pid\":4242,\"pgid\":4242,\"start_ticks\":1,\"boot_id\":\"x\",\"started\":\"2022-10-13T23:30:00Z\",\"heartbeat\":\"2022-10-14T00:10:00Z\",\"state\":\"done\",\"exit\":0,\"ended\":\"2022-10-14T00:10:00Z\",\"results\":\"r.json\"}" >$BT_HOME/run/backtest.status &&
	BACKTEST_ENABLED=1 BT_NOW=2022-10-14T00:20:00Z test_expect_code 0 bt-watchdog >out &&
	BACKTEST_ENABLED=1 BT_NOW=2022-10-14T02:20:00Z test_expect_code 0 bt-watchdog >out &&
	test "$(sql $ST "select pid, started, ended, exit, summary from runs where prog=\"bt-backtest\"")" = "4242|1665703800000|1665706200000|0|{\"state\":\"done\",\"results\":\"r.json\",\"recorded_by\":\"bt-watchdog\"}"
'

test_expect_success 'db/LOCKED whose owner is gone is CRITICAL; a live owner is fine' '
	mkdir -p $BT_HOME/db &&
	echo "{\"pid\":$$,\"start_ticks\":$(awk "{print \$22}" /proc/$$/stat),\"boot_id\":\"$(cat /proc/sys/kernel/random/boot_id)\",\"op\":\"restore\",\"started\":\"2022-10-14T00:00:00Z\"}" >$BT_HOME/db/LOCKED &&
	BT_NOW=2022-10-14T02:21:00Z test_expect_code 0 bt-watchdog >out &&
	json_has out "select(.check==\"store_lock\") | .ok and .state==\"restoring\"" &&
	jq -c ".start_ticks += 1" $BT_HOME/db/LOCKED >l && mv l $BT_HOME/db/LOCKED &&
	BT_NOW=2022-10-14T02:22:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"store_lock\") | .ok==false and .severity==\"CRITICAL\" and .state==\"owner_gone\"" &&
	rm $BT_HOME/db/LOCKED
'

test_expect_success 'stale data: the update is re-run, then a manual look after 3 failures' '
	mkfifo refetched &&
	export BT_AUTO_REFETCH=1 BT_REFETCH_CMD="echo refetch >$TRASH/refetched" &&
	BT_NOW=2022-11-01T00:00:00Z test_expect_code 1 bt-watchdog >out &&
	test "$(timeout 20 cat refetched)" = refetch &&
	json_has out "select(.check==\"freshness\") | .state==\"stale\" and .attempts==1" &&
	BT_NOW=2022-11-01T00:10:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"freshness\") | .attempts==1" &&
	BT_NOW=2022-11-01T00:30:00Z test_expect_code 1 bt-watchdog >out &&
	test "$(timeout 20 cat refetched)" = refetch &&
	BT_NOW=2022-11-01T01:00:00Z test_expect_code 1 bt-watchdog >out &&
	test "$(timeout 20 cat refetched)" = refetch &&
	BT_NOW=2022-11-01T01:30:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"freshness\") | .state==\"manual\" and .severity==\"CRITICAL\" and .attempts==3" &&
	test "$(jq -r "select(.action==\"refetch\") | .ok" $BT_HOME/logs/recovery.log | sort | uniq -c | tr -s " ")" = " 3 true"
'

test_expect_success 'integrity failure: CRITICAL at once; the restore waits for the trader to be down' '
	mkfifo restored &&
	export BT_RESTORE_CMD="echo restore >$TRASH/restored" &&
	echo "{\"prog\":\"bt-validate\",\"event\":\"integrity\",\"severity\":\"CRITICAL\",\"message\":\"integrity_check: 2 problems\"}" |
	BT_NOW=2022-10-11T00:00:00Z bt-digest -q --critical >/dev/null &&
	BT_NOW=2022-10-11T00:00:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"integrity\") | .state==\"waiting\" and .severity==\"CRITICAL\" and (.message|contains(\"not watched\"))" &&
	: >trader.pid && echo $$ >trader.pid &&
	BT_TRADER_PIDFILE=$TRASH/trader.pid BT_NOW=2022-10-11T00:01:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"integrity\") | .state==\"waiting\" and (.message|contains(\"it is running\"))" &&
	echo 999999999 >trader.pid &&
	BT_TRADER_PIDFILE=$TRASH/trader.pid BT_NOW=2022-10-11T00:02:00Z test_expect_code 1 bt-watchdog >out &&
	test "$(timeout 20 cat restored)" = restore &&
	json_has out "select(.action==\"restore\") | .ok" &&
	BT_TRADER_PIDFILE=$TRASH/trader.pid BT_NOW=2022-10-11T00:03:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"integrity\") | .state==\"restoring\"" &&
	test "$(jq -r "select(.action==\"restore\") | .action" $BT_HOME/logs/recovery.log)" = restore
'

# A fork that fails: nobody with one process allowed (RLIMIT_NPROC, which
# root ignores) cannot start the re-fetch.  The action is recorded as
# failed with the reason, the freshness check still says stale.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then
	test_expect_success 'a re-fetch that cannot start is a failed action that says why' '
		chmod 755 $TRASH && chown -R nobody:nogroup $BT_HOME &&
		# LeakSanitizer stops the world with a thread of its own at exit,
		# which one process allowed refuses: no leak check for this run.
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		BT_NOW=2022-11-01T02:30:00Z BT_REFETCH_MAX_FAILURES=9 BT_AUTO_REFETCH=1 \
		    BT_REFETCH_CMD=true test_expect_code 1 \
		    prlimit --nproc=1:1 setpriv --reuid=nobody --regid=nogroup \
		    --clear-groups bt-watchdog >out 2>err &&
		json_has out "select(.check==\"freshness\") | .state==\"stale\" and .attempts>=1" &&
		json_has out "select(.action==\"refetch\") | .ok==false and (.message|test(\"^data stale \\\\(0 of 2 pairs current\\\\): could not re-run the update, attempt [0-9] of 9: fork: Resource temporarily unavailable$\"))" &&
		test "$(jq -r "select(.action==\"refetch\") | .ok" $BT_HOME/logs/recovery.log | tail -1)" = false &&
		chown -R root:root $BT_HOME
	'
else
	test_skip 'a re-fetch that cannot start is a failed action that says why' 'needs root, setpriv and prlimit'
fi

export BT_AUTO_REFETCH=0

test_expect_success 'the scheduler heartbeat is touched every run' '
	BT_NOW=2022-10-11T00:05:00Z bt-watchdog >out || true
	json_has $BT_HOME/run/scheduler.heartbeat ".ts==\"2022-10-11T00:05:00Z\" and .pid > 1"
'

test_expect_success 'the external ping; its URL never printed' '
	TOK=555:AApingSecretXYZ &&
	start_server telegram --token $TOK &&
	BT_HEARTBEAT_URL=$telegram_URL/bot$TOK/getMe BT_NOW=2022-10-11T00:06:00Z \
	    bt-watchdog >out 2>err || true
	json_has out "select(.check==\"heartbeat_ping\") | .ok" &&
	BT_HEARTBEAT_URL=http://127.0.0.1:9/ping/AApingSecretXYZ BT_NOW=2022-10-11T00:07:00Z \
	    test_expect_code 1 bt-watchdog >out2 2>err2 &&
	json_has out2 "select(.check==\"heartbeat_ping\") | .ok==false and .severity==\"WARNING\"" &&
	! grep -rF AApingSecretXYZ out err out2 err2 $BT_HOME
'

test_done
