/*
 * bt_upstream.h - bt_upstream.c owns bt-fetch --check (issue "Go-live"):
 * whether the services bt-fetch reads answer as its runs need them
 * (Binance: ping, time, the request weight left, a remembered ban, the
 * clock; FRED: the key), one `check' line each, for a preflight.
 */
#ifndef BT_UPSTREAM_H
#define BT_UPSTREAM_H

#include <stdbool.h>

/*
 * Prints the `binance' check line, and the `fred' one when a FRED key is
 * configured.  Reads the state file read-only (the ban) and writes
 * nothing.  Returns 0 (all ok), 1 (a problem), 69 (a service does not
 * answer) or 78 (configuration), the worst by bt_exit_worse().
 */
int	 bt_upstream_check(bool verbose);

#endif /* BT_UPSTREAM_H */
