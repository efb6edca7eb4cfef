/*
 * bt_accept.h - bt_accept.c owns the accepted ranges: the real exchange
 * outages an operator knows about, from BT_ACCEPTED_GAPS and the state
 * file's accepted_gaps, which --accept writes.
 */
#ifndef BT_ACCEPT_H
#define BT_ACCEPT_H

#include "bt_db.h"

/* A range of open times, both ends inclusive, of one pair. */
struct bt_acc {
	char	 symbol[24], tf[8];
	int64_t	 from, to;
};
struct bt_accepted {
	struct bt_acc *v;
	size_t	 n;
};
/*
 * Reads BT_ACCEPTED_GAPS, then accepted_gaps of `st' (may be NULL): 0,
 * or an exit code (78: an entry that is not SYMBOL/TF/FROM/TO) and why.
 */
int	 bt_accept_load(sqlite3 *st, struct bt_accepted *a, char *err);
void	 bt_accept_free(struct bt_accepted *a);
/* Is open time t of symbol/tf inside an accepted range? */
bool	 bt_accept_covers(const struct bt_accepted *a, const char *symbol,
	    const char *tf, int64_t t);

/*
 * --accept: one range from argv (symbol tf from to [note]; argc 4 or 5)
 * or, with argc 0, every gap record on stdin, in one transaction; prints
 * an "accepted" line for each.
 */
int	 bt_accept(sqlite3 *st, int argc, char **argv, char *err);

#endif /* BT_ACCEPT_H */
