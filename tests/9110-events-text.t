#!/bin/sh
# An event's text from outside: a path or a message that is not valid
# UTF-8 is recorded with U+FFFD in place of the bad bytes, never dropped;
# a huge message is kept at 16 KB in the state file, 500 bytes in what is
# sent (issue 15).
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
FF=$(printf '\377')
FFFD=$(printf '\357\277\275')
export BT_HOME="$TRASH/h${FF}ome"

test_expect_success 'a BT_HOME with a byte 0xFF: bt-backup'"'"'s CRITICAL is recorded, repaired' '
	mkdir -p "$BT_HOME" &&
	bt-fetch -q --import $DATA/freqtrade/BTC_USDT-1d.json >/dev/null &&
	test_expect_code 1 bt-backup --verify >out 2>err &&
	json_has out "select(.event==\"backup_failed\") | .severity==\"CRITICAL\" and (.message|contains(\"h\ufffdome/backups\")) and (.event_id|length)==16" &&
	test "$(sql "$BT_HOME/db/bt_state.db" "select count(*) from events where kind=\"backup_failed\" and message like \"%h${FFFD}ome%\"")" = 1
'

test_expect_success 'a piped event with invalid UTF-8 is recorded, not ignored' '
	printf "{\"severity\":\"CRITICAL\",\"message\":\"bad \\377\\376 bytes\"}\n" |
	    test_expect_code 0 bt-digest >out 2>err &&
	test ! -s err &&
	json_has out "select(.event==\"summary\") | .recorded==1 and .ignored==0" &&
	test "$(sql "$BT_HOME/db/bt_state.db" "select message from events where kind=\"event\"")" = "bad ${FFFD}${FFFD} bytes"
'

test_expect_success 'a 5 MB message: 16 KB kept with a marker, 500 bytes sent, the line whole' '
	awk "BEGIN { printf \"{\\\"severity\\\":\\\"WARNING\\\",\\\"event\\\":\\\"big\\\",\\\"message\\\":\\\"\"; for (i = 0; i < 5242880; i++) printf \"x\"; print \"\\\"}\" }" >big &&
	test_expect_code 0 bt-digest --hourly <big >out 2>err &&
	len=$(sql "$BT_HOME/db/bt_state.db" "select length(message) from events where kind=\"big\"") &&
	test "$len" -lt 16500 && test "$len" -gt 16384 &&
	test "$(sql "$BT_HOME/db/bt_state.db" "select count(*) from events where kind=\"big\" and message like \"xxxx%x ... [cut: 5242880 bytes in all; the state file keeps 16384]\"")" = 1 &&
	test "$(sql "$BT_HOME/db/bt_state.db" "select length(detail) < 20000 from events where kind=\"big\"")" = 1 &&
	json_has out "select(.event==\"message\") | (.text|length) < 700 and (.text|endswith(\"...\"))"
'

test_expect_success 'bt-watchdog in that BT_HOME: the disk CRITICAL keeps its message and path, and is recorded' '
	BT_DISK_MIN_FREE_MB=100000000 test_expect_code 1 bt-watchdog >out 2>err &&
	json_has out "select(.check==\"disk\") | .ok==false and (.message|contains(\"h\ufffdome has \")) and (.path|endswith(\"h\ufffdome\")) and (.event_id|length)==16" &&
	! grep -q "cannot record event" err &&
	test "$(sql "$BT_HOME/db/bt_state.db" "select count(*) from events where kind=\"disk\" and message like \"%h${FFFD}ome has%\"")" = 1
'

test_done
