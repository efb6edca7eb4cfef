#!/bin/sh
# The backtest health states not covered elsewhere: STALLED (heartbeat
# fresh, run past its timeout plus grace) and FLAKY (more than 5 WARNING
# or CRITICAL lines in its JSON-lines log in the last hour).
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1d BT_WATCHDOG_JOBS= BT_AUTO_REFETCH=0
export BT_BACKTEST_KILL_WAIT=0.3 BT_WATCHDOG_GDB=0
export BT_NOW=2022-10-11T00:00:00Z BACKTEST_TIMEOUT_MINUTES=120
bt-fetch --import $DATA/freqtrade/BTC_USDT-1d.json >/dev/null
mkdir -p $BT_HOME/run $BT_HOME/logs
mkfifo "$TRASH/hold"
alive() {
	test -r /proc/$1/stat && ! awk '{ exit !($3 == "Z") }' /proc/$1/stat
}

test_expect_success 'a run past its timeout plus grace, heartbeat fresh, is STALLED and stopped' '
	mkfifo $TRASH/ready &&
	{ FAKE_STARTED=2022-10-10T21:00:00Z FAKE_HEARTBEAT=2022-10-11T00:00:00Z \
	    setsid flock -n -E 75 $BT_HOME/run/backtest.lock \
	    sh $BT_SRC/tests/fake-backtest.sh $TRASH/ready $TRASH/hold & } &&
	read -r pid <$TRASH/ready &&
	test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"STALLED\" and .ok==false" &&
	! alive $pid &&
	json_has $BT_HOME/logs/recovery.log "select(.action==\"sigterm\") | .ok"
'

test_expect_success 'more than 5 problems in the last hour of its log is FLAKY' '
	for i in 1 2 3 4 5 6; do
		printf "{\"ts\":\"2022-10-10T23:3%d:00Z\",\"prog\":\"bt-backtest\",\"event\":\"no_data\",\"severity\":\"WARNING\",\"message\":\"x\"}\n" $i
	done >$BT_HOME/logs/bt-backtest.jsonl &&
	printf "{\"ts\":\"2022-10-10T20:00:00Z\",\"prog\":\"bt-backtest\",\"event\":\"no_data\",\"severity\":\"WARNING\",\"message\":\"old\"}\n" >>$BT_HOME/logs/bt-backtest.jsonl &&
	BT_NOW=2022-10-11T00:20:00Z test_expect_code 1 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .state==\"FLAKY\" and .severity==\"WARNING\" and .problems==6"
'

test_expect_success 'five problems are not FLAKY' '
	sed -i 1d $BT_HOME/logs/bt-backtest.jsonl &&
	BT_NOW=2022-10-11T00:21:00Z test_expect_code 0 bt-watchdog >out &&
	json_has out "select(.check==\"backtest\") | .ok and .state != \"FLAKY\""
'

test_done
