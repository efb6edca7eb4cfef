/*
 * fuzz-telegram.c - bt_telegram.c's reading of Telegram's answers
 * (outside input: whatever the Bot API, a proxy or an impostor sends
 * back), bt_tg_answer().  The first byte picks the HTTP status.  An answer
 * is ok only with status 200 and "ok": true; a description always fits
 * its buffer and is a C string; bt_redact() on it never grows it.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_telegram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long codes[] = { 200, 400, 401, 404, 429, 500, 502, 0 };
	struct bt_tg_ans a;
	long status;
	size_t n;

	if (size < 1)
		return 0;
	bt_set_diag(NULL);
	status = codes[data[0] % (sizeof(codes) / sizeof(codes[0]))];
	bt_tg_answer(status, (const char *)data + 1, size - 1, &a);
	if (a.ok && status != 200)
		abort();
	n = strnlen(a.desc, sizeof(a.desc));
	if (n == sizeof(a.desc))
		abort();
	bt_redact(a.desc);
	if (strlen(a.desc) > n)
		abort();
	return 0;
}
