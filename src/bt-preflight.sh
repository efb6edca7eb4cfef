#!/bin/sh
# bt-preflight - the seed's preflight tests (its section 7) and its
# capacity estimate (section 2), on the installed host; bt-preflight(1).
#
#	bt-preflight [-k] [-S sysconfdir] [-u user] [--bin dir]
#	    [--scratch dir] [--only list] [--skip list] [--send-test]
#
# An operator runs it as the bt user after install-cron, next to a running
# live trader.  It composes the programs' own checks, so that each secret
# is read only by the program that needs it: Telegram only through
# bt-digest --check, Binance and FRED only through bt-fetch --check.  It
# never writes the live store or the state file: bt-validate -n opens the
# store read-only; the recovery and isolation checks work on a copy of
# the newest backup restored into a scratch directory, which is removed at
# the end; the dry run runs in scratch against the loopback test servers.
# Nothing goes to Telegram unless --send-test.
#
# One JSON line a check on standard output, {ts, prog, event "check",
# check, ok, message, fix when it fails, and the figures}, then a summary
# line; every line is built by jq, never by hand-quoting.  Exit 0 when
# every check passed, 1 when one failed, 64 bad arguments, 78 when it
# cannot run (no jq or sqlite3, no scratch directory) or a program found
# its configuration unusable, 75 when a program said try again later;
# contracts.md's order: 75, then 78, then 1.
#
# Why a POSIX sh script in src/, built by make like the C programs: it is
# one of the programs (installed beside them in BINDIR, with its man
# page), not a developer's tool of scripts/; make substitutes SHAREDIR,
# BINDIR, SYSCONFDIR and the tree it was built in.  Run from the tree's
# bin/ (or build/san/bin), it uses the tree (its scripts/, tests/, crontab/)
# and the programs next to it; installed, it uses SHAREDIR and BINDIR.
set -u
prog=bt-preflight
SHAREDIR='@SHAREDIR@'
BINDIR='@BINDIR@'
SYSCONFDIR='@SYSCONFDIR@'
TREE='@TREE@'

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { _rc=$1; shift; say "$*"; exit "$_rc"; }
usage() {
	echo "usage: bt-preflight [-k] [-S sysconfdir] [-u user] [--bin dir] [--scratch dir] [--only list] [--skip list] [--send-test]"
}
bad_usage() { [ $# = 0 ] || say "$*"; usage >&2; exit 64; }

here=$(cd "$(dirname "$0")" && pwd) || exit 70
case $TREE in
@*)	# src/bt-preflight.sh itself, not built: the tree around it.
	TREE=$(cd "$here/.." && pwd) || exit 70
	share=$TREE bin=$TREE/bin ;;
'')	share=$SHAREDIR bin=$BINDIR ;;
*)	if [ -f "$TREE/src/bt-preflight.sh" ]; then
		share=$TREE bin=$here
	else
		share=$SHAREDIR bin=$BINDIR
	fi ;;
esac
case $SYSCONFDIR in @*) SYSCONFDIR=/etc ;; esac

groups="user store recovery isolation scheduling rate_limit telegram"
groups="$groups secrets directories capacity dry_run"
keep='' sysconfdir=$SYSCONFDIR opt_user='' scratch_parent=${TMPDIR:-/tmp}
only='' skip='' send_test=''
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-k) keep=1; shift ;;
	-S | -u | --bin | --scratch | --only | --skip)
		[ $# -ge 2 ] || bad_usage "$1 needs a value"
		case $1 in
		-S) sysconfdir=$2 ;;
		-u) opt_user=$2 ;;
		--bin) bin=$2 ;;
		--scratch) scratch_parent=$2 ;;
		--only) only=$(printf '%s' "$2" | tr ',' ' ') ;;
		--skip) skip=$(printf '%s' "$2" | tr ',' ' ') ;;
		esac
		shift 2 ;;
	--send-test) send_test=--send-test; shift ;;
	*) bad_usage "unknown argument: $1" ;;
	esac
done
for g in $only $skip; do
	case " $groups " in
	*" $g "*) ;;
	*) bad_usage "unknown check '$g' (one of: $groups)" ;;
	esac
