#!/bin/sh
# bt-backup while a writer commits continuously: the copy finishes, passes
# integrity_check and holds a consistent prefix of the writer's commits.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T03:00:00Z
DB=$BT_HOME/db/crypto_agent.db
BK=$BT_HOME/backups

test_expect_success 'setup: a store, and a table the writer fills' '
	bt-fetch --import $DATA/freqtrade/*.json >/dev/null &&
	sqlite3 $DB "create table w(i integer primary key, pad text)" &&
	mkfifo ready
'

test_expect_success 'a backup under continuous commits holds a prefix of them' '
	python3 - "$DB" ready stop >writer.out <<-\EOF &
	import os, sqlite3, sys
	db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
	db.execute("pragma journal_mode=wal")
	i = 0
	while not os.path.exists(sys.argv[3]):
	    i += 1
	    db.execute("begin immediate")
	    db.execute("insert into w values (?, ?)", (i, "x" * 200))
	    db.execute("commit")
	    if i == 300:
	        open(sys.argv[2], "w").write("go\n")
	print(i)
	EOF
	wpid=$!
	read x <ready &&
	test_expect_code 0 bt-backup >out &&
	touch stop && wait $wpid &&
	n=$(cat writer.out) &&
	b="file:$BK/db_backup_20221011.db?immutable=1" &&
	test "$(sqlite3 "$b" "pragma integrity_check")" = ok &&
	got=$(sqlite3 "$b" "select count(*) || \" \" || min(i) || \" \" || max(i) from w") &&
	set -- $got &&
	test "$2" = 1 && test "$1" = "$3" && test "$3" -ge 300 && test "$3" -le "$n" &&
	test "$(sqlite3 "$b" "select count(*) from candles")" = "$(sql $DB "select count(*) from candles")" &&
	say "backup holds commits 1..$3 of $n"
'

test_done
