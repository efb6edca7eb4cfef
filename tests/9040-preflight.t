#!/bin/sh
# bt-preflight (issue "Go-live", section 1) on an installed host of its
# own (tests/preflight-world.sh): every check passing, with nothing
# written to the live files and nothing sent; then the quick checks
# failing one by one: a world-readable token file, a crontab that differs,
# cron not running, a zone not UTC, tools off the crontab's PATH, a
# directory others may write, a full disk (a tmpfs, as root); Telegram's
# own check lines; the exit codes 0, 1, 64, 75 and 78.  The store,
# recovery, isolation, rate-limiting and dry-run failures are in 9041.
. "$(dirname "$0")/lib.sh"
. "$BT_SRC/tests/preflight-world.sh"

# live: what of the live files a preflight must leave as they were: the
# store's and the state file's bytes and times, what their WALs hold, the
# backups.  (A reader of a WAL file may create its empty -wal and its
# -shm, as bt-validate -n does for the state file: every reader in the
# crontab does so every minute.)
live() {
	sha256sum "$DB" "$ST" && stat -c '%n %s %Y' "$DB" "$ST" &&
	cat "$DB-wal" "$ST-wal" 2>/dev/null | sha256sum &&
	ls -l --time-style=+%s.%N "$BT_HOME/backups"
}

test_expect_success 'setup: the installed host' '
	world
'

