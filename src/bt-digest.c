/*
 * bt-digest - every alert reaches the operator, on Telegram, within the
 * seed's bounds.
 *
 *	bt-digest [-nqv] [-d db] [--critical | --hourly | --daily]
 *	bt-digest [-d db] --today [--since time]
 *
 * Input: JSON lines on stdin (when it is not a terminal) and the unsent
 * events of the state file.  A stdin line with a `severity' (INFO, WARNING
 * or CRITICAL) and a `message' is recorded as an event first, unless its
 * `event_id' is already there; other lines are ignored.  Then what is due
 * goes out: CRITICAL at once, WARNING in an hourly batch, INFO in the
 * daily digest (BT_DIGEST_HOUR, 04:00 UTC).  cron runs it every minute;
 * the batches catch up by themselves when a run was missed.
 *
 * Invariants:
 * - An event is marked sent only after Telegram answered ok for the part
 *   that carried it: delivery is at least once, never silently dropped.
 * - At most BT_DIGEST_MAX_PER_HOUR messages in any rolling hour, except
 *   the one corner bt-digest(1) spells out (CRITICAL over the cap).
 * - One message per chat per run; identical alerts (severity, kind,
 *   symbol, timeframe) are one line with a count.
 * - Plain text (no parse_mode), split on line boundaries below 4096
 *   UTF-16 code units.
 * - Every run that opens the state file records its runs row first and
 *   its stdin's events before anything about Telegram is checked, so a
 *   broken alert path is seen (bt-watchdog) and loses nothing.
 * - A CRITICAL that its chat refuses goes to the other configured chats,
 *   with a line saying why.
 * - The bot token is never in argv, output, logs, events or errors: it
 *   lives only in the URL path of the request, which is scrubbed, and
 *   every diagnostic passes bt_redact().
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_db.h"
#include "bt_http.h"
#include "bt_indtab.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_state.h"
#include "bt_store.h"

#define TG_LIMIT	4096	/* UTF-16 code units per message */
#define TG_ROOM		(TG_LIMIT - 16)	/* room left for "(i/n) " */
#define ITEM_MAX	1500	/* bytes of one rendered line */
#define MSG_MAX		500	/* bytes of an event's message in a line */

enum { S_INFO, S_WARNING, S_CRITICAL, S_N };
static const char *sevname[S_N] = { "INFO", "WARNING", "CRITICAL" };

/* Identical pending events: one line with a count. */
struct group {
	int	 sev;
	int	 route;		/* whose chat and time: sev, or an all-clear's */
	char	*rroute;	/* the events' `route' as stored, or NULL */
	char	*prog, *kind, *symbol, *tf, *msg;
	int64_t	 count, first, last, maxid;
	bool	 repeat;	/* CRITICAL already sent within the window */
	bool	 sent;
};

/* One rendered line of a message; grp >= 0 when it carries events. */
struct item {
	char	*text;
	int	 grp;
};

struct part {
	struct bt_buf text;
	int	*grps;
	size_t	 ngrps;
};

struct chatmsg {
	const char *chat;
	int	 sev;		/* highest severity carried */
	bool	 warn, daily;	/* carries the hourly batch / the digest */
	struct item *items;
	size_t	 nitems;
};

struct ctx {
	bool		 dry, quiet, verbose, offline;
	bool		 due[S_N];	/* which severities go out this run */
	bool		 forced_hourly, forced_daily;
	sqlite3		*st;
	struct bt_http	*http;
	char		*token;
	struct group	*g;
	size_t		 ng;
	int64_t		 used;		/* messages in the last hour */
	int		 sent, held;
	int		 exit;		/* worst outcome not returned by a step */
	bool		 stop;		/* Telegram said stop for this run */
	bool		 nochat[S_N];	/* no chat configured for a severity */
	char		 error[BT_ERRLEN];	/* the run's first error */
	int		 refusals;	/* parts a chat refused this run */
	double		 t0;
	char		*digest;	/* the daily digest's text */
};

static const struct option longopts[] = {
	{ "critical", no_argument, NULL, 'C' },
	{ "hourly", no_argument, NULL, 'H' },
	{ "daily", no_argument, NULL, 'D' },
	{ "today", no_argument, NULL, 'L' },
	{ "since", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-digest [-nqv] [-d db] [--critical | --hourly | "
	    "--daily]\n"
	    "       bt-digest [-d db] --today [--since time]\n");
	exit(code);
}

/* A failure of this run: on stderr, and its first in the runs row. */
static void
failed(struct ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
failed(struct ctx *x, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	bt_warnx("%s", buf);
	if (x->error[0] == '\0') {
		bt_redact(buf);
		snprintf(x->error, sizeof(x->error), "%s", buf);
	}
}

static char *
xstrdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		abort();
	return p;
}

static int
sevnum(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < S_N; i++)
		if (strcmp(s, sevname[i]) == 0)
			return i;
	return -1;
}

/* UTF-16 code units of UTF-8 text, as Telegram counts them. */
static size_t
u16len(const char *s, size_t n)
{
	size_t i, u = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c & 0xc0) == 0x80)
			continue;
		u += c >= 0xf0 ? 2 : 1;
	}
	return u;
}

/* Cuts s to at most max bytes on a UTF-8 boundary, marking the cut. */
static void
cut_utf8(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(s + n, "...", 4);
}

static const char *
hm(int64_t ms, char buf[32])
{
	char t[32];

	bt_fmt_time(ms, t);
	/* 2022-10-11T00:01:02Z -> 10-11 00:01Z */
	snprintf(buf, 32, "%.5s %.5sZ", t + 5, t + 11);
	return buf;
}

/* ------------------------------------------------------------ recording */

struct rec_stats {
	long	 lines, recorded, duplicates, ignored, bad;
};

static bool
have_event_id(sqlite3 *st, const char *id)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	bool found;

	if (st == NULL || (s = bt_stmt(st, "SELECT 1 FROM events WHERE "
	    "event_id=?1", err)) == NULL)
		return false;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

/*
 * Where an event goes and when: its severity's, or for an all-clear (a
 * `route' field, written by bt-watchdog on a recovery) the chat and the
 * time of the alert it clears.  Never later than its own severity.
 */
static int
route_of(int sev, const char *route)
{
	int r = sevnum(route);

	return r > sev ? r : sev;
}

/* A pending group for an event not in the state file (dry runs). */
static void
add_virtual(struct ctx *x, json_t *ev, int sev)
{
	struct group *g;
	char ts[32];
	int64_t t;
	size_t i;
	const char *kind, *sym, *tf, *msg, *prog;

	kind = json_string_value(json_object_get(ev, "event"));
	sym = json_string_value(json_object_get(ev, "symbol"));
	tf = json_string_value(json_object_get(ev, "tf"));
	msg = json_string_value(json_object_get(ev, "message"));
	prog = json_string_value(json_object_get(ev, "prog"));
	if (json_string_value(json_object_get(ev, "ts")) == NULL ||
	    bt_parse_time(json_string_value(json_object_get(ev, "ts")), &t))
		t = bt_now_ms();
	(void)ts;
	for (i = 0; i < x->ng; i++) {
		g = &x->g[i];
		if (g->sev == sev && strcmp(g->kind, kind ? kind : "event") == 0 &&
		    (g->symbol ? sym && !strcmp(g->symbol, sym) : !sym) &&
		    (g->tf ? tf && !strcmp(g->tf, tf) : !tf)) {
			g->count++;
			g->last = t > g->last ? t : g->last;
			free(g->msg);
			g->msg = xstrdup(msg);
			return;
		}
	}
	if ((x->g = realloc(x->g, (x->ng + 1) * sizeof(*x->g))) == NULL)
		abort();
	g = &x->g[x->ng++];
	memset(g, 0, sizeof(*g));
	g->sev = sev;
	g->route = route_of(sev, json_string_value(json_object_get(ev,
	    "route")));
	g->prog = xstrdup(prog ? prog : "unknown");
	g->kind = xstrdup(kind ? kind : "event");
	g->symbol = xstrdup(sym);
	g->tf = xstrdup(tf);
	g->msg = xstrdup(msg);
	g->count = 1;
	g->first = g->last = t;
	g->maxid = -1;
}

/*
 * Reads JSON lines from stdin and records the events among them, in
 * one transaction.  A line without an event_id gets one from its text,
 * the time and its place, so a rerun under BT_NOW gives the same ids.
 */
