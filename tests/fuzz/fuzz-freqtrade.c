/* libFuzzer: a freqtrade JSON data file. */
#include <stdlib.h>

#include "bt_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_candle *c;
	char err[BT_ERRLEN];
	size_t n;

	if (bt_parse_freqtrade("fuzz.json", (const char *)data, size, 14400000,
	    &c, &n, err) == 0)
		free(c);
	return 0;
}
