#!/bin/sh
# bt-backtest --job: the status file and its states, the results file and
# .prev, the incomplete file on SIGTERM and on timeout, the seed's
# controls (BACKTEST_ENABLED=0, run/backtest.paused) and --if-due.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
FT=$DATA/freqtrade
STATUS=$BT_HOME/run/backtest.status
RES=$BT_HOME/results/backtest_results.json
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_HEARTBEAT_SECONDS=0
# A held run that a failing test leaves behind ends within 2 minutes.
export BACKTEST_TIMEOUT_MINUTES=2

# hold DIR: FIFOs for BT_TEST_HOLD (see bt-backtest.c, test_hold).
hold() {
	rm -rf "$1" && mkdir "$1" && mkfifo "$1/in" "$1/out"
}
# holdpid DIR: the pid a held job wrote; gives up after a minute (a job
# that failed before its hold point), so a failure never hangs the suite.
holdpid() {
	timeout 60 sh -c 'read -r p <"$1" && echo "$p"' _ "$1/out"
}

test_expect_success 'setup: a store with BTC and ETH 4h' '
	bt-fetch --import $FT/BTC_USDT-4h.json $FT/ETH_USDT-4h.json >/dev/null
'

test_expect_success 'the job writes the results file and a done status' '
	test_expect_code 0 bt-backtest --job >out &&
	json_has out "select(.event==\"summary\") | .state==\"done\" and .exit==0 and .symbols==2" &&
	jq -e "(keys_unsorted) == [\"meta\",\"portfolio\",\"symbols\",\"signals_validated\"]" $RES &&
	jq -e ".meta | .complete==true and .stopped==null and .timeframe==\"4h\" and .strategy==\"sma-cross\" and .candles==250 and .engine_version!=null and .mode==\"native\" and .from!=null and .to==\"2022-10-10T20:00:00Z\"" $RES &&
	jq -e "(.symbols | keys) == [\"BTCUSDT\",\"ETHUSDT\"]" $RES &&
	jq -e ".signals_validated | length==2 and all(.[]; has(\"symbol\") and has(\"strategy\") and has(\"timestamp\") and has(\"position\") and (.passed|type)==\"boolean\" and (.reasons|type)==\"array\")" $RES &&
	jq -e ".portfolio.trades == (.symbols.BTCUSDT.trades + .symbols.ETHUSDT.trades)" $RES
'

test_expect_success 'the status file holds what contracts.md lists' '
	jq -e "(.pid|type)==\"number\" and (.pgid|type)==\"number\" and (.start_ticks|type)==\"number\" and .started==\"2022-10-11T00:00:00Z\" and .heartbeat==\"2022-10-11T00:00:00Z\" and .state==\"done\" and .exit==0 and .ended==\"2022-10-11T00:00:00Z\" and .results==\"$RES\"" $STATUS &&
	test "$(jq -r .boot_id $STATUS)" = "$(cat /proc/sys/kernel/random/boot_id)" &&
	test "$(jq -r .pgid $STATUS)" = "$(ps -o pgid= $$ | tr -d " ")" &&
	test "$(stat -c %a $RES)" = 640
'

test_expect_success 'a second run keeps the first results as .prev' '
	cp $RES first.json &&
	BT_NOW=2022-10-11T01:00:00Z test_expect_code 0 bt-backtest --job >out2 &&
	cmp first.json $RES.prev &&
	jq -e ".meta.time==\"2022-10-11T01:00:00Z\"" $RES &&
	test ! -e $RES.tmp
'

test_expect_success 'while it runs, the status says running with a live pid and a fresh heartbeat' '
	hold h &&
	{ BT_TEST_HOLD=1:h bt-backtest --job >out3 & } &&
	pid=$(holdpid h) &&
	jq -e ".state==\"running\" and .exit==null and .ended==null and .pid==$pid and .progress.done==1 and .progress.total==2" $STATUS &&
	test "$(jq -r .start_ticks $STATUS)" = "$(cut -d" " -f22 /proc/$pid/stat)" &&
	beats=$(jq .beats $STATUS) &&
	echo go >h/in &&
	wait $pid &&
	jq -e ".state==\"done\" and .exit==0 and .beats > $beats" $STATUS
'

