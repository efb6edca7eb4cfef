/*
 * bt_sweep.c - the work of a backtest: a single run of the configured
 * parameters on each symbol, or a sweep of the grid's combinations, this
 * shard's share of them; and the portfolio of the single runs.
 *
 * Invariants:
 * - The items are (symbol, combination) pairs in that order, the last
 *   --grid varying fastest; shard k of n takes the k-th of n equal slices
 *   of them, so the shards of a grid together run each item once.
 * - A sweep keeps no equity curve per combination: each combination's
 *   line comes from the accumulator alone, and equals the single run's.
 * - A sweep never runs as the daily job (--grid and --shard go without
 *   --job), so it beats no heartbeat: the job's beats are between symbols.
 * - The portfolio gives each symbol an equal share of capital in an
 *   independent book and sums the equity (contracts.md, native mode).
 */
#include <string.h>

#include "bt_sweep.h"

void
bt_run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	bt_input_init(&r->in);
	r->data_from = r->data_to = -1;
	r->shard_k = r->shard_n = 1;
	bt_tacc_init(&r->ptr);
}

void
bt_run_free(struct run *r)
{
	size_t i;
	int g;

	bt_strategy_free(&r->st);
	free(r->walk.nwin);
	for (g = 0; g < r->ngrid; g++)
		free(r->gv[g]);
	for (i = 0; i < r->nres; i++) {
		json_decref(r->res[i].metrics);
		json_decref(r->res[i].reasons);
		free(r->res[i].t);
		free(r->res[i].e);
	}
	free(r->res);
	free(r->pt);
	free(r->pe);
	free(r->ps);
	bt_input_free(&r->in);
}

/* ----------------------------------------------------------------- grid */

static void
grid_push(double **vals, size_t *n, size_t *cap, double v)
{
	if (*n == *cap)
		*vals = bt_xrealloc(*vals, *cap *= 2, sizeof(double));
	(*vals)[(*n)++] = v;
}

/* from..to[/step] of parameter i, cut in place.  0 or -1. */
static int
grid_range(const struct run *r, const char *spec, int i, char *s,
    char *dots, double **vals, size_t *n, size_t *cap, char *err)
{
	char *slash, *end;
	double lo, hi, step = 1, v;

	*dots = '\0';
	if ((slash = strchr(dots + 2, '/')) != NULL)
		*slash = '\0';
	if (bt_par_value(&r->st, i, s, &lo, err) == -1 ||
	    bt_par_value(&r->st, i, dots + 2, &hi, err) == -1)
		return -1;
	if (slash != NULL) {
		step = strtod(slash + 1, &end);
		if (end == slash + 1 || *end != '\0' || !(step > 0)) {
			snprintf(err, BT_ERRLEN, "--grid '%s': the step must "
			    "be > 0", spec);
			return -1;
		}
	}
	if (hi < lo || (hi - lo) / step > 1e7) {
		snprintf(err, BT_ERRLEN, "--grid '%s': empty or too large a "
		    "range", spec);
		return -1;
	}
	/* Values lo + k*step, computed so, never accumulated. */
	for (v = lo; v <= hi * (1 + 1e-12); v = lo + (double)*n * step)
		grid_push(vals, n, cap, v);
	return 0;
}

