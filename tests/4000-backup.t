#!/bin/sh
# bt-backup: daily copies, rotation over a simulated month, offsite,
# verify, the restore test, vacuum, a full disk and an unwritable
# directory.
. "$(dirname "$0")/lib.sh"

DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
BK=$BT_HOME/backups
export BT_SYMBOLS=ETHUSDT BT_TIMEFRAMES="1d 4h 1h"

test_expect_success 'setup: a small store' '
	BT_NOW=2024-03-01T00:00:00Z bt-fetch --import $DATA/freqtrade/ETH_USDT-1d.json \
	    $DATA/freqtrade/ETH_USDT-4h.json >/dev/null &&
	test -f $DB
'

test_expect_success 'a daily backup: checked, mode 0600, the state file too' '
	BT_NOW=2024-03-01T03:00:00Z test_expect_code 0 bt-backup >out &&
	json_has out "select(.event==\"backup\") | .severity==\"INFO\" and .file==\"db_backup_20240301.db\" and .weekly==null and .state_file==\"state_backup_20240301.db\"" &&
	test "$(stat -c %a $BK/db_backup_20240301.db)" = 600 &&
	test "$(stat -c %a $BK/state_backup_20240301.db)" = 600 &&
	test "$(stat -c %a $BK)" = 700 &&
	test "$(sqlite3 "file:$BK/db_backup_20240301.db?immutable=1" "pragma integrity_check")" = ok &&
	test "$(sqlite3 "file:$BK/db_backup_20240301.db?immutable=1" "select count(*) from candles")" = \
	    "$(sql $DB "select count(*) from candles")" &&
	test -z "$(ls -A $BK | grep tmp)"
'

test_expect_success 'a run removes the temporary files a killed run left, only those' '
	for f in .db_backup_20240229.db.tmp .db_backup_weekly_20240225.db.tmp \
	    .state_backup_20240229.db.tmp .test_restore.db.tmp; do
		echo partial >$BK/$f || exit 1
	done &&
	echo mine >$BK/.notes.tmp &&
	BT_NOW=2024-03-01T03:00:00Z test_expect_code 0 bt-backup >out &&
	test "$(ls -A $BK | grep tmp)" = .notes.tmp &&
	rm $BK/.notes.tmp
'

test_expect_success 'a month of daily runs leaves exactly the expected files' '
	mkdir off &&
	for d in $(seq -w 2 31); do
		BT_NOW=2024-03-${d}T03:00:00Z bt-backup --offsite $PWD/off >>month.out || exit 1
	done &&
	ls $BK >got &&
	printf "%s\n" db_backup_20240329.db db_backup_20240330.db db_backup_20240331.db \
	    db_backup_weekly_20240310.db db_backup_weekly_20240317.db \
	    db_backup_weekly_20240324.db db_backup_weekly_20240331.db \
	    state_backup_20240329.db state_backup_20240330.db state_backup_20240331.db >want &&
	test_cmp want got &&
	ls off >got &&
	printf "%s\n" db_backup_weekly_20240310.db db_backup_weekly_20240317.db \
	    db_backup_weekly_20240324.db db_backup_weekly_20240331.db >want &&
	test_cmp want got &&
	test "$(stat -c %i $BK/db_backup_20240331.db)" = "$(stat -c %i $BK/db_backup_weekly_20240331.db)" &&
	json_has month.out "select(.event==\"rotate\") | .deleted==\"db_backup_weekly_20240303.db\"" &&
	test "$(jq -c "select(.event==\"offsite\")" month.out | wc -l)" = 5
'

test_expect_success 'a rerun the same day replaces that day'"'"'s backup' '
	BT_NOW=2024-03-31T09:00:00Z test_expect_code 0 bt-backup >out &&
	test "$(ls $BK | wc -l)" = 10 &&
	test "$(stat -c %i $BK/db_backup_20240331.db)" = "$(stat -c %i $BK/db_backup_weekly_20240331.db)"
'

test_expect_success 'the offsite command gets the new weekly as $1' '
	cat >offsite.sh <<-\EOS &&
	#!/bin/sh
	cp "$1" "$PWD/cmdcopy.db"
	EOS
	chmod +x offsite.sh &&
	BT_NOW=2024-04-07T03:00:00Z BT_BACKUP_OFFSITE_CMD="$PWD/offsite.sh \"\$1\"" test_expect_code 0 bt-backup >out &&
	cmp cmdcopy.db $BK/db_backup_weekly_20240407.db &&
	BT_NOW=2024-04-14T03:00:00Z BT_BACKUP_OFFSITE_CMD="exit 3" test_expect_code 69 bt-backup >out &&
	json_has out "select(.event==\"backup_failed\") | .severity==\"CRITICAL\" and (.message|test(\"offsite command\"))" &&
	test -f $BK/db_backup_20240414.db
