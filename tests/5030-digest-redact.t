#!/bin/sh
# Telegram's refusal texts are outside input and go through bt_redact()
# on their way to stderr.  A "bot<digits>:" with no token after it was
# masked with a mask longer than itself, one byte past a full buffer.
# Found by tests/fuzz/fuzz-telegram.c (issue 7, campaign 6).
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-secret_Token-0123456789abcdefXYZ
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
export BT_TELEGRAM_URL=$telegram_URL TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
export TELEGRAM_CHAT_CRITICAL=-1001 TELEGRAM_CHAT_WARNING=-1002 \
    TELEGRAM_CHAT_INFO=-1003 BT_NOW=2022-10-11T00:00:00Z

# The description fills bt-digest's buffer (511 bytes) and ends "bot9:".
desc=$(awk 'BEGIN { while (n++ < 506) printf "a"; printf "bot9:" }')

test_expect_success 'a refusal ending in a short bot id: masked, not grown' '
	ctl telegram "{\"faults\":[{\"fault\":\"status\",\"code\":400,\"body\":{\"ok\":false,\"error_code\":400,\"description\":\"$desc\"},\"times\":-1}]}" &&
	echo "{\"severity\":\"CRITICAL\",\"message\":\"m\",\"event\":\"x\"}" |
	    test_expect_code 65 bt-digest >out 2>err &&
	grep -q "aaaabot\*\*; its events stay unsent" err &&
	! grep -q "bot9" err
'

test_expect_success 'a real token in a refusal is masked' '
	ctl telegram "{\"faults\":[{\"fault\":\"status\",\"code\":400,\"body\":{\"ok\":false,\"error_code\":400,\"description\":\"see https://api.telegram.org/bot$TOK/x\"},\"times\":-1}]}" &&
	echo "{\"severity\":\"CRITICAL\",\"message\":\"m2\",\"event\":\"y\"}" |
	    test_expect_code 65 bt-digest >out 2>err &&
	grep -q "bot\*\*\*/x" err &&
	! grep -q "AAF-secret" err out
'

test_done
