/*
 * bt-backup - backups known to restore: the daily copy of the store and
 * the state file with rotation, the weekly compaction, verification,
 * restore drills, and the seed's recovery procedures (4.1 restore, 4.4
 * rollback).
 *
 *	bt-backup [-nqv] [-d db] [--offsite dir]
 *	bt-backup --vacuum [--convert] [-qv] [-d db]
 *	bt-backup --verify [-qv]
 *	bt-backup --test-restore [-qv] [-d db]
 *	bt-backup --restore [-nqv] [-d db] [--state] [--force]
 *	bt-backup --rollback hours [-nqv] [-d db] [--state] [--force]
 *
 * Reads the store (BT_DB, -d) and the state file (BT_STATE), writes
 * backups/ under BT_HOME, and prints JSON lines: events, `plan',
 * `rotate', `verify', `offsite', `gap' and `summary' lines (bt-backup(1),
 * OUTPUT).
 *
 * Where each job is done: the daily backup with --offsite,
 * bt_backup_take(); --vacuum and --convert, bt_backup_vacuum(); --verify,
 * bt_backup_verify(); --test-restore, bt_backup_test_restore() (all in
 * bt_backup.c); --restore and --rollback with --state and --force,
 * bt_restore_wlock() then bt_restore() (bt_restore.c).  What backups/
 * holds and what a good backup is: bt_catalog.c; db/LOCKED: bt_lock.c.
 *
 * Invariants of the program:
 * - A restore or rollback opens the state file, then takes
 *   run/write.lock (and with --state run/state.lock) before anything
 *   else, and holds it to the end; so a refusal is recorded.
 * - Only a restore, a rollback or --verify runs while db/LOCKED is
 *   there; every other job exits 75 with a `locked' line.
 * - A job that starts (not -n, and due with --if-due) has a `runs' row,
 *   begun before it and ended after it, when the state file opens; a
 *   state file that does not open leaves the events printed only.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_backup.h"
#include "bt_conf.h"
#include "bt_lock.h"
#include "bt_migrate.h"
#include "bt_restore.h"
#include "bt_state.h"

enum mode { M_BACKUP, M_VACUUM, M_VERIFY, M_TEST, M_RESTORE, M_ROLLBACK };

/* The options of the jobs from M_VACUUM on, in enum mode's order. */
static const char jobopts[] = "VCTRB";
/* Each job's name: its runs row, its due check and its not_due line. */
static const char *jobs[] = { "", "vacuum", "verify", "test-restore",
    "restore", "rollback" };

/* What the command line asks. */
struct opts {
	enum mode	 mode;
	int		 nmodes;	/* job options given; at most one */
	bool		 if_due;
	bool		 verbose;
	bool		 convert;	/* --convert, with --vacuum */
	const char	*offsite;	/* --offsite dir */
	struct bt_restore_req rq;	/* --rollback, --state, --force */
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: bt-backup [-nqv] [-d db] [--offsite dir] [--if-due]\n"
	    "       bt-backup --vacuum [--convert] [-qv] [-d db] [--if-due]\n"
	    "       bt-backup --verify [-qv]\n"
	    "       bt-backup --test-restore [-qv] [-d db] [--if-due]\n"
	    "       bt-backup --restore [-nqv] [-d db] [--state] [--force]\n"
	    "       bt-backup --rollback hours [-nqv] [-d db] [--state] "
	    "[--force]\n");
	exit(code);
}

static const struct option longopts[] = {
	BT_COMMON_LONGOPTS,
	{ "offsite", required_argument, NULL, 'O' },
	{ "vacuum", no_argument, NULL, 'V' },
	{ "convert", no_argument, NULL, 'K' },
	{ "verify", no_argument, NULL, 'C' },
	{ "test-restore", no_argument, NULL, 'T' },
	{ "restore", no_argument, NULL, 'R' },
	{ "rollback", required_argument, NULL, 'B' },
	{ "state", no_argument, NULL, 'S' },
	{ "force", no_argument, NULL, 'F' },
	{ "if-due", no_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 }
};

static bool
restoring(const struct opts *o)
{
	return o->mode == M_RESTORE || o->mode == M_ROLLBACK;
}

/* --rollback's hours: 1 to 87600.  0, or 64 after a diagnostic. */
static int
parse_hours(const char *arg, long *hours)
{
	char *end;

	errno = 0;
	*hours = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || *hours < 1 ||
	    *hours > 24 * 3650) {
		bt_warnx("--rollback: '%s' is not a number of hours (1..87600)",
		    arg);
		return BT_EX_USAGE;
	}
	return 0;
}

/* Options that go with another job, and more than one job, are usage. */
static bool
opts_ok(const struct opts *o, const struct bt_backups *b)
{
	if (o->nmodes > 1)
		return false;
	if (o->if_due && ((o->mode != M_BACKUP && o->mode != M_VACUUM &&
	    o->mode != M_TEST) || b->dry))
		return false;
	if (o->offsite != NULL && o->mode != M_BACKUP)
		return false;
	if (o->convert && o->mode != M_VACUUM)
		return false;
	if ((o->rq.state || o->rq.force) && !restoring(o))
		return false;
	return !b->dry || o->mode == M_BACKUP || restoring(o);
}

