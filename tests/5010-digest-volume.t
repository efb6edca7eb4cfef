#!/bin/sh
# bt-digest's volume policy: the hourly cap, merging, bursts, the corner
# where the cap and the 2-minute bound for CRITICAL cannot both hold, and
# the split of long texts below Telegram's 4096 UTF-16 units.
. "$(dirname "$0")/lib.sh"

TOK=987654321:AAvolume_token-XYZ
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
: >"$TRASH/msgs"
export BT_TELEGRAM_URL=$telegram_URL TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
export TELEGRAM_CHAT_CRITICAL=-1001 TELEGRAM_CHAT_WARNING=-1002 \
    TELEGRAM_CHAT_INFO=-1003
ST=$BT_HOME/db/bt_state.db
msg() { sed -n "${1}p" "$TRASH/msgs"; }
nmsgs() { wc -l <"$TRASH/msgs" | tr -d ' '; }
ev() {	# ev SEVERITY KIND SYMBOL MESSAGE
	printf '{"prog":"t","event":"%s","severity":"%s","symbol":"%s","message":"%s"}\n' \
	    "$2" "$1" "$3" "$4"
}

test_expect_success 'a burst is one message, identical alerts one line with a count' '
	{ for i in 1 2 3 4 5; do ev CRITICAL down BTCUSDT "feed down $i"; done
	  for s in ETHUSDT SOLUSDT XRPUSDT; do ev CRITICAL down $s "feed down"; done; } |
	BT_NOW=2022-10-10T00:00:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 1 &&
	msg 1 | jq -e ".text==\"bt CRITICAL: 4 alerts\n10-10 00:00Z t down BTCUSDT: feed down 5 (x5 since 10-10 00:00Z)\n10-10 00:00Z t down ETHUSDT: feed down\n10-10 00:00Z t down SOLUSDT: feed down\n10-10 00:00Z t down XRPUSDT: feed down\"" &&
	test "$(sql $ST "select count(*) from events where sent_to=\"-1001\"")" = 8
'

# A fresh hour for the cap: 2022-10-11.
export BT_NOW=2022-10-11T00:00:00Z
BT_NOW=2022-10-10T23:00:00Z bt-digest --daily </dev/null >/dev/null
: >"$TRASH/msgs"

test_expect_success 'ten CRITICAL messages in an hour go as they come' '
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ev CRITICAL k$i S$i "problem $i" |
		BT_NOW=2022-10-11T00:0$i:00Z test_expect_code 0 bt-digest --critical >out
	done &&
	test "$(nmsgs)" = 10 &&
	! grep -q over_cap out &&
	test "$(sql $ST "select count(*) from sends where ts > 1665446399999")" = 10
'

test_expect_success 'over the cap a new CRITICAL still goes at once, as one part' '
	ev CRITICAL k10 S10 "problem 10" |
	BT_NOW=2022-10-11T00:10:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 11 &&
	json_has out "select(.event==\"over_cap\") | .sent_last_hour==11 and .cap==10" &&
	msg 11 | jq -e ".text==\"bt CRITICAL: 1 alert\n10-11 00:10Z t k10 S10: problem 10\""
'

test_expect_success 'over the cap WARNINGs wait, and so does a CRITICAL that repeats one sent within the hour' '
	{ ev CRITICAL k3 S3 "problem 3 again"; ev WARNING w1 S1 "a warning"; } |
	BT_NOW=2022-10-11T00:11:00Z test_expect_code 0 bt-digest --hourly >out &&
	test "$(nmsgs)" = 11 &&
	json_has out "select(.event==\"summary\") | .held==2 and .messages==0" &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 2
'

test_expect_success 'the next new CRITICAL carries the held CRITICAL along, not the WARNING' '
	ev CRITICAL k11 S11 "problem 11" |
	BT_NOW=2022-10-11T00:12:00Z test_expect_code 0 bt-digest --hourly >out &&
	test "$(nmsgs)" = 12 &&
	msg 12 | jq -e ".chat_id==-1001 and .text==\"bt CRITICAL: 2 alerts\n10-11 00:11Z t k3 S3: problem 3 again\n10-11 00:12Z t k11 S11: problem 11\"" &&
	test "$(sql $ST "select message from events where sent is null")" = "a warning"
