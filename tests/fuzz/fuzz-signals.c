/*
 * fuzz-signals.c - bt-backtest's reader of external signals (JSON lines,
 * contracts.md), bt_parse_signals(), on arbitrary bytes.  The first byte
 * picks the rules: shorts allowed or not, a 1d or 1h interval, candles
 * from files (no look-ahead check) or the store.  An input is refused
 * with -1 and a reason, or every signal kept is a valid one: a symbol,
 * |position| <= 1 (>= 0 without shorts), of a closed bar when checked,
 * sorted by symbol, time and line, no two for one bar.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The order the parser promises, spelt out independently. */
static int
before(const struct bt_signal *a, const struct bt_signal *b)
{
	int c = strcmp(a->symbol, b->symbol);

	return c != 0 ? c < 0 : a->t != b->t ? a->t < b->t : a->line < b->line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_signal_rules rl;
	struct bt_signal *g = NULL;
	char err[BT_ERRLEN], *buf;
	size_t i, n = 0;
	int rc;

	if (size < 1)
		return 0;
	if ((buf = malloc(size)) == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	rl.shorts = data[0] & 1;
	rl.tf = (data[0] & 2) ? "1d" : "1h";
	rl.iv = (data[0] & 4) ? 0 : bt_tf_ms(rl.tf);
	rl.now = 1665446400000;		/* 2022-10-11 */
	rc = bt_parse_signals("fuzz", buf, &rl, &g, &n, err);
	if (rc != 0 && (rc != -1 || g != NULL || n != 0 || *err == '\0'))
		abort();
	if (rc == 0)
		for (i = 0; i < n; i++) {
			if (!bt_symbol_ok(g[i].symbol) ||
			    !(fabs(g[i].pos) <= 1) ||
			    (!rl.shorts && g[i].pos < 0) ||
			    (rl.iv > 0 && g[i].t + rl.iv - 1 >= rl.now))
				abort();
			if (i > 0 && !before(&g[i - 1], &g[i]))
				abort();
			if (i > 0 && strcmp(g[i].symbol, g[i - 1].symbol) == 0 &&
			    g[i].t == g[i - 1].t)
				abort();
		}
	free(g);
	free(buf);
	return 0;
}
