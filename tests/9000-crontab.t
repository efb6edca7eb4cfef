#!/bin/sh
# crontab/bt, rendered as make install-cron renders it: every command line
# runs and works against the test servers, and a second copy started while
# the first holds its lock exits 75 without running.
. "$(dirname "$0")/lib.sh"

BIN=$(dirname "$(command -v bt-fetch)")
NOW=2025-06-01T04:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
TOKEN=424242:AAcrontabTestTokenZZ
start_server telegram --token $TOKEN --messages $TRASH/messages
printf '%s\n' "$TOKEN" >$TRASH/token
chmod 600 $TRASH/token
FREDKEY=abcdefghijklmnopqrstuvwxyz012345
start_server fred --data $DATA/fred.json --key $FREDKEY
printf '%s\n' "$FREDKEY" >$TRASH/fredkey
chmod 600 $TRASH/fredkey
cat >$BT_CONF <<EOF
BT_SYMBOLS=BTCUSDT ETHUSDT
BT_TIMEFRAMES=1d 4h 1h
BT_SINCE_DAYS=20
BT_BINANCE_URL=$binance_URL
BACKTEST_CANDLES=100
BT_TELEGRAM_URL=$telegram_URL
BT_BINANCE_FUTURES_URL=$binance_URL
BT_FRED_URL=$fred_URL
FRED_API_KEY_FILE=$TRASH/fredkey
TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
TELEGRAM_BACKTEST_CHANNEL=@bt_ops
EOF
export BT_NOW=$NOW
mkdir -p $BT_HOME/db $BT_HOME/run $BT_HOME/logs $BT_HOME/backups $BT_HOME/results
"$BT_SRC/scripts/render-cron" -b "$BIN" -h "$BT_HOME" -u nobody -g nogroup \
    -c "$BT_CONF" -H 23 -M 30 "$BT_SRC/crontab/bt" >bt.cron

# The command lines, in the order of the file: fields after the five
# time fields and the user (tab-separated).
grep -v '^#' bt.cron | grep '	' | cut -f3- >commands
PATHLINE=$(sed -n 's/^PATH=//p' bt.cron)

# cronrun N: the Nth command, as cron runs it (/bin/sh -c, its PATH).
cronrun() {
	env PATH="$PATHLINE" BT_HOME="$BT_HOME" BT_CONF="$BT_CONF" \
	    sh -c "$(sed -n "${1}p" commands)"
}
runs() {	# runs PROG: rows in the state file's runs table
	sql $BT_HOME/db/bt_state.db "select count(*) from runs where prog='$1'"
}

test_expect_success 'the rendered crontab is ready for /etc/cron.d' '
	grep -q "^PATH=$BIN:" bt.cron && grep -q "^MAILTO=" bt.cron &&
	grep -q "^SHELL=/bin/sh" bt.cron &&
	! grep -q "@[A-Z_]*@" bt.cron &&
	test "$(wc -l <commands)" = 11 &&
	! grep -q "%" commands &&
	test "$(grep -c "flock -n -o -E 75 run/" commands)" = 11 &&
	test "$(grep -c "^cd $BT_HOME && umask 027 && flock" commands)" = 11 &&
	grep "bt-backtest" commands | grep -q "nice" &&
	! grep "bt-backtest" commands | grep -q "timeout" &&
	grep -q "^30 23,0,1 \* \* \*	nobody	" bt.cron
'

test_expect_success 'the update runs with BT_FETCH_DEADLINE, under a timeout 2 minutes longer' '
	grep -qx "BT_FETCH_DEADLINE=780" bt.cron &&
	grep "run/fetch.lock" commands | grep -q "timeout -k 60 15m bt-fetch -q" &&
	"$BT_SRC/scripts/render-cron" -F 480 "$BT_SRC/crontab/bt" >d.cron &&
	grep -qx "BT_FETCH_DEADLINE=480" d.cron &&
	grep "run/fetch.lock" d.cron | grep -q "timeout -k 60 10m bt-fetch -q" &&
	"$BT_SRC/scripts/render-cron" -F 500 "$BT_SRC/crontab/bt" | grep "run/fetch.lock" | grep -q "timeout -k 60 620s bt-fetch -q" &&
	test "$(grep -c "timeout -k 60 10m" d.cron)" = 3 &&
	test_expect_code 64 "$BT_SRC/scripts/render-cron" -F 0 "$BT_SRC/crontab/bt" &&
	test_expect_code 64 "$BT_SRC/scripts/render-cron" -F 13m "$BT_SRC/crontab/bt"
'

test_expect_success 'the backtest slots wrap past midnight' '
	"$BT_SRC/scripts/render-cron" -H 23 -M 5 "$BT_SRC/crontab/bt" | grep -q "^5 23,0,1 " &&
	test_expect_code 64 "$BT_SRC/scripts/render-cron" -H 24 -M 0 "$BT_SRC/crontab/bt"
'

