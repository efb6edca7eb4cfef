/* libFuzzer: a data.binance.vision kline CSV file. */
#include <stdlib.h>

#include "bt_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_candle *c;
	char err[BT_ERRLEN];
	size_t n;

	if (bt_parse_kline_csv("fuzz.csv", (const char *)data, size, 3600000,
	    &c, &n, err) == 0)
		free(c);
	return 0;
}
