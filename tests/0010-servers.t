#!/bin/sh
# 0010-servers.t - the local test servers themselves: binance_server.py,
# fred_server.py and telegram_server.py, driven with curl(1) and jq(1).
#
# Each server binds a random port and writes it to a FIFO (reading it
# blocks until the server is up; `timeout' bounds the wait if it dies).
# Faults and the clock are set through each server's ctl file.  No test
# sleeps; the one stall test waits for a 0.3 s client timeout.  The plan is
# printed at the end.  The servers are killed on exit; the scratch directory
# is removed when all tests pass and kept (its path printed) otherwise.
#
# Run: prove -v tests/0010-servers.t

cd "$(dirname "$0")/.." || exit 1
T=$(mktemp -d "${TMPDIR:-/tmp}/bt-0010.XXXXXX") || exit 1
pids=""
n=0
failed=0

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	if [ "$failed" = 0 ]; then rm -rf "$T"; else echo "# kept $T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# check DESC CMD...: one test point.
check() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
	fi
}

# start NAME CMD...: start a server; its port ends up in $port.
start() {
	name=$1
	shift
	mkfifo "$T/$name.ready" || exit 1
	"$@" --ready "$T/$name.ready" --log "$T/$name.log" \
	    --ctl "$T/$name.ctl" 2>"$T/$name.err" &
	pids="$pids $!"
	eval "${name}_pid=$!"
	port=$(timeout 60 head -n1 "$T/$name.ready")
	if [ -z "$port" ]; then
		echo "Bail out! $name did not start: $(cat "$T/$name.err")"
		exit 1
	fi
}

# ctl NAME JSON: replace a server's ctl file atomically.
ctl() {
	printf '%s\n' "$2" >"$T/$1.ctl.tmp" && mv "$T/$1.ctl.tmp" "$T/$1.ctl"
}

