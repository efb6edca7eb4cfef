#!/bin/sh
# The indicator table (issue 6): brought up to date incrementally after
# bt-fetch stores candles, and to the bit what a full recomputation from
# the first stored candle gives, whichever way the candles came: in one
# import, in pieces, over HTTP as time goes by, with a gap filled or an
# old candle corrected late, with the table switched off for a while.
# tests/unit/indtab-test.c is the full recomputation: bt_candles_load()
# and bt_ind.c's array functions, compared with every value of the view.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T12:00:00Z
DB=$BT_HOME/db/crypto_agent.db
FT=$DATA/freqtrade
CC=${CC:-cc}

# The oracle, built from the sources (plain: it is the reference).
# shellcheck disable=SC2046
$CC -std=c17 -D_GNU_SOURCE -O1 -I"$BT_SRC/src" -o "$TRASH/indtab-test" \
    "$BT_SRC/tests/unit/indtab-test.c" "$BT_SRC"/src/bt_*.c \
    $(pkg-config --cflags --libs sqlite3 libcurl jansson) -lpthread -lm \
    2>"$TRASH/cc.err" || { echo "Bail out! indtab-test does not build"; cat "$TRASH/cc.err"; exit 1; }
oracle() {	# oracle DB: the table against a full recomputation
	"$TRASH/indtab-test" "$1" >"$TRASH/oracle.out" || {
		cat "$TRASH/oracle.out" >&2
		return 1
	}
	cat "$TRASH/oracle.out"
}
# Every stored value of two stores' tables, compared with IS (exact for
# REAL, NULL-safe): prints the number of rows that differ or are missing.
tablediff() {	# tablediff DB1 DB2
	cols=$(sqlite3 "$1" "select group_concat('a.'||name||' IS b.'||name, ' AND ') from pragma_table_info('indicadores_tecnico') where name not in ('symbol','timeframe','timestamp')")
	sqlite3 "$1" "attach '$2' as o;
	    select (select count(*) from main.indicadores_tecnico a left join o.indicadores_tecnico b using (symbol, timeframe, timestamp) where not ($cols))
	         + (select count(*) from o.indicadores_tecnico b left join main.indicadores_tecnico a using (symbol, timeframe, timestamp) where a.symbol is null)"
}
# split FILE N PREFIX: a freqtrade file in N pieces PREFIX-a.json ...
split_json() {
	python3 - "$1" "$2" "$3" <<-'EOF'
	import json, sys
	rows = json.load(open(sys.argv[1]))
	n = int(sys.argv[2])
	k = (len(rows) + n - 1) // n
	for i in range(n):
	    json.dump(rows[i * k:(i + 1) * k], open("%s-%c.json" % (sys.argv[3], 97 + i), "w"))
	EOF
}

test_expect_success 'one import: rows for every candle, equal to a full recomputation' '
	test_expect_code 0 bt-fetch --import $FT/BTC_USDT-1d.json $FT/BTC_USDT-4h.json $FT/BTC_USDT-1h.json $FT/ETH_USDT-1h.json >out &&
	json_has out "select(.event==\"summary\") | .ind_pairs==4 and .ind_full==4 and .ind_rows==.rows" &&
	test "$(sql $DB "select count(*) from indicadores_tecnico")" = "$(sql $DB "select count(*) from candles")" &&
	oracle $DB &&
	grep -q "^indtab-test: 4 pairs" $TRASH/oracle.out &&
	cp $DB $TRASH/whole.db
'

test_expect_success 'the seed'"'"'s columns, NULL before each lookback' '
	sql $DB "select name from pragma_table_info(\"indicadores_tecnico\")" | tr "\n" " " >cols &&
	test "$(cat cols)" = "symbol timeframe timestamp sma_20 sma_50 sma_200 ema_12 ema_26 rsi_14 bb_upper bb_middle bb_lower atr_14 macd macd_signal macd_hist " &&
	q="from indicadores_tecnico where symbol=\"BTCUSDT\" and timeframe=\"1d\"" &&
	test "$(sql $DB "select count(*) $q and sma_200 is null")" = 199 &&
	test "$(sql $DB "select count(*) $q and rsi_14 is null")" = 14 &&
	test "$(sql $DB "select count(*) $q and atr_14 is null")" = 14 &&
	test "$(sql $DB "select count(*) $q and macd is null")" = 33 &&
	test "$(sql $DB "select count(*) $q and sma_20 is null")" = 19 &&
	test "$(sql $DB "select count(*) $q and bb_middle is not sma_20")" = 0 &&
	test "$(sql $DB "select count(*) $q and macd_hist is not macd - macd_signal")" = 0
'

