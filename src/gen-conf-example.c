/*
 * gen-conf-example - prints etc/bt.conf.example from the key table in
 * bt_conf.c.  A build tool, not one of bt's programs: `make
 * etc/bt.conf.example' runs it, and `make lint' checks that the committed
 * file is what it prints.
 */
#include <stdio.h>

#include "bt_conf.h"

int
main(void)
{
	char err[BT_ERRLEN];

	if (bt_init("gen-conf-example", err) != 0)
		return BT_EX_SOFTWARE;
	bt_conf_reset();
	bt_conf_example(stdout);
	return bt_finish(0);
}