'

test_expect_success 'when the hour has room again, the held WARNING goes, merged' '
	ev WARNING w1 S1 "the warning again" |
	BT_NOW=2022-10-11T00:40:00Z test_expect_code 0 bt-digest --hourly >out &&
	test "$(nmsgs)" = 12 &&
	BT_NOW=2022-10-11T01:12:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = 13 &&
	msg 13 | jq -e ".chat_id==-1002 and .text==\"bt WARNING: 1 alert\n10-11 00:40Z t w1 S1: the warning again (x2 since 10-11 00:11Z)\"" &&
	test "$(sql $ST "select count(*) from events where sent is null")" = 0
'

test_expect_success 'a WARNING batch does not eat the reserve kept for CRITICAL' '
	for i in 0 1 2 3 4 5 6 7; do
		ev CRITICAL r$i R$i "r $i" |
		BT_NOW=2022-10-11T02:0$i:00Z test_expect_code 0 bt-digest >out
	done &&
	n=$(nmsgs) &&
	ev WARNING w2 S2 "waits for the reserve" |
	BT_NOW=2022-10-11T02:09:00Z test_expect_code 0 bt-digest --hourly >out &&
	test "$(nmsgs)" = "$n" &&
	json_has out "select(.event==\"summary\") | .held==1" &&
	ev CRITICAL r9 R9 "r 9" |
	BT_NOW=2022-10-11T02:10:00Z test_expect_code 0 bt-digest >out &&
	test "$(nmsgs)" = $((n + 1)) &&
	! grep -q over_cap out
'

test_expect_success 'long texts are split on line boundaries below 4096 UTF-16 units' '
	(
		export BT_HOME=$TRASH/split
		i=0
		while [ $i -lt 80 ]; do
			ev WARNING lag SYM$i "price feed lag 📉 $(printf "%090d" $i)"
			i=$((i + 1))
		done | BT_NOW=2022-10-11T05:00:00Z test_expect_code 0 bt-digest --hourly >out &&
		json_has out "select(.event==\"sent\") | .parts==3 and .part==3" &&
		test "$(sql $BT_HOME/db/bt_state.db "select count(*) from events where sent is null")" = 0
	) &&
	tail -3 "$TRASH/msgs" >split.json &&
	python3 - split.json <<-EOF
	import json, sys
	msgs = [json.loads(l) for l in open(sys.argv[1])]
	assert [m["text"][:6] for m in msgs] == ["(1/3) ", "(2/3) ", "(3/3) "], msgs
	lines = []
	for m in msgs:
	    assert len(m["text"].encode("utf-16-le")) // 2 <= 4096
	    lines += m["text"][6:].split("\n")
	assert lines[0] == "bt WARNING: 80 alerts"
	assert len(lines) == 81 and all("📉" in l for l in lines[1:])
	EOF
'

test_expect_success 'past BT_DIGEST_MAX_PARTS the rest is counted, not dropped silently' '
	(
		export BT_HOME=$TRASH/trunc
		i=0
		while [ $i -lt 80 ]; do
			ev WARNING lag SYM$i "price feed lag $(printf "%090d" $i)"
			i=$((i + 1))
		done | BT_DIGEST_MAX_PARTS=1 BT_NOW=2022-10-11T05:00:00Z \
		    test_expect_code 0 bt-digest --hourly >out &&
		json_has out "select(.event==\"sent\") | .parts==1 and .events==80" &&
		test "$(sql $BT_HOME/db/bt_state.db "select count(*) from events where sent is null")" = 0
	) &&
	tail -1 "$TRASH/msgs" | jq -e ".text | test(\"\\\\+[0-9]+ more lines \\\\([0-9]+ alerts\\\\) not shown; all alerts are in the state file$\")" &&
	tail -1 "$TRASH/msgs" | jq -e "(.text|length) <= 4096"
'

test_done
