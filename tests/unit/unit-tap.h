/*
 * unit-tap.h - TAP and output capture for the engine tests
 * (check-test.c, watch-test.c), one program each, included once.
 *
 * ok() prints a TAP line on the real stdout, kept as `tap'; the lines the
 * engine prints go to stdout, which capture() points at a file anew, and
 * lines_with() counts what they hold.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *tap;
static int ntest, nfail;
static char outpath[4096];

static void
ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(tap, "%s %d - ", cond ? "ok" : "not ok", ++ntest);
	va_start(ap, fmt);
	vfprintf(tap, fmt, ap);
	va_end(ap);
	fprintf(tap, "\n");
	fflush(tap);
	if (!cond)
		nfail++;
}

static void
die(const char *what, const char *err)
{
	fprintf(tap, "Bail out! %s: %s\n", what, err);
	exit(1);
}

/* Keeps the real stdout for TAP; captures go to $HOME/NAME.out. */
static void
tap_begin(const char *name)
{
	int fd;

	if ((fd = dup(1)) == -1 || (tap = fdopen(fd, "w")) == NULL)
		exit(2);
	snprintf(outpath, sizeof(outpath), "%s/%s.out",
	    getenv("HOME") ? getenv("HOME") : ".", name);
}

/* The plan; the exit status. */
static int
tap_end(void)
{
	fprintf(tap, "1..%d\n", ntest);
	fclose(tap);
	return nfail != 0;
}

/* Starts capturing stdout anew. */
static void
capture(void)
{
	fflush(stdout);
	if (freopen(outpath, "w", stdout) == NULL)
		die("freopen", outpath);
}

/* How many captured lines contain `s' (NULL: all). */
static int
lines_with(const char *s)
{
	FILE *fp;
	char line[8192];
	int n = 0;

	fflush(stdout);
	if ((fp = fopen(outpath, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (s == NULL || strstr(line, s) != NULL)
			n++;
	fclose(fp);
	return n;
}
