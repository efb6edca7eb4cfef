#!/bin/sh
# bt-backup --restore refuses what would make things worse (issue "A week
# of chaos with nothing lost", "A restore can make things worse"): a
# 0-byte file, a foreign SQLite file, a newer schema_version, a symlink or
# hard link to the live store, a backup that is not what bt-backup
# recorded, a held run/write.lock (75 at once, no wait), a backup that
# lacks the trader's trades or holds far fewer candles (CRITICAL, 65,
# unless --force); and a restore keeps BT_RESTORE_KEEP_DAMAGED copies of
# the damaged store, killed or not.  Whenever it refuses, the live store
# is byte for byte what it was.
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
BK=$BT_HOME/backups
T1=2022-10-11T03:00:00Z
# Restores run a day after the backup unless a test says otherwise.
export BT_NOW=2022-10-12T06:00:00Z

# snap FILE: the live store's bytes and its content (WAL included).
snap() {
	{ sha256sum $DB | cut -d" " -f1; sqlite3 -readonly $DB .sha3sum 2>&1 ||
	    true; } >$1
}
# put_store: the undamaged store of the setup, back in place.
put_store() {
	rm -f $DB $DB-wal $DB-shm && cp orig.db $DB
}
# only FILE...: backups/ holds exactly these (copies of the setup's files).
only() {
	rm -rf $BK && mkdir -m 700 $BK &&
	for f in "$@"; do cp -p keep/$f $BK/$f || return 1; done
}
damaged() {
	ls $BT_HOME/db | grep -c "^crypto_agent.db.damaged-[0-9TZ.]*$" || true
}
# untouched BEFORE: refused, and nothing changed.
untouched() {
	snap now.snap && test_cmp $1 now.snap &&
	test ! -e $BT_HOME/db/LOCKED &&
	test "$(damaged)" = "$2"
}

test_expect_success 'setup: two symbols of real candles, the trader'"'"'s 100 trades, a backup' '
	BT_NOW=2022-10-11T00:00:00Z bt-fetch --import $DATA/freqtrade/BTC_USDT-*.json \
	    $DATA/freqtrade/ETH_USDT-*.json >/dev/null &&
	sqlite3 $DB "create table trades(id integer primary key, symbol text, timestamp integer, qty real);
	    create index idx_trades_symbol on trades(symbol, timestamp desc);
	    with recursive n(i) as (select 1 union all select i + 1 from n where i < 100)
	    insert into trades(symbol, timestamp, qty) select iif(i % 2, \"BTCUSDT\", \"ETHUSDT\"),
	    1665360000000 + i * 60000, i / 10.0 from n;
	    pragma wal_checkpoint(truncate)" >/dev/null &&
	BT_NOW=$T1 test_expect_code 0 bt-backup >out &&
	sqlite3 $DB ".backup orig.db" &&
	mkdir keep && cp -p $BK/db_backup_20221011.db keep/ &&
	sql $DB "select count(*) from candles" >ncandles &&
	test "$(cat ncandles)" = 22630 &&
	snap orig.snap
'

test_expect_success 'a backup records what it wrote: bytes, schema, tables, candles and their range' '
	f=$BK/db_backup_20221011.db &&
	test "$(sql $ST "select bytes, schema_version, tables, candles, first_open, last_open, taken from backups where name=\"db_backup_20221011.db\"")" = \
	    "$(stat -c %s $f)|2|$(sqlite3 "file:$f?immutable=1" "select group_concat(name) from (select name from sqlite_schema where type=\"table\" and name not like \"sqlite_%\" order by name)")|$(cat ncandles)|$(sql $DB "select min(timestamp) from ohlcv_d1")|$(sql $DB "select max(timestamp) from ohlcv_h1")|1665457200000" &&
	sql $ST "select tables from backups" | grep -q "candles,.*trades" &&
	test "$(sql $ST "select count(*) from backups where name=\"state_backup_20221011.db\" and candles is null")" = 1 &&
	test "$(sql $ST "select value from bt_meta where key=\"schema_version\"")" = 3
'

