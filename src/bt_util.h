/*
 * bt_util.h - the ground every bt module stands on: exit codes, the
 * program's identity, time (BT_NOW) and slots, timeframes and symbols,
 * diagnostics and redaction, JSON lines, files, /proc identity, buffers.
 * It reads no configuration and opens no database.
 *
 * The library has one header per module (bt_util.h, bt_conf.h,
 * bt_lock.h, bt_db.h, ...), each named for the one thing its .c file
 * owns and including the headers of the modules it builds on: a file's
 * #include lines show its place in the layers, and a call upward would
 * need an include that says so.  (mblaze's one header in sections serves
 * a flat library; this one has about twenty modules on seven floors, and
 * a header each also lets work on different modules proceed without a
 * shared file in the way.)  The layers, ground first: bt_util, bt_ind;
 * bt_conf, bt_parse; bt_lock, bt_http; bt_db; bt_store, bt_state,
 * bt_market; bt_indtab, bt_cov; bt_migrate; then the engines of the
 * programs; then the six programs.
 *
 * Library functions never exit: they return -1 (or NULL) and leave a
 * one-line reason in an `err' buffer of BT_ERRLEN bytes, or return one of
 * the exit codes below.  They print only the JSON lines and diagnostics
 * that are their job (bt_emit(), bt_event()); the programs choose the
 * exit status.
 */
#ifndef BT_UTIL_H
#define BT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define BT_VERSION	"1.0.0"
#define BT_ERRLEN	512

/* Exit codes: contracts.md, the same in every program. */
enum {
	BT_EX_OK = 0,
	BT_EX_FOUND = 1,	/* checked and found a problem */
	BT_EX_USAGE = 64,
	BT_EX_DATAERR = 65,
	BT_EX_NOINPUT = 66,
	BT_EX_UNAVAILABLE = 69,
	BT_EX_SOFTWARE = 70,
	BT_EX_CANTCREAT = 73,
	BT_EX_IOERR = 74,
	BT_EX_TEMPFAIL = 75,
	BT_EX_CONFIG = 78,
};

/* Sets the program name, umask 027, line-buffered stdout, reads BT_NOW. */
int	 bt_init(const char *prog, char *err);
const char *bt_prog(void);
bool	 bt_wants_help(int argc, char *argv[]);	/* -h or --help given */
/* Of two exit codes, the one contracts.md says a run ends with. */
int	 bt_exit_worse(int a, int b);
/* Flushes stdout; a failed write of the JSON lines turns `code' into 74. */
int	 bt_finish(int code);

/* Time.  Wall clock is BT_NOW when set; durations use CLOCK_MONOTONIC. */
int64_t	 bt_now_ms(void);
bool	 bt_now_frozen(void);
void	 bt_set_now(int64_t ms);	/* freezes the wall clock (BT_NOW) */
double	 bt_mono(void);
int	 bt_parse_time(const char *s, int64_t *ms);	/* ISO 8601 UTC */
/* Days from 1970-01-01 to y-m-d (m 1..12), proleptic Gregorian. */
int64_t	 bt_days_from_civil(int64_t y, int m, int d);
char	*bt_fmt_time(int64_t ms, char buf[32]);		/* 2022-10-11T00:00:00Z */
void	 bt_sleep(double seconds);

/* Scheduled slots ("03:00", "sun 03:00", "1 05:00"): the latest <= now. */
int	 bt_slot_latest(const char *spec, int64_t now, int64_t *slot,
	    char *err);

/* Timeframes (Binance's spelling) and the seed's table names. */
int64_t	 bt_tf_ms(const char *tf);			/* 0 when unknown */
const char *bt_tf_of_ms(int64_t ms);		/* NULL when none */
const char *bt_tf_view(const char *tf);			/* "ohlcv_h1" or NULL */
bool	 bt_symbol_ok(const char *s);			/* ^[A-Z0-9]{2,20}$ */
/* A bar size's spelling: N (1..100000) then m, h, d, w or M.  0 or -1. */
int	 bt_tf_parse(const char *tf, long *n, char *unit);

/* Diagnostics to stderr: "bt-fetch: message".  Secrets are redacted. */
void	 bt_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 bt_set_diag(FILE *fp);		/* NULL: silent (fuzzers) */
const char *bt_first_diag(void);		/* "" when none yet */
/* bt_warnx(), and the first such line kept in first[len]. */
void	 bt_vwarnx_keep(char *first, size_t len, const char *fmt, va_list ap);
void	 bt_note_problem(const char *msg);	/* a WARNING/CRITICAL's text */
/* Removes Telegram tokens and API keys from s, in place. */
void	 bt_redact(char *s);
void	 bt_redact_add(const char *secret);	/* also redact this literal */

/* Valid UTF-8 (invalid bytes as U+FFFD), malloc'd; its JSON string. */
char	*bt_utf8(const char *s);
json_t	*bt_jstr(const char *s);

/* JSON lines on stdout: {"ts":..,"prog":..,"event":..,...}. */
json_t	*bt_rec(const char *event);
void	 bt_rec_dur(json_t *rec, const char *key, double seconds);
void	 bt_emit(json_t *rec);			/* prints one line, decrefs */
char	*bt_json_line(json_t *rec);		/* the same line, malloc'd */

/* Files. */
int	 bt_mkdirs(const char *path, int mode, char *err);
int	 bt_fsync_dir(const char *path, char *err);
/* Writes data to path.tmp, fsyncs, renames onto path, fsyncs the dir. */
int	 bt_write_atomic(const char *path, const void *data, size_t len,
	    int mode, char *err);
char	*bt_read_file(const char *path, size_t max, size_t *len, char *err);

/* Process identity, for status files and db/LOCKED. */
int64_t	 bt_proc_start_ticks(long pid);		/* field 22, or -1 */
int	 bt_proc_stat(long pid, char *state, int64_t *v, int from, int n);
const char *bt_boot_id(void);

/* Small growable string. */
struct bt_buf {
	char	*p;
	size_t	 len, cap;
};
void	 bt_buf_add(struct bt_buf *b, const void *p, size_t n);
void	 bt_buf_printf(struct bt_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 bt_buf_free(struct bt_buf *b);

uint64_t bt_hash64(const void *p, size_t n, uint64_t h);	/* FNV-1a */

/* Splits a comma- or space-separated list; returns the count. */
int	 bt_list_split(const char *s, char ***out);
void	 bt_list_free(char **v, int n);

#endif /* BT_UTIL_H */
