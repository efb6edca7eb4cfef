#!/bin/sh
# bt-backup and the state file (issue 15: the state file's own lock,
# run/state.lock): a restore refused for a held run/write.lock records
# its event; --restore --state takes run/state.lock too, refusing at once
# while a writer of the state file holds it (or with --force waiting up
# to BT_WRITE_LOCK_WAIT), and keeps a whole copy of the state file aside,
# what its WAL held included.  And a backup whose candle range is not its
# record's says both ranges.
. "$(dirname "$0")/lib.sh"

DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
BK=$BT_HOME/backups
export BT_SYMBOLS=ETHUSDT BT_TIMEFRAMES="1d 4h"
export BT_NOW=2024-03-02T06:00:00Z

# iso MS: bt's spelling of a time.
iso() {
	date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%SZ
}
# hold LOCK: a writer in the background holds run/LOCK until release.
hold() {
	rm -f held release && mkfifo held release &&
	{ flock $BT_HOME/run/$1 sh -c "echo held >$TRASH/held; read x <$TRASH/release" & } &&
	read x <held
}
release() {
	echo go >release && wait
}
# snap OUT FILE...: the files' bytes, and what db/ holds.
snap() {
	_o=$1
	shift
	{ sha256sum "$@" | cut -d" " -f1; ls $BT_HOME/db | grep -v -e -wal -e -shm; } >$_o
}

test_expect_success 'setup: a store and its backups, the state file'"'"'s among them' '
	BT_NOW=2024-03-01T00:00:00Z bt-fetch --import $DATA/freqtrade/ETH_USDT-1d.json \
	    $DATA/freqtrade/ETH_USDT-4h.json >/dev/null &&
	BT_NOW=2024-03-01T03:00:00Z test_expect_code 0 bt-backup >out &&
	test -f $BK/db_backup_20240301.db && test -f $BK/state_backup_20240301.db
'

test_expect_success 'a backup whose candles span other times than its record: both ranges said' '
	r=$(sql $ST "select first_open, last_open from backups where name=\"db_backup_20240301.db\"") &&
	f=${r%|*} && l=${r#*|} &&
	sqlite3 $ST "update backups set first_open=first_open + 86400000, last_open=last_open - 14400000
	    where name=\"db_backup_20240301.db\"" &&
	test_expect_code 1 bt-backup --verify >out &&
	want="candles from $(iso $f) to $(iso $l), recorded $(iso $((f + 86400000))) to $(iso $((l - 14400000)))" &&
	json_has out "select(.event==\"verify\" and .file==\"db_backup_20240301.db\") | .detail|endswith(\"$want\")" &&
	sqlite3 $ST "update backups set first_open=$f, last_open=$l where name=\"db_backup_20240301.db\"" &&
	test_expect_code 0 bt-backup --verify >out
'

test_expect_success 'run/write.lock held: the restore refuses, and now records that; -n only prints it' '
	snap before $DB && hold write.lock &&
	rc=0; BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore >out 2>err || rc=$?
	rcn=0; BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore -n >outn 2>errn || rcn=$?
	release &&
	test "$rc" = 75 && test "$rcn" = 75 && grep -q "run/write.lock" err &&
	json_has out "select(.event==\"restore_refused\") | .severity==\"WARNING\" and .lock==\"run/write.lock\" and .event_id != null" &&
	id=$(jq -r "select(.event==\"restore_refused\") | .event_id" out) &&
	test "$(sql $ST "select kind || \" \" || severity from events where event_id=\"$id\"")" = "restore_refused WARNING" &&
	json_has outn "select(.event==\"restore_refused\") | .event_id==null" &&
	test "$(sql $ST "select count(*) from events where kind=\"restore_refused\"")" = 1 &&
	snap after $DB && test_cmp before after
'

test_expect_success 'run/state.lock held: --restore --state refuses at once, 75; both files untouched; -n the same' '
	snap before $DB $ST && hold state.lock &&
	rc=0; BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore --state >out 2>err || rc=$?
	rcn=0; BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore --state -n >outn 2>errn || rcn=$?
	release &&
	test "$rc" = 75 && test "$rcn" = 75 &&
	grep -q "run/state.lock is held" err && grep -q "run/state.lock" errn &&
	json_has out "select(.event==\"restore_refused\") | .lock==\"run/state.lock\" and .event_id==null" &&
	snap after $DB $ST && test_cmp before after
'

test_expect_success '--force waits for run/state.lock within BT_WRITE_LOCK_WAIT, then restores' '
	hold state.lock &&
	rc=0; BT_WRITE_LOCK_WAIT=0 bt-backup --restore --state --force >out 2>err || rc=$?
	{ BT_WRITE_LOCK_WAIT=3600 timeout 120 bt-backup --restore --state --force >outw 2>errw; echo $? >rcw; } &
	# Released only once the restore has the lock file open (it polls,
	# so /proc/locks shows no waiter), or the test would not test a wait.
	i=0 &&
	until for p in $(pgrep -x bt-backup); do
		ls -l /proc/$p/fd 2>/dev/null
	    done | grep -q "/run/state.lock$"; do
		i=$((i + 1))
		test $i -lt 20000 || { echo "bt-backup never waited" >&2; release; exit 1; }
	done &&
	release &&
	test "$rc" = 75 &&
	json_has out "select(.event==\"write_lock\") | .lock==\"run/state.lock\"" &&
	test "$(cat rcw)" = 0 &&
	json_has outw "select(.event==\"restore\") | .backup==\"db_backup_20240301.db\""
'

test_expect_success '--restore --state: the copy kept aside holds what the state file'"'"'s WAL held' '
	rm -f $BT_HOME/db/bt_state.db.before-restore-* &&
	rm -f ready go && mkfifo ready go &&
	# A reader keeps the state file open, so no close checkpoints it.
	{ python3 -c "import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute(\"select count(*) from kv\").fetchone()
open(sys.argv[2], \"w\").write(\"open\n\")
open(sys.argv[3]).read()" $ST ready go & } &&
	read x <ready &&
	sqlite3 $ST ".dbconfig no_ckpt_on_close on" "insert into kv(key, value) values (\"probe\", \"in the WAL\")" &&
	test -s $ST-wal &&
	rc=0; bt-backup --restore --state >out 2>err || rc=$?
	echo go >go && wait &&
	test "$rc" = 0 &&
	kept=$(ls $BT_HOME/db/bt_state.db.before-restore-* | grep -v -- -wal) &&
	test "$(sql $kept "select value from kv where key=\"probe\"")" = "in the WAL" &&
	test "$(sql $kept "pragma integrity_check")" = ok &&
	test "$(sql $ST "select count(*) from kv where key=\"probe\"")" = 0 &&
	id=$(jq -r "select(.event==\"restore\") | .event_id" out) &&
	test "$(sql $ST "select count(*) from events where event_id=\"$id\"")" = 1
'

test_done
