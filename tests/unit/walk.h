/*
 * walk.h - the 500000-bar random walk of tests/data/backtesting-py
 * (FIXTURES.md, walk-rolling.json): splitmix64 steps, x[0] = 100,
 * x[i] = x[i - 1] * (1 + (u - 0.5) * 0.02), u uniform in [0, 1) on 53
 * bits.  IEEE-754 doubles, round to nearest, no fused multiply-add.
 * Header-only: rolling-test.c and walk-csv.c include it.
 */
#ifndef WALK_H
#define WALK_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <stddef.h>
#include <stdint.h>

#define WALK_N		500000
#define WALK_SEED	20260101ULL

static void
walk(double *x, size_t n)
{
	uint64_t s = WALK_SEED, z;
	double u, r;
	size_t i;

	x[0] = 100.0;
	for (i = 1; i < n; i++) {
		s += 0x9E3779B97F4A7C15ULL;
		z = s;
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		z ^= z >> 31;
		u = (double)(z >> 11) * (1.0 / 9007199254740992.0);
		r = (u - 0.5) * 0.02;
		x[i] = x[i - 1] * (1.0 + r);
	}
}

#endif /* WALK_H */