# get URL [CURL-ARGS...]: body in $T/body, headers in $T/head, status in
# $code, curl's exit status in $rc.
get() {
	url=$1
	shift
	code=$(curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' "$@" "$url")
	rc=$?
}

# is JQ-EXPR: the last body satisfies the jq expression.
is() { jq -e "$1" "$T/body" >/dev/null 2>&1; }

# header NAME: the value of a header of the last response.
header() { tr -d '\r' <"$T/head" | sed -n "s/^$1: //Ip" | tail -n1; }

# ---------------------------------------------------------------- Binance
echo "# binance_server.py"
NOW=1748694600000 # 2025-05-31T12:30:00Z
start binance python3 tests/binance_server.py --data tests/data/vision \
    --data tests/data/vision-header --now 2025-05-31T12:30:00Z
B=http://127.0.0.1:$port
K="$B/api/v3/klines?symbol=BTCUSDT"

get "$B/api/v3/ping"
check "ping answers {}" [ "$code" = 200 -a "$(cat "$T/body")" = "{}" ]
get "$B/api/v3/time"
check "time is the --now time" is ".serverTime == $NOW"

get "$K&interval=1h&startTime=1730419200000&limit=3"
check "klines startTime+limit: the oldest rows from start, Binance types" \
    is 'length == 3 and .[0][0] == 1730419200000 and
	.[0][1] == "70292.01000000" and .[0][6] == 1730422799999 and
	(.[0][8] | type) == "number" and .[0][11] == "0" and
	.[2][0] == 1730426400000'
get "$K&interval=1h&startTime=1730419200000000&limit=1"
check "startTime in microseconds is accepted" is '.[0][0] == 1730419200000'
get "$K&interval=1h&endTime=1730505599999&limit=5"
check "endTime only: the newest rows up to endTime" \
    is 'length == 5 and .[4][0] == 1730502000000'
get "$K&interval=1h&startTime=1730419200000&endTime=1730433599999&limit=1000"
check "startTime and endTime: from start, capped at end" is 'length == 4'

# Page through 2024-11-01 .. now, 1000 rows at a time.
start_t=1730419200000
total=0
pages=0
: >"$T/pages"
while :; do
	get "$K&interval=1h&startTime=$start_t&limit=1000"
	cat "$T/body" >>"$T/pages"
	len=$(jq length "$T/body")
	total=$((total + len))
	pages=$((pages + 1))
	[ "$len" -lt 1000 ] && break
	start_t=$(($(jq '.[-1][0]' "$T/body") + 3600000))
done
check "paging 2024-11-01..now: 5077 rows in 6 pages, no gaps or repeats" \
    [ "$total" = 5077 -a "$pages" = 6 -a "$(jq -s 'add | map(.[0]) |
	(. == (. | unique)) and (.[-1] - .[0] == 5076 * 3600000)' \
	"$T/pages")" = true ]

get "$K&interval=1h&limit=2"
check "no window: the newest rows; the last is the open candle, partial" \
    is ".[1][0] == 1748692800000 and .[1][6] > $NOW and
	.[1][1] == .[1][4] and .[1][2] == .[1][1] and .[1][3] == .[1][1] and
	.[0][6] < $NOW"
get "$K&interval=1h&startTime=1748696400000"
check "no candle that opens after now" is 'length == 0'

# 4h and 1d of 2024-11-05 against an independent Decimal computation.
get "$K&interval=4h&startTime=1730764800000&limit=6"
cp "$T/body" "$T/4h"
get "$K&interval=1d&startTime=1730764800000&limit=1"
cp "$T/body" "$T/1d"
check "4h and 1d aggregates of a real day equal a hand computation" \
    python3 - "$T/4h" "$T/1d" <<'EOF'
import json, sys
from decimal import Decimal
rows = [l.strip().split(",") for l in
        open("tests/data/vision/BTCUSDT-1h-2024-11.csv")]
day = [r for r in rows if 1730764800000 <= int(r[0]) < 1730851200000]
assert len(day) == 24
def agg(rs, start, iv):
    d = lambda k: sum(Decimal(r[k]) for r in rs)
    q = lambda x: format(x, ".8f")
    return [start, rs[0][1], q(max(Decimal(r[2]) for r in rs)),
            q(min(Decimal(r[3]) for r in rs)), rs[-1][4], q(d(5)),
            start + iv - 1, q(d(7)), sum(int(r[8]) for r in rs), q(d(9)),
            q(d(10)), "0"]
h4 = [agg(day[i:i + 4], 1730764800000 + i * 3600000, 14400000)
      for i in range(0, 24, 4)]
d1 = [agg(day, 1730764800000, 86400000)]
assert d1[0][1:5] == ["67850.01000000", "70577.91000000", "67476.63000000",
                     "69372.01000000"]  # election day 2024, by hand
sys.exit(not (json.load(open(sys.argv[1])) == h4 and
              json.load(open(sys.argv[2])) == d1))
EOF

get "$K&interval=1h&startTime=1679659200000&limit=2"
check "the real 2023-03-24 halt: short 12:00 candle, 13:00 missing" \
    is '.[0][6] == 1679661581646 and .[0][8] == 0 and
	.[1][0] == 1679666400000'
get "$K&interval=1d&startTime=1679616000000&limit=1"
check "a day with a missing hour still aggregates, close_time = open+1d-1" \
    is '.[0][0] == 1679616000000 and .[0][6] == 1679702399999'
get "$K&interval=1m&limit=5"
check "an interval that cannot be derived (1m from 1h) gives []" \
    [ "$code" = 200 -a "$(cat "$T/body")" = "[]" ]

get "$B/api/v3/klines?symbol=NOPEUSDT&interval=1h"
check "unknown symbol: 400 -1121 Invalid symbol." \
    [ "$code" = 400 -a "$(cat "$T/body")" = '{"code":-1121,"msg":"Invalid symbol."}' ]
get "$K&interval=7h"
check "bad interval: 400 -1120" [ "$code" = 400 ] && is '.code == -1120'
get "$B/api/v3/klines?interval=1h"
check "missing symbol: 400 -1102" [ "$code" = 400 ] && is '.code == -1102 and
	.msg == "Mandatory parameter '"'symbol'"' was not sent, was empty/null, or malformed."'
get "$K&interval=1h&limit=1001"
check "limit 1001: 400 -1130" [ "$code" = 400 ] && is '.code == -1130'

get "$B/api/v3/exchangeInfo" -G --data-urlencode 'symbols=["BTCUSDT","ETHUSDT"]'
check "exchangeInfo symbols=[...]: both TRADING, ticks from the data" \
    is '(.symbols | map(.symbol)) == ["BTCUSDT","ETHUSDT"] and
	all(.symbols[]; .status == "TRADING") and
	(.symbols[0].filters[] | select(.filterType == "PRICE_FILTER") |
	 .tickSize) == "0.01000000" and
	(.rateLimits[0] | .rateLimitType == "REQUEST_WEIGHT" and .limit == 6000)'
check "exchangeInfo weighs 20" [ "$(header X-MBX-USED-WEIGHT-1M)" -ge 20 ]
get "$B/api/v3/exchangeInfo" -G --data-urlencode 'symbols=["BTCUSDT","NOPE"]'
check "exchangeInfo with an unknown symbol: 400 -1121" \
    [ "$code" = 400 ] && is '.code == -1121'
get "$B/api/v3/ticker/24hr?symbol=BTCUSDT"
check "ticker/24hr has every FULL field, numbers as strings" \
    is 'keys_unsorted == ["symbol","priceChange","priceChangePercent",
	"weightedAvgPrice","prevClosePrice","lastPrice","lastQty","bidPrice",
	"bidQty","askPrice","askQty","openPrice","highPrice","lowPrice",
	"volume","quoteVolume","openTime","closeTime","firstId","lastId",
	"count"] and (.volume | type) == "string" and .count > 0 and
	.closeTime == '"$NOW"
check "every response has both weight headers, equal" \
    [ -n "$(header X-MBX-USED-WEIGHT-1M)" -a \
    "$(header X-MBX-USED-WEIGHT-1M)" = "$(header X-MBX-USED-WEIGHT)" ]

out=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    "$B/api/v3/ping" "$B/api/v3/time" | tr '\n' ' ')
check "keep-alive: two requests, one connection" [ "$out" = "1 0 " ]

