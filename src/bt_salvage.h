/*
 * bt_salvage.h - bt_salvage.c owns salvage through the sqlite3 shell:
 * what it still reads from a damaged database file, into a new file.
 */
#ifndef BT_SALVAGE_H
#define BT_SALVAGE_H

#include "bt_util.h"

/*
 * What the sqlite3 shell (BT_SQLITE3) still reads from `damaged', into
 * the new file `out': .recover, else .dump of `tables' (a JSON array of
 * names, at most 12).  *how is "recover" or "dump".  0, or an exit code
 * with err set when nothing came back.
 */
int	 bt_salvage(const char *damaged, const char *out, json_t *tables,
	    const char **how, char *err);

#endif /* BT_SALVAGE_H */
