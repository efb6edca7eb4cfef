#!/bin/sh
# make demo's script: the whole pipeline on the embedded candles, every
# program's JSON lines under var/logs/, and a summary for a person of at
# most 40 lines (issue 14).
. "$(dirname "$0")/lib.sh"

export BT_DEMO_HOME=$TRASH/var

test_expect_success 'the demo runs, its summary fits 40 lines' '
	test_expect_code 0 "$BT_SRC/scripts/demo" >out 2>err &&
	test "$(wc -l <out)" -le 40 &&
	test ! -s err
'

test_expect_success 'the summary has each part' '
	grep -qx "Store $BT_DEMO_HOME/db/crypto_agent.db: 22630 candles" out &&
	grep -qx " BTCUSDT  1d 365, 1h 8760, 4h 2190  2021-10-11 .. 2022-10-10" out &&
	grep -q "^Validation: ok: 22630 candles in 6 pairs, 0 findings, integrity ok, coverage 100%$" out &&
	grep -q "^  symbol       trades   return   Sharpe   max DD$" out &&
	grep -Eq "^  BTCUSDT +[0-9]+ +-?[0-9]+\.[0-9]%" out &&
	grep -Eq "^  portfolio +[0-9]+ " out &&
	grep -q "^Backup: db_backup_20221011.db (.* MB); verify: 2 of 2 files good" out &&
	grep -q "^Watchdog: [0-9]* checks, " out &&
	grep -qx "  | bt daily digest, 2022-10-11T00:00:00Z" out &&
	if command -v gnuplot >/dev/null; then
		grep -qx "Equity curve: $BT_DEMO_HOME/results/equity.png" out &&
		test "$(head -c 8 $BT_DEMO_HOME/results/equity.png | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a
	else
		grep -q "^Equity curve: .*equity.csv (no PNG: gnuplot is not installed)$" out
	fi &&
	grep -q "^JSON lines: $BT_DEMO_HOME/logs/\*.jsonl$" out
'

test_expect_success 'every program wrote JSON lines only, one object a line' '
	for p in bt-fetch bt-validate bt-backtest bt-backup bt-watchdog bt-digest; do
		test -s $BT_DEMO_HOME/logs/$p.jsonl &&
		jq -se "all(.[]; type == \"object\" and has(\"ts\") and .prog == \"$p\" and has(\"event\"))" \
		    $BT_DEMO_HOME/logs/$p.jsonl >/dev/null || { echo "$p"; false; }
	done
'

test_expect_success 'a program that fails is named, and the demo exits 1' '
	mkdir -p root/bin root/scripts root/tests &&
	cp "$BT_SRC/scripts/demo" root/scripts/ &&
	ln -s "$BT_SRC/tests/data" root/tests/data &&
	for p in bt-fetch bt-validate bt-backtest bt-watchdog bt-digest; do
		ln -s "$BT_SRC/bin/$p" root/bin/$p; done &&
	printf "#!/bin/sh\nexit 70\n" >root/bin/bt-backup && chmod +x root/bin/bt-backup &&
	test_expect_code 1 root/scripts/demo >out 2>err &&
	grep -qx " bt-backup (exit 70; see $BT_DEMO_HOME/logs/bt-backup.log)" out &&
	test "$(grep -c "(exit " out)" = 1
'

test_done
