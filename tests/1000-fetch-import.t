#!/bin/sh
# bt-fetch --import: real freqtrade JSON and data.binance.vision CSV
# (ms and us, with and without header), idempotence, bad files.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
DB=$BT_HOME/db/crypto_agent.db
FT=$DATA/freqtrade

test_expect_success 'imports freqtrade JSON, symbol and interval from the names' '
	test_expect_code 0 bt-fetch --import $FT/BTC_USDT-1h.json $FT/BTC_USDT-4h.json \
	    $FT/BTC_USDT-1d.json $FT/ETH_USDT-1h.json >out &&
	json_has out "select(.event==\"import\" and .symbol==\"BTCUSDT\" and .tf==\"1h\") | .rows==8760 and .first==1633910400000 and .last==1665442800000" &&
	json_has out "select(.event==\"summary\") | .rows==(8760+2190+365+8760) and .exit==0" &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where symbol=\"BTCUSDT\"")" = 8760 &&
	test "$(sql $DB "select count(*) from ohlcv_d1")" = 365 &&
	test "$(sql $DB "select min(timestamp), max(timestamp) from ohlcv_h4")" = "1633910400000|1665432000000"
'

test_expect_success 'values read back through the seed views equal the file exactly' '
	python3 - "$FT/BTC_USDT-1h.json" "$DB" <<-EOF
	import json, sqlite3, sys
	rows = json.load(open(sys.argv[1]))
	db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
	got = {r[0]: r[1:] for r in db.execute(
	    "select timestamp, open, high, low, close, volume, close_time from ohlcv_h1 where symbol=\"BTCUSDT\"")}
	assert len(got) == len(rows)
	for r in rows:
	    g = got[r[0]]
	    assert list(g[:5]) == [float(v) for v in r[1:6]], (r, g)
	    assert g[5] == r[0] + 3600000 - 1
	EOF
'

test_expect_success 'a second import changes nothing' '
	sum1=$(sql $DB "select total(open+high+low+close+volume), count(*) from ohlcv_h1") &&
	test_expect_code 0 bt-fetch --import $FT/BTC_USDT-1h.json >out &&
	json_has out "select(.event==\"import\") | .rows==0 and .received==8760" &&
	test "$(sql $DB "select total(open+high+low+close+volume), count(*) from ohlcv_h1")" = "$sum1"
'

test_expect_success 'binance-vision CSV in ms and in us are stored in ms' '
	test_expect_code 0 bt-fetch --import $DATA/vision/BTCUSDT-1h-2024-12.csv \
	    $DATA/vision/BTCUSDT-1h-2025-01.csv >out &&
	json_has out "select(.file//\"\"|endswith(\"2025-01.csv\")) | .first==1735689600000 and .last==1738364400000 and .rows==744" &&
	test "$(sql $DB "select close_time, quote_volume, trades from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp=1735689600000")" = "1735693199999|71068810.5594638|93525" &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp between 1733011200000 and 1738364400000")" = 1488
'

test_expect_success 'all twelve fields of a real CSV survive exactly' '
	python3 - "$DATA/vision/ETHUSDT-1h-2025-03.csv" "$DB" <<-EOF
	import csv, sqlite3, sys, subprocess
	subprocess.run(["bt-fetch", "--import", sys.argv[1]], check=True, stdout=subprocess.DEVNULL)
	db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
	n = 0
	for r in csv.reader(open(sys.argv[1])):
	    t = int(r[0]) // 1000
	    g = db.execute("select open, high, low, close, volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote from ohlcv_h1 where symbol=\"ETHUSDT\" and timestamp=?", (t,)).fetchone()
	    want = [float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[6]) // 1000, float(r[7]), int(r[8]), float(r[9]), float(r[10])]
	    assert list(g) == want, (r, g)
	    n += 1
	assert n == 744
	EOF
'

test_expect_success 'the 2023-03-24 halt candle keeps its irregular close time' '
	test_expect_code 0 bt-fetch --import $DATA/vision-header/BTCUSDT-1h-2023-03.csv >out &&
	json_has out "select(.event==\"import\") | .rows==743" &&
	test "$(sql $DB "select close_time, volume, trades from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp=1679659200000")" = "1679661581646|0.0|0" &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp=1679662800000")" = 0
'

test_expect_success 'stdin with --symbol and --interval' '
	head -100 $DATA/vision/ETHUSDT-1h-2024-11.csv |
	    test_expect_code 0 bt-fetch --import - --symbol ETHUSDT --interval 1h >out &&
	json_has out "select(.event==\"import\") | .symbol==\"ETHUSDT\" and .received==100"
'

