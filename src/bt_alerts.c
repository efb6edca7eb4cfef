/*
 * bt_alerts.c - the alert queue: every event of the bt programs and of
 * any script reaches the operator, within the seed's bounds (bt-digest(1)).
 *
 * Owns: recording events from standard input (unless their event_id is
 * already there), the pending groups (identical alerts are one line with
 * a count; an all-clear goes where its alert went), when each batch is
 * due (CRITICAL at once, WARNING hourly, INFO in the daily digest),
 * routing to chats, rendering, packing into parts below Telegram's 4096
 * UTF-16 units, the volume policy (BT_DIGEST_MAX_PER_HOUR and its corner
 * for new CRITICALs), delivery through bt_telegram.c with its fallback to
 * the other chats, and marking sent: the state file's events and sends.
 *
 * Invariants:
 * - An event is marked sent only after Telegram answered ok for the part
 *   that carried it: delivery is at least once, never silently dropped.
 * - At most BT_DIGEST_MAX_PER_HOUR messages in any rolling hour, except
 *   the one corner bt-digest(1) spells out (CRITICAL over the cap).
 * - One message per chat per run; plain text, split on line boundaries.
 * - A CRITICAL that its chat refuses goes to the other configured chats,
 *   with a line saying why; the refusal is recorded (bt-watchdog sees it).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_alerts.h"
#include "bt_conf.h"
#include "bt_lock.h"

#define TG_ROOM		(BT_TG_LIMIT - 16)	/* room left for "(i/n) " */
#define ITEM_MAX	1500	/* bytes of one rendered line */
#define MSG_MAX		500	/* bytes of an event's message in a line */

const char *const bt_sevname[BT_SEV_N] = { "INFO", "WARNING", "CRITICAL" };

struct part {
	struct bt_buf text;
	int	*grps;
	size_t	 ngrps;
};

/* One rendered line of a message; grp >= 0 when it carries events. */
struct bt_alert_item {
	char	*text;
	int	 grp;
};