static int
record_stdin(struct ctx *x, struct rec_stats *rs)
{
	char *line = NULL, err[BT_ERRLEN], id[40];
	size_t cap = 0;
	ssize_t n;
	json_t *ev;
	json_error_t je;
	const char *sev, *msg, *eid;
	int rc = 0, s;
	uint64_t h;
	int64_t now = bt_now_ms();
	bool open = false;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		rs->lines++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((ev = json_loadb(line, (size_t)n, 0, &je)) == NULL ||
		    !json_is_object(ev)) {
			bt_warnx("stdin:%ld: not a JSON object (ignored)",
			    rs->lines);
			rs->bad++;
			json_decref(ev);
			continue;
		}
		sev = json_string_value(json_object_get(ev, "severity"));
		msg = json_string_value(json_object_get(ev, "message"));
		if ((s = sevnum(sev)) < 0 || msg == NULL) {
			rs->ignored++;
			json_decref(ev);
			continue;
		}
		/* Other scripts may name the kind `kind'. */
		if (json_string_value(json_object_get(ev, "event")) == NULL)
			json_object_set_new(ev, "event", json_string(
			    json_string_value(json_object_get(ev, "kind")) ?
			    json_string_value(json_object_get(ev, "kind")) :
			    "event"));
		if (json_string_value(json_object_get(ev, "prog")) == NULL)
			json_object_set_new(ev, "prog", json_string("stdin"));
		if (!json_is_string(json_object_get(ev, "symbol")))
			json_object_del(ev, "symbol");
		if (!json_is_string(json_object_get(ev, "tf")))
			json_object_del(ev, "tf");
		eid = json_string_value(json_object_get(ev, "event_id"));
		if (eid == NULL || *eid == '\0' || strlen(eid) > 64) {
			h = bt_hash64(line, (size_t)n, 0);
			h = bt_hash64(&now, sizeof(now), h);
			h = bt_hash64(&rs->lines, sizeof(rs->lines), h);
			snprintf(id, sizeof(id), "%016llx",
			    (unsigned long long)h);
			json_object_set_new(ev, "event_id", json_string(id));
			eid = json_string_value(json_object_get(ev,
			    "event_id"));
		}
		if (have_event_id(x->st, eid)) {
			rs->duplicates++;
			json_decref(ev);
			continue;
		}
		if (x->dry) {
			add_virtual(x, ev, s);
			rs->recorded++;
			json_decref(ev);
			continue;
		}
		if (!open) {
			if ((rc = bt_begin(x->st, err)) != 0) {
				bt_warnx("%s", err);
				json_decref(ev);
				break;
			}
			open = true;
		}
		if ((rc = bt_event_record(x->st, ev, err)) != 0) {
			bt_warnx("stdin:%ld: %s", rs->lines, err);
			json_decref(ev);
			bt_rollback(x->st);
			open = false;
			rs->recorded = 0;
			break;
		}
		rs->recorded++;
		json_decref(ev);
	}
	free(line);
	if (open && (rc = bt_commit(x->st, err)) != 0) {
		bt_warnx("%s", err);
		rs->recorded = 0;
	}
	if (rc == 0 && ferror(stdin)) {
		bt_warnx("stdin: %s", strerror(errno));
		rc = BT_EX_IOERR;
	}
	if (rc == 0 && rs->bad > 0)
		rc = BT_EX_DATAERR;
	return rc;
}

/* -------------------------------------------------------------- pending */

