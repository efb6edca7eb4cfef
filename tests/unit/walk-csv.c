/*
 * walk-csv.c - writes the random walk of walk.h as an OHLCV CSV, as
 * backtesting.py's fixtures saw it (walk-smacross.jsonl): Open = High =
 * Low = Close = x, no Volume, a 1-minute index from 2020-01-01 00:00
 * (as epoch seconds).  Prices in %.17g, which read back as the same
 * doubles.
 *
 * usage: walk-csv >walk.csv
 */
#include <stdio.h>

#include "walk.h"

int
main(void)
{
	static double x[WALK_N];
	long i;

	walk(x, WALK_N);
	printf(",Open,High,Low,Close\n");
	for (i = 0; i < WALK_N; i++)
		printf("%ld,%.17g,%.17g,%.17g,%.17g\n", 1577836800L + 60 * i,
		    x[i], x[i], x[i], x[i]);
	return ferror(stdout) ? 1 : 0;
}
