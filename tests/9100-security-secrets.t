#!/bin/sh
# Issue 7's security review, as a test: a whole pipeline run with a bot
# token and a FRED key configured, once through *_FILE and once through
# the environment.  Neither secret may reach any file under BT_HOME (a
# log, an event, a JSON line, a backup), any output, a file name, the
# argv of any process (strace), or the environment of a child process
# (bt-watchdog's re-fetch, bt-backup's offsite command of a Sunday's
# weekly copy).  Every file bt
# creates has no world access.
. "$(dirname "$0")/lib.sh"

TOK=123456789:AAF-secret_Token-0123456789abcdefXYZ
KEY=0123456789abcdefghijklmnopqrstuv
printf '%s\n' "$TOK" >"$TRASH/token"
printf '%s\n' "$KEY" >"$TRASH/fred.key"
chmod 600 "$TRASH/token" "$TRASH/fred.key"
start_server binance --data $DATA/vision --now 2025-05-31T12:30:00Z
start_server telegram --token "$TOK" --messages "$TRASH/msgs"
start_server fred --data $DATA/fred.json --key $KEY --now 2025-05-01
export BT_BINANCE_URL=$binance_URL BT_TELEGRAM_URL=$telegram_URL \
    BT_FRED_URL=$fred_URL BT_NOW=2025-05-31T12:30:00Z \
    BT_SYMBOLS="BTCUSDT ETHUSDT" BT_TIMEFRAMES="1d 4h 1h" \
    TELEGRAM_CHAT_CRITICAL=-1001 TELEGRAM_CHAT_WARNING=-1002 \
    TELEGRAM_CHAT_INFO=-1003 BACKTEST_TIMEFRAME=1h \
    BT_AUTO_RESTORE=0 BT_WATCHDOG_GDB=0
STRACE=
command -v strace >/dev/null && STRACE="strace -f -qq -s 4096 -e trace=execve -o"

# pipeline VARIANT: the crontab's programs in turn, output where cron
# puts it; bt-watchdog on a stale store, so it starts its re-fetch.
pipeline() {
	v=$1
	# As the crontab runs it, with a umask: the shell creates the log
	# files its redirections name.
	umask 027
	rm -rf $BT_HOME "$TRASH/out.$v"
	mkdir -p $BT_HOME/logs "$TRASH/out.$v" "$TRASH/offsite.$v"
	rm -f "$TRASH/refetched"
	# strace waits for every traced process, the detached re-fetch too;
	# without it, a FIFO says when the re-fetch has run.
	[ -n "$STRACE" ] || mkfifo "$TRASH/refetched"
	cat >"$TRASH/pipeline.sh" <<-EOF
	cd $BT_HOME
	bt-fetch --since 2025-05-01 >>logs/bt-fetch.jsonl 2>>logs/bt-fetch.log
	BT_NOW=2025-05-01T02:00:00Z bt-fetch --source macro >>logs/bt-fetch.jsonl 2>>logs/bt-fetch.log
	bt-validate --integrity quick >>logs/bt-validate.jsonl 2>>logs/bt-validate.log
	bt-validate --full | bt-digest >>logs/bt-digest.jsonl 2>>logs/bt-digest.log
	echo '{"severity":"CRITICAL","message":"secret check","event":"x"}' | bt-digest >>logs/bt-digest.jsonl 2>>logs/bt-digest.log
	BT_NOW=2025-06-01T03:00:00Z BT_BACKUP_OFFSITE_CMD='env >"$TRASH/offsite.$v/env"; cp "\$1" "$TRASH/offsite.$v/"' bt-backup --offsite $TRASH/offsite.$v >>logs/bt-backup.jsonl 2>>logs/bt-backup.log
	bt-backtest --job >>logs/bt-backtest.jsonl 2>>logs/bt-backtest.log
	BT_NOW=2025-06-02T00:00:00Z BT_REFETCH_CMD='env >"$TRASH/out.$v/refetch.env"; echo done >"$TRASH/refetched"' bt-watchdog >>logs/bt-watchdog.jsonl 2>>logs/bt-watchdog.log
	BT_NOW=2025-06-01T04:00:00Z bt-digest --daily >>logs/bt-digest.jsonl 2>>logs/bt-digest.log
	true
	EOF
	if [ -n "$STRACE" ]; then
		$STRACE "$TRASH/out.$v/trace" sh "$TRASH/pipeline.sh"
	else
		sh "$TRASH/pipeline.sh"
		timeout 20 cat "$TRASH/refetched" >/dev/null
	fi
}

# clean VARIANT: no trace of either secret anywhere it must not be.
clean() {
	v=$1
	for s in "$TOK" "$KEY" AAF-secret_Token; do
		# (The test servers' own logs are not bt's: FRED's holds the
		# key it was sent.  What Telegram received is bt's output.)
		if grep -r -l -a -F -- "$s" $BT_HOME "$TRASH/out.$v" "$TRASH/offsite.$v" "$TRASH/msgs" \
		    2>/dev/null | grep -v "/trace$"; then
			echo "a secret is in the files above" >&2
			return 1
		fi
		if find $BT_HOME "$TRASH/offsite.$v" | grep -F -- "$s"; then
			echo "a secret is in a file name" >&2
			return 1
		fi
	done
	# argv: every execve's arguments (strace prints the environment
	# as a count only).
	if [ -n "$STRACE" ] && grep -a -F -e "$TOK" -e "$KEY" "$TRASH/out.$v/trace"; then
		echo "a secret is in a process's argv" >&2
		return 1
	fi
}

test_expect_success 'the pipeline with the secrets in files' '
	export TELEGRAM_BOT_TOKEN_FILE=$TRASH/token FRED_API_KEY_FILE=$TRASH/fred.key &&
	pipeline file &&
	test "$(grep -c . "$TRASH/msgs")" -ge 1 &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from macro_data")" -gt 0 &&
	clean file
'

test_expect_success 'the pipeline with the secrets in the environment' '
	unset TELEGRAM_BOT_TOKEN_FILE FRED_API_KEY_FILE &&
	export TELEGRAM_BOT_TOKEN=$TOK FRED_API_KEY=$KEY &&
	pipeline env &&
	test "$(sql $BT_HOME/db/crypto_agent.db "select count(*) from macro_data")" -gt 0 &&
	clean env
'

test_expect_success 'children do not inherit a secret from the environment' '
	test -s "$TRASH/out.env/refetch.env" && test -s "$TRASH/offsite.env/env" &&
	! grep -e TELEGRAM_BOT_TOKEN= -e FRED_API_KEY= "$TRASH/out.env/refetch.env" "$TRASH/offsite.env/env"
'

test_expect_success 'no file bt created has world access' '
	find $BT_HOME "$TRASH/offsite.file" -newer "$TRASH/token" \( -perm -o=r -o -perm -o=w -o -perm -o=x \) >world &&
	test_cmp /dev/null world
'

test_done
