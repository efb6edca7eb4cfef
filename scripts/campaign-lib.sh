# scripts/campaign-lib.sh - what every scripts/campaign-* sources.
#
# A campaign proves one of issue 7's promises by brute force and prints
# its figures as JSON lines on stdout:
#	{"campaign":"crash","figure":"kills","prog":"bt-fetch","value":200}
# and one last line {"campaign":NAME,"result":"ok"|"fail","failures":N}.
# Failures are also described on stderr, one line each.  Exit 0 only when
# nothing failed.
#
# Common options:
#	--quick		a few seconds' worth (make check runs this)
#	--long		the issue's counts (the default)
#	--seed N	the random sequence (default 1): a failure reproduces
#	-n N		override the campaign's main count
#	--keep		keep the work directory (kept anyway on failure)
#
# Programs: under `make test' (BT_SRC set) PATH already has the build
# under test first, sanitized or not; run by hand, $top/bin goes first.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
CAMPAIGN=${CAMPAIGN:-$(basename "$0" | sed 's/^campaign-//')}
MODE=long
SEED=1
COUNT=
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) MODE=quick; shift ;;
	--long) MODE=long; shift ;;
	--seed) SEED=$2; shift 2 ;;
	-n) COUNT=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--quick | --long] [--seed N] [-n count] [--keep]" >&2
	   exit 64 ;;
	esac
done
[ -n "${BT_SRC:-}" ] || PATH="$top/bin:$PATH"
export PATH LC_ALL=C TZ=UTC
DATA=$top/tests/data
for _p in bt-fetch bt-validate bt-backup bt-backtest bt-digest bt-watchdog; do
	command -v $_p >/dev/null || { echo "$0: $_p not built (make)" >&2;
	    exit 69; }
done

mkdir -p "$top/build/campaign"
W=$(mktemp -d "$top/build/campaign/$CAMPAIGN.XXXXXX")
export HOME="$W" BT_HOME="$W/home" BT_CONF="$W/bt.conf"
: >"$BT_CONF"
# Waits are zero and timeouts short: a campaign measures outcomes, not
# the wall clock.
export BT_RETRY_DELAYS=0,0,0 BT_SOURCE_RETRY_DELAYS=0,0,0
export BT_RETRY_AFTER_MIN=0 BT_PACE_WAIT_MAX=0
export BT_HTTP_TIMEOUT=10 BT_HTTP_CONNECT_TIMEOUT=5 BT_WRITE_LOCK_WAIT=30
unset BT_NOW BT_DB BT_STATE BT_SYMBOLS BT_TIMEFRAMES TELEGRAM_BOT_TOKEN \
    FRED_API_KEY TELEGRAM_BOT_TOKEN_FILE FRED_API_KEY_FILE 2>/dev/null || true
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
FAILURES=0
T0=$(date +%s.%N)

