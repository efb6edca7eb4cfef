/*
 * bt_walk.c - walk-forward evaluation (bt-backtest(1), WALK-FORWARD):
 * windows, the choice on each train segment, the compounded test
 * segments, their stitched metrics, and the items of its shards.
 *
 * Invariants:
 * - Windows are in bars of the run's range [w0, n): window k trains on
 *   [w0 + k step, w0 + k step + train) (anchored: from w0), skips `gap'
 *   bars and tests on the `test' bars after; only whole windows count.
 * - Every segment is an ordinary run on a view of the series (its w0 and
 *   n moved), through bt_simulate(): indicators from the pair's first
 *   stored candle, flat at the start, closed at the last close.  So a
 *   window's test line equals the single run of its combination over its
 *   test segment, with --cash the equity the test started with.
 * - The choice: the best train objective, highest, or nearest zero for
 *   the drawdowns; a null ranks last; ties go to the first in grid order.
 * - Each test starts with the equity the previous test ended with, so a
 *   shard that starts inside a symbol's windows replays the earlier ones
 *   (unprinted): the shards' window lines concatenate to the unsharded.
 */
#include <string.h>

#include "bt_walk.h"

int
bt_walk_parse(struct walk *w, const char *spec, const char *objective,
    char *err)
{
	char *s, *tok, *save = NULL, *end, *eq;
	size_t *dst;
	long v;

	memset(w, 0, sizeof(*w));
	w->on = true;
	if ((w->objective = bt_metric_index(objective != NULL ? objective :
	    "sharpe")) < 0 || w->objective == BT_M_ALPHA ||
	    w->objective == BT_M_BETA) {
		snprintf(err, BT_ERRLEN, "--objective '%s': not a metric of "
		    "the lines (sharpe, return_pct, max_drawdown_pct, ...)",
		    objective);
		return -1;
	}
	if ((s = strdup(spec)) == NULL)
		abort();
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "anchored") == 0) {
			w->anchored = true;
			continue;
		}
		eq = strchr(tok, '=');
		dst = eq == NULL ? NULL : strncmp(tok, "train=", 6) == 0 ?
		    &w->train : strncmp(tok, "test=", 5) == 0 ? &w->test :
		    strncmp(tok, "step=", 5) == 0 ? &w->step :
		    strncmp(tok, "gap=", 4) == 0 ? &w->gap : NULL;
		v = dst != NULL ? strtol(eq + 1, &end, 10) : -1;
		if (dst == NULL || end == eq + 1 || *end != '\0' || v < 0 ||
		    v > 100000000 || (v == 0 && dst != &w->gap)) {
			snprintf(err, BT_ERRLEN, "--walk-forward '%s': '%s' is "
			    "not train=N, test=M, step=K, gap=G or anchored",
			    spec, tok);
			free(s);
			return -1;
		}
		*dst = (size_t)v;
	}
	free(s);
	if (w->step == 0)
		w->step = w->test;
	if (w->train < 2 || w->test < 2 || w->step < w->test) {
		snprintf(err, BT_ERRLEN, "--walk-forward '%s': want train=N and "
		    "test=M of 2 bars or more, and step=K no shorter than test "
		    "(test segments do not overlap)", spec);
		return -1;
	}
	return 0;
}

size_t
bt_walk_windows(const struct walk *w, size_t w0, size_t n)
{
	size_t span = w->train + w->gap + w->test;

	return n > w0 && n - w0 >= span ? (n - w0 - span) / w->step + 1 : 0;
}

int
bt_walk_plan(struct run *r, char *err)
{
	struct walk *w = &r->walk;
	struct series s;
	size_t si;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	w->nwin = bt_xcalloc((size_t)r->in.nsyms, sizeof(size_t));
	for (si = 0; si < (size_t)r->in.nsyms && rc == 0; si++) {
		if ((rc = bt_input_series(&r->in, si, &s, err)) == 0)
			w->nwin[si] = bt_walk_windows(w, s.w0, s.n);
		rc = rc == 1 ? 0 : rc;
		w->nitems += w->nwin[si];
		bt_series_clear(&s);
	}
	return rc;
}

bool
bt_walk_share(const struct run *r, size_t si, size_t *w0, size_t *w1)
{
	const struct walk *w = &r->walk;
	size_t lo, hi, pre = 0, i;

	if (!r->sharded) {
		*w0 = 0;
		*w1 = SIZE_MAX;
		return true;
	}
	lo = (size_t)((unsigned __int128)w->nitems * (size_t)(r->shard_k - 1) /
	    (size_t)r->shard_n);
	hi = (size_t)((unsigned __int128)w->nitems * (size_t)r->shard_k /
	    (size_t)r->shard_n);
	for (i = 0; i < si; i++)
		pre += w->nwin[i];
	*w0 = lo > pre ? lo - pre : 0;
	*w1 = hi > pre ? hi - pre : 0;
	if (*w1 > w->nwin[si])
		*w1 = w->nwin[si];
	return *w0 < *w1;
}