test_expect_success 'a 0-byte newest backup: skipped; alone, the restore refuses with 66 and touches nothing' '
	only && : >$BK/db_backup_20221012.db &&
	test_expect_code 66 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"backup_bad\") | .file==\"db_backup_20221012.db\" and (.message|test(\"is empty\"))" &&
	json_has out "select(.event==\"restore\") | .severity==\"CRITICAL\" and (.message|test(\"untouched\"))" &&
	untouched orig.snap 0 &&
	test "$(sql $DB "select count(*) from trades")" = 100 &&
	cp -p keep/db_backup_20221011.db $BK/ &&
	test_expect_code 0 bt-backup --restore -n >out &&
	json_has out "select(.event==\"plan\") | .backup==\"db_backup_20221011.db\" and .restore_point==\"$T1\" and .recorded" &&
	test_expect_code 1 bt-backup --verify >out &&
	json_has out "select(.event==\"verify\" and .file==\"db_backup_20221012.db\") | .status==\"bad\""
'

test_expect_success 'a foreign SQLite file newest: not a bt store, refused with 66' '
	only && sqlite3 $BK/db_backup_20221012.db "create table notes(x); insert into notes values (1)" &&
	test_expect_code 66 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"backup_bad\") | .file==\"db_backup_20221012.db\" and (.message|test(\"not a bt store\"))" &&
	untouched orig.snap 0
'

test_expect_success 'a newer schema_version: refused with 66, never installed' '
	only && cp keep/db_backup_20221011.db $BK/db_backup_20221012.db &&
	chmod u+w $BK/db_backup_20221012.db &&
	sqlite3 $BK/db_backup_20221012.db "update bt_meta set value=99 where key=\"schema_version\"" &&
	test_expect_code 66 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"backup_bad\") | .message|test(\"schema_version 99, newer than this bt knows\")" &&
	untouched orig.snap 0
'

test_expect_success 'a symlink or hard link to the live store is no backup, and no false restore point' '
	only && ln -s $DB $BK/db_backup_20221012.db &&
	test_expect_code 66 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"backup_bad\") | .file==\"db_backup_20221012.db\" and (.message|test(\"symbolic link\"))" &&
	untouched orig.snap 0 &&
	ln $DB $BK/db_backup_20221013.db &&
	test_expect_code 66 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"backup_bad\") | .file==\"db_backup_20221013.db\" and (.message|test(\"live store itself\"))" &&
	untouched orig.snap 0 &&
	cp -p keep/db_backup_20221011.db $BK/ &&
	test_expect_code 0 bt-backup --restore -n >out &&
	json_has out "select(.event==\"plan\") | .backup==\"db_backup_20221011.db\" and .restore_point==\"$T1\""
'

test_expect_success 'not what bt-backup recorded: a changed backup, an unrecorded one dated since bt records' '
	only db_backup_20221011.db &&
	sqlite3 $BK/db_backup_20221011.db "delete from candles where pair=1 and slot=(select max(slot) from candles where pair=1)" &&
	cp keep/db_backup_20221011.db $BK/db_backup_20221012.db &&
	test_expect_code 66 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"backup_bad\" and .file==\"db_backup_20221011.db\") | .message|test(\"not what bt-backup recorded when it took it: \")" &&
	json_has out "select(.event==\"backup_bad\" and .file==\"db_backup_20221012.db\") | .message|test(\"has no record\")" &&
	untouched orig.snap 0
'

test_expect_success 'an unrecorded backup from before bt recorded backups: restored, and the event says so' '
	only && cp keep/db_backup_20221011.db $BK/db_backup_20221010.db &&
	touch -d 2022-10-10T03:00:00Z $BK/db_backup_20221010.db &&
	test_expect_code 0 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"restore\") | .backup==\"db_backup_20221010.db\" and .recorded==false and (.message|test(\"no record of bt-backup\"))" &&
	test "$(sql $DB "pragma integrity_check")" = ok &&
	test "$(damaged)" = 1
'

