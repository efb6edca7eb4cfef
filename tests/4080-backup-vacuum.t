#!/bin/sh
# bt-backup --vacuum (issue "A week of chaos with nothing lost", "The
# weekly vacuum stalls the trader"): a store not incremental gets VACUUM
# as before, and is told once how to convert; --convert makes it
# incremental with one VACUUM; from then on --vacuum frees the free pages
# in steps, each its own transaction under run/write.lock, which waits
# within BT_WRITE_LOCK_WAIT.  (That the lock is free between the steps,
# and a writer gets in: tests/4070, group vacuum.)
. "$(dirname "$0")/lib.sh"

DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
export BT_SYMBOLS=ETHUSDT BT_TIMEFRAMES="1d 4h" BT_NOW=2024-03-03T03:00:00Z
export BT_VACUUM_PAUSE_MS=0

# scatter N: N pages of a table dropped between the pages of one kept,
# so that the free pages lie all through the file.
scatter() {
	sqlite3 $DB "create table if not exists keep(x); create table gone(x);
	    with recursive n(i) as (select 1 union all select i + 1 from n where i < $1)
	    select count(*) from n;" >/dev/null &&
	i=0 && while [ $i -lt "$1" ]; do
		echo "insert into keep values (randomblob(3000)); insert into gone values (randomblob(3000));"
		i=$((i + 1))
	done | sqlite3 $DB &&
	sqlite3 $DB "drop table gone" &&
	test "$(sql $DB "pragma freelist_count")" -ge "$1"
}
# content: what the store holds, whatever its pages.
content() {
	sqlite3 -readonly $DB .sha3sum
}

test_expect_success 'setup: a small store with free pages among its own' '
	bt-fetch --import $DATA/freqtrade/ETH_USDT-1d.json $DATA/freqtrade/ETH_USDT-4h.json >/dev/null &&
	scatter 100 &&
	test "$(sql $DB "pragma auto_vacuum")" = 0 &&
	content >before
'

test_expect_success 'a store not incremental: VACUUM, as before; said once how to convert' '
	test_expect_code 0 bt-backup --vacuum >out &&
	json_has out "select(.event==\"vacuum\") | .method==\"vacuum\" and .auto_vacuum==\"none\" and .converted==false and .reclaimed >= 100 * 4096 and .wal_bytes==0 and .steps==null" &&
	json_has out "select(.event==\"vacuum_not_incremental\") | .severity==\"INFO\" and (.message|test(\"--vacuum --convert\"))" &&
	test "$(sql $DB "pragma freelist_count")" = 0 &&
	content >after && test_cmp before after &&
	scatter 50 &&
	test_expect_code 0 bt-backup --vacuum >out &&
	json_has out "select(.event==\"vacuum\") | .method==\"vacuum\"" &&
	test -z "$(jq -c "select(.event==\"vacuum_not_incremental\")" out)" &&
	test "$(sql $ST "select count(*) from events where kind=\"vacuum_not_incremental\"")" = 1
'

test_expect_success '--convert: one VACUUM that makes the store incremental, its stall reported' '
	scatter 50 &&
	content >before &&
	env -u BT_NOW bt-backup --vacuum --convert >out &&
	json_has out "select(.event==\"vacuum\") | .converted and .auto_vacuum==\"incremental\" and .method==\"vacuum\" and .writers_blocked_seconds >= 0 and (.message|test(\"converted the store to incremental vacuum.*writers were blocked\"))" &&
	test "$(sql $DB "pragma auto_vacuum")" = 2 &&
	test "$(sql $DB "pragma freelist_count")" = 0 &&
	test "$(sql $DB "pragma integrity_check")" = ok &&
	content >after && test_cmp before after &&
	test -z "$(jq -c "select(.event==\"vacuum_not_incremental\")" out)"
'

test_expect_success 'then the weekly --vacuum frees the free pages in steps of BT_VACUUM_STEP_PAGES' '
	scatter 100 &&
	free=$(sql $DB "pragma freelist_count") && pages=$(sql $DB "pragma page_count") &&
	content >before &&
	BT_VACUUM_STEP_PAGES=16 test_expect_code 0 bt-backup --vacuum >out &&
	json_has out "select(.event==\"vacuum\") | .method==\"incremental\" and .converted==false and .free_pages==$free and .pages_freed==$free and .steps==$(( (free + 15) / 16 )) and .complete and .reclaimed >= $free * 4096 and .wal_bytes==0" &&
	json_has out "select(.event==\"vacuum\") | .longest_hold_seconds==null and .writers_blocked_seconds==null" &&
	test "$(sql $DB "pragma freelist_count")" = 0 &&
	test "$(sql $DB "pragma page_count")" -le $((pages - free)) &&
	test "$(sql $DB "pragma integrity_check")" = ok &&
	content >after && test_cmp before after
'

test_expect_success 'without BT_NOW: how long writers waited, at most and in all' '
	scatter 20 &&
	env -u BT_NOW bt-backup --vacuum >out &&
	json_has out "select(.event==\"vacuum\") | .steps==1 and .longest_hold_seconds >= 0 and .writers_blocked_seconds >= .longest_hold_seconds and (.message|test(\"writers were blocked [0-9.]*s at most at once\"))"
'

test_expect_success '--convert on an incremental store converts nothing: the steps' '
	scatter 20 &&
	test_expect_code 0 bt-backup --vacuum --convert >out &&
	json_has out "select(.event==\"vacuum\") | .method==\"incremental\" and .converted==false and .pages_freed >= 20"
'

test_expect_success 'a step waits for run/write.lock within BT_WRITE_LOCK_WAIT: spent, 75 and nothing freed' '
	scatter 20 &&
	free=$(sql $DB "pragma freelist_count") &&
	flock $BT_HOME/run/write.lock sh -c "BT_WRITE_LOCK_WAIT=0 bt-backup --vacuum >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 75 && grep -q "run/write.lock" err &&
	test -z "$(jq -c "select(.event==\"vacuum\")" out)" &&
	json_has out "select(.event==\"write_lock\") | .lock==\"run/write.lock\"" &&
	test "$(sql $DB "pragma freelist_count")" = "$free"
'

test_expect_success '--convert goes with --vacuum only' '
	test_expect_code 64 bt-backup --convert 2>err &&
	grep -q "^usage: bt-backup" err &&
	grep -q "bt-backup --vacuum \[--convert\]" err &&
	test_expect_code 64 bt-backup --verify --convert 2>err
'

test_done