done
case $sysconfdir in /*) ;; *) bad_usage "-S $sysconfdir: not an absolute path" ;; esac
wanted() {
	[ -z "$only" ] || case " $only " in *" $1 "*) ;; *) return 1 ;; esac
	case " $skip " in *" $1 "*) return 1 ;; esac
	return 0
}

# Whatever the checks find, these two build and read every line.
for t in jq sqlite3; do
	command -v $t >/dev/null 2>&1 ||
	    die 78 "$t is not installed (apt-get install $t); nothing checked"
done

# The host's facts, from the environment so that the tests can point
# elsewhere (bt-preflight(1), ENVIRONMENT).
localtime=${BT_PREFLIGHT_LOCALTIME:-/etc/localtime}
proc=${BT_PREFLIGHT_PROC:-/proc}
writer_max=${BT_PREFLIGHT_WRITER_MAX:-1}
case $writer_max in
'' | *[!0-9.]* | *.*.* | .* | *.) die 78 "BT_PREFLIGHT_WRITER_MAX '$writer_max' is not seconds" ;;
esac

# ------------------------------------------------------------ values
# ic KEY: a value install-cron recorded in SYSCONFDIR/bt/install.conf
# (read, never sourced).
instconf=$sysconfdir/bt/install.conf
ic() {
	[ -r "$instconf" ] || return 1
	sed -n "s/^$1=//p" "$instconf" | tail -1 | grep .
}
# file_get KEY FILE: KEY's value in a bt.conf-style FILE, parsed as
# bt_conf.c does (trimmed, an optional `export', matching quotes
# stripped, the last line winning); 1 when absent.
file_get() {
	[ -r "$2" ] || return 1
	awk -v k="$1" '
	{ sub(/^[ \t\r]+/, ""); sub(/[ \t\r]+$/, "") }
	$0 == "" || /^#/ { next }
	/^export[ \t]/ { sub(/^export[ \t]+/, "") }
	{
		i = index($0, "=")
		if (i == 0)
			next
		key = substr($0, 1, i - 1)
		sub(/[ \t]+$/, "", key)
		if (key != k)
			next
		v = substr($0, i + 1)
		sub(/^[ \t]+/, "", v)
		n = length(v)
		q = substr(v, 1, 1)
		if (n >= 2 && (q == "\"" || q == "'\''") && substr(v, n, 1) == q)
			v = substr(v, 2, n - 2)
		val = v
		found = 1
	}
	END { if (found) print val; exit !found }' "$2"
}
# example KEY: KEY's default, from the bt.conf.example that make
# generates from bt_conf.c's key table ("#KEY=default").
example() {
	for _f in "$share/etc/bt.conf.example" \
	    "$sysconfdir/bt/bt.conf.example"; do
		[ -r "$_f" ] || continue
		sed -n "s/^#$1=//p" "$_f" | tail -1
		return 0
	done
	return 1
}
# conf KEY DEFAULT: as the programs see KEY: the environment (even
# empty), then BT_CONF, then the key table's default (or DEFAULT when no
# example is installed).  Never used for a secret.
conf() {
	if eval "[ -n \"\${$1+set}\" ]"; then
		eval "printf '%s\\n' \"\$$1\""
	elif file_get "$1" "$BT_CONF"; then
		:
	elif _d=$(example "$1"); then
		printf '%s\n' "$_d"
	else
		printf '%s\n' "${2-}"
	fi
}

# What cron's jobs see: the crontab sets BT_HOME and BT_CONF from
# install.conf, and they override bt.conf.  So do they here, unless the
# environment names them; and they are exported for the programs.
[ -n "${BT_CONF:-}" ] || BT_CONF=$(ic BT_CONF) || BT_CONF=$sysconfdir/bt/bt.conf
export BT_CONF
if [ -z "${BT_HOME:-}" ]; then
	BT_HOME=$(ic BT_HOME) || BT_HOME=$(file_get BT_HOME "$BT_CONF") ||
	    BT_HOME=/var/lib/bt
fi
export BT_HOME
user=$opt_user
[ -n "$user" ] || user=$(ic BT_USER) || user=bt
db=$(conf BT_DB)
[ -n "$db" ] || db=$BT_HOME/db/crypto_agent.db
state=$(conf BT_STATE)
[ -n "$state" ] || state=$BT_HOME/db/bt_state.db
crondir=$(ic CRONDIR) || crondir=$sysconfdir/cron.d
cronfile=$crondir/bt

# ------------------------------------------------------------ output
worst=0 nchecks=0 failed=''
# worse CODE: the run's exit code so far, in contracts.md's order.
worse() {
	case $1:$worst in
	75:* | *:75) worst=75 ;;
	78:* | *:78) worst=78 ;;
	0:0) ;;
	*) worst=1 ;;
	esac
}
# code RC: a program's exit status as a check's: 75 and 78 say the check
# could not be made (try later, configuration); anything else but 0 is a
# failed check (69, Binance or Telegram unreachable, included).
code() {
	case $1 in 0 | 75 | 78) echo "$1" ;; *) echo 1 ;; esac
}
now_ts() {
	if [ -n "${BT_NOW:-}" ]; then
		date -u -d "$BT_NOW" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
		    printf '%s\n' "$BT_NOW"
	else
		date -u +%Y-%m-%dT%H:%M:%S.%3NZ
	fi
}
# emit CHECK CODE MESSAGE FIX [EXTRA]: one check line.  CODE 0 passes;
# EXTRA is a JSON object of figures merged under the standard fields.
emit() {
	jq -n -c --arg ts "$(now_ts)" --arg check "$1" --argjson code "$2" \
	    --arg message "$3" --arg fix "${4-}" --argjson x "${5:-{\}}" '
	    $x + {ts: $ts, prog: "bt-preflight", event: "check",
	    check: $check, ok: ($code == 0), message: $message}
	    + (if $code == 0 then {} else {fix: $fix} end)
	    | {ts, prog, event, check, ok, message} + .' ||
	    die 70 "jq failed to build the $1 line"
	nchecks=$((nchecks + 1))
	[ "$2" = 0 ] || failed="$failed $1"
	worse "$2"
}
# lastline FILE: a file's last non-empty line, for a message.
lastline() { grep . "$1" 2>/dev/null | tail -1 | cut -c1-300; }
# hb BYTES: a size a person reads.
hb() {
	awk -v b="$1" 'BEGIN {
		split("B kB MB GB TB", u, " ")
		i = 1
		while (b >= 1000 && i < 5) { b /= 1000; i++ }
		printf(i == 1 ? "%d %s" : "%.1f %s", b, u[i])
	}'
}
# passthrough CHECKGROUP FILE RC FIELD: a program's own check lines as
# ours: its ok, its message (or reason) and fix, the line under "detail".
passthrough() {
	_rc=$(code "$3")
	jq -c 'select(has("check") and has("ok"))' "$2" >"$2.checks" 2>/dev/null ||
	    : >"$2.checks"
	if [ ! -s "$2.checks" ]; then
		# No line to go by is a failure even after an exit 0.
		[ "$_rc" != 0 ] || _rc=1
		emit "$1" "$_rc" "$1: no check line (exit $3): $(lastline "$2.err")" \
		    "read the line above; $5"
		return
	fi
	while IFS= read -r _l; do
		_c=$(printf '%s' "$_l" | jq -r '.check')
		_ok=$(printf '%s' "$_l" | jq -r '.ok')
		_m=$(printf '%s' "$_l" | jq -r --arg f "$4" '.[$f] // .message // ""')
		_fx=$(printf '%s' "$_l" | jq -r '.fix // ""')
		_d=$(printf '%s' "$_l" | jq -c '{detail: del(.ts, .prog, .event, .check, .ok, .reason, .message, .fix)}')
		if [ "$_ok" = true ]; then
			emit "$_c" 0 "$_m" '' "$_d"
		else
			[ "$_rc" != 0 ] || _rc=1
			emit "$_c" "$_rc" "$_m" "${_fx:-$5}" "$_d"
		fi
	done <"$2.checks"
}

# ------------------------------------------------------------ scratch
[ -d "$scratch_parent" ] ||
    die 78 "--scratch $scratch_parent: no such directory; nothing checked"
W=$(umask 077 && mktemp -d "$scratch_parent/bt-preflight.XXXXXX") ||
    die 78 "cannot make a scratch directory in $scratch_parent; nothing checked"
wpid=''
# shellcheck disable=SC2317  # run by the trap
cleanup() {
	[ -z "$wpid" ] || kill "$wpid" 2>/dev/null
	if [ -n "$keep" ]; then
		say "kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 75' HUP INT TERM
cd "$W" || exit 70

# ------------------------------------------------------------ the checks
check_user() {
	me=$(id -un)
	if [ "$me" = "$user" ]; then
		emit user 0 "runs as $user, the bt user"
	else
		emit user 1 "runs as $me, not as the bt user $user: the programs' checks see what $me may read and write, not what cron's jobs may" \
		    "run it as the bt user: runuser -u $user -- $0 (or name the bt user with -u)"
	fi
}

# The store: integrity (quick_check) and schema, by bt-validate -n, which
# opens it read-only and writes nothing.  Its other findings (staleness,
# coverage, gaps, sanity) are the hourly validation's business.
check_store() {
	rc=0
	"$bin/bt-validate" -n --integrity quick >validate.out 2>validate.err || rc=$?
	case $rc in
	0 | 1) ;;
	*)	emit store "$(code $rc)" "bt-validate could not check $db (exit $rc): $(lastline validate.err)" \
		    "run bt-validate -n --integrity quick as the bt user and read its error"
		return ;;
	esac
	jq -c 'select(.check == "integrity" or .check == "schema" or .event == "pairs")' \
	    validate.out >store.findings 2>/dev/null || : >store.findings
	x=$(jq -c -s --arg db "$db" 'map(select(.event == "summary"))[0] // {}
	    | {store: $db, integrity: .integrity, pairs: .scanned_pairs}' \
	    validate.out 2>/dev/null) || x='{}'
	if [ ! -s store.findings ]; then
		emit store 0 "$db: quick_check ok, and the schema is bt's" '' "$x"
		return
	fi
	n=$(wc -l <store.findings)
	m=$(jq -r -s 'map(.message) | .[:3] | join("; ")' store.findings)
	f=$(jq -r -s 'map(.detail.fix // empty) | join("; ")' store.findings)
	if jq -e -s 'any(.check == "integrity" or .severity == "CRITICAL")' \
	    store.findings >/dev/null; then
		f="restore the newest good backup and re-fetch what came after it: bt-backup --restore | bt-fetch --gaps (bt-backup(1))${f:+; $f}"
	fi
	emit store 1 "$db: $n finding(s): $m" "$f" \
	    "$(printf '%s' "$x" | jq -c --slurpfile f store.findings '. + {findings: $f}')"
}

# scratch_restore: the newest backup, copied with the state backup of its
# day (which holds bt-backup's record of it) into a scratch BT_HOME, and
# restored there by bt-backup --restore, which checks it as every restore
# does; then integrity_check.  Once; sets R_code (0 ok), R_msg, R_fix,
# R_db and R_x.  The live trader's pid file and heartbeat are not the
# scratch store's: they are emptied, or the restore would wait for it.
R_done=''
scratch_restore() {
	[ -z "$R_done" ] || return 0
	R_done=1 R_code=1 R_fix='' R_x='{}'
	bk=$BT_HOME/backups
	newest=$(for f in "$bk"/db_backup_*.db; do
		printf '%s\n' "${f##*/}"
	    done | grep -E '^db_backup_(weekly_)?[0-9]{8}\.db$' |
	    sed 's/^.*_\([0-9]\{8\}\)\.db$/\1 &/' | sort -k1,1 -k2,2r |
	    tail -1 | cut -d' ' -f2)
	if [ -z "$newest" ]; then
		R_msg="no backup in $bk"
		R_fix="take one: bt-backup as the bt user (the crontab's daily backup runs at BT_BACKUP_SLOT, 03:00 UTC)"
		return 0
	fi
	day=$(printf '%s' "$newest" | sed 's/.*_\([0-9]\{8\}\)\.db$/\1/')
	size=$(stat -c %s "$bk/$newest")
	avail=$(df -Pk "$W" | awk 'NR == 2 { printf("%.0f\n", $4 * 1024) }')
	R_x=$(jq -n -c --arg b "$newest" --argjson s "$size" '{backup: $b, bytes: $s}')
	if [ "$avail" -lt $((2 * size + 1048576)) ]; then
		R_msg="the scratch directory $scratch_parent has $(hb "$avail") free; a restore of $newest ($(hb "$size")) needs twice that"
		R_fix="give a scratch directory with room: --scratch DIR"
		return 0
	fi
	R=$W/restore
	mkdir -p "$R/db" "$R/backups" "$R/run" "$R/logs" "$R/results"
	if ! cp "$bk/$newest" "$R/backups/$newest" 2>restore.cp; then
		R_msg="cannot copy $bk/$newest into scratch: $(lastline restore.cp)"
		R_fix="the bt user must be able to read $bk"
		return 0
	fi
	[ ! -f "$bk/state_backup_$day.db" ] ||
	    cp "$bk/state_backup_$day.db" "$R/db/bt_state.db" 2>/dev/null ||
	    rm -f "$R/db/bt_state.db"
	R_db=$R/db/crypto_agent.db
	rc=0
	BT_HOME=$R BT_DB=$R_db BT_STATE=$R/db/bt_state.db BT_TRADER_PIDFILE='' \
	    BT_TRADER_HEARTBEAT='' BT_BACKUP_OFFSITE_DIR='' \
	    BT_BACKUP_OFFSITE_CMD='' \
	    "$bin/bt-backup" --restore >restore.out 2>restore.err || rc=$?
	why=$(jq -r -s 'map(select(.event == "backup_bad") | .message) | join("; ")' \
	    restore.out 2>/dev/null)
	if [ "$rc" != 0 ]; then
		R_code=$(code $rc)
		[ "$R_code" != 0 ] || R_code=1
		R_msg="the newest backup, $newest, does not restore (bt-backup --restore exit $rc): ${why:-$(lastline restore.err)}"
		R_fix="take a good backup now (bt-backup as the bt user), then find what damaged $newest: bt-backup --verify checks every backup, and the kernel log says whether the disk failed"
		return 0
	fi
	got=$(jq -r 'select(.event == "restore") | .backup' restore.out)
	case $got in
	"$newest" | db_backup_"$day".db | db_backup_weekly_"$day".db) ;;
	*)	R_msg="the newest backup, $newest, was skipped; $got restored instead: $why"
		R_fix="take a good backup now (bt-backup as the bt user); bt-backup --verify lists what is wrong with each"
		return 0 ;;
	esac
	ic_out=$(sqlite3 -readonly "$R_db" 'PRAGMA integrity_check' 2>&1 | head -3 | tr '\n' ' ')
	if [ "$ic_out" != "ok " ]; then
		R_msg="$newest restores, but the restored copy fails integrity_check: $ic_out"
		R_fix="take a good backup now (bt-backup as the bt user) and check the disk"
		return 0
	fi
	R_code=0
	R_msg="the newest backup, $newest ($(hb "$size")), restores in scratch (bt-backup --restore) and the copy passes integrity_check"
	R_x=$(printf '%s' "$R_x" | jq -c --slurpfile r restore.out '. + {restore_point: ([$r[] | select(.event == "restore")][0].restore_point)}')
}

