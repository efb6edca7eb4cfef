/*
 * bt_util.c - identity, time, JSON lines, files and locks shared by all
 * bt programs.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_util.h"

static const char *prog = "bt";
static int64_t	 frozen_ms = -1;	/* BT_NOW, or -1 */

#define MAXSECRETS 4
static char	*secrets[MAXSECRETS];

int
bt_init(const char *name, char *err)
{
	const char *now;

	prog = name;
	umask(027);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A closed reader must give EPIPE and exit 74, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((now = getenv("BT_NOW")) != NULL && *now != '\0') {
		if (bt_parse_time(now, &frozen_ms) == -1) {
			snprintf(err, BT_ERRLEN,
			    "BT_NOW: '%s' is not an ISO 8601 UTC time", now);
			return BT_EX_CONFIG;
		}
	}
	return 0;
}

/*
 * Whether argv asks for help (-h or --help before any "--"): programs
 * answer it before reading their configuration, so that --help works
 * on a host whose bt.conf is broken.
 */
bool
bt_wants_help(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

const char *
bt_prog(void)
{
	return prog;
}

/*
 * contracts.md: "When one run meets several failures, it exits with the
 * first that applies in this order: 75, 78, 69, 65, 74, 70.  Every one of
 * these outranks 1."  Other sysexits codes rank just after 70.
 */
static int
rank(int code)
{
	static const int order[] = { 75, 78, 69, 65, 74, 70, 73, 66, 64 };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == code)
			return (int)i;
	if (code == 0)
		return 1000;
	if (code == 1)
		return 999;
	return 100;
}

int
bt_exit_worse(int a, int b)
{
	return rank(a) <= rank(b) ? a : b;
}

int
bt_finish(int code)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		bt_warnx("write to stdout: %s", strerror(errno));
		return bt_exit_worse(code, BT_EX_IOERR);
	}
	return code;
}

/* ------------------------------------------------------------------ time */

