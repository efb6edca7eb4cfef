#!/bin/sh
# The corruption drill: damage the live store (overwritten pages, then a
# destroyed header), bt-validate sees it, `bt-backup --restore | bt-fetch
# --gaps' against the Binance test server, and the store ends equal to one
# that never broke.  Also: the live trader and the write lock keep a
# restore out, a restore killed midway is taken over, and --rollback.
. "$(dirname "$0")/lib.sh"

NOW1=2025-05-20T03:00:00Z
NOW2=2025-05-21T06:30:00Z
NOW3=2025-05-22T09:30:00Z
start_server binance --data $DATA/vision --now $NOW1 --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL
export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db

# dump DB: every candle of every view, as text.
dump() {
	for v in ohlcv_d1 ohlcv_h4 ohlcv_h1; do
		sql $1 "select '$v', * from $v order by symbol, timestamp"
	done
}
# ref NOW: the store of a BT_HOME that never broke, fetched up to NOW.
ref() {
	rm -rf $TRASH/ref && (
	export BT_HOME=$TRASH/ref BT_NOW=$1 &&
	bt-fetch --since 2025-05-01 >/dev/null ) &&
	dump $TRASH/ref/db/crypto_agent.db >ref.txt
}
# at NOW: server and programs at NOW.
at() {
	ctl binance "{\"now\":\"$1\"}"
	export BT_NOW=$1
}

test_expect_success 'setup: a store with the trader'"'"'s trades, and its backup' '
	at $NOW1 &&
	bt-fetch --since 2025-05-01 >/dev/null &&
	sqlite3 $DB "create table trades(id integer primary key, symbol text, timestamp integer, qty real);
	    create index idx_trades_symbol on trades(symbol, timestamp desc);
	    insert into trades(symbol, timestamp, qty) values (\"BTCUSDT\", 1747700000000, 0.5)" &&
	test_expect_code 0 bt-backup >out &&
	json_has out "select(.event==\"backup\") | .file==\"db_backup_20250520.db\""
'

test_expect_success 'setup: a day later, more candles and a trade after the backup' '
	at $NOW2 &&
	bt-fetch >/dev/null &&
	sqlite3 $DB "insert into trades(symbol, timestamp, qty) values (\"ETHUSDT\", 1747800000000, 2)" &&
	test_expect_code 0 bt-validate --full >/dev/null
'

test_expect_success 'overwritten pages: bt-validate --integrity quick says CRITICAL, exit 1' '
	at $NOW2 &&
	sqlite3 $DB "pragma wal_checkpoint(truncate)" >/dev/null &&
	python3 -c "import os; f=open(\"$DB\",\"r+b\"); f.seek(os.path.getsize(\"$DB\")//8192*4096); f.write(bytes(range(256))*16*4)" &&
	test_expect_code 1 bt-validate --integrity quick >out &&
	json_has out "select(.check==\"integrity\") | .severity==\"CRITICAL\""
'

test_expect_success 'bt-backup --restore | bt-fetch --gaps: equal to a store that never broke' '
	at $NOW2 &&
	{ bt-backup --restore; echo $? >rc1; } | tee r.out | bt-fetch --gaps >f.out &&
	test "$(cat rc1)" = 0 &&
	test ! -e $BT_HOME/db/LOCKED &&
	json_has r.out "select(.event==\"restore\") | .severity==\"CRITICAL\" and .method==\"backup_api\" and .backup==\"db_backup_20250520.db\" and .restore_point==\"2025-05-20T03:00:00Z\" and .lost_tables==[\"trades\"] and .salvaged_rows==1" &&
	json_has r.out "select(.event==\"restore\") | .message|test(\"trades are lost\")" &&
	json_has r.out "select(.event==\"gap\" and .symbol==\"BTCUSDT\" and .tf==\"1h\") | .from==1747710000000 and .to==1747803600000" &&
	json_has f.out "select(.event==\"summary\") | .mode==\"gaps\" and .gaps==6 and .exit==0" &&
	test "$(sql $DB "pragma integrity_check")" = ok &&
	ref $NOW2 && dump $DB >got.txt && test_cmp ref.txt got.txt &&
	ls $BT_HOME/db | grep -q "crypto_agent.db.damaged-20250521T063000Z" &&
	test "$(sql $BT_HOME/db/crypto_agent.db.salvage-20250521T063000Z "select symbol from trades where timestamp=1747800000000")" = ETHUSDT &&
	test "$(sql $DB "select count(*) from trades")" = 1
'

test_expect_success 'after a restore every pair is dirty, and bt-validate passes' '
	at $NOW2 &&
	test "$(sql $ST "select count(*) from dirty")" -ge 6 &&
	test_expect_code 0 bt-validate >out &&
	json_has out "select(.event==\"summary\") | .findings==0 and .candles > 0" &&
	test "$(sql $ST "select severity from events where kind=\"restore\"")" = CRITICAL
'

