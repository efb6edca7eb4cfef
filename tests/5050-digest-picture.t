#!/bin/sh
# The daily digest can carry the daily backtest's equity curve: with
# BT_DIGEST_PICTURE=1 and the PNG present, a sendPhoto (multipart, through
# libcurl) with a short caption, then the digest's text as its own
# message; without the PNG nothing fails (issue 14).
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-picture_Token-0123456789abcdeXYZ
printf '%s\n' "$TOK" >"$TRASH/token"
chmod 600 "$TRASH/token"
start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
    --ctl "$TRASH/telegram.ctl"
: >"$TRASH/msgs"
export BT_TELEGRAM_URL=$telegram_URL TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
export TELEGRAM_BACKTEST_CHANNEL=@bt_ops BT_NOW=2022-10-11T04:00:00Z
PNG=$BT_HOME/results/equity.png

# A real PNG: 2x2 pixels, written with zlib.
png() {
	mkdir -p "$(dirname "$1")"
	python3 - "$1" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(data)
PY
}

test_expect_success 'no PNG: the digest goes as text, nothing fails' '
	BT_DIGEST_PICTURE=1 test_expect_code 0 bt-digest --daily </dev/null >out &&
	test "$(wc -l <$TRASH/msgs)" = 1 &&
	jq -e "(.method // \"sendMessage\")==\"sendMessage\" and (.text|startswith(\"bt daily digest\"))" $TRASH/msgs >/dev/null
'

test_expect_success 'the PNG: sendPhoto with a short caption, then the text' '
	png $PNG &&
	BT_DIGEST_PICTURE=1 BT_NOW=2022-10-12T04:00:00Z test_expect_code 0 bt-digest --daily </dev/null >out &&
	test "$(wc -l <$TRASH/msgs)" = 3 &&
	sed -n 2p $TRASH/msgs | jq -e ".method==\"sendPhoto\" and .chat_id==\"@bt_ops\" and .filename==\"equity.png\" and .photo_sha256==\"$(sha256sum $PNG | cut -c1-64)\" and (.caption|startswith(\"bt daily digest, 2022-10-12T04:00:00Z: the daily backtest\")) and (.caption|length) <= 1024" &&
	sed -n 3p $TRASH/msgs | jq -e ".text|startswith(\"bt daily digest, 2022-10-12T04:00:00Z\")" &&
	json_has out "select(.event==\"sent\" and .photo) | .severity==\"INFO\" and .bytes > 50" &&
	BT_NOW=2022-10-12T04:05:00Z test_expect_code 0 bt-digest --today >today &&
	test "$(jq -s "map(select(.state==\"sent\" and (.text|contains(\"equity curve\"))))|length" today)" = 1
'

test_expect_success 'a photo Telegram refuses is recorded; the text goes all the same' '
	echo "not a png" >$PNG &&
	BT_DIGEST_PICTURE=1 BT_NOW=2022-10-13T04:00:00Z test_expect_code 65 bt-digest --daily </dev/null >out 2>err &&
	grep -q "400 Bad Request: IMAGE_PROCESS_FAILED" err &&
	test "$(wc -l <$TRASH/msgs)" = 4 &&
	sed -n 4p $TRASH/msgs | jq -e ".text|startswith(\"bt daily digest, 2022-10-13\")" &&
	test "$(sql $BT_HOME/db/bt_state.db "select count(*) from sends where ok=0 and error like \"%IMAGE_PROCESS_FAILED%\"")" = 1
'

test_expect_success 'BT_DIGEST_PICTURE=0 (the default): no photo even with the PNG' '
	png $PNG &&
	BT_NOW=2022-10-14T04:00:00Z test_expect_code 0 bt-digest --daily </dev/null >out &&
	test "$(wc -l <$TRASH/msgs)" = 5 &&
	! sed -n 5p $TRASH/msgs | grep -q sendPhoto
'

test_done