check_recovery() {
	scratch_restore
	emit recovery "$R_code" "$R_msg" "$R_fix" "$R_x"
}

# Isolation: a backtest on the scratch restore while the preflight's own
# writer (tests/trader.py, the stand-in trader, taking run/write.lock as
# bt(7) asks of the live trader) commits to that copy: the backtest exits
# 0, the copy's candles (and pairs) hash the same before and after, and
# no commit started during the backtest waited longer than
# BT_PREFLIGHT_WRITER_MAX seconds.
check_isolation() {
	scratch_restore
	if [ "$R_code" != 0 ]; then
		emit isolation "$R_code" "no scratch restore to run the backtest on: $R_msg" "$R_fix"
		return
	fi
	if ! command -v python3 >/dev/null 2>&1; then
		emit isolation 1 "python3 is not installed: the preflight's writer is tests/trader.py" \
		    "apt-get install python3"
		return
	fi
	hash() { sqlite3 -readonly "$R_db" '.sha3sum candles' '.sha3sum pairs'; }
	hash >iso.before 2>&1
	rm -f iso.ready iso.mark iso.stop
	mkfifo iso.ready
	python3 "$share/tests/trader.py" --db "$R_db" --lock "$R/run/write.lock" \
	    --table bt_preflight_writes --tag preflight --until iso.stop \
	    --mark iso.mark --ready iso.ready >iso.writer 2>iso.writer.err &
	wpid=$!
	# shellcheck disable=SC2016  # $1 is the inner shell's
	if ! timeout 60 sh -c 'read -r r <"$1"' _ iso.ready; then
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
		wpid=''
		emit isolation 1 "the preflight's writer did not start: $(lastline iso.writer.err)" \
		    "run $share/tests/trader.py by hand on a copy of the store"
		return
	fi
	: >iso.mark
	brc=0
	BT_HOME=$R BT_DB=$R_db BT_STATE=$R/db/bt_state.db \
	    "$bin/bt-backtest" -d "$R_db" >iso.backtest 2>iso.backtest.err || brc=$?
	: >iso.stop
	wrc=0
	wait "$wpid" || wrc=$?
	wpid=''
	hash >iso.after 2>&1
	x=$(jq -c -s --argjson max "$writer_max" --argjson rc "$brc" '
	    (map(select(.commits))[0] // {}) as $w
	    | (map(select(.event == "summary"))[0] // {}) as $s
	    | {backtest_exit: $rc, symbols: $s.done, writer: $w, bound: $max}' \
	    iso.writer iso.backtest 2>/dev/null) || x='{}'
	if [ "$brc" != 0 ]; then
		emit isolation 1 "the backtest on the scratch restore exited $brc: $(lastline iso.backtest.err)" \
		    "run bt-backtest by hand and read its error (bt-backtest(1))" "$x"
	elif [ "$wrc" != 0 ]; then
		emit isolation 1 "the preflight's writer failed on the scratch restore while the backtest ran: $(lastline iso.writer.err)" \
		    "a reader must never make a writer fail: see bt(7), WRITING AND LOCKING" "$x"
	elif ! cmp -s iso.before iso.after; then
		emit isolation 1 "the backtest changed the candles of the scratch restore" \
		    "bt-backtest must open the store read-only (bt-backtest(1), Isolation): reinstall it" "$x"
	elif ! printf '%s' "$x" | jq -e '.writer.longest_during <= .bound' >/dev/null; then
		emit isolation 1 "$(printf '%s' "$x" | jq -r '"while the backtest ran, a commit of the writer waited \(.writer.longest_during) s, more than BT_PREFLIGHT_WRITER_MAX (\(.bound) s)"')" \
		    "find what holds the store's write lock or keeps the disk busy; a backtest only reads (bt(7), THE DAILY BACKTEST)" "$x"
	else
		emit isolation 0 "$(printf '%s' "$x" | jq -r '"a backtest of \(.symbols) symbols on the scratch restore ran while the preflight'"'"'s writer committed \(.writer.commits) times (\(.writer.during) during it, the longest waiting \(.writer.longest_during) s, at most \(.bound) s); the candles are unchanged"')" '' "$x"
	fi
}

# Scheduling: the cron file is what install-cron renders from the values
# it recorded; cron runs; the host's zone is UTC all year (cron runs the
# jobs on local time, and Debian's cron has no CRON_TZ); flock and timeout
# (with the options the crontab uses), nice and the six programs are on the
# crontab's PATH.
check_crontab() {
	if [ ! -f "$instconf" ]; then
		emit crontab 1 "no $instconf: install-cron has not run" \
		    "make install-cron BT_USER=bt (as root, in the source tree), or $share/scripts/install-cron BT_USER=bt"
		return
	fi
	mkdir -p render
	if ! "$share/scripts/install-cron" -o render -S "$sysconfdir" \
	    >render.out 2>render.err; then
		emit crontab 1 "install-cron cannot render the crontab from $instconf: $(lastline render.err)" \
		    "fix $instconf, or run install-cron again with the right values"
		return
	fi
	if [ ! -f "$cronfile" ]; then
		emit crontab 1 "no $cronfile: cron runs none of the jobs" \
		    "$share/scripts/install-cron (as root) installs it from $instconf"
		return
	fi
	if cmp -s render/bt.cron "$cronfile"; then
		emit crontab 0 "$cronfile is what install-cron renders from $instconf" '' \
		    "$(jq -n -c --arg f "$cronfile" '{cronfile: $f}')"
		return
	fi
	n=$(awk 'NR == FNR { a[FNR] = $0; na = FNR; next }
	    { if (!(FNR in a) || a[FNR] != $0) { print FNR; exit } nb = FNR }
	    END { if (nb < na) print nb + 1 }' render/bt.cron "$cronfile" | head -1)
	inst=$(sed -n "${n}p" "$cronfile" | cut -c1-120)
	want=$(sed -n "${n}p" render/bt.cron | cut -c1-120)
	emit crontab 1 "$cronfile differs from what install-cron renders from $instconf, from line $n: it has '$inst', install-cron renders '$want'" \
	    "put the values you want into install-cron's arguments and run it again (as root): make install-cron KEY=VALUE, or $share/scripts/install-cron KEY=VALUE; a change made by hand is lost at the next install-cron" \
	    "$(jq -n -c --arg f "$cronfile" --argjson n "$n" '{cronfile: $f, line: $n}')"
}

check_cron() {
	pids=''
	for c in "$proc"/[0-9]*/comm; do
		[ -r "$c" ] || continue
		case $(cat "$c" 2>/dev/null) in
		cron | crond)
			p=${c%/comm}
			pids="$pids ${p##*/}" ;;
		esac
	done
	if [ -n "$pids" ]; then
		emit cron 0 "cron is running (pid$pids)"
	else
		emit cron 1 "no cron process (cron or crond) is running: no job starts" \
		    "apt-get install cron, and start it: systemctl enable --now cron"
	fi
}

check_timezone() {
	if [ ! -e "$localtime" ]; then
		emit timezone 0 "no $localtime: the C library, and cron, use UTC"
		return
	fi
	zone=$(readlink -f "$localtime" 2>/dev/null | sed 's|.*/zoneinfo/||')
	y=$(date -u +%Y)
	offs=''
	for d in "$y-01-15" "$y-07-15" "$((y + 1))-01-15" "$((y + 1))-07-15"; do
		t=$(date -u -d "$d 12:00" +%s)
		offs="$offs $(TZ=":$localtime" date -d "@$t" +%z)"
	done
	# shellcheck disable=SC2086  # one offset a word
	if [ "$(printf '%s\n' $offs | sort -u)" = "+0000" ]; then
		emit timezone 0 "the host runs in UTC ($localtime: ${zone:-UTC})"
	else
		emit timezone 1 "the host's zone is ${zone:-$localtime} (UTC offsets$offs in January and July), not UTC: cron would start every job at local times, and Debian's cron has no CRON_TZ" \
		    "timedatectl set-timezone Etc/UTC (or ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime), then restart cron"
	fi
}

check_tools() {
	cpath=$(sed -n 's/^PATH=//p' "$cronfile" 2>/dev/null | tail -1)
	where="the crontab's PATH"
	[ -n "$cpath" ] || { cpath=$PATH; where="PATH (no crontab)"; }
	missing=''
	for t in flock timeout nice sh bt-fetch bt-validate bt-backtest \
	    bt-backup bt-digest bt-watchdog; do
		PATH=$cpath command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -z "$missing" ]; then
		: >tools.lock
		if ! PATH=$cpath flock -n -o -E 75 tools.lock true 2>tools.err; then
			missing=" flock (with -n -o -E, util-linux 2.26 or later)"
		elif ! PATH=$cpath timeout -k 1 5 true 2>tools.err; then
			missing=" timeout (with -k, GNU coreutils)"
		fi
	fi
	if [ -z "$missing" ]; then
		emit tools 0 "flock, timeout, nice and the six programs are on $where, $cpath"
	else
		emit tools 1 "not on $where ($cpath):$missing" \
		    "apt-get install util-linux coreutils for flock and timeout; the programs come with make install, in the BINDIR install-cron names" \
		    "$(jq -n -c --arg p "$cpath" '{path: $p}')"
	fi
}

# Rate limiting: bt-fetch --check (Binance answers, the weight header
# leaves room, no ban remembered, the clock within BT_CLOCK_SKEW_MAX;
# FRED when a key is configured).  A remembered ban is a failed check: it
# exits 1 for one, not 75.
check_rate_limit() {
	rc=0
	"$bin/bt-fetch" --check >fetch.out 2>fetch.err || rc=$?
	cp fetch.err fetch.out.err
	passthrough binance fetch.out "$rc" reason \
	    "run bt-fetch --check as the bt user (bt-fetch(1), Checking before going live)"
}

# Telegram: bt-digest --check (the token, getMe, getChat of every
# severity's chat); --send-test passes through, nothing is sent without.
check_telegram() {
	rc=0
	"$bin/bt-digest" --check $send_test >digest.out 2>digest.err || rc=$?
	cp digest.err digest.out.err
	passthrough telegram digest.out "$rc" message \
	    "run bt-digest --check as the bt user (bt-digest(1))"
}

# Secrets: each token or key file configured is a regular file owned by
# the bt user and readable by it alone; a bt.conf that holds a secret
# itself is too (the programs refuse it otherwise).  Only the names of the
# files are read from bt.conf, never a secret.
check_secrets() {
	uid=$(id -u "$user" 2>/dev/null) || {
		emit secrets 1 "the bt user $user does not exist" \
		    "useradd --system bt, or name the bt user with -u"
		return
	}
	files=''
	for k in TELEGRAM_BOT_TOKEN_FILE FRED_API_KEY_FILE; do
		f=$(conf "$k")
		[ -z "$f" ] || files="$files $k=$f"
	done
	if grep -qE '^[[:space:]]*(export[[:space:]]+)?(TELEGRAM_BOT_TOKEN|FRED_API_KEY)[[:space:]]*=' \
	    "$BT_CONF" 2>/dev/null; then
		files="$files BT_CONF=$BT_CONF"
	fi
	if [ -z "$files" ]; then
		emit secrets 0 "no token or key file is configured (TELEGRAM_BOT_TOKEN_FILE, FRED_API_KEY_FILE)"
		return
	fi
	for kf in $files; do
		k=${kf%%=*} f=${kf#*=}
		x=$(jq -n -c --arg k "$k" --arg f "$f" '{key: $k, file: $f}')
		if [ ! -e "$f" ]; then
			emit secrets 1 "$k names $f, which does not exist" \
			    "install -m0600 -o $user -g $user /dev/stdin $f, and paste it" "$x"
			continue
		fi
		if [ ! -f "$f" ]; then
			emit secrets 1 "$k names $f, which is not a regular file" \
			    "make $f a regular file, mode 0600, owned by $user" "$x"
			continue
		fi
		st=$(stat -L -c '%u %a %U' "$f")
		# shellcheck disable=SC2086  # three words
		set -- $st
		probs=''
		[ "$1" = "$uid" ] || probs="owned by $3, not $user"
		case $2 in
		?00) ;;
		*) probs="${probs:+$probs; }mode 0$2: others may read it" ;;
		esac
		if [ -z "$probs" ]; then
			emit secrets 0 "$f ($k) is owned by $user, mode 0$2" '' "$x"
		else
			emit secrets 1 "$f ($k): $probs" \
			    "chown $user $f && chmod 0600 $f" "$x"
		fi
	done
}

# Directories: every directory under BT_HOME, BT_HOME too, is owned by the
# bt user, writable by it, and writable by neither its group nor others.
check_directories() {
	uid=$(id -u "$user" 2>/dev/null) || {
		emit directories 1 "the bt user $user does not exist" \
		    "useradd --system bt, or name the bt user with -u"
		return
	}
	if [ ! -d "$BT_HOME" ]; then
		emit directories 1 "BT_HOME $BT_HOME is not a directory" \
		    "install-cron creates it (as root): make install-cron"
		return
	fi
	find "$BT_HOME" -type d -printf '%U %m %p\n' >dirs 2>dirs.err
	bad=$(awk -v uid="$uid" '{
		m = substr($2, length($2) - 2)
		u = substr(m, 1, 1); g = substr(m, 2, 1); o = substr(m, 3, 1)
		p = substr($0, index($0, $3))
		why = ""
		if ($1 != uid) why = "not owned by the bt user"
		else if (u !~ /[2367]/) why = "not writable by the bt user"
		if (g ~ /[2367]/ || o ~ /[2367]/)
			why = why (why == "" ? "" : ", ") "writable by " \
			    (g ~ /[2367]/ ? (o ~ /[2367]/ ? "group and others" : "its group") : "others")
		if (why != "") printf("%s (mode %s, %s)\n", p, $2, why)
	}' dirs)
	n=$(wc -l <dirs)
	if [ -s dirs.err ]; then
		emit directories 1 "cannot read every directory under $BT_HOME: $(lastline dirs.err)" \
		    "chown -R $user $BT_HOME (as root)"
	elif [ -z "$bad" ]; then
		emit directories 0 "the $n directories under $BT_HOME are the bt user's alone to write"
	else
		m=$(printf '%s\n' "$bad" | head -5 | tr '\n' ';' | sed 's/;$//; s/;/; /g')
		emit directories 1 "$(printf '%s\n' "$bad" | wc -l) of $n directories under $BT_HOME: $m" \
		    "as root: chown $user DIR && chmod 0750 DIR for each one named" \
		    "$(printf '%s\n' "$bad" | jq -R -s -c '{directories: split("\n") | map(select(length > 0))}')"
	fi
}

# Capacity, the seed's section 2 made real, per filesystem: one year of
# candles and indicator rows of the configured pairs at the store's own
# bytes a row (dbstat over the row counts; bt's benchmark figures, 69.5
# and 124.4 bytes, for a store without rows), plus the store's other
# tables as they are, or the store as it is when larger; the backups kept,
# 3 daily and 4 weekly copies (7 files: once the Sunday's daily is rotated
# out, every weekly is a file of its own), and 3 of the state file; and
# the larger of a vacuum's temporary copy (a VACUUM rewrites the store
# through its WAL: the store's size, none for an incremental store) and a
# restore's (the damaged store set aside: the store's size).  A
# filesystem fails when its free space is under twice what it will hold.
check_capacity() {
	nsym=$(conf BT_SYMBOLS | tr ',' ' ' | wc -w)
	# No bt.conf.example to say so: the key table's 60 symbols.
	[ "$nsym" != 0 ] || example BT_SYMBOLS >/dev/null || nsym=60
	tfs=$(conf BT_TIMEFRAMES '1d 4h 1h 15m' | tr ',' ' ')
	ind=$(conf BT_INDICATORS 1)
	itfs=$(conf BT_IND_TIMEFRAMES '1d 4h 1h' | tr ',' ' ')
	cy=0 iy=0
	for tf in $tfs; do
		case $tf in
		1d) n=365 ;; 4h) n=2190 ;; 1h) n=8760 ;; 15m) n=35040 ;; *) n=0 ;;
		esac
		cy=$((cy + nsym * n))
		case " $itfs " in *" $tf "*) [ "$ind" != 1 ] || iy=$((iy + nsym * n)) ;; esac
	done
	fb=0 cb=0 cr=0 ib=0 ir=0 av=0
	if [ -f "$db" ]; then
		fb=$(stat -c %s "$db")
		q="SELECT (SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'candles'), (SELECT count(*) FROM candles), (SELECT auto_vacuum FROM pragma_auto_vacuum)"
		if r=$(sqlite3 -readonly -separator ' ' "$db" "$q" 2>capacity.err); then
			# shellcheck disable=SC2086  # the query's columns
			set -- $r
			cb=$1 cr=$2 av=$3
		fi
		if r=$(sqlite3 -readonly -separator ' ' "$db" \
		    "SELECT (SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'ind'), (SELECT count(*) FROM ind)" 2>/dev/null); then
			# shellcheck disable=SC2086  # the query's columns
			set -- $r
			ib=$1 ir=$2
		fi
	fi
	sb=0
	[ ! -f "$state" ] || sb=$(stat -c %s "$state")
	# shellcheck disable=SC2046  # the four figures
	set -- $(awk -v fb="$fb" -v cb="$cb" -v cr="$cr" -v ib="$ib" -v ir="$ir" \
	    -v cy="$cy" -v iy="$iy" 'BEGIN {
		bc = cr > 0 ? cb / cr : 69.5
		bi = ir > 0 ? ib / ir : 124.4
		other = fb - cb - ib
		if (other < 0) other = 0
		y = cy * bc + iy * bi + other
		printf("%.0f %.1f %.1f %.0f\n", fb > y ? fb : y, bc, bi, y)
	}')
	store=$1 bc=$2 bi=$3 year=$4
	measured=false
	[ "$cr" = 0 ] || measured=true
	backups=$((7 * store + 3 * sb))
	vac=$store
	[ "$av" != 2 ] || vac=0
	temp=$store
	[ "$vac" -le "$temp" ] || temp=$vac
	offsite=$(conf BT_BACKUP_OFFSITE_DIR)
	# part NAME DIR BYTES, one a line, then grouped by mount point.
	{
		echo "store $(dirname "$db") $store"
		echo "temporary $(dirname "$db") $temp"
		echo "backups $BT_HOME/backups $backups"
		[ -z "$offsite" ] || echo "offsite $offsite $((4 * store))"
	} >parts
	: >parts.fs
	while read -r name dir bytes; do
		d=$dir
		while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
		df -Pk "$d" | awk -v n="$name" -v p="$dir" -v b="$bytes" \
		    'NR == 2 { printf("%s %.0f %s %s %s\n", $6, $4 * 1024, n, p, b) }' >>parts.fs
	done <parts
	cut -d' ' -f1 parts.fs | sort -u >mounts
	while read -r mnt; do
		x=$(awk -v m="$mnt" '$1 == m' parts.fs | jq -R -s -c \
		    --argjson cy "$cy" --argjson iy "$iy" --argjson bc "$bc" \
		    --argjson bi "$bi" --argjson nsym "$nsym" \
		    --argjson measured "$measured" --argjson year "$year" '
		    split("\n") | map(select(length > 0) | split(" ")) as $p
		    | {filesystem: $p[0][0], free_bytes: ($p[0][1] | tonumber),
		       parts: ($p | map({(.[2]): (.[4] | tonumber)}) | add),
		       paths: ($p | map(.[3]) | unique),
		       need_bytes: ($p | map(.[4] | tonumber) | add),
		       symbols: $nsym, candles_a_year: $cy,
		       indicator_rows_a_year: $iy, bytes_per_candle: $bc,
		       bytes_per_indicator_row: $bi, measured: $measured,
		       store_a_year_bytes: $year}')
		need=$(printf '%s' "$x" | jq '.need_bytes')
		free=$(printf '%s' "$x" | jq '.free_bytes')
		what=$(printf '%s' "$x" | jq -r '.parts | to_entries | map("\(.key) \(.value)") | .[]' |
		    while read -r k v; do printf '%s %s, ' "$k" "$(hb "$v")"; done | sed 's/, $//')
		src="the store's own bytes a row ($bc a candle, $bi an indicator row)"
		[ "$measured" = true ] || src="bt's benchmark bytes a row ($bc a candle, $bi an indicator row: the store has no candles yet)"
		m="$mnt ($(printf '%s' "$x" | jq -r '.paths | join(", ")')) will hold $(hb "$need"): $what; a year of $cy candles and $iy indicator rows for $nsym symbols at $src. It has $(hb "$free") free"
		if [ "$free" -lt $((2 * need)) ]; then
			emit capacity 1 "$m, less than twice that" \
			    "free space on $mnt, or move BT_HOME (or its backups/) to a filesystem with $(hb $((2 * need))) free" "$x"
		else
			emit capacity 0 "$m, at least twice that" '' "$x"
		fi
	done <mounts
}