static int
load_pending(struct ctx *x)
{
	sqlite3_stmt *s, *r;
	char err[BT_ERRLEN];
	struct group *g;
	int64_t now = bt_now_ms(), win;
	int rc, sev;
	const char *v;

	if (x->st == NULL)
		return 0;
	/* A group's message and prog are its newest event's. */
	if ((s = bt_stmt(x->st, "SELECT g.severity, g.kind, g.symbol, g.tf, "
	    "l.prog, l.message, g.mx, g.n, g.t0, g.t1, g.route FROM (SELECT "
	    "severity, kind, symbol, tf, json_extract(detail, '$.route') AS "
	    "route, max(id) AS mx, min(id) AS mn, count(*) AS n, min(ts) AS "
	    "t0, max(ts) AS t1 FROM events WHERE sent IS NULL GROUP BY "
	    "severity, kind, symbol, tf, route) g JOIN events l ON "
	    "l.id=g.mx ORDER BY g.t0, g.mn", err)) == NULL) {
		bt_warnx("%s", err);
		return BT_EX_SOFTWARE;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sev = sevnum((const char *)sqlite3_column_text(s, 0));
		if (sev < 0 || !x->due[route_of(sev, (const char *)
		    sqlite3_column_text(s, 10))])
			continue;
		if ((x->g = realloc(x->g, (x->ng + 1) * sizeof(*x->g))) ==
		    NULL)
			abort();
		g = &x->g[x->ng++];
		memset(g, 0, sizeof(*g));
		g->sev = sev;
		g->route = route_of(sev, (const char *)sqlite3_column_text(s,
		    10));
		g->rroute = xstrdup((const char *)sqlite3_column_text(s, 10));
		g->kind = xstrdup((const char *)sqlite3_column_text(s, 1));
		g->symbol = xstrdup((const char *)sqlite3_column_text(s, 2));
		g->tf = xstrdup((const char *)sqlite3_column_text(s, 3));
		g->prog = xstrdup((const char *)sqlite3_column_text(s, 4));
		v = (const char *)sqlite3_column_text(s, 5);
		g->msg = xstrdup(v ? v : "");
		g->maxid = sqlite3_column_int64(s, 6);
		g->count = sqlite3_column_int64(s, 7);
		g->first = sqlite3_column_int64(s, 8);
		g->last = sqlite3_column_int64(s, 9);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		bt_warnx("events: %s", bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	/* Repeats: the same CRITICAL was delivered within the window. */
	win = (int64_t)(bt_conf_double("BT_DIGEST_REPEAT_MINUTES") * 60000);
	if ((r = bt_stmt(x->st, "SELECT 1 FROM events WHERE sent > ?1 AND "
	    "severity='CRITICAL' AND kind=?2 AND symbol IS ?3 AND tf IS ?4 "
	    "AND sent_to IS NOT 'stdout' LIMIT 1", err)) == NULL) {
		bt_warnx("%s", err);
		return BT_EX_SOFTWARE;
	}
	for (size_t i = 0; i < x->ng; i++) {
		g = &x->g[i];
		if (g->sev != S_CRITICAL || g->maxid < 0)
			continue;
		sqlite3_bind_int64(r, 1, now - win);
		sqlite3_bind_text(r, 2, g->kind, -1, SQLITE_STATIC);
		if (g->symbol)
			sqlite3_bind_text(r, 3, g->symbol, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(r, 3);
		if (g->tf)
			sqlite3_bind_text(r, 4, g->tf, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(r, 4);
		g->repeat = sqlite3_step(r) == SQLITE_ROW;
		sqlite3_reset(r);
	}
	return 0;
}

static int64_t
sends_last_hour(struct ctx *x)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int64_t n = 0;

	if (x->st == NULL || (s = bt_stmt(x->st, "SELECT count(*) FROM sends "
	    "WHERE ts > ?1 AND chat != 'stdout' AND ok", err)) == NULL)
		return 0;
	sqlite3_bind_int64(s, 1, bt_now_ms() - 3600000);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

/* -------------------------------------------------------- the messages */

static char *
render_group(const struct group *g)
{
	struct bt_buf b = { 0 };
	char t1[32], t2[32], *msg;

	msg = xstrdup(g->msg);
	cut_utf8(msg, MSG_MAX);
	/* Newlines inside a message would break the line structure. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	bt_buf_printf(&b, "%s %s %s", hm(g->last, t1), g->prog, g->kind);
	if (g->symbol)
		bt_buf_printf(&b, " %s", g->symbol);
	if (g->tf)
		bt_buf_printf(&b, " %s", g->tf);
	bt_buf_printf(&b, ": %s", msg);
	if (g->count > 1)
		bt_buf_printf(&b, " (x%lld since %s)", (long long)g->count,
		    hm(g->first, t2));
	free(msg);
	cut_utf8(b.p, ITEM_MAX);
	return b.p;
}

static void
add_item(struct chatmsg *m, char *text, int grp)
{
	if ((m->items = realloc(m->items, (m->nitems + 1) *
	    sizeof(*m->items))) == NULL)
		abort();
	cut_utf8(text, ITEM_MAX);
	m->items[m->nitems].text = text;
	m->items[m->nitems++].grp = grp;
}

static const char *
chat_for(int sev)
{
	static const char *key[S_N] = { "TELEGRAM_CHAT_INFO",
	    "TELEGRAM_CHAT_WARNING", "TELEGRAM_CHAT_CRITICAL" };

	if (*bt_conf(key[sev]) != '\0')
		return bt_conf(key[sev]);
	return bt_conf("TELEGRAM_BACKTEST_CHANNEL");
}

/* Adds the pending groups of severity `sev' routed as `route'. */
static size_t
add_groups(struct ctx *x, struct chatmsg *m, int sev, int route,
    const char *head)
{
	char *s;
	size_t i, n;

	for (i = n = 0; i < x->ng; i++)
		if (x->g[i].sev == sev && x->g[i].route == route &&
		    !x->g[i].sent)
			n++;
	if (n == 0)
		return 0;
	if (head == NULL) {
		if (asprintf(&s, "bt %s: %zu alert%s", sevname[sev], n,
		    n > 1 ? "s" : "") == -1)
			abort();
	} else if (asprintf(&s, "%s: %zu", head, n) == -1)
		abort();
	add_item(m, s, -1);
	for (i = 0; i < x->ng; i++)
		if (x->g[i].sev == sev && x->g[i].route == route &&
		    !x->g[i].sent)
			add_item(m, render_group(&x->g[i]), (int)i);
	return n;
}

/*
 * The items of a message, in order: CRITICAL lines and the all-clears of
 * CRITICAL alerts, WARNING lines and theirs, the daily digest (whose INFO
 * lines are inside it).  `only_crit' keeps the CRITICAL chat's lines
 * alone (over the cap).
 */
static void
build_items(struct ctx *x, struct chatmsg *m, bool only_crit)
{
	int sev, low;
	size_t i, n;
	char *s;

	for (sev = S_CRITICAL; sev > S_INFO; sev--) {
		if (only_crit && sev != S_CRITICAL)
			break;
		if (!x->due[sev] || x->nochat[sev] ||
		    strcmp(chat_for(sev), m->chat) != 0)
			continue;
		add_groups(x, m, sev, sev, NULL);
		for (low = sev - 1; low >= S_INFO; low--)
			add_groups(x, m, low, sev, "bt all clear");
	}
	if (only_crit || !m->daily)
		return;
	/* The digest's text, line by line; its INFO lines carry events. */
	if (x->digest != NULL) {
		const char *line = x->digest, *nl;

		for (; *line != '\0'; line = *nl ? nl + 1 : nl) {
			nl = line + strcspn(line, "\n");
			add_item(m, strndup(line, (size_t)(nl - line)), -1);
		}
	}
	for (i = n = 0; i < x->ng; i++)
		if (x->g[i].sev == S_INFO && x->g[i].route == S_INFO &&
		    !x->g[i].sent)
			n++;
	if (n > 0) {
		add_item(m, xstrdup(""), -1);
		if (asprintf(&s, "INFO since the last digest: %zu", n) == -1)
			abort();
		add_item(m, s, -1);
		for (i = 0; i < x->ng; i++)
			if (x->g[i].sev == S_INFO && x->g[i].route == S_INFO &&
			    !x->g[i].sent)
				add_item(m, render_group(&x->g[i]), (int)i);
	}
}

static void
part_add_grp(struct part *p, int grp)
{
	if (grp < 0)
		return;
	if ((p->grps = realloc(p->grps, (p->ngrps + 1) * sizeof(int))) ==
	    NULL)
		abort();
	p->grps[p->ngrps++] = grp;
}

/*
 * Packs the items into at most maxp parts of TG_ROOM UTF-16 units, on
 * line boundaries.  Items that do not fit are dropped, and the last part
 * says how many alerts were left out; their events go with that part.
 */
static size_t
pack(struct ctx *x, struct chatmsg *m, int maxp, struct part **out)
{
	struct part *p = NULL;
	size_t np = 0, i, len, cur = 0;
	const size_t reserve = 120;
	long lines = 0, alerts = 0;
	bool full = false;
	char more[160];

	for (i = 0; i < m->nitems; i++) {
		len = u16len(m->items[i].text, strlen(m->items[i].text)) + 1;
		if (!full && (np == 0 || cur + len > TG_ROOM)) {
			if ((int)np == maxp)
				full = true;
			else {
				if ((p = realloc(p, (np + 1) * sizeof(*p))) ==
				    NULL)
					abort();
				memset(&p[np++], 0, sizeof(*p));
				cur = 0;
			}
		}
		/* In the last allowed part, keep room for the summary. */
		if (!full && (int)np == maxp && i + 1 < m->nitems &&
		    cur + len + reserve > TG_ROOM)
			full = true;
		if (full) {
			lines++;
			if (m->items[i].grp >= 0) {
				alerts += x->g[m->items[i].grp].count;
				part_add_grp(&p[np - 1], m->items[i].grp);
			}
			continue;
		}
		if (p[np - 1].text.len > 0)
			bt_buf_add(&p[np - 1].text, "\n", 1);
		bt_buf_add(&p[np - 1].text, m->items[i].text,
		    strlen(m->items[i].text));
		cur += len;
		part_add_grp(&p[np - 1], m->items[i].grp);
	}
	if (full) {
		snprintf(more, sizeof(more), "\n+%ld more line%s (%ld alert%s) "
		    "not shown; all alerts are in the state file", lines,
		    lines == 1 ? "" : "s", alerts, alerts == 1 ? "" : "s");
		bt_buf_add(&p[np - 1].text, more, strlen(more));
	}
	/* Number the parts of a split message. */
	if (np > 1)
		for (i = 0; i < np; i++) {
			struct bt_buf b = { 0 };
			bt_buf_printf(&b, "(%zu/%zu) %s", i + 1, np,
			    p[i].text.p);
			bt_buf_free(&p[i].text);
			p[i].text = b;
		}
	*out = p;
	return np;
}

static void
parts_free(struct part *p, size_t n)
{
	while (n-- > 0) {
		bt_buf_free(&p[n].text);
		free(p[n].grps);
	}
	free(p);
}

static void
msg_clear(struct chatmsg *m)
{
	for (size_t i = 0; i < m->nitems; i++)
		free(m->items[i].text);
	free(m->items);
	m->items = NULL;
	m->nitems = 0;
}

/* ------------------------------------------------------------- delivery */

static int
mark_sent(struct ctx *x, const struct part *p, const char *chat, int sev,
    int partno, int nparts, int64_t events, const char *text)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN], head[200];
	const struct group *g;
	int64_t now = bt_now_ms();
	size_t i;
	int rc;

	for (i = 0; i < p->ngrps; i++)
		x->g[p->grps[i]].sent = true;
	if (x->dry || x->st == NULL)
		return 0;
	if ((rc = bt_begin(x->st, err)) != 0)
		goto fail;
	if ((s = bt_stmt(x->st, "UPDATE events SET sent=?1, sent_to=?2 WHERE "
	    "sent IS NULL AND severity=?3 AND kind=?4 AND symbol IS ?5 AND "
	    "tf IS ?6 AND id <= ?7 AND json_extract(detail, '$.route') IS ?8",
	    err)) == NULL) {
		rc = BT_EX_SOFTWARE;
		goto fail;
	}
	for (i = 0; i < p->ngrps; i++) {
		g = &x->g[p->grps[i]];
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_text(s, 2, chat, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, sevname[g->sev], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, g->kind, -1, SQLITE_STATIC);
		if (g->symbol)
			sqlite3_bind_text(s, 5, g->symbol, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 5);
		if (g->tf)
			sqlite3_bind_text(s, 6, g->tf, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 6);
		sqlite3_bind_int64(s, 7, g->maxid);
		if (g->rroute)
			sqlite3_bind_text(s, 8, g->rroute, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 8);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		if (rc != SQLITE_DONE) {
			snprintf(err, BT_ERRLEN, "events: %s",
			    bt_db_errmsg(x->st));
			rc = bt_sqlite_ex(rc);
			goto fail;
		}
	}
	if ((s = bt_stmt(x->st, "INSERT INTO sends(ts, chat, severity, events, "
	    "part, parts, head, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    err)) == NULL) {
		rc = BT_EX_SOFTWARE;
		goto fail;
	}
	snprintf(head, sizeof(head), "%s", p->text.p);
	head[strcspn(head, "\n")] = '\0';
	cut_utf8(head, 120);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, chat, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, sevname[sev], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, events);
	sqlite3_bind_int(s, 5, partno);
	sqlite3_bind_int(s, 6, nparts);
	sqlite3_bind_text(s, 7, head, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 8, text != NULL ? text : p->text.p, -1,
	    SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "sends: %s", bt_db_errmsg(x->st));
		rc = bt_sqlite_ex(rc);
		goto fail;
	}
	/* What was sent is kept 30 days, for the digest and the cap. */
	if ((s = bt_stmt(x->st, "DELETE FROM sends WHERE ts < ?1", err)) !=
	    NULL) {
		sqlite3_bind_int64(s, 1, now - 30 * 86400000LL);
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	return bt_commit(x->st, err);
fail:
	bt_rollback(x->st);
	bt_warnx("cannot mark events sent (they will be sent again): %s",
	    err);
	return rc;
}

/* The time this run may still spend waiting on Telegram, in seconds. */
static double
budget_left(struct ctx *x)
{
	return bt_conf_double("BT_DIGEST_TIME_BUDGET") - (bt_mono() - x->t0);
}

/*
 * What Telegram answered, from outside: ok with its message_id; the
 * retry_after of a 429 (-1 when absent); the description of a refusal.
 * tests/fuzz/fuzz-telegram.c feeds it arbitrary bytes.
 */
struct tg_ans {
	bool	 ok;
	int64_t	 mid;
	double	 retry;
	char	 desc[BT_ERRLEN];
};

static void
tg_answer(long status, const char *body, size_t len, struct tg_ans *a)
{
	json_t *o = len > 0 ? json_loadb(body, len, 0, NULL) : NULL, *ra;
	const char *d;

	memset(a, 0, sizeof(*a));
	a->retry = -1;
	a->ok = status == 200 && json_is_true(json_object_get(o, "ok"));
	if (a->ok)
		a->mid = json_integer_value(json_object_get(json_object_get(o,
		    "result"), "message_id"));
	ra = json_object_get(json_object_get(o, "parameters"), "retry_after");
	if (json_is_number(ra))
		a->retry = json_number_value(ra);
	if ((d = json_string_value(json_object_get(o, "description"))) != NULL)
		snprintf(a->desc, sizeof(a->desc), "%s", d);
	json_decref(o);
}

/*
 * One sendMessage.  0 when Telegram answered ok; otherwise an exit code,
 * and x->stop when nothing more should be tried in this run.
 */
static int
tg_send(struct ctx *x, const char *chat, const char *text, int64_t *mid,
    char *why, size_t whylen)
{
	struct bt_http_resp r;
	struct bt_buf form = { 0 };
	char *e1, *e2, *path, ts[32];
	double *delays, wait;
	int nd, try, rc = BT_EX_UNAVAILABLE;
	struct tg_ans a;

	e1 = bt_http_escape(x->http, chat);
	e2 = bt_http_escape(x->http, text);
	bt_buf_printf(&form, "chat_id=%s&text=%s&disable_web_page_preview=true",
	    e1, e2);
	free(e1);
	free(e2);
	if (asprintf(&path, "/bot%s/sendMessage", x->token) == -1)
		abort();
	nd = bt_conf_delays("BT_RETRY_DELAYS", &delays);
	for (try = 0; ; try++) {
		bt_http_post(x->http, path, form.p, &r);
		tg_answer(r.status, r.body, r.len, &a);
		if (a.ok) {
			*mid = a.mid;
			rc = 0;
			bt_http_resp_free(&r);
			break;
		}
		if (r.status == 429) {
			wait = a.retry >= 0 ? a.retry :
			    r.retry_after >= 0 ? r.retry_after : 5;
			if (wait < bt_conf_double("BT_RETRY_AFTER_MIN"))
				wait = bt_conf_double("BT_RETRY_AFTER_MIN");
			if (wait > bt_conf_double("BT_RETRY_AFTER_MAX"))
				wait = bt_conf_double("BT_RETRY_AFTER_MAX");
			bt_http_resp_free(&r);
			if (try < nd && wait <= budget_left(x)) {
				bt_sleep(wait);
				continue;
			}
			/* Honoured across runs: no send before then. */
			bt_fmt_time(bt_now_ms() + (int64_t)(wait * 1000), ts);
			if (!x->dry && x->st != NULL) {
				char err[BT_ERRLEN];
				if (bt_kv_set(x->st, "digest.retry_until", ts,
				    err) != 0)
					bt_warnx("%s", err);
			}
			snprintf(why, whylen, "429 Too Many Requests, retry "
			    "after %gs", wait);
			bt_warnx("Telegram: 429 Too Many Requests, retry after "
			    "%gs (after %s); the rest waits for a later run",
			    wait, ts);
			rc = BT_EX_TEMPFAIL;
			x->stop = true;
			break;
		}
		if (r.status >= 400 && r.status < 500) {
			/* Refused: retrying the same request cannot help. */
			bt_redact(a.desc);
			snprintf(why, whylen, "%ld %s", r.status, a.desc);
			failed(x, "Telegram refused the message to chat %s: %ld "
			    "%s; its events stay unsent", chat, r.status, a.desc);
			bt_http_resp_free(&r);
			rc = r.status == 401 || r.status == 404 ?
			    BT_EX_CONFIG : BT_EX_DATAERR;
			if (rc == BT_EX_CONFIG)
				x->stop = true;
			break;
		}
		/* 5xx or transport: the configured waits, within budget. */
		if (r.status == 0)
			snprintf(why, whylen, "%s", r.err);
		else
			snprintf(why, whylen, "HTTP %ld", r.status);
		failed(x, "Telegram: %s", why);
		bt_http_resp_free(&r);
		if (try < nd && delays[try] <= budget_left(x)) {
			bt_sleep(delays[try]);
			continue;
		}
		rc = BT_EX_UNAVAILABLE;
		x->stop = true;
		break;
	}
	free(delays);
	explicit_bzero(path, strlen(path));
	free(path);
	explicit_bzero(form.p, form.len);
	bt_buf_free(&form);
	return rc;
}

static int64_t
part_events(struct ctx *x, const struct part *p)
{
	int64_t n = 0;

	for (size_t i = 0; i < p->ngrps; i++)
		n += x->g[p->grps[i]].count;
	return n;
}

/*
 * A message Telegram did not take, in sends with ok=0 and the reason, so
 * that bt-watchdog sees a chat that refuses and `--today' lists it.
 */
static void
mark_refused(struct ctx *x, const char *chat, int sev, const char *text,
    const char *why)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN], head[200];

	if (x->dry || x->st == NULL || bt_begin(x->st, err) != 0)
		return;
	if ((s = bt_stmt(x->st, "INSERT INTO sends(ts, chat, severity, events, "
	    "head, text, ok, error) VALUES (?1, ?2, ?3, 0, ?4, ?5, 0, ?6)",
	    err)) == NULL) {
		bt_rollback(x->st);
		return;
	}
	snprintf(head, sizeof(head), "%s", text);
	head[strcspn(head, "\n")] = '\0';
	cut_utf8(head, 120);
	sqlite3_bind_int64(s, 1, bt_now_ms());
	sqlite3_bind_text(s, 2, chat, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, sevname[sev], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, head, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, why, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		bt_warnx("sends: %s", bt_db_errmsg(x->st));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (bt_commit(x->st, err) != 0)
		bt_warnx("%s", err);
}

/*
 * `text' with a first line saying why it is here, cut on a line boundary
 * to Telegram's limit when the line made it too long.
 */
static char *
fallback_text(const char *chat, const char *why, const char *text)
{
	struct bt_buf b = { 0 };
	size_t i, u = 0, cut = 0;
	unsigned char c;

	bt_buf_printf(&b, "bt: this message could not reach its chat %s "
	    "(Telegram: %s); sent here instead: fix TELEGRAM_CHAT_CRITICAL\n%s",
	    chat, why, text);
	if (u16len(b.p, b.len) <= TG_LIMIT)
		return b.p;
	for (i = 0; i < b.len; i++) {
		c = (unsigned char)b.p[i];
		if ((c & 0xc0) != 0x80)
			u += c >= 0xf0 ? 2 : 1;
		if (u > TG_LIMIT - 64)
			break;
		if (c == '\n')
			cut = i;
	}
	b.len = cut;
	b.p[cut] = '\0';
	bt_buf_printf(&b, "\n(cut here; every alert is in the state file)");
	return b.p;
}

/*
 * The chats a CRITICAL message refused by `refused' may go to instead:
 * every other configured chat, once, in the order WARNING, INFO, the
 * fallback channel.
 */
static int
other_chats(const char *refused, const char *out[4])
{
	static const char *keys[] = { "TELEGRAM_CHAT_WARNING",
	    "TELEGRAM_CHAT_INFO", "TELEGRAM_BACKTEST_CHANNEL",
	    "TELEGRAM_CHAT_CRITICAL" };
	int n = 0, i, j;
	const char *c;

	for (i = 0; i < 4; i++) {
		c = bt_conf(keys[i]);
		if (*c == '\0' || strcmp(c, refused) == 0)
			continue;
		for (j = 0; j < n && strcmp(out[j], c) != 0; j++)
			;
		if (j == n)
			out[n++] = c;
	}
	return n;
}

static void
sent_line(struct ctx *x, const char *chat, int sev, size_t part, size_t np,
    int64_t nev, const char *text, int64_t mid, const char *instead_of)
{
	json_t *rec;

	if (x->quiet)
		return;
	rec = bt_rec("sent");
	json_object_set_new(rec, "chat", json_string(chat));
	json_object_set_new(rec, "severity", json_string(sevname[sev]));
	json_object_set_new(rec, "part", json_integer((json_int_t)part));
	json_object_set_new(rec, "parts", json_integer((json_int_t)np));
	json_object_set_new(rec, "events", json_integer(nev));
	json_object_set_new(rec, "chars", json_integer((json_int_t)u16len(text,
	    strlen(text))));
	json_object_set_new(rec, "message_id", json_integer(mid));
	if (instead_of != NULL)
		json_object_set_new(rec, "instead_of", json_string(instead_of));
	bt_emit(rec);
}

/*
 * A CRITICAL part its chat refused, to the other configured chats in
 * turn until one takes it.  0 when one did.
 */
static int
deliver_elsewhere(struct ctx *x, struct chatmsg *m, struct part *p,
    size_t i, size_t np, int64_t nev, const char *why)
{
	const char *other[4];
	char *text, why2[BT_ERRLEN];
	int64_t mid = 0;
	int n, j, rc = BT_EX_UNAVAILABLE;

	n = other_chats(m->chat, other);
	for (j = 0; j < n && !x->stop; j++) {
		text = fallback_text(m->chat, why, p->text.p);
		why2[0] = '\0';
		if ((rc = tg_send(x, other[j], text, &mid, why2,
		    sizeof(why2))) == 0) {
			x->used++;
			x->sent++;
			rc = mark_sent(x, p, other[j], m->sev, (int)i + 1,
			    (int)np, nev, text);
			bt_warnx("the message refused by chat %s went to chat %s "
			    "instead", m->chat, other[j]);
			sent_line(x, other[j], m->sev, i + 1, np, nev, text, mid,
			    m->chat);
			free(text);
			return rc;
		}
		if (rc == BT_EX_DATAERR) {
			x->refusals++;
			mark_refused(x, other[j], m->sev, text, why2);
		}
		free(text);
	}
	return rc;
}

/*
 * Sends (or prints) the parts of one message; stops at the first failure.
 * A part its chat refuses is recorded as refused; a CRITICAL one then
 * goes to the other chats, and the refusal still ends the run with 65.
 */
static int
deliver(struct ctx *x, struct chatmsg *m, struct part *p, size_t np)
{
	json_t *rec;
	int64_t mid = 0, nev;
	int rc, before = x->refusals;
	size_t i;
	char why[BT_ERRLEN];

	for (i = 0; i < np; i++) {
		nev = part_events(x, &p[i]);
		if (x->dry || x->offline) {
			rec = bt_rec(x->dry ? "would_send" : "message");
			json_object_set_new(rec, "chat", x->offline ?
			    json_null() : json_string(m->chat));
			json_object_set_new(rec, "severity",
			    json_string(sevname[m->sev]));
			json_object_set_new(rec, "part", json_integer(
			    (json_int_t)i + 1));
			json_object_set_new(rec, "parts",
			    json_integer((json_int_t)np));
			json_object_set_new(rec, "events", json_integer(nev));
			json_object_set_new(rec, "text",
			    json_string(p[i].text.p));
			bt_emit(rec);
			mark_sent(x, &p[i], x->offline ? "stdout" : m->chat,
			    m->sev, (int)i + 1, (int)np, nev, NULL);
			x->sent++;
			continue;
		}
		why[0] = '\0';
		if ((rc = tg_send(x, m->chat, p[i].text.p, &mid, why,
		    sizeof(why))) != 0) {
			if (rc == BT_EX_DATAERR) {
				x->refusals++;
				mark_refused(x, m->chat, m->sev, p[i].text.p,
				    why);
				if (m->sev == S_CRITICAL &&
				    deliver_elsewhere(x, m, &p[i], i, np, nev,
				    why) == 0)
					continue;
			}
			return rc;
		}
		x->used++;
		x->sent++;
		if ((rc = mark_sent(x, &p[i], m->chat, m->sev, (int)i + 1,
		    (int)np, nev, NULL)) != 0)
			return rc;
		sent_line(x, m->chat, m->sev, i + 1, np, nev, p[i].text.p, mid,
		    NULL);
	}
	/* Delivered elsewhere: the batch went, the refusal still counts. */
	if (x->refusals > before)
		x->exit = bt_exit_worse(x->exit, BT_EX_DATAERR);
	return 0;
}

/* The highest severity a message carries. */
static int
msg_sev(struct ctx *x, const struct chatmsg *m)
{
	int sev = m->daily ? S_INFO : S_WARNING;
	bool any = false;

	for (size_t i = 0; i < m->nitems; i++)
		if (m->items[i].grp >= 0 && (!any ||
		    x->g[m->items[i].grp].sev > sev)) {
			sev = x->g[m->items[i].grp].sev;
			any = true;
		}
	return sev;
}

/*
 * The volume policy for one message (bt-digest(1), VOLUME):
 * within the budget it goes whole; a message without CRITICAL waits when
 * it would eat into the reserve; over the cap, a message with new
 * CRITICAL alerts still goes, as one part with the CRITICAL lines only,
 * and one whose CRITICAL alerts all repeat ones already delivered within
 * BT_DIGEST_REPEAT_MINUTES waits like the rest.
 */
static int
send_message(struct ctx *x, struct chatmsg *m)
{
	struct part *p = NULL;
	size_t np, i;
	int64_t cap = bt_conf_long("BT_DIGEST_MAX_PER_HOUR");
	int64_t reserve = bt_conf_long("BT_DIGEST_CRITICAL_RESERVE");
	int maxp = (int)bt_conf_long("BT_DIGEST_MAX_PARTS");
	bool crit = false, fresh = false, unlimited = x->offline || x->dry;
	int rc = 0;
	json_t *rec;

	for (i = 0; i < x->ng; i++)
		if (x->g[i].sev == S_CRITICAL && !x->g[i].sent &&
		    strcmp(chat_for(S_CRITICAL), m->chat) == 0) {
			crit = true;
			if (!x->g[i].repeat)
				fresh = true;
		}
	build_items(x, m, false);
	if (m->nitems == 0)
		return 0;
	m->sev = msg_sev(x, m);
	np = pack(x, m, maxp, &p);
	if (unlimited || (crit && x->used + (int64_t)np <= cap) ||
	    (!crit && x->used + (int64_t)np <= cap - reserve)) {
		rc = deliver(x, m, p, np);
		parts_free(p, np);
		return rc;
	}
	parts_free(p, np);
	if (crit && fresh) {
		/* The 2-minute bound wins: one part, CRITICAL only. */
		msg_clear(m);
		build_items(x, m, true);
		m->sev = S_CRITICAL;
		np = pack(x, m, 1, &p);
		m->warn = m->daily = false;
		rc = deliver(x, m, p, np);
		parts_free(p, np);
		if (rc == 0) {
			rec = bt_rec("over_cap");
			json_object_set_new(rec, "chat", json_string(m->chat));
			json_object_set_new(rec, "sent_last_hour",
			    json_integer(x->used));
			json_object_set_new(rec, "cap", json_integer(cap));
			bt_emit(rec);
		}
	} else {
		m->warn = m->daily = false;
	}
	/* What did not go waits, merged, for budget in a later run. */
	for (i = 0; i < x->ng; i++)
		if (!x->g[i].sent && strcmp(chat_for(x->g[i].sev), m->chat) == 0)
			x->held++;
	return rc;
}

/* --------------------------------------------------------- the digest */

static void
digest_jobs(struct ctx *x, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN], t[32];
	int64_t now = bt_now_ms();
	int n = 0;

	bt_buf_printf(b, "\nJobs (last run; runs and failures in 24 h):\n");
	if (x->st == NULL || (s = bt_stmt(x->st, "SELECT prog, job, started, "
	    "ended, exit, (SELECT count(*) FROM runs r2 WHERE r2.prog=r.prog "
	    "AND r2.job=r.job AND r2.started > ?1), (SELECT count(*) FROM "
	    "runs r2 WHERE r2.prog=r.prog AND r2.job=r.job AND r2.started > "
	    "?1 AND r2.exit NOT IN (0, 1)) FROM runs r WHERE id=(SELECT "
	    "max(id) FROM runs r3 WHERE r3.prog=r.prog AND r3.job=r.job) "
	    "ORDER BY prog, job", err)) == NULL) {
		bt_buf_printf(b, " no runs recorded\n");
		return;
	}
	sqlite3_bind_int64(s, 1, now - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(s, 1);
		n++;
		bt_buf_printf(b, " %s%s%s: %s", sqlite3_column_text(s, 0),
		    job && *job ? " " : "", job ? job : "",
		    bt_fmt_time(sqlite3_column_int64(s, 2), t));
		if (sqlite3_column_type(s, 3) == SQLITE_NULL)
			bt_buf_printf(b, ", still running or died");
		else
			bt_buf_printf(b, ", %llds, exit %d",
			    (long long)((sqlite3_column_int64(s, 3) -
			    sqlite3_column_int64(s, 2)) / 1000),
			    sqlite3_column_int(s, 4));
		bt_buf_printf(b, " (%d runs, %d failed)\n",
		    sqlite3_column_int(s, 5), sqlite3_column_int(s, 6));
	}
	sqlite3_reset(s);
	if (n == 0)
		bt_buf_printf(b, " no runs recorded\n");
}

static void
digest_freshness(struct bt_buf *b)
{
	char err[BT_ERRLEN], *path, **syms, **tfs, t[32];
	sqlite3 *db = NULL;
	struct bt_pair p;
	int nsym, ntf, i, j, cur, shown;
	int64_t last, now = bt_now_ms();
	struct bt_buf stale = { 0 };

	bt_buf_printf(b, "\nFreshness (current pairs per timeframe):\n");
	path = bt_store_path();
	if (bt_open_store(path, BT_DB_RO, &db, err) != 0) {
		bt_buf_printf(b, " store unreadable: %s\n", err);
		free(path);
		return;
	}
	free(path);
	nsym = bt_conf_list("BT_SYMBOLS", &syms);
	ntf = bt_conf_list("BT_TIMEFRAMES", &tfs);
	for (j = 0; j < ntf; j++) {
		cur = shown = 0;
		stale.len = 0;
		for (i = 0; i < nsym; i++) {
			last = -1;
			if (bt_pair_get(db, syms[i], tfs[j], false, NULL, 0, &p,
			    err) == 0 && p.id != 0)
				bt_pair_last(db, &p, &last, err);
			if (last >= 0 && now - last <= bt_stale_ms(tfs[j])) {
				cur++;
				continue;
			}
			if (shown++ < 5)
				bt_buf_printf(&stale, "%s%s (%s)", shown > 1 ?
				    ", " : "", syms[i], last < 0 ? "none" :
				    bt_fmt_time(last, t));
		}
		bt_buf_printf(b, " %s: %d/%d current", tfs[j], cur, nsym);
		if (shown > 0)
			bt_buf_printf(b, "; stale: %s%s", stale.p,
			    shown > 5 ? ", ..." : "");
		bt_buf_printf(b, "\n");
	}
	bt_buf_free(&stale);
	bt_list_free(syms, nsym);
	bt_list_free(tfs, ntf);
	bt_close(db);
}

static void
digest_validation(struct ctx *x, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int n = 0;

	bt_buf_printf(b, "\nValidation findings (24 h):\n");
	if (x->st == NULL || (s = bt_stmt(x->st, "SELECT severity, kind, "
	    "symbol, tf, message, count(*) FROM events WHERE prog="
	    "'bt-validate' AND ts > ?1 AND severity != 'INFO' GROUP BY "
	    "severity, kind, symbol, tf ORDER BY severity='CRITICAL' DESC, "
	    "min(ts) LIMIT 11", err)) == NULL) {
		bt_buf_printf(b, " none\n");
		return;
	}
	sqlite3_bind_int64(s, 1, bt_now_ms() - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (++n > 10) {
			bt_buf_printf(b, " ...\n");
			break;
		}
		bt_buf_printf(b, " %s %s%s%s%s%s: %s", sqlite3_column_text(s,
		    0), sqlite3_column_text(s, 1),
		    sqlite3_column_text(s, 2) ? " " : "",
		    sqlite3_column_text(s, 2) ? (const char *)
		    sqlite3_column_text(s, 2) : "",
		    sqlite3_column_text(s, 3) ? " " : "",
		    sqlite3_column_text(s, 3) ? (const char *)
		    sqlite3_column_text(s, 3) : "", sqlite3_column_text(s, 4));
		if (sqlite3_column_int(s, 5) > 1)
			bt_buf_printf(b, " (x%d)", sqlite3_column_int(s, 5));
		bt_buf_printf(b, "\n");
	}
	sqlite3_reset(s);
	if (n == 0)
		bt_buf_printf(b, " none\n");
}

static void
digest_backups(struct bt_buf *b)
{
	char *dir = bt_path("backups"), best[256] = "", wbest[256] = "", t[32];
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	struct stat sb;
	int n = 0;

	bt_buf_printf(b, "\nBackups:\n");
	if ((d = opendir(dir)) == NULL) {
		bt_buf_printf(b, " no backups/ directory\n");
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "db_backup_", 10) != 0 ||
		    strlen(de->d_name) < 14 || strcmp(de->d_name +
		    strlen(de->d_name) - 3, ".db") != 0)
			continue;
		n++;
		if (strncmp(de->d_name, "db_backup_weekly_", 17) == 0) {
			if (strcmp(de->d_name, wbest) > 0)
				snprintf(wbest, sizeof(wbest), "%s",
				    de->d_name);
		} else if (strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (*best) {
		snprintf(path, sizeof(path), "%s/%s", dir, best);
		if (stat(path, &sb) == 0)
			bt_buf_printf(b, " newest daily: %s, %.1f MB, written "
			    "%s\n", best, (double)sb.st_size / 1048576,
			    bt_fmt_time((int64_t)sb.st_mtime * 1000, t));
	} else
		bt_buf_printf(b, " no daily backup\n");
	if (*wbest)
		bt_buf_printf(b, " newest weekly: %s\n", wbest);
	bt_buf_printf(b, " %d backup files\n", n);
	free(dir);
}

static void
digest_backtest(struct bt_buf *b)
{
	char *path, *buf, err[BT_ERRLEN];
	const char *k;
	size_t len, i;
	json_t *r, *v, *sig, *meta;
	int n = 0, pass = 0, fail = 0;

	bt_buf_printf(b, "\nBacktest:\n");
	path = *bt_conf("BACKTEST_RESULTS") ? xstrdup(bt_conf(
	    "BACKTEST_RESULTS")) : bt_path("results/backtest_results.json");
	buf = bt_read_file(path, 64 << 20, &len, err);
	free(path);
	if (buf == NULL || (r = json_loadb(buf, len, 0, NULL)) == NULL ||
	    !json_is_object(r)) {
		bt_buf_printf(b, " no backtest results\n");
		free(buf);
		return;
	}
	free(buf);
	meta = json_object_get(r, "meta");
	if (json_is_object(meta)) {
		bt_buf_printf(b, " run");
		json_object_foreach(meta, k, v)
			if (json_is_string(v) && (strcmp(k, "time") == 0 ||
			    strcmp(k, "strategy") == 0 ||
			    strcmp(k, "timeframe") == 0 ||
			    strcmp(k, "mode") == 0))
				bt_buf_printf(b, " %s=%s", k,
				    json_string_value(v));
		bt_buf_printf(b, "\n");
	}
	if (json_is_object(json_object_get(r, "portfolio"))) {
		bt_buf_printf(b, " portfolio:");
		json_object_foreach(json_object_get(r, "portfolio"), k, v) {
			if (!json_is_number(v) || n++ >= 12)
				continue;
			bt_buf_printf(b, " %s=%.4g", k, json_number_value(v));
		}
		bt_buf_printf(b, "\n");
	}
	sig = json_object_get(r, "signals_validated");
	json_array_foreach(sig, i, v) {
		if (json_is_true(json_object_get(v, "passed")))
			pass++;
		else
			fail++;
	}
	bt_buf_printf(b, " signals validated: %d passed, %d failed\n", pass,
	    fail);
	n = 0;
	json_array_foreach(sig, i, v) {
		char t[32];
		json_t *ts = json_object_get(v, "timestamp");
		if (n++ >= 10) {
			bt_buf_printf(b, "  ...\n");
			break;
		}
		bt_buf_printf(b, "  %s %s %s position %g %s",
		    json_string_value(json_object_get(v, "symbol")) ?
		    json_string_value(json_object_get(v, "symbol")) : "?",
		    json_string_value(json_object_get(v, "strategy")) ?
		    json_string_value(json_object_get(v, "strategy")) : "?",
		    json_is_integer(ts) ? bt_fmt_time(json_integer_value(ts),
		    t) : "?", json_number_value(json_object_get(v, "position")),
		    json_is_true(json_object_get(v, "passed")) ? "passed" :
		    "failed");
		if (json_array_size(json_object_get(v, "reasons")) > 0) {
			size_t j;
			json_t *why;
			bt_buf_printf(b, ":");
			json_array_foreach(json_object_get(v, "reasons"), j,
			    why)
				if (json_is_string(why))
					bt_buf_printf(b, " %s",
					    json_string_value(why));
		}
		bt_buf_printf(b, "\n");
	}
	json_decref(r);
}

static void
digest_sent(struct ctx *x, struct bt_buf *b)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	int n = 0;

	bt_buf_printf(b, "\nSent in the last 24 h:\n");
	if (x->st == NULL || (s = bt_stmt(x->st, "SELECT severity, chat, "
	    "count(*), sum(events) FROM sends WHERE ts > ?1 GROUP BY "
	    "severity, chat ORDER BY severity, chat", err)) == NULL) {
		bt_buf_printf(b, " nothing\n");
		return;
	}
	sqlite3_bind_int64(s, 1, bt_now_ms() - 86400000);
	while (sqlite3_step(s) == SQLITE_ROW) {
		n++;
		bt_buf_printf(b, " %s to %s: %d messages, %lld alerts\n",
		    sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2),
		    (long long)sqlite3_column_int64(s, 3));
	}
	sqlite3_reset(s);
	if (n == 0)
		bt_buf_printf(b, " nothing\n");
}

