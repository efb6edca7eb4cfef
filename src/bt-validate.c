/*
 * bt-validate - one run says whether the store can be trusted: staleness
 * and coverage, gaps, candle sanity, schema and, on request, SQLite's own
 * integrity check.
 *
 *	bt-validate [-nqv] [-d db] [--full] [--integrity quick | full] [--tf list]
 *	    [--if-due]
 *	bt-validate --gaps [-v] [-d db] [--full] [--tf list]
 *	bt-validate --accept [symbol tf from to [note]]
 *
 * Invariants:
 * - The store is opened read-only and never changed.  The only writes go
 *   to the state file: events, this run's `runs' row, cleared dirty
 *   ranges and accepted gaps (-n writes nothing at all).
 * - The routine run reads the newest row of each configured pair and the
 *   dirty ranges bt-fetch recorded, each with its stored neighbour on
 *   either side, so its cost follows what changed, not the history.
 *   --full reads every candle.
 * - A dirty range is cleared once it checked clean.  A range holding a
 *   finding stays dirty, so it is reported again every run until it is
 *   re-fetched or accepted.
 * - One JSON line per finding, each also an event; exit 0 when nothing is
 *   CRITICAL, 1 otherwise.  A store that will not open is a finding.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_cov.h"
#include "bt_db.h"
#include "bt_indtab.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_parse.h"
#include "bt_state.h"
#include "bt_store.h"

/* An accepted range: a real exchange outage the operator knows about. */
struct acc {
	char	 symbol[24], tf[8];
	int64_t	 from, to;
};

/* Per-pair finding budget: past it, findings are only counted. */
enum { K_GAP, K_SANITY, K_HALT, K_NKINDS };

struct ctx {
	bool		 dry, quiet, verbose, full, gaps;
	const char	*integrity;		/* NULL, "quick" or "full" */
	sqlite3		*db, *st;
	char		**tfs;
	int		 ntfs;
	struct acc	*acc;
	size_t		 nacc;
	long		 maxf;
	int		 nwarn, ncrit, naccepted;
	int64_t		 candles, ranges, pairs;
	int		 exit;
	bool		 hit;			/* a finding in this range */
	/* The pair being scanned. */
	struct bt_pair	 p;
	int64_t		 lastgap_from, lastgap_to;
	int		 nkind[K_NKINDS];
	int		 over[K_NKINDS];
	const char	*oversev[K_NKINDS];
	int64_t		 overfrom[K_NKINDS], overto[K_NKINDS];
	FILE		*stalelog;
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-validate [-nqv] [-d db] [--full] [--integrity quick | full] "
	    "[--tf list] [--if-due]\n"
	    "       bt-validate --gaps [-v] [-d db] [--full] [--tf list]\n"
	    "       bt-validate --accept [symbol tf from to [note]]\n");
	exit(code);
}

/* "3d 4h", "12h", "45m", "30s": how old something is. */
static char *
fmt_age(int64_t ms, char buf[32])
{
	long long s = (long long)(ms / 1000);

	if (s >= 86400)
		snprintf(buf, 32, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600 && s % 3600 >= 60)
		snprintf(buf, 32, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, 32, "%lldh", s / 3600);
	else if (s >= 60)
		snprintf(buf, 32, "%lldm", s / 60);
	else
		snprintf(buf, 32, "%llds", s);
	return buf;
}