# Futures.
get "$B/futures/data/openInterestHist?symbol=BTCUSDT&period=1d"
check "openInterestHist: default 30 rows, all within the last 30 days" \
    is "length == 30 and all(.[]; .timestamp >= $NOW - 30 * 86400000 and
	.timestamp <= $NOW) and (.[0] | keys_unsorted) ==
	[\"symbol\",\"sumOpenInterest\",\"sumOpenInterestValue\",\"timestamp\"]"
get "$B/futures/data/takerlongshortRatio?symbol=BTCUSDT&period=1h&limit=500&startTime=$((NOW - 40 * 86400000))"
check "futures/data: a startTime 40 days back is refused, -1130" \
    [ "$code" = 400 ] && is '.code == -1130 and
	.msg == "parameter '"'startTime'"' is invalid."'
get "$B/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=1h&limit=500&endTime=$((NOW - 31 * 86400000))"
check "futures/data: nothing older than 30 days" is 'length == 0'
get "$B/fapi/v1/fundingRate?symbol=BTCUSDT&limit=3"
check "fundingRate: every 8h with 0-15 ms jitter, strings" \
    is 'length == 3 and all(.[]; .fundingTime % 28800000 < 16 and
	(.fundingRate | type) == "string" and (.markPrice | type) ==
	"string") and (.[2].fundingTime - .[1].fundingTime) > 28799984'
get "$B/fapi/v1/fundingRate?symbol=NOPEUSDT"
check "futures: unknown symbol 400 -1121" [ "$code" = 400 ] && is '.code == -1121'
ctl binance '{"string_timestamps":true,"funding_4h":["ETHUSDT"],
	"futures_alias":{"1000BTCUSDT":"BTCUSDT"}}'
get "$B/futures/data/takerlongshortRatio?symbol=1000BTCUSDT&period=5m&limit=2"
check "ctl string_timestamps and futures_alias" \
    is 'length == 2 and (.[0].timestamp | type) == "string" and
	(.[0] | keys_unsorted) == ["buySellRatio","buyVol","sellVol","timestamp"]'
get "$B/fapi/v1/fundingRate?symbol=ETHUSDT&limit=2"
check "ctl funding_4h" is '.[1].fundingTime - .[0].fundingTime < 14400016'

# Delisting and status.
ctl binance '{"delisted":["ETHUSDT"],"delisted_at":"2025-05-01T00:00:00Z"}'
get "$B/api/v3/exchangeInfo?symbol=ETHUSDT"
check "ctl delisted: exchangeInfo says BREAK" is '.symbols[0].status == "BREAK"'
get "$B/api/v3/klines?symbol=ETHUSDT&interval=1h&limit=1"
check "ctl delisted: klines stop at the delisting time" \
    is '.[0][0] == 1746054000000'

# Rate limit: 429, then a ban.
ctl binance '{"weight_limit":4,"retry_after":7}'
codes=""
for i in 1 2 3 4 5 6; do
	get "$K&interval=1h&limit=1"
	codes="$codes$code "
	[ "$i" = 3 ] && cp "$T/body" "$T/429" && ra429=$(header Retry-After)
done
check "weight limit: 200 200 429 429 429 418" \
    [ "$codes" = "200 200 429 429 429 418 " ]
check "429: Retry-After and Binance's -1003 body" \
    [ "$ra429" = 7 ] && jq -e '.code == -1003 and (.msg |
	startswith("Too much request weight used; current limit is 4 "))' \
	"$T/429" >/dev/null
get "$B/api/v3/time"
check "418 while banned, Retry-After, 'IP banned until'" \
    [ "$code" = 418 -a "$(header Retry-After)" = 7 ] &&
    is '.code == -1003 and (.msg | test("IP banned until [0-9]{13}\\."))'

