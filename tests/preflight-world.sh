# tests/preflight-world.sh - sourced by tests/904*-preflight-*.t after
# lib.sh: an installed host for bt-preflight(1) inside the trash directory.
#
# world: SYSCONFDIR $ETC with install.conf and cron.d/bt from the real
# install-cron (the programs of the suite as BINDIR, this user as BT_USER),
# bt.conf naming the Binance and Telegram test servers and an owner-only
# token file, a store of a year of BTCUSDT and ETHUSDT 1d/4h/1h candles, a
# backup of it, a process table where cron runs ($TRASH/proc) and a UTC
# zone file.  pf ARGS runs the preflight on that host.
BIN=$(dirname "$(command -v bt-fetch)")
ETC=$TRASH/etc
ME=$(id -un)
NOW=2022-10-11T04:00:00Z
TOK=123456789:AAF-preflight_Token-0123456789abcXYZ
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db
export BT_NOW=$NOW BT_PREFLIGHT_PROC=$TRASH/proc
export BT_PREFLIGHT_LOCALTIME=/usr/share/zoneinfo/Etc/UTC
export TMPDIR=$TRASH/tmp
mkdir -p "$TMPDIR"

world() {
	mkdir -p "$ETC/cron.d" "$ETC/logrotate.d" "$TRASH/proc/4242" &&
	printf 'cron\n' >"$TRASH/proc/4242/comm" &&
	printf '%s\n' "$TOK" >"$TRASH/token" && chmod 600 "$TRASH/token" &&
	start_server binance --data "$DATA/vision" --now $NOW \
	    --ctl "$TRASH/binance.ctl" &&
	start_server telegram --token "$TOK" --messages "$TRASH/msgs" \
	    --ctl "$TRASH/telegram.ctl" &&
	ctl telegram '{"chats":[-1001,-1002]}' &&
	: >"$TRASH/msgs" &&
	cat >"$BT_CONF" <<-EOF &&
	BT_SYMBOLS=BTCUSDT ETHUSDT
	BT_TIMEFRAMES=1d 4h 1h
	BT_BINANCE_URL=$binance_URL
	BT_TELEGRAM_URL=$telegram_URL
	TELEGRAM_BOT_TOKEN_FILE=$TRASH/token
	TELEGRAM_CHAT_CRITICAL=-1001
	TELEGRAM_BACKTEST_CHANNEL=-1002
	EOF
	"$BT_SRC/scripts/install-cron" -S "$ETC" BINDIR="$BIN" BT_USER="$ME" \
	    BT_HOME="$BT_HOME" BT_CONF="$BT_CONF" CRONDIR="$ETC/cron.d" \
	    LOGROTATEDIR="$ETC/logrotate.d" >/dev/null &&
	f=$DATA/freqtrade &&
	bt-fetch --import $f/BTC_USDT-1d.json $f/BTC_USDT-4h.json \
	    $f/BTC_USDT-1h.json $f/ETH_USDT-1d.json $f/ETH_USDT-4h.json \
	    $f/ETH_USDT-1h.json >/dev/null &&
	BT_NOW=2022-10-11T03:00:00Z bt-backup -q >/dev/null
}

pf() {
	bt-preflight -S "$ETC" -u "$ME" "$@"
}

# line CHECK FILTER: the preflight's line(s) of CHECK satisfy FILTER.
line() {
	json_has out "select(.event == \"check\" and .check == \"$1\") | $2"
}
