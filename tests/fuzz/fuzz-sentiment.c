/*
 * libFuzzer: the answers of --source sentiment, as Binance or anything
 * else sends them: each input is tried as every futures statistic
 * (fundingRate, openInterestHist, globalLongShortAccountRatio,
 * takerlongshortRatio) and as the 24 h ticker.
 */
#include <math.h>
#include <stdlib.h>

#include "bt_parse.h"

static const struct {
	const char *tkey, *keys[3];
	int nk, nreq;
} src[] = {
	{ "fundingTime", { "fundingRate", "markPrice" }, 2, 1 },
	{ "timestamp", { "sumOpenInterest", "sumOpenInterestValue" }, 2, 2 },
	{ "timestamp", { "longShortRatio", "longAccount", "shortAccount" }, 3,
	    3 },
	{ "timestamp", { "buySellRatio", "buyVol", "sellVol" }, 3, 3 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_sent_row *r;
	struct bt_ticker_row *t;
	char err[BT_ERRLEN];
	size_t n, i, k;
	int j;

	for (k = 0; k < sizeof(src) / sizeof(src[0]); k++)
		if (bt_parse_futures((const char *)data, size, NULL,
		    src[k].tkey, src[k].keys, src[k].nk, src[k].nreq, &r, &n,
		    err) == 0) {
			/* What the parser promises: ascending times, values. */
			for (i = 0; i < n; i++) {
				if (r[i].t <= 0 || (i > 0 && r[i].t <= r[i - 1].t))
					abort();
				for (j = 0; j < src[k].nreq; j++)
					if (!isfinite(r[i].v[j]))
						abort();
			}
			free(r);
		}
	if (bt_parse_ticker((const char *)data, size, &t, &n, err) == 0) {
		for (i = 0; i < n; i++)
			for (j = 0; j < BT_TICKER_NF; j++)
				if (!isfinite(t[i].v[j]))
					abort();
		free(t);
	}
	return 0;
}