int64_t
bt_now_ms(void)
{
	struct timespec ts;

	if (frozen_ms >= 0)
		return frozen_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
bt_now_frozen(void)
{
	return frozen_ms >= 0;
}

void
bt_set_now(int64_t ms)
{
	frozen_ms = ms;
}

double
bt_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
bt_sleep(double s)
{
	struct timespec ts;

	if (!(s > 0))
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Hinnant). */
int64_t
bt_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * ISO 8601 in UTC: 2022-10-11, 2022-10-11T00:00, 2022-10-11T00:00:00,
 * with optional .fff and a Z or +00:00; a space may stand for the T.
 * A plain integer is taken as ms since the epoch.
 */
int
bt_parse_time(const char *s, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, frac = 0, fd = 0;
	size_t k = strspn(p, "0123456789");
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (*p != '\0' && p[k] == '\0' && k >= 9 && k <= 16) {
		*ms = strtoll(p, NULL, 10);
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se))
				return -1;
			if (*p == '.') {
				p++;
				while (isdigit((unsigned char)*p)) {
					if (fd < 3) {
						frac = frac * 10 + (*p - '0');
						fd++;
					}
					p++;
				}
				if (fd == 0)
					return -1;
				while (fd < 3) {
					frac *= 10;
					fd++;
				}
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return -1;
	}
	if (*p == 'Z')
		p++;
	else if (strcmp(p, "+00:00") == 0 || strcmp(p, "+0000") == 0)
		p += strlen(p);
	if (*p != '\0')
		return -1;
	*ms = ((bt_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
	    (int64_t)se * 1000 + frac;
	return 0;
}

char *
bt_fmt_time(int64_t ms, char buf[32])
{
	time_t t;
	struct tm tm;
	int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int frac = (int)(ms - sec * 1000);

	t = (time_t)sec;
	gmtime_r(&t, &tm);
	if (frac != 0)
		snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, frac);
	else
		snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	return buf;
}

/* ----------------------------------------------------------------- slots */

/*
 * A slot: "HH:MM" (every day), "sun HH:MM" (a weekday) or "1 HH:MM" (a
 * day of the month, 1..28), UTC.  The latest slot at or before now.
 */
int
bt_slot_latest(const char *spec, int64_t now, int64_t *slot, char *err)
{
	static const char *dows[] = { "sun", "mon", "tue", "wed", "thu", "fri",
	    "sat" };
	char word[8] = "";
	int h, m, dow = -1, mday = 0, i, n;
	int64_t day, t;
	time_t tt;
	struct tm tm;

	if (sscanf(spec, "%2d:%2d%n", &h, &m, &n) == 2 && spec[n] == '\0')
		;
	else if (sscanf(spec, "%7s %2d:%2d%n", word, &h, &m, &n) == 3 &&
	    spec[n] == '\0') {
		for (i = 0; i < 7; i++)
			if (strcmp(word, dows[i]) == 0)
				dow = i;
		if (dow < 0 && ((mday = atoi(word)) < 1 || mday > 28 ||
		    strspn(word, "0123456789") != strlen(word)))
			goto bad;
	} else
		goto bad;
	if (h > 23 || m > 59 || h < 0 || m < 0)
		goto bad;
	/* Walk back a day at a time: at most 31 steps. */
	day = now - now % 86400000;
	for (i = 0; i < 62; i++, day -= 86400000) {
		t = day + (int64_t)h * 3600000 + (int64_t)m * 60000;
		if (t > now)
			continue;
		tt = (time_t)(day / 1000);
		gmtime_r(&tt, &tm);
		if ((dow >= 0 && tm.tm_wday != dow) ||
		    (mday > 0 && tm.tm_mday != mday))
			continue;
		*slot = t;
		return 0;
	}
bad:
	snprintf(err, BT_ERRLEN, "'%s' is not a slot (HH:MM, DAY HH:MM with "
	    "DAY sun..sat, or 1..28 HH:MM)", spec);
	return -1;
}

/* ------------------------------------------------------------ timeframes */

static const struct {
	const char *tf, *view;
	int64_t ms;
} tfs[] = {
	{ "1m", NULL, 60000 },
	{ "3m", NULL, 180000 },
	{ "5m", NULL, 300000 },
	{ "15m", "ohlcv_m15", 900000 },
	{ "30m", NULL, 1800000 },
	{ "1h", "ohlcv_h1", 3600000 },
	{ "2h", NULL, 7200000 },
	{ "4h", "ohlcv_h4", 14400000 },
	{ "6h", NULL, 21600000 },
	{ "8h", NULL, 28800000 },
	{ "12h", NULL, 43200000 },
	{ "1d", "ohlcv_d1", 86400000 },
};

int64_t
bt_tf_ms(const char *tf)
{
	size_t i;

	for (i = 0; tf != NULL && i < sizeof(tfs) / sizeof(tfs[0]); i++)
		if (strcmp(tfs[i].tf, tf) == 0)
			return tfs[i].ms;
	return 0;
}

const char *
bt_tf_of_ms(int64_t ms)
{
	size_t i;

	for (i = 0; i < sizeof(tfs) / sizeof(tfs[0]); i++)
		if (tfs[i].ms == ms)
			return tfs[i].tf;
	return NULL;
}

const char *
bt_tf_view(const char *tf)
{
	size_t i;

	for (i = 0; tf != NULL && i < sizeof(tfs) / sizeof(tfs[0]); i++)
		if (strcmp(tfs[i].tf, tf) == 0)
			return tfs[i].view;
	return NULL;
}

int
bt_tf_parse(const char *tf, long *n, char *unit)
{
	char *end;

	if (tf == NULL || *tf < '1' || *tf > '9')
		return -1;
	*n = strtol(tf, &end, 10);
	if (*n < 1 || *n > 100000 || end[0] == '\0' || end[1] != '\0' ||
	    strchr("mhdwM", end[0]) == NULL)
		return -1;
	*unit = end[0];
	return 0;
}

bool
bt_symbol_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if (!(isupper((unsigned char)s[n]) ||
		    isdigit((unsigned char)s[n])))
			return false;
	return n >= 2 && n <= 20;
}

/* ----------------------------------------------------------- diagnostics */

void
bt_redact_add(const char *secret)
{
	int i;

	if (secret == NULL || strlen(secret) < 4)
		return;
	for (i = 0; i < MAXSECRETS; i++) {
		if (secrets[i] != NULL && strcmp(secrets[i], secret) == 0)
			return;
		if (secrets[i] == NULL) {
			secrets[i] = strdup(secret);
			return;
		}
	}
}

static void
cut(char *s, size_t at, size_t n, const char *with)
{
	size_t wl = strlen(with), rest = strlen(s + at + n);

	/* Never longer than what it replaces ("bot9:" -> "bot**"). */
	if (wl > n)
		wl = n;
	memcpy(s + at, with, wl);
	memmove(s + at + wl, s + at + n, rest + 1);
}

/*
 * Telegram puts the token in the URL path ("bot123:AA..."), and curl's
 * error texts quote URLs; FRED puts its key in the query.  Every string
 * that may reach stderr, a log or an event goes through here.
 */
