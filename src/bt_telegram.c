/*
 * bt_telegram.c - the Telegram Bot API client bt-digest sends through:
 * sendMessage as plain text (no parse_mode, so nothing needs escaping),
 * over libcurl (bt_http.c), with the retries of contracts.md.
 *
 * Invariants:
 * - The bot token lives only here and in the URL path of the request; it
 *   is never in argv, output, logs or errors (every diagnostic passes
 *   bt_redact(), and the path and form are zeroed after use).
 * - A 429 is waited out (its retry_after, clamped to BT_RETRY_AFTER_MIN ..
 *   BT_RETRY_AFTER_MAX) while the caller's deadline allows; a longer wait
 *   is reported, not slept.  A 5xx or a transport error is retried after
 *   the waits of BT_RETRY_DELAYS within the deadline.  Another 4xx is
 *   not retried: the same request cannot succeed.
 * - Telegram's answers are outside input: tg_answer() (fuzzed by
 *   tests/fuzz/fuzz-telegram.c) reads them with jansson, bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_conf.h"
#include "bt_telegram.h"

size_t
bt_tg_units(const char *s, size_t n)
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

void
bt_tg_answer(long status, const char *body, size_t len, struct bt_tg_ans *a)
{
	json_t *o = len > 0 ? json_loadb(body, len, 0, NULL) : NULL, *ra;
	const char *d;

	memset(a, 0, sizeof(*a));
	a->retry = -1;
	a->ok = status == 200 && json_is_true(json_object_get(o, "ok"));
	if (a->ok) {
		json_t *res = json_object_get(o, "result");
		const char *n = json_string_value(json_object_get(res, "title"));
		const char *u = json_string_value(json_object_get(res,
		    "username"));

		a->mid = json_integer_value(json_object_get(res, "message_id"));
		if (n != NULL)
			snprintf(a->name, sizeof(a->name), "%s", n);
		else if (u != NULL)
			snprintf(a->name, sizeof(a->name), "@%s", u);
	}
	ra = json_object_get(json_object_get(o, "parameters"), "retry_after");
	if (json_is_number(ra))
		a->retry = json_number_value(ra);
	if ((d = json_string_value(json_object_get(o, "description"))) != NULL)
		snprintf(a->desc, sizeof(a->desc), "%s", d);
	json_decref(o);
}

int
bt_tg_open(struct bt_tg *tg, char *err)
{
	const char *p;

	memset(tg, 0, sizeof(*tg));
	if ((tg->token = bt_secret("TELEGRAM_BOT_TOKEN", err)) == NULL)
		return BT_EX_CONFIG;
	for (p = tg->token; *p >= '0' && *p <= '9'; p++)
		;
	if (p == tg->token || *p != ':' || p[1] == '\0' ||
	    strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") != strlen(p + 1)) {
		snprintf(err, BT_ERRLEN, "TELEGRAM_BOT_TOKEN: not a bot token "
		    "(digits, a colon, then letters, digits, _ or -)");
		return BT_EX_CONFIG;
	}
	if ((tg->http = bt_http_new(bt_conf("BT_TELEGRAM_URL"), err)) == NULL)
		return BT_EX_CONFIG;
	return 0;
}

void
bt_tg_close(struct bt_tg *tg)
{
	if (tg->token != NULL) {
		explicit_bzero(tg->token, strlen(tg->token));
		free(tg->token);
	}
	bt_http_free(tg->http);
	memset(tg, 0, sizeof(*tg));
}

/* A failure said on stderr; the first of them is kept in t->line. */
static void
said(struct bt_tg_try *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
said(struct bt_tg_try *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bt_vwarnx_keep(t->line, sizeof(t->line), fmt, ap);
	va_end(ap);
}

/* One Bot API request: a form, or text fields and a file (multipart). */
struct tgreq {
	const char	*method;
	const char	*form;
	const char	*const *names, *const *values;
	int		 n;
	const char	*file, *type;
};

/*
 * One request to `chat', retried as the top of this file says until the
 * bt_mono() time `deadline'.  0 when Telegram answered ok (t->mid the
 * message_id); otherwise an exit code: 75 for a 429 whose wait (t->wait)
 * outlasts the deadline, 65 for a refusal (78 when the token or the
 * method is wrong: 401, 404), 69 when Telegram stayed unavailable;
 * t->why says it short, t->stop when nothing more should be tried in
 * this run.
 */
static int
tg_call(struct bt_tg *tg, const char *chat, const struct tgreq *q,
    double deadline, struct bt_tg_try *t)
{
	struct bt_http_resp r;
	char *path, ts[32];
	double *delays, wait;
	int nd, try, rc = BT_EX_UNAVAILABLE;
	struct bt_tg_ans a;

	memset(t, 0, sizeof(*t));
	if (asprintf(&path, "/bot%s/%s", tg->token, q->method) == -1)
		abort();
	nd = bt_conf_delays("BT_RETRY_DELAYS", &delays);
	for (try = 0; ; try++) {
		if (q->file != NULL)
			bt_http_post_file(tg->http, path, q->names, q->values,
			    q->n, "photo", q->file, q->type, &r);
		else
			bt_http_post(tg->http, path, q->form, &r);
		bt_tg_answer(r.status, r.body, r.len, &a);
		if (a.ok) {
			t->mid = a.mid;
			snprintf(t->name, sizeof(t->name), "%s", a.name);
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
			if (try < nd && wait <= deadline - bt_mono()) {
				bt_sleep(wait);
				continue;
			}
			bt_fmt_time(bt_now_ms() + (int64_t)(wait * 1000), ts);
			t->wait = wait;
			snprintf(t->why, sizeof(t->why), "429 Too Many "
			    "Requests, retry after %gs", wait);
			bt_warnx("Telegram: 429 Too Many Requests, retry after "
			    "%gs (after %s); the rest waits for a later run",
			    wait, ts);
			rc = BT_EX_TEMPFAIL;
			t->stop = true;
			break;
		}
		if (r.status >= 400 && r.status < 500) {
			/* Refused: retrying the same request cannot help. */
			bt_redact(a.desc);
			snprintf(t->why, sizeof(t->why), "%ld %s", r.status,
			    a.desc);
			if (strncmp(q->method, "send", 4) == 0)
				said(t, "Telegram refused the message to chat "
				    "%s: %ld %s; its events stay unsent", chat,
				    r.status, a.desc);
			else
				said(t, "Telegram refused %s%s%s: %ld %s",
				    q->method, chat ? " for chat " : "",
				    chat ? chat : "", r.status, a.desc);
			bt_http_resp_free(&r);
			rc = r.status == 401 || r.status == 404 ?
			    BT_EX_CONFIG : BT_EX_DATAERR;
			if (rc == BT_EX_CONFIG)
				t->stop = true;
			break;
		}
		/* 5xx or transport: the configured waits, within budget. */
		if (r.status == 0)
			snprintf(t->why, sizeof(t->why), "%s", r.err);
		else
			snprintf(t->why, sizeof(t->why), "HTTP %ld", r.status);
		said(t, "Telegram: %s", t->why);
		bt_http_resp_free(&r);
		if (try < nd && delays[try] <= deadline - bt_mono()) {
			bt_sleep(delays[try]);
			continue;
		}
		rc = BT_EX_UNAVAILABLE;
		t->stop = true;
		break;
	}
	free(delays);
	explicit_bzero(path, strlen(path));
	free(path);
	return rc;
}

/* sendMessage of `text' to `chat', as plain text; see tg_call(). */
int
bt_tg_send(struct bt_tg *tg, const char *chat, const char *text,
    double deadline, struct bt_tg_try *t)
{
	struct bt_buf form = { 0 };
	struct tgreq q = { 0 };
	char *e1, *e2;
	int rc;

	e1 = bt_http_escape(tg->http, chat);
	e2 = bt_http_escape(tg->http, text);
	bt_buf_printf(&form, "chat_id=%s&text=%s&disable_web_page_preview=true",
	    e1, e2);
	free(e1);
	free(e2);
	q.method = "sendMessage";
	q.form = form.p;
	rc = tg_call(tg, chat, &q, deadline, t);
	explicit_bzero(form.p, form.len);
	bt_buf_free(&form);
	return rc;
}

/*
 * sendPhoto of the PNG file `png' to `chat' with a caption of at most
 * 1,024 characters (Telegram's limit; cut here on a UTF-8 boundary), as
 * multipart/form-data; see tg_call().
 */
int
bt_tg_send_photo(struct bt_tg *tg, const char *chat, const char *png,
    const char *caption, double deadline, struct bt_tg_try *t)
{
	const char *names[] = { "chat_id", "caption" };
	const char *values[2];
	struct tgreq q = { 0 };
	char cap[4097];
	size_t n;

	snprintf(cap, sizeof(cap), "%s", caption);
	while (bt_tg_units(cap, strlen(cap)) > BT_TG_CAPTION) {
		n = strlen(cap) - 1;
		while (n > 0 && ((unsigned char)cap[n] & 0xc0) == 0x80)
			n--;
		cap[n] = '\0';
	}
	values[0] = chat;
	values[1] = cap;
	q.method = "sendPhoto";
	q.names = names;
	q.values = values;
	q.n = 2;
	q.file = png;
	q.type = "image/png";
	return tg_call(tg, chat, &q, deadline, t);
}

int
bt_tg_ask(struct bt_tg *tg, const char *method, const char *chat,
    double deadline, struct bt_tg_try *t)
{
	struct bt_buf form = { 0 };
	struct tgreq q = { 0 };
	char *e;
	int rc;

	if (chat != NULL) {
		e = bt_http_escape(tg->http, chat);
		bt_buf_printf(&form, "chat_id=%s", e);
		free(e);
	} else
		bt_buf_printf(&form, "%s", "");
	q.method = method;
	q.form = form.p;
	rc = tg_call(tg, chat, &q, deadline, t);
	bt_buf_free(&form);
	return rc;
}
