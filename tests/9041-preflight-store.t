#!/bin/sh
# bt-preflight's checks that read the store and its backups, ask Binance,
# or run the programs in scratch, failing (9040 has them passing): a store
# that fails quick_check or lacks a view; no backup, and a corrupt newest
# backup; a backtest that changes the candles, and a writer kept waiting;
# a remembered Binance ban, a clock 5 s off, Binance unreachable, a bad
# BT_CLOCK_SKEW_MAX; a dry run whose backtest fails.  And next to a live
# trader writing the store all along, with its pid file configured.
. "$(dirname "$0")/lib.sh"
. "$BT_SRC/tests/preflight-world.sh"

test_expect_success 'setup: the installed host' '
	world &&
	test_expect_code 0 pf --only store,recovery,isolation,rate_limit >out
'

test_expect_success 'a store that fails quick_check: store fails, with the restore as the fix' '
	cp "$DB" bad.db &&
	sqlite3 bad.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	ps=$(sqlite3 bad.db "PRAGMA page_size") &&
	root=$(sqlite3 bad.db "SELECT rootpage FROM sqlite_master WHERE name = \"candles\"") &&
	printf "\\015\\377\\377\\377\\377\\377\\377\\377" |
	    dd of=bad.db bs=1 seek=$(( (root - 1) * ps )) conv=notrunc 2>/dev/null &&
	BT_DB=$TRASH/bad.db test_expect_code 1 pf --only store >out &&
	line store ".ok == false and .store == \"$TRASH/bad.db\" and (.findings | any(.check == \"integrity\")) and (.fix | contains(\"bt-backup --restore | bt-fetch --gaps\"))" &&
	BT_DB=$TRASH/none.db test_expect_code 1 pf --only store >out &&
	line store ".ok == false and (.message | contains(\"will not open\"))"
'

test_expect_success 'a store without one of the seed'\''s views: store fails on the schema' '
	sqlite3 "$DB" ".backup noview.db" &&
	sqlite3 noview.db "DROP VIEW ohlcv_h4" &&
	BT_DB=$TRASH/noview.db test_expect_code 1 pf --only store >out &&
	line store ".ok == false and (.message | contains(\"view ohlcv_h4 is missing\"))"
'

test_expect_success 'no backup: recovery fails, and isolation with it' '
	mv $BT_HOME/backups backups.keep && mkdir -m 0700 $BT_HOME/backups &&
	test_expect_code 1 pf --only recovery,isolation >out &&
	line recovery ".ok == false and (.message | contains(\"no backup in\")) and (.fix | contains(\"bt-backup\"))" &&
	line isolation ".ok == false and (.message | contains(\"no scratch restore\"))" &&
	rmdir $BT_HOME/backups && mv backups.keep $BT_HOME/backups
'