int
bt_grid_add(struct run *r, const char *spec, char *err)
{
	const char *eq = strchr(spec, '=');
	char *s, *dots, *tok, *save = NULL;
	double v, *vals;
	int i, g;
	size_t n = 0, cap = 16;

	*err = '\0';
	if (eq == NULL || (i = bt_par_index(&r->st, spec,
	    (size_t)(eq - spec))) < 0) {
		snprintf(err, BT_ERRLEN, "--grid '%s': not a parameter of %s",
		    spec, bt_strats[r->st.id].name);
		return -1;
	}
	for (g = 0; g < r->ngrid; g++)
		if (r->gpar[g] == i) {
			snprintf(err, BT_ERRLEN, "--grid '%s': %s given twice",
			    spec, bt_strats[r->st.id].par[i]);
			return -1;
		}
	if ((s = strdup(eq + 1)) == NULL)
		abort();
	vals = bt_xcalloc(cap, sizeof(double));
	if ((dots = strstr(s, "..")) != NULL) {
		if (grid_range(r, spec, i, s, dots, &vals, &n, &cap, err) == -1)
			goto fail;
	} else {
		for (tok = strtok_r(s, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (bt_par_value(&r->st, i, tok, &v, err) == -1)
				goto fail;
			grid_push(&vals, &n, &cap, v);
		}
	}
	if (n == 0)
		goto fail;	/* "key=" or "key=,": no value, no message */
	free(s);
	r->gpar[r->ngrid] = i;
	r->gv[r->ngrid] = vals;
	r->gn[r->ngrid++] = n;
	return 0;
fail:
	free(s);
	free(vals);
	return -1;
}

/* The parameters at it->idx; true when they are worth running. */
static bool
combo_set(const struct run *r, struct combo *it)
{
	int g;

	memcpy(it->par, r->st.par, sizeof(it->par));
	for (g = 0; g < r->ngrid; g++)
		it->par[r->gpar[g]] = r->gv[g][it->idx[g]];
	return r->ngrid == 0 || bt_params_ok(r->st.id, it->par);
}

/* The next place in the grid, valid or not (an odometer); false: none. */
static bool
combo_step(const struct run *r, struct combo *it)
{
	int g;

	for (g = r->ngrid - 1; g >= 0; g--) {
		if (++it->idx[g] < r->gn[g])
			return true;
		it->idx[g] = 0;
	}
	return false;
}

bool
bt_combo_next(const struct run *r, struct combo *it)
{
	while (combo_step(r, it))
		if (combo_set(r, it))
			return true;
	return false;
}

bool
bt_combo_at(const struct run *r, size_t c, struct combo *it)
{
	memset(it, 0, sizeof(*it));
	if (!combo_set(r, it) && !bt_combo_next(r, it))
		return false;
	while (c-- > 0)
		if (!bt_combo_next(r, it))
			return false;
	return true;
}

void
bt_grid_combos(struct run *r)
{
	struct combo it;

	r->ncombo = 0;
	if (!bt_combo_at(r, 0, &it))
		return;
	do
		r->ncombo++;
	while (bt_combo_next(r, &it));
}

bool
bt_sweep_share(const struct run *r, size_t si, size_t *c0, size_t *c1)
{
	size_t nc = r->ncombo, total = (size_t)r->in.nsyms * nc, lo, hi;

	lo = (size_t)((unsigned __int128)total * (size_t)(r->shard_k - 1) /
	    (size_t)r->shard_n);
	hi = (size_t)((unsigned __int128)total * (size_t)r->shard_k /
	    (size_t)r->shard_n);
	*c0 = si * nc > lo ? 0 : lo - si * nc;
	*c1 = (si + 1) * nc < hi ? nc : hi > si * nc ? hi - si * nc : 0;
	return *c0 < *c1;
}

/* ----------------------------------------------------------------- runs */

/* Keeps what the portfolio and the results file need of a single run. */
static void
keep(struct run *r, const struct series *s, json_t *m, json_t *reasons,
    bool passed, struct simout *so, const struct mctx *mc, size_t n)
{
	struct symres *res;
	size_t i;

	r->res = bt_xrealloc(r->res, r->nres + 1, sizeof(*r->res));
	res = &r->res[r->nres++];
	memset(res, 0, sizeof(*res));
	snprintf(res->symbol, sizeof(res->symbol), "%s", s->symbol);
	res->metrics = m;
	res->reasons = reasons;
	res->passed = passed;
	res->has_sig = so->has_sig;
	res->sig_t = so->sig_t;
	res->sig_pos = so->sig_pos;
	res->bh = mc->bh;
	res->expo = json_real_value(json_object_get(m, "exposure_pct"));
	res->n = n;
	res->t = bt_xcalloc(res->n, sizeof(int64_t));
	memcpy(res->t, s->t + (r->ex.compat ? 0 : s->w0),
	    res->n * sizeof(int64_t));
	res->e = so->eq;
	so->eq = NULL;
	for (i = 0; i < so->ntr; i++)
		bt_acc_trade(&r->ptr, &so->tr[i]);
	if (s->t[s->w0] < r->data_from || r->data_from < 0)
		r->data_from = s->t[s->w0];
	if (s->t[s->n - 1] > r->data_to)
		r->data_to = s->t[s->n - 1];
}

int
bt_run_symbol(struct run *r, const struct series *s, char *err)
{
	struct acc a;
	struct simout so;
	struct mctx mc;
	const double *col[BT_MAXIND];
	json_t *line, *m, *reasons;
	size_t nw = s->n - s->w0, n = r->ex.compat ? s->n : nw;
	int rc, ncol, shift;
	double t0 = bt_mono();
	bool passed;

	memset(&so, 0, sizeof(so));
	so.acc = &a;
	so.eq = bt_xcalloc(n, sizeof(double));
	so.pos = bt_xcalloc(n, sizeof(double));
	so.tr = bt_xcalloc(1, sizeof(*so.tr));
	rc = bt_simulate(&r->st, &r->ex, s, r->st.par, &so, &mc, err);
	if (rc != 0)
		goto out;
	r->sim_secs += bt_mono() - t0;
	r->bar_steps += nw;
	r->unfilled += so.unfilled;
	mc.ab = true;
	bt_alpha_beta(so.eq, s->c + s->w0, n, ((so.eq[n - 1] - so.eq[0]) /
	    so.eq[0]) * 100, mc.bh * 100, &mc.alpha, &mc.beta);
	m = bt_metrics(&a, &mc);
	reasons = json_array();
	passed = bt_judge(s, r->in.tf, r->in.db != NULL, m, reasons);
	line = bt_symbol_line(s, r->st.id, r->st.par, &r->ex, m, &so, passed,
	    reasons);
	keep(r, s, m, reasons, passed, &so, &mc, n);
	if (!r->quiet)
		bt_emit(line);
	else
		json_decref(line);
	if (r->trades_fp != NULL)
		bt_write_trades(r->trades_fp, s->symbol, so.tr, so.ntr);
	if (r->equity_fp != NULL) {
		ncol = bt_ind_cols(&r->st, s, r->st.par, col, &shift);
		bt_write_equity(r->equity_fp, s->symbol, s->t,
		    r->res[r->nres - 1].e, so.pos, s->c, col, ncol, shift,
		    r->ex.compat ? 0 : s->w0, n);
	}
out:
	free(so.eq);
	free(so.pos);
	free(so.tr);
	return rc;
}

int
bt_run_combos(struct run *r, const struct series *s, size_t c0, size_t c1,
    char *err)
{
	struct acc a;
	struct simout so;
	struct mctx mc;
	struct combo it;
	json_t *line, *m;
	size_t c, nw = s->n - s->w0;
	const double *par = it.par;
	double t0;
	int rc;

	memset(&so, 0, sizeof(so));
	so.acc = &a;
	if (r->ex.compat)
		so.eq = bt_xcalloc(s->n, sizeof(double));
	for (c = c0; c < c1; c++) {
		if (c == c0 ? !bt_combo_at(r, c0, &it) :
		    !bt_combo_next(r, &it))
			break;
		t0 = bt_mono();
		if ((rc = bt_simulate(&r->st, &r->ex, s, par, &so, &mc,
		    err)) != 0) {
			free(so.eq);
			return rc;
		}
		r->sim_secs += bt_mono() - t0;
		r->bar_steps += r->ex.compat ? s->n : nw;
		r->unfilled += so.unfilled;
		so.unfilled = 0;
		if (r->quiet)
			continue;
		m = bt_metrics(&a, &mc);
		line = bt_line_head("combo", s, r->st.id, par, &r->ex);
		json_object_update(line, m);
		json_decref(m);
		bt_emit(line);
	}
	free(so.eq);
	return 0;
}

/* ------------------------------------------------------------ portfolio */

/* Merges sorted unique a[0..na) and b[0..nb) into out; returns count. */
static size_t
merge_times(const int64_t *a, size_t na, const int64_t *b, size_t nb,
    int64_t *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			out[k++] = a[i++];
		else if (i == na || b[j] < a[i])
			out[k++] = b[j++];
		else {
			out[k++] = a[i++];
			j++;
		}
	}
	return k;
}