'

test_expect_success '--verify checks every backup; a damaged one is named, exit 1' '
	BT_NOW=2024-04-15T03:00:00Z test_expect_code 0 bt-backup --verify >out &&
	json_has out "select(.event==\"summary\") | .bad==0 and .newest_good==\"db_backup_20240414.db\"" &&
	chmod u+w $BK/db_backup_20240407.db &&
	python3 -c "f=open(\"$BK/db_backup_20240407.db\",\"r+b\"); f.seek(8192); f.write(b\"\\xff\"*8192)" &&
	BT_NOW=2024-04-15T03:00:00Z test_expect_code 1 bt-backup --verify >out &&
	json_has out "select(.event==\"verify\" and .file==\"db_backup_20240407.db\") | .status==\"bad\"" &&
	json_has out "select(.event==\"verify\" and .file==\"db_backup_weekly_20240407.db\") | .status==\"bad\"" &&
	json_has out "select(.event==\"backup_bad\") | .severity==\"WARNING\""
'

test_expect_success '--test-restore restores the newest backup and compares it' '
	BT_NOW=2024-04-15T04:00:00Z test_expect_code 0 bt-backup --test-restore >out &&
	json_has out "select(.event==\"test_restore\") | .status==\"ok\" and .backup==\"db_backup_20240414.db\" and .tables.candles.live==.tables.candles.restored and .newest_live==.newest_restored" &&
	test -z "$(ls -A $BK | grep test_restore)"
'

test_expect_success '--vacuum reclaims deleted pages under the write lock' '
	sqlite3 $DB "delete from candles where slot < 19000" &&
	BT_NOW=2024-04-15T05:00:00Z test_expect_code 0 bt-backup --vacuum >out &&
	json_has out "select(.event==\"vacuum\") | .reclaimed > 0 and .bytes_after < .bytes_before" &&
	test "$(sql $DB "pragma integrity_check")" = ok &&
	bt-backup --vacuum >out &&
	json_has out "select(.event==\"vacuum\") | .writers_blocked_seconds >= 0"
'

test_expect_success '--vacuum refuses while another writer holds the lock' '
	flock $BT_HOME/run/write.lock sh -c "BT_WRITE_LOCK_WAIT=0 bt-backup --vacuum >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 75 && grep -q "write.lock" err
'

test_expect_success 'a full disk: old backups intact, a clear error, exit 74' '
	sum=$(cat $BK/*.db | md5sum) &&
	ls $BK >before &&
	BT_NOW=2024-04-16T03:00:00Z test_expect_code 74 \
	    sh -c "trap \"\" XFSZ; ulimit -f 200; exec bt-backup" >out 2>err &&
	json_has out "select(.event==\"backup_failed\") | .severity==\"CRITICAL\" and (.message|test(\"old backups left intact\"))" &&
	ls $BK >after && test_cmp before after &&
	test "$(cat $BK/*.db | md5sum)" = "$sum"
'

test_expect_success 'an unwritable backups directory: exit 73, nothing lost' '
	chmod 755 $TRASH && chown -R nobody:nogroup $BT_HOME &&
	chown root:root $BK && chmod 755 $BK &&
	ls $BK >before &&
	BT_NOW=2024-04-17T03:00:00Z test_expect_code 73 setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups bt-backup >out 2>err &&
	json_has out "select(.event==\"backup_failed\") | (.message|test(\"Permission denied\"))" &&
	ls $BK >after && test_cmp before after &&
	chown -R root:root $BT_HOME && chmod 700 $BK
'

test_expect_success 'no store: exit 66; bad arguments: exit 64' '
	test_expect_code 66 bt-backup -d $PWD/nosuch.db 2>err &&
	test_expect_code 64 bt-backup --rollback soon 2>err &&
	grep -q "hours" err &&
	test_expect_code 64 bt-backup --verify --vacuum 2>err &&
	grep -q "^usage: bt-backup" err &&
	test_expect_code 64 bt-backup --force 2>err
'

test_done
