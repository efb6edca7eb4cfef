/*
 * tap.h - the TAP lines of the unit tests in tests/unit: "ok N - what",
 * numbered from the offset that -o gives, diagnostics as "# ...", the
 * plan last.  -q prints only the failures and the plan.  Header-only:
 * each test is one file built with the library's sources (2080,
 * tests/unit/engine.sh).
 */
#ifndef TAP_H
#define TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int	 tap_n, tap_fail, tap_quiet, tap_offset;

static void __attribute__((format(printf, 2, 3)))
check(int ok, const char *fmt, ...)
{
	va_list	 ap;

	tap_n++;
	if (!ok)
		tap_fail++;
	if (ok && tap_quiet)
		return;
	printf("%sok %d - ", ok ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list	 ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* got is want to tol relative (tol absolute near zero). */
static int __attribute__((unused))
within(double got, double want, double tol)
{
	return fabs(got - want) <= tol * fmax(1, fabs(want));
}

/* ... to 1e-12: the same arithmetic in another order. */
static int __attribute__((unused))
near(double got, double want)
{
	return within(got, want, 1e-12);
}

/* A number checked to tol, saying both when they differ. */
static void __attribute__((unused))
check_tol(double got, double want, double tol, const char *what)
{
	if (within(got, want, tol))
		check(1, "%s = %.17g", what, want);
	else
		check(0, "%s = %.17g, want %.17g", what, got, want);
}

/* [-q] [-o offset]; exits 2 on anything else. */
static void
tap_args(int argc, char *argv[], const char *prog)
{
	int ch;

	while ((ch = getopt(argc, argv, "qo:")) != -1) {
		if (ch == 'q')
			tap_quiet = 1;
		else if (ch == 'o')
			tap_offset = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-q] [-o offset]\n", prog);
			exit(2);
		}
	}
	tap_n = tap_offset;
}

/* The plan; the exit status: 0 when every check passed. */
static int
tap_done(void)
{
	diag("%d checks, %d failed", tap_n - tap_offset, tap_fail);
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}

#endif /* TAP_H */
