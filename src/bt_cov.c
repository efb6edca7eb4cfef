/*
 * bt_cov.c - coverage as contracts.md defines it, one implementation for
 * bt-fetch and bt-validate.
 *
 * A configured (symbol, timeframe) pair is current when its newest stored
 * open time is within the timeframe's staleness threshold of now.
 * Coverage is the share of configured pairs that are current, leaving
 * out symbols Binance reports as not TRADING.  bt-fetch knows that from
 * this run's exchangeInfo; every other program from the mark bt-fetch
 * leaves in the state file (kv `not_trading:SYMBOL' = the UTC date it
 * last saw the symbol not TRADING).  A mark counts while it is from today
 * or yesterday, so a symbol that trades again is counted from the second
 * day without anyone clearing the mark.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_state.h"

bool
bt_not_trading(sqlite3 *st, json_t *status, const char *sym)
{
	const char *s;
	char key[64], today[32], yday[32], *val = NULL, err[BT_ERRLEN];
	bool out;

	if (status != NULL &&
	    (s = json_string_value(json_object_get(status, sym))) != NULL)
		return strcmp(s, "TRADING") != 0;
	if (st == NULL)
		return false;
	snprintf(key, sizeof(key), "not_trading:%s", sym);
	if (bt_kv_get(st, key, &val, err) != 0 || val == NULL)
		return false;
	bt_fmt_time(bt_now_ms(), today);
	bt_fmt_time(bt_now_ms() - 86400000, yday);
	out = strncmp(val, today, 10) == 0 || strncmp(val, yday, 10) == 0;
	free(val);
	return out;
}

int
bt_coverage(sqlite3 *db, sqlite3 *st, json_t *status, char **syms,
    int nsyms, char **tfs, int ntfs, struct bt_cov *cov, char *err)
{
	struct bt_cov_pair *cp;
	struct bt_pair p;
	int64_t now = bt_now_ms();
	int i, j, rc;

	memset(cov, 0, sizeof(*cov));
	if (nsyms > 0 && ntfs > 0 &&
	    (cov->p = calloc((size_t)nsyms * (size_t)ntfs,
	    sizeof(*cov->p))) == NULL)
		abort();
	for (i = 0; i < nsyms; i++) {
		bool out = bt_not_trading(st, status, syms[i]);
		for (j = 0; j < ntfs; j++) {
			cp = &cov->p[cov->n++];
			snprintf(cp->symbol, sizeof(cp->symbol), "%s", syms[i]);
			snprintf(cp->tf, sizeof(cp->tf), "%s", tfs[j]);
			cp->excluded = out;
			cp->threshold = bt_stale_ms(tfs[j]);
			cp->last = -1;
			if ((rc = bt_pair_get(db, syms[i], tfs[j], false, NULL,
			    0, &p, err)) != 0 ||
			    (rc = bt_pair_last(db, &p, &cp->last, err)) != 0)
				return rc;
			cp->current = cp->last >= 0 &&
			    now - cp->last <= cp->threshold;
			if (out)
				continue;
			cov->counted++;
			if (cp->current)
				cov->current++;
		}
	}
	cov->coverage = cov->counted ? (double)cov->current / cov->counted :
	    1.0;
	return 0;
}

void
bt_cov_free(struct bt_cov *cov)
{
	free(cov->p);
	memset(cov, 0, sizeof(*cov));
}
