#!/bin/sh
# bt-digest --check: the alert path tried from outside before it is
# needed (bt-preflight runs it): the token, getMe, getChat of every
# severity's chat, and with --send-test one message to each chat.  It
# records nothing and sends nothing unless asked (issue 14).
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-check_Token-0123456789abcdeXYZ
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
: >"$TRASH/msgs"
export BT_TELEGRAM_URL=$telegram_URL TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
export TELEGRAM_CHAT_CRITICAL=-1001 TELEGRAM_BACKTEST_CHANNEL=-1002
export BT_NOW=2022-10-11T04:00:00Z
ctl telegram '{"chats":[-1001,-1002]}'

test_expect_success 'all well: the bot and each chat once, exit 0, nothing sent or recorded' '
	test_expect_code 0 bt-digest --check >out 2>err &&
	json_has out "select(.check==\"telegram_bot\") | .ok and .message==\"the bot @bt_test_bot answers\"" &&
	json_has out "select(.check==\"telegram_chat\" and .chat==\"-1001\") | .ok and .alerts==\"CRITICAL\" and .message==\"CRITICAL alerts go to chat -1001 (bt test group)\"" &&
	json_has out "select(.check==\"telegram_chat\" and .chat==\"-1002\") | .ok and .alerts==\"WARNING, INFO\"" &&
	test "$(jq -s "map(select(.check==\"telegram_chat\")) | length" out)" = 2 &&
	jq -se "all(.[]; has(\"ts\") and has(\"prog\") and has(\"event\"))" out >/dev/null &&
	test ! -s $TRASH/msgs &&
	test ! -e $BT_HOME/db/bt_state.db &&
	test ! -s err &&
	test "$(requests telegram /bot\<redacted\>/getChat)" = 2 &&
	! grep -rqF "$TOK" out err $TRASH/telegram.log
'

test_expect_success '--send-test: one message to each chat, saying which alerts' '
	test_expect_code 0 bt-digest --check --send-test >out &&
	test "$(wc -l <$TRASH/msgs)" = 2 &&
	json_has $TRASH/msgs "select(.chat_id==-1001) | .text | test(\"^bt preflight on .*, 2022-10-11T04:00:00Z: a test message. CRITICAL alerts come to this chat.$\")" &&
	json_has $TRASH/msgs "select(.chat_id==-1002) | .text | contains(\"WARNING, INFO alerts\")" &&
	json_has out "select(.check==\"telegram_send\" and .chat==\"-1001\") | .ok and .message_id >= 1"
'

test_expect_success 'a chat Telegram does not know: exit 1, the chat named, the fix' '
	TELEGRAM_CHAT_CRITICAL=-1009 test_expect_code 1 bt-digest --check >out 2>err &&
	json_has out "select(.check==\"telegram_chat\" and .chat==\"-1009\") | .ok==false and .message==\"CRITICAL: 400 Bad Request: chat not found\" and (.fix|contains(\"member of the chat\"))" &&
	json_has out "select(.check==\"telegram_chat\" and .chat==\"-1002\") | .ok" &&
	grep -q "^bt-digest: Telegram refused getChat for chat -1009: 400 Bad Request: chat not found$" err
'

test_expect_success 'a severity without a chat: exit 1' '
	TELEGRAM_BACKTEST_CHANNEL= test_expect_code 1 bt-digest --check >out &&
	json_has out "select(.check==\"telegram_chat\" and .alerts==\"WARNING\") | .ok==false and (.fix|contains(\"TELEGRAM_CHAT_WARNING\"))" &&
	json_has out "select(.check==\"telegram_chat\" and .alerts==\"INFO\") | .ok==false"
'

test_expect_success 'a revoked token: getMe 401, exit 78; a malformed one never leaves' '
	printf "123456789:AAFrevoked\n" >tok2 && chmod 600 tok2 &&
	TELEGRAM_BOT_TOKEN_FILE=$TRASH/tok2 test_expect_code 78 bt-digest --check >out 2>err &&
	json_has out "select(.check==\"telegram_bot\") | .ok==false and .message==\"getMe: 401 Unauthorized\" and (.fix|contains(\"BotFather\"))" &&
	n=$(requests telegram) &&
	printf "not a token\n" >tok3 && chmod 600 tok3 &&
	TELEGRAM_BOT_TOKEN_FILE=$TRASH/tok3 test_expect_code 78 bt-digest --check >out &&
	json_has out "select(.check==\"telegram_token\") | .ok==false and (.message|contains(\"not a bot token\"))" &&
	test "$(requests telegram)" = "$n" &&
	! grep -qF AAFrevoked out err
'

test_expect_success 'Telegram down, or its flood control: 75, try again later' '
	ctl telegram "{\"chats\":[-1001,-1002],\"faults\":[{\"fault\":\"status\",\"code\":502,\"times\":-1}]}" &&
	test_expect_code 75 bt-digest --check >out 2>err &&
	json_has out "select(.check==\"telegram_bot\") | .ok==false and .message==\"getMe: HTTP 502\" and (.fix|contains(\"again later\"))" &&
	ctl telegram "{\"chats\":[-1001,-1002],\"faults\":[{\"fault\":\"status\",\"code\":429,\"retry_after\":600,\"times\":-1}]}" &&
	test_expect_code 75 bt-digest --check >out 2>err &&
	ctl telegram "{\"chats\":[-1001,-1002]}"
'

test_expect_success 'no Telegram at all: a failed check, exit 1' '
	TELEGRAM_BOT_TOKEN_FILE= TELEGRAM_CHAT_CRITICAL= TELEGRAM_BACKTEST_CHANNEL= \
	    test_expect_code 1 bt-digest --check >out &&
	json_has out "select(.check==\"telegram\") | .ok==false and (.message|contains(\"never sent\"))"
'

test_expect_success '--send-test alone, or --check with a mode, is a usage error' '
	test_expect_code 64 bt-digest --send-test 2>err &&
	grep -q "^usage: bt-digest" err &&
	test_expect_code 64 bt-digest --check --daily 2>err
'

test_done