test_expect_success 'the states resume: imports in pieces give the same bits' '
	rm -rf $BT_HOME &&
	split_json $FT/BTC_USDT-1h.json 7 BTC_USDT-1h &&
	split_json $FT/BTC_USDT-1d.json 3 BTC_USDT-1d &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1h-a.json BTC_USDT-1d-a.json >out &&
	for p in b c d e f g; do
		test_expect_code 0 bt-fetch --import BTC_USDT-1h-$p.json >out &&
		json_has out "select(.event==\"summary\") | .ind_full==0 and .ind_pairs==1 and .ind_rows==.rows" || exit 1
	done &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1d-b.json BTC_USDT-1d-c.json >out &&
	json_has out "select(.event==\"summary\") | .ind_full==0" &&
	oracle $DB &&
	test_expect_code 0 bt-fetch --import $FT/BTC_USDT-4h.json $FT/ETH_USDT-1h.json >out &&
	test "$(tablediff $DB $TRASH/whole.db)" = 0
'

test_expect_success 'a gap filled late recomputes the pair from the gap on' '
	rm -rf $BT_HOME &&
	python3 -c "
import json; r = json.load(open(\"$FT/BTC_USDT-4h.json\"))
json.dump(r[:500] + r[503:], open(\"BTC_USDT-4h-holes.json\", \"w\"))" &&
	test_expect_code 0 bt-fetch --import BTC_USDT-4h-holes.json >out &&
	t=$(python3 -c "import json; print(json.load(open(\"$FT/BTC_USDT-4h.json\"))[500][0])") &&
	sqlite3 $DB "select * from indicadores_tecnico where timestamp < $t order by timestamp" >before &&
	test $(wc -l <before) = 500 &&
	test_expect_code 0 bt-fetch --import $FT/BTC_USDT-4h.json >out &&
	json_has out "select(.event==\"indicators\") | .symbol==\"BTCUSDT\" and .tf==\"4h\" and .why==\"dirty\" and .from==$t" &&
	json_has out "select(.event==\"summary\") | .ind_full==1" &&
	sqlite3 $DB "select * from indicadores_tecnico where timestamp < $t order by timestamp" >after &&
	test_cmp before after &&
	oracle $DB
'

test_expect_success 'a repaired old candle: rows from it on are rewritten, the rest kept' '
	t=$(python3 -c "import json; print(json.load(open(\"$FT/BTC_USDT-4h.json\"))[1000][0])") &&
	python3 -c "
import json; r = json.load(open(\"$FT/BTC_USDT-4h.json\"))
r[1000][4] = r[1000][4] * 1.01; r[1000][2] = max(r[1000][2], r[1000][4])
json.dump(r[990:1010], open(\"BTC_USDT-4h-fix.json\", \"w\"))" &&
	sqlite3 $DB "select * from indicadores_tecnico where timeframe=\"4h\" and timestamp < $t" >before &&
	old=$(sql $DB "select sma_20 from indicadores_tecnico where timeframe=\"4h\" and timestamp=$t") &&
	test_expect_code 0 bt-fetch --import BTC_USDT-4h-fix.json >out &&
	json_has out "select(.event==\"import\") | .rows==1" &&
	json_has out "select(.event==\"indicators\") | .why==\"dirty\" and .from==$t" &&
	sqlite3 $DB "select * from indicadores_tecnico where timeframe=\"4h\" and timestamp < $t" >after &&
	test_cmp before after &&
	test "$(sql $DB "select sma_20 from indicadores_tecnico where timeframe=\"4h\" and timestamp=$t")" != "$old" &&
	oracle $DB
'

test_expect_success 'a candle written by another writer (sqlite3) marks the pair dirty' '
	t=$(python3 -c "import json; print(json.load(open(\"$FT/BTC_USDT-4h.json\"))[200][0])") &&
	sqlite3 $DB "update candles set c = c + 1 where pair=(select id from pairs where symbol=\"BTCUSDT\" and tf=\"4h\") and slot=$t/14400000" &&
	test "$(sql $DB "select dirty from ind_state join pairs on pairs.id=ind_state.pair where tf=\"4h\"")" = $((t / 14400000)) &&
	test_expect_code 0 bt-fetch --indicators >out &&
	json_has out "select(.event==\"indicators\") | .why==\"dirty\" and .from==$t" &&
	oracle $DB
'

test_expect_success 'switched off: no rows; switched on again: caught up, still exact' '
	rm -rf $BT_HOME &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1h-a.json BTC_USDT-1h-b.json >out &&
	BT_INDICATORS=0 test_expect_code 0 bt-fetch --import BTC_USDT-1h-c.json BTC_USDT-1h-d.json >out &&
	json_has out "select(.event==\"summary\") | has(\"ind_rows\") | not" &&
	test "$(sql $DB "select count(*) from ind")" -lt "$(sql $DB "select count(*) from candles")" &&
	python3 -c "
import json; r = json.load(open(\"BTC_USDT-1h-a.json\"))
r[100][4] = r[100][4] * 0.99; r[100][3] = min(r[100][3], r[100][4])
json.dump(r[100:101], open(\"BTC_USDT-1h-old.json\", \"w\"))" &&
	BT_INDICATORS=0 test_expect_code 0 bt-fetch --import BTC_USDT-1h-old.json >out &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1h-e.json >out &&
	json_has out "select(.event==\"summary\") | .ind_full==1" &&
	test "$(sql $DB "select count(*) from ind")" = "$(sql $DB "select count(*) from candles")" &&
	oracle $DB
'

test_expect_success 'a changed spec re-creates the table; --indicators --rebuild gives the same bits' '
	BT_IND_SMA="10 30" BT_IND_EMA= BT_IND_BB="30x2.5" BT_IND_MACD="5,35,5" BT_IND_ATR="1 7" \
	    test_expect_code 0 bt-fetch --import BTC_USDT-1h-f.json >out &&
	json_has out "select(.event==\"indicator_spec\") | .severity==\"INFO\" and .spec==\"sma=10,30 ema= rsi=14 bb=30x2.5 atr=1,7 macd=5,35,5 tf=1d,4h,1h\"" &&
	sql $DB "select name from pragma_table_info(\"indicadores_tecnico\")" | tr "\n" " " >cols &&
	test "$(cat cols)" = "symbol timeframe timestamp sma_10 sma_30 rsi_14 bb_upper bb_middle bb_lower atr_1 atr_7 macd macd_signal macd_hist " &&
	BT_IND_SMA="10 30" BT_IND_EMA= BT_IND_BB="30x2.5" BT_IND_MACD="5,35,5" BT_IND_ATR="1 7" oracle $DB &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1h-g.json >out &&
	json_has out "select(.event==\"indicator_spec\")" &&
	oracle $DB &&
	cp $DB $TRASH/inc.db && rm -f $TRASH/inc.db-wal &&
	sqlite3 $DB "pragma wal_checkpoint(truncate)" >/dev/null && cp $DB $TRASH/inc.db &&
	test_expect_code 0 bt-fetch --indicators --rebuild >out &&
	json_has out "select(.event==\"summary\") | .mode==\"indicators\" and .ind_full==1 and .exit==0" &&
	test "$(tablediff $DB $TRASH/inc.db)" = 0
'

test_expect_success 'a bad spec is a configuration error (78), naming the key' '
	BT_IND_SMA="20 1" test_expect_code 78 bt-fetch --import BTC_USDT-1h-g.json 2>err &&
	grep -q "BT_IND_SMA: .1. is not a period (2..512)" err &&
	BT_IND_MACD="26 12 9" test_expect_code 78 bt-fetch --indicators 2>err &&
	grep -q "BT_IND_MACD: the fast period 26 is not below the slow 12" err &&
	BT_IND_BB="20" test_expect_code 78 bt-fetch --indicators 2>err &&
	grep -q "BT_IND_BB" err &&
	BT_INDICATORS=0 BT_IND_SMA=x test_expect_code 0 bt-fetch --import BTC_USDT-1h-g.json >out
'

test_expect_success 'a schema-1 store is migrated by the first writer' '
	rm -rf $BT_HOME &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1d-a.json >out &&
	sqlite3 $DB "drop view sentimento_mercado; drop view sentimento_diario; drop view indicadores_tecnico;
	    drop table sent_values; drop table sent_series; drop table macro_data; drop table ind; drop table ind_state;
	    drop trigger ind_dirty_ins; drop trigger ind_dirty_upd; drop trigger ind_dirty_del;
	    delete from bt_meta where key=\"ind_spec\"; update bt_meta set value=1 where key=\"schema_version\"" &&
	test "$(sql $DB "select count(*) from sqlite_schema where name like \"ind%\"")" = 0 &&
	test_expect_code 75 bt-validate -q --tf 1d 2>err >/dev/null;
	test_expect_code 0 bt-fetch --import BTC_USDT-1d-b.json >out &&
	test "$(sql $DB "select value from bt_meta where key=\"schema_version\"")" = 2 &&
	test "$(sql $DB "select count(*) from sqlite_schema where name in (\"sentimento_mercado\", \"sentimento_diario\", \"macro_data\", \"indicadores_tecnico\", \"ind_state\", \"ind_dirty_ins\", \"ind_dirty_upd\", \"ind_dirty_del\")")" = 8 &&
	json_has out "select(.event==\"summary\") | .ind_full==1" &&
	oracle $DB
'

test_expect_success 'a seed store with its own market tables: kept, renamed _seed' '
	rm -rf $BT_HOME && mkdir -p $BT_HOME/db &&
	sqlite3 $DB "create table ohlcv_d1(symbol text, timestamp integer, open real, high real, low real, close real, volume real, primary key(symbol, timestamp));
	    insert into ohlcv_d1 values (\"BTCUSDT\", 1665360000000, 1, 2, 0.5, 1.5, 10);
	    create table sentimento_mercado(symbol text, timestamp integer, fear_greed real);
	    insert into sentimento_mercado values (\"BTCUSDT\", 1665360000000, 42);
	    create table macro_data(date text, dxy real);" &&
	test_expect_code 0 bt-fetch --migrate >out &&
	test "$(sql $DB "select fear_greed from sentimento_mercado_seed")" = 42.0 &&
	test "$(sql $DB "select type from sqlite_schema where name=\"sentimento_mercado\"")" = view &&
	test "$(sql $DB "select type from sqlite_schema where name=\"macro_data\"")" = table &&
	test "$(sql $DB "select value from bt_meta where key=\"renamed_macro_data\"")" = macro_data_seed &&
	test "$(sql $DB "select value from bt_meta where key=\"schema_version\"")" = 2 &&
	test_expect_code 0 bt-fetch --indicators >out &&
	test "$(sql $DB "select count(*) from indicadores_tecnico")" = 1
'

test_expect_success 'only the timeframes of BT_IND_TIMEFRAMES (1d 4h 1h)' '
	rm -rf $BT_HOME &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1h-a.json --symbol SOLUSDT --interval 15m >out &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1d-a.json >out &&
	json_has out "select(.event==\"summary\") | .ind_pairs==1" &&
	test "$(sql $DB "select count(*) from indicadores_tecnico where timeframe=\"15m\"")" = 0 &&
	BT_IND_TIMEFRAMES="15m" test_expect_code 0 bt-fetch --indicators >out &&
	test "$(sql $DB "select count(*) from indicadores_tecnico where timeframe=\"15m\"")" = "$(sql $DB "select count(*) from ohlcv_m15")"
'

test_expect_success 'dry runs write no indicator rows' '
	rm -rf $BT_HOME &&
	test_expect_code 0 bt-fetch --import BTC_USDT-1d-a.json >/dev/null &&
	sqlite3 $DB "delete from ind; delete from ind_state" &&
	test_expect_code 0 bt-fetch -n --import BTC_USDT-1d-b.json >out &&
	test "$(sql $DB "select count(*) from ind")" = 0
'

# Over HTTP: the Binance test server's real candles, time moving on.
NOW=2025-05-20T00:30:00Z
start_server binance --data $DATA/vision --now $NOW --ctl $TRASH/binance.ctl
export BT_BINANCE_URL=$binance_URL BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h"

test_expect_success 'plain runs as time goes by: the hook at each pair, exact' '
	rm -rf $BT_HOME &&
	BT_NOW=$NOW test_expect_code 0 bt-fetch -q --since 2025-03-01 >out &&
	json_has out "select(.event==\"summary\") | .ind_pairs==6 and .ind_full==6" &&
	for h in 01 02 03 07 13; do
		ctl binance "{\"now\":\"2025-05-20T$h:30:00Z\"}" &&
		BT_NOW=2025-05-20T$h:30:00Z test_expect_code 0 bt-fetch -q >out &&
		json_has out "select(.event==\"summary\") | .ind_full==0 and .ind_rows==.rows and .exit==0" || exit 1
	done &&
	ctl binance "{\"now\":\"2025-05-22T00:30:00Z\"}" &&
	BT_NOW=2025-05-22T00:30:00Z test_expect_code 0 bt-fetch -q >out &&
	json_has out "select(.event==\"summary\") | .ind_full==0 and .ind_pairs==6" &&
	oracle $DB &&
	test "$(sql $DB "select count(*) from ind")" = "$(sql $DB "select count(*) from candles c join pairs p on p.id=c.pair where p.tf<>\"15m\"")"
'

test_expect_success '--repair rewriting the same candles changes no row' '
	sqlite3 $DB "pragma wal_checkpoint(truncate)" >/dev/null && cp $DB $TRASH/before.db &&
	BT_NOW=2025-05-22T00:30:00Z test_expect_code 0 bt-fetch -q --repair 3 >out &&
	json_has out "select(.event==\"summary\") | .rows==0 and .ind_full==0 and .ind_rows==0" &&
	test "$(tablediff $DB $TRASH/before.db)" = 0
'

test_done