# Memory and CPU against the seed's section 2 (RAM: about 1.0 GB needed
# for the live trader, its backtest and the OS, 1.5 GB recommended; CPU:
# 4 cores minimum, 8 recommended): reported, never failed on; bt's own
# programs stay under 64 MB each (make bench).
check_resources() {
	mem=$(awk '/^MemTotal:/ { printf("%.0f\n", $2 * 1024) }' /proc/meminfo 2>/dev/null)
	mav=$(awk '/^MemAvailable:/ { printf("%.0f\n", $2 * 1024) }' /proc/meminfo 2>/dev/null)
	cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
	x=$(jq -n -c --argjson m "${mem:-0}" --argjson a "${mav:-0}" \
	    --argjson c "${cpus:-0}" '{memory_bytes: $m,
	    memory_available_bytes: $a, cpus: $c,
	    seed: {memory_needed_bytes: 1000000000,
	    memory_recommended_bytes: 1500000000, cpus_minimum: 4,
	    cpus_recommended: 8}}')
	m=$(printf '%s' "$x" | jq -r '
	    def gb: . / 1e8 | round / 10 | tostring + " GB";
	    def verdict(v; need; rec): if v >= rec then "enough"
	        elif v >= need then "above its minimum, below its recommendation"
	        else "below its minimum" end;
	    "memory \(.memory_bytes | gb) (\(.memory_available_bytes | gb) available; the seed asks 1.0 GB, 1.5 GB recommended): \(verdict(.memory_bytes; .seed.memory_needed_bytes; .seed.memory_recommended_bytes)); \(.cpus) CPUs (the seed asks 4, 8 recommended): \(verdict(.cpus; 4; 8)); reported, not checked"')
	emit resources 0 "$m" '' "$x"
}

# The seed's end-to-end one-hour dry run: the installed programs under
# the crontab, replayed minute by minute from 22:55 to 23:55 (the first
# update, validation, backup and backtest slot) against the loopback test
# servers, in scratch, with an environment of its own (env -i): nothing
# reaches the live files or the network.
check_dry_run() {
	if ! command -v python3 >/dev/null 2>&1; then
		emit dry_run 1 "python3 is not installed: the test servers need it" \
		    "apt-get install python3"
		return
	fi
	rc=0
	env -i PATH="$PATH" HOME="$W" TMPDIR="$W" LC_ALL=C TZ=UTC \
	    ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
	    ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
	    timeout -k 10 600 "$share/scripts/dry-run" --bin "$bin" --hour \
	    --check ${keep:+-k} >dry.out 2>dry.err || rc=$?
	x=$(jq -c --arg s "$share/scripts/dry-run" --arg b "$bin" '
	    select(.event == "dry_run") | del(.event, .ok, .message)
	    + {script: $s, bin: $b}' dry.out 2>/dev/null | tail -1)
	m=$(jq -r 'select(.event == "dry_run") | .message' dry.out 2>/dev/null | tail -1)
	if [ "$rc" = 0 ]; then
		emit dry_run 0 "the one-hour dry run: $m" '' "$x"
	else
		emit dry_run 1 "the one-hour dry run failed (exit $rc): ${m:-$(lastline dry.err)}" \
		    "run $share/scripts/dry-run --bin $bin --hour -k and read the kept logs" "${x:-{\}}"
	fi
}

# ------------------------------------------------------------ the run
if wanted user; then check_user; fi
if wanted store; then check_store; fi
if wanted recovery; then check_recovery; fi
if wanted isolation; then check_isolation; fi
if wanted scheduling; then
	check_crontab
	check_cron
	check_timezone
	check_tools
fi
if wanted rate_limit; then check_rate_limit; fi
if wanted telegram; then check_telegram; fi
if wanted secrets; then check_secrets; fi
if wanted directories; then check_directories; fi
if wanted capacity; then
	check_capacity
	check_resources
fi
if wanted dry_run; then check_dry_run; fi

jq -n -c --arg ts "$(now_ts)" --argjson n "$nchecks" --arg f "$failed" \
    --argjson exit "$worst" '{ts: $ts, prog: "bt-preflight",
    event: "summary", checks: $n, failed: ($f | split(" ") |
    map(select(length > 0))), exit: $exit}'
exit "$worst"
