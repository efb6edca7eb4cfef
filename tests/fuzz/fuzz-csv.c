/* libFuzzer: a data.binance.vision kline CSV file. */
#include <stdlib.h>
#include <string.h>

#include "bt_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_candle *c;
	char err[BT_ERRLEN], *buf;
	size_t n;

	/* Parsed in place, NUL-terminated, as bt_read_file() gives it. */
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (bt_parse_kline_csv("fuzz.csv", buf, size, 3600000, &c, &n,
	    err) == 0)
		free(c);
	free(buf);
	return 0;
}
