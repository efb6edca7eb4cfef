/*
 * numfmt-test.c - bt_fmt_num() (bt_report.c), the CSV files' numbers,
 * prints the bytes that trying "%.15g", "%.16g" and "%.17g" in turn with
 * snprintf and strtod prints (what bt-backtest wrote before it had one
 * conversion of its own): on the edges, on powers of two and their
 * multiples, on 300,000 doubles of random bits, on 500,000 of random
 * significands from 10^-7 to 10^17, on 200,000 amounts of money, on
 * equity curves compounded bar by bar, and on values whose dropped
 * digits are a tie, exactly or nearly.
 *
 * usage: numfmt-test [-q] [-o offset]
 *
 * Prints TAP (tap.h).  Exits 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include <float.h>
#include <stdint.h>

#include "bt_report.h"
#include "tap.h"

static uint64_t rng = 2463534242ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The reference: each precision tried with the C library. */
static void
reference(double v, char *out)
{
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(out, BT_NUMLEN, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, BT_NUMLEN, "%.17g", v);
}

static size_t nbad;

static void
same(double v)
{
	char got[BT_NUMLEN], want[BT_NUMLEN];
	size_t len;

	reference(v, want);
	len = bt_fmt_num(v, got);
	if (strcmp(got, want) != 0 || len != strlen(want))
		if (nbad++ < 5)
			diag("%a: '%s', the library '%s'", v, got, want);
}

int
main(int argc, char *argv[])
{
	static const double edge[] = { 0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 10.0,
	    100000.0, 1e14, 1e15, 1e16, 1e17, 1e21, 1e22, 1e-4, 1e-5,
	    9.9999999999999995e-5, 0.00012345678901234567, 999999999999999.9,
	    9999999999999998.0, 9007199254740993.0, 123456789012345678.0,
	    DBL_MAX, -DBL_MAX, DBL_MIN, 4.9406564584124654e-324,
	    2.2250738585072009e-308, 0.30000000000000004, 20000.0,
	    10000.000000000002, 1.7976931348623157e308, 5e-324, 1e-310 };
	char buf[64];
	double v, e;
	size_t i, j, n;
	uint64_t bits;

	tap_args(argc, argv, "numfmt-test");
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		same(edge[i]);
	check(nbad == 0, "%zu edges (zeros, powers of ten, the limits, "
	    "subnormals)", sizeof(edge) / sizeof(edge[0]));

	nbad = 0;
	for (n = 0; n < 300000; ) {
		bits = next();
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		same(v);
		n++;
	}
	check(nbad == 0, "%zu doubles of random bits (%zu differ)", n, nbad);

	/*
	 * Powers of two, whose lower neighbour is nearer than the upper,
	 * times the first few thousand integers (0.75 = 3 * 2^-2).
	 */
	nbad = 0;
	for (n = 0, i = 1; i < 4000; i++)
		for (j = 0; j < 90; j++, n++) {
			same(ldexp((double)i, (int)j - 70));
			same(nextafter(ldexp((double)i, (int)j - 70), 0));
		}
	check(nbad == 0, "%zu multiples of powers of two and their lower "
	    "neighbours (%zu differ)", 2 * n, nbad);

	/* Exact ties: halves and quarters of 16- and 17-digit integers. */
	nbad = 0;
	for (n = 0; n < 100000; n++) {
		v = (double)(next() % 9000000000000000ULL + 1000000000000000ULL);
		same(v + 0.5);
		same(v / 4 + 0.25);
		same(v * 2 + 1);
	}
	check(nbad == 0, "%zu halves, quarters and odd integers past 2^53, "
	    "at exact ties (%zu differ)", 3 * n, nbad);

	/* The range bt_fmt_num() converts itself: 10^-7 to 10^17. */
	nbad = 0;
	for (n = 0; n < 500000; n++) {
		bits = (next() >> 11) | ((uint64_t)1 << 52);
		same(ldexp((double)bits, (int)(next() % 81) - 76 - 52) *
		    ((next() & 1) ? 1.0 : -1.0));
	}
	check(nbad == 0, "%zu doubles of random significands from 1e-7 to "
	    "1e17 (%zu differ)", n, nbad);

	nbad = 0;
	for (n = 0; n < 200000; n++)
		same((double)(int64_t)(next() % 100000000000ULL) /
		    (next() % 4 == 0 ? 1.0 : 100.0) *
		    ((next() & 1) ? 1.0 : -1.0));
	check(nbad == 0, "%zu amounts of money (%zu differ)", n, nbad);

	nbad = 0;
	for (n = 0, i = 0; i < 100; i++) {
		e = 10000.0;
		for (j = 0; j < 1000; j++, n++) {
			e *= 1.0 + ((double)(next() % 2001) - 1000.0) / 1e5 -
			    0.001 * 0.1;
			same(e);
			same(-(1 - e / 10000.0) * 100);
		}
	}
	check(nbad == 0, "%zu bars of equity curves and drawdowns (%zu "
	    "differ)", n, nbad);

	/* Seventeen digits ending in 50 or 5: the ties left to the library. */
	nbad = 0;
	for (n = 0; n < 50000; n++) {
		snprintf(buf, sizeof(buf), "%d.%014llu%se%d",
		    (int)(1 + next() % 9),
		    (unsigned long long)(next() % 100000000000000ULL),
		    n % 2 ? "50" : "05", (int)(next() % 40) - 20);
		same(strtod(buf, NULL));
		same(nextafter(strtod(buf, NULL), 0));
	}
	check(nbad == 0, "%zu decimals at a tie and next to one (%zu differ)",
	    2 * n, nbad);
	return tap_done();
}
