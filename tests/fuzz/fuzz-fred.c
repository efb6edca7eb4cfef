/* libFuzzer: a FRED series/observations answer (file_type=json). */
#include <math.h>
#include <stdlib.h>

#include "bt_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_fred_obs *o;
	char err[BT_ERRLEN], *msg;
	int64_t count;
	size_t n, i;

	if (bt_parse_fred((const char *)data, size, &o, &n, &count, err) == 0) {
		/* Ascending dates at midnight; a value or NAN for ".". */
		for (i = 0; i < n; i++)
			if (o[i].date % 86400000 != 0 ||
			    (i > 0 && o[i].date <= o[i - 1].date) ||
			    isinf(o[i].v))
				abort();
		free(o);
	}
	if ((msg = bt_fred_error((const char *)data, size)) != NULL)
		free(msg);
	return 0;
}
