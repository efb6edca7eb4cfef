#!/bin/sh
# The README's Install section and bt-crontab(5), run into scratch roots:
# make install; install-cron, what it refuses (writing nothing), what it
# writes, what a second run without arguments and every install-cron
# example of the man page make of it, a failed write taken back; as root,
# the whole sequence without DESTDIR and one cron line run as nobody the
# way cron runs it; then uninstall-cron and uninstall leave nothing.
. "$(dirname "$0")/lib.sh"

umask 022
BIN=$(dirname "$(command -v bt-fetch)")
PROGS="bt-fetch bt-validate bt-backtest bt-backup bt-digest bt-watchdog"
IC=$BT_SRC/scripts/install-cron
G=$(id -gn nobody 2>/dev/null || echo nobody)
# make as an operator runs it: nothing inherited from the suite's make
# (make test-san passes B, O and CFLAGS down through MAKEFLAGS).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
# mk ARGS: make in the source tree.  `-o all' and B: the suite's programs
# (the sanitizer build under make test-san) are installed as they are,
# never rebuilt into the source tree while the suite runs.
mk() { make --no-print-directory -s -C "$BT_SRC" -o all B="$BIN" "$@"; }
# snap DIR: every path under DIR with its type and mode, and each file's
# size and mtime: equal snapshots mean nothing was written.
snap() {
	find "$1" \( -type d -printf '%p %y %m\n' \) -o -printf '%p %y %m %s %T@\n' |
	    sort
}
# left DIR: what under DIR is not a directory.
left() { find "$1" ! -type d | sort; }
# As root, the unprivileged steps run as nobody, who must reach the trash.
if [ "$(id -u)" = 0 ]; then
	AS="runuser -u nobody --"
	chmod 0711 "$TRASH"
else
	AS=
fi
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # skip $2"
}

R=$TRASH/root R2=$TRASH/root2

test_expect_success 'make install: programs 0755, man pages and the example 0644' '
	mk install DESTDIR="$R" PREFIX=/opt/bt &&
	for p in $PROGS bt-preflight; do
		test "$(stat -c %a "$R/opt/bt/bin/$p")" = 755 || exit 1
	done &&
	test "$(stat -c %a "$R/opt/bt/share/man/man1/bt-preflight.1")" = 644 &&
	test "$(stat -c %a "$R/opt/bt/share/man/man5/bt-crontab.5")" = 644 &&
	test "$(stat -c %a "$R/opt/bt/share/man/man1/bt-fetch.1")" = 644 &&
	test "$(stat -c %a "$R/etc/bt/bt.conf.example")" = 644 &&
	cmp "$BT_SRC/etc/bt.conf.example" "$R/etc/bt/bt.conf.example" &&
	test "$(ls -A "$R/etc/bt")" = bt.conf.example
'

test_expect_success 'make install: share/bt holds the crontab, its renderer and the test servers, and they work from there' '
	S=$R/opt/bt/share/bt &&
	for f in crontab/bt crontab/logrotate scripts/render-cron \
	    scripts/install-cron scripts/dry-run scripts/equity.gp \
	    tests/srvlib.py tests/binance_server.py tests/telegram_server.py \
	    tests/fred_server.py tests/ping_server.py tests/trader.py \
	    tests/data/fred.json tests/data/vision/BTCUSDT-1h-2025-05.csv; do
		test -f "$S/$f" || { echo "missing $f"; exit 1; }
	done &&
	test "$(ls "$S/tests/data/vision")" = "$(ls "$BT_SRC/tests/data/vision" | grep "\.csv$")" &&
	test "$(stat -c %a "$S/scripts/render-cron")" = 755 &&
	mkdir from-share from-tree &&
	"$S/scripts/install-cron" -o from-share -S /etc BINDIR=/opt/bt/bin >/dev/null &&
	"$BT_SRC/scripts/install-cron" -o from-tree -S /etc BINDIR=/opt/bt/bin >/dev/null &&
	cmp from-share/bt.cron from-tree/bt.cron &&
	python3 "$S/tests/telegram_server.py" --help >/dev/null
'

test_expect_success 'the installed bt-preflight knows SHAREDIR and BINDIR, and no source tree' '
	P=$R/opt/bt/bin/bt-preflight &&
	grep -qx "SHAREDIR=.$(printf "%s" /opt/bt/share/bt)." "$P" &&
	grep -qx "BINDIR=./opt/bt/bin." "$P" &&
	grep -qx "SYSCONFDIR=./etc." "$P" &&
	grep -qx "TREE=.." "$P" &&
	! grep -q "@[A-Z]*@" "$P" &&
	"$P" --help | grep -q "^usage: bt-preflight"
