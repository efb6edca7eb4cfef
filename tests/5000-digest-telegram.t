#!/bin/sh
# bt-digest against the Telegram test server: exact messages and their
# routing, nothing twice, delivery after an outage, 429 and 400, the
# offline and dry-run modes, and the token in no output or file.
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-secret_Token-0123456789abcdefXYZ
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
: >"$TRASH/msgs"
export BT_TELEGRAM_URL=$telegram_URL TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
export TELEGRAM_CHAT_CRITICAL=-1001 TELEGRAM_CHAT_WARNING=-1002 \
    TELEGRAM_CHAT_INFO=-1003
export BT_NOW=2022-10-11T00:00:00Z
ST=$BT_HOME/db/bt_state.db

# msgs N: the Nth message the server accepted, as compact JSON.
msg() { sed -n "${1}p" "$TRASH/msgs"; }
nmsgs() { wc -l <"$TRASH/msgs" | tr -d ' '; }

cat >ev1 <<'EOF'
{"ts":"2022-10-11T00:00:00Z","prog":"bt-validate","event":"integrity","severity":"CRITICAL","symbol":null,"tf":null,"message":"integrity_check failed: 3 problems","event_id":"aaaa000000000001"}
{"ts":"2022-10-11T00:00:00Z","prog":"bt-fetch","event":"stale","severity":"WARNING","symbol":"ETHUSDT","tf":"1h","message":"newest candle is 7h old","event_id":"aaaa000000000002"}
{"ts":"2022-10-11T00:00:00Z","prog":"bt-fetch","event":"summary","rows":5}
not json at all
EOF

test_expect_success 'CRITICAL goes at once, exactly, to the CRITICAL chat' '
	test_expect_code 65 bt-digest <ev1 >out 2>err &&
	grep -q "stdin:4: not a JSON object" err &&
	test "$(nmsgs)" = 1 &&
	test "$(msg 1 | jq -c .)" = "$(jq -nc "{chat_id:-1001,text:\"bt CRITICAL: 1 alert\n10-11 00:00Z bt-validate integrity: integrity_check failed: 3 problems\",parse_mode:null,message_id:1}")" &&
	json_has out "select(.event==\"sent\") | .chat==\"-1001\" and .severity==\"CRITICAL\" and .events==1 and .message_id==1" &&
	json_has out "select(.event==\"summary\") | .read==4 and .recorded==2 and .ignored==2 and .messages==1 and .exit==65" &&
	test "$(sql $ST "select event_id, sent, sent_to from events order by id")" = "aaaa000000000001|1665446400000|-1001
aaaa000000000002||"
'

test_expect_success 'the same lines again are recorded and sent nothing twice' '
	head -2 ev1 | test_expect_code 0 bt-digest >out &&
	json_has out "select(.event==\"summary\") | .duplicates==2 and .recorded==0 and .messages==0" &&
	test "$(nmsgs)" = 1 &&
	test "$(sql $ST "select count(*) from events")" = 2
'

test_expect_success 'WARNING waits for the hourly batch, identical ones merged' '
	for m in 10 20 30; do
		echo "{\"ts\":\"2022-10-11T00:${m}:00Z\",\"prog\":\"bt-fetch\",\"event\":\"stale\",\"severity\":\"WARNING\",\"symbol\":\"ETHUSDT\",\"tf\":\"1h\",\"message\":\"newest candle is 7h${m}m old\"}" |
		BT_NOW=2022-10-11T00:${m}:00Z test_expect_code 0 bt-digest >out
	done &&
	test "$(nmsgs)" = 1 &&
	BT_NOW=2022-10-11T01:00:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 2 &&
	test "$(msg 2 | jq -c .)" = "$(jq -nc "{chat_id:-1002,text:\"bt WARNING: 1 alert\n10-11 00:30Z bt-fetch stale ETHUSDT 1h: newest candle is 7h30m old (x4 since 10-11 00:00Z)\",parse_mode:null,message_id:1}")" &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 0 &&
	test "$(sql $ST "select count(*) from runs where prog=\"bt-digest\" and job=\"hourly\"")" = 1
'

test_expect_success 'the next batch is not due before the next hour' '
	echo "{\"prog\":\"x\",\"severity\":\"WARNING\",\"message\":\"later\"}" |
	BT_NOW=2022-10-11T01:30:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 2 &&
	BT_NOW=2022-10-11T02:00:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 3 &&
	msg 3 | jq -e ".chat_id==-1002 and .text==\"bt WARNING: 1 alert\n10-11 01:30Z x event: later\""
'

