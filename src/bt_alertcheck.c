/*
 * bt_alertcheck.c - the alert path tried from outside, before it is
 * needed (bt-digest --check, which bt-preflight runs): Telegram
 * configured, the token well formed, the bot answering getMe, every
 * severity's chat known to Telegram (getChat), and on request one test
 * message to each chat.
 *
 * It reads no state file and records nothing: a preflight next to a
 * running system changes nothing.  The token stays in bt_telegram.c.
 *
 * One JSON line a check, with ok, a one-line message and, when it fails,
 * the fix.  The exit code: 0 all passed, 1 a check failed, 75 Telegram
 * could not be asked (down, or its flood control), 78 the token or the
 * configuration is unusable.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_alertcheck.h"
#include "bt_conf.h"


static int
line(const char *check, bool ok, const char *msg, const char *fix,
    json_t *extra)
{
	json_t *rec = bt_rec(check);
	const char *k;
	json_t *v;

	json_object_set_new(rec, "check", json_string(check));
	json_object_set_new(rec, "ok", json_boolean(ok));
	json_object_set_new(rec, "message", bt_jstr(msg));
	if (!ok && fix != NULL)
		json_object_set_new(rec, "fix", bt_jstr(fix));
	if (extra != NULL) {
		json_object_foreach(extra, k, v)
			json_object_set(rec, k, v);
		json_decref(extra);
	}
	bt_emit(rec);
	return ok ? 0 : BT_EX_FOUND;
}

/* What a failed Bot API call means for the exit code and the fix. */
static int
failed(const char *check, int rc, const struct bt_tg_try *t,
    const char *what, const char *fix, json_t *extra)
{
	char msg[BT_ERRLEN * 2];

	snprintf(msg, sizeof(msg), "%s: %s", what, t->why);
	if (rc == BT_EX_TEMPFAIL || rc == BT_EX_UNAVAILABLE) {
		line(check, false, msg, "Telegram could not be asked now: run "
		    "it again later", extra);
		return BT_EX_TEMPFAIL;
	}
	line(check, false, msg, fix, extra);
	return rc == BT_EX_CONFIG ? BT_EX_CONFIG : BT_EX_FOUND;
}

/* The test message: says where it comes from, and which alerts. */
static int
send_test(struct bt_tg *tg, const char *chat, const char *which,
    double deadline)
{
	struct bt_tg_try t;
	char host[256], ts[32], text[512], msg[512];
	int rc;

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "this host");
	host[sizeof(host) - 1] = '\0';
	snprintf(text, sizeof(text), "bt preflight on %s, %s: a test message. "
	    "%s alerts come to this chat.", host, bt_fmt_time(bt_now_ms(), ts),
	    which);
	if ((rc = bt_tg_send(tg, chat, text, deadline, &t)) != 0)
		return failed("telegram_send", rc, &t, "the test message",
		    "make the bot a member of the chat that may post there",
		    json_pack("{s:s}", "chat", chat));
	snprintf(msg, sizeof(msg), "test message %lld sent to chat %s (%s "
	    "alerts)", (long long)t.mid, chat, which);
	return line("telegram_send", true, msg, NULL, json_pack("{s:s, s:I}",
	    "chat", chat, "message_id", (json_int_t)t.mid));
}

/* getChat for one chat, named by the severities it serves. */
static int
chat(struct bt_tg *tg, const char *id, const char *which, bool send,
    double deadline)
{
	struct bt_tg_try t;
	char msg[512];
	int rc;

	if ((rc = bt_tg_ask(tg, "getChat", id, deadline, &t)) != 0)
		return failed("telegram_chat", rc, &t, which, "check the chat "
		    "id (getUpdates after a message to the bot shows it), and "
		    "that the bot is a member of the chat",
		    json_pack("{s:s, s:s}", "chat", id, "alerts", which));
	snprintf(msg, sizeof(msg), "%s alerts go to chat %s (%s)", which, id,
	    *t.name ? t.name : "no title");
	rc = line("telegram_chat", true, msg, NULL, json_pack("{s:s, s:s}",
	    "chat", id, "alerts", which));
	return send ? bt_exit_worse(rc, send_test(tg, id, which, deadline)) :
	    rc;
}

int
bt_alertcheck(bool send)
{
	struct bt_tg tg;
	struct bt_tg_try t;
	char err[BT_ERRLEN], msg[512], which[64];
	double deadline = bt_mono() + 60;
	int rc = 0, s, o;
	bool done[BT_SEV_N] = { 0 };

	if (!bt_alerts_configured())
		return line("telegram", false, "no Telegram configured: alerts "
		    "are printed, never sent", "set TELEGRAM_BOT_TOKEN_FILE and "
		    "TELEGRAM_CHAT_CRITICAL (bt-digest(1))", NULL);
	if ((rc = bt_tg_open(&tg, err)) != 0) {
		line("telegram_token", false, err, "put the token BotFather "
		    "gave in the file TELEGRAM_BOT_TOKEN_FILE names, owner-only",
		    NULL);
		bt_tg_close(&tg);
		return rc;
	}
	if ((s = bt_tg_ask(&tg, "getMe", NULL, deadline, &t)) != 0) {
		rc = failed("telegram_bot", s, &t, "getMe", "the token is wrong "
		    "or revoked: ask BotFather for the bot's token", NULL);
		bt_tg_close(&tg);
		return rc;
	}
	snprintf(msg, sizeof(msg), "the bot %s answers", *t.name ? t.name :
	    "(no username)");
	line("telegram_bot", true, msg, NULL, NULL);
	/* Each chat once, named by every severity it serves. */
	for (s = BT_SEV_N - 1; s >= 0; s--) {
		if (done[s])
			continue;
		if (*bt_alerts_chat(s) == '\0') {
			snprintf(msg, sizeof(msg), "no chat for %s alerts: they "
			    "wait, unsent", bt_sevname[s]);
			snprintf(err, sizeof(err), "set TELEGRAM_CHAT_%s or "
			    "TELEGRAM_BACKTEST_CHANNEL", bt_sevname[s]);
			rc = bt_exit_worse(rc, line("telegram_chat", false, msg,
			    err, json_pack("{s:s}", "alerts", bt_sevname[s])));
			continue;
		}
		snprintf(which, sizeof(which), "%s", bt_sevname[s]);
		for (o = s - 1; o >= 0; o--)
			if (strcmp(bt_alerts_chat(o), bt_alerts_chat(s)) == 0) {
				done[o] = true;
				strncat(which, ", ", sizeof(which) -
				    strlen(which) - 1);
				strncat(which, bt_sevname[o], sizeof(which) -
				    strlen(which) - 1);
			}
		if ((o = chat(&tg, bt_alerts_chat(s), which, send, deadline)) ==
		    BT_EX_TEMPFAIL) {
			rc = bt_exit_worse(rc, o);
			break;	/* the rest would wait the same */
		}
		rc = bt_exit_worse(rc, o);
	}
	bt_tg_close(&tg);
	return rc;
}
