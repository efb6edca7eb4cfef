#!/bin/sh
# bt-validate: staleness, coverage, gaps, sanity, schema, integrity; the
# real 2023-03-24 halt; accepted gaps; dirty ranges; the store untouched.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
FT=$DATA/freqtrade
# Seven symbols x 3 timeframes: one stale pair leaves coverage at 95.2%.
export BT_SYMBOLS="BTCUSDT ETHUSDT AAAUSDT BBBUSDT CCCUSDT DDDUSDT EEEUSDT"
export BT_TIMEFRAMES="1d 4h 1h"

# pair SYMBOL TF: the pair id, for injecting damage below the views.
pair() {
	sql $DB "select id from pairs where symbol='$1' and tf='$2'"
}

test_expect_success 'setup: a clean, current store' '
	bt-fetch --import $FT/*.json >/dev/null &&
	for s in AAA BBB CCC DDD EEE; do
		for tf in 1d 4h 1h; do
			bt-fetch --import $FT/BTC_USDT-$tf.json --symbol ${s}USDT \
			    --interval $tf >/dev/null || exit 1
		done
	done &&
	test "$(sql $DB "select count(*) from pairs")" = 21
'

test_expect_success 'a clean current store: no finding, exit 0' '
	cp $DB before.db &&
	test_expect_code 0 bt-validate >out &&
	test "$(wc -l <out)" = 1 &&
	json_has out "select(.event==\"summary\") | .findings==0 and .coverage==1 and .counted==21 and .exit==0 and .candles==(21*0+7*(8760+2190+365)) and .mode==\"routine\"" &&
	cmp $DB before.db
'

test_expect_success 'the routine run cleared the dirty ranges it checked' '
	test "$(sql $ST "select count(*) from dirty")" = 0 &&
	test_expect_code 0 bt-validate >out &&
	json_has out "select(.event==\"summary\") | .candles==0 and .ranges==0"
'

test_expect_success 'setup: inject a stale pair, a gap, high below low, an off-grid time' '
	sqlite3 $DB "
	delete from candles where pair=$(pair ETHUSDT 1d) and slot > 19265;
	delete from candles where pair=$(pair BTCUSDT 1h) and slot between 460000 and 460002;
	update candles set h=l-1 where pair=$(pair BTCUSDT 4h) and slot=115000;
	update candles set xo=1000 where pair=$(pair BTCUSDT 1d) and slot=19100;" &&
	sqlite3 $ST "insert into dirty values
	    (\"BTCUSDT\",\"1h\",1655942400000,1656028800000),
	    (\"BTCUSDT\",\"4h\",1656000000000,1656000000000),
	    (\"BTCUSDT\",\"1d\",1650240000000,1650240000000)"
'

test_expect_success 'exactly those four findings, exit 1' '
	cp $DB before.db &&
	test_expect_code 1 bt-validate >out &&
	test "$(jq -c "select(.event!=\"summary\") | [.check,.event,.severity,.symbol,.tf]" out | sort)" = "$(printf "%s\n" \
	    "[\"gaps\",\"gap\",\"WARNING\",\"BTCUSDT\",\"1h\"]" \
	    "[\"sanity\",\"sanity\",\"CRITICAL\",\"BTCUSDT\",\"1d\"]" \
	    "[\"sanity\",\"sanity\",\"CRITICAL\",\"BTCUSDT\",\"4h\"]" \
	    "[\"staleness\",\"stale\",\"WARNING\",\"ETHUSDT\",\"1d\"]")" &&
	json_has out "select(.event==\"gap\") | .from==1656000000000 and .to==1656007200000 and .detail.missing==3" &&
	json_has out "select(.event==\"stale\") | .detail.last==1664496000000 and (.message|test(\"11d 0h old\"))" &&
	json_has out "select(.tf==\"4h\") | (.message|test(\"high .* is below low\")) and .detail.problems==[\"price_range\"]" &&
	json_has out "select(.tf==\"1d\" and .event==\"sanity\") | .detail.problems==[\"off_grid\"]" &&
	json_has out "select(.event==\"summary\") | .critical==2 and .warning==2 and .exit==1 and (.coverage*1000|floor)==952" &&
	cmp $DB before.db
'

test_expect_success 'findings are events in the state file, with their ids' '
	for id in $(jq -r "select(.event_id) | .event_id" out); do
		test "$(sql $ST "select severity from events where event_id=\"$id\"")" != "" || exit 1
	done &&
	test "$(sql $ST "select count(*) from events where prog=\"bt-validate\"")" = 4
'

test_expect_success 'ranges with findings stay dirty and alert again; the staleness log has the stale pair' '
	test "$(sql $ST "select count(*) from dirty")" = 3 &&
	test_expect_code 1 bt-validate >out2 &&
	test "$(grep -c "\"check\"" out2)" = 4 &&
	grep -q "\"event\":\"stale\".*ETHUSDT" $BT_HOME/logs/staleness_check.log &&
	test "$(grep -c "\"event\":\"summary\"" $BT_HOME/logs/staleness_check.log)" = 4
'

test_expect_success '--full finds the same candle findings without dirty ranges' '
	sqlite3 $ST "delete from dirty" &&
	test_expect_code 1 bt-validate --full >out &&
	test "$(jq -c "select(.check==\"gaps\" or .check==\"sanity\") | [.event,.tf]" out | sort | tr -d "\n")" = "[\"gap\",\"1h\"][\"sanity\",\"1d\"][\"sanity\",\"4h\"]" &&
	json_has out "select(.event==\"summary\") | .integrity==\"ok\" and .mode==\"full\""
'

test_expect_success '--gaps prints gap records only, for bt-fetch --gaps' '
	test_expect_code 0 bt-validate --gaps --full >out &&
	json_has out "select(.event==\"gap\" and .reason==\"missing\") | .symbol==\"BTCUSDT\" and .tf==\"1h\" and .from==1656000000000 and .to==1656007200000" &&
	json_has out "select(.event==\"gap\" and .reason==\"sanity\") | .tf==\"4h\" and .from==1656000000000 and .to==1656000000000" &&
	test "$(jq -c "select(.severity)" out)" = ""
'

test_expect_success '--tf limits a run to timeframes' '
	test_expect_code 0 bt-validate --full --tf 1h >out &&
	test "$(jq -c "select(.check) | .tf" out | sort -u)" = "\"1h\"" &&
	test_expect_code 1 bt-validate --full --tf 4h,1d >out &&
	test "$(jq -c "select(.check and .tf) | .tf" out | sort -u | tr -d "\n")" = "\"1d\"\"4h\""
'

test_expect_success '-n records nothing' '
	n=$(sql $ST "select count(*) from events") &&
	test_expect_code 1 bt-validate -n --full >out &&
	test "$(sql $ST "select count(*) from events")" = "$n" &&
	test "$(jq -c "select(.event_id)" out)" = ""
'

test_expect_success 'the real 2023-03-24 outage: a halt and a gap, warnings only' '
	mkdir h && (
	export BT_HOME=$PWD/h BT_NOW=2023-04-01T00:00:00Z BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1h &&
	bt-fetch --import $DATA/vision-header/BTCUSDT-1h-2023-03.csv >/dev/null &&
	test_expect_code 0 bt-validate >out &&
	test "$(jq -c "select(.check) | [.event,.severity]" out | tr -d "\n")" = "[\"halt\",\"WARNING\"][\"gap\",\"WARNING\"]" &&
	json_has out "select(.event==\"halt\") | .detail.open_time==1679659200000 and .detail.close_time==1679661581646 and (.message|test(\"12:39:41.646\"))" &&
	json_has out "select(.event==\"gap\") | .from==1679662800000 and .to==1679662800000" &&
	test "$(sql h/db/bt_state.db "select count(*) from dirty")" = 1
	)
'

test_expect_success '--accept silences the outage; the dirty range clears' '
	(
	export BT_HOME=$PWD/h BT_NOW=2023-04-01T00:00:00Z BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1h &&
	test_expect_code 0 bt-validate --accept BTCUSDT 1h 2023-03-24T12:00 2023-03-24T13:00 "Binance outage" >out &&
	json_has out "select(.event==\"accepted\") | .note==\"Binance outage\"" &&
	test_expect_code 0 bt-validate >out &&
	test "$(jq -c "select(.check)" out)" = "" &&
	json_has out "select(.event==\"summary\") | .accepted==2" &&
	test "$(sql h/db/bt_state.db "select count(*) from dirty")" = 0
	)
'

test_expect_success 'BT_ACCEPTED_GAPS and gap records on stdin accept too' '
	mkdir h2 && (
	export BT_HOME=$PWD/h2 BT_NOW=2023-04-01T00:00:00Z BT_SYMBOLS=BTCUSDT BT_TIMEFRAMES=1h &&
	bt-fetch --import $DATA/vision-header/BTCUSDT-1h-2023-03.csv >/dev/null &&
	BT_ACCEPTED_GAPS="BTCUSDT/1h/2023-03-24T12:00/2023-03-24T13:00" \
	    test_expect_code 0 bt-validate -n >out &&
	test "$(jq -c "select(.check)" out)" = "" &&
	BT_ACCEPTED_GAPS="BTCUSDT/1h/yesterday" test_expect_code 78 bt-validate -n 2>err &&
	grep -q "BT_ACCEPTED_GAPS" err &&
	bt-validate --gaps | test_expect_code 0 bt-validate --accept >out &&
	json_has out "select(.event==\"accepted\") | .symbol==\"BTCUSDT\"" &&
	test_expect_code 0 bt-validate >out &&
	test "$(jq -c "select(.check==\"gaps\")" out)" = ""
	)
'

test_expect_success 'a symbol bt-fetch marked not TRADING today is left out of coverage' '
	sqlite3 $ST "insert into kv values(\"not_trading:ETHUSDT\", \"2022-10-11\")" &&
	test_expect_code 0 bt-validate >out &&
	test "$(jq -c "select(.event==\"stale\")" out)" = "" &&
	json_has out "select(.event==\"summary\") | .counted==18 and .coverage==1" &&
	sqlite3 $ST "update kv set value=\"2022-10-01\" where key=\"not_trading:ETHUSDT\"" &&
	test_expect_code 0 bt-validate >out &&
	json_has out "select(.event==\"summary\") | .counted==21"
'

test_expect_success 'many stale pairs: coverage below 95% is CRITICAL' '
	BT_NOW=2022-10-20T00:00:00Z test_expect_code 1 bt-validate --tf 1h >out &&
	json_has out "select(.event==\"coverage\") | .severity==\"CRITICAL\" and .detail.counted==7 and .detail.current==0" &&
	test "$(jq -c "select(.event==\"stale\")" out | wc -l)" = 7
'

test_expect_success 'schema: the seed index on the trader'"'"'s trades table is checked' '
	cp $DB s.db && cp $ST s_state.db &&
	sqlite3 s.db "create table trades(id integer primary key, symbol text, timestamp integer)" &&
	BT_STATE=$PWD/s_state.db test_expect_code 0 bt-validate -d s.db --tf 1h >out &&
	json_has out "select(.check==\"schema\") | .severity==\"WARNING\" and .detail.index==\"idx_trades_symbol\"" &&
	sqlite3 s.db "create index idx_trades_symbol on trades(symbol, timestamp desc)" &&
	BT_STATE=$PWD/s_state.db test_expect_code 0 bt-validate -d s.db --tf 1h >out &&
	test "$(jq -c "select(.check==\"schema\")" out)" = "" &&
	sqlite3 s.db "drop view ohlcv_h4" &&
	BT_STATE=$PWD/s_state.db test_expect_code 1 bt-validate -d s.db --tf 1h >out &&
	json_has out "select(.check==\"schema\") | .severity==\"CRITICAL\" and .detail.view==\"ohlcv_h4\""
'

test_expect_success 'overwritten pages: --integrity quick and full find them' '
	cp $DB c.db && cp $ST c_state.db &&
	python3 -c "import os; f=open(\"c.db\",\"r+b\"); f.seek(4096*40); f.write(bytes(range(256))*16*30)" &&
	BT_STATE=$PWD/c_state.db test_expect_code 1 bt-validate -d c.db --tf 1d --integrity quick >out &&
	json_has out "select(.check==\"integrity\") | .severity==\"CRITICAL\" and .detail.pragma==\"quick_check\"" &&
	BT_STATE=$PWD/c_state.db test_expect_code 1 bt-validate -d c.db --tf 1d --integrity full >out &&
	json_has out "select(.check==\"integrity\") | .detail.pragma==\"integrity_check\""
'

test_expect_success 'a destroyed header or a missing store is a CRITICAL finding, exit 1' '
	cp $DB h.db &&
	dd if=/dev/zero of=h.db bs=100 count=1 conv=notrunc 2>/dev/null &&
	test_expect_code 1 bt-validate -d h.db >out &&
	json_has out "select(.check==\"integrity\") | .severity==\"CRITICAL\" and (.message|test(\"will not open\"))" &&
	test_expect_code 1 bt-validate -d nosuch.db >out &&
	json_has out "select(.check==\"integrity\") | (.message|test(\"will not open\"))"
'

test_expect_success 'db/LOCKED: a restore is running, exit 75' '
	echo "{}" >$BT_HOME/db/LOCKED &&
	test_expect_code 75 bt-validate >out &&
	json_has out "select(.event==\"locked\")" &&
	json_has out "select(.event==\"locked\") | .message==\"db/LOCKED is present: a restore or rollback is running; not validating a store being replaced\"" &&
	rm $BT_HOME/db/LOCKED
'

test_expect_success 'bad arguments exit 64' '
	test_expect_code 64 bt-validate --integrity medium 2>err &&
	grep -q "quick or full" err &&
	test_expect_code 64 bt-validate --accept BTCUSDT 1h 2>err &&
	grep -q "^usage: bt-validate" err &&
	test_expect_code 64 bt-validate --accept BTCUSDT 1h 2023-03-24 yesterday 2>err &&
	test_expect_code 64 bt-validate --tf 2h 2>err
'

test_expect_success 'byte-identical output under BT_NOW' '
	sqlite3 $ST "delete from dirty" &&
	bt-validate -n --full >a; bt-validate -n --full >b; cmp a b
'

test_done