test_expect_success 'routing falls back to TELEGRAM_BACKTEST_CHANNEL; one message per chat' '
	printf "%s\n" "{\"prog\":\"a\",\"event\":\"k1\",\"severity\":\"CRITICAL\",\"message\":\"c1\"}" \
	    "{\"prog\":\"a\",\"event\":\"k2\",\"severity\":\"WARNING\",\"message\":\"w1\"}" |
	TELEGRAM_CHAT_CRITICAL= TELEGRAM_CHAT_WARNING= TELEGRAM_BACKTEST_CHANNEL=@bt_alerts \
	    BT_NOW=2022-10-11T02:01:00Z test_expect_code 0 bt-digest --hourly >out &&
	test "$(nmsgs)" = 4 &&
	msg 4 | jq -e ".chat_id==\"@bt_alerts\" and .text==\"bt CRITICAL: 1 alert\n10-11 02:01Z a k1: c1\nbt WARNING: 1 alert\n10-11 02:01Z a k2: w1\""
'

test_expect_success 'an outage: nothing is marked sent, exit 69; delivered once it ends' '
	ctl telegram "{\"faults\":[{\"fault\":\"status\",\"code\":500,\"times\":-1}]}" &&
	echo "{\"prog\":\"a\",\"event\":\"down\",\"severity\":\"CRITICAL\",\"message\":\"during the outage\"}" |
	BT_NOW=2022-10-11T02:05:00Z test_expect_code 69 bt-digest >out 2>err &&
	grep -q "Telegram: HTTP 500" err &&
	test "$(nmsgs)" = 4 &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 1 &&
	BT_NOW=2022-10-11T02:06:00Z test_expect_code 69 bt-digest >out 2>err &&
	ctl telegram "{}" &&
	BT_NOW=2022-10-11T02:07:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 5 &&
	msg 5 | jq -e ".chat_id==-1001 and .text==\"bt CRITICAL: 1 alert\n10-11 02:05Z a down: during the outage\"" &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 0
'

test_expect_success 'a transport error too: the server gone for a moment' '
	echo "{\"prog\":\"a\",\"event\":\"gone\",\"severity\":\"CRITICAL\",\"message\":\"no server\"}" |
	BT_TELEGRAM_URL=http://127.0.0.1:9 BT_NOW=2022-10-11T02:08:00Z \
	    test_expect_code 69 bt-digest >out 2>err &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 1 &&
	BT_NOW=2022-10-11T02:09:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 6
'

test_expect_success 'a 429 is retried after retry_after within the run' '
	ctl telegram "{\"faults\":[{\"fault\":\"status\",\"code\":429,\"retry_after\":7,\"times\":1}]}" &&
	n0=$(requests telegram) &&
	echo "{\"prog\":\"a\",\"event\":\"r\",\"severity\":\"CRITICAL\",\"message\":\"after a 429\"}" |
	BT_RETRY_AFTER_MAX=0 BT_NOW=2022-10-11T02:10:00Z test_expect_code 0 bt-digest >out &&
	test $(($(requests telegram) - n0)) = 2 &&
	test "$(nmsgs)" = 7 &&
	msg 7 | jq -e ".text|endswith(\"after a 429\")"
'

test_expect_success 'a retry_after beyond the run budget waits for a later run, across runs' '
	ctl telegram "{\"faults\":[{\"fault\":\"status\",\"code\":429,\"retry_after\":300,\"times\":1}]}" &&
	echo "{\"prog\":\"a\",\"event\":\"r\",\"severity\":\"CRITICAL\",\"message\":\"flood control\"}" |
	BT_NOW=2022-10-11T02:11:00Z test_expect_code 75 bt-digest >out 2>err &&
	grep -q "retry after 300s" err &&
	test "$(sql $ST "select value from kv where key=\"digest.retry_until\"")" = 2022-10-11T02:16:00Z &&
	n0=$(requests telegram) &&
	BT_NOW=2022-10-11T02:12:00Z test_expect_code 75 bt-digest >out &&
	json_has out "select(.event==\"rate_limited\") | .until==\"2022-10-11T02:16:00Z\"" &&
	test "$(requests telegram)" = "$n0" &&
	BT_NOW=2022-10-11T02:16:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 8 &&
	msg 8 | jq -e ".text|endswith(\"flood control\")"
'