test_expect_success 'every line runs and works, in the order of the file' '
	i=1
	while [ $i -le $(wc -l <commands) ]; do
		rc=0
		cronrun $i || rc=$?
		echo "line $i: exit $rc"
		case $(sed -n "${i}p" commands) in
		*bt-watchdog*) [ $rc = 0 ] || [ $rc = 1 ] ;;
		*) [ $rc = 0 ] ;;
		esac || { cat $BT_HOME/logs/*.log; exit 1; }
		i=$((i + 1))
	done &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from ohlcv_h1")" -gt 0 &&
	test -s $BT_HOME/results/backtest_results.json &&
	for f in $BT_HOME/logs/*; do
		case $(stat -c %a "$f") in
		640|600) ;;
		*) echo "$f: mode $(stat -c %a "$f")"; exit 1 ;;
		esac
	done &&
	ls $BT_HOME/backups/db_backup_20250601.db &&
	test -e $BT_HOME/run/scheduler.heartbeat &&
	for p in bt-fetch bt-backup bt-backtest bt-digest; do
		json_has $BT_HOME/logs/$p.jsonl ".prog==\"$p\"" || exit 1
	done &&
	# -q: a healthy validation and a healthy watchdog print nothing.
	for p in bt-validate bt-watchdog; do
		test -e $BT_HOME/logs/$p.jsonl &&
		test ! -s $BT_HOME/logs/$p.jsonl || exit 1
	done &&
	test "$(sql $BT_HOME/db/bt_state.db "select count(*) from runs where prog=\"bt-validate\" and exit=0")" -ge 1 &&
	env PATH="$PATHLINE" bt-watchdog -n >wd &&
	json_has wd "select(.check==\"job:bt-backup\") | .ok and (.message|test(\"last success 2025-06-01T04:30:00Z\"))" &&
	json_has wd "select(.check==\"job:bt-fetch\") | .ok" &&
	! test -s $TRASH/messages &&
	# The digest starts its day at its first run; the next day it goes.
	BT_NOW=2025-06-02T04:30:00Z cronrun $(grep -n "run/digest.lock" commands | cut -d: -f1) &&
	json_has $TRASH/messages "select(.chat_id==\"@bt_ops\") | .text|startswith(\"bt daily digest, 2025-06-02T04:30:00Z\")" &&
	! grep -rq AAcrontabTestToken $BT_HOME $TRASH/*.log &&
	! grep -rq $FREDKEY $BT_HOME &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from macro_data")" -gt 0 &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from sentimento_mercado")" -gt 0
'

test_expect_success 'the daily jobs are not due again within the day' '
	for pat in "--if-due --integrity" "backup -q --if-due" "--vacuum --if-due" "--test-restore --if-due" "sentiment --if-due" "macro --if-due"; do
		n=$(grep -n -- "$pat" commands | cut -d: -f1)
		test_expect_code 0 cronrun $n || exit 1
	done &&
	test "$(grep -c "\"event\":\"not_due\"" $BT_HOME/logs/bt-validate.jsonl)" = 1 &&
	test "$(grep -c "\"event\":\"not_due\"" $BT_HOME/logs/bt-backup.jsonl)" = 3 &&
	test "$(grep -c "\"event\":\"not_due\"" $BT_HOME/logs/bt-fetch.jsonl)" = 2
'

test_expect_success 'a second copy exits 75 while the first holds the lock' '
	i=1
	while [ $i -le $(wc -l <commands) ]; do
		lock=$(sed -n "${i}p" commands | sed "s/.*flock -n -o -E 75 \([^ ]*\).*/\1/")
		mkfifo $TRASH/hold
		flock $BT_HOME/$lock sh -c "echo held; read x <$TRASH/hold" >$TRASH/held &
		holder=$!
		until grep -q held $TRASH/held 2>/dev/null; do :; done
		before=$(sql $BT_HOME/db/bt_state.db "select count(*) from runs")
		logs=$(cat $BT_HOME/logs/*.jsonl | wc -l)
		rc=0
		cronrun $i || rc=$?
		echo x >$TRASH/hold
		wait $holder
		rm -f $TRASH/hold $TRASH/held
		echo "line $i ($lock): exit $rc"
		[ $rc = 75 ] || exit 1
		[ "$(sql $BT_HOME/db/bt_state.db "select count(*) from runs")" = "$before" ] || exit 1
		[ "$(cat $BT_HOME/logs/*.jsonl | wc -l)" = "$logs" ] || exit 1
		i=$((i + 1))
	done
'

test_expect_success 'the job does not inherit the cron lock (flock -o)' '
	n=$(grep -n "run/fetch.lock" commands | cut -d: -f1) &&
	sed -n "${n}p" commands | sed "s/timeout -k 60 15m bt-fetch -q/sh -c \"ls -l \/proc\/\\\$\\\$\/fd\"/" >fdcmd &&
	env PATH="$PATHLINE" BT_HOME="$BT_HOME" sh -c "$(cat fdcmd)" &&
	! grep -q fetch.lock $BT_HOME/logs/bt-fetch.jsonl
'

test_expect_success 'logrotate configuration is rendered with the same paths' '
	"$BT_SRC/scripts/render-cron" -h "$BT_HOME" -u nobody -g nogroup "$BT_SRC/crontab/logrotate" >bt.logrotate &&
	grep -q "^$BT_HOME/logs/\*.jsonl" bt.logrotate &&
	grep -q "su nobody nogroup" bt.logrotate
'

test_done
