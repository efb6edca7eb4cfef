# tests/unit/engine.sh - sourced by an engine test after tests/lib.sh,
# with UNIT set: builds tests/unit/$UNIT.c with every src/bt_*.c, or with
# the modules UNIT_SRCS names (src/ file names: to show what a module
# links without), under ASan+UBSan when BT_SANITIZED is set, and runs it;
# its TAP is the test's.  The trash is kept when it fails.
san=
[ -z "${BT_SANITIZED:-}" ] ||
    san="-g -fsanitize=address,undefined -fno-sanitize-recover=all"
# shellcheck disable=SC2046,SC2086
${CC:-cc} -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror \
    -Wno-format-truncation -O1 $san -I"$BT_SRC/src" -o "$TRASH/$UNIT" \
    "$BT_SRC/tests/unit/$UNIT.c" $(if [ -n "${UNIT_SRCS:-}" ]; then
	for f in $UNIT_SRCS; do echo "$BT_SRC/src/$f"; done
    else echo "$BT_SRC"/src/bt_*.c; fi) \
    $(pkg-config --cflags --libs sqlite3 libcurl jansson) -lpthread -lm \
    2>"$TRASH/cc.err" || {
	echo "Bail out! $UNIT does not build"
	sed 's/^/# /' "$TRASH/cc.err"
	exit 1
}
"$TRASH/$UNIT" || { say "trash kept in $TRASH"; exit 1; }
cd / && rm -rf "$TRASH"