# Faults.
ctl binance '{"faults":[{"path":"/api/v3/klines","fault":"truncate"}]}'
get "$K&interval=1h&limit=1000"
check "truncate: curl sees a short body (exit 18)" [ "$rc" = 18 ]
get "$K&interval=1h&limit=10"
check "... and the next request is whole" [ "$rc" = 0 -a "$code" = 200 ]
check "the log notes the fault" \
    [ "$(grep -c '"fault":"truncate"' "$T/binance.log")" = 1 ]
ctl binance '{"faults":[{"path":"/klines","fault":"reset"}]}'
get "$K&interval=1h&limit=1"
check "reset: connection reset (curl exit 56)" [ "$rc" = 56 ]
ctl binance '{"faults":[{"path":"/klines","skip":1,"times":2,"fault":"status","code":503}]}'
codes=""
for i in 1 2 3 4; do get "$K&interval=1h&limit=1"; codes="$codes$code "; done
check "status fault with skip 1, times 2: 200 503 503 200" \
    [ "$codes" = "200 503 503 200 " ]
ctl binance '{"faults":[{"fault":"html"}]}'
get "$B/api/v3/time"
check "html fault: 502 text/html" \
    [ "$code" = 502 ] && header Content-Type | grep -q '^text/html'
ctl binance '{"faults":[{"path":"/klines","fault":"wrong_type"}]}'
get "$K&interval=1h&limit=2"
check "wrong_type: the first open price is a JSON number" \
    is '(.[0][1] | type) == "number" and (.[1][1] | type) == "string"'
ctl binance '{"faults":[{"path":"/klines","fault":"malformed_row","times":-1},
	{"path":"/fundingRate","fault":"wrong_type"}]}'
get "$K&interval=1h&limit=2"
check "malformed_row: 11 elements" is '(.[0] | length) == 11'
get "$B/fapi/v1/fundingRate?symbol=BTCUSDT&limit=2"
check "wrong_type on fundingRate: the rate is a number" \
    is '(.[0].fundingRate | type) == "number"'
ctl binance '{"faults":[{"path":"/time","fault":"stall","seconds":2}]}'
get "$B/api/v3/time" -m 0.3
check "stall: the client times out (exit 28)" [ "$rc" = 28 ]

kill -TERM "$binance_pid"
wait "$binance_pid"
check "SIGTERM: exits 0" [ $? = 0 ]

# ---------------------------------------------------------------- FRED
echo "# fred_server.py"
KEY=0123456789abcdef0123456789abcdef
start fred python3 tests/fred_server.py --data tests/data/fred.json \
    --key $KEY --now 2025-05-01
F="http://127.0.0.1:$port/fred/series/observations?file_type=json"
get "$F&series_id=DGS10&api_key=$KEY&observation_start=2025-01-17&observation_end=2025-01-22"
check "observations: FRED's layout, a holiday is \".\"" \
    is '.units == "lin" and .output_type == 1 and .file_type == "json" and
	.order_by == "observation_date" and .count == 4 and
	.realtime_start == "2025-05-01" and
	(.observations | map(.value)) == ["4.63",".","4.62","4.63"] and
	(.observations[0] | keys_unsorted) ==
	["realtime_start","realtime_end","date","value"]'
get "$F&series_id=DGS10&api_key=abcdefabcdefabcdefabcdefabcdefab"
check "a wrong key: 400 not registered" [ "$code" = 400 ] && is '.error_message ==
	"Bad Request.  The value for variable api_key is not registered.  Read https://fred.stlouisfed.org/docs/api/api_key.html for more information."'
get "$F&series_id=NOPE&api_key=$KEY"
check "an unknown series: 400" [ "$code" = 400 ] &&
    is '.error_message == "Bad Request.  The series does not exist."'
get "$F&series_id=VIXCLS&api_key=$KEY&sort_order=desc&limit=2&offset=1"
check "sort_order, limit, offset" \
    is '.count == 85 and (.observations | map(.date)) == ["2025-04-29","2025-04-28"]'
ctl fred '{"now":"2025-01-21","revise":{"DGS10":{"2025-01-17":"4.70"}}}'
get "$F&series_id=DGS10&api_key=$KEY&observation_start=2025-01-17"
check "ctl now and revise" \
    is '(.observations | map(.value)) == ["4.70",".","4.62"] and
	.realtime_end == "2025-01-21"'
ctl fred '{"faults":[{"fault":"status","code":429}]}'
get "$F&series_id=DGS10&api_key=$KEY"
check "status fault 429" [ "$code" = 429 ] && is '.error_code == 429'

