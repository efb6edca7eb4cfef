#!/bin/sh
# Isolation (the seed's 1.3): the store's bytes never change, not even when
# the job is killed midway; no read transaction outlives a pair's load, so
# a checkpoint of the live store completes while a backtest runs; no
# network.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z BT_HEARTBEAT_SECONDS=0
export BT_SYMBOLS="BTCUSDT ETHUSDT" BACKTEST_TIMEFRAME=1h BACKTEST_TIMEOUT_MINUTES=2
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db

hold() {
	rm -rf "$1" && mkdir "$1" && mkfifo "$1/in" "$1/out"
}
# holdpid DIR: the pid a held job wrote; gives up after a minute (a job
# that failed before its hold point), so a failure never hangs the suite.
holdpid() {
	timeout 60 sh -c 'read -r p <"$1" && echo "$p"' _ "$1/out"
}
sums() {
	sha256sum "$DB" "$DB-wal" "$ST"
}

test_expect_success 'setup: a store whose WAL holds frames a killed writer left' '
	bt-fetch --import $DATA/freqtrade/BTC_USDT-1h.json $DATA/freqtrade/ETH_USDT-1h.json >/dev/null &&
	test_expect_code 137 python3 -c "
import os, signal, sqlite3
db = sqlite3.connect(\"$DB\")
db.execute(\"PRAGMA wal_autocheckpoint=0\")
db.execute(\"CREATE TABLE scratch(x)\")
db.executemany(\"INSERT INTO scratch VALUES (?)\", [(i,) for i in range(5000)])
db.commit()
os.kill(os.getpid(), signal.SIGKILL)" &&
	test "$(stat -c %s $DB-wal)" -gt 4096 &&
	sums >before
'

test_expect_success 'an ad hoc run and a job leave the store and the state file alone' '
	test_expect_code 0 bt-backtest --last 2000 >out &&
	json_has out "select(.event==\"summary\") | .done==2 and .exit==0" &&
	test_expect_code 0 bt-backtest --job -q >/dev/null &&
	sums >after && test_cmp before after
'

test_expect_success 'a job killed with SIGKILL midway leaves them alone too' '
	rm -f $BT_HOME/results/backtest_results.json &&
	hold h &&
	{ BT_TEST_HOLD=1:h bt-backtest --job >out2 & } &&
	pid=$(holdpid h) &&
	kill -KILL $pid &&
	rc=0 && wait $pid || rc=$? &&
	test $rc = 137 &&
	sums >after2 && test_cmp before after2 &&
	test ! -e $BT_HOME/results/backtest_results.json &&
	jq -e ".state==\"running\" and .pid==$pid" $BT_HOME/run/backtest.status
'

test_expect_success 'between two pairs no read is open: a TRUNCATE checkpoint completes' '
	hold h &&
	{ BT_TEST_HOLD=1:h bt-backtest --job >out3 & } &&
	pid=$(holdpid h) &&
	python3 -c "
import sqlite3
db = sqlite3.connect(\"$DB\", timeout=0.5)
print(db.execute(\"PRAGMA wal_checkpoint(TRUNCATE)\").fetchone())" >ckpt &&
	echo go >h/in &&
	wait $pid &&
	test "$(cat ckpt)" = "(0, 0, 0)" &&
	test "$(stat -c %s $DB-wal)" = 0 &&
	json_has out3 "select(.event==\"summary\") | .state==\"done\""
'

test_expect_success 'no socket is opened, no order sent' '
	if command -v strace >/dev/null 2>&1; then
		# LeakSanitizer cannot run under ptrace.
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		    strace -f -e trace=socket,connect,sendto -o trace bt-backtest --last 500 >/dev/null &&
		test "$(grep -c -E "socket|connect|sendto" trace)" = 0
	else
		echo "# strace missing: skipped" >&2
	fi
'

test_done
