# tests/lib.sh - what every tests/NNNN-*.t sources.
#
# TAP for prove, after git's test-lib and mblaze's lib.sh:
#	test_expect_success 'what' 'commands'
#	test_expect_code N cmd args...	exact exit status, crashes included
#	test_cmp expected actual
#	test_done
# Each script gets a fresh trash directory as BT_HOME's parent and $HOME,
# kept on failure (its path is printed).  Time is injected with BT_NOW;
# waits are configured to zero; nothing here sleeps.

set -u

BT_SRC=${BT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
DATA=$BT_SRC/tests/data
export BT_SRC DATA

# Trash directories live in the build tree, apart from other checkouts'.
mkdir -p "$BT_SRC/build/trash"
TRASH=$(mktemp -d "$BT_SRC/build/trash/$(basename "$0" .t).XXXXXX")
export HOME="$TRASH" BT_HOME="$TRASH/home" BT_CONF="$TRASH/bt.conf"
export TZ=UTC LC_ALL=C
: >"$BT_CONF"
# Retry waits, Retry-After floors and pacing waits are configurable, and
# zero here: tests never wait on the wall clock.
export BT_RETRY_DELAYS=0,0,0 BT_SOURCE_RETRY_DELAYS=0,0,0
export BT_RETRY_AFTER_MIN=0 BT_PACE_WAIT_MAX=0
export BT_HTTP_TIMEOUT=10 BT_HTTP_CONNECT_TIMEOUT=5 BT_WRITE_LOCK_WAIT=10
unset BT_NOW BT_DB BT_STATE BT_SYMBOLS BT_TIMEFRAMES TELEGRAM_BOT_TOKEN \
    FRED_API_KEY 2>/dev/null || true
cd "$TRASH" || exit 1

test_count=0
test_failed=0

say() { printf '# %s\n' "$*"; }

test_expect_success() {
	test_count=$((test_count + 1))
	_desc=$1
	_rc=0
	# BT_TEST_TRACE=1 traces the bodies (set -x) into the failure report.
	( set -e; [ -z "${BT_TEST_TRACE:-}" ] || set -x; eval "$2" ) \
	    >"$TRASH/.out" 2>"$TRASH/.err" </dev/null || _rc=$?
	if [ $_rc = 0 ]; then
		echo "ok $test_count - $_desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $_desc"
		awk '{ print "#   " $0 }' "$TRASH/.out" "$TRASH/.err" |
		    tail -"${BT_TEST_TRACE:+400}${BT_TEST_TRACE:-40}"
	fi
}

# The very exit status: a crash (signal) or a sanitizer report (86) never
# passes as an ordinary failure.
test_expect_code() {
	_want=$1
	shift
	_got=0
	"$@" || _got=$?
	if [ "$_got" != "$_want" ]; then
		echo "expected exit $_want, got $_got: $*" >&2
		return 1
	fi
}

test_must_fail() {
	_got=0
	"$@" || _got=$?
	if [ $_got = 0 ] || [ $_got -ge 86 ]; then
		echo "expected a clean failure, got $_got: $*" >&2
		return 1
	fi
}

test_cmp() {
	diff -u "$1" "$2"
}

# (jq 1.6's -e looks only at the last output, hence the grep.)
# json_has FILE FILTER: some line of FILTER's output over FILE is neither
# false nor null; a FILTER that selects nothing fails.
json_has() {
	_out=$(jq -c "$2" "$1") && printf '%s\n' "$_out" |
	    grep -qvxE 'false|null|' || {
		echo "$1 does not satisfy $2:" >&2
		head -c 2000 "$1" >&2
		return 1
	}
}

# sql DB QUERY: a read-only query through the sqlite3 shell.
sql() {
	sqlite3 -readonly -batch -noheader "$1" "$2"
}

# start_server NAME ARGS...: tests/NAME_server.py on a random loopback
# port; sets NAME_URL and NAME_PID.  The server writes its port into a
# FIFO once it listens, so reading it waits exactly as long as needed.
start_server() {
	_name=$1
	shift
	_fifo="$TRASH/.$_name.ready"
	rm -f "$_fifo"
	mkfifo "$_fifo"
	python3 "$BT_SRC/tests/${_name}_server.py" --ready "$_fifo" \
	    --log "$TRASH/$_name.log" "$@" 2>"$TRASH/$_name.stderr" &
	_pid=$!
	# In a file: a test body's subshell may start a server too.
	echo $_pid >>"$TRASH/.servers"
	read -r _port <"$_fifo" || { echo "# $_name server did not start";
	    cat "$TRASH/$_name.stderr"; return 1; }
	eval "${_name}_URL=http://127.0.0.1:$_port"
	eval "${_name}_PID=$_pid"
	export "${_name}_URL"
}

# ctl NAME JSON: replaces a server's control file (time, faults).
ctl() {
	printf '%s\n' "$2" >"$TRASH/$1.ctl.tmp"
	mv "$TRASH/$1.ctl.tmp" "$TRASH/$1.ctl"
}

# requests NAME [PATH]: how many requests a server has seen.
requests() {
	if [ $# -gt 1 ]; then
		grep -c "\"path\": *\"$2\"" "$TRASH/$1.log" 2>/dev/null || true
	else
		wc -l <"$TRASH/$1.log" 2>/dev/null || echo 0
	fi
}

# test_skip DESC WHY: a test that cannot run here, counted and said.
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # skip $2"
}

test_done() {
	for _p in $(cat "$TRASH/.servers" 2>/dev/null); do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	echo "1..$test_count"
	if [ $test_failed = 0 ]; then
		cd / && rm -rf "$TRASH"
		exit 0
	fi
	say "failed $test_failed of $test_count; trash kept in $TRASH"
	exit 1
}