/*
 * The books' equity summed over the union of their bar times, into *T
 * and *E (malloc'd), each book's into *S (nres rows, when S is not NULL);
 * a book is flat at its cash before its first bar and stays at its final
 * equity after its last.  Returns the count.
 */
static size_t
books(const struct run *r, int64_t **Tp, double **Ep, double **S)
{
	int64_t *T, *tmp;
	double *E, v;
	size_t nT, k, j, *p;

	for (k = 0, nT = 0; k < r->nres; k++)
		nT += r->res[k].n;
	T = bt_xcalloc(nT, sizeof(*T));
	tmp = bt_xcalloc(nT, sizeof(*tmp));
	memcpy(T, r->res[0].t, r->res[0].n * sizeof(*T));
	nT = r->res[0].n;
	for (k = 1; k < r->nres; k++) {
		nT = merge_times(T, nT, r->res[k].t, r->res[k].n, tmp);
		memcpy(T, tmp, nT * sizeof(*T));
	}
	free(tmp);
	E = bt_xcalloc(nT, sizeof(*E));
	p = bt_xcalloc(r->nres, sizeof(*p));
	if (S != NULL)
		*S = bt_xcalloc(nT * r->nres, sizeof(**S));
	for (j = 0; j < nT; j++) {
		for (k = 0, v = 0; k < r->nres; k++) {
			while (p[k] < r->res[k].n && r->res[k].t[p[k]] <= T[j])
				p[k]++;
			v += p[k] == 0 ? r->ex.cash : r->res[k].e[p[k] - 1];
			if (S != NULL)
				(*S)[k * nT + j] = p[k] == 0 ? r->ex.cash :
				    r->res[k].e[p[k] - 1];
		}
		E[j] = v;
	}
	free(p);
	*Tp = T;
	*Ep = E;
	return nT;
}

