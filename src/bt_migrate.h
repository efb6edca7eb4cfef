/*
 * bt_migrate.h - bt_migrate.c owns the schemas of bt's two files and
 * their upgrades, and opens each file as bt's.
 */
#ifndef BT_MIGRATE_H
#define BT_MIGRATE_H

#include "bt_db.h"

/* Schema versions. */
#define BT_STORE_SCHEMA	2
#define BT_STATE_SCHEMA	3

/*
 * Opens the store (db/crypto_agent.db) or the state file (db/bt_state.db)
 * with the seed's pragmas, creating or migrating the schema when opened
 * read-write.  Returns 0 or an exit code with err set.
 */
int	 bt_open_store(const char *path, int mode, sqlite3 **db, char *err);
int	 bt_open_state(const char *path, int mode, sqlite3 **db, char *err);
/* True when the store holds the seed's plain ohlcv_* tables. */
bool	 bt_store_is_plain(sqlite3 *db);
int	 bt_store_migrate_plain(sqlite3 *db, json_t *report, char *err);

#endif /* BT_MIGRATE_H */
