#!/bin/sh
# Campaign 7, quick: a compressed day of chaos with nothing lost.  The
# installed crontab replayed minute by minute over one simulated day with
# each fault once (Binance 5xx, 429, 418, truncated pages, an open candle,
# a delisting; Telegram down then 429; FRED errors; kill -9 of 8 jobs; a
# hung fetch; the disk full; the store and the state file damaged; the
# trader down and its heartbeat stopped; a reboot; logrotate; cron
# stopped): every expected alert on time, nothing unexpected, the store
# equal to the exchange.  The long run, `scripts/campaign-week --long',
# is the whole week.  Plain pass only: under the sanitizers its thousands
# of program runs would take far more than the suite's budget.
if [ -n "${BT_SANITIZED:-}" ]; then
	echo "1..0 # SKIP the week campaign runs in the plain pass only"
	exit 0
fi
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'quick week campaign' '
	test_expect_code 0 "$BT_SRC/scripts/campaign-week" --quick >out 2>err ||
	    { sed -n "/=== campaign-week/,\$p" err | tail -60 >&2; exit 1; }
	json_has out "select(.result) | .result==\"ok\" and .failures==0" &&
	json_has out "select(.row==\"store = the exchange\u0027s closed candles\") | .ok and .lost==0 and .open==0 and .bad==0 and .candles > 5000" &&
	json_has out "select(.row==\"expected events raised and delivered\") | .ok" &&
	json_has out "select(.row==\"0 unexpected CRITICAL\") | .ok" &&
	json_has out "select(.row==\"kill -9: every victim healed by its next runs\") | .ok and .kills==8" &&
	json_has out "select(.row==\"the restore happened, from a real backup, refusing the planted ones\") | .ok" &&
	json_has out "select(.row and (.row | startswith(\"heartbeat pings stopped\"))) | .ok" &&
	json_has out "select(.figure==\"job_runs\") | .value > 2500 and .worst_critical_delay_s <= 120" &&
	test "$(jq -s "[.[] | select(.expected and .miss == null)] | length" out)" -ge 15
'

test_done