test_expect_success 'all well: every check passes, exit 0, nothing written, nothing sent, no scratch left' '
	live >before &&
	test_expect_code 0 pf >out 2>err &&
	cat err &&
	for c in user store recovery isolation crontab cron timezone tools \
	    binance telegram_bot telegram_chat secrets directories capacity \
	    resources dry_run; do
		line $c ".ok == true and .prog == \"bt-preflight\" and .ts == \"$NOW\" and (.message | length > 0) and (has(\"fix\") | not)" || exit 1
	done &&
	test "$(jq -s "map(select(.event == \"check\")) | length" out)" = 17 &&
	json_has out "select(.event == \"summary\") | .exit == 0 and .checks == 17 and .failed == []" &&
	test "$(tail -1 out | jq -r .event)" = summary &&
	line recovery ".backup == \"db_backup_20221011.db\" and .restore_point == \"2022-10-11T03:00:00Z\"" &&
	line isolation ".backtest_exit == 0 and .writer.commits >= 1 and .bound == 1" &&
	line binance ".detail.skew == 0 and .detail.banned_until == null" &&
	line capacity ".measured and .bytes_per_candle > 0 and .need_bytes == (.parts | add) and .free_bytes >= 2 * .need_bytes and .parts.backups >= 7 * .parts.store" &&
	line resources ".cpus >= 1 and .memory_bytes > 0 and .seed.cpus_minimum == 4" &&
	line dry_run ".runs > 100 and .backtest == \"done\"" &&
	live >after && test_cmp before after &&
	test ! -s $TRASH/msgs &&
	test "$(requests telegram /bot\<redacted\>/sendMessage)" = 0 &&
	test -z "$(ls -A $TMPDIR)" &&
	! grep -qF "$TOK" out err
'

# A directory whose name needs JSON's quoting.
ODD="$BT_HOME/logs/it's \"odd\""
test_expect_success 'the lines are JSON built whole: a name with quotes survives' '
	mkdir -p "$ODD" && chmod 0777 "$ODD" &&
	test_expect_code 1 pf --only directories >out &&
	jq -s -e --arg d "$ODD (mode 777, writable by group and others)" \
	    "map(select(.check == \"directories\"))[0].directories == [\$d]" out &&
	rmdir "$ODD"
'

test_expect_success '--send-test: one test message to each chat, passed through' '
	test_expect_code 0 pf --only telegram --send-test >out &&
	test "$(wc -l <$TRASH/msgs)" = 2 &&
	line telegram_send ".ok and .detail.message_id >= 1" &&
	: >$TRASH/msgs
'

test_expect_success 'usage: 64; --help: 0' '
	test_expect_code 64 pf --bogus 2>err &&
	grep -q "^usage: bt-preflight" err &&
	test_expect_code 64 pf --only nonsense 2>err &&
	grep -q "unknown check .nonsense." err &&
	test_expect_code 64 bt-preflight -S etc 2>err &&
	test_expect_code 64 pf --skip 2>err &&
	test_expect_code 0 bt-preflight --help >out &&
	grep -q "^usage: bt-preflight" out
'

test_expect_success 'a world-readable token file: secrets fails (1); with Telegram, bt-digest refuses it (78)' '
	chmod 0644 $TRASH/token &&
	test_expect_code 1 pf --only secrets >out &&
	line secrets ".ok == false and .file == \"$TRASH/token\" and (.message | contains(\"mode 0644: others may read it\")) and (.fix | contains(\"chmod 0600 $TRASH/token\"))" &&
	json_has out "select(.event == \"summary\") | .exit == 1 and .failed == [\"secrets\"]" &&
	test_expect_code 78 pf --only secrets,telegram >out &&
	json_has out "select(.event == \"summary\") | .exit == 78" &&
	chmod 0600 $TRASH/token &&
	test_expect_code 0 pf --only secrets >out
'

if [ "$(id -u)" = 0 ]; then
test_expect_success 'a token file owned by another user: secrets fails' '
	chown nobody $TRASH/token &&
	test_expect_code 1 pf --only secrets >out &&
	line secrets ".ok == false and (.message | contains(\"owned by nobody, not $ME\"))" &&
	chown "$ME" $TRASH/token
'
else
	test_skip 'a token file owned by another user: secrets fails' 'needs root (chown)'
fi

test_expect_success 'a bt.conf holding a secret itself is checked like a token file' '
	cp "$BT_CONF" conf.keep &&
	printf "TELEGRAM_BOT_TOKEN=%s\n" "$TOK" >>"$BT_CONF" && chmod 0640 "$BT_CONF" &&
	test_expect_code 1 pf --only secrets >out &&
	line secrets ".ok == false and .key == \"BT_CONF\" and (.message | contains(\"mode 0640\"))" &&
	! grep -qF "$TOK" out &&
	cp conf.keep "$BT_CONF"
'

test_expect_success 'a crontab that differs from what install-cron renders: crontab fails, naming the line' '
	cp $ETC/cron.d/bt cron.keep &&
	sed -i "s/^5 \* \* \* \*/7 * * * */" $ETC/cron.d/bt &&
	n=$(grep -n "^7 \* \* \* \*" $ETC/cron.d/bt | cut -d: -f1) &&
	test_expect_code 1 pf --only scheduling >out &&
	line crontab ".ok == false and .line == $n and (.message | test(\"differs from what install-cron renders from $ETC/bt/install.conf, from line $n: it has .7 \")) and (.fix | contains(\"install-cron\"))" &&
	line cron ".ok" && line timezone ".ok" && line tools ".ok" &&
	cp cron.keep $ETC/cron.d/bt &&
	mv $ETC/bt/install.conf install.conf.keep &&
	test_expect_code 1 pf --only scheduling >out &&
	line crontab ".ok == false and (.message | contains(\"install-cron has not run\"))" &&
	mv install.conf.keep $ETC/bt/install.conf &&
	test_expect_code 0 pf --only scheduling >out
'

test_expect_success 'cron not running: cron fails' '
	BT_PREFLIGHT_PROC=$TRASH/noproc test_expect_code 1 pf --only scheduling >out &&
	line cron ".ok == false and (.fix | contains(\"systemctl enable --now cron\"))" &&
	test_expect_code 0 pf --only scheduling >out &&
	line cron ".message == \"cron is running (pid 4242)\""
'

test_expect_success 'a zone other than UTC: timezone fails; none at all is UTC' '
	BT_PREFLIGHT_LOCALTIME=/usr/share/zoneinfo/Europe/Berlin \
	    test_expect_code 1 pf --only scheduling >out &&
	line timezone ".ok == false and (.message | contains(\"Europe/Berlin (UTC offsets +0100 +0200 +0100 +0200 in January and July), not UTC\")) and (.fix | contains(\"set-timezone Etc/UTC\"))" &&
	BT_PREFLIGHT_LOCALTIME=$TRASH/no-such-zone test_expect_code 0 pf --only scheduling >out &&
	line timezone ".ok and (.message | contains(\"use UTC\"))"
'

test_expect_success 'flock and timeout off the crontab'\''s PATH: tools fails' '
	cp $ETC/cron.d/bt cron.keep &&
	mkdir -p onlybt && for p in bt-fetch bt-validate bt-backtest bt-backup bt-digest bt-watchdog; do
		ln -sf "$BIN/$p" onlybt/$p; done &&
	sed -i "s|^PATH=.*|PATH=$TRASH/onlybt|" $ETC/cron.d/bt &&
	test_expect_code 1 pf --only scheduling >out &&
	line tools ".ok == false and .path == \"$TRASH/onlybt\" and (.message | endswith(\": flock timeout nice sh\"))" &&
	cp cron.keep $ETC/cron.d/bt
'

test_expect_success 'a directory under BT_HOME others may write, or not the bt user'\''s: directories fails' '
	chmod 0770 $BT_HOME/logs && chmod 0757 $BT_HOME/run &&
	test_expect_code 1 pf --only directories >out &&
	line directories ".ok == false and (.directories | length == 2) and (.message | contains(\"$BT_HOME/logs (mode 770, writable by its group)\")) and (.message | contains(\"$BT_HOME/run (mode 757, writable by others)\"))" &&
	chmod 0750 $BT_HOME/logs $BT_HOME/run &&
	test_expect_code 1 pf --only user,directories -u nobody >out &&
	line directories ".ok == false and (.message | contains(\"not owned by the bt user\"))" &&
	line user ".ok == false and (.message | contains(\"not as the bt user nobody\"))" &&
	test_expect_code 0 pf --only directories >out
'

if [ "$(id -u)" = 0 ]; then
test_expect_success 'a full disk: the backups on a small tmpfs fail capacity for that filesystem alone' '
	mv $BT_HOME/backups backups.keep &&
	mkdir -m 0700 $BT_HOME/backups &&
	mount -t tmpfs -o size=8m,mode=0700 tmpfs $BT_HOME/backups &&
	cp -p backups.keep/* $BT_HOME/backups/ &&
	rc=0 && pf --only capacity >out || rc=$? &&
	umount $BT_HOME/backups && rmdir $BT_HOME/backups &&
	mv backups.keep $BT_HOME/backups &&
	test $rc = 1 &&
	test "$(jq -s "map(select(.check == \"capacity\")) | length" out)" = 2 &&
	line capacity "select(.filesystem == \"$BT_HOME/backups\") | .ok == false and .free_bytes < 2 * .need_bytes and (.parts | keys) == [\"backups\"] and (.message | contains(\"less than twice that\"))" &&
	line capacity "select(.filesystem != \"$BT_HOME/backups\") | .ok and (.parts | keys) == [\"store\", \"temporary\"]" &&
	line resources ".ok"
'
else
	test_skip 'a full disk: the backups on a small tmpfs fail capacity for that filesystem alone' 'needs root (mount -t tmpfs)'
fi

test_expect_success 'Telegram: a chat it does not know fails (1); its flood control is try again later (75)' '
	ctl telegram "{\"chats\":[-1001]}" &&
	test_expect_code 1 pf --only telegram >out &&
	line telegram_chat "select(.detail.chat == \"-1002\") | .ok == false and (.message | contains(\"chat not found\")) and (.fix | contains(\"member of the chat\"))" &&
	line telegram_chat "select(.detail.chat == \"-1001\") | .ok" &&
	ctl telegram "{\"chats\":[-1001,-1002],\"faults\":[{\"fault\":\"status\",\"code\":429,\"retry_after\":600,\"times\":-1}]}" &&
	test_expect_code 75 pf --only telegram >out &&
	json_has out "select(.event == \"summary\") | .exit == 75" &&
	ctl telegram "{\"chats\":[-1001,-1002]}"
'

test_expect_success 'exit codes in contracts'\''s order: 75 over 78 over 1' '
	printf "123456789:AAFrevoked\n" >tok2 && chmod 600 tok2 &&
	TELEGRAM_BOT_TOKEN_FILE=$TRASH/tok2 test_expect_code 78 pf --only telegram,scheduling \
	    >out &&
	line telegram_bot ".ok == false and .message == \"getMe: 401 Unauthorized\"" &&
	ctl telegram "{\"chats\":[-1001,-1002],\"faults\":[{\"path\":\"/getChat\",\"fault\":\"status\",\"code\":429,\"retry_after\":600,\"times\":-1}]}" &&
	BT_CLOCK_SKEW_MAX=-1 BT_PREFLIGHT_LOCALTIME=/usr/share/zoneinfo/Europe/Berlin \
	    test_expect_code 75 pf --only telegram,rate_limit,scheduling >out &&
	line binance ".ok == false" && line timezone ".ok == false" &&
	json_has out "select(.event == \"summary\") | .exit == 75 and (.failed | index(\"binance\") and index(\"timezone\"))" &&
	ctl telegram "{\"chats\":[-1001,-1002]}"
'

test_expect_success 'it cannot run: no scratch directory is 78' '
	test_expect_code 78 pf --scratch $TRASH/no-such-dir >out 2>err &&
	test ! -s out &&
	grep -q "no such directory; nothing checked" err
'

test_done