void
bt_redact(char *s)
{
	char *p, *q;
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < MAXSECRETS; i++)
		while (secrets[i] != NULL && (p = strstr(s, secrets[i])) != NULL)
			cut(s, (size_t)(p - s), strlen(secrets[i]), "***");
	for (p = s; (p = strstr(p, "bot")) != NULL; p += 3) {
		q = p + 3;
		while (isdigit((unsigned char)*q))
			q++;
		if (q == p + 3 || *q != ':')
			continue;
		q++;
		while (isalnum((unsigned char)*q) || *q == '_' || *q == '-')
			q++;
		cut(s, (size_t)(p + 3 - s), (size_t)(q - p - 3), "***");
	}
	for (p = s; (p = strstr(p, "api_key=")) != NULL; p += 8) {
		q = p + 8;
		while (*q != '\0' && *q != '&' && !isspace((unsigned char)*q))
			q++;
		if (q - p - 8 > 3)
			cut(s, (size_t)(p + 8 - s), (size_t)(q - p - 8), "***");
	}
}

static FILE	*diag;
static bool	 diag_off;
static char	 first_diag[BT_ERRLEN];	/* the run's first diagnostic */
static char	 first_problem[BT_ERRLEN];	/* its first WARNING/CRITICAL */

/* Where diagnostics go: stderr by default, nowhere with NULL (fuzzers). */
void
bt_set_diag(FILE *fp)
{
	diag = fp;
	diag_off = fp == NULL;
}

void
bt_warnx(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (diag_off)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	bt_redact(buf);
	if (first_diag[0] == '\0')
		snprintf(first_diag, sizeof(first_diag), "%s", buf);
	fprintf(diag != NULL ? diag : stderr, "%s: %s\n", prog, buf);
}

/*
 * bt_warnx() of a failure that a caller also keeps: the first such line
 * (redacted) goes into first[len] when it is still empty.
 */
void
bt_vwarnx_keep(char *first, size_t len, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	bt_warnx("%s", buf);
	if (first[0] == '\0') {
		bt_redact(buf);
		snprintf(first, len, "%s", buf);
	}
}

/*
 * The first diagnostic this run printed, redacted, or else the message
 * of its first WARNING or CRITICAL: what a failed run's runs row says
 * went wrong (bt-watchdog quotes it).
 */
const char *
bt_first_diag(void)
{
	return first_diag[0] != '\0' ? first_diag : first_problem;
}

/* The first WARNING or CRITICAL this run raised, when it printed none. */
void
bt_note_problem(const char *msg)
{
	if (first_problem[0] == '\0')
		snprintf(first_problem, sizeof(first_problem), "%s", msg);
}

/* ------------------------------------------------------------ JSON lines */

/*
 * s as valid UTF-8, malloc'd: every byte that does not start or continue
 * a well-formed sequence (overlong forms, surrogates and code points past
 * U+10FFFF included, as jansson refuses them) becomes U+FFFD.  JSON
 * strings must be UTF-8, and a path or a message with a byte 0xFF would
 * otherwise make jansson drop the whole field, and with it the event.
 */
char *
bt_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct bt_buf b = { 0 };
	size_t i = 0, n, k;
	uint32_t cp;

	if (s == NULL)
		return NULL;
	bt_buf_add(&b, "", 0);
	while (p[i] != '\0') {
		n = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 :
		    (p[i] & 0xf0) == 0xe0 ? 3 : (p[i] & 0xf8) == 0xf0 ? 4 : 0;
		cp = n == 1 ? p[i] : n == 2 ? p[i] & 0x1f : n == 3 ?
		    p[i] & 0x0f : p[i] & 0x07;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (n == 0 || k < n || (n == 2 && cp < 0x80) ||
		    (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			bt_buf_add(&b, "\xef\xbf\xbd", 3);	/* U+FFFD */
			i++;
			continue;
		}
		bt_buf_add(&b, p + i, n);
		i += n;
	}
	return b.p;
}

/* json_string() of bt_utf8(s): never NULL for a string, json null for
 * NULL. */
json_t *
bt_jstr(const char *s)
{
	char *u;
	json_t *j;

	if (s == NULL)
		return json_null();
	u = bt_utf8(s);
	j = json_string(u);
	free(u);
	return j;
}

json_t *
bt_rec(const char *event)
{
	char ts[32];

	return json_pack("{s:s, s:s, s:s}", "ts",
	    bt_fmt_time(bt_now_ms(), ts), "prog", prog, "event", event);
}

/* contracts.md: with BT_NOW set, durations are left out of the output. */
void
bt_rec_dur(json_t *rec, const char *key, double seconds)
{
	if (!bt_now_frozen())
		json_object_set_new(rec, key,
		    json_real(round(seconds * 1000) / 1000));
}

char *
bt_json_line(json_t *rec)
{
	char *s;

	s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15));
	if (s != NULL)
		bt_redact(s);
	return s;
}

