#!/bin/sh
# bt-backup's modules driven directly (tests/unit/backup-test.c): db/LOCKED
# as bt_lock.c writes, reads and judges it; bt_dbfile.c's copies, checks,
# sweep and paths; bt_catalog.c's backups/ (names, kinds, order), facts,
# records, the checks of a restore and the choice of the newest good
# backup; bt_backup.c's vacuum in steps, run/write.lock free between them,
# and the checkpoint that ends it.  Built from the sources, plain and
# (with BT_SANITIZED, as make test-san sets it) under ASan+UBSan; each
# group runs in a BT_HOME of its own.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2024-03-11T12:00:00Z
CC=${CC:-cc}
srcs="$BT_SRC/tests/unit/backup-test.c $(ls "$BT_SRC"/src/bt_*.c)"
libs="$(pkg-config --cflags --libs sqlite3 libcurl jansson) -lpthread -lm"
san="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# shellcheck disable=SC2086
$CC -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wno-format-truncation -Werror -O1 \
    -I"$BT_SRC/src" -o "$TRASH/backup-test" $srcs $libs 2>"$TRASH/cc.err" ||
    { echo "Bail out! backup-test does not build"; cat "$TRASH/cc.err"; exit 1; }
# Under ASan+UBSan only with BT_SANITIZED (make test-san), as 2080 does.
if [ -n "${BT_SANITIZED:-}" ]; then
	# shellcheck disable=SC2086
	$CC -std=c17 -D_GNU_SOURCE $san -I"$BT_SRC/src" \
	    -o "$TRASH/backup-test-san" $srcs $libs 2>"$TRASH/cc.err" || {
		echo "Bail out! backup-test does not build under ASan+UBSan"
		cat "$TRASH/cc.err"
		exit 1
	}
fi

# group NAME [BIN]: one group of checks in a BT_HOME of its own.
group() {
	BT_HOME=$TRASH/$1${2:+-san} "$TRASH/backup-test${2:+-san}" "$1" \
	    >"$1.out" 2>"$1.err" || { cat "$1.err" >&2; return 1; }
	grep -q "^backup-test: $1: 0 failed" "$1.err"
}

test_expect_success 'db/LOCKED: written, read, its owner alive or gone, removed' '
	group lock
'

test_expect_success 'whole files: split, byte copy never replaces, sweep, backup step, checks' '
	group dbfile
'

test_expect_success 'backups/: only its names, newest first, the weekly after its daily' '
	group list
'

test_expect_success 'facts, records, and each reason a restore refuses a backup' '
	group check
'

test_expect_success 'the newest good backup; older than the first record; none; --state' '
	group choose &&
	test "$(jq -r "select(.event==\"backup_bad\") | .file" choose.out | sort -u | wc -l)" = 7 &&
	json_has choose.out "select(.event==\"backup_bad\") | .event_id==null"
'

test_expect_success 'an empty backups/: --verify finds no good backup, exit 1' '
	mkdir -p $BT_HOME/backups &&
	test_expect_code 1 bt-backup --verify >out &&
	json_has out "select(.event==\"backup_failed\") | .severity==\"CRITICAL\"" &&
	json_has out "select(.event==\"summary\") | .files==0 and .exit==1" &&
	test_expect_code 66 bt-backup --restore -n >out &&
	json_has out "select(.event==\"restore\") | .severity==\"CRITICAL\""
'

test_expect_success 'the vacuum in steps: a writer gets in between them, a restore stops them; a checkpoint of another connection is said' '
	group vacuum &&
	json_has vacuum.out "select(.event==\"vacuum\" and .method==\"incremental\") | .steps > 1 and .pages_freed==.free_pages and .complete" &&
	json_has vacuum.out "select(.event==\"vacuum\") | .steps==1 and .complete==false"
'

if [ -n "${BT_SANITIZED:-}" ]; then
	test_expect_success 'every group clean under ASan+UBSan' '
		for g in lock dbfile list check choose; do
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			    group $g san || exit 1
		done
	'
	test_expect_success 'the vacuum group clean under ASan+UBSan' '
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    group vacuum san
	'
else
	test_skip 'every group clean under ASan+UBSan' 'BT_SANITIZED is not set'
	test_skip 'the vacuum group clean under ASan+UBSan' 'BT_SANITIZED is not set'
fi

test_done