'

# A second installation, without DESTDIR (nothing of it needs root): the
# installed bt-preflight runs the one-hour dry run from its SHAREDIR with
# the installed programs.
P2=$TRASH/pf
test_expect_success 'installed: bt-preflight runs the dry run from SHAREDIR with the installed programs' '
	mk install PREFIX="$P2" SYSCONFDIR="$P2/etc" &&
	test_expect_code 0 env -u BT_NOW "$P2/bin/bt-preflight" -S "$P2/etc" \
	    --only dry_run >out 2>err &&
	cat out err &&
	json_has out "select(.check == \"dry_run\") | .ok and .backtest == \"done\" and .script == \"$P2/share/bt/scripts/dry-run\" and .bin == \"$P2/bin\"" &&
	mk uninstall PREFIX="$P2" SYSCONFDIR="$P2/etc" >/dev/null &&
	left "$P2" >left && test_cmp /dev/null left
'

test_expect_success 'install-cron refuses a BINDIR without the six programs, writing nothing' '
	snap "$R" >before &&
	test_expect_code 2 mk install-cron DESTDIR="$R" BT_USER=nobody 2>err &&
	cat err &&
	grep -q "not installed under $R/usr/local/bin: bt-fetch bt-validate bt-backtest bt-backup bt-digest bt-watchdog " err &&
	grep -q "every job would exit 127" err &&
	grep -q "nothing installed" err &&
	snap "$R" >after && test_cmp before after &&
	mv "$R/opt/bt/bin/bt-digest" "$TRASH/bt-digest.aside" &&
	chmod 0644 "$R/opt/bt/bin/bt-fetch" &&
	snap "$R" >before &&
	test_expect_code 78 "$IC" -D "$R" PREFIX=/opt/bt BT_USER=nobody 2>err &&
	grep -q "not installed under $R/opt/bt/bin: bt-fetch bt-digest " err &&
	snap "$R" >after && test_cmp before after &&
	mv "$TRASH/bt-digest.aside" "$R/opt/bt/bin/bt-digest" &&
	chmod 0755 "$R/opt/bt/bin/bt-fetch"
'

test_expect_success 'install-cron refuses bad values (64), writing nothing' '
	snap "$R" >before &&
	test_expect_code 64 "$IC" -D "$R" PREFIX=/opt/bt BACKTEST_START_HOUR=24 2>err &&
	grep -q "BACKTEST_START_HOUR .24. is not an hour" err &&
	test_expect_code 64 "$IC" -D "$R" PREFIX=/opt/bt BACKTEST_START_MINUTE=7x &&
	test_expect_code 64 "$IC" -D "$R" PREFIX=/opt/bt BT_HOME=var/lib/bt &&
	test_expect_code 64 "$IC" -D "$R" PREFIX=/opt/bt "BT_HOME=/var/lib/b t" &&
	test_expect_code 64 "$IC" -D "$R" PREFIX=/opt/bt "BT_USER=a;b" &&
	test_expect_code 64 "$IC" -D "$R" PREFIX=/opt/bt NO_SUCH_KEY=1 &&
	test_expect_code 64 "$IC" -D "$R" -S etc PREFIX=/opt/bt &&
	test_expect_code 2 mk install-cron DESTDIR="$R" PREFIX=/opt/bt BACKTEST_START_HOUR=24 &&
	snap "$R" >after && test_cmp before after
'

test_expect_success 'without DESTDIR, an unknown BT_USER or a missing BT_CONF is refused, writing nothing' '
	N=$TRASH/nodest &&
	test_expect_code 78 "$IC" -S "$N/etc" BINDIR="$R/opt/bt/bin" \
	    BT_HOME="$N/home" BT_CONF="$BT_CONF" BT_USER=bt-9010-no-such-user 2>err &&
	grep -q "BT_USER bt-9010-no-such-user: no such user" err &&
	! grep -q "not installed" err &&
	test ! -e "$N" &&
	test_expect_code 2 mk install-cron SYSCONFDIR="$N/etc" BINDIR="$R/opt/bt/bin" \
	    BT_HOME="$N/home" BT_CONF="$BT_CONF" BT_USER=bt-9010-no-such-user &&
	test ! -e "$N" &&
	test_expect_code 78 "$IC" -S "$N/etc" BINDIR="$R/opt/bt/bin" \
	    BT_HOME="$N/home" BT_USER=nobody 2>err &&
	grep -q "BT_CONF $N/etc/bt/bt.conf: no such file; every job would exit 78" err &&
	grep -q "CRONDIR $N/etc/cron.d: no such directory; is cron installed?" err &&
	test ! -e "$N"