/* A failure of this run: on stderr, and its first in the runs row. */
void
bt_alerts_failed(struct bt_alerts *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bt_vwarnx_keep(x->error, sizeof(x->error), fmt, ap);
	va_end(ap);
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

	for (i = 0; s != NULL && i < BT_SEV_N; i++)
		if (strcmp(s, bt_sevname[i]) == 0)
			return i;
	return -1;
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
add_virtual(struct bt_alerts *x, json_t *ev, int sev)
{
	struct bt_alert_group *g;
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
int
bt_alerts_record_stdin(struct bt_alerts *x, struct bt_alert_stats *rs)
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
		/*
		 * An event whose text is not valid UTF-8 is recorded with
		 * U+FFFD in place of the bad bytes, not dropped (jansson
		 * refuses such input whole).  A NUL byte stays an error.
		 */
		if (strlen(line) == (size_t)n) {
			char *u = bt_utf8(line);
			free(line);
			line = u;
			n = (ssize_t)strlen(line);
			cap = (size_t)n + 1;
		}
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

int
bt_alerts_load_pending(struct bt_alerts *x)
{
	sqlite3_stmt *s, *r;
	char err[BT_ERRLEN];
	struct bt_alert_group *g;
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
		if (g->sev != BT_SEV_CRITICAL || g->maxid < 0)
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
sends_last_hour(struct bt_alerts *x)
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

char *
bt_alerts_render(const struct bt_alert_group *g)
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
add_item(struct bt_alert_msg *m, char *text, int grp)
{
	if ((m->items = realloc(m->items, (m->nitems + 1) *
	    sizeof(*m->items))) == NULL)
		abort();
	cut_utf8(text, ITEM_MAX);
	m->items[m->nitems].text = text;
	m->items[m->nitems++].grp = grp;
}

const char *
bt_alerts_chat(int sev)
{
	static const char *key[BT_SEV_N] = { "TELEGRAM_CHAT_INFO",
	    "TELEGRAM_CHAT_WARNING", "TELEGRAM_CHAT_CRITICAL" };

	if (*bt_conf(key[sev]) != '\0')
		return bt_conf(key[sev]);
	return bt_conf("TELEGRAM_BACKTEST_CHANNEL");
}

bool
bt_alerts_configured(void)
{
	int s;

	for (s = 0; s < BT_SEV_N; s++)
		if (*bt_alerts_chat(s) != '\0')
			return true;
	return bt_secret_set("TELEGRAM_BOT_TOKEN");
}

/* Adds the pending groups of severity `sev' routed as `route'. */
static size_t
add_groups(struct bt_alerts *x, struct bt_alert_msg *m, int sev, int route,
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
		if (asprintf(&s, "bt %s: %zu alert%s", bt_sevname[sev], n,
		    n > 1 ? "s" : "") == -1)
			abort();
	} else if (asprintf(&s, "%s: %zu", head, n) == -1)
		abort();
	add_item(m, s, -1);
	for (i = 0; i < x->ng; i++)
		if (x->g[i].sev == sev && x->g[i].route == route &&
		    !x->g[i].sent)
			add_item(m, bt_alerts_render(&x->g[i]), (int)i);
	return n;
}

/*
 * The items of a message, in order: CRITICAL lines and the all-clears of
 * CRITICAL alerts, WARNING lines and theirs, the daily digest (whose INFO
 * lines are inside it).  `only_crit' keeps the CRITICAL chat's lines
 * alone (over the cap).
 */
static void
build_items(struct bt_alerts *x, struct bt_alert_msg *m, bool only_crit)
{
	int sev, low;
	size_t i, n;
	char *s;

	for (sev = BT_SEV_CRITICAL; sev > BT_SEV_INFO; sev--) {
		if (only_crit && sev != BT_SEV_CRITICAL)
			break;
		if (!x->due[sev] || x->nochat[sev] ||
		    strcmp(bt_alerts_chat(sev), m->chat) != 0)
			continue;
		add_groups(x, m, sev, sev, NULL);
		for (low = sev - 1; low >= BT_SEV_INFO; low--)
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
		if (x->g[i].sev == BT_SEV_INFO && x->g[i].route == BT_SEV_INFO &&
		    !x->g[i].sent)
			n++;
	if (n > 0) {
		add_item(m, xstrdup(""), -1);
		if (asprintf(&s, "INFO since the last digest: %zu", n) == -1)
			abort();
		add_item(m, s, -1);
		for (i = 0; i < x->ng; i++)
			if (x->g[i].sev == BT_SEV_INFO && x->g[i].route == BT_SEV_INFO &&
			    !x->g[i].sent)
				add_item(m, bt_alerts_render(&x->g[i]), (int)i);
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
pack(struct bt_alerts *x, struct bt_alert_msg *m, int maxp, struct part **out)
{
	struct part *p = NULL;
	size_t np = 0, i, len, cur = 0;
	const size_t reserve = 120;
	long lines = 0, alerts = 0;
	bool full = false;
	char more[160];

	for (i = 0; i < m->nitems; i++) {
		len = bt_tg_units(m->items[i].text, strlen(m->items[i].text)) + 1;
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
msg_clear(struct bt_alert_msg *m)
{
	for (size_t i = 0; i < m->nitems; i++)
		free(m->items[i].text);
	free(m->items);
	m->items = NULL;
	m->nitems = 0;
}

/*
 * A sends row for a message Telegram took, inside the caller's
 * transaction; what was sent is kept 30 days, for the digest and the cap.
 */
static int
insert_send(struct bt_alerts *x, const char *chat, int sev, int64_t events,
    int partno, int nparts, const char *text, char *err)
{
	sqlite3_stmt *s;
	char head[200];
	int64_t now = bt_now_ms();
	int rc;

	if ((s = bt_stmt(x->st, "INSERT INTO sends(ts, chat, severity, events, "
	    "part, parts, head, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    err)) == NULL)
		return BT_EX_SOFTWARE;
	snprintf(head, sizeof(head), "%s", text);
	head[strcspn(head, "\n")] = '\0';
	cut_utf8(head, 120);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, chat, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, bt_sevname[sev], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, events);
	sqlite3_bind_int(s, 5, partno);
	sqlite3_bind_int(s, 6, nparts);
	sqlite3_bind_text(s, 7, head, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 8, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, BT_ERRLEN, "sends: %s", bt_db_errmsg(x->st));
		return bt_sqlite_ex(rc);
	}
	if ((s = bt_stmt(x->st, "DELETE FROM sends WHERE ts < ?1", err)) !=
	    NULL) {
		sqlite3_bind_int64(s, 1, now - 30 * 86400000LL);
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	return 0;
}

/* A sends row of its own, for a message that carried no events. */
static void
record_send(struct bt_alerts *x, const char *chat, int sev, int64_t events,
    int partno, int nparts, const char *text)
{
	char err[BT_ERRLEN];

	if (x->dry || x->st == NULL)
		return;
	if (bt_begin(x->st, err) != 0 || insert_send(x, chat, sev, events,
	    partno, nparts, text, err) != 0) {
		bt_rollback(x->st);
		bt_warnx("%s", err);
		return;
	}
	if (bt_commit(x->st, err) != 0)
		bt_warnx("%s", err);
}

static int
mark_sent(struct bt_alerts *x, const struct part *p, const char *chat, int sev,
    int partno, int nparts, int64_t events, const char *text)
{
	sqlite3_stmt *s;
	char err[BT_ERRLEN];
	const struct bt_alert_group *g;
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
		sqlite3_bind_text(s, 3, bt_sevname[g->sev], -1, SQLITE_STATIC);
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
	if ((rc = insert_send(x, chat, sev, events, partno, nparts, text != NULL ?
	    text : p->text.p, err)) != 0)
		goto fail;
	return bt_commit(x->st, err);
fail:
	bt_rollback(x->st);
	bt_warnx("cannot mark events sent (they will be sent again): %s",
	    err);
	return rc;
}

static int64_t
part_events(struct bt_alerts *x, const struct part *p)
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
mark_refused(struct bt_alerts *x, const char *chat, int sev, const char *text,
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
	sqlite3_bind_text(s, 3, bt_sevname[sev], -1, SQLITE_STATIC);
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
	if (bt_tg_units(b.p, b.len) <= BT_TG_LIMIT)
		return b.p;
	for (i = 0; i < b.len; i++) {
		c = (unsigned char)b.p[i];
		if ((c & 0xc0) != 0x80)
			u += c >= 0xf0 ? 2 : 1;
		if (u > BT_TG_LIMIT - 64)
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
sent_line(struct bt_alerts *x, const char *chat, int sev, size_t part, size_t np,
    int64_t nev, const char *text, int64_t mid, const char *instead_of)
{
	json_t *rec;

	if (x->quiet)
		return;
	rec = bt_rec("sent");
	json_object_set_new(rec, "chat", json_string(chat));
	json_object_set_new(rec, "severity", json_string(bt_sevname[sev]));
	json_object_set_new(rec, "part", json_integer((json_int_t)part));
	json_object_set_new(rec, "parts", json_integer((json_int_t)np));
	json_object_set_new(rec, "events", json_integer(nev));
	json_object_set_new(rec, "chars", json_integer((json_int_t)bt_tg_units(text,
	    strlen(text))));
	json_object_set_new(rec, "message_id", json_integer(mid));
	if (instead_of != NULL)
		json_object_set_new(rec, "instead_of", json_string(instead_of));
	bt_emit(rec);
}

/*
 * One message through bt_telegram.c, within what is left of the run's
 * BT_DIGEST_TIME_BUDGET: its failure said and kept as the run's first
 * error, a stop kept for the run, a 429's wait remembered across runs.
 */
static int
send_one(struct bt_alerts *x, const char *chat, const char *text,
    int64_t *mid, char *why, size_t whylen)
{
	struct bt_tg_try t;
	char ts[32], err[BT_ERRLEN];
	int rc;

	rc = bt_tg_send(&x->tg, chat, text, x->t0 +
	    bt_conf_double("BT_DIGEST_TIME_BUDGET"), &t);
	*mid = t.mid;
	snprintf(why, whylen, "%s", t.why);
	if (t.line[0] != '\0' && x->error[0] == '\0')
		snprintf(x->error, sizeof(x->error), "%s", t.line);
	if (t.stop)
		x->stop = true;
	/* Honoured across runs: no send before then. */
	if (rc == BT_EX_TEMPFAIL && !x->dry && x->st != NULL) {
		bt_fmt_time(bt_now_ms() + (int64_t)(t.wait * 1000), ts);
		if (bt_kv_set(x->st, "digest.retry_until", ts, err) != 0)
			bt_warnx("%s", err);
	}
	return rc;
}

/*
 * A CRITICAL part its chat refused, to the other configured chats in
 * turn until one takes it.  0 when one did.
 */
static int
deliver_elsewhere(struct bt_alerts *x, struct bt_alert_msg *m, struct part *p,
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
		if ((rc = send_one(x, other[j], text, &mid, why2,
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
deliver(struct bt_alerts *x, struct bt_alert_msg *m, struct part *p, size_t np)
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
			    json_string(bt_sevname[m->sev]));
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
		if ((rc = send_one(x, m->chat, p[i].text.p, &mid, why,
		    sizeof(why))) != 0) {
			if (rc == BT_EX_DATAERR) {
				x->refusals++;
				mark_refused(x, m->chat, m->sev, p[i].text.p,
				    why);
				if (m->sev == BT_SEV_CRITICAL &&
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
msg_sev(struct bt_alerts *x, const struct bt_alert_msg *m)
{
	int sev = m->daily ? BT_SEV_INFO : BT_SEV_WARNING;
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
 * With BT_DIGEST_PICTURE=1, the daily digest is preceded by the daily
 * backtest's equity curve (BT_DIGEST_PICTURE_FILE, a PNG the job's
 * plot made), sent with sendPhoto and a short caption; the digest's text
 * goes as its own message after it.  No picture, no photo: nothing fails
 * for a missing PNG (gnuplot is optional).  A photo that Telegram refuses
 * is said and recorded, and the text goes all the same.
 */
static void
send_picture(struct bt_alerts *x, const char *chat)
{
	struct bt_tg_try t;
	struct stat sb;
	char *path, cap[256], ts[32], err[BT_ERRLEN];
	const char *f = bt_conf("BT_DIGEST_PICTURE_FILE");
	json_t *rec;
	int rc;

	if (!bt_conf_long("BT_DIGEST_PICTURE") || x->offline || x->dry ||
	    x->stop)
		return;
	path = *f == '/' ? strdup(f) : bt_path(f);
	if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		free(path);
		return;
	}
	snprintf(cap, sizeof(cap), "bt daily digest, %s: the daily "
	    "backtest's equity curve (written %s); the digest follows",
	    bt_fmt_time(bt_now_ms(), ts), bt_fmt_time((int64_t)sb.st_mtime *
	    1000, err));
	rc = bt_tg_send_photo(&x->tg, chat, path, cap, x->t0 +
	    bt_conf_double("BT_DIGEST_TIME_BUDGET"), &t);
	if (t.line[0] != '\0' && x->error[0] == '\0')
		snprintf(x->error, sizeof(x->error), "%s", t.line);
	if (t.stop)
		x->stop = true;
	if (rc != 0) {
		if (rc == BT_EX_DATAERR)
			x->refusals++;
		mark_refused(x, chat, BT_SEV_INFO, cap, t.why);
		x->exit = bt_exit_worse(x->exit, rc);
		free(path);
		return;
	}
	x->used++;
	x->sent++;
	record_send(x, chat, BT_SEV_INFO, 0, 1, 1, cap);
	if (!x->quiet) {
		rec = bt_rec("sent");
		json_object_set_new(rec, "chat", json_string(chat));
		json_object_set_new(rec, "severity", json_string("INFO"));
		json_object_set_new(rec, "photo", bt_jstr(path));
		json_object_set_new(rec, "bytes", json_integer(sb.st_size));
		json_object_set_new(rec, "message_id", json_integer(t.mid));
		bt_emit(rec);
	}
	free(path);
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
send_message(struct bt_alerts *x, struct bt_alert_msg *m)
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
		if (x->g[i].sev == BT_SEV_CRITICAL && !x->g[i].sent &&
		    strcmp(bt_alerts_chat(BT_SEV_CRITICAL), m->chat) == 0) {
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
		if (m->daily)
			send_picture(x, m->chat);
		rc = deliver(x, m, p, np);
		parts_free(p, np);
		return rc;
	}
	parts_free(p, np);
	if (crit && fresh) {
		/* The 2-minute bound wins: one part, CRITICAL only. */
		msg_clear(m);
		build_items(x, m, true);
		m->sev = BT_SEV_CRITICAL;
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
		if (!x->g[i].sent && strcmp(bt_alerts_chat(x->g[i].sev), m->chat) == 0)
			x->held++;
	return rc;
}

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
kv_time_set(struct bt_alerts *x, const char *key, int64_t t)
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
void
bt_alerts_decide_due(struct bt_alerts *x, bool critical_only)
{
	int64_t now = bt_now_ms(), hour, day, last;

	x->due[BT_SEV_CRITICAL] = true;
	if (critical_only)
		return;
	hour = now - now % 3600000;
	last = kv_time(x->st, "digest.hourly");
	if (x->forced_hourly || x->forced_daily)
		x->due[BT_SEV_WARNING] = true;
	else if (last < 0)
		kv_time_set(x, "digest.hourly", now);
	else
		x->due[BT_SEV_WARNING] = last < hour;
	day = now - now % 86400000 + bt_conf_long("BT_DIGEST_HOUR") *
	    3600000LL;
	if (day > now)
		day -= 86400000;
	last = kv_time(x->st, "digest.daily");
	if (x->forced_daily)
		x->due[BT_SEV_INFO] = true;
	else if (last < 0)
		kv_time_set(x, "digest.daily", now);
	else
		x->due[BT_SEV_INFO] = last < day;
}

int
bt_alerts_open_telegram(struct bt_alerts *x, char *err)
{
	int s, rc;

	if (!bt_alerts_configured()) {
		x->offline = true;
		return 0;
	}
	if ((rc = bt_tg_open(&x->tg, err)) != 0)
		return rc;
	/*
	 * A severity without a chat waits (its events stay unsent) while
	 * the others go out; the run still exits 78, which bt-watchdog
	 * reports as a failing alert path.
	 */
	for (s = BT_SEV_N - 1; s >= 0; s--)
		if (*bt_alerts_chat(s) == '\0') {
			x->nochat[s] = true;
			snprintf(err, BT_ERRLEN, "no chat for %s alerts: set "
			    "TELEGRAM_CHAT_%s or TELEGRAM_BACKTEST_CHANNEL",
			    bt_sevname[s], bt_sevname[s]);
		}
	for (s = 0; s < BT_SEV_N; s++)
		if (x->nochat[s])
			return BT_EX_CONFIG;
	return 0;
}

void
bt_alerts_free(struct bt_alerts *x)
{
	int i;

	for (i = 0; i < x->nm; i++)
		msg_clear(&x->msgs[i]);
	free(x->digest);
	bt_tg_close(&x->tg);
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
int
bt_alerts_list(struct bt_alerts *x, int64_t since)
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
	for (s = 0; s < BT_SEV_N; s++)
		x->due[s] = true;
	if ((rc = bt_alerts_load_pending(x)) != 0)
		return rc;
	for (i = 0; i < x->ng; i++) {
		char *line = bt_alerts_render(&x->g[i]);
		chat = bt_alerts_chat(x->g[i].route);
		rec = bt_rec("message");
		json_object_set_new(rec, "time", json_string(bt_fmt_time(
		    x->g[i].last, t)));
		json_object_set_new(rec, "chat", *chat ? json_string(chat) :
		    json_null());
		json_object_set_new(rec, "severity",
		    json_string(bt_sevname[x->g[i].sev]));
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
void
bt_alerts_prune(sqlite3 *st)
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
int
bt_alerts_write_digest(struct bt_alerts *x)
{
	struct bt_buf full = { 0 };
	char err[BT_ERRLEN], *dpath, *ldir;
	int rc = 0;

	bt_buf_printf(&full, "%s", x->digest);
	/* The INFO groups, under one heading before the first of them. */
	for (size_t k = 0, ninfo = 0; k < x->ng; k++)
		if (x->g[k].sev == BT_SEV_INFO) {
			char *l = bt_alerts_render(&x->g[k]);
			bt_buf_printf(&full, "%s%s\n", ninfo++ == 0 ?
			    "\nINFO since the last digest:\n" : "", l);
			free(l);
		}
	dpath = bt_path("logs/digest.txt");
	ldir = bt_path("logs");
	if (bt_mkdirs(ldir, 0750, err) == -1 ||
	    bt_write_atomic(dpath, full.p, full.len, 0640, err) == -1) {
		bt_alerts_failed(x, "%s", err);
		rc = BT_EX_CANTCREAT;
	}
	free(ldir);
	free(dpath);
	bt_buf_free(&full);
	return rc;
}

/* One message per chat, CRITICAL's chat first; returns how many. */
static int
plan_messages(struct bt_alerts *x, struct bt_alert_msg *msgs)
{
	int s, i, nm = 0;

	for (s = BT_SEV_CRITICAL; s >= BT_SEV_INFO; s--) {
		const char *c = bt_alerts_chat(s);
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
		msgs[nm].warn = x->due[BT_SEV_WARNING] && !x->nochat[BT_SEV_WARNING] &&
		    strcmp(bt_alerts_chat(BT_SEV_WARNING), c) == 0;
		msgs[nm].daily = x->due[BT_SEV_INFO] && !x->nochat[BT_SEV_INFO] &&
		    strcmp(bt_alerts_chat(BT_SEV_INFO), c) == 0;
		nm++;
	}
	return nm;
}

/* Sends the planned messages; a batch that went moves its clock. */
static int
send_all(struct bt_alerts *x, struct bt_alert_msg *msgs, int nm)
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
			x->due[BT_SEV_WARNING] = false;
		}
		if (msgs[i].daily && daily)
			kv_time_set(x, "digest.daily", bt_now_ms());
	}
	return rc;
}

/*
 * Sends what is due, one message per chat, within the volume policy:
 * 0, or the run's worst outcome.
 */
int
bt_alerts_send(struct bt_alerts *x)
{
	x->used = x->offline ? 0 : sends_last_hour(x);
	x->nm = plan_messages(x, x->msgs);
	return send_all(x, x->msgs, x->nm);
}

/* The batch a run sent, for its runs row: "daily", "hourly" or "". */
const char *
bt_alerts_job(const struct bt_alerts *x)
{
	int i;

	for (i = 0; i < x->nm; i++)
		if (x->msgs[i].daily)
			return "daily";
	for (i = 0; i < x->nm; i++)
		if (x->msgs[i].warn)
			return "hourly";
	return "";
}

/* Telegram's flood control, remembered from an earlier run. */
bool
bt_alerts_rate_limited(struct bt_alerts *x)
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

/*
 * The digest's cumulative counters in kv (bt_prom.c reads them):
 * messages sent, refused, and alerts held by the volume policy.
 */
void
bt_alerts_count(struct bt_alerts *x)
{
	char err[BT_ERRLEN];

	if (x->dry || x->st == NULL || x->offline)
		return;
	if (bt_kv_add(x->st, "digest.sent_total", x->sent, err) != 0 ||
	    bt_kv_add(x->st, "digest.refused_total", x->refusals, err) != 0 ||
	    bt_kv_add(x->st, "digest.held_total", x->held, err) != 0)
		bt_warnx("%s", err);
}

/* The run's summary line, which is also its runs row's summary. */
json_t *
bt_alerts_summary(struct bt_alerts *x, const struct bt_alert_stats *rs, int rc)
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
	for (s = 0; s < BT_SEV_N; s++) {
		int64_t n = 0;
		for (size_t k = 0; k < x->ng; k++)
			if (x->g[k].sev == s)
				n += x->g[k].count;
		json_object_set_new(pend, bt_sevname[s], json_integer(n));
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
