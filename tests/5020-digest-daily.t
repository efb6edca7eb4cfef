#!/bin/sh
# bt-digest's daily digest: jobs, freshness, validation findings, backups,
# the backtest's headline metrics and signals, what was sent; each part
# tolerated missing; logs/digest.txt; due at BT_DIGEST_HOUR by itself.
. "$(dirname "$0")/lib.sh"

export BT_SYMBOLS="BTCUSDT ETHUSDT SOLUSDT" BT_TIMEFRAMES="1d 1h"
FT=$DATA/freqtrade
ST=$BT_HOME/db/bt_state.db

test_expect_success 'every part missing: the digest still goes, saying so' '
	BT_NOW=2022-10-11T04:00:00Z test_expect_code 0 bt-digest --daily </dev/null >out &&
	json_has out "select(.event==\"message\") | .severity==\"INFO\" and (.text|startswith(\"bt daily digest, 2022-10-11T04:00:00Z\nJobs\"))" &&
	grep -q "store unreadable" $BT_HOME/logs/digest.txt &&
	grep -q "^Backtest: no backtest results$" $BT_HOME/logs/digest.txt &&
	grep -q "^Backups: no backups/ directory$" $BT_HOME/logs/digest.txt
'

test_expect_success 'setup: a store, runs, findings, backups, results' '
	BT_NOW=2022-10-11T01:00:00Z bt-fetch --import $FT/BTC_USDT-1d.json \
	    $FT/BTC_USDT-1h.json $FT/ETH_USDT-1d.json >/dev/null &&
	mkdir -p $BT_HOME/backups $BT_HOME/results &&
	: >$BT_HOME/backups/db_backup_20221009.db &&
	head -c 2097152 /dev/zero >$BT_HOME/backups/db_backup_20221011.db &&
	touch -d 2022-10-11T03:00:00Z $BT_HOME/backups/db_backup_20221011.db &&
	: >$BT_HOME/backups/db_backup_weekly_20221009.db &&
	cat >$BT_HOME/results/backtest_results.json <<-\EOF &&
	{"meta":{"time":"2022-10-10T23:30:00Z","strategy":"sma_cross","timeframe":"4h","mode":"native"},
	 "portfolio":{"return_pct":12.5,"sharpe":1.25,"max_drawdown_pct":-8.75,"trades":42},
	 "symbols":{"BTCUSDT":{"return_pct":10}},
	 "signals_validated":[
	  {"symbol":"BTCUSDT","strategy":"sma_cross","timestamp":1665360000000,"position":1,"passed":true,"reasons":[]},
	  {"symbol":"ETHUSDT","strategy":"sma_cross","timestamp":1665360000000,"position":-0.5,"passed":false,"reasons":["stale data","low volume"]}]}
	EOF
	printf "%s\n" \
	    "{\"ts\":\"2022-10-11T01:05:00Z\",\"prog\":\"bt-validate\",\"event\":\"gap\",\"severity\":\"WARNING\",\"symbol\":\"ETHUSDT\",\"tf\":\"1h\",\"message\":\"2 candles missing\"}" \
	    "{\"ts\":\"2022-10-11T01:05:00Z\",\"prog\":\"bt-fetch\",\"event\":\"import\",\"severity\":\"INFO\",\"message\":\"imported 3 files\"}" \
	    "{\"ts\":\"2022-10-11T01:06:00Z\",\"prog\":\"bt-fetch\",\"event\":\"import\",\"severity\":\"INFO\",\"message\":\"imported 1 file\"}" |
	BT_NOW=2022-10-11T01:05:00Z bt-digest --critical >/dev/null
'

test_expect_success 'the digest has every part' '
	BT_NOW=2022-10-11T04:00:00Z test_expect_code 0 bt-digest --daily </dev/null >out &&
	D=$BT_HOME/logs/digest.txt &&
	grep -qx " bt-fetch import 2022-10-11T01:00:00Z 0s exit 0 (1, 0)" $D &&
	! grep -q "^ bt-digest [0-9T:-]*Z still running" $D &&
	grep -qx "Current pairs: 1d 2/3, 1h 1/3" $D &&
	grep -qx " 1d stale: SOLUSDT (none)" $D &&
	grep -qx " 1h stale: ETHUSDT (none), SOLUSDT (none)" $D &&
	grep -qx " WARNING gap ETHUSDT 1h: 2 candles missing" $D &&
	grep -qx "Backups: db_backup_20221011.db, 2.0 MB, written 2022-10-11T03:00:00Z; weekly db_backup_weekly_20221009.db; 3 files" $D &&
	grep -qx "Backtest sma_cross on 4h (native), run 2022-10-10T23:30:00Z:" $D &&
	grep -qx " portfolio: return 12.5%, Sharpe 1.25, max drawdown -8.8%, 42 trades" $D &&
	grep -qx " BTCUSDT: return 10.0%" $D &&
	grep -qx " signals validated: 1 passed, 1 failed" $D &&
	grep -qx "  ETHUSDT sma_cross 2022-10-10T00:00:00Z position -0.5 failed: stale data low volume" $D &&
	grep -qx "10-11 01:06Z bt-fetch import: imported 1 file (x2 since 10-11 01:05Z)" $D &&
	# The INFO groups under their heading, though a WARNING group is first.
	grep -A1 -x "INFO since the last digest:" $D | tail -1 |
	    grep -qx "10-11 01:06Z bt-fetch import: imported 1 file (x2 since 10-11 01:05Z)" &&
	json_has out "select(.event==\"message\") | .text|contains(\"INFO since the last digest: 1\n10-11 01:06Z bt-fetch import: imported 1 file (x2 since 10-11 01:05Z)\")" &&
	test "$(sql $ST "select count(*) from events where severity=\"INFO\" and sent is null")" = 0 &&
	test "$(sql $ST "select count(*) from runs where prog=\"bt-digest\" and job=\"daily\" and exit=0")" = 2
'

test_expect_success 'it is due by itself at BT_DIGEST_HOUR, once a day' '
	BT_NOW=2022-10-12T03:59:00Z test_expect_code 0 bt-digest </dev/null >out &&
	! grep -q "\"message\"" out &&
	BT_NOW=2022-10-12T04:00:00Z test_expect_code 0 bt-digest </dev/null >out &&
	json_has out "select(.event==\"message\") | .text|startswith(\"bt daily digest, 2022-10-12T04:00:00Z\")" &&
	BT_NOW=2022-10-12T04:01:00Z test_expect_code 0 bt-digest </dev/null >out &&
	! grep -q "\"message\"" out &&
	grep -qx "bt daily digest, 2022-10-12T04:00:00Z" $BT_HOME/logs/digest.txt
'

test_expect_success 'a missed 04:00 run is caught up by the next run' '
	BT_NOW=2022-10-13T09:17:00Z test_expect_code 0 bt-digest </dev/null >out &&
	json_has out "select(.event==\"message\") | .text|startswith(\"bt daily digest, 2022-10-13T09:17:00Z\")"
'

test_expect_success 'the same input gives byte-identical output under BT_NOW' '
	# -p: the digest shows the times of the backup files; a copy made
	# a second later must not differ from the other
	cp -Rp $BT_HOME h1 && cp -Rp $BT_HOME h2 &&
	BT_HOME=$PWD/h1 BT_NOW=2022-10-14T04:00:00Z bt-digest </dev/null >o1 &&
	BT_HOME=$PWD/h2 BT_NOW=2022-10-14T04:00:00Z bt-digest </dev/null >o2 &&
	test_cmp o1 o2
'

test_done