static bool
tf_wanted(struct ctx *x, const char *tf)
{
	int i;

	for (i = 0; i < x->ntfs; i++)
		if (strcmp(x->tfs[i], tf) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ findings */

/*
 * Reports one finding: a JSON line with `check' and `detail', recorded
 * as an event unless -n.  In --gaps mode nothing is printed here.
 */
static void
finding(struct ctx *x, const char *check, const char *sev, const char *kind,
    const char *sym, const char *tf, json_t *extra, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *rec, *log;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->hit = true;
	if (strcmp(sev, "CRITICAL") == 0) {
		x->ncrit++;
		if (!x->gaps)
			x->exit = bt_exit_worse(x->exit, BT_EX_FOUND);
	} else
		x->nwarn++;
	if (extra == NULL)
		extra = json_object();
	if (x->gaps) {
		json_decref(extra);
		return;
	}
	/* Gap records keep from and to on top (contracts.md). */
	rec = json_pack("{s:s}", "check", check);
	if (json_object_get(extra, "from") != NULL) {
		json_object_set(rec, "from", json_object_get(extra, "from"));
		json_object_set(rec, "to", json_object_get(extra, "to"));
		json_object_del(extra, "from");
		json_object_del(extra, "to");
	}
	json_object_set(rec, "detail", extra);
	/* The staleness log keeps the same line, less the event id. */
	if (x->stalelog != NULL && (strcmp(check, "staleness") == 0 ||
	    strcmp(check, "coverage") == 0)) {
		log = bt_rec(kind);
		json_object_set_new(log, "severity", json_string(sev));
		json_object_set_new(log, "symbol", sym ? json_string(sym) :
		    json_null());
		json_object_set_new(log, "tf", tf ? json_string(tf) :
		    json_null());
		json_object_set_new(log, "message", json_string(msg));
		json_object_update(log, rec);
		if ((line = bt_json_line(log)) != NULL) {
			fprintf(x->stalelog, "%s\n", line);
			free(line);
		}
		json_decref(log);
	}
	json_decref(extra);
	bt_event(x->dry ? NULL : x->st, sev, kind, sym, tf, rec, "%s", msg);
}

/* A gap record for bt-fetch --gaps (contracts.md), --gaps mode only. */
static void
gap_record(struct ctx *x, int64_t from, int64_t to, const char *reason)
{
	json_t *rec;

	if (!x->gaps)
		return;
	rec = bt_rec("gap");
	json_object_set_new(rec, "symbol", json_string(x->p.symbol));
	json_object_set_new(rec, "tf", json_string(x->p.tf));
	json_object_set_new(rec, "from", json_integer(from));
	json_object_set_new(rec, "to", json_integer(to));
	json_object_set_new(rec, "reason", json_string(reason));
	bt_emit(rec);
}

/* Is open time t of the current pair inside an accepted range? */
static bool
accepted_at(struct ctx *x, int64_t t)
{
	size_t i;

	for (i = 0; i < x->nacc; i++)
		if (strcmp(x->acc[i].symbol, x->p.symbol) == 0 &&
		    strcmp(x->acc[i].tf, x->p.tf) == 0 &&
		    x->acc[i].from <= t && t <= x->acc[i].to)
			return true;
	return false;
}

/* Counts a finding of a kind against the pair's budget. */
static bool
budget(struct ctx *x, int kind, const char *sev, int64_t from, int64_t to)
{
	if (x->gaps || ++x->nkind[kind] <= x->maxf)
		return true;
	if (x->over[kind]++ == 0) {
		x->overfrom[kind] = from;
		x->oversev[kind] = sev;
	}
	if (strcmp(sev, "CRITICAL") == 0)
		x->oversev[kind] = sev;
	x->overto[kind] = to;
	x->hit = true;
	if (strcmp(sev, "CRITICAL") == 0) {
		x->ncrit++;
		x->exit = bt_exit_worse(x->exit, BT_EX_FOUND);
	} else
		x->nwarn++;
	return false;
}

/* Missing slots [s1, s2] of the current pair, less accepted ranges. */
static void
gap(struct ctx *x, int64_t s1, int64_t s2)
{
	int64_t iv = x->p.iv, a, b, cur = s1, lo, hi;
	char t1[32], t2[32];
	size_t i;
	bool again;

	if (s1 * iv == x->lastgap_from && s2 * iv == x->lastgap_to)
		return;		/* seen from the neighbouring range */
	x->lastgap_from = s1 * iv;
	x->lastgap_to = s2 * iv;
	while (cur <= s2) {
		/* Skip whatever accepted range covers cur. */
		do {
			again = false;
			for (i = 0; i < x->nacc; i++) {
				if (strcmp(x->acc[i].symbol, x->p.symbol) ||
				    strcmp(x->acc[i].tf, x->p.tf))
					continue;
				a = (x->acc[i].from + iv - 1) / iv;
				b = x->acc[i].to / iv;
				if (a <= cur && cur <= b) {
					x->naccepted++;
					cur = b + 1;
					again = true;
				}
			}
		} while (again && cur <= s2);
		if (cur > s2)
			break;
		/* Up to the next accepted range, or s2. */
		hi = s2;
		for (i = 0; i < x->nacc; i++) {
			if (strcmp(x->acc[i].symbol, x->p.symbol) ||
			    strcmp(x->acc[i].tf, x->p.tf))
				continue;
			a = (x->acc[i].from + iv - 1) / iv;
			if (a > cur && a - 1 < hi && a <= x->acc[i].to / iv)
				hi = a - 1;
		}
		lo = cur;
		cur = hi + 1;
		gap_record(x, lo * iv, hi * iv, "missing");
		if (!budget(x, K_GAP, "WARNING", lo * iv, hi * iv))
			continue;
		finding(x, "gaps", "WARNING", "gap", x->p.symbol, x->p.tf,
		    json_pack("{s:I, s:I, s:I}", "from", (json_int_t)(lo * iv),
		    "to", (json_int_t)(hi * iv), "missing",
		    (json_int_t)(hi - lo + 1)),
		    hi > lo ? "%s %s: %lld candles missing from %s to %s" :
		    "%s %s: %lld candle missing at %s", x->p.symbol, x->p.tf,
		    (long long)(hi - lo + 1), bt_fmt_time(lo * iv, t1),
		    bt_fmt_time(hi * iv, t2));
	}
}

/* One price or volume column: its value, or why it has none. */
static bool
col_num(sqlite3_stmt *s, int col, double div, double *v, const char **why)
{
	switch (sqlite3_column_type(s, col)) {
	case SQLITE_INTEGER:
		*v = (double)sqlite3_column_int64(s, col) / div;
		return true;
	case SQLITE_FLOAT:
		*v = sqlite3_column_double(s, col);
		if (!isfinite(*v)) {
			*why = "is not finite";
			return false;
		}
		return true;
	case SQLITE_NULL:
		*why = "is missing (NULL or NaN)";
		return false;
	default:
		*why = "is not a number";
		return false;
	}
}

/* The common case, without building anything: a candle with no fault. */
static bool
sane(struct ctx *x, sqlite3_stmt *s)
{
	double v[5];
	int i, t;

	if (sqlite3_column_int64(s, 1) != 0 ||
	    sqlite3_column_type(s, 7) != SQLITE_NULL)
		return false;
	for (i = 0; i < 5; i++) {
		if ((t = sqlite3_column_type(s, 2 + i)) == SQLITE_INTEGER)
			v[i] = (double)sqlite3_column_int64(s, 2 + i) /
			    (i < 4 ? x->p.dp : x->p.dv);
		else if (t == SQLITE_FLOAT)
			v[i] = sqlite3_column_double(s, 2 + i);
		else
			return false;
		if (!isfinite(v[i]))
			return false;
	}
	if (v[2] > fmin(v[0], v[3]) || v[1] < fmax(v[0], v[3]) ||
	    v[2] > v[1] || v[4] < 0 || v[2] <= 0)
		return false;
	for (i = 8; i <= 11; i++) {
		if ((t = sqlite3_column_type(s, i)) == SQLITE_NULL)
			continue;
		if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) ||
		    !(sqlite3_column_double(s, i) >= 0) ||
		    !isfinite(sqlite3_column_double(s, i)))
			return false;
	}
	return true;
}

/*
 * The sanity checks of one stored candle (slot, xo, o, h, l, c, v, ct,
 * qv, n, tb, tq).
 */
static void
sanity(struct ctx *x, sqlite3_stmt *s)
{
	static const char *names[] = { "open", "high", "low", "close",
	    "volume" };
	struct bt_buf why = { 0 };
	int64_t iv = x->p.iv, t, ct, n = -1;
	double v[5], opt;
	const char *w;
	bool ok[5], halt = false, offgrid;
	char ts[32], t2[32];
	int i;
	json_t *probs;

	if (sane(x, s))
		return;
	probs = json_array();
	t = sqlite3_column_int64(s, 0) * iv + sqlite3_column_int64(s, 1);
	offgrid = sqlite3_column_int64(s, 1) != 0;
	for (i = 0; i < 5; i++) {
		ok[i] = col_num(s, 2 + i, i < 4 ? x->p.dp : x->p.dv, &v[i], &w);
		if (!ok[i]) {
			bt_buf_printf(&why, "%s%s %s", why.len ? "; " : "",
			    names[i], w);
			json_array_append_new(probs, json_string("not_a_number"));
		}
	}
	if (ok[0] && ok[1] && ok[2] && ok[3] &&
	    (v[2] > fmin(v[0], v[3]) || v[1] < fmax(v[0], v[3]) ||
	    v[2] > v[1])) {
		if (v[1] < v[2])
			bt_buf_printf(&why, "%shigh %.10g is below low %.10g",
			    why.len ? "; " : "", v[1], v[2]);
		else
			bt_buf_printf(&why, "%sopen %.10g / close %.10g outside "
			    "low %.10g .. high %.10g", why.len ? "; " : "",
			    v[0], v[3], v[2], v[1]);
		json_array_append_new(probs, json_string("price_range"));
	}
	/* Low is the least price: the range check lets a negative one by. */
	if (ok[0] && ok[1] && ok[2] && ok[3] && fmin(fmin(v[0], v[1]),
	    fmin(v[2], v[3])) <= 0) {
		bt_buf_printf(&why, "%sa price is not positive",
		    why.len ? "; " : "");
		json_array_append_new(probs, json_string("non_positive_price"));
	}
	if (ok[4] && v[4] < 0) {
		bt_buf_printf(&why, "%svolume %.10g is negative",
		    why.len ? "; " : "", v[4]);
		json_array_append_new(probs, json_string("negative_volume"));
	}
	for (i = 8; i <= 11; i++) {
		if (sqlite3_column_type(s, i) == SQLITE_NULL)
			continue;
		if (i == 9) {
			n = sqlite3_column_int64(s, 9);
			opt = (double)n;
		} else if (!col_num(s, i, i == 10 ? x->p.dv : x->p.dq, &opt,
		    &w)) {
			bt_buf_printf(&why, "%s%s %s", why.len ? "; " : "",
			    i == 8 ? "quote volume" : i == 10 ?
			    "taker buy volume" : "taker buy quote volume", w);
			json_array_append_new(probs,
			    json_string("not_a_number"));
			continue;
		}
		if (opt < 0) {
			bt_buf_printf(&why, "%s%s is negative", why.len ? "; " :
			    "", i == 8 ? "quote volume" : i == 9 ?
			    "trade count" : i == 10 ? "taker buy volume" :
			    "taker buy quote volume");
			json_array_append_new(probs,
			    json_string("negative_volume"));
		}
	}
	if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
		ct = sqlite3_column_int64(s, 7);
		if (n == 0 && ct >= t && ct < t + iv - 1)
			halt = true;
		else {
			bt_buf_printf(&why, "%sclose time %s is not open time + "
			    "%s - 1 ms", why.len ? "; " : "",
			    bt_fmt_time(ct, t2), x->p.tf);
			json_array_append_new(probs, json_string("close_time"));
		}
	}
	if (offgrid && !accepted_at(x, t)) {
		bt_buf_printf(&why, "%sopen time is off the %s grid by %lld ms",
		    why.len ? "; " : "", x->p.tf,
		    (long long)sqlite3_column_int64(s, 1));
		json_array_append_new(probs, json_string("off_grid"));
	} else if (offgrid)
		x->naccepted++;
	if (why.len > 0) {
		/* Re-fetching fixes a corrupted row, not an off-grid one. */
		if (!offgrid)
			gap_record(x, t, t, "sanity");
		if (budget(x, K_SANITY, "CRITICAL", t, t))
			finding(x, "sanity", "CRITICAL", "sanity", x->p.symbol,
			    x->p.tf, json_pack("{s:I, s:O}", "open_time",
			    (json_int_t)t, "problems", probs),
			    "%s %s %s: %s", x->p.symbol, x->p.tf,
			    bt_fmt_time(t, ts), why.p);
	}
	json_decref(probs);
	bt_buf_free(&why);
	if (halt) {
		if (accepted_at(x, t))
			x->naccepted++;
		else if (budget(x, K_HALT, "WARNING", t, t))
			finding(x, "sanity", "WARNING", "halt", x->p.symbol,
			    x->p.tf, json_pack("{s:I, s:I}", "open_time",
			    (json_int_t)t, "close_time", (json_int_t)
			    sqlite3_column_int64(s, 7)),
			    "%s %s %s: exchange halt: no trades, closed early "
			    "at %s", x->p.symbol, x->p.tf, bt_fmt_time(t, ts),
			    bt_fmt_time(sqlite3_column_int64(s, 7), t2));
	}
}

