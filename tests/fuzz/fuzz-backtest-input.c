/*
 * fuzz-backtest-input.c - bt-backtest's parsers of outside candles: the
 * OHLCV CSV reader and the JSON-lines reader, on arbitrary bytes.  They
 * are static in src/bt-backtest.c, which is included here with its main()
 * renamed.  Every input must be refused cleanly or parsed into candles
 * that pass bt_candle_check().
 */
#define main bt_backtest_main
#include "../../src/bt-backtest.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	struct bt_candle *c = NULL;
	char err[BT_ERRLEN], why[160], *buf;
	size_t n = 0, i, k;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (parse_ohlcv_csv("fuzz", buf, &c, &n, err) == 0) {
		for (i = 0; i < n; i++)
			if (bt_candle_check(&c[i], LOOSE_IV, why,
			    sizeof(why)) == -1 || (i > 0 && c[i].t <= c[i - 1].t))
				abort();
		free(c);
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&r, 0, sizeof(r));
	(void)parse_jsonl(&r, "fuzz", buf, "FUZZ", err);
	for (k = 0; k < r.nsrc; k++) {
		for (i = 0; i < r.srcs[k].n; i++)
			if (bt_candle_check(&r.srcs[k].c[i], LOOSE_IV, why,
			    sizeof(why)) == -1)
				abort();
		free(r.srcs[k].c);
	}
	free(r.srcs);
	free(buf);
	return 0;
}
