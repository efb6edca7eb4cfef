#!/bin/sh
# bt-fetch --check (issue "Go-live"): one JSON line for Binance (ping,
# time, the weight header against BT_WEIGHT_LIMIT x BT_WEIGHT_SHARE, a
# remembered ban, the clock's skew read half the round trip after the
# request left, against BT_CLOCK_SKEW_MAX), one for FRED when a key is
# configured; "reason", and "fix" when it fails; exit 0, 1, 69 or 78; the
# state file read-only, nothing written.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
KEY=0123456789abcdefghijklmnopqrstuv
start_server fred --data $DATA/fred.json --key $KEY --ctl $TRASH/fred.ctl --now 2025-05-01
printf '%s\n' $KEY >$TRASH/fred.key
chmod 600 $TRASH/fred.key
export BT_BINANCE_URL=$binance_URL BT_FRED_URL=$fred_URL BT_NOW=$NOW
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES=1h
ST=$BT_HOME/db/bt_state.db

fresh() {
	rm -rf $BT_HOME
	ctl binance "${1:-{\}}"
	: >$TRASH/binance.log
}
binance() {	# binance FILTER: the binance check line satisfies FILTER
	json_has out "select(.event==\"check\" and .check==\"binance\") | $1"
}

test_expect_success 'all well: one line, ok, the figures; nothing written' '
	fresh &&
	test_expect_code 0 bt-fetch --check >out &&
	test "$(wc -l <out)" = 1 &&
	binance ".ok==true and .prog==\"bt-fetch\" and .ts==\"$NOW\" and .url==\"$binance_URL\" and .ping==true and .server_time==\"$NOW\" and .skew==0 and .skew_max==2 and .weight_used==2 and .weight_cap==3000 and .banned_until==null and (.fix|not) and (.rtt|not)" &&
	binance ".reason==\"Binance answers ping and time; 2 of 3000 weight used this minute; its clock is 0.000 s from this host'"'"'s\"" &&
	test "$(jq -r .path $TRASH/binance.log | tr "\n" " ")" = "/api/v3/ping /api/v3/time " &&
	test ! -e $BT_HOME
'