# fig KEY=VALUE...: one figure line; values that look like numbers stay
# numbers.
fig() {
	_j=$(jq -cn --arg c "$CAMPAIGN" '{campaign:$c}')
	for _kv in "$@"; do
		_k=${_kv%%=*}
		_v=${_kv#*=}
		if printf '%s' "$_v" | grep -qE '^-?[0-9]+(\.[0-9]+)?$'; then
			_j=$(printf '%s' "$_j" | jq -c --arg k "$_k" \
			    --argjson v "$_v" '.[$k]=$v')
		else
			_j=$(printf '%s' "$_j" | jq -c --arg k "$_k" \
			    --arg v "$_v" '.[$k]=$v')
		fi
	done
	printf '%s\n' "$_j"
}

# fail MESSAGE: counts a failure and says what it was.
fail() {
	FAILURES=$((FAILURES + 1))
	echo "campaign-$CAMPAIGN: FAIL: $*" >&2
}

# say MESSAGE: progress on stderr.
say() {
	echo "campaign-$CAMPAIGN: $*" >&2
}

# rnd N: a deterministic pseudo-random number in [0, N), from SEED.
_rnd_state=$SEED
rnd() {
	_rnd_state=$(( (_rnd_state * 1103515245 + 12345) % 2147483648 ))
	R=$(( (_rnd_state / 65536) % $1 ))
}

# msleep MS: sleeps MS milliseconds (the delay before a kill).
msleep() {
	sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"
}

elapsed() {
	awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# start_server NAME ARGS...: tests/NAME_server.py on a random loopback
# port, control file $W/NAME.ctl, log $W/NAME.log; sets NAME_URL.
SERVERS=
start_server() {
	_name=$1
	shift
	_fifo="$W/.$_name.ready"
	rm -f "$_fifo"
	mkfifo "$_fifo"
	python3 "$top/tests/${_name}_server.py" --ready "$_fifo" \
	    --log "$W/$_name.log" --ctl "$W/$_name.ctl" "$@" \
	    2>"$W/$_name.stderr" &
	SERVERS="$SERVERS $!"
	read -r _port <"$_fifo" || { cat "$W/$_name.stderr" >&2; exit 70; }
	eval "${_name}_URL=http://127.0.0.1:$_port"
}

# ctl NAME JSON: replaces a server's control file atomically.
ctl() {
	printf '%s\n' "$2" >"$W/$1.ctl.tmp"
	mv "$W/$1.ctl.tmp" "$W/$1.ctl"
}

# content DB: a checksum of the content of every table of a database
# file (the sqlite3 shell's .sha3sum: rows of every table, not pages), or
# "unreadable".
content() {
	sqlite3 -readonly "$1" ".sha3sum" 2>/dev/null | grep -E '^[0-9a-f]{40,}$' ||
	    echo unreadable
}

# candles DB: a checksum of the candles as readers see them (the seed's
# views, in key order): equal candles whatever the pairs' ids or scales.
candles() {
	{ for _v in ohlcv_d1 ohlcv_h4 ohlcv_h1 ohlcv_m15; do
		sqlite3 -readonly -batch -noheader "$1" \
		    "SELECT '$_v', * FROM $_v ORDER BY symbol, timestamp" || return
	done; } 2>/dev/null | sha256sum | cut -c1-16
}

# integrity DB: "ok" or SQLite's first complaint.  A writer killed while
# its first `PRAGMA journal_mode=WAL' turned a new file into WAL leaves a
# hot rollback journal, which a read-only connection may not roll back
# ("attempt to write a readonly database"); a writer's connection, as the
# next bt writer opens, can, and bt's own readers do it too (bt_db.c,
# ro_recover(); tests/3030).  Such a case is counted in $W/ro-recovery
# and checked read-write under the write lock.
integrity() {
	_o=$(sqlite3 -readonly "$1" "PRAGMA integrity_check" 2>&1 | head -1)
	case $_o in
	*"readonly database"*)
		echo "$1" >>"$W/ro-recovery"
		mkdir -p "$BT_HOME/run"
		flock "$BT_HOME/run/write.lock" sqlite3 "$1" \
		    "PRAGMA integrity_check" 2>&1 | head -1 ;;
	*) echo "$_o" ;;
	esac
}
ro_recoveries() {
	[ -e "$W/ro-recovery" ] && wc -l <"$W/ro-recovery" || echo 0
}

# locks_free: every lock under run/ can be taken at once.
locks_free() {
	for _l in "$BT_HOME"/run/*.lock; do
		[ -e "$_l" ] || continue
		flock -n "$_l" true || { echo "$_l"; return 1; }
	done
	return 0
}

finish() {
	for _p in $SERVERS; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	SERVERS=
	[ "$(ro_recoveries)" = 0 ] ||
	    fig readonly_opens_needing_recovery="$(ro_recoveries)"
	fig elapsed_s="$(elapsed)" mode=$MODE seed=$SEED
	if [ "$FAILURES" = 0 ]; then
		printf '{"campaign":"%s","result":"ok","failures":0}\n' "$CAMPAIGN"
		[ $KEEP = 1 ] || rm -rf "$W"
		exit 0
	fi
	printf '{"campaign":"%s","result":"fail","failures":%d}\n' \
	    "$CAMPAIGN" "$FAILURES"
	say "work directory kept: $W"
	exit 1
}
trap 'for _p in $SERVERS; do kill $_p 2>/dev/null; done' EXIT
trap 'exit 130' INT TERM