test_expect_success 'a destroyed header: the store will not open; restored by rename' '
	at $NOW2 && test_expect_code 0 bt-backup >/dev/null &&
	at $NOW3 && bt-fetch >/dev/null &&
	dd if=/dev/zero of=$DB bs=100 count=1 conv=notrunc 2>/dev/null &&
	test_expect_code 1 bt-validate >out &&
	json_has out "select(.check==\"integrity\") | .message|test(\"will not open\")" &&
	{ bt-backup --restore; echo $? >rc1; } | tee r.out | bt-fetch --gaps >f.out &&
	test "$(cat rc1)" = 0 &&
	json_has r.out "select(.event==\"restore\") | .method==\"rename\" and .backup==\"db_backup_20250521.db\"" &&
	test -f $BT_HOME/db/crypto_agent.db.damaged-20250522T093000Z &&
	test "$(sql $DB "pragma integrity_check")" = ok &&
	test "$(sql $DB "pragma journal_mode")" = wal &&
	ref $NOW3 && dump $DB >got.txt && test_cmp ref.txt got.txt
'

test_expect_success 'the live trader alive (pid file or fresh heartbeat): refused, exit 75' '
	at $NOW3 &&
	echo $$ >trader.pid &&
	BT_TRADER_PIDFILE=$PWD/trader.pid test_expect_code 75 bt-backup --restore >out &&
	json_has out "select(.event==\"restore_refused\") | .severity==\"CRITICAL\" and (.message|test(\"pid\"))" &&
	echo 2025-05-22T09:29:00Z >hb &&
	BT_TRADER_HEARTBEAT=$PWD/hb test_expect_code 75 bt-backup --restore >out &&
	json_has out "select(.event==\"restore_refused\") | .message|test(\"heartbeat\")" &&
	echo 2025-05-22T09:00:00Z >hb &&
	BT_TRADER_HEARTBEAT=$PWD/hb test_expect_code 0 bt-backup --restore -n >out &&
	json_has out "select(.event==\"plan\") | .backup==\"db_backup_20250521.db\"" &&
	BT_TRADER_PIDFILE=$PWD/trader.pid test_expect_code 0 bt-backup --restore -n --force >out &&
	test ! -e $BT_HOME/db/LOCKED
'

test_expect_success 'a bt writer holding the write lock: refused, exit 75' '
	at $NOW3 &&
	flock $BT_HOME/run/write.lock sh -c "bt-backup --restore >out 2>err; echo \$? >rc" &&
	test "$(cat rc)" = 75 && grep -q "write.lock" err &&
	test ! -e $BT_HOME/db/LOCKED
'

test_expect_success 'a restore killed midway leaves db/LOCKED with its owner; a rerun takes over' '
	at $NOW3 &&
	mkfifo ready go &&
	cat >fake-sqlite3 <<-EOF &&
	#!/bin/sh
	if [ "\$2" = .recover ]; then echo started >$PWD/ready; read x <$PWD/go; exit 1; fi
	cat >/dev/null
	EOF
	chmod +x fake-sqlite3 &&
	sqlite3 $DB "pragma wal_checkpoint(truncate)" >/dev/null &&
	python3 -c "import os; f=open(\"$DB\",\"r+b\"); f.seek(os.path.getsize(\"$DB\")//8192*4096); f.write(bytes(range(256))*16*4)"
	(BT_SQLITE3=$PWD/fake-sqlite3 exec bt-backup --restore >k.out 2>&1) &
	pid=$!
	timeout 60 sh -c "read x <ready" &&
	kill -9 $pid && { wait $pid || true; } &&
	echo go >go &&
	test -f $BT_HOME/db/LOCKED &&
	jq -e ".pid==$pid and .op==\"restore\" and (.start_ticks|type)==\"number\" and (.boot_id|length)>0 and (.damaged|test(\"damaged\"))" $BT_HOME/db/LOCKED &&
	test_expect_code 75 bt-fetch >/dev/null &&
	test_expect_code 0 bt-backup --restore >out &&
	json_has out "select(.event==\"lock_takeover\") | .severity==\"WARNING\" and (.message|test(\"$pid\"))" &&
	json_has out "select(.event==\"restore\") | .salvaged_rows>=0" &&
	test ! -e $BT_HOME/db/LOCKED &&
	test "$(sql $DB "pragma integrity_check")" = ok
'

test_expect_success 'a live owner keeps its lock: a second restore exits 75' '
	at $NOW3 || exit 1
	# A live owner: a sleep stands for the restore, killed whatever happens.
	sleep 1000 &
	spid=$!
	if printf "{\"pid\":%d,\"start_ticks\":%s,\"boot_id\":\"%s\",\"op\":\"restore\"}\n" $spid \
	    "$(cut -d" " -f22 /proc/$spid/stat)" "$(cat /proc/sys/kernel/random/boot_id)" >$BT_HOME/db/LOCKED &&
	    test_expect_code 75 bt-backup --restore >out 2>err &&
	    grep -q "pid $spid" err; then rc=0; else rc=1; fi
	kill $spid
	rm -f $BT_HOME/db/LOCKED
	exit $rc
'

test_expect_success '--rollback 24: the newest backup at least 24 hours old' '
	at $NOW3 &&
	test_expect_code 0 bt-backup --rollback 24 >out &&
	json_has out "select(.event==\"rollback\") | .severity==\"CRITICAL\" and .backup==\"db_backup_20250521.db\"" &&
	ls $BT_HOME/db | grep -q before-rollback &&
	test_expect_code 66 bt-backup --rollback 72 >out &&
	json_has out "select(.event==\"rollback\") | .message|test(\"untouched\")" &&
	test ! -e $BT_HOME/db/LOCKED
'

test_done