/* An SQLite error while reading the store: a finding or an exit code. */
static void
read_error(struct ctx *x, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		bt_warnx("%s: %s", what, sqlite3_errstr(rc));
		x->exit = bt_exit_worse(x->exit, BT_EX_TEMPFAIL);
		return;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		finding(x, "integrity", "CRITICAL", "integrity", NULL, NULL,
		    json_pack("{s:s}", "error", bt_db_errmsg(x->db)),
		    "%s: %s", what, bt_db_errmsg(x->db));
		return;
	default:
		bt_warnx("%s: %s", what, bt_db_errmsg(x->db));
		x->exit = bt_exit_worse(x->exit, BT_EX_SOFTWARE);
	}
}

/* The stored slot next to [lo, hi]: before it (dir < 0) or after. */
static int64_t
neighbour(struct ctx *x, int64_t lo, int64_t hi, int dir)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int64_t out = -1;
	int rc;

	s = bt_stmt(x->db, dir < 0 ?
	    "SELECT slot FROM candles WHERE pair=?1 AND slot<?2 "
	    "ORDER BY slot DESC LIMIT 1" :
	    "SELECT slot FROM candles WHERE pair=?1 AND slot>?2 "
	    "ORDER BY slot LIMIT 1", err);
	if (s == NULL) {
		bt_warnx("%s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_SOFTWARE);
		return -1;
	}
	sqlite3_bind_int64(s, 1, x->p.id);
	sqlite3_bind_int64(s, 2, dir < 0 ? lo : hi);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		read_error(x, rc, "neighbouring candle");
	return out;
}

/*
 * Gaps and sanity over slots [lo, hi] of the current pair; with
 * `neighbours', the stored candles just outside take part in the gap
 * check, so a hole at either edge of the range is seen.
 */
static void
scan(struct ctx *x, int64_t lo, int64_t hi, bool neighbours)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN], what[96];
	int64_t prev = -1, slot, next;
	int rc;

	if (neighbours)
		prev = neighbour(x, lo, hi, -1);
	s = bt_stmt(x->db, "SELECT slot, xo, o, h, l, c, v, ct, qv, n, tb, tq "
	    "FROM candles WHERE pair=?1 AND slot BETWEEN ?2 AND ?3 "
	    "ORDER BY slot, xo", err);
	if (s == NULL) {
		bt_warnx("%s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_SOFTWARE);
		return;
	}
	sqlite3_bind_int64(s, 1, x->p.id);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		x->candles++;
		slot = sqlite3_column_int64(s, 0);
		if (prev >= 0 && slot > prev + 1)
			gap(x, prev + 1, slot - 1);
		prev = slot;
		sanity(x, s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(what, sizeof(what), "reading %s %s", x->p.symbol,
		    x->p.tf);
		read_error(x, rc, what);
		return;
	}
	if (neighbours && prev >= 0 && (next = neighbour(x, lo, hi, 1)) >= 0 &&
	    next > prev + 1)
		gap(x, prev + 1, next - 1);
}

/* Starts a pair: its scales, and a fresh finding budget. */
static bool
pair_begin(struct ctx *x, const char *sym, const char *tf)
{
	char err[BT_ERRLEN];
	int rc;

	memset(x->nkind, 0, sizeof(x->nkind));
	memset(x->over, 0, sizeof(x->over));
	x->lastgap_from = x->lastgap_to = -1;
	if ((rc = bt_pair_get(x->db, sym, tf, false, NULL, 0, &x->p, err))
	    != 0) {
		if (rc == BT_EX_IOERR) {
			/* As in read_error(): unreadable is a finding. */
			finding(x, "integrity", "CRITICAL", "integrity", NULL,
			    NULL, json_pack("{s:s}", "error", err), "%s", err);
			return false;
		}
		bt_warnx("%s", err);
		x->exit = bt_exit_worse(x->exit, rc == BT_EX_USAGE ?
		    BT_EX_DATAERR : rc);
		return false;
	}
	x->pairs++;
	return x->p.id != 0;
}

/* Ends a pair: one finding for whatever went past the budget. */
static void
pair_end(struct ctx *x)
{
	static const char *kinds[] = { "gap", "sanity", "halt" };
	static const char *checks[] = { "gaps", "sanity", "sanity" };
	char t1[32], t2[32];
	int k;

	for (k = 0; k < K_NKINDS; k++) {
		if (x->over[k] == 0)
			continue;
		/* Counted already; print without counting twice. */
		if (strcmp(x->oversev[k], "CRITICAL") == 0)
			x->ncrit--;
		else
			x->nwarn--;
		finding(x, checks[k], x->oversev[k], kinds[k], x->p.symbol,
		    x->p.tf, json_pack("{s:i, s:I, s:I}", "more", x->over[k],
		    "first", (json_int_t)x->overfrom[k], "last",
		    (json_int_t)x->overto[k]),
		    "%s %s: %d more %s findings from %s to %s (not listed; "
		    "BT_VALIDATE_MAX_FINDINGS is %ld)", x->p.symbol, x->p.tf,
		    x->over[k], kinds[k], bt_fmt_time(x->overfrom[k], t1),
		    bt_fmt_time(x->overto[k], t2), x->maxf);
	}
}

