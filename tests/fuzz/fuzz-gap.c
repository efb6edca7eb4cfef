/*
 * fuzz-gap.c - bt_parse_gap(), the reader of gap records that
 * `bt-fetch --gaps' takes from any program's output (contracts.md).
 * Each input line is parsed as bt-fetch does; a line is a gap record
 * only with a Binance symbol, a known interval and 0 <= from <= to.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_gap g;
	char err[BT_ERRLEN], *buf, *line, *next;
	int rc;

	bt_set_diag(NULL);
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		memset(&g, 0, sizeof(g));
		err[0] = '\0';
		rc = bt_parse_gap(line, &g, err);
		if (rc == 1 && (!bt_symbol_ok(g.symbol) ||
		    bt_tf_ms(g.tf) == 0 || g.from < 0 || g.to < g.from))
			abort();
		if (rc == -1 && err[0] == '\0')
			abort();
		if (rc < -1 || rc > 1)
			abort();
	}
	free(buf);
	return 0;
}
