#!/bin/sh
# A stalled exchange no longer holds the run for hours (issue "A week of
# chaos with nothing lost"): with every 1h request of 60 symbols stalled
# and their 1d requests answered, the circuit breaker (failures in a row)
# never trips; BT_FETCH_DEADLINE ends the run, the pairs not done are left
# for the next run and named, and the exit is 75.  Small HTTP timeouts and
# a small deadline keep it to a few seconds; nothing here sleeps.
. "$(dirname "$0")/lib.sh"

NOW=2025-05-31T12:30:00Z
# 60 symbols, each with the real BTCUSDT candles of May 2025.
mkdir $TRASH/data
syms=''
i=1
while [ $i -le 60 ]; do
	s=$(printf 'S%02dUSDT' $i)
	ln -s $DATA/vision/BTCUSDT-1h-2025-05.csv $TRASH/data/$s-1h-2025-05.csv
	syms="$syms $s"
	i=$((i + 1))
done
start_server binance --data $TRASH/data --eager 1h --now $NOW \
    --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_NOW=$NOW BT_SYMBOLS="$syms"
export BT_TIMEFRAMES="1d 1h" BT_INDICATORS=0
export BT_HTTP_TIMEOUT=0.25 BT_HTTP_CONNECT_TIMEOUT=0.25 BT_FETCH_DEADLINE=2
ST=$BT_HOME/db/bt_state.db
STALL='{"faults":[{"path":"/api/v3/klines","interval":"1h","fault":"stall","seconds":3,"times":-1}]}'

ms() {
	date +%s%3N
}
klines() {	# klines requests in the server log
	grep -c '"/api/v3/klines"' $TRASH/binance.log || true
}

test_expect_success 'stalls on every other pair: the deadline ends the run, 75' '
	ctl binance "$STALL" &&
	: >$TRASH/binance.log &&
	t0=$(ms) &&
	test_expect_code 75 bt-fetch -q --since 2025-05-01 >out &&
	t1=$(ms) &&
	say "the run took $((t1 - t0)) ms" &&
	test $((t1 - t0)) -lt 5000 &&
	! grep -q circuit_breaker out &&
	json_has out "select(.event==\"pair\" and .symbol==\"S01USDT\" and .tf==\"1h\") | .status==\"failed\" and .requests==4" &&
	test "$(jq -c "select(.event==\"pair\" and .status==\"left\")" out | wc -l)" = 1 &&
	json_has out "select(.event==\"pair\" and .status==\"left\") | .tf==\"1h\" and (.error|test(\"stopped at the run.s deadline \\\\(BT_FETCH_DEADLINE 2 s\\\\)\"))" &&
	json_has out "select(.event==\"deadline\") | .severity==\"WARNING\" and .deadline==2 and .left > 100 and (.pairs|length)==.left and .pairs[-1]==[\"S60USDT\",\"1h\"] and (.message|test(\"passed: [0-9]+ of 120 pairs left for the next run\"))" &&
	json_has out "select(.event==\"summary\") | .exit==75 and .left > 100" &&
	test "$(sql $ST "select exit from runs where prog=\"bt-fetch\" order by id desc limit 1")" = 75 &&
	test "$(sql $ST "select count(*) from events where kind=\"deadline\"")" = 1
'

test_expect_success 'no request starts after the deadline' '
	n=$(klines) &&
	say "$n klines requests" &&
	test "$n" -lt 16 &&
	left=$(jq -r "select(.event==\"deadline\") | .pairs[] | join(\" \")" out | tail -n +2) &&
	for p in $(printf "%s\n" "$left" | tr " " "/"); do
		s=${p%/*} tf=${p#*/}
		if grep "\"/api/v3/klines\"" $TRASH/binance.log | grep "\"symbol\":\"$s\"" | grep -q "\"interval\":\"$tf\""; then
			echo "$s $tf was asked for after the deadline" >&2
			exit 1
		fi
	done
'

# Storing what was left (60 symbols' May) takes longer than 2 s under the
# sanitizers: this run has time.
test_expect_success 'the next run takes up what was left' '
	ctl binance "{}" &&
	BT_FETCH_DEADLINE=300 test_expect_code 0 bt-fetch -q --since 2025-05-01 >out &&
	json_has out "select(.event==\"summary\") | .exit==0 and .current==120" &&
	! grep -q "\"event\":\"deadline\"" out
'

test_expect_success 'BT_FETCH_DEADLINE=0: no bound' '
	BT_FETCH_DEADLINE=0 test_expect_code 0 bt-fetch -q >out &&
	json_has out "select(.event==\"summary\") | .exit==0 and (.left|not)" &&
	BT_FETCH_DEADLINE=-1 test_expect_code 78 bt-fetch -q 2>err &&
	grep -q BT_FETCH_DEADLINE err
'

test_done
