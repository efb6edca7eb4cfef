/* libFuzzer: a /api/v3/klines page, as Binance or anything else sends it. */
#include <stdlib.h>

#include "bt_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_candle *c;
	char err[BT_ERRLEN];
	size_t n;

	if (bt_parse_klines((const char *)data, size, 3600000, &c, &n, err)
	    == 0)
		free(c);
	bt_parse_release();
	return 0;
}
