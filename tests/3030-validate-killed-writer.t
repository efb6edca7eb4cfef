#!/bin/sh
# A writer killed in the middle of a transaction can leave what only a
# read-write connection may repair (here a hot rollback journal, as a
# writer killed while its first `PRAGMA journal_mode=WAL' turned a new
# file into WAL leaves one).  A read-only reader must not call that store
# unreadable: bt-validate lets SQLite roll it back and validates the
# store as it was before the dead transaction.  Found by
# scripts/campaign-crash (readonly_opens_needing_recovery).
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z BT_SYMBOLS="BTCUSDT ETHUSDT" \
    BT_TIMEFRAMES="1d 4h 1h"
DB=$BT_HOME/db/crypto_agent.db

cat >writer.py <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA cache_size=2")	# spill: the file changes before commit
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE candles SET v=v+1")
print("ready", flush=True)
sys.stdin.read()			# held until killed
PY

test_expect_success 'setup: a store, rolled back to journal mode DELETE' '
	bt-fetch --import $DATA/freqtrade/*.json >/dev/null &&
	test_expect_code 0 bt-validate --full >/dev/null &&
	sqlite3 $DB "PRAGMA journal_mode=DELETE" &&
	sqlite3 $DB .sha3sum >good.sum
'

test_expect_success 'a writer killed mid-transaction leaves a hot journal' '
	mkfifo hold
	python3 writer.py $DB <hold >ready 2>writer.err &
	writer=$!
	exec 9>hold
	until grep -q ready ready 2>/dev/null; do
		kill -0 $writer || { cat writer.err; exit 1; }
	done
	kill -9 $writer
	# Gone once wait returns: 137, or 127 when the shell has already
	# reaped it.  Only then is the journal hot.
	wait $writer 2>/dev/null || :
	exec 9>&-
	test -s $DB-journal &&
	# the sqlite3 shell exits with the SQLite code: 8, SQLITE_READONLY
	test_expect_code 8 sqlite3 -readonly $DB "SELECT count(*) FROM candles" 2>ro.err &&
	grep -q "readonly database" ro.err
'

test_expect_success 'bt-validate rolls it back and finds the store sound' '
	test_expect_code 0 bt-validate --full >out 2>err &&
	! grep -q "\"event\":\"integrity\"" out &&
	json_has out "select(.event==\"summary\") | .exit==0" &&
	test ! -e $DB-journal &&
	sqlite3 -readonly $DB .sha3sum >now.sum &&
	cmp good.sum now.sum
'

test_done
