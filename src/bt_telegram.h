/*
 * bt_telegram.h - bt_telegram.c owns the Telegram Bot API client: the
 * token, one sendMessage with its retries, and reading Telegram's answer.
 */
#ifndef BT_TELEGRAM_H
#define BT_TELEGRAM_H

#include "bt_http.h"

#define BT_TG_LIMIT	4096	/* UTF-16 code units per message */
#define BT_TG_CAPTION	1024	/* UTF-16 code units per photo caption */

/*
 * What Telegram answered, from outside: ok with its message_id; the
 * retry_after of a 429 (-1 when absent); the description of a refusal.
 */
struct bt_tg_ans {
	bool	 ok;
	int64_t	 mid;
	double	 retry;
	char	 desc[BT_ERRLEN];
	char	 name[128];	/* a chat's title, a bot's @username */
};
void	 bt_tg_answer(long status, const char *body, size_t len,
	    struct bt_tg_ans *a);
/* UTF-16 code units of UTF-8 text, as Telegram counts them. */
size_t	 bt_tg_units(const char *s, size_t n);

struct bt_tg {
	struct bt_http	*http;
	char		*token;
};
/* The token (TELEGRAM_BOT_TOKEN_FILE or the environment), checked. */
int	 bt_tg_open(struct bt_tg *tg, char *err);
void	 bt_tg_close(struct bt_tg *tg);

/* What one bt_tg_send() came to, besides its exit code. */
struct bt_tg_try {
	int64_t	 mid;		/* the message's id, once sent */
	char	 name[128];	/* bt_tg_ask(): the chat's title, @bot */
	double	 wait;		/* a 429's wait that outlasts the budget, s */
	bool	 stop;		/* nothing more should be tried this run */
	char	 why[BT_ERRLEN];	/* "400 Bad Request: chat not found" */
	char	 line[2048];	/* the first failure said on stderr */
};
int	 bt_tg_send(struct bt_tg *tg, const char *chat, const char *text,
	    double deadline, struct bt_tg_try *t);
int	 bt_tg_send_photo(struct bt_tg *tg, const char *chat, const char *png,
	    const char *caption, double deadline, struct bt_tg_try *t);
/*
 * A question that sends nothing: getMe (chat NULL) or getChat; on 0,
 * t->name is the bot's @username or the chat's title.  As tg_call().
 */
int	 bt_tg_ask(struct bt_tg *tg, const char *method, const char *chat,
	    double deadline, struct bt_tg_try *t);

#endif /* BT_TELEGRAM_H */