# ---------------------------------------------------------------- Telegram
echo "# telegram_server.py"
TOK=123456789:AAtestTOKENtestTOKENtestTOKEN_xyz
start telegram python3 tests/telegram_server.py --token $TOK \
    --messages "$T/messages" --now 2025-06-01T00:00:00Z
G="http://127.0.0.1:$port/bot$TOK/sendMessage"
get "$G" --data-urlencode chat_id=-1001234567890 --data-urlencode text='bt: all good'
check "sendMessage: ok, message_id 1, a channel post" \
    is '.ok and .result.message_id == 1 and .result.chat.type == "channel"
	and .result.text == "bt: all good" and .result.date == 1748736000'
check "the accepted message is recorded" [ "$(cat "$T/messages")" = \
    '{"chat_id":-1001234567890,"text":"bt: all good","parse_mode":null,"message_id":1}' ]
check "the request log never holds the token" \
    [ "$(grep -c "$TOK" "$T/telegram.log")" = 0 ] &&
    grep -q '"path":"/bot<redacted>/sendMessage"' "$T/telegram.log"
get "$G" -H 'Content-Type: application/json' \
    -d '{"chat_id":42,"text":"*bt* ok 1\\.0","parse_mode":"MarkdownV2"}'
check "MarkdownV2 in a JSON body: entities parsed" \
    is '.ok and .result.text == "bt ok 1.0" and
	.result.entities == [{"offset":0,"length":2,"type":"bold"}]'
get "$G" --data-urlencode chat_id=42 --data-urlencode 'text=Version 1.0' \
    --data-urlencode parse_mode=MarkdownV2
check "MarkdownV2: an unescaped '.' is refused as Telegram does" \
    [ "$code" = 400 ] && is '.description == "Bad Request: can'"'"'t parse entities: Character '"'.'"' is reserved and must be escaped with the preceding '"'\\\\'"'"'
get "$G" --data-urlencode chat_id=42 --data-urlencode 'text=<b>x</b> < 5' \
    --data-urlencode parse_mode=HTML
check "HTML: a stray '<' is refused" \
    [ "$code" = 400 ] && is '.description | startswith("Bad Request: can'"'"'t parse entities: Unsupported start tag")'
printf '%4096s' '' | tr ' ' a >"$T/4096"
printf '%4097s' '' | tr ' ' a >"$T/4097"
python3 -c 'print("\U0001F600" * 2049, end="")' >"$T/emoji"
get "$G" --data-urlencode chat_id=42 --data-urlencode "text@$T/4096"
c1=$code
get "$G" --data-urlencode chat_id=42 --data-urlencode "text@$T/4097"
c2=$code
cp "$T/body" "$T/long"
get "$G" --data-urlencode chat_id=42 --data-urlencode "text@$T/emoji"
check "4096 characters pass, 4097 and 2049 emoji (4098 UTF-16) are too long" \
    [ "$c1 $c2 $code" = "200 400 400" ] && is '.description ==
	"Bad Request: message is too long"' && jq -e '.description ==
	"Bad Request: message is too long"' "$T/long" >/dev/null
get "$G" --data-urlencode chat_id=42 --data-urlencode 'text=  '
check "blank text: message text is empty" \
    is '.description == "Bad Request: message text is empty"'
get "http://127.0.0.1:$port/bot123:WRONG/sendMessage" --data-urlencode chat_id=42 \
    --data-urlencode text=x
check "a wrong token: 401 Unauthorized" [ "$code" = 401 ] &&
    is '. == {"ok":false,"error_code":401,"description":"Unauthorized"}'
ctl telegram '{"chats":["@bt_alerts"],"faults":[{"fault":"status","code":429,"retry_after":5}]}'
get "$G" --data-urlencode chat_id=@bt_alerts --data-urlencode text=x
check "429: retry_after in body and Retry-After header" \
    [ "$code" = 429 -a "$(header Retry-After)" = 5 ] && is '. == {"ok":false,
	"error_code":429,"description":"Too Many Requests: retry after 5",
	"parameters":{"retry_after":5}}'
get "$G" --data-urlencode chat_id=@bt_alerts --data-urlencode text=x
c1=$code
get "$G" --data-urlencode chat_id=43 --data-urlencode text=x
check "ctl chats: a listed chat passes, another is not found" \
    [ "$c1 $code" = "200 400" ] &&
    is '.description == "Bad Request: chat not found"'
check "only accepted messages are recorded" [ "$(wc -l <"$T/messages")" = 4 ]

echo "1..$n"
[ "$failed" = 0 ]