test_expect_success 'truncated JSON is refused with the file named; nothing stored' '
	before=$(sql $DB "select count(*) from ohlcv_h4") &&
	head -c 5000 $FT/ETH_USDT-4h.json >ETH_USDT-4h.json &&
	test_expect_code 65 bt-fetch --import ETH_USDT-4h.json >out 2>err &&
	grep -q "ETH_USDT-4h.json" err && grep -q "not JSON" err &&
	test "$(sql $DB "select count(*) from ohlcv_h4")" = "$before"
'

test_expect_success 'a CSV row with 11 fields is refused with file and line' '
	sed "5s/,0\$//" $DATA/vision/ETHUSDT-1h-2024-12.csv >ETHUSDT-1h-2024-12.csv &&
	test_expect_code 65 bt-fetch --import ETHUSDT-1h-2024-12.csv 2>err &&
	grep -q "ETHUSDT-1h-2024-12.csv:5: 11 fields, expected 12" err &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where symbol=\"ETHUSDT\" and timestamp >= 1733011200000 and timestamp < 1735689600000")" = 0
'

test_expect_success 'high below low, NaN and unparsable numbers are refused' '
	awk -F, -v OFS=, "NR==3 {t=\$3; \$3=\$4; \$4=t} {print}" $DATA/vision/BTCUSDT-1h-2024-11.csv >BTCUSDT-1h-2024-11.csv &&
	test_expect_code 65 bt-fetch --import BTCUSDT-1h-2024-11.csv 2>err &&
	grep -q ":3: high .* is below low" err &&
	sed "7s/^\([0-9]*\),[^,]*/\1,nan/" $DATA/vision/BTCUSDT-1h-2024-11.csv >BTCUSDT-1h-2024-11.csv &&
	test_expect_code 65 bt-fetch --import BTCUSDT-1h-2024-11.csv 2>err &&
	grep -q ":7: a field is not a number" err &&
	test "$(sql $DB "select count(*) from ohlcv_h1 where symbol=\"BTCUSDT\" and timestamp between 1730419200000 and 1733011199999")" = 0
'

test_expect_success 'duplicated and out-of-order rows are refused' '
	sed "4p" $DATA/vision/BTCUSDT-1h-2024-11.csv >BTCUSDT-1h-2024-11.csv &&
	test_expect_code 65 bt-fetch --import BTCUSDT-1h-2024-11.csv 2>err &&
	grep -q ":5: open time 1730430000000 repeats" err
'

test_expect_success 'a name that tells nothing needs --symbol and --interval' '
	cp $FT/BTC_USDT-1d.json candles.json &&
	test_expect_code 64 bt-fetch --import candles.json 2>err &&
	grep -q "give --symbol and --interval" err
'

test_expect_success 'an interval the store does not keep is refused' '
	cp $DATA/vision/BTCUSDT-1h-2024-11.csv BTCUSDT-1m-2024-11.csv &&
	test_expect_code 65 bt-fetch --import BTCUSDT-1m-2024-11.csv 2>err &&
	grep -q "interval 1m is not kept" err
'

test_expect_success 'bad arguments exit 64 with the usage' '
	test_expect_code 64 bt-fetch --no-such-option 2>err &&
	grep -q "^usage: bt-fetch" err &&
	test_expect_code 64 bt-fetch --repair zero 2>err &&
	grep -q "repair" err &&
	test_expect_code 64 bt-fetch --import 2>err &&
	test_expect_code 64 bt-fetch --symbols btc-usdt 2>err &&
	grep -q "not a symbol" err
'

test_expect_success 'files have no world access; the store is in WAL mode' '
	test -z "$(find $BT_HOME -perm -o=r)" &&
	test "$(stat -c %a $BT_HOME/db/bt_state.db)" = 600 &&
	test "$(sqlite3 $DB "pragma journal_mode")" = wal
'

test_expect_success 'every import run is recorded in the state file' '
	n=$(sql $BT_HOME/db/bt_state.db "select count(*) from runs where prog=\"bt-fetch\" and job=\"import\" and ended is not null") &&
	test "$n" -ge 8 &&
	test "$(sql $BT_HOME/db/bt_state.db "select exit from runs order by id desc limit 1")" = 64 ||
	test "$(sql $BT_HOME/db/bt_state.db "select exit from runs order by id desc limit 1")" = 65
'

test_expect_success 'db/LOCKED keeps every writer out with 75' '
	echo "pid=1 start=1 boot=x" >$BT_HOME/db/LOCKED &&
	before=$(sql $DB "select count(*) from candles") &&
	test_expect_code 75 bt-fetch --import $FT/ETH_USDT-4h.json >out &&
	json_has out "select(.event==\"locked\") | .severity==\"WARNING\"" &&
	json_has out "select(.event==\"locked\") | .owner==\"pid=1 start=1 boot=x\" and .message==\"db/LOCKED is present: a restore or rollback is running; not writing\"" &&
	test "$(sql $DB "select count(*) from candles")" = "$before" &&
	rm $BT_HOME/db/LOCKED
'

test_done
