#!/bin/sh
# 1130-fetch-pager.t - bt_binance.c's kline pager and retry policy, as a
# unit (issue 12): tests/unit/pager-test.c drives bt_binance_klines() and
# bt_binance_get() against canned answers through the client's request
# function pointer; no server, no sleeping.
#
# Builds pager-test.c with the client and the modules under it (bt_http,
# bt_parse, bt_conf, bt_util: nothing of the store), plain, and under
# ASan+UBSan as well when BT_SANITIZED is set (make test-san), and runs
# it; its checks are reported one by one.  Sources are under $BT_SRC
# (default: this script's repository).

BT_SRC=${BT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
CC=${CC:-cc}
n=0
fail=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt-pager.XXXXXX") || exit 1
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

S=$BT_SRC/src
srcs="$BT_SRC/tests/unit/pager-test.c $S/bt_binance.c $S/bt_http.c $S/bt_parse.c $S/bt_conf.c $S/bt_util.c"
pkg="$(pkg-config --cflags --libs libcurl jansson) -lm"
cflags="-std=c17 -D_GNU_SOURCE -Wall -Wextra -Wno-format-truncation -Werror -I$S"

# shellcheck disable=SC2086
if $CC $cflags -O2 -o "$tmp/pager-test" $srcs $pkg >"$tmp/cc" 2>&1; then
	ok "pager-test.c and bt_binance.c compile with -Wall -Wextra -Werror"
else
	notok "pager-test.c and bt_binance.c compile with -Wall -Wextra -Werror"
	diag "$tmp/cc"
	echo "1..$n"
	exit 1
fi

if [ -z "${BT_SANITIZED:-}" ]; then
	ok "pager-test clean under ASan+UBSan # SKIP BT_SANITIZED is not set"
else
	san="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	# shellcheck disable=SC2086
	if $CC $cflags $san -o "$tmp/pager-test-san" $srcs $pkg >"$tmp/cc" 2>&1; then
		if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    "$tmp/pager-test-san" >"$tmp/san" 2>&1; then
			ok "pager-test clean under ASan+UBSan"
		else
			notok "pager-test clean under ASan+UBSan"
			diag "$tmp/san"
		fi
	else
		notok "pager-test builds under ASan+UBSan"
		diag "$tmp/cc"
	fi
fi

"$tmp/pager-test" -o "$n" >"$tmp/out" 2>"$tmp/err"
rc=$?
# Its checks, numbered after ours; its plan line becomes ours.
grep -v '^1\.\.' "$tmp/out"
last=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tmp/out")
[ -n "$last" ] && n=$last
if [ "$rc" -eq 0 ] && [ -n "$last" ]; then
	ok "pager-test exited 0"
else
	notok "pager-test exited $rc"
	diag "$tmp/err"
fi
echo "1..$n"
exit $fail
