#!/bin/sh
# fake-backtest.sh READY HOLD [term]: a stand-in for bt-backtest in the
# watchdog tests.  Run it under the crontab's wrapper,
#	setsid flock -n -E 75 $BT_HOME/run/backtest.lock sh fake-backtest.sh ...
# It writes run/backtest.status with its own identity (pid, process
# group, /proc start time, boot id), state running and the heartbeat
# $FAKE_HEARTBEAT (default BT_NOW), then says so on the FIFO READY and
# blocks opening the FIFO HOLD, which nobody writes: a hang that costs no
# CPU and no wall-clock time.  With `term' it ignores SIGTERM.
ready=$1 hold=$2
[ "${3:-}" = term ] && trap '' TERM
set -- $(cat /proc/$$/stat)
pgid=$5 ticks=${22}
boot=$(cat /proc/sys/kernel/random/boot_id)
hb=${FAKE_HEARTBEAT:-$BT_NOW}
mkdir -p "$BT_HOME/run" "$BT_HOME/results"
printf '{"pid":%d,"pgid":%d,"start_ticks":%s,"boot_id":"%s","started":"%s","heartbeat":"%s","state":"running","exit":null,"ended":null,"results":"%s"}\n' \
    $$ "$pgid" "$ticks" "$boot" "${FAKE_STARTED:-$hb}" "$hb" \
    "$BT_HOME/results/backtest_results.json" >"$BT_HOME/run/backtest.status.tmp"
mv "$BT_HOME/run/backtest.status.tmp" "$BT_HOME/run/backtest.status"
[ -n "${FAKE_TMP:-}" ] && echo partial >"$BT_HOME/results/backtest_results.json.tmp"
echo $$ >"$ready"
read -r _ <"$hold"