'

test_expect_success 'install-cron writes the cron file, the logrotate file, install.conf and BT_HOME' '
	mk install-cron DESTDIR="$R" PREFIX=/opt/bt BT_USER=nobody \
	    BT_HOME=/var/lib/bt BACKTEST_START_HOUR=08 BACKTEST_START_MINUTE=05 >out &&
	cat out &&
	"$BT_SRC/scripts/render-cron" -b /opt/bt/bin -h /var/lib/bt -u nobody \
	    -g "$G" -c /etc/bt/bt.conf -H 8 -M 5 "$BT_SRC/crontab/bt" >expect.cron &&
	test_cmp expect.cron "$R/etc/cron.d/bt" &&
	"$BT_SRC/scripts/render-cron" -h /var/lib/bt -u nobody -g "$G" \
	    "$BT_SRC/crontab/logrotate" >expect.logrotate &&
	test_cmp expect.logrotate "$R/etc/logrotate.d/bt" &&
	printf "%s\n" PREFIX=/opt/bt BINDIR=/opt/bt/bin BT_USER=nobody \
	    BT_GROUP=$G BT_HOME=/var/lib/bt BT_CONF=/etc/bt/bt.conf \
	    BACKTEST_START_HOUR=8 BACKTEST_START_MINUTE=5 CRONDIR=/etc/cron.d \
	    LOGROTATEDIR=/etc/logrotate.d BT_FETCH_DEADLINE=780 >expect.conf &&
	grep -v "^#" "$R/etc/bt/install.conf" >got.conf &&
	test_cmp expect.conf got.conf &&
	grep -q "^PATH=/opt/bt/bin:" "$R/etc/cron.d/bt" &&
	grep -q "^HOME=/var/lib/bt$" "$R/etc/cron.d/bt" &&
	grep -q "^5 8,9,10 \* \* \*	nobody	" "$R/etc/cron.d/bt" &&
	for f in cron.d/bt logrotate.d/bt bt/install.conf; do
		test "$(stat -c %a "$R/etc/$f")" = 644 || exit 1
	done &&
	for d in "" /db /run /logs /backups /results; do
		test "$(stat -c %a "$R/var/lib/bt$d")" = 750 || exit 1
	done &&
	test "$(ls -A "$R/etc/cron.d")" = bt &&
	test "$(ls -A "$R/etc/logrotate.d")" = bt &&
	grep -q "11 jobs as nobody, PATH /opt/bt/bin:" out
'

test_expect_success 'BT_FETCH_DEADLINE is recorded, and the update'"'"'s timeout follows it' '
	cp "$R/etc/cron.d/bt" c0 && cp "$R/etc/bt/install.conf" i0 &&
	mk install-cron DESTDIR="$R" BT_FETCH_DEADLINE=1080 &&
	grep -qx BT_FETCH_DEADLINE=1080 "$R/etc/bt/install.conf" &&
	grep -qx BT_FETCH_DEADLINE=1080 "$R/etc/cron.d/bt" &&
	grep "run/fetch.lock" "$R/etc/cron.d/bt" | grep -q "timeout -k 60 20m bt-fetch -q" &&
	mk install-cron DESTDIR="$R" &&
	grep -qx BT_FETCH_DEADLINE=1080 "$R/etc/bt/install.conf" &&
	snap "$R" >before &&
	test_expect_code 64 "$IC" -D "$R" BT_FETCH_DEADLINE=15m 2>err &&
	grep -q "BT_FETCH_DEADLINE .15m. is not seconds" err &&
	test_expect_code 64 "$IC" -D "$R" BT_FETCH_DEADLINE=99999 &&
	snap "$R" >after && test_cmp before after &&
	mk install-cron DESTDIR="$R" BT_FETCH_DEADLINE=780 &&
	cmp c0 "$R/etc/cron.d/bt" && cmp i0 "$R/etc/bt/install.conf"
'