static char *
compose_digest(struct ctx *x)
{
	struct bt_buf b = { 0 };
	char t[32];

	bt_buf_printf(&b, "bt daily digest, %s\n", bt_fmt_time(bt_now_ms(), t));
	digest_jobs(x, &b);
	digest_freshness(&b);
	digest_validation(x, &b);
	digest_backups(&b);
	digest_backtest(&b);
	digest_sent(x, &b);
	return b.p;
}

/* ----------------------------------------------------------------- due */

static int64_t
kv_time(sqlite3 *st, const char *key)
{
	char *v = NULL, err[BT_ERRLEN];
	int64_t t = -1;

	if (st == NULL || bt_kv_get(st, key, &v, err) != 0 || v == NULL)
		return -1;
	if (bt_parse_time(v, &t) == -1)
		t = -1;
	free(v);
	return t;
}

static void
kv_time_set(struct ctx *x, const char *key, int64_t t)
{
	char ts[32], err[BT_ERRLEN];

	if (x->dry || x->st == NULL)
		return;
	if (bt_kv_set(x->st, key, bt_fmt_time(t, ts), err) != 0)
		bt_warnx("%s", err);
}

/*
 * The batches are due when their latest slot has passed since the last
 * one went (contracts.md, Due).  A fresh state file starts the clocks
 * now, so a new install sends its first batch at the next slot.
 */
