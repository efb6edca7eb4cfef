#!/bin/sh
# Configuration that cannot misroute (issue 16): a bad value stops only
# the programs that read its key, the alert path runs on and says so; an
# unknown key names its nearest known one; BT_NOW is honoured from the
# file; etc/bt.conf.example is every key at a default that loads; --help
# works whatever the configuration.
. "$(dirname "$0")/lib.sh"

F=$DATA/freqtrade/BTC_USDT-1d.json
export BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1d

test_expect_success 'BT_NOW from the file is the current time' '
	printf "BT_NOW=2022-10-11T00:00:00Z\n" >$BT_CONF &&
	test_expect_code 0 bt-fetch --import $F >out &&
	json_has out "select(.event==\"summary\") | .ts==\"2022-10-11T00:00:00Z\"" &&
	test_expect_code 0 bt-validate --tf 1d >out &&
	json_has out "select(.event==\"summary\") | .ts==\"2022-10-11T00:00:00Z\""
'

test_expect_success 'a bad value stops the programs that read it, and only those' '
	printf "BT_NOW=2022-10-11T00:00:00Z\nBT_CIRCUIT_BREAKER=lots\n" >$BT_CONF &&
	test_expect_code 78 bt-fetch --import $F 2>err &&
	grep -q "bt.conf:2: BT_CIRCUIT_BREAKER: .lots. is not an integer" err &&
	test_expect_code 0 bt-validate -q --tf 1d >out 2>err &&
	test ! -s err &&
	test_expect_code 0 bt-backup -q >out 2>err
'

test_expect_success 'bt-watchdog reports a bad value of another program: CRITICAL, file, line and who stops' '
	test_expect_code 1 bt-watchdog -q >out &&
	json_has out "select(.check==\"config\") | .ok==false and .severity==\"CRITICAL\" and (.message|test(\"bt.conf:2: BT_CIRCUIT_BREAKER: .lots. is not an integer \\\\(it stops bt-fetch\\\\)\"))"
'

test_expect_success 'a bad value of the alert path: it runs on with the default, exits 78, raises it' '
	printf "BT_NOW=2022-10-11T00:00:00Z\nBT_DIGEST_MAX_PER_HOUR=ten\n" >$BT_CONF &&
	echo "{\"severity\":\"CRITICAL\",\"message\":\"m\"}" |
	    test_expect_code 78 bt-digest >out 2>err &&
	grep -q "bt.conf:2: BT_DIGEST_MAX_PER_HOUR: .ten. is not an integer (running on with the defaults" err &&
	json_has out "select(.event==\"message\") | .text|contains(\"m\")" &&
	json_has out "select(.event==\"config\") | .severity==\"CRITICAL\" and (.message|contains(\"bt.conf:2: BT_DIGEST_MAX_PER_HOUR\"))" &&
	echo "{\"severity\":\"CRITICAL\",\"message\":\"m2\"}" |
	    test_expect_code 78 bt-digest >out2 2>err &&
	! grep -q "\"event\":\"config\"" out2 &&
	test "$(sql $BT_HOME/db/bt_state.db "select count(*) from events where kind=\"config\" and prog=\"bt-digest\"")" = 1 &&
	test_expect_code 0 bt-fetch --import $F >/dev/null
'

test_expect_success 'where the files are never falls back to a default, even for the alert path' '
	printf "BT_HOME=relative/home\n" >$BT_CONF &&
	(unset BT_HOME && test_expect_code 78 bt-digest </dev/null 2>err) &&
	grep -q "bt.conf:1: BT_HOME: .relative/home. is not an absolute path" err &&
	(unset BT_HOME && test_expect_code 78 bt-watchdog 2>err) &&
	(unset BT_HOME && test_expect_code 78 bt-fetch --import $F 2>err) &&
	test ! -e $TRASH/relative
'

test_expect_success 'an unknown key names the nearest known one; a far one names none' '
	printf "TELEGRAM_CHAT_CRITCAL=-1001\nWHATEVER_THIS_IS=1\n" >$BT_CONF &&
	BT_NOW=2022-10-11T00:00:00Z test_expect_code 0 bt-digest </dev/null >out 2>err &&
	grep -q "bt.conf:1: unknown key TELEGRAM_CHAT_CRITCAL (ignored) (did you mean TELEGRAM_CHAT_CRITICAL?)" err &&
	grep -q "bt.conf:2: unknown key WHATEVER_THIS_IS (ignored)$" err &&
	json_has out "select(.event==\"config\") | .severity==\"WARNING\" and .nearest==\"TELEGRAM_CHAT_CRITICAL\"" &&
	BT_NOW=2022-10-11T00:01:00Z test_expect_code 0 bt-digest </dev/null >out 2>err &&
	! grep -q "\"event\":\"config\"" out &&
	BT_NOW=2022-10-12T00:00:00Z test_expect_code 0 bt-digest </dev/null >out 2>err &&
	test "$(grep -c "\"event\":\"config\"" out)" = 2
'

test_expect_success 'etc/bt.conf.example: every key of the table, at a default that loads' '
	sed -n "s/^#\([A-Z][A-Z0-9_]*\)=.*/\1/p" $BT_SRC/etc/bt.conf.example | sort >keys &&
	test "$(wc -l <keys)" -gt 120 &&
	test "$(sort -u keys | wc -l)" = "$(wc -l <keys)" &&
	for k in BT_HOME TELEGRAM_CHAT_CRITICAL STALENESS_ALERT_THRESHOLD_H4_HOURS BACKTEST_START_HOUR BT_ALERT_MAX_DELAY; do
		grep -qx $k keys || exit 1
	done &&
	sed "s/^#\([A-Z][A-Z0-9_]*=\)/\1/" $BT_SRC/etc/bt.conf.example |
	    grep -v "^BT_HOME=" >$BT_CONF &&
	chmod 600 $BT_CONF &&
	(unset BT_SYMBOLS BT_TIMEFRAMES && BT_NOW=2022-10-11T00:00:00Z \
	    test_expect_code 0 bt-fetch --import $F >out 2>err) &&
	test ! -s err
'

test_expect_success '--help prints the usage on stdout and exits 0, whatever the configuration' '
	printf "BT_SINCE_DAYS=thirty\nnot a line\n" >$BT_CONF &&
	for p in bt-fetch bt-validate bt-backtest bt-backup bt-digest bt-watchdog; do
		test_expect_code 0 $p --help >out 2>err || exit 1
		grep -q "^usage: $p " out || exit 1
		test ! -s err || exit 1
		: >$BT_CONF
		test_expect_code 64 $p --no-such-option >out 2>err || exit 1
		test ! -s out || exit 1
		printf "BT_SINCE_DAYS=thirty\nnot a line\n" >$BT_CONF
	done
'

test_done
