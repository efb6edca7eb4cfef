#!/bin/sh
# A new installation: slots that passed before the watchdog first ran are
# not held against the backtest; slots after it are.
. "$(dirname "$0")/lib.sh"

test_expect_success 'the first run of a new installation finds no DEAD backtest' '
	rc=0 &&
	BT_NOW=2025-06-01T10:00:00Z bt-watchdog >out || rc=$? &&
	test $rc = 1 &&
	json_has out "select(.check==\"freshness\") | .ok==false" &&
	json_has out "select(.check==\"backtest\") | .state != \"DEAD\""
'

test_expect_success 'a slot missed after the watchdog started watching is DEAD' '
	rc=0 &&
	BT_NOW=2025-06-02T10:00:00Z bt-watchdog >out || rc=$? &&
	test $rc = 1 &&
	json_has out "select(.check==\"backtest\") | .state==\"DEAD\" and .severity==\"CRITICAL\""
'

test_done
