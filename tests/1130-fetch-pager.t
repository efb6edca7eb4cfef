#!/bin/sh
# 1130-fetch-pager.t - bt_binance.c's kline pager and retry policy, as a
# unit (issue 12): tests/unit/pager-test.c drives bt_binance_klines() and
# bt_binance_get() against canned answers through the client's request
# function pointer; no server, no sleeping.
#
# Builds pager-test.c with the client and the modules under it (bt_http,
# bt_parse, bt_conf, bt_util: nothing of the store, which shows it links
# without), under ASan+UBSan when BT_SANITIZED is set (make test-san), and
# runs it; its checks are this test's (tests/unit/engine.sh).
. "$(dirname "$0")/lib.sh"

UNIT=pager-test
UNIT_SRCS="bt_binance.c bt_http.c bt_parse.c bt_conf.c bt_util.c"
. "$BT_SRC/tests/unit/engine.sh"
