#!/bin/sh
# bt-validate's engine driven directly, without the program:
# tests/unit/check-test.c over bt_check.c, bt_scan.c and bt_accept.c (a
# run's findings and schema; gaps, sanity, the finding budget, dirty
# ranges and --gaps records; accepted ranges and --accept).
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
UNIT=check-test
. "$BT_SRC/tests/unit/engine.sh"
