/*
 * bt_job.h - bt_job.c owns the daily backtest as a job (bt-backtest
 * --job, contracts.md "The daily backtest"): whether it runs (enabled,
 * paused, due, the store locked), run/backtest.status and its heartbeat,
 * SIGTERM, SIGINT and the timeout, and the results file, complete or
 * incomplete.
 */
#ifndef BT_JOB_H
#define BT_JOB_H

#include "bt_sweep.h"

struct job {
	bool		 on;		/* --job: everything else is unused */
	char		*status_path, *results_path;
	int64_t		 started;	/* wall clock */
	double		 t0, beat_at, beat_every, timeout;	/* monotonic */
	long		 beats;
	const char	*stop;		/* why the run stopped early, or NULL */
	long		 held;		/* BT_TEST_HOLD: last count held at */
};

void	 bt_job_init(struct job *j);
/*
 * Starts the job of a run that began at t0 (bt_mono()): true when it goes
 * on, with signals caught and the status `running'; false when the run
 * ends here with *code (disabled, paused, not due with --if-due, the
 * store locked unless `files' are read), err then saying why or "".
 */
bool	 bt_job_start(struct job *j, double t0, bool if_due, bool files,
	    int *code, char *err);
/*
 * Between items of the work: beats when due, notices a signal and the
 * timeout.  0 to go on; -1 when the job must stop (j->stop says why).
 * A job that is not on always goes on.
 */
int	 bt_job_tick(struct job *j, const struct run *r);
/*
 * Ends the job of run r with exit code `code' and the portfolio's metrics
 * pm (or NULL): the results file, the events, the last status.  Returns
 * the run's exit code.
 */
int	 bt_job_end(struct job *j, const struct run *r, json_t *pm, int code);
/* The state a job that exited with `code' ends in: done, failed, ... */
const char *bt_job_state(const struct job *j, int code);
void	 bt_job_free(struct job *j);

#endif /* BT_JOB_H */