test_expect_success 'a second install-cron without arguments reuses install.conf' '
	cp "$R/etc/cron.d/bt" c1 && cp "$R/etc/logrotate.d/bt" l1 &&
	cp "$R/etc/bt/install.conf" i1 &&
	mk install-cron DESTDIR="$R" &&
	cmp c1 "$R/etc/cron.d/bt" && cmp l1 "$R/etc/logrotate.d/bt" &&
	cmp i1 "$R/etc/bt/install.conf" &&
	mk install-cron DESTDIR="$R" BACKTEST_START_MINUTE=7 &&
	grep -q "^7 8,9,10 \* \* \*	nobody	" "$R/etc/cron.d/bt" &&
	grep -q "^PATH=/opt/bt/bin:" "$R/etc/cron.d/bt" &&
	grep -qx BACKTEST_START_MINUTE=7 "$R/etc/bt/install.conf" &&
	grep -qx BT_USER=nobody "$R/etc/bt/install.conf"
'

# examples ROOT: runs every `make install-cron' example of bt-crontab(5)
# under DESTDIR=ROOT.  Each either installs a crontab whose PATH starts
# with a directory holding the six programs, or is refused for want of
# them and leaves the crontab as it was: no example leads to exit 127.
examples() {
	sed -n "s/^\.Dl make install-cron //p" "$BT_SRC/man/bt-crontab.5" >examples
	test "$(wc -l <examples)" -ge 3 || return 1
	while read -r args; do
		rm -f prev
		[ ! -e "$1/etc/cron.d/bt" ] || cp "$1/etc/cron.d/bt" prev
		rc=0
		mk install-cron DESTDIR="$1" $args 2>err || rc=$?
		echo "example: $args: exit $rc"
		case $rc in
		0) ;;
		2) grep -q "not installed under" err || return 1
		   if [ -e prev ]; then cmp prev "$1/etc/cron.d/bt" || return 1
		   else test ! -e "$1/etc/cron.d/bt" || return 1; fi ;;
		*) return 1 ;;
		esac
		[ -e "$1/etc/cron.d/bt" ] || continue
		dir=$(sed -n "s/^PATH=\([^:]*\):.*/\1/p" "$1/etc/cron.d/bt")
		for p in $PROGS; do
			test -x "$1$dir/$p" || { echo "$p not in $dir"; return 1; }
		done
	done <examples
}

test_expect_success 'no install-cron example of bt-crontab(5) makes jobs exit 127' '
	mk install DESTDIR="$TRASH/fresh" PREFIX=/opt/bt &&
	examples "$TRASH/fresh" >out && cat out &&
	grep -q "BT_USER=bt BT_HOME=/var/lib/bt: exit 2" out &&
	grep -q "PREFIX=/opt/bt: exit 0" out &&
	examples "$R" >out && cat out &&
	test "$(grep -c ": exit 0$" out)" = "$(wc -l <examples)" &&
	grep -q "^0 22,23,0 \* \* \*	bt	" "$R/etc/cron.d/bt" &&
	grep -q "^PATH=/opt/bt/bin:" "$R/etc/cron.d/bt"
'

test_expect_success 'a failed write takes back what the run wrote' '
	mk install DESTDIR="$R2" PREFIX=/opt/bt &&
	if [ -n "$AS" ]; then chown -R nobody "$R2"; fi &&
	$AS "$IC" -D "$R2" PREFIX=/opt/bt BT_HOME=/var/lib/bt &&
	if [ -n "$AS" ]; then chown root "$R2/etc/cron.d"
	else chmod 0555 "$R2/etc/cron.d"; fi &&
	snap "$R2" >before &&
	test_expect_code 73 $AS "$IC" -D "$R2" BACKTEST_START_HOUR=5 \
	    BT_HOME=/var/lib/bt2 2>err &&
	cat err &&
	grep -q "cannot install $R2/etc/cron.d/bt" err &&
	grep -q "what this run wrote was taken back" err &&
	snap "$R2" >after && test_cmp before after &&
	grep -qx BACKTEST_START_HOUR=23 "$R2/etc/bt/install.conf" &&
	test "$(ls -A "$R2/etc/logrotate.d")" = bt &&
	chmod 0755 "$R2/etc/cron.d"
'

test_expect_success 'make install leaves the operator'\''s bt.conf alone' '
	printf "BT_SYMBOLS=BTCUSDT\n" >"$R/etc/bt/bt.conf" &&
	printf "%s\n" 424242:AAinstallTestToken |
	    install -m0600 /dev/stdin "$R/etc/bt/telegram.token" &&
	cp "$R/etc/bt/bt.conf" conf.before &&
	mk install DESTDIR="$R" PREFIX=/opt/bt &&
	cmp conf.before "$R/etc/bt/bt.conf" &&
	test "$(stat -c %a "$R/etc/bt/telegram.token")" = 600
