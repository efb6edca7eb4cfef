#!/bin/sh
# An operator's existing store with the seed's plain ohlcv_* tables is
# refused until bt-fetch --migrate converts it, keeping every row; a file
# newer than this bt is refused untouched.
. "$(dirname "$0")/lib.sh"

export BT_NOW=2022-10-11T00:00:00Z
DB=$BT_HOME/db/crypto_agent.db
mkdir -p $BT_HOME/db

# The seed's layout, filled from real candles, plus the trader's table.
python3 - "$DATA/freqtrade" "$DB" <<'PY'
import json, sqlite3, sys
d, path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path)
for tf, name in (("1h", "ohlcv_h1"), ("4h", "ohlcv_h4"), ("1d", "ohlcv_d1")):
    db.execute(f"create table {name}(symbol text, timestamp integer, open real, high real, low real, close real, volume real, primary key(symbol, timestamp))")
    db.execute(f"create index idx_{name}_symbol on {name}(symbol, timestamp)")
    for sym in ("BTC", "ETH"):
        rows = json.load(open(f"{d}/{sym}_USDT-{tf}.json"))
        db.executemany(f"insert into {name} values (?,?,?,?,?,?,?)",
                       [(sym + "USDT", r[0], *r[1:6]) for r in rows])
db.execute("create table trades(id integer primary key, symbol text, timestamp integer, side text, price real, qty real)")
db.execute("insert into trades(symbol, timestamp, side, price, qty) values ('BTCUSDT', 1665000000000, 'BUY', 19000.5, 0.01)")
db.commit()
PY
sqlite3 $DB "select symbol, timestamp, open, high, low, close, volume from ohlcv_h1 order by 1, 2" >before.h1
sqlite3 $DB "select symbol, timestamp, open, high, low, close, volume from ohlcv_d1 order by 1, 2" >before.d1

test_expect_success 'a plain seed store is refused with 78 and a hint' '
	test_expect_code 78 bt-fetch --import $DATA/freqtrade/BTC_USDT-1d.json 2>err &&
	grep -q "plain ohlcv_\* tables; convert it once with bt-fetch --migrate" err
'

test_expect_success '--migrate converts every row; the views read the same' '
	test_expect_code 0 bt-fetch --migrate >out &&
	json_has out "select(.event==\"migrate\") | .status==\"migrated\" and .[\"1h\"]==17520 and .[\"4h\"]==4380 and .[\"1d\"]==730" &&
	sqlite3 $DB "select symbol, timestamp, open, high, low, close, volume from ohlcv_h1 order by 1, 2" >after.h1 &&
	test_cmp before.h1 after.h1 &&
	sqlite3 $DB "select symbol, timestamp, open, high, low, close, volume from ohlcv_d1 order by 1, 2" >after.d1 &&
	test_cmp before.d1 after.d1 &&
	test "$(sql $DB "select type from sqlite_schema where name=\"ohlcv_h1\"")" = view
'

test_expect_success 'the live trader'"'"'s table is left alone' '
	test "$(sql $DB "select symbol, price from trades")" = "BTCUSDT|19000.5"
'

test_expect_success 'a second --migrate has nothing to do; plain runs work again' '
	test_expect_code 0 bt-fetch --migrate >out &&
	json_has out ".status==\"nothing to migrate\"" &&
	test_expect_code 0 bt-fetch --import $DATA/freqtrade/BTC_USDT-1d.json >out &&
	json_has out "select(.event==\"import\") | .rows==0"
'

test_expect_success 'a store newer than this bt is refused and not modified' '
	sqlite3 $DB "update bt_meta set value=99 where key=\"schema_version\"" &&
	sqlite3 $DB "pragma wal_checkpoint(truncate)" >/dev/null &&
	sum=$(sha256sum <$DB) &&
	test_expect_code 78 bt-fetch --import $DATA/freqtrade/ETH_USDT-1d.json 2>err &&
	grep -q "schema version 99 is newer than this bt knows" err &&
	test "$(sha256sum <$DB)" = "$sum"
'

test_done
