/*
 * decimal-test.c - bt_parse_decimal() (bt_parse.c) gives strtod()'s bits:
 * its fast path (m / 10^k, Clinger's) on a million random decimals of
 * every length it takes and just past, and on the edges; and it refuses
 * what it always refused.
 *
 * usage: decimal-test [-q] [-o offset]
 *
 * Prints TAP (tap.h).  Exits 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include "bt_parse.h"
#include "tap.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(int argc, char *argv[])
{
	static const char *edge[] = { "0", "-0", "0.0", "5.", "9007199254740992",
	    "9007199254740993", "0.1", "0.0000000000000000000001",
	    "0.00000000000000000000001", "1234567890123456789",
	    "12345678901234567890", "43210.50000000", "8.4E-7", "1e22",
	    "0.30000000000000004", "-123.456", NULL };
	static const char *bad[] = { "", ".5", "-", "--1", "1.2.3", "1,5",
	    " 1", "nan", "inf", "0x10", "1e", NULL };
	char buf[64], *end;
	double got, want;
	size_t i, bad_bits = 0, n = 1000000;
	int len, k, j, dot;

	tap_args(argc, argv, "decimal-test");
	for (i = 0; edge[i] != NULL; i++) {
		want = strtod(edge[i], &end);
		check(bt_parse_decimal(edge[i], strlen(edge[i]), &got) == 0 &&
		    memcmp(&got, &want, sizeof(got)) == 0, "'%s' as strtod",
		    edge[i]);
	}
	for (i = 0; bad[i] != NULL; i++)
		check(bt_parse_decimal(bad[i], strlen(bad[i]), &got) == -1,
		    "'%s' is refused", bad[i]);
	for (i = 0; i < n; i++) {
		len = 1 + (int)(next() % 21);
		dot = (int)(next() % (unsigned)(len + 2)) - 1;
		k = 0;
		if (next() % 4 == 0)
			buf[k++] = '-';
		for (j = 0; j < len; j++) {
			if (j == dot && j > 0)
				buf[k++] = '.';
			buf[k++] = (char)('0' + next() % 10);
		}
		buf[k] = '\0';
		want = strtod(buf, NULL);
		if (bt_parse_decimal(buf, (size_t)k, &got) != 0 ||
		    memcmp(&got, &want, sizeof(got)) != 0) {
			if (bad_bits++ == 0)
				diag("'%s': %.17g, strtod %.17g", buf, got, want);
		}
	}
	check(bad_bits == 0, "%zu random decimals of 1 to 21 digits: the bits "
	    "of strtod (%zu differ)", n, bad_bits);
	return tap_done();
}
