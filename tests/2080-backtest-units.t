#!/bin/sh
# 2080-backtest-units.t - the backtest engine's modules driven directly:
# tests/unit/engine-test.c (bt_engine.c's execution model on bars made by
# hand) and tests/unit/metrics-test.c (bt_metrics.c on a known equity
# curve).
#
# Builds both with the library's sources, plain, and runs them; their
# checks are reported one by one.  With BT_SANITIZED set (make test-san)
# they are built and run under ASan+UBSan too.  Sources are under $BT_SRC
# (default: this script's repository).

BT_SRC=${BT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
CC=${CC:-cc}
n=0
fail=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
notok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $*"
}
# Shows a file as TAP diagnostics.
diag() {
	sed 's/^/# /' "$1"
}

tests="engine metrics"
pkg="sqlite3 libcurl jansson"
# Flags are lists, split on purpose.
# shellcheck disable=SC2086
cflags="-std=c17 -D_GNU_SOURCE -Wall -Wextra -Wno-format-truncation -Werror -I$BT_SRC/src $(pkg-config --cflags $pkg)"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkg) -lpthread -lm"
san="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# build DIR FLAGS...: the library's objects and both tests into DIR.
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

if build "$tmp/plain" -O2 >"$tmp/cc" 2>&1; then
	ok "engine-test.c, metrics-test.c and the library compile with -Wall -Wextra -Werror"
else
	notok "engine-test.c, metrics-test.c and the library compile with -Wall -Wextra -Werror"
	diag "$tmp/cc"
	echo "1..$n"
	exit 1
fi

# shellcheck disable=SC2086
if [ -z "${BT_SANITIZED:-}" ]; then
	ok "engine-test and metrics-test clean under ASan+UBSan # SKIP BT_SANITIZED is not set"
elif build "$tmp/san" $san >"$tmp/cc" 2>&1; then
	rc=0
	for t in $tests; do
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    "$tmp/san/$t-test" -q >"$tmp/san.out" 2>&1 || {
			rc=1
			diag "$tmp/san.out"
		}
	done
	if [ $rc -eq 0 ]; then
		ok "engine-test and metrics-test clean under ASan+UBSan"
	else
		notok "engine-test and metrics-test clean under ASan+UBSan"
	fi
else
	ok "engine-test and metrics-test clean under ASan+UBSan # SKIP no sanitizer runtime"
	diag "$tmp/cc"
fi

for t in $tests; do
	"$tmp/plain/$t-test" -o "$n" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	# Its checks, numbered after ours; its plan line gives our count.
	grep -v '^1\.\.' "$tmp/out"
	last=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tmp/out")
	[ -n "$last" ] && n=$last
	if [ "$rc" -eq 0 ] && [ -n "$last" ]; then
		ok "$t-test exited 0"
	else
		notok "$t-test exited $rc"
		diag "$tmp/err"
	fi
done
echo "1..$n"
exit $fail
