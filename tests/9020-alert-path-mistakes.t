#!/bin/sh
# The six mistakes of issue 16 that reached no phone, made again through
# the Telegram and heartbeat test servers with the clock moving a minute at
# a time as cron would move it (bt-digest and bt-watchdog every minute).
# Each time a CRITICAL must reach a working chat, or the heartbeat pings
# must stop, within 5 simulated minutes, and no event may be lost.
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-mistakes_Token-0123456789abcdXYZ
UUID=5f3c2a9e-0000-4000-8000-00000000beef
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
start_server ping --uuid "$UUID" --ctl "$TRASH/ping.ctl"
: >"$TRASH/msgs"
FT=$DATA/freqtrade/BTC_USDT-1d.json

# conf FILE [LINE...]: a working configuration, then the given lines.
conf() {
	_f=$1
	shift
	cat >"$_f" <<EOF
BT_SYMBOLS=BTCUSDT
BT_TIMEFRAMES=1d
BT_WATCHDOG_JOBS=
BACKTEST_ENABLED=0
BT_TELEGRAM_URL=$telegram_URL
BT_HEARTBEAT_URL=$ping_URL/$UUID
TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
TELEGRAM_CHAT_CRITICAL=-1001
TELEGRAM_CHAT_WARNING=-1002
TELEGRAM_CHAT_INFO=-1003
EOF
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$_f"
	done
}

# home NAME: a fresh BT_HOME with the daily candles of BTCUSDT.
home() {
	export BT_HOME=$TRASH/$1
	mkdir -p "$BT_HOME"
	BT_NOW=2022-10-11T00:00:00Z bt-fetch -q --import $FT >/dev/null
}

# minute MM: what cron runs each minute, at 2022-10-11T01:MM:00Z; their
# output and exit codes go to $L.* ($BT_HOME's disk may be full).
minute() {
	L=$TRASH/$(basename "$BT_HOME")
	_rc=0
	BT_NOW=2022-10-11T01:$1:00Z bt-digest -q </dev/null \
	    >>"$L.digest.out" 2>>"$L.digest.err" || _rc=$?
	echo "$1 bt-digest $_rc" >>"$L.exits"
	_rc=0
	BT_NOW=2022-10-11T01:$1:00Z bt-watchdog -q \
	    >>"$L.watchdog.out" 2>>"$L.watchdog.err" || _rc=$?
	echo "$1 bt-watchdog $_rc" >>"$L.exits"
}

pings() { requests ping "/$UUID"; }
# sent_to CHAT TEXT: a message with TEXT reached CHAT.
sent_to() {
	jq -e --arg c "$1" --arg t "$2" \
	    'select((.chat_id|tostring)==$c and (.text|contains($t)))' \
	    "$TRASH/msgs" >/dev/null
}
st() { sql "$BT_HOME/db/bt_state.db" "$1"; }
crit() {
	echo "{\"prog\":\"trader\",\"event\":\"ws\",\"severity\":\"CRITICAL\",\"message\":\"$1\"}"
}

test_expect_success 'a healthy minute: the CRITICAL goes out and the heartbeat is pinged' '
	conf $BT_CONF && home healthy &&
	crit "healthy: websocket lost" |
	    BT_NOW=2022-10-11T01:00:00Z test_expect_code 0 bt-digest -q &&
	sent_to -1001 "healthy: websocket lost" &&
	n=$(pings) &&
	BT_NOW=2022-10-11T01:00:00Z test_expect_code 0 bt-watchdog -q >out &&
	test "$(pings)" = $((n + 1))
'

test_expect_success 'a wrong CRITICAL chat id: the CRITICAL reaches another chat, and the watchdog names the chat' '
	conf $BT_CONF "TELEGRAM_CHAT_CRITICAL=-1009" && home wrongchat &&
	ctl telegram "{\"chats\":[-1001,-1002,-1003]}" &&
	crit "wrongchat: websocket lost" |
	    BT_NOW=2022-10-11T01:00:00Z test_expect_code 65 bt-digest -q 2>err &&
	grep -q "refused the message to chat -1009: 400 Bad Request: chat not found" err &&
	sent_to -1002 "could not reach its chat -1009" &&
	sent_to -1002 "wrongchat: websocket lost" &&
	test "$(st "select sent_to from events where message=\"wrongchat: websocket lost\"")" = -1002 &&
	for m in 01 02 03; do minute $m; done &&
	json_has $L.watchdog.out "select(.check==\"alert_path\") | .ok==false and .severity==\"CRITICAL\" and (.message|contains(\"Telegram refuses chat -1009 (400 Bad Request: chat not found\"))" &&
	sent_to -1002 "Telegram refuses chat -1009" &&
	test "$(st "select count(*) from events where sent is null and severity=\"CRITICAL\"")" = 0 &&
	ctl telegram "{}"