test_expect_success 'SIGTERM: stopped, exit 75, partial results under the incomplete name' '
	cp $RES before.json &&
	hold h &&
	{ BT_TEST_HOLD=1:h BT_NOW=2022-10-11T02:03:04Z bt-backtest --job >out4 & } &&
	pid=$(holdpid h) &&
	kill -TERM $pid &&
	rc=0 && wait $pid || rc=$? &&
	test $rc = 75 &&
	jq -e ".state==\"stopped\" and .exit==75" $STATUS &&
	inc=$BT_HOME/results/backtest_results.incomplete_20221011T020304Z.json &&
	jq -e ".meta.complete==false and .meta.stopped==\"SIGTERM\" and (.symbols|keys)==[\"BTCUSDT\"] and (.signals_validated|length)==1" $inc &&
	cmp before.json $RES &&
	json_has out4 "select(.event==\"stopped\") | .severity==\"WARNING\" and .incomplete==\"$inc\"" &&
	json_has out4 "select(.event==\"summary\") | .state==\"stopped\" and .exit==75"
'

test_expect_success 'BACKTEST_TIMEOUT_MINUTES: timeout, exit 75, incomplete file' '
	hold h &&
	BT_TEST_HOLD=1:h BACKTEST_TIMEOUT_MINUTES=0.001 BT_NOW=2022-10-11T02:05:00Z \
	    test_expect_code 75 bt-backtest --job >out5 &&
	jq -e ".state==\"timeout\" and .exit==75" $STATUS &&
	jq -e ".meta.complete==false and .meta.stopped==\"timeout\"" $BT_HOME/results/backtest_results.incomplete_20221011T020500Z.json &&
	json_has out5 "select(.event==\"timeout\") | .severity==\"WARNING\""
'

test_expect_success 'BACKTEST_ENABLED=0: exit 75, an INFO line, nothing written' '
	cp $STATUS st.before &&
	BACKTEST_ENABLED=0 test_expect_code 75 bt-backtest --job >out6 &&
	json_has out6 "select(.event==\"disabled\") | .severity==\"INFO\"" &&
	cmp st.before $STATUS
'

test_expect_success 'run/backtest.paused: exit 75, a WARNING line, nothing written' '
	touch $BT_HOME/run/backtest.paused &&
	test_expect_code 75 bt-backtest --job >out7 &&
	rm $BT_HOME/run/backtest.paused &&
	json_has out7 "select(.event==\"paused\") | .severity==\"WARNING\"" &&
	cmp st.before $STATUS
'

test_expect_success '--if-due: not due after a successful run since the slot' '
	BT_NOW=2022-10-11T00:10:00Z test_expect_code 0 bt-backtest --job >o1 &&
	BT_NOW=2022-10-11T01:30:00Z test_expect_code 0 bt-backtest --job --if-due >o2 &&
	json_has o2 "select(.event==\"not_due\") | .slot==\"2022-10-10T23:30:00Z\"" &&
	test "$(wc -l <o2)" = 1 &&
	test "$(jq -r .started $STATUS)" = 2022-10-11T00:10:00Z
'

test_expect_success '--if-due: due again after the next slot, and after a failed run' '
	BT_NOW=2022-10-11T23:31:00Z test_expect_code 0 bt-backtest --job --if-due >o3 &&
	json_has o3 "select(.event==\"summary\") | .state==\"done\"" &&
	BT_NOW=2022-10-12T23:35:00Z BT_DB=$TRASH/nothing.db test_expect_code 66 bt-backtest --job >o4 &&
	jq -e ".state==\"failed\" and .exit==66" $STATUS &&
	json_has o4 "select(.event==\"backtest_failed\") | .severity==\"CRITICAL\"" &&
	BT_NOW=2022-10-13T00:30:00Z test_expect_code 0 bt-backtest --job --if-due >o5 &&
	json_has o5 "select(.event==\"summary\") | .state==\"done\""
'

test_expect_success 'BACKTEST_RESULTS moves the results file' '
	BACKTEST_RESULTS=$TRASH/elsewhere/r.json test_expect_code 0 bt-backtest --job -q >/dev/null &&
	jq -e ".meta.complete" $TRASH/elsewhere/r.json
'

test_expect_success 'configuration errors exit 78, usage errors 64' '
	BACKTEST_TIMEOUT_MINUTES=soon test_expect_code 78 bt-backtest --job &&
	BACKTEST_MIN_TRADES=x test_expect_code 78 bt-backtest &&
	test_expect_code 64 bt-backtest --if-due &&
	test_expect_code 64 bt-backtest --job --grid fast=5..10
'

test_done