static void
decide_due(struct ctx *x, bool critical_only)
{
	int64_t now = bt_now_ms(), hour, day, last;

	x->due[S_CRITICAL] = true;
	if (critical_only)
		return;
	hour = now - now % 3600000;
	last = kv_time(x->st, "digest.hourly");
	if (x->forced_hourly || x->forced_daily)
		x->due[S_WARNING] = true;
	else if (last < 0)
		kv_time_set(x, "digest.hourly", now);
	else
		x->due[S_WARNING] = last < hour;
	day = now - now % 86400000 + bt_conf_long("BT_DIGEST_HOUR") *
	    3600000LL;
	if (day > now)
		day -= 86400000;
	last = kv_time(x->st, "digest.daily");
	if (x->forced_daily)
		x->due[S_INFO] = true;
	else if (last < 0)
		kv_time_set(x, "digest.daily", now);
	else
		x->due[S_INFO] = last < day;
}

/* --------------------------------------------------------------- main */

static int
open_telegram(struct ctx *x, char *err)
{
	const char *p;
	bool any;
	int s;

	any = bt_secret_set("TELEGRAM_BOT_TOKEN");
	for (s = 0; s < S_N; s++)
		if (*chat_for(s) != '\0')
			any = true;
	if (!any) {
		x->offline = true;
		return 0;
	}
	if ((x->token = bt_secret("TELEGRAM_BOT_TOKEN", err)) == NULL)
		return BT_EX_CONFIG;
	for (p = x->token; *p >= '0' && *p <= '9'; p++)
		;
	if (p == x->token || *p != ':' || p[1] == '\0' ||
	    strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") != strlen(p + 1)) {
		snprintf(err, BT_ERRLEN, "TELEGRAM_BOT_TOKEN: not a bot token "
		    "(digits, a colon, then letters, digits, _ or -)");
		return BT_EX_CONFIG;
	}
	if ((x->http = bt_http_new(bt_conf("BT_TELEGRAM_URL"), err)) == NULL)
		return BT_EX_CONFIG;
	/*
	 * A severity without a chat waits (its events stay unsent) while
	 * the others go out; the run still exits 78, which bt-watchdog
	 * reports as a failing alert path.
	 */
	for (s = S_N - 1; s >= 0; s--)
		if (*chat_for(s) == '\0') {
			x->nochat[s] = true;
			snprintf(err, BT_ERRLEN, "no chat for %s alerts: set "
			    "TELEGRAM_CHAT_%s or TELEGRAM_BACKTEST_CHANNEL",
			    sevname[s], sevname[s]);
		}
	for (s = 0; s < S_N; s++)
		if (x->nochat[s])
			return BT_EX_CONFIG;
	return 0;
}