'

test_expect_success 'make uninstall refuses while the cron file is there' '
	snap "$R" >before &&
	test_expect_code 2 mk uninstall DESTDIR="$R" PREFIX=/opt/bt 2>err &&
	cat err &&
	grep -q "cron file left behind: $R/etc/cron.d/bt: run make uninstall-cron first" err &&
	grep -q "exit 127" err &&
	snap "$R" >after && test_cmp before after
'

test_expect_success 'uninstall-cron removes what install-cron installed, keeps BT_HOME' '
	mk uninstall-cron DESTDIR="$R" >out &&
	cat out &&
	test ! -e "$R/etc/cron.d/bt" && test ! -e "$R/etc/logrotate.d/bt" &&
	test ! -e "$R/etc/bt/install.conf" &&
	grep -q "kept $R/var/lib/bt: " out && test -d "$R/var/lib/bt/db" &&
	mk uninstall-cron DESTDIR="$R" >out &&
	grep -q "nothing installed under $R" out
'

test_expect_success 'uninstall keeps bt.conf and the token and says so; by hand, nothing is left' '
	mk uninstall DESTDIR="$R" PREFIX=/opt/bt >out &&
	cat out &&
	grep -q "kept $R/etc/bt: bt.conf telegram.token (" out &&
	test -f "$R/etc/bt/bt.conf" && test -f "$R/etc/bt/telegram.token" &&
	test ! -e "$R/etc/bt/bt.conf.example" &&
	rm -r "$R/var/lib/bt" "$R/etc/bt" &&
	left "$R" >left && test_cmp /dev/null left &&
	rm -r "$R2/var/lib/bt" &&
	mk uninstall-cron DESTDIR="$R2" && mk uninstall DESTDIR="$R2" PREFIX=/opt/bt &&
	left "$R2" >left && test_cmp /dev/null left
'

# ---------------------------------------- without DESTDIR, as root
S=$TRASH/sys
TOKEN=424242:AAinstallTestToken
FREDKEY=abcdefghijklmnopqrstuvwxyz012345
start_server telegram --token $TOKEN --messages $TRASH/messages

if [ -z "$AS" ]; then
	test_skip 'the whole sequence without DESTDIR, a cron line run as nobody' \
	    'needs root (chown, runuser)'
else

test_expect_success 'install, then install-cron refused until bt.conf exists' '
	mkdir -p "$S/etc/cron.d" "$S/etc/logrotate.d" &&	# the host'\''s cron
	mk install PREFIX="$S/usr/local" SYSCONFDIR="$S/etc" &&
	snap "$S" >before &&
	test_expect_code 2 mk install-cron PREFIX="$S/usr/local" SYSCONFDIR="$S/etc" \
	    BT_USER=nobody BT_HOME="$S/var/lib/bt" 2>err &&
	grep -q "BT_CONF $S/etc/bt/bt.conf: no such file" err &&
	snap "$S" >after && test_cmp before after
'

test_expect_success 'the configuration from the example, the token files, install-cron' '
	install -m0640 -g "$G" "$S/etc/bt/bt.conf.example" "$S/etc/bt/bt.conf" &&
	cat >>"$S/etc/bt/bt.conf" <<-EOF &&
	TELEGRAM_BACKTEST_CHANNEL=@bt_ops
	TELEGRAM_BOT_TOKEN_FILE=$S/etc/bt/telegram.token
	FRED_API_KEY_FILE=$S/etc/bt/fred.key
	BT_HEARTBEAT_URL=$telegram_URL/bot$TOKEN/getMe
	BT_TELEGRAM_URL=$telegram_URL
	BT_BINANCE_URL=http://127.0.0.1:9
	BT_AUTO_REFETCH=0
	EOF
	printf "%s\n" "$TOKEN" |
	    install -m0600 -o nobody -g "$G" /dev/stdin "$S/etc/bt/telegram.token" &&
	printf "%s\n" "$FREDKEY" |
	    install -m0600 -o nobody -g "$G" /dev/stdin "$S/etc/bt/fred.key" &&
	mk install-cron PREFIX="$S/usr/local" SYSCONFDIR="$S/etc" \
	    BT_USER=nobody BT_HOME="$S/var/lib/bt" &&
	for d in "" /db /run /logs /backups /results; do
		test "$(stat -c "%U:%G %a" "$S/var/lib/bt$d")" = "nobody:$G 750" ||
		    exit 1
	done &&
	grep -q "^PATH=$S/usr/local/bin:" "$S/etc/cron.d/bt"