json_t *
bt_portfolio(struct run *r)
{
	int64_t *T;
	double *E, expo = 0, bh = 0;
	size_t nT, k, i;
	struct acc a;
	struct mctx mc;
	json_t *m, *line;
	int freq = 1;

	if (r->nres == 0)
		return NULL;
	nT = books(r, &T, &E, r->keep_curve ? &r->ps : NULL);
	for (k = 0; k < r->nres; k++) {
		expo += r->res[k].expo;
		bh += r->res[k].bh;
	}
	memset(&mc, 0, sizeof(mc));
	mc.compat = r->ex.compat;
	if (r->ex.compat)
		bt_compat_calendar(T, nT, &freq, &mc.A, &mc.round_ms);
	else
		mc.A = bt_bar_per_year(&r->in.bar);
	mc.t0 = T[0];
	mc.t1 = T[nT - 1];
	mc.bh = bh / (double)r->nres;
	mc.nbars = nT;
	bt_acc_init(&a, T);
	for (i = 0; i < nT; i++) {
		bt_acc_eq(&a, i, E[i]);
		if (!r->ex.compat)
			bt_acc_ret(&a, E[i]);
	}
	if (r->ex.compat)
		bt_acc_resampled(&a, T, E, nT, freq);
	a.tr = r->ptr;
	m = bt_metrics(&a, &mc);
	/* Exposure: the books' mean, as capital at work. */
	json_object_set_new(m, "exposure_pct", bt_jnum(expo /
	    (double)r->nres));
	line = bt_rec("portfolio");
	json_object_set_new(line, "symbols", json_integer((json_int_t)r->nres));
	json_object_set_new(line, "strategy",
	    json_string(bt_strats[r->st.id].name));
	json_object_set_new(line, "params", bt_params_json(r->st.id,
	    r->st.par));
	json_object_set_new(line, "mode", json_string(bt_exec_mode(&r->ex)));
	json_object_set_new(line, "cash", bt_jnum(r->ex.cash *
	    (double)r->nres));
	json_object_update(line, m);
	if (!r->quiet)
		bt_emit(line);
	else
		json_decref(line);
	if (r->equity_fp != NULL)
		bt_write_equity(r->equity_fp, "PORTFOLIO", T, E, NULL, NULL,
		    NULL, 0, 0, 0, nT);
	if (r->keep_curve) {
		r->pt = T;
		r->pe = E;
		r->np = nT;
		return m;
	}
	free(T);
	free(E);
	return m;
}