/* ------------------------------------------------------- dirty ranges */

struct dirty {
	char	 symbol[24], tf[8];
	int64_t	 from, to;
	bool	 clean;		/* checked, nothing found: clear it */
};

static int
load_dirty(struct ctx *x, struct dirty **out, size_t *n)
{
	sqlite3_stmt *s;
	struct dirty *d = NULL;
	size_t cap = 0;
	char err[BT_ERRLEN];
	int rc;

	*out = NULL;
	*n = 0;
	if (x->st == NULL)
		return 0;
	if ((s = bt_stmt(x->st, "SELECT symbol, tf, from_ms, to_ms FROM dirty "
	    "ORDER BY symbol, tf, from_ms", err)) == NULL) {
		bt_warnx("state: %s", err);
		return BT_EX_SOFTWARE;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *tf = (const char *)sqlite3_column_text(s, 1);
		if (tf == NULL || !tf_wanted(x, tf))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((d = realloc(d, cap * sizeof(*d))) == NULL)
				abort();
		}
		memset(&d[*n], 0, sizeof(d[*n]));
		snprintf(d[*n].symbol, sizeof(d[*n].symbol), "%s",
		    sqlite3_column_text(s, 0));
		snprintf(d[*n].tf, sizeof(d[*n].tf), "%s", tf);
		d[*n].from = sqlite3_column_int64(s, 2);
		d[*n].to = sqlite3_column_int64(s, 3);
		(*n)++;
	}
	sqlite3_reset(s);
	*out = d;
	if (rc != SQLITE_DONE) {
		bt_warnx("state: dirty: %s", bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

/*
 * The routine run: each pair's dirty ranges, merged where they touch,
 * each checked with its neighbours.
 */
static void
check_dirty(struct ctx *x, struct dirty *d, size_t n)
{
	size_t i = 0, j, k, m;
	int64_t lo, hi, iv;

	while (i < n) {
		for (j = i; j < n && strcmp(d[j].symbol, d[i].symbol) == 0 &&
		    strcmp(d[j].tf, d[i].tf) == 0; j++)
			;
		if (!bt_symbol_ok(d[i].symbol) || bt_tf_view(d[i].tf) == NULL) {
			bt_warnx("state: dirty range of '%s' '%s' names no pair "
			    "of the store; cleared", d[i].symbol, d[i].tf);
			for (k = i; k < j; k++)
				d[k].clean = true;
			i = j;
			continue;
		}
		if (!pair_begin(x, d[i].symbol, d[i].tf)) {
			/* No such pair (any more): nothing to check. */
			if (x->p.iv != 0)
				for (k = i; k < j; k++)
					d[k].clean = true;
			i = j;
			continue;
		}
		iv = x->p.iv;
		for (k = i; k < j; k = m) {
			lo = (d[k].from < 0 ? 0 : d[k].from) / iv;
			hi = (d[k].to < 0 ? 0 : d[k].to) / iv;
			for (m = k + 1; m < j && d[m].from / iv <= hi + 1; m++)
				if (d[m].to / iv > hi)
					hi = d[m].to / iv;
			x->ranges++;
			x->hit = false;
			if (x->verbose)
				bt_warnx("checking %s %s slots %lld..%lld",
				    x->p.symbol, x->p.tf, (long long)lo,
				    (long long)hi);
			scan(x, lo, hi, true);
			for (; k < m; k++)
				d[k].clean = !x->hit;
			k = m;
		}
		pair_end(x);
		i = j;
	}
}

/* --full: every candle of every pair of the checked timeframes. */
static void
check_all(struct ctx *x, struct dirty *d, size_t nd)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	char (*pairs)[2][24] = NULL;
	size_t n = 0, cap = 0, i, k;
	int rc;

	if ((s = bt_stmt(x->db, "SELECT symbol, tf FROM pairs "
	    "ORDER BY symbol, tf", err)) == NULL) {
		bt_warnx("%s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_SOFTWARE);
		return;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!tf_wanted(x, (const char *)sqlite3_column_text(s, 1)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((pairs = realloc(pairs, cap * sizeof(*pairs))) ==
			    NULL)
				abort();
		}
		snprintf(pairs[n][0], 24, "%s", sqlite3_column_text(s, 0));
		snprintf(pairs[n][1], 24, "%s", sqlite3_column_text(s, 1));
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		read_error(x, rc, "reading pairs");
	for (k = 0; k < nd; k++)
		d[k].clean = true;
	for (i = 0; i < n; i++) {
		if (!pair_begin(x, pairs[i][0], pairs[i][1]))
			continue;
		x->hit = false;
		x->ranges++;
		scan(x, 0, INT64_MAX / x->p.iv, false);
		pair_end(x);
		/* A pair with findings keeps its dirty ranges. */
		for (k = 0; k < nd; k++)
			if (x->hit && strcmp(d[k].symbol, pairs[i][0]) == 0 &&
			    strcmp(d[k].tf, pairs[i][1]) == 0)
				d[k].clean = false;
	}
	free(pairs);
}

static void
clear_dirty(struct ctx *x, struct dirty *d, size_t n)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	size_t i;
	int rc;

	if (x->dry || x->st == NULL || n == 0)
		return;
	if ((rc = bt_begin(x->st, err)) != 0) {
		bt_warnx("state: %s", err);
		x->exit = bt_exit_worse(x->exit, rc);
		return;
	}
	/* Only the very row read: bt-fetch may have widened it since. */
	if ((s = bt_stmt(x->st, "DELETE FROM dirty WHERE symbol=?1 AND tf=?2 "
	    "AND from_ms=?3 AND to_ms=?4", err)) == NULL) {
		bt_rollback(x->st);
		bt_warnx("state: %s", err);
		x->exit = bt_exit_worse(x->exit, BT_EX_SOFTWARE);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!d[i].clean)
			continue;
		sqlite3_bind_text(s, 1, d[i].symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, d[i].tf, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, d[i].from);
		sqlite3_bind_int64(s, 4, d[i].to);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			bt_warnx("state: dirty: %s", bt_db_errmsg(x->st));
			bt_rollback(x->st);
			x->exit = bt_exit_worse(x->exit, bt_sqlite_ex(rc));
			return;
		}
	}
	if ((rc = bt_commit(x->st, err)) != 0) {
		bt_warnx("state: %s", err);
		x->exit = bt_exit_worse(x->exit, rc);
	}
}

/* ------------------------------------------------- staleness, coverage */