test_expect_success 'run/write.lock held: 75 at once, without waiting, store untouched; -n says the same' '
	put_store && snap held.snap && n=$(damaged) &&
	only db_backup_20221011.db &&
	mkfifo held release &&
	{ flock $BT_HOME/run/write.lock sh -c "echo held >$TRASH/held; read x <$TRASH/release" & } &&
	read x <held &&
	# The exit codes are kept, and the lock let go, before any assertion.
	rc=0; BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore >out 2>err || rc=$?
	rcn=0; BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore -n >outn 2>errn || rcn=$?
	echo go >release && wait &&
	test "$rc" = 75 && test "$rcn" = 75 &&
	grep -q "write.lock" err && grep -q "write.lock" errn &&
	json_has out "select(.event==\"restore_refused\") | .severity==\"WARNING\"" &&
	untouched held.snap $n
'

test_expect_success 'a backup that lacks the trader'"'"'s trades: CRITICAL, 65, untouched; --force restores and salvages them' '
	put_store && snap lack.snap && n=$(damaged) &&
	only db_backup_20221011.db &&
	cp orig.db notrades.db && sqlite3 notrades.db "drop table trades" &&
	BT_NOW=2022-10-12T03:00:00Z bt-backup -q -d $PWD/notrades.db >/dev/null &&
	test_expect_code 65 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"restore_refused\") | .severity==\"CRITICAL\" and .backup==\"db_backup_20221012.db\" and .missing_tables==[\"trades\"] and (.message|test(\"lacks the live store.s table trades\"))" &&
	test "$(sql $ST "select count(*) from events where kind=\"restore_refused\" and severity=\"CRITICAL\"")" -ge 1 &&
	untouched lack.snap $n &&
	test_expect_code 65 bt-backup --restore -n >out &&
	untouched lack.snap $n &&
	test_expect_code 0 bt-backup --restore --force >out 2>err &&
	json_has out "select(.event==\"restore_forced\") | .severity==\"WARNING\"" &&
	json_has out "select(.event==\"restore\") | .backup==\"db_backup_20221012.db\" and .lost_tables==[\"trades\"] and .salvaged_rows==100 and (.forced|test(\"trades\"))" &&
	salv=$(jq -r "select(.event==\"restore\") | .salvage" out) &&
	test "$(sql $salv "select count(*) from trades")" = 100
'

test_expect_success 'a backup with far fewer candles: CRITICAL, 65, untouched; --force restores it' '
	put_store && snap few.snap && n=$(damaged) &&
	only db_backup_20221011.db &&
	cp orig.db few.db && sqlite3 few.db "delete from candles where slot*(select iv from pairs where id=pair) < 1656633600000" &&
	BT_NOW=2022-10-13T03:00:00Z bt-backup -q -d $PWD/few.db >/dev/null &&
	export BT_NOW=2022-10-13T06:00:00Z &&
	test_expect_code 65 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"restore_refused\") | .severity==\"CRITICAL\" and .backup==\"db_backup_20221013.db\" and .live_candles==$(cat ncandles) and .backup_candles*3 < .live_candles and (.message|test(\"fewer than 90%\"))" &&
	untouched few.snap $n &&
	test_expect_code 0 bt-backup --restore --force >out 2>err &&
	json_has out "select(.event==\"restore\") | .backup==\"db_backup_20221013.db\" and .recorded and (.forced|test(\"fewer than 90%\"))" &&
	test "$(sql $DB "select count(*) from trades")" = 100
'

test_expect_success 'the live store damaged: its undamaged part still counts; newer candles are no loss' '
	put_store && n=$(damaged) &&
	python3 $BT_SRC/scripts/campaign-corrupt.py $DB candles_leaf_mid_zeroed &&
	snap dmg.snap &&
	test_expect_code 1 bt-validate --integrity full >/dev/null &&
	test_expect_code 65 bt-backup --restore -n >out 2>err &&
	json_has out "select(.event==\"restore_refused\") | .live_candles > 20000 and .live_candles < $(cat ncandles) and .backup_candles*3 < .live_candles" &&
	untouched dmg.snap $n &&
	cp orig.db recent.db && sqlite3 recent.db "delete from candles where slot*(select iv from pairs where id=pair) >= 1654041600000" &&
	BT_NOW=2022-10-14T03:00:00Z bt-backup -q -d $PWD/recent.db >/dev/null &&
	BT_NOW=2022-10-14T06:00:00Z test_expect_code 0 bt-backup --restore -n >out 2>err &&
	json_has out "select(.event==\"plan\") | .backup==\"db_backup_20221014.db\" and .forced==null"