test_expect_success 'a corrupt newest backup: recovery names it and why, and never restores an older one instead' '
	BT_NOW=2022-10-12T03:00:00Z bt-backup -q >/dev/null &&
	B=$BT_HOME/backups/db_backup_20221012.db &&
	cp $B newest.db &&
	ps=$(sqlite3 newest.db "PRAGMA page_size") &&
	root=$(sqlite3 newest.db "SELECT rootpage FROM sqlite_master WHERE name = \"candles\"") &&
	printf "\\015\\377\\377\\377\\377\\377\\377\\377" |
	    dd of=$B bs=1 seek=$(( (root - 1) * ps )) conv=notrunc 2>/dev/null &&
	sum=$(sha256sum $BT_HOME/backups/* | sha256sum) &&
	test_expect_code 1 pf --only recovery >out &&
	line recovery ".ok == false and .backup == \"db_backup_20221012.db\" and (.message | test(\"the newest backup, db_backup_20221012.db, does not restore .bt-backup --restore exit 66.: backup db_backup_20221012.db skipped: .*malformed\")) and (.fix | contains(\"bt-backup --verify\"))" &&
	test "$(sha256sum $BT_HOME/backups/* | sha256sum)" = "$sum" &&
	cp newest.db $B &&
	test_expect_code 0 pf --only recovery >out &&
	line recovery ".backup == \"db_backup_20221012.db\""
'

# A bt-backtest that writes the candles it reads (ad hoc), and fails the
# daily job; the other programs are the real ones.
mkdir -p fakebin
for p in bt-fetch bt-validate bt-backup bt-digest bt-watchdog; do
	ln -s "$BIN/$p" fakebin/$p
done
cat >fakebin/bt-backtest <<'EOF'
#!/bin/sh
case " $* " in *" --job "*) echo "fake bt-backtest: no job" >&2; exit 70 ;; esac
[ "$1" = -d ] && sqlite3 "$2" ".timeout 10000" \
    "UPDATE candles SET c = c + 1 WHERE slot = (SELECT max(slot) FROM candles)"
exec "$(dirname "$(readlink -f "$0")")/../real/bt-backtest" "$@"
EOF
chmod 0755 fakebin/bt-backtest
mkdir -p real && ln -s "$BIN/bt-backtest" real/bt-backtest

test_expect_success 'a backtest that changes the candles it reads: isolation fails' '
	test_expect_code 1 pf --only isolation --bin $TRASH/fakebin >out &&
	line isolation ".ok == false and .backtest_exit == 0 and .message == \"the backtest changed the candles of the scratch restore\""
'

test_expect_success 'a writer kept waiting longer than BT_PREFLIGHT_WRITER_MAX: isolation fails' '
	BT_PREFLIGHT_WRITER_MAX=0 test_expect_code 1 pf --only isolation >out &&
	line isolation ".ok == false and .bound == 0 and .writer.longest_during > 0 and (.message | contains(\"more than BT_PREFLIGHT_WRITER_MAX (0 s)\"))" &&
	BT_PREFLIGHT_WRITER_MAX=soon test_expect_code 78 pf --only isolation >out 2>err &&
	grep -q "BT_PREFLIGHT_WRITER_MAX .soon. is not seconds" err
'

test_expect_success 'the Binance test server'\''s clock 5 s off: binance fails, within BT_CLOCK_SKEW_MAX it passes' '
	ctl binance "{\"time_offset\":5000}" &&
	test_expect_code 1 pf --only rate_limit >out &&
	line binance ".ok == false and .detail.skew == 5 and (.message | contains(\"5.000 s ahead of this host\")) and (.fix | contains(\"synchronise\"))" &&
	BT_CLOCK_SKEW_MAX=6 test_expect_code 0 pf --only rate_limit >out &&
	ctl binance "{\"time_offset\":-5000}" &&
	test_expect_code 1 pf --only rate_limit >out &&
	line binance ".detail.skew == -5 and (.message | contains(\"behind\"))" &&
	ctl binance "{}"
'

test_expect_success 'Binance unreachable (69) is a failed check; a bad BT_CLOCK_SKEW_MAX is 78' '
	BT_BINANCE_URL=http://127.0.0.1:1 test_expect_code 1 pf --only rate_limit >out &&
	line binance ".ok == false and .detail.ping == false and (.fix | contains(\"network\"))" &&
	BT_CLOCK_SKEW_MAX=-1 test_expect_code 78 pf --only rate_limit >out &&
	line binance ".ok == false"
'

KEY=0123456789abcdefghijklmnopqrstuv
test_expect_success 'FRED configured: a fred line from bt-fetch --check; its key file readable by its group: 78, and secrets fails' '
	start_server fred --data $DATA/fred.json --key $KEY --now 2025-05-01 &&
	printf "%s\n" $KEY >fred.key && chmod 600 fred.key &&
	export BT_FRED_URL=$fred_URL FRED_API_KEY_FILE=$TRASH/fred.key &&
	test_expect_code 0 pf --only rate_limit,secrets >out &&
	line fred ".ok and .detail.series == \"DGS10\"" &&
	line secrets "select(.key == \"FRED_API_KEY_FILE\") | .ok" &&
	chmod 0640 fred.key &&
	test_expect_code 78 pf --only rate_limit,secrets >out &&
	line fred ".ok == false and (.fix | contains(\"0600\"))" &&
	line binance ".ok" &&
	line secrets "select(.key == \"FRED_API_KEY_FILE\") | .ok == false" &&
	! grep -qF $KEY out &&
	unset BT_FRED_URL FRED_API_KEY_FILE
'

test_expect_success 'a remembered Binance ban: binance fails (1, not 75), nothing asked' '
	ctl binance "{\"faults\":[{\"path\":\"/api/v3/klines\",\"fault\":\"status\",\"code\":418,\"retry_after\":600}]}" &&
	test_expect_code 75 bt-fetch -q --symbols BTCUSDT --tf 1h >/dev/null &&
	: >$TRASH/binance.log &&
	test_expect_code 1 pf --only rate_limit >out &&
	line binance ".ok == false and .detail.banned_until == \"2022-10-11T04:10:00Z\" and (.message | contains(\"Binance ban\")) and (.fix | contains(\"wait until then\"))" &&
	json_has out "select(.event == \"summary\") | .exit == 1" &&
	test "$(requests binance)" = 0 &&
	ctl binance "{\"now\":\"2022-10-11T04:11:00Z\"}" &&
	BT_NOW=2022-10-11T04:11:00Z test_expect_code 0 pf --only rate_limit >out &&
	line binance ".ok and .detail.banned_until == null" &&
	ctl binance "{}"
'

test_expect_success 'a dry run whose daily backtest fails: dry_run fails, naming it' '
	test_expect_code 1 pf --only dry_run --bin $TRASH/fakebin >out &&
	line dry_run ".ok == false and (.never_ok == [\"bt-backtest --job --if-due\"]) and (.message | contains(\"bt-backtest --job --if-due exit 70\")) and (.fix | contains(\"--hour -k\"))" &&
	test -z "$(ls -A $TMPDIR)"
'

test_expect_success 'next to a live trader writing the store, its pid file configured: all pass, the trader never fails' '
	printf "BT_TRADER_PIDFILE=%s\n" "$TRASH/trader.pid" >>"$BT_CONF" &&
	mkfifo live.ready &&
	{ python3 "$BT_SRC/tests/trader.py" --db "$DB" --lock "$BT_HOME/run/write.lock" \
	    --table trader_rows --tag live --until live.stop --ready live.ready \
	    >live.out 2>live.err & } &&
	tpid=$! && echo $tpid >"$TRASH/trader.pid" &&
	read -r r <live.ready &&
	rc=0 && pf --only store,recovery,isolation >out || rc=$? &&
	: >live.stop && wait $tpid &&
	test $rc = 0 &&
	n=$(jq .commits live.out) &&
	test "$(sql "$DB" "SELECT count(*) FROM trader_rows WHERE tag = '"'"'live'"'"'")" = "$n" &&
	line recovery ".ok" && line isolation ".ok"
'

test_done