'

test_expect_success 'the token file at mode 644: the CRITICAL is kept and the heartbeat stops' '
	conf $BT_CONF && home token644 &&
	BT_NOW=2022-10-11T01:00:00Z test_expect_code 0 bt-watchdog -q >/dev/null &&
	chmod 644 "$TRASH/token" &&
	crit "token644: websocket lost" |
	    BT_NOW=2022-10-11T01:00:00Z test_expect_code 78 bt-digest -q 2>err &&
	grep -q "is mode 644; it must be readable by its owner only" err &&
	test "$(st "select count(*) from events where message=\"token644: websocket lost\" and sent is null")" = 1 &&
	n=$(pings) &&
	for m in 01 02 03 04 05; do minute $m; done &&
	chmod 600 "$TRASH/token" &&
	test "$(st "select count(*) from runs where prog=\"bt-digest\" and exit=78")" = 6 &&
	test "$(st "select count(*) from runs where prog=\"bt-digest\"")" = 6 &&
	json_has $L.watchdog.out "select(.check==\"alert_path\") | .ok==false and (.message|contains(\"bt-digest failed its last 3 runs (exit 78: TELEGRAM_BOT_TOKEN_FILE\"))" &&
	json_has $L.watchdog.out "select(.check==\"heartbeat_ping\") | .state==\"withheld\"" &&
	test "$(pings)" -le $((n + 2)) &&
	test "$(grep -c "^0[345] bt-watchdog 1$" $L.exits)" = 3 &&
	k=$(pings) && minute 06 &&
	sent_to -1001 "token644: websocket lost" &&
	test "$(st "select count(*) from events where sent is null and severity=\"CRITICAL\"")" = 0 &&
	test "$(pings)" = $((k + 1))
'

test_expect_success 'a typo in a key: a WARNING names the nearest key, once a day; CRITICALs reach the fallback channel' '
	conf $BT_CONF "TELEGRAM_BACKTEST_CHANNEL=@bt_ops" &&
	sed -i "s/^TELEGRAM_CHAT_CRITICAL=-1001/TELEGRAM_CHAT_CRITCAL=-1001/" $BT_CONF &&
	home typo &&
	crit "typo: websocket lost" |
	    BT_NOW=2022-10-11T01:00:00Z test_expect_code 0 bt-digest -q 2>err &&
	grep -q "bt.conf:8: unknown key TELEGRAM_CHAT_CRITCAL (ignored) (did you mean TELEGRAM_CHAT_CRITICAL?)" err &&
	sent_to @bt_ops "typo: websocket lost" &&
	for m in 01 02; do minute $m; done &&
	test "$(st "select count(*) from events where kind=\"config\" and severity=\"WARNING\" and message like \"%bt.conf:8: unknown key TELEGRAM_CHAT_CRITCAL (ignored); did you mean TELEGRAM_CHAT_CRITICAL?\"")" = 1 &&
	BT_NOW=2022-10-11T02:00:00Z test_expect_code 0 bt-digest -q </dev/null &&
	sent_to -1002 "did you mean TELEGRAM_CHAT_CRITICAL?"
'

test_expect_success 'a bad value: bt-fetch and bt-validate stop, the alert path runs on and its CRITICAL names the line' '
	conf $BT_CONF && home badvalue &&
	conf $BT_CONF "STALENESS_ALERT_THRESHOLD_H1_HOURS=6h" &&
	BT_NOW=2022-10-11T01:00:00Z test_expect_code 78 bt-fetch -q --import $FT 2>err &&
	grep -q "bt.conf:11: STALENESS_ALERT_THRESHOLD_H1_HOURS: .6h. is not a number" err &&
	BT_NOW=2022-10-11T01:00:00Z test_expect_code 78 bt-validate -q 2>err &&
	crit "badvalue: websocket lost" |
	    BT_NOW=2022-10-11T01:00:00Z test_expect_code 78 bt-digest -q 2>err &&
	sent_to -1001 "badvalue: websocket lost" &&
	minute 01 && minute 02 &&
	grep -q "^01 bt-watchdog 78" $L.exits &&
	json_has $L.watchdog.out "select(.check==\"config\") | .ok==false and .severity==\"CRITICAL\" and (.message|contains(\"bt.conf:11: STALENESS_ALERT_THRESHOLD_H1_HOURS: \u00276h\u0027 is not a number (it stops bt-fetch, bt-validate, bt-backtest)\"))" &&
	sent_to -1001 "bt.conf:11: STALENESS_ALERT_THRESHOLD_H1_HOURS" &&
	conf $BT_CONF && minute 03 && minute 04 &&
	json_has $L.watchdog.out "select(.check==\"config\") | .ok and .severity==\"INFO\" and .route==\"CRITICAL\"" &&
	sent_to -1001 "recovered (was bad)"