/* 0, or the exit code of a bad option (usage() exits itself). */
static int
parse_options(int argc, char *argv[], struct opts *o, struct bt_backups *b)
{
	struct bt_common c = { 0 };
	int ch, rc;

	while ((ch = getopt_long(argc, argv, BT_COMMON_OPTS "h", longopts,
	    NULL)) != -1) {
		if (bt_common_opt(ch, optarg, &c, &rc)) {
			if (rc != 0)
				return rc;
			continue;
		}
		switch (ch) {
		case 'O':
			o->offsite = optarg;
			break;
		case 'B':
			if (parse_hours(optarg, &o->rq.hours) != 0)
				return BT_EX_USAGE;
			o->rq.rollback = true;
			/* FALLTHROUGH */
		case 'V':
		case 'C':
		case 'T':
		case 'R':
			o->mode = (enum mode)(strchr(jobopts, ch) - jobopts +
			    M_VACUUM);
			o->nmodes++;
			break;
		case 'K':
			o->convert = true;
			break;
		case 'S':
			o->rq.state = true;
			break;
		case 'F':
			o->rq.force = true;
			break;
		case 'D':
			o->if_due = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, BT_EX_USAGE);
		}
	}
	b->dry = c.dry;
	b->quiet = c.quiet;
	o->verbose = c.verbose;
	if (argc != optind || !opts_ok(o, b))
		usage(stderr, BT_EX_USAGE);
	return 0;
}

/* The state file: read-only for a dry run; none, and events only print. */
static void
open_state(struct bt_backups *b)
{
	char err[BT_ERRLEN];

	if (b->st != NULL)
		return;
	if (b->dry ? access(b->statepath, F_OK) == 0 &&
	    bt_open_state(b->statepath, BT_DB_RO, &b->st, err) != 0 :
	    bt_open_state(b->statepath, BT_DB_CREATE, &b->st, err) != 0) {
		bt_warnx("%s", err);
		b->st = NULL;
	}
}

/*
 * What must hold before the job starts: a restore's write locks (taken
 * with the state file open, which has its own lock, so that a refusal is
 * recorded), no db/LOCKED for the other jobs, a store to work on.  0 or
 * an exit code.
 */
static int
may_start(const struct opts *o, struct bt_backups *b)
{
	if (restoring(o)) {
		open_state(b);
		return bt_restore_wlock(b, &o->rq);
	}
	if (o->mode != M_VERIFY && bt_store_locked_say(NULL))
		return BT_EX_TEMPFAIL;
	if (o->mode != M_VERIFY && o->mode != M_TEST && !b->dry &&
	    access(b->store, F_OK) == -1) {
		bt_warnx("%s: %s", b->store, strerror(errno));
		return BT_EX_NOINPUT;
	}
	return 0;
}

/*
 * --if-due: the daily backup, the weekly vacuum, the monthly restore
 * test (bt(7)).  0 with *due, or an exit code.
 */
static int
check_due(const struct opts *o, const struct bt_backups *b, bool *due)
{
	char err[BT_ERRLEN];
	int64_t slot;
	int rc;

	*due = true;
	if (!o->if_due)
		return 0;
	if (b->st == NULL)
		return BT_EX_IOERR;
	if ((rc = bt_due(b->st, "bt-backup", jobs[o->mode], 0,
	    bt_conf(o->mode == M_BACKUP ? "BT_BACKUP_SLOT" :
	    o->mode == M_VACUUM ? "BT_VACUUM_SLOT" : "BT_TEST_RESTORE_SLOT"),
	    due, &slot, err)) != 0) {
		bt_warnx("%s", err);
		return rc;
	}
	if (!*due)
		bt_not_due(*jobs[o->mode] ? jobs[o->mode] : "backup", slot);
	return 0;
}

/* The job, between the begin and the end of its runs row. */
static int
run_job(const struct opts *o, struct bt_backups *b)
{
	char err[BT_ERRLEN];
	int64_t run = -1;
	int rc = 0;

	if (b->st != NULL && !b->dry &&
	    (run = bt_run_begin(b->st, jobs[o->mode], err)) < 0) {
		bt_warnx("%s", err);
		run = -1;
	}
	switch (o->mode) {
	case M_BACKUP:
		rc = bt_backup_take(b, o->offsite);
		break;
	case M_VACUUM:
		rc = bt_backup_vacuum(b, o->convert);
		break;
	case M_VERIFY:
		rc = bt_backup_verify(b);
		break;
	case M_TEST:
		rc = bt_backup_test_restore(b);
		break;
	case M_RESTORE:
	case M_ROLLBACK:
		rc = bt_restore(b, &o->rq);
		break;
	}
	/* b->st as it is now: a restore --state opened it again. */
	if (run > 0 && b->st != NULL && bt_run_end(b->st, run, rc, NULL,
	    err) != 0)
		bt_warnx("%s", err);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct bt_backups b;
	bool due;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	if ((rc = bt_start("bt-backup", argc, argv, usage)) != 0)
		return rc;
	umask(077);
	if ((rc = parse_options(argc, argv, &o, &b)) != 0)
		return rc;
	b.store = bt_store_path();
	b.statepath = bt_state_path();
	b.bdir = bt_path("backups");

	if ((rc = may_start(&o, &b)) == 0) {
		open_state(&b);
		if ((rc = check_due(&o, &b, &due)) == 0 && due)
			rc = run_job(&o, &b);
	}

	bt_close(b.st);
	/* bt_restore_wlock()'s, if taken */
	bt_wunlock_file(BT_LOCK_STATE);
	bt_wunlock();
	free(b.store);
	free(b.statepath);
	free(b.bdir);
	return bt_finish(rc);
}