static void
check_staleness(struct ctx *x, json_t *sum)
{
	struct bt_cov cov;
	struct bt_cov_pair *cp;
	char **syms, err[BT_ERRLEN], ts[32], age[32], thr[32];
	int nsyms, i, rc;
	json_t *stale;
	int64_t now = bt_now_ms();

	nsyms = bt_conf_list("BT_SYMBOLS", &syms);
	rc = bt_coverage(x->db, x->st, NULL, syms, nsyms, x->tfs, x->ntfs,
	    &cov, err);
	bt_list_free(syms, nsyms);
	if (rc != 0) {
		if (rc == BT_EX_IOERR)
			finding(x, "integrity", "CRITICAL", "integrity", NULL,
			    NULL, json_pack("{s:s}", "error", err),
			    "reading the newest candles: %s", err);
		else {
			bt_warnx("coverage: %s", err);
			x->exit = bt_exit_worse(x->exit, rc);
		}
		bt_cov_free(&cov);
		return;
	}
	stale = json_array();
	for (i = 0; i < cov.n; i++) {
		cp = &cov.p[i];
		if (cp->excluded) {
			if (x->verbose)
				bt_warnx("%s is not TRADING: %s left out of "
				    "coverage", cp->symbol, cp->tf);
			continue;
		}
		if (cp->current)
			continue;
		json_array_append_new(stale, json_pack("[s,s]", cp->symbol,
		    cp->tf));
		fmt_age(cp->threshold, thr);
		if (cp->last < 0)
			finding(x, "staleness", "WARNING", "stale", cp->symbol,
			    cp->tf, json_pack("{s:n, s:n, s:I}", "last",
			    "age_s", "threshold_s",
			    (json_int_t)(cp->threshold / 1000)),
			    "%s %s: no candles stored (threshold %s)",
			    cp->symbol, cp->tf, thr);
		else
			finding(x, "staleness", "WARNING", "stale", cp->symbol,
			    cp->tf, json_pack("{s:I, s:I, s:I}", "last",
			    (json_int_t)cp->last, "age_s",
			    (json_int_t)((now - cp->last) / 1000),
			    "threshold_s", (json_int_t)(cp->threshold / 1000)),
			    "%s %s: newest candle %s is %s old (threshold %s)",
			    cp->symbol, cp->tf, bt_fmt_time(cp->last, ts),
			    fmt_age(now - cp->last, age), thr);
	}
	if (cov.coverage < bt_conf_double("BT_COVERAGE_MIN")) {
		struct bt_buf names = { 0 };
		size_t k, ns = json_array_size(stale);

		/* The CRITICAL names the pairs (the first ten). */
		for (k = 0; k < ns && k < 10; k++)
			bt_buf_printf(&names, "%s%s %s", k ? ", " : "",
			    json_string_value(json_array_get(json_array_get(
			    stale, k), 0)), json_string_value(json_array_get(
			    json_array_get(stale, k), 1)));
		if (ns > 10)
			bt_buf_printf(&names, " and %zu more", ns - 10);
		finding(x, "coverage", "CRITICAL", "coverage", NULL, NULL,
		    json_pack("{s:f, s:i, s:i, s:O}", "coverage",
		    round(cov.coverage * 1e4) / 1e4, "current", cov.current,
		    "counted", cov.counted, "stale", stale),
		    "coverage %.1f%%: only %d of %d pairs are current "
		    "(minimum %.0f%%); stale: %s", cov.coverage * 100,
		    cov.current, cov.counted, bt_conf_double("BT_COVERAGE_MIN") *
		    100, ns ? names.p : "none");
		bt_buf_free(&names);
	}
	json_object_set_new(sum, "coverage", json_real(round(cov.coverage *
	    1e4) / 1e4));
	json_object_set_new(sum, "current", json_integer(cov.current));
	json_object_set_new(sum, "counted", json_integer(cov.counted));
	json_decref(stale);
	bt_cov_free(&cov);
}

/* ---------------------------------------------------------- the schema */

static bool
schema_has(struct ctx *x, const char *type, const char *name)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	bool out;

	if ((s = bt_stmt(x->db, "SELECT 1 FROM sqlite_schema WHERE type=?1 "
	    "AND name=?2", err)) == NULL)
		return false;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	out = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return out;
}

/*
 * Does some index of `table' lead with `cols' (a "desc" suffix on a name
 * asks for a descending key)?
 */