static void
groups_free(struct ctx *x)
{
	for (size_t i = 0; i < x->ng; i++) {
		free(x->g[i].prog);
		free(x->g[i].rroute);
		free(x->g[i].kind);
		free(x->g[i].symbol);
		free(x->g[i].tf);
		free(x->g[i].msg);
	}
	free(x->g);
}

/*
 * --today: what went out since `since' (midnight UTC by default) and what
 * is still unsent, one JSON line a message: its time, chat, severity,
 * state (sent, refused, printed, unsent) and text.  bt-digest(1) shows
 * the jq line that makes a table of it.
 */
static int
list_today(struct ctx *x, int64_t since)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN], t[32];
	const char *chat, *text;
	json_t *rec;
	size_t i;
	int rc, s;

	if ((q = bt_stmt(x->st, "SELECT ts, chat, severity, part, parts, "
	    "events, ok, error, coalesce(text, head) FROM sends WHERE ts >= ?1 "
	    "ORDER BY ts, id", err)) == NULL) {
		bt_warnx("%s", err);
		return BT_EX_SOFTWARE;
	}
	sqlite3_bind_int64(q, 1, since);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		chat = (const char *)sqlite3_column_text(q, 1);
		text = (const char *)sqlite3_column_text(q, 8);
		rec = bt_rec("message");
		json_object_set_new(rec, "time", json_string(bt_fmt_time(
		    sqlite3_column_int64(q, 0), t)));
		json_object_set_new(rec, "chat", strcmp(chat, "stdout") == 0 ?
		    json_null() : json_string(chat));
		json_object_set_new(rec, "severity", json_string((const char *)
		    sqlite3_column_text(q, 2)));
		json_object_set_new(rec, "state", json_string(
		    !sqlite3_column_int(q, 6) ? "refused" :
		    strcmp(chat, "stdout") == 0 ? "printed" : "sent"));
		json_object_set_new(rec, "part", json_integer(
		    sqlite3_column_int(q, 3)));
		json_object_set_new(rec, "parts", json_integer(
		    sqlite3_column_int(q, 4)));
		json_object_set_new(rec, "events", json_integer(
		    sqlite3_column_int64(q, 5)));
		if (sqlite3_column_type(q, 7) != SQLITE_NULL)
			json_object_set_new(rec, "error", json_string(
			    (const char *)sqlite3_column_text(q, 7)));
		json_object_set_new(rec, "text", json_string(text ? text : ""));
		bt_emit(rec);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		bt_warnx("sends: %s", bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	for (s = 0; s < S_N; s++)
		x->due[s] = true;
	if ((rc = load_pending(x)) != 0)
		return rc;
	for (i = 0; i < x->ng; i++) {
		char *line = render_group(&x->g[i]);
		chat = chat_for(x->g[i].route);
		rec = bt_rec("message");
		json_object_set_new(rec, "time", json_string(bt_fmt_time(
		    x->g[i].last, t)));
		json_object_set_new(rec, "chat", *chat ? json_string(chat) :
		    json_null());
		json_object_set_new(rec, "severity",
		    json_string(sevname[x->g[i].sev]));
		json_object_set_new(rec, "state", json_string("unsent"));
		json_object_set_new(rec, "events", json_integer(x->g[i].count));
		json_object_set_new(rec, "text", json_string(line));
		bt_emit(rec);
		free(line);
	}
	return 0;
}