'

test_expect_success 'the watchdog line, run by hand as bt-crontab(5) says: exactly as cron does' '
	sed -n "/^cd \/var\/lib\/bt && runuser/,/<\/dev\/null\$/p" \
	    "$BT_SRC/man/bt-crontab.5" >byhand.man &&
	test "$(wc -l <byhand.man)" = 3 &&
	grep -qF "$(head -1 byhand.man | sed "s/ \\\\e\$//")" "$BT_SRC/README.md" &&
	sed -e "s/\\\\e\$/\\\\/" -e "s|/var/lib/bt|$S/var/lib/bt|g" \
	    -e "s|/etc/cron.d/bt|$S/etc/cron.d/bt|g" -e "s/-u bt /-u nobody /" \
	    -e "s/LOGNAME=bt USER=bt/LOGNAME=nobody USER=nobody/" \
	    byhand.man >byhand.sh &&
	cat byhand.sh &&
	test_expect_code 1 sh ./byhand.sh &&
	test "$(requests telegram "/bot<redacted>/getMe")" = 1 &&
	test "$(stat -c "%U %a" "$S/var/lib/bt/logs/bt-watchdog.jsonl")" = "nobody 640" &&
	test "$(stat -c %U "$S/var/lib/bt/run/scheduler.heartbeat")" = nobody &&
	json_has "$S/var/lib/bt/logs/bt-watchdog.jsonl" "select(.check==\"freshness\") | .ok==false" &&
	sed "s|run/watchdog.lock|run/digest.lock|" byhand.sh >digest.sh &&
	test_expect_code 0 sh ./digest.sh &&
	# The freshness WARNING waits for its hourly batch (the first run
	# starts the hour); the run itself talked to Telegram and ended 0.
	json_has "$S/var/lib/bt/logs/bt-digest.jsonl" "select(.event==\"summary\") | .mode==\"telegram\" and .exit==0 and .due.WARNING==0" &&
	test "$(sql "$S/var/lib/bt/db/bt_state.db" "select count(*) from events where kind=\"freshness\" and severity=\"WARNING\" and sent is null")" = 1 &&
	! grep -rqF AAinstallTestToken "$S/var/lib/bt" "$TRASH/telegram.log"
'

test_expect_success 'the installed bt-preflight, as the bt user, finds BT_HOME, BT_CONF and the user in install.conf' '
	mkdir -p "$TRASH/proc/4242" "$TRASH/pf-tmp" && printf "cron\n" >"$TRASH/proc/4242/comm" &&
	chown nobody "$TRASH/pf-tmp" &&
	rc=0 && runuser -u nobody -- env -u BT_HOME -u BT_CONF \
	    BT_PREFLIGHT_PROC="$TRASH/proc" \
	    BT_PREFLIGHT_LOCALTIME=/usr/share/zoneinfo/Etc/UTC \
	    "$S/usr/local/bin/bt-preflight" -S "$S/etc" --scratch "$TRASH/pf-tmp" \
	    --only user,scheduling,secrets,directories,telegram >out 2>err || rc=$? &&
	cat out err &&
	test $rc = 0 &&
	json_has out "select(.check == \"user\") | .message == \"runs as nobody, the bt user\"" &&
	json_has out "select(.check == \"crontab\") | .cronfile == \"$S/etc/cron.d/bt\"" &&
	json_has out "select(.check == \"secrets\") | .ok" &&
	test "$(jq -s "map(select(.check == \"secrets\")) | length" out)" = 2 &&
	json_has out "select(.check == \"directories\") | .message | contains(\"under $S/var/lib/bt \")" &&
	json_has out "select(.check == \"telegram_chat\") | .ok" &&
	! grep -qF AAinstallTestToken out err
'

test_expect_success 'uninstall-cron, uninstall, and the README'\''s by-hand removal leave nothing' '
	mk uninstall-cron SYSCONFDIR="$S/etc" &&
	test ! -e "$S/etc/cron.d/bt" && test ! -e "$S/etc/logrotate.d/bt" &&
	mk uninstall PREFIX="$S/usr/local" SYSCONFDIR="$S/etc" >out &&
	grep -q "kept $S/etc/bt: bt.conf fred.key telegram.token (" out &&
	rm -r "$S/var/lib/bt" "$S/etc/bt" &&
	left "$S" >left && test_cmp /dev/null left
'

fi

test_done