/* Window k's train segment (test: its test segment) as a view of s. */
static void
segment(const struct walk *w, const struct series *s, size_t k, bool test,
    struct series *v)
{
	size_t b = s->w0 + k * w->step + w->train;

	*v = *s;
	v->borrowed = true;
	v->w0 = test ? b + w->gap : w->anchored ? s->w0 : b - w->train;
	v->n = test ? b + w->gap + w->test : b;
	v->tclose = v->n < s->n ? s->t[v->n] - 1 : s->tclose;
}

/* Is x a better objective than the best so far? */
static bool
better(int obj, double x, double best)
{
	if (isnan(x))
		return false;
	if (isnan(best))
		return true;
	if (obj == BT_M_MAXDD || obj == BT_M_AVGDD || obj == BT_M_MAXDDDUR ||
	    obj == BT_M_AVGDDDUR)
		return fabs(x) < fabs(best);
	return x > best;
}

/* One segment through the engine; *v its objective.  0 or an exit code. */
static int
run_segment(struct run *r, const struct series *seg, const double *par,
    double cash, struct simout *so, double m[BT_NMETRIC], char *err)
{
	struct exec ex = r->ex;
	struct mctx mc;
	double t0 = bt_mono();
	int rc;

	ex.cash = cash;
	so->ntr = 0;
	so->unfilled = 0;
	if ((rc = bt_simulate(&r->st, &ex, seg, par, so, &mc, err)) != 0)
		return rc;
	r->sim_secs += bt_mono() - t0;
	r->bar_steps += seg->n - seg->w0;
	r->unfilled += so->unfilled;
	bt_metrics_calc(so->acc, &mc, m);
	return 0;
}

/*
 * Every combination on the train segments of windows [0, nw): the best
 * objective of each into best[], its combination (grid order) into bc[].
 */
static int
choose(struct run *r, const struct series *s, size_t nw, double *best,
    size_t *bc, char *err)
{
	const struct walk *w = &r->walk;
	const double *col[BT_MAXIND];
	struct series v;
	struct simout so;
	struct combo it;
	struct acc a;
	double m[BT_NMETRIC];
	size_t c, k;
	bool more;
	int rc, shift;

	memset(&so, 0, sizeof(so));
	so.acc = &a;
	for (k = 0; k < nw; k++) {
		best[k] = NAN;
		bc[k] = SIZE_MAX;
	}
	more = bt_combo_at(r, 0, &it);
	for (c = 0; more; c++, more = bt_combo_next(r, &it)) {
		/* Over the whole series first: every segment reads them. */
		(void)bt_ind_cols(&r->st, s, it.par, col, &shift);
		for (k = 0; k < nw; k++) {
			segment(w, s, k, false, &v);
			if ((rc = run_segment(r, &v, it.par, r->ex.cash, &so, m,
			    err)) != 0)
				return rc;
			if (bc[k] == SIZE_MAX || better(w->objective,
			    m[w->objective], best[k])) {
				best[k] = m[w->objective];
				bc[k] = c;
			}
		}
	}
	return 0;
}

static json_t *
bounds(const struct series *v)
{
	char a[32], b[32];

	return json_pack("{s:s, s:s, s:I}", "from", bt_fmt_time(v->t[v->w0],
	    a), "to", bt_fmt_time(v->t[v->n - 1], b), "bars",
	    (json_int_t)(v->n - v->w0));
}

/* A window's line: its bounds, its choice, both objectives. */
static void
window_line(struct run *r, const struct series *s, size_t k,
    const double *par, double is, double cash, const double *m)
{
	const struct walk *w = &r->walk;
	struct series tr, te;
	json_t *l;

	segment(w, s, k, false, &tr);
	segment(w, s, k, true, &te);
	l = bt_line_head("window", &te, r->st.id, par, &r->ex);
	json_object_set_new(l, "window", json_integer((json_int_t)k));
	json_object_set_new(l, "train", bounds(&tr));
	json_object_set_new(l, "test", bounds(&te));
	json_object_set_new(l, "objective",
	    json_string(bt_metric_names[w->objective]));
	json_object_set_new(l, "in_sample", bt_jnum(is));
	json_object_set_new(l, "out_of_sample", bt_jnum(m[w->objective]));
	json_object_set_new(l, "cash", bt_jnum(cash));
	json_object_set_new(l, "equity_final", bt_jnum(m[BT_M_EQFINAL]));
	json_object_set_new(l, "return_pct", bt_jnum(m[BT_M_RETURN]));
	json_object_set_new(l, "trades", json_integer((json_int_t)
	    m[BT_M_TRADES]));
	r->walk.lines++;
	if (!r->quiet)
		bt_emit(l);
	else
		json_decref(l);
}

/* The stitched test segments: equity per bar and trades, compounded. */
struct stitch {
	struct acc	 a;
	int64_t		*t;
	size_t		 n, first, last;	/* bars; series bars */
};