/*
 * The digest's own runs are one a minute: those with nothing to say
 * (job '', exit 0) are kept a week, the rest as long as every other run.
 */
static void
prune_runs(sqlite3 *st)
{
	sqlite3_stmt *q;
	char err[BT_ERRLEN];

	if (bt_begin(st, err) != 0)
		return;
	if ((q = bt_stmt(st, "DELETE FROM runs WHERE prog='bt-digest' AND "
	    "job='' AND exit=0 AND started < ?1", err)) != NULL) {
		sqlite3_bind_int64(q, 1, bt_now_ms() - 7 * 86400000LL);
		sqlite3_step(q);
		sqlite3_reset(q);
	}
	if (bt_commit(st, err) != 0)
		bt_warnx("%s", err);
}

/* The daily digest into logs/digest.txt, its INFO lines after it. */
static int
write_digest_txt(struct ctx *x)
{
	struct bt_buf full = { 0 };
	char err[BT_ERRLEN], *dpath, *ldir;
	int rc = 0;

	bt_buf_printf(&full, "%s", x->digest);
	for (size_t k = 0; k < x->ng; k++)
		if (x->g[k].sev == S_INFO) {
			char *l = render_group(&x->g[k]);
			bt_buf_printf(&full, "%s%s\n", k == 0 ?
			    "\nINFO since the last digest:\n" : "", l);
			free(l);
		}
	dpath = bt_path("logs/digest.txt");
	ldir = bt_path("logs");
	if (bt_mkdirs(ldir, 0750, err) == -1 ||
	    bt_write_atomic(dpath, full.p, full.len, 0640, err) == -1) {
		failed(x, "%s", err);
		rc = BT_EX_CANTCREAT;
	}
	free(ldir);
	free(dpath);
	bt_buf_free(&full);
	return rc;
}