# Issue 16 changed this case on purpose: a CRITICAL its chat refuses no
# longer waits unsent; it goes to the other chats with a line saying why.
test_expect_success 'a refused CRITICAL (400) goes to another chat, says why, exits 65; other chats still get theirs' '
	ctl telegram "{\"chats\":[-1002,-1003]}" &&
	printf "%s\n" "{\"prog\":\"a\",\"event\":\"c\",\"severity\":\"CRITICAL\",\"message\":\"to a missing chat\"}" \
	    "{\"prog\":\"a\",\"event\":\"w\",\"severity\":\"WARNING\",\"message\":\"to the warning chat\"}" |
	BT_NOW=2022-10-11T03:00:00Z test_expect_code 65 bt-digest >out 2>err &&
	grep -q "Telegram refused the message to chat -1001: 400 Bad Request: chat not found" err &&
	test "$(nmsgs)" = 10 &&
	msg 9 | jq -e ".chat_id==-1002 and (.text|startswith(\"bt: this message could not reach its chat -1001 (Telegram: 400 Bad Request: chat not found); sent here instead: fix TELEGRAM_CHAT_CRITICAL\nbt CRITICAL: 1 alert\n\")) and (.text|endswith(\"to a missing chat\"))" &&
	msg 10 | jq -e ".chat_id==-1002 and (.text|endswith(\"to the warning chat\"))" &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 0 &&
	test "$(sql $ST "select sent_to from events where message=\"to a missing chat\"")" = -1002 &&
	test "$(sql $ST "select ok, error from sends where chat=\"-1001\" order by id desc limit 1")" = "0|400 Bad Request: chat not found" &&
	json_has out "select(.event==\"sent\") | .chat==\"-1002\" and .instead_of==\"-1001\"" &&
	ctl telegram "{}" &&
	BT_NOW=2022-10-11T03:01:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 10
'

test_expect_success 'dry run: prints what would go, sends and writes nothing' '
	cp $ST before.db &&
	echo "{\"prog\":\"a\",\"event\":\"d\",\"severity\":\"CRITICAL\",\"message\":\"only a dry run\"}" |
	BT_NOW=2022-10-11T03:02:00Z test_expect_code 0 bt-digest -n >out &&
	json_has out "select(.event==\"would_send\") | .chat==\"-1001\" and (.text|endswith(\"only a dry run\"))" &&
	test "$(nmsgs)" = 10 &&
	cmp $ST before.db
'

test_expect_success 'offline (no Telegram configured): prints the messages, marks them stdout' '
	(
		export BT_HOME=$TRASH/offline
		unset TELEGRAM_BOT_TOKEN_FILE TELEGRAM_CHAT_CRITICAL TELEGRAM_CHAT_WARNING TELEGRAM_CHAT_INFO
		head -1 ev1 | test_expect_code 0 bt-digest >out &&
		json_has out "select(.event==\"message\") | .chat==null and .severity==\"CRITICAL\" and .text==\"bt CRITICAL: 1 alert\n10-11 00:00Z bt-validate integrity: integrity_check failed: 3 problems\"" &&
		json_has out "select(.event==\"summary\") | .mode==\"offline\"" &&
		test "$(sql $BT_HOME/db/bt_state.db "select sent_to from events")" = stdout &&
		test_expect_code 0 bt-digest >out2 </dev/null &&
		! grep -q "\"message\"" out2
	) &&
	test "$(nmsgs)" = 10
'

# Issue 16 changed this case on purpose: stdin is recorded before any
# Telegram check, and a missing chat holds only its own severity.
test_expect_success 'configuration errors exit 78; stdin is recorded first and nothing is lost' '
	chmod 644 "$TRASH/token" &&
	echo "{\"severity\":\"CRITICAL\",\"message\":\"x\"}" |
	test_expect_code 78 bt-digest >out 2>err &&
	grep -q "must be readable by its owner only" err &&
	test "$(sql $ST "select count(*) from events where message=\"x\" and sent is null")" = 1 &&
	test "$(sql $ST "select exit from runs where prog=\"bt-digest\" order by id desc limit 1")" = 78 &&
	chmod 600 "$TRASH/token" &&
	TELEGRAM_CHAT_INFO= BT_NOW=2022-10-11T03:05:00Z test_expect_code 78 bt-digest </dev/null 2>err &&
	grep -q "no chat for INFO alerts" err &&
	test "$(sql $ST "select sent_to from events where message=\"x\"")" = -1001 &&
	TELEGRAM_BOT_TOKEN_FILE= TELEGRAM_BOT_TOKEN="not a token" \
	    test_expect_code 78 bt-digest </dev/null 2>err &&
	grep -q "not a bot token" err &&
	test_expect_code 64 bt-digest --hourly --daily </dev/null
'

test_expect_success 'the token appears in no output, log or file under BT_HOME' '
	BT_TELEGRAM_URL=http://127.0.0.1:9 test_expect_code 69 bt-digest -v >o1 2>e1 </dev/null || true
	echo "{\"severity\":\"CRITICAL\",\"message\":\"last\"}" |
	BT_TELEGRAM_URL=http://127.0.0.1:9 BT_NOW=2022-10-11T03:03:00Z test_expect_code 69 bt-digest >o2 2>e2 &&
	cat o1 e1 o2 e2 >all &&
	! grep -F "$TOK" all &&
	! grep -rF "$TOK" "$BT_HOME" &&
	! grep -F "$TOK" "$TRASH/telegram.log" &&
	! grep -F "AAF-secret" all
'

test_done
