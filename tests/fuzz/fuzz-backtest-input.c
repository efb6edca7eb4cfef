/*
 * fuzz-backtest-input.c - bt-backtest's parsers of outside candles in
 * bt_parse.c: the OHLCV CSV reader and the JSON-lines reader, on
 * arbitrary bytes.  Every input must be refused cleanly or parsed into
 * candles that pass bt_candle_check() (the CSV's in increasing order),
 * each JSON line's with a valid symbol.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_candle *c = NULL;
	struct bt_line_candle *lc = NULL;
	char err[BT_ERRLEN], why[160], *buf;
	size_t n = 0, i;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (bt_parse_ohlcv_csv("fuzz", buf, &c, &n, err) == 0) {
		for (i = 0; i < n; i++)
			if (bt_candle_check(&c[i], BT_LOOSE_IV, why,
			    sizeof(why)) == -1 || (i > 0 && c[i].t <= c[i - 1].t))
				abort();
		free(c);
	} else if (c != NULL || n != 0 || *err == '\0')
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (bt_parse_candle_lines("fuzz", buf, "FUZZ", &lc, &n, err) == 0) {
		for (i = 0; i < n; i++)
			if (bt_candle_check(&lc[i].c, BT_LOOSE_IV, why,
			    sizeof(why)) == -1 || !bt_symbol_ok(lc[i].symbol))
				abort();
		free(lc);
	} else if (lc != NULL || n != 0 || *err == '\0')
		abort();
	free(buf);
	return 0;
}
