#!/bin/sh
# bt-validate's staleness log cannot be created: the checks still run and
# print, and the run exits 73 instead of 0, so the dead-man's switch sees
# it (its own stderr may be in the same unwritable directory).  Found by
# scripts/campaign-resources.  Root ignores modes: the run is nobody's.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z BT_SYMBOLS="BTCUSDT ETHUSDT" \
    BT_TIMEFRAMES="1d 4h 1h"

test_expect_success 'setup' '
	bt-fetch --import $DATA/freqtrade/*.json >/dev/null &&
	test_expect_code 0 bt-validate >/dev/null
'

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	test_expect_success 'logs/ read-only: exit 73, the summary printed' '
		chmod 755 $TRASH &&
		rm -f $BT_HOME/logs/staleness_check.log &&
		mkdir -p $BT_HOME/logs && chown -R nobody:nogroup $BT_HOME &&
		chmod 555 $BT_HOME/logs &&
		test_expect_code 73 setpriv --reuid=nobody --regid=nogroup --clear-groups bt-validate >out 2>err &&
		grep -q "^bt-validate: .*staleness_check.log: Permission denied" err &&
		json_has out "select(.event==\"summary\") | .exit==73 and .findings==0" &&
		chmod 755 $BT_HOME/logs &&
		test_expect_code 0 setpriv --reuid=nobody --regid=nogroup --clear-groups bt-validate >out
	'
fi

test_expect_success 'BT_HOME must be an absolute path' '
	printf "BT_HOME=relative/home\n" >rel.conf &&
	BT_CONF=rel.conf test_expect_code 78 env -u BT_HOME bt-validate >out 2>err &&
	grep -q "rel.conf:1: BT_HOME: .relative/home. is not an absolute path" err &&
	test ! -e relative &&
	BT_HOME=rel test_expect_code 78 bt-fetch -n 2>err &&
	grep -q "BT_HOME: .rel. is not an absolute path" err
'

test_done
