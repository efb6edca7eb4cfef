#!/bin/sh
# bt-watchdog --prom (BT_PROM_FILE): the metrics file in node_exporter's
# textfile format, tested with the real thing: promtool accepts it, and
# Debian's node_exporter, run as nobody on a loopback port, serves every
# metric of it on /metrics with no scrape error (issue 14).
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES=1d BT_AUTO_REFETCH=0
export BACKTEST_ENABLED=0 BT_PROM_GROUP=nogroup
# The last freqtrade 1d candle opens at 2022-10-10T00:00:00Z (1665360000).
export BT_NOW=2022-10-11T06:00:00Z
ST=$BT_HOME/db/bt_state.db
TF=$TRASH/textfile
P=$TF/bt.prom
mkdir -p $TF

# metric NAME{LABELS}: its value in the file.
metric() { awk -v m="$1" '$1 == m { print $2 }' "$P"; }

test_expect_success 'setup: a store, runs, a backup' '
	bt-fetch -q --import $DATA/freqtrade/BTC_USDT-1d.json \
	    $DATA/freqtrade/ETH_USDT-1d.json >/dev/null &&
	test_expect_code 0 bt-backup >/dev/null &&
	echo "{\"prog\":\"test\",\"event\":\"x\",\"severity\":\"WARNING\",\"message\":\"m\"}" |
	    bt-digest -q --critical >/dev/null
'

test_expect_success 'the file: written whole, mode 0640, group BT_PROM_GROUP, no .new left' '
	test_expect_code 0 bt-watchdog --prom $P >out &&
	json_has out "select(.check==\"metrics\") | .ok and .message==\"metrics written to $P\"" &&
	test "$(stat -c "%a %G" $P)" = "640 nogroup" &&
	test ! -e $P.new &&
	tail -1 $P | grep -q "^bt_"
'

test_expect_success 'promtool check metrics accepts it' '
	promtool check metrics <$P >lint 2>&1 || { cat lint; false; }
'

test_expect_success 'the values: candle age, coverage, jobs, backtest, events, sizes' '
	test "$(metric "bt_candle_age_seconds{symbol=\"BTCUSDT\",tf=\"1d\"}")" = 108000.000 &&
	test "$(metric "bt_pair_current{symbol=\"ETHUSDT\",tf=\"1d\"}")" = 1 &&
	test "$(metric bt_coverage_ratio)" = 1.000000 &&
	test "$(metric "bt_job_last_exit_code{job=\"bt-backup\"}")" = 0 &&
	test "$(metric "bt_job_last_success_timestamp_seconds{job=\"bt-backup\"}")" = 1665468000 &&
	test "$(metric "bt_job_runs_total{job=\"bt-fetch/import\"}")" = 1 &&
	test "$(metric "bt_job_failures_total{job=\"bt-fetch/import\"}")" = 0 &&
	test "$(metric "bt_backtest_state{state=\"PAUSED\"}")" = 1 &&
	test "$(metric "bt_backtest_state{state=\"HEALTHY\"}")" = 0 &&
	test "$(metric bt_watchdog_failing_checks)" = 0 &&
	test "$(metric "bt_events_total{severity=\"WARNING\"}")" = \
	    "$(sql $ST "select count(*) from events where severity=\"WARNING\"")" &&
	test "$(metric "bt_file_size_bytes{file=\"store\"}")" = \
	    "$(stat -c %s $BT_HOME/db/crypto_agent.db)" &&
	test "$(metric bt_backup_newest_age_seconds)" = 0.000 &&
	test "$(metric bt_binance_ban_until_timestamp_seconds)" = 0.000 &&
	! grep -q "^bt_[a-z_]*_hour" $P
'

test_expect_success 'nine days on: stale pairs, failing checks counted, counters grown' '
	BT_NOW=2022-10-12T06:00:00Z test_expect_code 0 bt-validate >/dev/null &&
	BT_NOW=2022-10-20T06:00:00Z test_expect_code 1 bt-watchdog --prom $P >out &&
	n=$(jq -s "map(select(.ok==false)) | length" out) && test "$n" -ge 1 &&
	test "$(metric bt_watchdog_failing_checks)" = "$n" &&
	test "$(metric "bt_pair_current{symbol=\"BTCUSDT\",tf=\"1d\"}")" = 0 &&
	test "$(metric bt_coverage_ratio)" = 0.000000 &&
	test "$(metric "bt_candle_age_seconds{symbol=\"BTCUSDT\",tf=\"1d\"}")" = 885600.000 &&
	test "$(metric "bt_job_runs_total{job=\"bt-validate\"}")" = 1 &&
	test "$(metric bt_backup_newest_age_seconds)" = 777600.000 &&
	test "$(metric "bt_events_total{severity=\"CRITICAL\"}")" -ge 2