'

if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
test_expect_success 'BT_HOME owned by root, jobs run as the bt user: nothing runs, and the heartbeat stops' '
	conf $BT_CONF && home rootowned &&
	chmod 644 $BT_CONF && chmod 0711 "$TRASH" &&
	BIN=$(dirname "$(command -v bt-digest)") &&
	"$BT_SRC/scripts/render-cron" -b "$BIN" -h "$BT_HOME" -u nobody \
	    -g nogroup -c "$BT_CONF" "$BT_SRC/crontab/bt" >bt.cron &&
	PATHLINE=$(sed -n "s/^PATH=//p" bt.cron) &&
	grep -v "^#" bt.cron | grep "	" | cut -f3- | grep -E "run/(digest|watchdog).lock" >every-minute &&
	test "$(wc -l <every-minute)" = 2 &&
	mkdir -p $BT_HOME/logs $BT_HOME/run && chown -R root:root $BT_HOME &&
	chmod -R go-w $BT_HOME && chmod 0755 $BT_HOME &&
	n=$(pings) &&
	for m in 01 02 03 04 05; do
		while read -r line; do
			rc=0
			runuser -u nobody -- env -i PATH="$PATHLINE" HOME=$BT_HOME \
			    BT_CONF=$BT_CONF BT_NOW=2022-10-11T01:$m:00Z sh -c "$line" \
			    2>>cron.err || rc=$?
			echo "$m $rc" >>cron.exits
		done <every-minute
	done &&
	test "$(pings)" = "$n" &&
	grep -q "cannot create logs/bt-digest.jsonl: Permission denied" cron.err &&
	! grep -q " 0$" cron.exits &&
	rc=0 &&
	crit "rootowned: websocket lost" | runuser -u nobody -- env BT_HOME=$BT_HOME \
	    BT_CONF=$BT_CONF BT_NOW=2022-10-11T01:05:00Z "$BIN/bt-digest" -q 2>err ||
	    rc=$? &&
	test "$rc" = 74 && grep -q "bt_state.db: unable to open database file: Permission denied" err &&
	chmod 600 $BT_CONF
'
else
	test_count=$((test_count + 1))
	echo "ok $test_count - BT_HOME owned by root # skip needs root and runuser"
fi

mkdir -p "$TRASH/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=4m tmpfs "$TRASH/full" 2>/dev/null
then
test_expect_success 'the disk full: "no space left on device", the heartbeat stops, and nothing is lost' '
	conf $BT_CONF && export BT_HOME=$TRASH/full &&
	BT_NOW=2022-10-11T00:00:00Z bt-fetch -q --import $FT >/dev/null &&
	ctl telegram "{\"faults\":[{\"fault\":\"status\",\"code\":500,\"times\":-1}]}" &&
	crit "full: websocket lost" |
	    BT_NOW=2022-10-11T01:00:00Z test_expect_code 69 bt-digest -q 2>/dev/null &&
	dd if=/dev/zero of=$BT_HOME/filler bs=4k 2>/dev/null || true
	n=$(pings) &&
	for m in 01 02 03 04 05; do minute $m; done &&
	test "$(pings)" = "$n" &&
	grep -q "bt_state.db: no space left on device" $L.digest.err &&
	grep -q "no space left on device" $L.watchdog.err &&
	json_has $L.watchdog.out "select(.check==\"disk\") | .ok==false and .severity==\"CRITICAL\" and (.message|startswith(\"no space left on device: \"))" &&
	test_expect_code 74 bt-fetch -q --import $FT 2>err &&
	grep -q "no space left on device" err &&
	ctl telegram "{}" && rm $BT_HOME/filler &&
	minute 06 && sent_to -1001 "full: websocket lost" &&
	test "$(pings)" = $((n + 1)) &&
	cd "$TRASH" && umount "$TRASH/full"
'
else
	test_count=$((test_count + 1))
	echo "ok $test_count - the disk full # skip needs root to mount a tmpfs"
fi

# A failed test leaves the tmpfs mounted under its kept trash: not here.
umount "$TRASH/full" 2>/dev/null
test_done