/* One message per chat, CRITICAL's chat first; returns how many. */
static int
plan_messages(struct ctx *x, struct chatmsg *msgs)
{
	int s, i, nm = 0;

	for (s = S_CRITICAL; s >= S_INFO; s--) {
		const char *c = chat_for(s);
		bool have = false;
		if (!x->due[s] || x->nochat[s])
			continue;
		for (i = 0; i < nm; i++)
			if (strcmp(msgs[i].chat, c) == 0)
				have = true;
		if (have)
			continue;
		msgs[nm].chat = c;
		msgs[nm].sev = s;
		msgs[nm].warn = x->due[S_WARNING] && !x->nochat[S_WARNING] &&
		    strcmp(chat_for(S_WARNING), c) == 0;
		msgs[nm].daily = x->due[S_INFO] && !x->nochat[S_INFO] &&
		    strcmp(chat_for(S_INFO), c) == 0;
		nm++;
	}
	return nm;
}

/* Sends the planned messages; a batch that went moves its clock. */
static int
send_all(struct ctx *x, struct chatmsg *msgs, int nm)
{
	int i, s, rc = 0;

	for (i = 0; i < nm && !x->stop; i++) {
		bool warn = msgs[i].warn, daily = msgs[i].daily;
		s = send_message(x, &msgs[i]);
		rc = bt_exit_worse(rc, s);
		if (s != 0)
			continue;
		/* A batch went (or had nothing to carry): its clock moves. */
		if (msgs[i].warn && warn) {
			kv_time_set(x, "digest.hourly", bt_now_ms());
			x->due[S_WARNING] = false;
		}
		if (msgs[i].daily && daily)
			kv_time_set(x, "digest.daily", bt_now_ms());
	}
	return rc;
}

/* Telegram's flood control, remembered from an earlier run. */
static bool
rate_limited(struct ctx *x)
{
	int64_t until = kv_time(x->st, "digest.retry_until");
	char t[32];
	json_t *rec;

	if (x->offline || x->dry || until <= bt_now_ms())
		return false;
	rec = bt_rec("rate_limited");
	json_object_set_new(rec, "until", json_string(bt_fmt_time(until, t)));
	bt_emit(rec);
	x->held += (int)x->ng;
	return true;
}

static json_t *
summary(struct ctx *x, const struct rec_stats *rs, int rc)
{
	json_t *sum, *pend;
	int s;

	sum = bt_rec("summary");
	json_object_set_new(sum, "mode", json_string(x->dry ? "dry-run" :
	    x->offline ? "offline" : "telegram"));
	json_object_set_new(sum, "read", json_integer(rs->lines));
	json_object_set_new(sum, "recorded", json_integer(rs->recorded));
	json_object_set_new(sum, "duplicates", json_integer(rs->duplicates));
	json_object_set_new(sum, "ignored", json_integer(rs->ignored +
	    rs->bad));
	pend = json_object();
	for (s = 0; s < S_N; s++) {
		int64_t n = 0;
		for (size_t k = 0; k < x->ng; k++)
			if (x->g[k].sev == s)
				n += x->g[k].count;
		json_object_set_new(pend, sevname[s], json_integer(n));
	}
	json_object_set_new(sum, "due", pend);
	json_object_set_new(sum, "messages", json_integer(x->sent));
	json_object_set_new(sum, "held", json_integer(x->held));
	json_object_set_new(sum, "sent_last_hour", json_integer(x->used));
	json_object_set_new(sum, "exit", json_integer(rc));
	if (x->error[0] != '\0')
		json_object_set_new(sum, "error", json_string(x->error));
	bt_rec_dur(sum, "seconds", bt_mono() - x->t0);
	return sum;
}

int
main(int argc, char *argv[])
{
	struct ctx x;
	struct rec_stats rs = { 0 };
	struct chatmsg msgs[S_N];
	char err[BT_ERRLEN], *spath = NULL;
	const char *job, *since_opt = NULL;
	int ch, rc = 0, s, nm = 0, i;
	bool critical_only = false, today = false;
	int64_t run = -1, since;
	json_t *sum;

	memset(&x, 0, sizeof(x));
	memset(msgs, 0, sizeof(msgs));
	x.t0 = bt_mono();
	bt_conf_want("TELEGRAM_BOT_TOKEN");
	/* The alert path runs on with the defaults of bad keys. */
	bt_conf_tolerate();
	if (bt_wants_help(argc, argv))
		usage(stdout, 0);
	if ((rc = bt_init("bt-digest", err)) != 0 ||
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
		case 'C':
			critical_only = true;
			break;
		case 'H':
			x.forced_hourly = true;
			break;
		case 'D':
			x.forced_daily = true;
			break;
		case 'L':
			today = true;
			break;
		case 'S':
			since_opt = optarg;
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
	if (optind != argc || (critical_only + x.forced_hourly +
	    x.forced_daily + today) > 1 || (since_opt != NULL && !today))
		usage(stderr, BT_EX_USAGE);
	since = bt_now_ms() - bt_now_ms() % 86400000;
	if (since_opt != NULL && bt_parse_time(since_opt, &since) == -1) {
		bt_warnx("--since: '%s' is not an ISO 8601 UTC time", since_opt);
		return BT_EX_USAGE;
	}
	spath = bt_state_path();
	rc = bt_open_state(spath, x.dry || today ? BT_DB_RO : BT_DB_CREATE,
	    &x.st, err);
	free(spath);
	if (rc == BT_EX_NOINPUT && (x.dry || today))
		rc = 0;		/* nothing recorded yet */
	else if (rc != 0) {
		bt_warnx("%s", err);
		goto out;
	}
	if (today) {
		rc = x.st != NULL ? list_today(&x, since) : 0;
		goto out;
	}
	/* The runs row first: a run that fails is seen (bt-watchdog). */
	if (!x.dry && (run = bt_run_begin(x.st, "", err)) < 0) {
		failed(&x, "%s", err);
		rc = (int)-run;
		goto out;
	}
	/* Then stdin's events, before anything about Telegram can fail. */
	if (!isatty(STDIN_FILENO))
		rc = record_stdin(&x, &rs);
	if (!x.dry)
		bt_conf_events(x.st, true);
	decide_due(&x, critical_only);
	if (bt_exit_worse(rc, BT_EX_DATAERR) != BT_EX_DATAERR)
		goto summary;	/* the state file failed */
	if ((s = open_telegram(&x, err)) != 0) {
		failed(&x, "%s", err);
		rc = bt_exit_worse(rc, s);
		if (x.http == NULL && !x.offline)
			goto summary;	/* nothing can be sent */
	}
	if ((s = load_pending(&x)) != 0) {
		rc = bt_exit_worse(rc, s);
		goto summary;
	}
	if (x.due[S_INFO]) {
		x.digest = compose_digest(&x);
		if (!x.dry)
			rc = bt_exit_worse(rc, write_digest_txt(&x));
	}
	if (rate_limited(&x)) {
		rc = bt_exit_worse(rc, BT_EX_TEMPFAIL);
		goto summary;
	}
	x.used = x.offline ? 0 : sends_last_hour(&x);
	nm = plan_messages(&x, msgs);
	rc = bt_exit_worse(rc, send_all(&x, msgs, nm));
summary:
	rc = bt_exit_worse(rc, x.exit);
	rc = bt_exit_worse(rc, bt_conf_status());
	/* The runs row says which batch went, for the dead-man switch. */
	job = "";
	for (i = 0; i < nm; i++)
		if (msgs[i].daily)
			job = "daily";
	if (*job == '\0')
		for (i = 0; i < nm; i++)
			if (msgs[i].warn)
				job = "hourly";
	sum = summary(&x, &rs, rc);
	if (run > 0) {
		if ((*job != '\0' && bt_run_job(x.st, run, job, err) != 0) ||
		    bt_run_end(x.st, run, rc, sum, err) != 0)
			bt_warnx("%s", err);
		prune_runs(x.st);
	}
	bt_emit(sum);
out:
	for (i = 0; i < nm; i++)
		msg_clear(&msgs[i]);
	groups_free(&x);
	free(x.digest);
	if (x.token != NULL) {
		explicit_bzero(x.token, strlen(x.token));
		free(x.token);
	}
	bt_http_free(x.http);
	bt_close(x.st);
	return bt_finish(rc);
}