test_expect_success 'a ban remembered: a failed check, exit 1 (not 75), nothing asked or written' '
	fresh "{\"faults\":[{\"path\":\"/api/v3/klines\",\"fault\":\"status\",\"code\":418,\"retry_after\":600}]}" &&
	test_expect_code 75 bt-fetch -q --since 2025-05-30 >/dev/null &&
	: >$TRASH/binance.log &&
	sum=$(cat $BT_HOME/db/* | sha256sum) &&
	ls -l --time-style=+%s.%N $BT_HOME/db >before &&
	test_expect_code 1 bt-fetch --check >out &&
	binance ".ok==false and .banned_until==\"2025-05-31T12:40:00Z\" and (.reason|test(\"recorded a Binance ban \\\\(HTTP 418\\\\) until 2025-05-31T12:40:00Z\")) and (.fix|test(\"wait until then\"))" &&
	test "$(requests binance)" = 0 &&
	test "$(cat $BT_HOME/db/* | sha256sum)" = "$sum" &&
	ls -l --time-style=+%s.%N $BT_HOME/db >after &&
	test_cmp before after &&
	ctl binance "{\"now\":\"2025-05-31T12:41:00Z\"}" &&
	BT_NOW=2025-05-31T12:41:00Z test_expect_code 0 bt-fetch --check >out &&
	binance ".ok==true and .banned_until==null"
'

test_expect_success 'Binance unreachable: 69, with what to check' '
	fresh &&
	BT_BINANCE_URL=http://127.0.0.1:1 test_expect_code 69 bt-fetch --check >out &&
	binance ".ok==false and .ping==false and (.reason|test(\"^/api/v3/ping: Binance does not answer\")) and (.fix|test(\"network\"))" &&
	fresh "{\"faults\":[{\"path\":\"/api/v3/time\",\"fault\":\"status\",\"code\":503,\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch --check >out &&
	binance ".ok==false and .ping==true and (.reason|test(\"^/api/v3/time: Binance does not answer: HTTP 503, Binance error -1008\"))" &&
	test "$(requests binance)" = 2
'

test_expect_success 'a 418 or a 429 now: a problem (1), and no ban recorded' '
	fresh "{\"faults\":[{\"path\":\"/api/v3/ping\",\"fault\":\"status\",\"code\":418,\"retry_after\":300}]}" &&
	test_expect_code 1 bt-fetch --check >out &&
	binance ".ok==false and (.reason|test(\"Binance answered 418, this IP is banned for 300 s\"))" &&
	test ! -e $BT_HOME &&
	fresh "{\"faults\":[{\"path\":\"/api/v3/time\",\"fault\":\"status\",\"code\":429,\"retry_after\":30}]}" &&
	test_expect_code 1 bt-fetch --check >out &&
	binance ".ok==false and (.reason|test(\"^/api/v3/time: Binance answered 429\"))" &&
	test "$(requests binance)" = 2
'

test_expect_success 'the weight header leaving no room: a problem (1)' '
	fresh &&
	BT_WEIGHT_LIMIT=4 BT_WEIGHT_SHARE=0.5 test_expect_code 1 bt-fetch --check >out &&
	binance ".ok==false and .weight_used==2 and .weight_cap==2 and (.reason|test(\"says 2 used this minute, and bt-fetch may use 2 .BT_WEIGHT_LIMIT x BT_WEIGHT_SHARE.: it leaves no room\")) and (.fix|test(\"BT_WEIGHT_SHARE\"))"
'

test_expect_success 'the server clock 5 s ahead: a problem (1), with the fix' '
	fresh "{\"time_offset\":5000}" &&
	test_expect_code 1 bt-fetch --check >out &&
	binance ".ok==false and .skew==5 and (.reason|test(\"clock is 5.000 s ahead of this host.s, more than BT_CLOCK_SKEW_MAX \\\\(2 s\\\\)\")) and (.fix|test(\"synchronise\"))" &&
	BT_CLOCK_SKEW_MAX=6 test_expect_code 0 bt-fetch --check >out &&
	fresh "{\"time_offset\":-5000,\"time_unit\":\"us\"}" &&
	test_expect_code 1 bt-fetch --check >out &&
	binance ".skew==-5 and (.reason|test(\"behind\"))"
'

test_expect_success 'configuration: a bad key or a URL bt may not use is 78' '
	BT_CLOCK_SKEW_MAX=-1 test_expect_code 78 bt-fetch --check >out 2>err &&
	grep -q BT_CLOCK_SKEW_MAX err &&
	BT_BINANCE_URL=http://192.0.2.1 test_expect_code 78 bt-fetch --check >out &&
	binance ".ok==false and (.reason|test(\"^BT_BINANCE_URL: \"))"
'

test_expect_success 'FRED configured: a second line, ok; the key in no output' '
	fresh &&
	FRED_API_KEY_FILE=$TRASH/fred.key test_expect_code 0 bt-fetch --check >out 2>err &&
	test "$(wc -l <out)" = 2 &&
	json_has out "select(.check==\"fred\") | .ok==true and .event==\"check\" and .url==\"$fred_URL\" and .series==\"DGS10\" and .reason==\"FRED answers with the key: DGS10'"'"'s newest observation is 2025-04-30\"" &&
	! grep -q $KEY out err $TRASH/fred.stderr &&
	test "$(jq -r .query.limit $TRASH/fred.log)" = 1
'

test_expect_success 'FRED refusing the key: 1, its message, the fix; a key file others read: 78' '
	printf "%s\n" abcdefghijklmnopqrstuvwxyz012345 >$TRASH/other.key &&
	chmod 600 $TRASH/other.key &&
	FRED_API_KEY_FILE=$TRASH/other.key test_expect_code 1 bt-fetch --check >out 2>err &&
	json_has out "select(.check==\"binance\") | .ok==true" &&
	json_has out "select(.check==\"fred\") | .ok==false and (.reason|test(\"FRED refuses DGS10: HTTP 400: Bad Request.  The value for variable api_key is not registered\")) and (.fix|test(\"FRED_API_KEY_FILE\"))" &&
	! grep -q abcdefghijklmnopqrstuvwxyz012345 out err &&
	chmod 644 $TRASH/other.key &&
	FRED_API_KEY_FILE=$TRASH/other.key test_expect_code 78 bt-fetch --check >out 2>err &&
	json_has out "select(.check==\"fred\") | .ok==false and (.fix|test(\"mode 0600\"))"
'

test_expect_success 'FRED unreachable: 69' '
	FRED_API_KEY_FILE=$TRASH/fred.key BT_FRED_URL=http://127.0.0.1:1 test_expect_code 69 bt-fetch --check >out &&
	json_has out "select(.check==\"fred\") | .ok==false and (.reason|test(\"FRED does not answer\"))"
'

# Without BT_NOW, against a server on the real clock: Binance reads its
# clock 0.3 s after the request arrives and answers 0.3 s later, so our
# clock half the round trip after the request left is Binance's.
start_server binance --data $DATA/vision --ctl $TRASH/real.ctl
REAL=$binance_URL
test_expect_success 'the skew is read half the round trip after the request left' '
	printf "%s\n" "{\"time_delay\":0.3,\"faults\":[{\"path\":\"/api/v3/time\",\"fault\":\"stall\",\"seconds\":0.3,\"times\":-1}]}" >$TRASH/real.ctl &&
	unset BT_NOW &&
	BT_BINANCE_URL=$REAL BT_CLOCK_SKEW_MAX=0.15 test_expect_code 0 bt-fetch --check >out &&
	binance ".ok==true and .rtt >= 0.6 and (.skew|fabs) < 0.15" &&
	printf "%s\n" "{\"time_delay\":0.6}" >$TRASH/real.ctl &&
	BT_BINANCE_URL=$REAL BT_CLOCK_SKEW_MAX=0.15 test_expect_code 1 bt-fetch --check >out &&
	binance ".ok==false and .skew > 0.15 and .skew < 0.45"
'

test_done
