#!/bin/sh
# 2080-backtest-units.t - the backtest engine's modules driven directly:
# tests/unit/engine-test.c (bt_engine.c's execution model on bars made by
# hand), tests/unit/metrics-test.c (bt_metrics.c on a known equity
# curve), rolling-test.c (pandas' rolling mean on the 500000-bar walk),
# bars-test.c (bar sizes and pandas' resample of GOOG), decimal-test.c
# (bt_parse_decimal()'s fast path against strtod) and numfmt-test.c
# (bt_fmt_num(), the CSV files' numbers, against the C library's).
#
# Builds each with the library's sources, plain, and runs them; their
# checks are reported one by one, numbered after this script's.  With
# BT_SANITIZED set (make test-san) they are also built and run under
# ASan+UBSan, as 2010 does with ind-test.c.
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
tests="engine metrics rolling bars decimal numfmt"
pkg="sqlite3 libcurl jansson"
# Flags are lists, split on purpose.
# shellcheck disable=SC2086
cflags="-std=c17 -D_GNU_SOURCE -Wall -Wextra -Wno-format-truncation -Werror -I$BT_SRC/src $(pkg-config --cflags $pkg)"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkg) -lpthread -lm"
# Used in a test body, which shellcheck does not read.
# shellcheck disable=SC2034
san="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# build DIR FLAGS...: the library's objects and every test into DIR.
build() {
	d=$1
	shift
	mkdir -p "$d"
	for f in "$BT_SRC"/src/bt_*.c; do
		# shellcheck disable=SC2086
		$CC $cflags "$@" -c -o "$d/$(basename "$f" .c).o" "$f" ||
		    return 1
	done
	for t in $tests; do
		# shellcheck disable=SC2086
		$CC $cflags "$@" -o "$d/$t-test" "$BT_SRC/tests/unit/$t-test.c" \
		    "$d"/bt_*.o $libs || return 1
	done
}

test_expect_success 'the unit tests and the library compile with -Wall -Wextra -Werror' '
	build "$TRASH/plain" -O2
'

if [ -n "${BT_SANITIZED:-}" ]; then
	test_expect_success 'the unit tests clean under ASan+UBSan' '
		build "$TRASH/san" $san &&
		for t in $tests; do
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			    "$TRASH/san/$t-test" -q || exit 1
		done
	'
else
	test_skip 'the unit tests clean under ASan+UBSan' 'BT_SANITIZED is not set'
fi

# Their own checks, numbered after ours: the plan line gives our count.
for t in $tests; do
	rc=0
	"$TRASH/plain/$t-test" -o "$test_count" >"$TRASH/$t.out" \
	    2>"$TRASH/$t.err" || rc=$?
	grep -v '^1\.\.' "$TRASH/$t.out"
	last=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$TRASH/$t.out")
	[ -n "$last" ] && test_count=$last
	test_expect_success "$t-test exited 0" "cat '$TRASH/$t.err' && test $rc = 0 && test -n '$last'"
done
test_done
