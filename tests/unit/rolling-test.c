/*
 * rolling-test.c - bt_sma_pandas() (bt_ind.c) against pandas 1.5.3's
 * rolling(n).mean() on the 500000-bar random walk of walk.h, and bt_sma()
 * against TA-Lib's order on the same walk: the walk, then each mean, by
 * the SHA-256 of its little-endian doubles and by samples, as
 * tests/data/backtesting-py/walk-rolling.json holds them (made by the
 * real pandas, FIXTURES.md).
 *
 * usage: rolling-test [-q] [-o offset]
 *
 * Reads the fixture from $BT_SRC.  Prints TAP (tap.h).  Exits 0 when
 * every check passed.
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include <jansson.h>

#include "bt_ind.h"
#include "tap.h"
#include "walk.h"

/* SHA-256 (FIPS 180-4), enough for a test: one message, in memory. */
static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
		    (w[i - 15] >> 3)) + w[i - 7] + (ROR(w[i - 2], 17) ^
		    ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
	a = h[0], b = h[1], c = h[2], d = h[3];
	e = h[4], f = h[5], g = h[6], k = h[7];
	for (i = 0; i < 64; i++) {
		t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + K256[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* The hex SHA-256 of n doubles, little-endian, NaN as 0x7ff8000000000000. */
static void
sha_doubles(const double *x, size_t n, char hex[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	unsigned char blk[64];
	uint64_t bits = (uint64_t)n * 64, v;
	size_t i, k = 0;
	int j;

	for (i = 0; i < n; i++) {
		if (isnan(x[i]))
			v = 0x7ff8000000000000ULL;
		else
			memcpy(&v, &x[i], 8);
		for (j = 0; j < 8; j++)
			blk[k++] = (unsigned char)(v >> (8 * j));
		if (k == 64) {
			sha256_block(h, blk);
			k = 0;
		}
	}
	blk[k++] = 0x80;
	if (k > 56) {
		memset(blk + k, 0, 64 - k);
		sha256_block(h, blk);
		k = 0;
	}
	memset(blk + k, 0, 56 - k);
	for (j = 0; j < 8; j++)
		blk[56 + j] = (unsigned char)(bits >> (56 - 8 * j));
	sha256_block(h, blk);
	for (j = 0; j < 8; j++)
		snprintf(hex + 8 * j, 9, "%08x", h[j]);
}

static void
check_sha(const double *x, json_t *want, const char *what)
{
	char hex[65];

	sha_doubles(x, WALK_N, hex);
	check(json_is_string(want) && strcmp(hex, json_string_value(want)) ==
	    0, "%s: SHA-256 %.16s... as the fixture's", what, hex);
}

/* The fixture's samples {"i": value} (null: NaN) of x. */
static void
check_samples(const double *x, json_t *samples, const char *what)
{
	const char *k;
	json_t *v;
	size_t bad = 0, n = 0;

	json_object_foreach(samples, k, v) {
		n++;
		if (json_is_null(v) ? !isnan(x[atol(k)]) :
		    x[atol(k)] != json_real_value(v))
			bad++;
	}
	check(n > 90 && bad == 0, "%s: %zu samples, %zu differ", what, n, bad);
}

int
main(int argc, char *argv[])
{
	static double x[WALK_N], m[WALK_N];
	static const int ns[] = { 2, 10, 30, 50 };
	const char *src = getenv("BT_SRC");
	char path[4096], what[64];
	json_error_t je;
	json_t *fx, *r, *last;
	size_t i, k, bad;

	tap_args(argc, argv, "rolling-test");
	snprintf(path, sizeof(path), "%s/tests/data/backtesting-py/"
	    "walk-rolling.json", src != NULL ? src : ".");
	if ((fx = json_load_file(path, 0, &je)) == NULL) {
		check(0, "%s: %s", path, je.text);
		return tap_done();
	}
	walk(x, WALK_N);
	check(x[4999] == 146.10331776225865 && x[499999] == 1.3725206455684851,
	    "walk: x[4999] and x[499999] as FIXTURES.md says");
	check_sha(x, json_object_get(fx, "x_sha256"), "walk");
	check_samples(x, json_object_get(fx, "x_samples"), "walk");
	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		snprintf(what, sizeof(what), "%d", ns[k]);
		r = json_object_get(json_object_get(fx, "rolling"), what);
		check(bt_sma_pandas(x, WALK_N, ns[k], m) == ns[k] - 1,
		    "rolling(%d): lookback %d", ns[k], ns[k] - 1);
		snprintf(what, sizeof(what), "rolling(%d).mean()", ns[k]);
		check_sha(m, json_object_get(r, "sha256"), what);
		check_samples(m, json_object_get(r, "every_4999th"), what);
		last = json_object_get(r, "last_100");
		for (i = 0, bad = 0; i < 100; i++)
			bad += m[WALK_N - 100 + i] !=
			    json_real_value(json_array_get(last, i));
		check(json_array_size(last) == 100 && bad == 0,
		    "%s: the last 100 equal pandas' (%zu differ)", what, bad);
		bt_sma(x, WALK_N, ns[k], m);
		snprintf(what, sizeof(what), "SMA(%d), TA-Lib's", ns[k]);
		check_sha(m, json_object_get(r, "talib_sha256"), what);
	}
	json_decref(fx);
	return tap_done();
}
