/* libFuzzer: the KEY=VALUE configuration file, then the value checks. */
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[BT_ERRLEN], *buf;
	bool secret;

	bt_set_diag(NULL);
	bt_conf_want("TELEGRAM_BOT_TOKEN");
	bt_conf_reset();
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (bt_conf_parse("fuzz.conf", buf, size, &secret, err) == 0)
		(void)bt_conf_check(err);
	free(buf);
	return 0;
}