void
bt_emit(json_t *rec)
{
	char *s;

	if (rec == NULL)
		return;
	if ((s = bt_json_line(rec)) != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	json_decref(rec);
}

/* ----------------------------------------------------------------- files */

int
bt_mkdirs(const char *path, int mode, char *err)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		snprintf(err, BT_ERRLEN, "%s: path too long", path);
		return -1;
	}
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) == -1 && errno != EEXIST) {
			snprintf(err, BT_ERRLEN, "mkdir %s: %s", buf,
			    strerror(errno));
			return -1;
		}
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

int
bt_fsync_dir(const char *path, char *err)
{
	char dir[PATH_MAX], *s;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((s = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (s == dir)
		dir[1] = '\0';
	else
		*s = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, BT_ERRLEN, "fsync %s: %s", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
bt_write_atomic(const char *path, const void *data, size_t len, int mode,
    char *err)
{
	char tmp[PATH_MAX];
	const char *p = data;
	ssize_t w;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd == -1) {
		snprintf(err, BT_ERRLEN, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return bt_fsync_dir(path, err);
fail:
	snprintf(err, BT_ERRLEN, "write %s: %s", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/*
 * Read straight into one buffer, sized once by fstat() for a regular
 * file (a candle file of a year is megabytes: growing by doubling, or
 * through a chunk, copied it two or three times over).
 */
char *
bt_read_file(const char *path, size_t max, size_t *len, char *err)
{
	struct bt_buf b = { 0 };
	struct stat st;
	size_t want;
	ssize_t r;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, BT_ERRLEN, "%s: %s", path, strerror(errno));
		return NULL;
	}
	want = 65536;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		want = (size_t)st.st_size < max ? (size_t)st.st_size + 1 :
		    max + 1;
	for (;;) {
		if (b.cap - b.len < 2) {
			b.cap = b.cap ? b.cap * 2 : want + 1;
			if ((b.p = realloc(b.p, b.cap)) == NULL)
				abort();
		}
		r = read(fd, b.p + b.len, b.cap - b.len - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, BT_ERRLEN, "%s: read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > max) {
			snprintf(err, BT_ERRLEN, "%s: larger than %zu bytes",
			    path, max);
			goto fail;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	b.p[b.len] = '\0';		/* NUL-terminated for parsers */
	*len = b.len;
	return b.p;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	bt_buf_free(&b);
	return NULL;
}

/*
 * /proc/PID/stat: the state (field 3) into *state, and the numeric fields
 * from..from+n-1 into v.  The command name may hold spaces and
 * parentheses, so fields are counted from the last ')'.  Returns 0, or -1
 * when the process is gone or the line is short.
 */
int
bt_proc_stat(long pid, char *state, int64_t *v, int from, int n)
{
	char path[64], buf[4096], *p, *end;
	size_t len;
	FILE *fp;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0 || (fp = fopen(path, "re")) == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	if (state != NULL)
		*state = p[2];
	p += 2;				/* at field 3 */
	for (field = 3; field < from + n; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return -1;
		if (field >= from) {
			v[field - from] = strtoll(p, &end, 10);
			p = end;
		} else
			while (*p != ' ' && *p != '\0')
				p++;
	}
	return 0;
}

int64_t
bt_proc_start_ticks(long pid)
{
	int64_t v;

	return bt_proc_stat(pid, NULL, &v, 22, 1) == 0 ? v : -1;
}

/*
 * The boot id, from /proc; BT_BOOT_ID overrides it, for tests only (the
 * chaos campaign simulates a reboot with it; bt-watchdog(1) documents it).
 */
const char *
bt_boot_id(void)
{
	static char id[64];
	const char *o;
	FILE *fp;

	if (id[0] != '\0')
		return id;
	if ((o = getenv("BT_BOOT_ID")) != NULL && *o != '\0') {
		snprintf(id, sizeof(id), "%s", o);
		return id;
	}
	if ((fp = fopen("/proc/sys/kernel/random/boot_id", "re")) != NULL) {
		if (fgets(id, sizeof(id), fp) == NULL)
			id[0] = '\0';
		fclose(fp);
	}
	id[strcspn(id, "\n")] = '\0';
	return id;
}

/* ----------------------------------------------------------------- lists */

int
bt_list_split(const char *s, char ***out)
{
	char *copy, *tok, *save = NULL;
	char **v = NULL;
	int n = 0;

	if ((copy = strdup(s)) == NULL)
		abort();
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if ((v = realloc(v, sizeof(*v) * (size_t)(n + 1))) == NULL ||
		    (v[n++] = strdup(tok)) == NULL)
			abort();
	}
	free(copy);
	*out = v;
	return n;
}

void
bt_list_free(char **v, int n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

/* ---------------------------------------------------------------- buffers */

void
bt_buf_add(struct bt_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
bt_buf_printf(struct bt_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	bt_buf_add(b, s, (size_t)n);
	free(s);
}

void
bt_buf_free(struct bt_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

uint64_t
bt_hash64(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
