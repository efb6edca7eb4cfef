/*
 * bt_conf.h - bt_conf.c owns the one table of configuration keys and how
 * a value is found: $BT_CONF, the environment, options; who reads which
 * key; the secrets, handed only to the program that asked for them.
 */
#ifndef BT_CONF_H
#define BT_CONF_H

#include <stdio.h>

#include "bt_util.h"

/*
 * Configuration: $BT_CONF (default /etc/bt/bt.conf), then the environment,
 * then options (bt_conf_set).  One table of known keys lives in bt_conf.c.
 */
int	 bt_conf_load(char *err);	/* 0 or BT_EX_CONFIG */
const char *bt_conf(const char *key);		/* never NULL for known keys */
/* An option's value; checked like the file's.  0 or an exit code. */
int	 bt_conf_set(const char *key, const char *val, char *err);
/* Declares that this program uses a secret key (before bt_conf_load). */
void	 bt_conf_want(const char *key);
long	 bt_conf_long(const char *key);
double	 bt_conf_double(const char *key);
/* Splits a comma- or space-separated list; returns the count. */
int	 bt_conf_list(const char *key, char ***out);
/* Retry waits in seconds, from BT_RETRY_DELAYS or another key. */
int	 bt_conf_delays(const char *key, double **out);
/* Staleness threshold of a timeframe, ms. */
int64_t	 bt_stale_ms(const char *tf);
/* A secret (TELEGRAM_BOT_TOKEN, FRED_API_KEY): from the _FILE, or env. */
char	*bt_secret(const char *key, char *err);
/* The parts of bt_conf_load, for the fuzzer and tests. */
int	 bt_conf_parse(const char *name, char *buf, size_t len,
	    bool *secret_inside, char *err);
int	 bt_conf_check(char *err);
void	 bt_conf_reset(void);
/* etc/bt.conf.example: every key with its default and a line of help. */
void	 bt_conf_example(FILE *fp);

/*
 * Which programs read a key (the table's `users'): a bad value stops only
 * those.  bt-digest and bt-watchdog call bt_conf_tolerate() first: they
 * run on with the default of a bad key, report it, and exit 78 at the end
 * (bt_conf_status()).  What loading found is kept as problems.
 */
#define BT_USE_FETCH	0x01
#define BT_USE_VALIDATE	0x02
#define BT_USE_BACKTEST	0x04
#define BT_USE_BACKUP	0x08
#define BT_USE_DIGEST	0x10
#define BT_USE_WATCHDOG	0x20
#define BT_USE_ALL	0x3f
enum { BT_CONF_UNKNOWN = 1, BT_CONF_BAD = 2 };
struct bt_conf_problem {
	int	 kind;		/* BT_CONF_UNKNOWN or BT_CONF_BAD */
	char	 where[160];	/* "bt.conf:14", "environment KEY" */
	char	 key[64];	/* "" for a line that is not KEY=VALUE */
	char	 why[320];
	char	 near[64];	/* the known key nearest an unknown one */
	unsigned users;		/* BT_USE_* reading the key */
	bool	 mine;		/* this program reads it */
};
void	 bt_conf_tolerate(void);
int	 bt_conf_status(void);		/* 0, or BT_EX_CONFIG */
size_t	 bt_conf_problems(const struct bt_conf_problem **out);
char	*bt_conf_users(unsigned users, char *buf, size_t len);


/*
 * Whether a secret is configured (its _FILE, or the environment or the
 * file directly), without reading it.  bt_conf_load() removes secrets
 * from the environment once read, so getenv() no longer tells.
 */
bool	 bt_secret_set(const char *key);

/*
 * A program's start: its name for diagnostics, --help before anything
 * can fail (usage() exits), then the configuration.  0, or the exit code
 * (said).
 */
int	 bt_start(const char *prog, int argc, char *argv[],
	    void (*usage)(FILE *, int));

/*
 * The options every program takes (bt(7), OPTIONS): -d db (BT_DB), -n,
 * -q, -v.  BT_COMMON_OPTS leads each program's getopt string, and
 * bt_common_opt() takes one result of getopt: true when it was one of
 * these, with *rc 0, or the exit code of a bad -d (said).
 */
#define BT_COMMON_OPTS	"d:nqv"
/* Their long forms, and --help, first in each program's table. */
#define BT_COMMON_LONGOPTS \
	{ "db", required_argument, NULL, 'd' }, \
	{ "dry-run", no_argument, NULL, 'n' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }
struct bt_common {
	bool	 dry, quiet, verbose;
};
bool	 bt_common_opt(int ch, const char *arg, struct bt_common *c, int *rc);

#endif /* BT_CONF_H */
