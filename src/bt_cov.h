/*
 * bt_cov.h - bt_cov.c owns coverage, one rule for bt-fetch, bt-validate
 * and bt-watchdog.
 */
#ifndef BT_COV_H
#define BT_COV_H

#include "bt_store.h"

/*
 * Coverage (contracts.md), shared by bt-fetch and bt-validate.  `status'
 * is an exchangeInfo map symbol -> status, or NULL; a symbol it does not
 * name is judged by the state file's not_trading:SYMBOL mark (today's or
 * yesterday's date).  `st' may be NULL.
 */
struct bt_cov_pair {
	char	 symbol[24], tf[8];
	int64_t	 last;		/* newest open time, -1: none */
	int64_t	 threshold;	/* staleness threshold, ms */
	bool	 current;
	bool	 excluded;	/* not TRADING: left out of coverage */
};
struct bt_cov {
	struct bt_cov_pair *p;	/* nsyms x ntfs, symbol-major */
	int	 n, counted, current;
	double	 coverage;	/* current / counted; 1 when none counted */
};
bool	 bt_not_trading(sqlite3 *st, json_t *status, const char *sym);
int	 bt_coverage(sqlite3 *db, sqlite3 *st, json_t *status, char **syms,
	    int nsyms, char **tfs, int ntfs, struct bt_cov *cov, char *err);
void	 bt_cov_free(struct bt_cov *cov);

#endif /* BT_COV_H */
