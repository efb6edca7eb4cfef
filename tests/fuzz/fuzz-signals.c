/*
 * fuzz-signals.c - bt-backtest's reader of external signals (JSON lines,
 * contracts.md) on arbitrary bytes.  parse_signals() is static in
 * src/bt-backtest.c, which is included here with its main() renamed, as
 * fuzz-backtest-input.c does.  The first byte picks the options: shorts
 * allowed or not, candles from files (no look-ahead check) or the store.
 * An input is refused with 65, or every signal kept is a valid one:
 * a symbol, |position| <= 1 (>= 0 without shorts), sorted, no repeats.
 */
#define main bt_backtest_main
#include "../../src/bt-backtest.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	char *buf;
	size_t i;
	int rc;

	if (size < 1)
		return 0;
	bt_set_diag(NULL);
	if ((buf = malloc(size)) == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	memset(&r, 0, sizeof(r));
	snprintf(r.tf, sizeof(r.tf), "%s", (data[0] & 2) ? "1d" : "1h");
	r.ex.shorts = data[0] & 1;
	r.nsrc = (data[0] & 4) ? 1 : 0;
	rc = parse_signals(&r, "fuzz", buf);
	if (rc != 0 && rc != BT_EX_DATAERR)
		abort();
	if (rc == 0)
		for (i = 0; i < r.nsig; i++) {
			if (!bt_symbol_ok(r.sigs[i].symbol) ||
			    !(fabs(r.sigs[i].pos) <= 1) ||
			    (!r.ex.shorts && r.sigs[i].pos < 0))
				abort();
			if (i > 0 && cmp_sig(&r.sigs[i - 1], &r.sigs[i]) >= 0)
				abort();
			if (i > 0 && strcmp(r.sigs[i].symbol,
			    r.sigs[i - 1].symbol) == 0 &&
			    r.sigs[i].t == r.sigs[i - 1].t)
				abort();
		}
	free(r.sigs);
	free(buf);
	return 0;
}
