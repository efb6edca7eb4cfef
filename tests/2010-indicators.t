#!/bin/sh
# 2010-indicators.t - bt_ind.c against TA-Lib's own numbers.
#
# Builds tests/unit/ind-test.c with src/bt_ind.c (plain, then under
# ASan+UBSan) and runs it on the fixture scripts/talib-oracle.js made,
# tests/data/talib/btc-1h.json.  The plain run's checks are reported one
# by one.  Sources are under $BT_SRC (default: this script's repository).

BT_SRC=${BT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
CC=${CC:-cc}
n=0
fail=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt-ind.XXXXXX") || exit 1
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

fx=$BT_SRC/tests/data/talib/btc-1h.json
ft=$BT_SRC/tests/data/freqtrade/BTC_USDT-1h.json
srcs="$BT_SRC/tests/unit/ind-test.c $BT_SRC/src/bt_ind.c"
# bt.h also includes sqlite3.h.
pkg="$(pkg-config --cflags --libs jansson) $(pkg-config --cflags sqlite3 2>/dev/null)"
cflags="-std=c17 -Wall -Wextra -Werror -I$BT_SRC/src"

# shellcheck disable=SC2086
if $CC $cflags -O2 -o "$tmp/ind-test" $srcs $pkg -lm >"$tmp/cc" 2>&1; then
	ok "ind-test.c and bt_ind.c compile with -Wall -Wextra -Werror"
else
	notok "ind-test.c and bt_ind.c compile with -Wall -Wextra -Werror"
	diag "$tmp/cc"
	echo "1..$n"
	exit 1
fi

san="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# shellcheck disable=SC2086
if $CC $cflags $san -o "$tmp/ind-test-san" $srcs $pkg -lm >"$tmp/cc" 2>&1; then
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "$tmp/ind-test-san" -q "$fx" "$ft" >"$tmp/san" 2>&1; then
		ok "ind-test clean under ASan+UBSan"
	else
		notok "ind-test clean under ASan+UBSan"
		diag "$tmp/san"
	fi
else
	ok "ind-test clean under ASan+UBSan # SKIP no sanitizer runtime"
	diag "$tmp/cc"
fi

"$tmp/ind-test" -o "$n" "$fx" "$ft" >"$tmp/out" 2>"$tmp/err"
rc=$?
# Its checks, numbered after ours; its plan line becomes ours.
grep -v '^1\.\.' "$tmp/out"
last=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tmp/out")
[ -n "$last" ] && n=$last
if [ "$rc" -eq 0 ] && [ -n "$last" ]; then
	ok "ind-test exited 0"
else
	notok "ind-test exited $rc"
	diag "$tmp/err"
fi
echo "1..$n"
exit $fail