'

test_expect_success 'BT_RESTORE_KEEP_DAMAGED copies stay (default 2); a hand-made file is never deleted' '
	echo mine >$DB.damaged-20221001T000000Z &&
	only db_backup_20221011.db &&
	for d in 15 16 17; do
		put_store &&
		BT_NOW=2022-10-${d}T06:00:00Z bt-backup --restore >out 2>err || exit 1
		test "$(damaged)" = 3 || { ls $BT_HOME/db; exit 1; }
	done &&
	json_has out "select(.event==\"rotate\" and .kind==\"damaged\") | .deleted|test(\"damaged-20221015T060000Z$\")" &&
	ls $BT_HOME/db | grep "^crypto_agent.db.damaged-[0-9TZ.]*$" >got &&
	printf "%s\n" crypto_agent.db.damaged-20221001T000000Z crypto_agent.db.damaged-20221016T060000Z \
	    crypto_agent.db.damaged-20221017T060000Z >want &&
	test_cmp want got &&
	test "$(cat $DB.damaged-20221001T000000Z)" = mine &&
	test "$(sql $ST "select count(*) from asides")" = 2 &&
	put_store &&
	BT_RESTORE_KEEP_DAMAGED=1 BT_NOW=2022-10-18T06:00:00Z test_expect_code 0 bt-backup --restore >out &&
	test "$(damaged)" = 2 && test -e $DB.damaged-20221018T060000Z &&
	BT_RESTORE_KEEP_DAMAGED=0 test_expect_code 78 bt-backup --restore -n >out 2>err &&
	grep -q BT_RESTORE_KEEP_DAMAGED err
'

test_expect_success 'killed restores do not pile up copies; the oldest go only after one succeeds' '
	export BT_NOW=2022-10-19T06:00:00Z &&
	cat >fake-sqlite3 <<-EOF &&
	#!/bin/sh
	if [ "\$2" = .recover ]; then echo started >$PWD/ready; read x <$PWD/go; exit 1; fi
	cat >/dev/null
	EOF
	chmod +x fake-sqlite3 && mkfifo ready go &&
	put_store &&
	for k in 1 2 3; do
		(BT_SQLITE3=$PWD/fake-sqlite3 exec bt-backup --restore >k.out 2>&1) &
		pid=$!
		timeout 60 sh -c "read x <ready" || exit 1
		kill -9 $pid; { wait $pid || true; }; echo go >go
		test -f $BT_HOME/db/LOCKED || exit 1
		test "$(damaged)" = 3 || { ls $BT_HOME/db; exit 1; }
	done &&
	test "$(ls $BT_HOME/db | grep -c salvage-20221019)" = 1 &&
	test -e $DB.salvage-20221019T060000Z.tmp &&
	test_expect_code 0 bt-backup --restore >out 2>err &&
	json_has out "select(.event==\"restore\") | .set_aside|test(\"damaged-20221019T060000Z$\")" &&
	test ! -e $BT_HOME/db/LOCKED &&
	test "$(damaged)" = 3 &&
	test -e $DB.damaged-20221019T060000Z && test -e $DB.damaged-20221018T060000Z &&
	test "$(ls $BT_HOME/db | grep -c salvage-20221019)" = 1 &&
	test "$(sql $DB.salvage-20221019T060000Z "select count(*) from trades")" = 100
'

test_expect_success 'rotation deletes a backup'"'"'s record with its file' '
	rm -rf $BK && sqlite3 $ST "delete from backups" &&
	for d in 20 21 22 23 24; do
		BT_NOW=2022-10-${d}T03:00:00Z bt-backup -q >/dev/null || exit 1
	done &&
	ls $BK >files &&
	sql $ST "select name from backups order by name" >records &&
	test_cmp files records
'

test_done
