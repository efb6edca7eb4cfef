#!/bin/sh
# bt-watchdog's machinery driven directly, without the program:
# tests/unit/watch-test.c over bt_watch.c (a check's event on a change,
# its repeat and recovery, -q, a dry run, an action, kv, a detached
# command in its own session holding none of our files) and the pause of
# bt_probe.c.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
UNIT=watch-test
. "$BT_SRC/tests/unit/engine.sh"
