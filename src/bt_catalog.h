/*
 * bt_catalog.h - bt_catalog.c owns the catalogue of backups/: which files
 * are backups (their names, kinds and dates), what each holds, the
 * records bt-backup keeps of the backups it took (the state file's
 * `backups' table), and what a good backup is: the checks a restore
 * makes before it uses one (bt-backup(1), WHAT A RESTORE ACCEPTS).
 */
#ifndef BT_CATALOG_H
#define BT_CATALOG_H

#include <sys/types.h>

#include <limits.h>

#include "bt_db.h"

/* The kinds of backup, as their names begin (bt_bk_prefix()). */
enum { BT_BK_DAILY, BT_BK_WEEKLY, BT_BK_STATE, BT_BK_KINDS };

/*
 * One run of bt-backup: the live files, backups/, and the state file its
 * records and events go to (NULL: none, events are only printed).
 */
struct bt_backups {
	char	*store;		/* the live store */
	char	*statepath;	/* the live state file */
	char	*bdir;		/* backups/ */
	sqlite3	*st;		/* the state file, or NULL */
	bool	 dry;		/* -n: nothing written, nothing recorded */
	bool	 quiet;		/* -q */
};
/* Where this run's events are recorded: NULL on a dry run. */
sqlite3	*bt_bk_events(const struct bt_backups *b);

/* "db_backup_", "db_backup_weekly_", "state_backup_"; and how many stay. */
const char *bt_bk_prefix(int kind);
int	 bt_bk_keep(int kind);

/* A backup file found in backups/. */
struct bt_bfile {
	char	 name[64];
	char	 path[PATH_MAX];
	int	 kind;		/* BT_BK_* */
	int64_t	 day;		/* midnight of the date in the name, ms */
	int64_t	 time;		/* when it was taken (mtime, within day) */
	dev_t	 dev;
	ino_t	 ino;
	off_t	 size;
};
/*
 * Every backup file of one kind (or all, kind < 0) in dir, newest first;
 * none when dir does not exist.  -1 (errno set) when dir does not read.
 */
int	 bt_catalog_list(const char *dir, int kind, struct bt_bfile **out,
	    size_t *n);
/* Newest first by `time' (the daily before the weekly it links). */
void	 bt_catalog_sort(struct bt_bfile *v, size_t n);

/* What a backup holds: recorded when taken, read again before a restore. */
struct bt_facts {
	int64_t	 bytes;		/* the file's size */
	int64_t	 schema;	/* bt_meta's schema_version; -1 unknown */
	int64_t	 candles;	/* -1 for the state file */
	int64_t	 first, last;	/* open times, ms; -1 without candles */
	char	 tables[2048];	/* sorted, comma-separated */
};
/*
 * The facts of a backup file (opened immutable), a bt store or with
 * `state' a bt state file of a schema this bt knows: 0, or 1 with why.
 */
int	 bt_catalog_facts(const char *path, bool state, struct bt_facts *f,
	    char *why, size_t len);

/* The records of the state file's `backups' table. */
struct bt_brec {
	char		 name[64];
	int64_t		 taken;	/* ms */
	struct bt_facts	 f;
};
struct bt_records {
	struct bt_brec	*v;
	size_t		 n;
	int64_t		 since;	/* the first store backup recorded; -1 */
};
/* Every record; none without a state file (st NULL) or its table. */
void	 bt_records_load(sqlite3 *st, struct bt_records *r);
void	 bt_records_free(struct bt_records *r);
const struct bt_brec *bt_record_find(const struct bt_records *r,
	    const char *name);
/* The times recorded replace the files' mtimes; then newest first. */
void	 bt_records_apply(const struct bt_records *r, struct bt_bfile *v,
	    size_t n);
/* Records (or replaces) what backup `name' holds, in its transaction. */
int	 bt_record_put(sqlite3 *st, const char *name, int64_t taken,
	    const struct bt_facts *f, char *err);
/* Forgets a backup that rotation deleted: 0, or -1 with err. */
int	 bt_record_del(sqlite3 *st, const char *name, char *err);

/* A backup a restore may use: the file, what it holds, and its record. */
struct bt_cand {
	struct bt_bfile	 b;
	struct bt_facts	 f;
	bool		 recorded;
};
/*
 * Can a restore use backup f (a state file's backup with `state')?  0
 * when it is a good backup, filling *c; else 1 with the reason in why.
 */
int	 bt_catalog_check(const struct bt_backups *b, const struct bt_bfile *f,
	    bool state, const struct bt_records *r, struct bt_cand *c,
	    char *why, size_t len);
/*
 * The newest store backup (state file backup with `state') taken at or
 * before `before' (ms; INT64_MAX for any) that passes bt_catalog_check().
 * Each store backup skipped is a WARNING backup_bad event with the
 * reason.  0; BT_EX_NOINPUT when none passes; BT_EX_IOERR with err when
 * backups/ does not read.
 */
int	 bt_catalog_choose(const struct bt_backups *b, bool state,
	    int64_t before, struct bt_cand *out, char *err);

#endif /* BT_CATALOG_H */
