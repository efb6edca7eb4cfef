/*
 * bt_alerts.h - bt_alerts.c owns the alert queue: recording, grouping,
 * routing, packing, the volume policy, delivery and marking sent.
 */
#ifndef BT_ALERTS_H
#define BT_ALERTS_H

#include "bt_state.h"
#include "bt_telegram.h"

enum { BT_SEV_INFO, BT_SEV_WARNING, BT_SEV_CRITICAL, BT_SEV_N };

/* Identical pending events: one line with a count. */
struct bt_alert_group {
	int	 sev;
	int	 route;		/* whose chat and time: sev, or an all-clear's */
	char	*rroute;	/* the events' `route' as stored, or NULL */
	char	*prog, *kind, *symbol, *tf, *msg;
	int64_t	 count, first, last, maxid;
	bool	 repeat;	/* CRITICAL already sent within the window */
	bool	 sent;
};

/* One message to one chat, its lines built from the pending groups. */
struct bt_alert_item;
struct bt_alert_msg {
	const char *chat;
	int	 sev;		/* highest severity carried */
	bool	 warn, daily;	/* carries the hourly batch / the digest */
	struct bt_alert_item *items;
	size_t	 nitems;
};

/* What standard input held. */
struct bt_alert_stats {
	long	 lines, recorded, duplicates, ignored, bad;
};

/* A run of the queue: zero it, set the options, st and t0. */
struct bt_alerts {
	bool		 dry, quiet, verbose, offline;
	bool		 due[BT_SEV_N];	/* which severities go out this run */
	bool		 forced_hourly, forced_daily;
	sqlite3		*st;
	struct bt_tg	 tg;
	struct bt_alert_group *g;
	size_t		 ng;
	struct bt_alert_msg msgs[BT_SEV_N];
	int		 nm;
	int64_t		 used;		/* messages in the last hour */
	int		 sent, held;
	int		 exit;		/* worst outcome not returned by a step */
	bool		 stop;		/* Telegram said stop for this run */
	bool		 nochat[BT_SEV_N];	/* no chat for a severity */
	char		 error[BT_ERRLEN];	/* the run's first error */
	int		 refusals;	/* parts a chat refused this run */
	double		 t0;		/* bt_mono() at the start */
	char		*digest;	/* the daily digest's text, or NULL */
};

/* The chat a severity's alerts go to ("" when none is configured). */
const char *bt_alerts_chat(int sev);
/* A token or any chat is configured: else alerts are only printed. */
bool	 bt_alerts_configured(void);
/* INFO, WARNING, CRITICAL: the severities' names, by BT_SEV_*. */
extern const char *const bt_sevname[BT_SEV_N];

/* A failure of the run: on stderr, and the first in its runs row. */
void	 bt_alerts_failed(struct bt_alerts *x, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The steps of a run, in the order bt-digest takes them. */
int	 bt_alerts_record_stdin(struct bt_alerts *x, struct bt_alert_stats *rs);
void	 bt_alerts_decide_due(struct bt_alerts *x, bool critical_only);
int	 bt_alerts_open_telegram(struct bt_alerts *x, char *err);
int	 bt_alerts_load_pending(struct bt_alerts *x);
int	 bt_alerts_write_digest(struct bt_alerts *x);
bool	 bt_alerts_rate_limited(struct bt_alerts *x);
int	 bt_alerts_send(struct bt_alerts *x);
const char *bt_alerts_job(const struct bt_alerts *x);
json_t	*bt_alerts_summary(struct bt_alerts *x,
	    const struct bt_alert_stats *rs, int rc);
void	 bt_alerts_prune(sqlite3 *st);
void	 bt_alerts_count(struct bt_alerts *x);	/* kv's counters */
void	 bt_alerts_free(struct bt_alerts *x);
/* --today: one JSON line a message since `since', then the unsent. */
int	 bt_alerts_list(struct bt_alerts *x, int64_t since);
/* One group as the line that carries it. */
char	*bt_alerts_render(const struct bt_alert_group *g);

#endif /* BT_ALERTS_H */