static void
stitch_add(struct stitch *st, const struct series *v, const double *eq,
    const struct simout *so)
{
	struct trade t;
	size_t i, j0 = st->n;

	if (st->n == 0)
		st->first = v->w0;
	for (i = 0; i < v->n - v->w0; i++) {
		st->t[st->n] = v->t[v->w0 + i];
		bt_acc_bar(&st->a, st->n++, eq[i]);
	}
	for (i = 0; i < so->ntr; i++) {
		t = so->tr[i];
		t.bar_in += j0;
		t.bar_out += j0;
		bt_acc_trade(&st->a.tr, &t);
	}
	st->last = v->n - 1;
}

/* The symbol's summary: stitched metrics, the ratio, the choices. */
static void
summary_line(struct run *r, const struct series *s, struct stitch *st,
    const double *is, const size_t *bc, size_t nw)
{
	const struct walk *w = &r->walk;
	struct mctx mc;
	struct combo it;
	json_t *l, *ch, *m;
	double v[BT_NMETRIC], mean = 0;
	size_t k, j, n;

	memset(&mc, 0, sizeof(mc));
	mc.A = bt_series_per_year(s);
	mc.t0 = st->t[0];
	mc.t1 = st->t[st->n - 1];
	mc.bh = (s->c[st->last] - s->c[st->first]) / s->c[st->first];
	mc.nbars = st->n;
	mc.alpha = mc.beta = NAN;
	bt_metrics_calc(&st->a, &mc, v);
	for (k = 0; k < nw; k++)
		mean += is[k] / (double)nw;
	l = bt_rec("walk_forward");
	json_object_set_new(l, "symbol", json_string(s->symbol));
	json_object_set_new(l, "tf", json_string(bt_series_tf(s)));
	json_object_set_new(l, "strategy",
	    json_string(bt_strats[r->st.id].name));
	json_object_set_new(l, "mode", json_string(bt_exec_mode(&r->ex)));
	json_object_set_new(l, "windows", json_integer((json_int_t)nw));
	json_object_set_new(l, "objective",
	    json_string(bt_metric_names[w->objective]));
	json_object_set_new(l, "in_sample_mean", bt_jnum(mean));
	json_object_set_new(l, "out_of_sample", bt_jnum(v[w->objective]));
	json_object_set_new(l, "oos_is_ratio", bt_jnum(mean != 0 ?
	    v[w->objective] / mean : NAN));
	ch = json_array();
	for (j = 0; j < r->ncombo; j++) {
		for (k = 0, n = 0; k < nw; k++)
			n += bc[k] == j;
		if (n > 0 && bt_combo_at(r, j, &it))
			json_array_append_new(ch, json_pack("{s:o, s:I}",
			    "params", bt_params_json(r->st.id, it.par),
			    "windows", (json_int_t)n));
	}
	json_object_set_new(l, "chosen", ch);
	m = bt_metrics(&st->a, &mc);
	json_object_update(l, m);
	json_decref(m);
	if (!r->quiet)
		bt_emit(l);
	else
		json_decref(l);
}

int
bt_walk_symbol(struct run *r, const struct series *s, size_t w0, size_t w1,
    char *err)
{
	const struct walk *w = &r->walk;
	size_t nw = bt_walk_windows(w, s->w0, s->n), k;
	double *best, *eq, m[BT_NMETRIC], cash = r->ex.cash;
	struct stitch st;
	struct series v;
	struct simout so;
	struct combo it;
	struct acc a;
	size_t *bc;
	int rc;

	if (nw == 0 && !r->sharded) {
		snprintf(err, BT_ERRLEN, "%s: %zu bars in the range, a window "
		    "needs %zu", s->symbol, s->n - s->w0, w->train + w->gap +
		    w->test);
		return 1;
	}
	if (w1 > nw)
		w1 = nw;
	if (w0 >= w1)
		return 0;
	best = bt_xcalloc(w1, sizeof(*best));
	bc = bt_xcalloc(w1, sizeof(*bc));
	eq = bt_xcalloc(2 * w->test, sizeof(*eq));
	memset(&so, 0, sizeof(so));
	memset(&st, 0, sizeof(st));
	st.t = bt_xcalloc(w1 * w->test, sizeof(*st.t));
	bt_acc_init(&st.a, st.t);
	so.acc = &a;
	so.eq = eq;
	so.pos = eq + w->test;
	so.tr = bt_xcalloc(1, sizeof(*so.tr));
	if ((rc = choose(r, s, w1, best, bc, err)) != 0)
		goto out;
	for (k = 0; k < w1; k++) {
		segment(w, s, k, true, &v);
		if (!bt_combo_at(r, bc[k], &it) || (rc = run_segment(r, &v,
		    it.par, cash, &so, m, err)) != 0)
			break;
		if (k >= w0)
			window_line(r, s, k, it.par, best[k], cash, m);
		stitch_add(&st, &v, eq, &so);
		cash = eq[w->test - 1];
	}
	if (rc == 0 && !r->sharded)
		summary_line(r, s, &st, best, bc, w1);
out:
	free(best);
	free(bc);
	free(eq);
	free(st.t);
	free(so.tr);
	return rc;
}
