#!/bin/sh
# bt-digest --today: what went out today and what is still unsent, one
# JSON line a message (time, chat, severity, state, text), sent and
# refused ones from the state file's sends, unsent ones as they would go.
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-today_Token-0123456789abcdefXYZ
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
export BT_TELEGRAM_URL=$telegram_URL TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
export TELEGRAM_CHAT_CRITICAL=-1001 TELEGRAM_CHAT_WARNING=-1002 \
    TELEGRAM_CHAT_INFO=-1003

ev() {	# ev SEVERITY MESSAGE [TS]
	echo "{\"ts\":\"${3:-2022-10-11T08:00:00Z}\",\"prog\":\"x\",\"event\":\"k\",\"severity\":\"$1\",\"message\":\"$2\"}"
}

test_expect_success 'yesterday, today, a refusal and what waits: each in its place' '
	ev CRITICAL "yesterday late" 2022-10-10T23:00:00Z |
	    BT_NOW=2022-10-10T23:00:00Z test_expect_code 0 bt-digest -q &&
	ev CRITICAL "this morning" | BT_NOW=2022-10-11T08:00:00Z test_expect_code 0 bt-digest -q &&
	ctl telegram "{\"chats\":[-1002,-1003]}" &&
	ev CRITICAL "refused, then elsewhere" 2022-10-11T08:05:00Z |
	    BT_NOW=2022-10-11T08:05:00Z test_expect_code 65 bt-digest -q 2>/dev/null &&
	ctl telegram "{}" &&
	ev WARNING "waits for the batch" 2022-10-11T08:10:00Z |
	    BT_NOW=2022-10-11T08:10:00Z test_expect_code 0 bt-digest -q &&
	BT_NOW=2022-10-11T08:20:00Z test_expect_code 0 bt-digest --today >out &&
	test "$(wc -l <out)" = 5 &&
	json_has out "select(.chat==\"-1003\") | .state==\"sent\" and .severity==\"INFO\" and (.text|startswith(\"bt daily digest, 2022-10-11T08:00:00Z\"))" &&
	json_has out "select(.text|contains(\"this morning\")) | .event==\"message\" and .state==\"sent\" and .chat==\"-1001\" and .severity==\"CRITICAL\" and .time==\"2022-10-11T08:00:00Z\" and .events==1" &&
	json_has out "select(.state==\"refused\") | .chat==\"-1001\" and .error==\"400 Bad Request: chat not found\" and (.text|contains(\"refused, then elsewhere\"))" &&
	json_has out "select(.state==\"sent\" and .chat==\"-1002\") | .text|startswith(\"bt: this message could not reach its chat -1001\")" &&
	json_has out "select(.state==\"unsent\") | .chat==\"-1002\" and .severity==\"WARNING\" and .time==\"2022-10-11T08:10:00Z\" and (.text|endswith(\"x k: waits for the batch\"))" &&
	! grep -q "yesterday late" out
'

test_expect_success '--since widens it; the documented jq line makes a table; nothing is written' '
	cp $BT_HOME/db/bt_state.db before.db &&
	BT_NOW=2022-10-11T08:20:00Z test_expect_code 0 bt-digest --today --since 2022-10-10 >out &&
	test "$(wc -l <out)" = 6 &&
	jq -r "[.time[11:16], .state, .severity, .chat // \"-\", (.text | split(\"\n\") | last)] | @tsv" out >table &&
	grep -q "^23:00	sent	CRITICAL	-1001	10-10 23:00Z x k: yesterday late$" table &&
	cmp $BT_HOME/db/bt_state.db before.db &&
	test_expect_code 64 bt-digest --since 2022-10-10 </dev/null &&
	test_expect_code 64 bt-digest --today --daily </dev/null
'

test_done