'

test_expect_success 'BT_PROM_FILE does the same from the configuration; a dry run writes none' '
	rm -f $P &&
	BT_PROM_FILE=$P test_expect_code 0 bt-watchdog -n >out &&
	test ! -e $P &&
	BT_PROM_FILE=$P test_expect_code 0 bt-watchdog >out &&
	test -s $P
'

test_expect_success 'a name node_exporter would not read is refused: 64 for --prom, 78 from the configuration' '
	test_expect_code 64 bt-watchdog --prom $TF/bt.txt >out 2>err &&
	grep -q "is not an absolute path ending in .prom" err &&
	test ! -e $TF/bt.txt &&
	BT_PROM_FILE=bt.prom test_expect_code 78 bt-watchdog >out 2>err &&
	grep -q "BT_PROM_FILE: .bt.prom. is not an absolute path ending in .prom" err &&
	json_has out "select(.check==\"config\") | .ok==false"
'

test_expect_success 'a group that does not exist, an unwritable directory: a failed check, the old file kept' '
	cp $P before &&
	BT_PROM_GROUP=nosuchgroup test_expect_code 78 bt-watchdog --prom $P >out 2>err &&
	json_has out "select(.check==\"metrics\") | .ok==false and .severity==\"WARNING\" and (.message|test(\"BT_PROM_GROUP: no group .nosuchgroup.\"))" &&
	cmp before $P &&
	test_expect_code 73 bt-watchdog --prom $TRASH/none/bt.prom >out 2>err &&
	json_has out "select(.check==\"metrics\") | .ok==false and .state==\"unwritten\"" &&
	test_expect_code 0 bt-watchdog --prom $P >out &&
	json_has out "select(.check==\"metrics\") | .ok and (.message|startswith(\"recovered (was unwritten)\"))"
'

test_expect_success 'the alerting rules of bt-watchdog(1) are rules promtool accepts' '
	sed -n "/^groups:$/,/^\.Ed$/p" $BT_SRC/man/bt-watchdog.1 | sed "\$d" >rules.yml &&
	grep -q node_textfile_mtime_seconds rules.yml &&
	promtool check rules rules.yml >lint 2>&1 || { cat lint; false; }
'

# node_exporter as nobody: it reads the file through its group only (the
# file is not world-readable).  It logs the port it got for :0.
if command -v prometheus-node-exporter >/dev/null && [ "$(id -u)" = 0 ] &&
    command -v setpriv >/dev/null; then
	chmod 755 $TRASH $TF
	mkfifo ne.fifo
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    prometheus-node-exporter --web.listen-address=127.0.0.1:0 \
	    --collector.disable-defaults --collector.textfile \
	    --collector.textfile.directory=$TF 2>ne.fifo &
	echo $! >>"$TRASH/.servers"
	# Kept open for the rest of the script: node_exporter never writes
	# into a closed pipe.
	exec 3<ne.fifo
	NE=
	while read -r line <&3; do
		case $line in
		*'msg="Listening on"'*)
			NE=${line##*address=}
			break ;;
		esac
	done
	test_expect_success 'node_exporter serves every metric of the file, with no scrape error' '
		test -n "$NE" &&
		curl -sf http://$NE/metrics >scraped &&
		grep -q "^node_textfile_scrape_error 0$" scraped &&
		grep -q "^node_textfile_mtime_seconds{file=\"$P\"}\|^node_textfile_mtime_seconds{file=\"bt.prom\"}" scraped &&
		for m in $(grep -v "^#" $P | sed "s/[{ ].*//" | sort -u); do
			grep -q "^$m[{ ]" scraped || { echo "missing: $m"; false; }
		done &&
		grep -q "^bt_candle_age_seconds{symbol=\"BTCUSDT\",tf=\"1d\"} 108000$" scraped
	'
else
	test_skip 'node_exporter serves every metric of the file, with no scrape error' 'needs root, setpriv and prometheus-node-exporter'
fi

test_done