static bool
index_leads(struct ctx *x, const char *table, const char *const *cols,
    int ncols)
{
	sqlite3_stmt *il, *ix;
	char *sql;
	bool found = false, ok;
	int i, rc;

	sql = sqlite3_mprintf("SELECT name FROM pragma_index_list(%Q)", table);
	rc = sqlite3_prepare_v2(x->db, sql, -1, &il, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return false;
	while (!found && sqlite3_step(il) == SQLITE_ROW) {
		if (sqlite3_prepare_v2(x->db, "SELECT name, desc FROM "
		    "pragma_index_xinfo(?1) WHERE key ORDER BY seqno", -1, &ix,
		    NULL) != SQLITE_OK)
			break;
		sqlite3_bind_text(ix, 1, (const char *)sqlite3_column_text(il,
		    0), -1, SQLITE_TRANSIENT);
		ok = true;
		for (i = 0; i < ncols && ok; i++) {
			size_t len = strcspn(cols[i], " ");
			bool desc = strstr(cols[i], " desc") != NULL;
			const char *name;
			if (sqlite3_step(ix) != SQLITE_ROW ||
			    (name = (const char *)sqlite3_column_text(ix, 0)) ==
			    NULL || strlen(name) != len ||
			    strncmp(name, cols[i], len) != 0 ||
			    (desc && sqlite3_column_int(ix, 1) != 1))
				ok = false;
		}
		sqlite3_finalize(ix);
		found = ok;
	}
	sqlite3_finalize(il);
	return found;
}

/*
 * Each pairs row against itself: the interval is its timeframe's, and
 * each scale is 10^k of its exponent.  A damaged row keeps every candle
 * of the pair sane while shifting its times or scaling its prices, so no
 * candle check can see it (bt-validate(1), WHAT NO CHECK CAN SEE).
 */
static void
check_pairs(struct ctx *x)
{
	sqlite3_stmt *s;
	const char *sym, *tf;
	int64_t iv;
	int k;

	if (sqlite3_prepare_v2(x->db, "SELECT symbol, tf, iv, kp, kv, kq, "
	    "dp, dv, dq FROM pairs ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
		read_error(x, sqlite3_errcode(x->db), "pairs");
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		sym = (const char *)sqlite3_column_text(s, 0);
		tf = (const char *)sqlite3_column_text(s, 1);
		iv = sqlite3_column_int64(s, 2);
		if (sym == NULL || tf == NULL || bt_tf_ms(tf) != iv)
			finding(x, "integrity", "CRITICAL", "pairs", sym, tf,
			    NULL, "pairs row %s %s: interval %lld ms is not "
			    "the timeframe's", sym ? sym : "?", tf ? tf : "?",
			    (long long)iv);
		for (k = 0; k < 3; k++)
			if (sqlite3_column_double(s, 6 + k) != pow(10,
			    sqlite3_column_int(s, 3 + k)))
				finding(x, "integrity", "CRITICAL", "pairs",
				    sym, tf, NULL, "pairs row %s %s: scale %.17g "
				    "is not 10^%d", sym ? sym : "?",
				    tf ? tf : "?", sqlite3_column_double(s,
				    6 + k), sqlite3_column_int(s, 3 + k));
	}
	if (sqlite3_finalize(s) != SQLITE_OK)
		read_error(x, sqlite3_errcode(x->db), "pairs");
}

/*
 * The layout bt expects (bt_db.c): bt_meta, pairs, candles keyed by
 * (pair, slot, xo), the seed's four views; and the seed's indexes on the
 * tables other programs keep in the same file, where those exist.
 * Returns false when the candle checks cannot run.
 */
static bool
check_schema(struct ctx *x)
{
	static const char *views[] = { "ohlcv_d1", "ohlcv_h4", "ohlcv_h1",
	    "ohlcv_m15" };
	static const char *pk[] = { "pair", "slot", "xo" };
	static const struct {
		const char *table, *index, *cols[2], *sql;
	} seed[] = {
		{ "trades", "idx_trades_symbol", { "symbol", "timestamp desc" },
		    "CREATE INDEX idx_trades_symbol ON trades(symbol, "
		    "timestamp DESC)" },
		{ "indicadores_tecnico", "idx_indicadores_symbol_tf",
		    { "symbol", "timeframe" },
		    "CREATE INDEX idx_indicadores_symbol_tf ON "
		    "indicadores_tecnico(symbol, timeframe)" },
		{ "sentimento_mercado", "idx_sentimento_symbol",
		    { "symbol", "timestamp" },
		    "CREATE INDEX idx_sentimento_symbol ON "
		    "sentimento_mercado(symbol, timestamp)" },
	};
	sqlite3_stmt *s;
	size_t i;
	int n = 0;
	bool ok = true;

	if (!schema_has(x, "table", "bt_meta")) {
		finding(x, "schema", "CRITICAL", "schema", NULL, NULL, NULL,
		    "table bt_meta is missing");
		ok = false;
	}
	if (!schema_has(x, "table", "pairs")) {
		finding(x, "schema", "CRITICAL", "schema", NULL, NULL, NULL,
		    "table pairs is missing");
		ok = false;
	}
	if (!schema_has(x, "table", "candles")) {
		finding(x, "schema", "CRITICAL", "schema", NULL, NULL, NULL,
		    "table candles is missing");
		ok = false;
	} else if (sqlite3_prepare_v2(x->db, "SELECT name FROM "
	    "pragma_table_info('candles') WHERE pk>0 ORDER BY pk", -1, &s,
	    NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			if (n >= 3 || strcmp((const char *)
			    sqlite3_column_text(s, 0), pk[n]) != 0)
				n = 99;
			n++;
		}
		sqlite3_finalize(s);
		if (n != 3) {
			finding(x, "schema", "CRITICAL", "schema", NULL, NULL,
			    NULL, "table candles is not keyed by (pair, slot, "
			    "xo)");
			ok = false;
		}
	}
	for (i = 0; i < 4; i++)
		if (!schema_has(x, "view", views[i]))
			finding(x, "schema", "CRITICAL", "schema", NULL, NULL,
			    json_pack("{s:s}", "view", views[i]),
			    "view %s is missing: the seed's readers cannot "
			    "read that timeframe", views[i]);
	for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
		if (schema_has(x, "table", seed[i].table) &&
		    !index_leads(x, seed[i].table, seed[i].cols, 2))
			finding(x, "schema", "WARNING", "schema", NULL, NULL,
			    json_pack("{s:s, s:s, s:s}", "table",
			    seed[i].table, "index", seed[i].index, "fix",
			    seed[i].sql),
			    "table %s has no index on (%s, %s), the seed's "
			    "%s; its owner should run: %s", seed[i].table,
			    seed[i].cols[0], seed[i].cols[1], seed[i].index,
			    seed[i].sql);
	if (ok)
		check_pairs(x);
	return ok;
}

/* ----------------------------------------------------------- integrity */

/*
 * The integrity pragma runs on its own read-only connection in a thread
 * of its own while the other checks read the store: on a machine with two
 * cores a --full run costs little more than integrity_check alone.  The
 * thread touches no jansson and no state: it only fills `struct integ'.
 */
struct integ {
	char		 path[4096];
	bool		 quick;
	char		 msg[10][512];
	int		 nmsg, n;
	pthread_t	 th;
	bool		 started;
};

static void
integ_add(struct integ *g, const char *m)
{
	if (g->nmsg < 10)
		snprintf(g->msg[g->nmsg++], sizeof(g->msg[0]), "%s", m);
	g->n++;
}

static void *
integ_run(void *arg)
{
	struct integ *g = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_open_v2(g->path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		integ_add(g, db != NULL ? bt_db_errmsg(db) :
		    sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, (int)bt_conf_long("SQLITE_BUSY_TIMEOUT_MS"));
	sqlite3_exec(db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(db, g->quick ? "PRAGMA quick_check" :
	    "PRAGMA integrity_check", -1, &s, NULL);
	if (rc == SQLITE_OK)
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *r = (const char *)sqlite3_column_text(s, 0);
			if (r != NULL && strcmp(r, "ok") != 0)
				integ_add(g, r);
		}
	if (rc != SQLITE_DONE)
		integ_add(g, bt_db_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return NULL;
}

static void
integrity_start(struct ctx *x, struct integ *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->path, sizeof(g->path), "%s",
	    sqlite3_db_filename(x->db, "main"));
	g->quick = strcmp(x->integrity, "quick") == 0;
	if (pthread_create(&g->th, NULL, integ_run, g) == 0)
		g->started = true;
	else
		integ_run(g);
}

static void
integrity_end(struct ctx *x, struct integ *g, json_t *sum)
{
	json_t *errs = json_array();
	const char *first;
	int i;

	if (g->started)
		pthread_join(g->th, NULL);
	for (i = 0; i < g->nmsg; i++)
		json_array_append_new(errs, json_string(g->msg[i]));
	json_object_set_new(sum, "integrity", json_string(g->n ? "failed" :
	    "ok"));
	if (g->n > 0) {
		/* quick_check's first row may be "*** in database main ***\n..." */
		first = g->msg[0];
		if (strncmp(first, "*** ", 4) == 0 && strchr(first, '\n'))
			first = strchr(first, '\n') + 1;
		finding(x, "integrity", "CRITICAL", "integrity", NULL, NULL,
		    json_pack("{s:s, s:i, s:O}", "pragma", g->quick ?
		    "quick_check" : "integrity_check", "problems", g->n,
		    "errors", errs),
		    "%s_check found %d problem%s; first: %s; restore with "
		    "bt-backup --restore", g->quick ? "quick" : "integrity",
		    g->n, g->n > 1 ? "s" : "", first);
	}
	json_decref(errs);
}

/* ------------------------------------------------------- accepted gaps */

/* BT_ACCEPTED_GAPS: SYMBOL/TF/FROM/TO entries, comma- or space-separated. */
static int
load_accepted(struct ctx *x)
{
	sqlite3_stmt *s;
	char **v, *f[4], buf[256], err[BT_ERRLEN], *save;
	int n, i, j, rc;
	struct acc a;

	n = bt_conf_list("BT_ACCEPTED_GAPS", &v);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s", v[i]);
		save = NULL;
		for (j = 0; j < 4; j++)
			f[j] = strtok_r(j ? NULL : buf, "/", &save);
		memset(&a, 0, sizeof(a));
		if (f[3] == NULL || strtok_r(NULL, "/", &save) != NULL ||
		    !bt_symbol_ok(f[0]) || bt_tf_view(f[1]) == NULL ||
		    bt_parse_time(f[2], &a.from) == -1 ||
		    bt_parse_time(f[3], &a.to) == -1 || a.from > a.to) {
			bt_warnx("BT_ACCEPTED_GAPS: '%s' is not SYMBOL/TF/FROM/"
			    "TO (e.g. BTCUSDT/1h/2023-03-24T12:00/"
			    "2023-03-24T13:00)", v[i]);
			bt_list_free(v, n);
			return BT_EX_CONFIG;
		}
		snprintf(a.symbol, sizeof(a.symbol), "%s", f[0]);
		snprintf(a.tf, sizeof(a.tf), "%s", f[1]);
		if ((x->acc = realloc(x->acc, (x->nacc + 1) *
		    sizeof(*x->acc))) == NULL)
			abort();
		x->acc[x->nacc++] = a;
	}
	bt_list_free(v, n);
	if (x->st == NULL)
		return 0;
	if ((s = bt_stmt(x->st, "SELECT symbol, tf, from_ms, to_ms FROM "
	    "accepted_gaps", err)) == NULL) {
		bt_warnx("state: %s", err);
		return BT_EX_SOFTWARE;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		snprintf(a.symbol, sizeof(a.symbol), "%s",
		    sqlite3_column_text(s, 0));
		snprintf(a.tf, sizeof(a.tf), "%s", sqlite3_column_text(s, 1));
		a.from = sqlite3_column_int64(s, 2);
		a.to = sqlite3_column_int64(s, 3);
		if ((x->acc = realloc(x->acc, (x->nacc + 1) *
		    sizeof(*x->acc))) == NULL)
			abort();
		x->acc[x->nacc++] = a;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		bt_warnx("state: accepted_gaps: %s", bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	return 0;
}

static int
accept_one(struct ctx *x, const char *sym, const char *tf, int64_t from,
    int64_t to, const char *note)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN], t1[32], t2[32];
	json_t *rec;
	int rc;

	if ((s = bt_stmt(x->st, "INSERT INTO accepted_gaps(symbol, tf, "
	    "from_ms, to_ms, note, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT(symbol, tf, from_ms) DO UPDATE SET "
	    "to_ms=excluded.to_ms, note=excluded.note, added=excluded.added",
	    err)) == NULL) {
		bt_warnx("state: %s", err);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, sym, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, tf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	if (note != NULL)
		sqlite3_bind_text(s, 5, note, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(s, 6, bt_now_ms());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		bt_warnx("state: accepted_gaps: %s", bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	rec = bt_rec("accepted");
	json_object_set_new(rec, "symbol", json_string(sym));
	json_object_set_new(rec, "tf", json_string(tf));
	json_object_set_new(rec, "from_time", json_string(bt_fmt_time(from,
	    t1)));
	json_object_set_new(rec, "to_time", json_string(bt_fmt_time(to, t2)));
	json_object_set_new(rec, "note", note ? json_string(note) :
	    json_null());
	bt_emit(rec);
	return 0;
}

/* --accept: one range from the arguments, or gap records on stdin. */
static int
run_accept(struct ctx *x, int argc, char **argv)
{
	char *line = NULL, err[BT_ERRLEN];
	size_t cap = 0;
	long lineno = 0, n = 0;
	struct bt_gap g;
	int64_t from, to;
	int rc = 0, r;

	if (argc != 0 && argc != 4 && argc != 5)
		usage(stderr, BT_EX_USAGE);
	if (argc > 0) {
		if (!bt_symbol_ok(argv[0])) {
			bt_warnx("--accept: '%s' is not a Binance symbol",
			    argv[0]);
			return BT_EX_USAGE;
		}
		if (bt_tf_view(argv[1]) == NULL) {
			bt_warnx("--accept: '%s' is not one of 1d 4h 1h 15m",
			    argv[1]);
			return BT_EX_USAGE;
		}
		if (bt_parse_time(argv[2], &from) == -1 ||
		    bt_parse_time(argv[3], &to) == -1 || from > to) {
			bt_warnx("--accept: '%s' .. '%s' is not a range of ISO "
			    "8601 UTC times", argv[2], argv[3]);
			return BT_EX_USAGE;
		}
		if ((rc = bt_begin(x->st, err)) != 0) {
			bt_warnx("state: %s", err);
			return rc;
		}
		if ((rc = accept_one(x, argv[0], argv[1], from, to,
		    argc == 5 ? argv[4] : NULL)) != 0) {
			bt_rollback(x->st);
			return rc;
		}
		if ((rc = bt_commit(x->st, err)) != 0)
			bt_warnx("state: %s", err);
		return rc;
	}
	if ((rc = bt_begin(x->st, err)) != 0) {
		bt_warnx("state: %s", err);
		return rc;
	}
	while (getline(&line, &cap, stdin) != -1) {
		lineno++;
		if ((r = bt_parse_gap(line, &g, err)) == 0)
			continue;
		if (r == -1 || bt_tf_view(g.tf) == NULL || g.from > g.to) {
			bt_warnx("stdin:%ld: bad gap record: %s", lineno,
			    r == -1 ? err : "timeframe or range");
			rc = BT_EX_DATAERR;
			break;
		}
		if ((rc = accept_one(x, g.symbol, g.tf, g.from, g.to,
		    "accepted from a gap record")) != 0)
			break;
		n++;
	}
	free(line);
	if (rc != 0) {
		bt_rollback(x->st);
		return rc;
	}
	if ((rc = bt_commit(x->st, err)) != 0)
		bt_warnx("state: %s", err);
	else if (n == 0) {
		bt_warnx("--accept: no gap records on stdin");
		rc = BT_EX_NOINPUT;
	}
	return rc;
}

/* ---------------------------------------------------------------- main */

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "full", no_argument, NULL, 'F' },
	{ "gaps", no_argument, NULL, 'G' },
	{ "integrity", required_argument, NULL, 'I' },
	{ "tf", required_argument, NULL, 'T' },
	{ "accept", no_argument, NULL, 'A' },
	{ "if-due", no_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct ctx x;
	struct dirty *dirty = NULL;
	struct integ integ;
	size_t ndirty = 0;
	char err[BT_ERRLEN], owner[256], *path = NULL, *spath = NULL, *lp;
	int ch, rc, orc, fd;
	bool accept = false, schema_ok, if_due = false, tf_opt = false, due;
	const char *job;
	int64_t slot;
	int64_t run = -1;
	double t0 = bt_mono();
	json_t *sum, *rsum;

	memset(&x, 0, sizeof(x));
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-validate", err)) != 0 ||
	    (rc = bt_conf_load(err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	while ((ch = getopt_long(argc, argv, "d:hnqv", longopts, NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case 'd':
			rc = bt_conf_set("BT_DB", optarg, err);
			break;
		case 'n':
			x.dry = true;
			break;
		case 'q':
			x.quiet = true;
			break;
		case 'v':
			x.verbose = true;
			break;
		case 'F':
			x.full = true;
			break;
		case 'G':
			x.gaps = true;
			break;
		case 'I':
			if (strcmp(optarg, "quick") != 0 &&
			    strcmp(optarg, "full") != 0) {
				bt_warnx("--integrity: '%s' is not quick or "
				    "full", optarg);
				return BT_EX_USAGE;
			}
			x.integrity = optarg;
			break;
		case 'T':
			rc = bt_conf_set("BT_TIMEFRAMES", optarg, err);
			tf_opt = true;
			break;
		case 'A':
			accept = true;
			break;
		case 'D':
			if_due = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, BT_EX_USAGE);
		}
		if (rc != 0) {
			bt_warnx("%s: %s", argv[optind - 1], err);
			return rc;
		}
	}
	argc -= optind;
	argv += optind;
	if ((!accept && argc > 0) || (accept && (x.gaps || x.full ||
	    x.integrity || x.dry || if_due)) || (x.gaps && x.integrity) ||
	    (if_due && (x.gaps || x.dry)))
		usage(stderr, BT_EX_USAGE);
	/*
	 * The job a run counts for: the weekly full check, the daily routine
	 * run over every timeframe, or a gate restricted by --tf (which
	 * never stands in for the daily run).
	 */
	job = x.full ? "full" : tf_opt ? "tf" : "";
	x.maxf = bt_conf_long("BT_VALIDATE_MAX_FINDINGS");
	x.ntfs = bt_conf_list("BT_TIMEFRAMES", &x.tfs);
	/* --full without --integrity reads the whole file anyway. */
	if (x.full && x.integrity == NULL && !x.gaps)
		x.integrity = "full";

	/* A restore or rollback owns the store (contracts.md, db/LOCKED). */
	if (!accept && bt_store_locked(owner, sizeof(owner))) {
		sum = bt_rec("locked");
		json_object_set_new(sum, "severity", json_string("WARNING"));
		json_object_set_new(sum, "message", json_string("db/LOCKED is "
		    "present: a restore or rollback is running; not "
		    "validating a store being replaced"));
		json_object_set_new(sum, "owner", json_string(owner));
		bt_emit(sum);
		rc = BT_EX_TEMPFAIL;
		goto out;
	}
	spath = bt_state_path();
	if (x.dry || x.gaps) {
		if (access(spath, F_OK) == 0 &&
		    (rc = bt_open_state(spath, BT_DB_RO, &x.st, err)) != 0) {
			bt_warnx("%s", err);
			goto out;
		}
	} else if ((rc = bt_open_state(spath, BT_DB_CREATE, &x.st, err)) !=
	    0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (accept) {
		rc = run_accept(&x, argc, argv);
		goto out;
	}
	if ((rc = load_accepted(&x)) != 0)
		goto out;
	if (if_due) {
		if ((rc = bt_due(x.st, "bt-validate", job, 1, bt_conf(x.full ?
		    "BT_VALIDATE_FULL_SLOT" : "BT_VALIDATE_SLOT"), &due, &slot,
		    err)) != 0) {
			bt_warnx("%s", err);
			goto out;
		}
		if (!due) {
			bt_not_due(*job ? job : "daily", slot);
			goto out;
		}
	}
	if (!x.dry && !x.gaps) {
		if ((run = bt_run_begin(x.st, job, err)) < 0) {
			rc = (int)-run;
			bt_warnx("%s", err);
			goto out;
		}
		lp = bt_path("logs");
		if (bt_mkdirs(lp, 0750, err) == 0) {
			free(lp);
			lp = bt_path("logs/staleness_check.log");
			fd = open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			    0640);
			if (fd == -1 ||
			    (x.stalelog = fdopen(fd, "a")) == NULL) {
				bt_warnx("%s: %s", lp, strerror(errno));
				if (fd != -1)
					close(fd);
				/* The checks run; the seed's log is lost. */
				x.exit = BT_EX_CANTCREAT;
			}
		} else {
			bt_warnx("%s", err);
			x.exit = BT_EX_CANTCREAT;
		}
		free(lp);
	}
	sum = bt_rec("summary");
	json_object_set_new(sum, "mode", json_string(x.gaps ? "gaps" :
	    x.full ? "full" : "routine"));
	json_object_set_new(sum, "tf", json_array());
	for (ch = 0; ch < x.ntfs; ch++)
		json_array_append_new(json_object_get(sum, "tf"),
		    json_string(x.tfs[ch]));

	path = bt_store_path();
	orc = bt_open_store(path, BT_DB_RO, &x.db, err);
	if (orc == BT_EX_TEMPFAIL) {
		bt_warnx("%s", err);
		rc = BT_EX_TEMPFAIL;
		json_decref(sum);
		sum = NULL;
		goto done;
	}
	if (orc != 0) {
		/* contracts.md: a store that will not open is a finding. */
		finding(&x, "integrity", "CRITICAL", "integrity", NULL, NULL,
		    json_pack("{s:s}", "error", err),
		    "the store will not open: %s", err);
		if (x.gaps) {
			bt_warnx("%s", err);
			x.exit = BT_EX_FOUND;
		}
	} else {
		schema_ok = check_schema(&x);
		if (x.integrity != NULL)
			integrity_start(&x, &integ);
		if (!x.gaps && schema_ok)
			check_staleness(&x, sum);
		if (schema_ok && (rc = load_dirty(&x, &dirty, &ndirty)) == 0) {
			if (x.full)
				check_all(&x, dirty, ndirty);
			else
				check_dirty(&x, dirty, ndirty);
		}
		/* Integrity before clearing: a corrupt file clears nothing. */
		if (x.integrity != NULL)
			integrity_end(&x, &integ, sum);
		if (schema_ok && rc == 0 && !x.gaps && (x.integrity == NULL ||
		    integ.n == 0))
			clear_dirty(&x, dirty, ndirty);
		x.exit = bt_exit_worse(x.exit, rc);
	}
	rc = x.exit;
	json_object_set_new(sum, "scanned_pairs", json_integer(x.pairs));
	json_object_set_new(sum, "ranges", json_integer(x.ranges));
	json_object_set_new(sum, "candles", json_integer(x.candles));
	json_object_set_new(sum, "findings", json_integer(x.nwarn + x.ncrit));
	json_object_set_new(sum, "warning", json_integer(x.nwarn));
	json_object_set_new(sum, "critical", json_integer(x.ncrit));
	json_object_set_new(sum, "accepted", json_integer(x.naccepted));
	json_object_set_new(sum, "exit", json_integer(rc));
	bt_rec_dur(sum, "seconds", bt_mono() - t0);
	if (x.stalelog != NULL) {
		/* One line per run, so a quiet log still shows the runs. */
		lp = bt_json_line(sum);
		if (lp != NULL)
			fprintf(x.stalelog, "%s\n", lp);
		free(lp);
	}
	if (!x.quiet)
		bt_emit(json_incref(sum));
done:
	if (run > 0) {
		rsum = json_deep_copy(sum);
		if (rsum != NULL) {
			json_object_del(rsum, "ts");
			json_object_del(rsum, "prog");
			json_object_del(rsum, "event");
		}
		if ((orc = bt_run_end(x.st, run, rc, rsum, err)) != 0) {
			bt_warnx("%s", err);
			rc = bt_exit_worse(rc, orc);
		}
		json_decref(rsum);
	}
	json_decref(sum);
out:
	if (x.stalelog != NULL && fclose(x.stalelog) == EOF) {
		bt_warnx("logs/staleness_check.log: %s", strerror(errno));
		rc = bt_exit_worse(rc, BT_EX_IOERR);
	}
	free(dirty);
	free(x.acc);
	bt_list_free(x.tfs, x.ntfs);
	bt_close(x.db);
	bt_close(x.st);
	free(path);
	free(spath);
	return bt_finish(rc);
}
