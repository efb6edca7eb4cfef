/*
 * bt_engine.c - the execution model (bt-backtest(1), EXECUTION): orders,
 * fills, positions and trades, natively and as backtesting.py's broker
 * does them; and one parameter set simulated on one series.
 *
 * Invariants:
 * - A decision is taken on a bar's close and filled at the next bar's
 *   open, at the open adjusted by the slippage, the fee paid on the value
 *   filled; natively the size is |target| of the equity then, rounded
 *   down to whole lots; backtesting.py's sizes are whole units.
 * - The native window starts flat at bar w0, and a position still open is
 *   closed at the last bar's close; backtesting.py's closes at the last
 *   bar's open.
 * - Work happens only on bars with events; between them mark() marks to
 *   market with the accumulator in locals: the hot loop of every run and
 *   sweep (130 M bar-steps a second a core).  Keep it so.
 */
#include <string.h>

#include "bt_conf.h"
#include "bt_engine.h"

/* backtesting.py's default order size: just under all of the equity. */
#define BTPY_SIZE	(1 - 2.220446049250313e-16)

void
bt_exec_conf(struct exec *ex, bool compat, unsigned given, int shorts)
{
	memset(ex, 0, sizeof(*ex));
	ex->compat = compat;
	ex->cash = bt_conf_double("BACKTEST_CASH");
	ex->size = bt_conf_double("BACKTEST_SIZE");
	ex->lot = bt_conf_double("BACKTEST_LOT");
	ex->fee = bt_conf_double("BACKTEST_FEE_BPS") / 1e4;
	ex->fixed = bt_conf_double("BACKTEST_FEE_FIXED");
	ex->slip = bt_conf_double("BACKTEST_SLIPPAGE_BPS") / 1e4;
	ex->shorts = shorts >= 0 ? shorts :
	    bt_conf_long("BACKTEST_SHORT") != 0;
	if (!compat)
		return;
	/*
	 * backtesting.py's defaults, each unless given on the command line
	 * (which bt.conf holds by now): Backtest(commission=0, spread=0),
	 * buy() with all the equity, whole units.
	 */
	if (!(given & BT_GIVEN_FEE))
		ex->fee = 0;
	if (!(given & BT_GIVEN_SLIP))
		ex->slip = 0;
	if (!(given & BT_GIVEN_FIXED))
		ex->fixed = 0;
	if (!(given & BT_GIVEN_SIZE))
		ex->size = 1;
	if (!(given & BT_GIVEN_LOT))
		ex->lot = 1;
	ex->shorts = shorts != 0;
}

const char *
bt_exec_mode(const struct exec *ex)
{
	return ex->compat ? "backtesting.py" : "native";
}

/* A simulation under way. */
struct sim {
	const struct series *s;
	const struct exec *ex;
	struct simout	*so;
	double		 cash, u, held, tgt;
	bool		 pend, open;
	struct trade	 tr;
};

static double
lots(double units, double lot)
{
	if (lot <= 0)
		return units;
	return floor(units / lot * (1 + 1e-12)) * lot;
}

static void
trade_done(struct sim *m)
{
	struct simout *so = m->so;

	bt_acc_trade(&so->acc->tr, &m->tr);
	if (so->tr != NULL) {
		if (so->ntr == so->trcap) {
			so->trcap = so->trcap ? so->trcap * 2 : 64;
			so->tr = bt_xrealloc(so->tr, so->trcap,
			    sizeof(*so->tr));
		}
		so->tr[so->ntr++] = m->tr;
	}
	m->open = false;
}

/* Closes the position at base price adjusted by slippage, fee paid. */
static void
pos_close(struct sim *m, size_t i, double base, int64_t when)
{
	double px = base * (1 + (m->u > 0 ? -m->ex->slip : m->ex->slip));
	double fee = fabs(m->u) * px * m->ex->fee + m->ex->fixed;

	m->cash += m->u * px - fee;
	m->tr.pnl += m->u * (px - m->tr.p_in) - fee - m->tr.fees;
	m->tr.fees += fee;
	m->tr.p_out = px;
	m->tr.bar_out = i - m->s->w0;
	m->tr.t_out = when;
	m->tr.ret = m->tr.pnl / m->tr.cost;
	m->u = 0;
	trade_done(m);
}

/* Buys (du > 0) or sells du units at bar i's open, with slippage. */
static void
pos_change(struct sim *m, size_t i, double du)
{
	double o = m->s->o[i];
	double px = o * (1 + (du > 0 ? m->ex->slip : -m->ex->slip));
	double fee = fabs(du) * px * m->ex->fee + m->ex->fixed;

	if (!m->open) {
		memset(&m->tr, 0, sizeof(m->tr));
		m->open = true;
		m->tr.t_in = m->s->t[i];
		m->tr.bar_in = i - m->s->w0;
		m->tr.units = du;
		m->tr.p_in = px;
		m->tr.cost = fabs(du) * px;
		m->tr.fees = fee;
	} else if ((du > 0) == (m->u > 0)) {
		m->tr.p_in = (fabs(m->u) * m->tr.p_in + fabs(du) * px) /
		    (fabs(m->u) + fabs(du));
		m->tr.cost += fabs(du) * px;
		m->tr.fees += fee;
		if (fabs(m->u + du) > fabs(m->tr.units))
			m->tr.units = m->u + du;
	} else {
		m->tr.pnl += -du * (px - m->tr.p_in);
		m->tr.fees += fee;
	}
	m->cash -= du * px + fee;
	m->u += du;
	if (m->u == 0) {
		/* Reduced to nothing: the trade ends here. */
		m->tr.pnl -= m->tr.fees;
		m->tr.p_out = px;
		m->tr.bar_out = i - m->s->w0;
		m->tr.t_out = m->s->t[i];
		m->tr.ret = m->tr.pnl / m->tr.cost;
		trade_done(m);
	}
}

/*
 * Fills the target decided on the previous close at bar i's open: a
 * position on the other side (or a target of 0) is closed first, then
 * the new one is sized on the equity then: |target| of it less the
 * order's fixed fee, over the price with slippage and the fee, rounded
 * down to whole lots.
 */
static void
fill(struct sim *m, size_t i)
{
	const struct exec *ex = m->ex;
	double o = m->s->o[i], t = m->tgt, px, e, want;

	m->pend = false;
	if (t == m->held)
		return;
	if (m->u != 0 && (t == 0 || (t > 0) != (m->u > 0)))
		pos_close(m, i, o, m->s->t[i]);
	if (t != 0) {
		px = o * (1 + (t > 0 ? ex->slip : -ex->slip));
		e = m->cash + m->u * o;
		want = copysign(lots(fmax(fabs(t) * fmax(e, 0) - ex->fixed,
		    0) / (px * (1 + ex->fee)), ex->lot), t);
		if (want != m->u)
			pos_change(m, i, want - m->u);
		if (m->u == 0)
			m->so->unfilled++;
	}
	m->held = t;
}

/* The events of bar `bar' set the target; a change is the latest signal. */
static size_t
decide(struct sim *m, const struct ev *ev, size_t nev, size_t k,
    size_t bar)
{
	double t = m->tgt, size = m->ex->size;

	for (; k < nev && ev[k].bar == bar; k++) {
		switch (ev[k].kind) {
		case EV_LONG:
			t = size;
			break;
		case EV_SHORT:
			t = m->ex->shorts ? -size : 0;
			break;
		case EV_XLONG:
			if (t > 0)
				t = 0;
			break;
		case EV_XSHORT:
			if (t < 0)
				t = 0;
			break;
		case EV_TARGET:
			t = ev[k].target;
			break;
		}
	}
	if (t != m->tgt) {
		m->tgt = t;
		m->pend = t != m->held;
		m->so->has_sig = true;
		m->so->sig_t = m->s->t[bar];
		m->so->sig_pos = t;
	}
	return k;
}

/*
 * Marks bars [i, to) to market at their close.  The hot loop of every
 * simulation: the accumulator lives in locals here (through the struct
 * it would round-trip memory on every bar), bar w0 was fed already.
 */
static inline void
mark(struct sim *m, size_t i, size_t to)
{
	struct acc *a = m->so->acc;
	const double *c = m->s->c;
	double cash = m->cash, u = m->u, e, r;
	double *eq = m->so->eq, *pos = m->so->pos;
	double sr, sr2, sneg, eprev, peak, mine;
	size_t w0 = m->s->w0, z, k = to - i;
	bool ruined;

	if (i >= to)
		return;
	if (u == 0 && eq == NULL && pos == NULL) {
		bt_acc_bar(a, i, cash);
		if (i + 1 < to)
			bt_acc_flat(a, i + 1, to, cash);
		return;
	}
	sr = a->sr;
	sr2 = a->sr2;
	sneg = a->sneg;
	eprev = a->eprev;
	peak = a->peak;
	mine = a->mine;
	z = a->z;
	ruined = a->ruined;
	for (; i < to; i++) {
		e = cash + u * c[i];
		r = e / eprev - 1;
		eprev = e;
		sr += r;
		sr2 += r * r;
		if (r < 0) {
			sneg += r * r;
			if (r <= -1)
				ruined = true;
		}
		if (e >= peak) {
			if (i > z + 1) {
				a->z = z;
				a->peak = peak;
				a->mine = mine;
				bt_dd_period(a, i);
			}
			peak = mine = e;
			z = i;
		} else if (e < mine)
			mine = e;
		if (eq != NULL) {
			eq[i - w0] = e;
			pos[i - w0] = u;
		}
	}
	a->sr = sr;
	a->sr2 = sr2;
	a->sneg = sneg;
	a->eprev = a->elast = eprev;
	a->peak = peak;
	a->mine = mine;
	a->z = z;
	a->ruined = ruined;
	a->nb += k;
	a->nre += k;
	a->nr += k;
	a->ilast = to - 1;
}

/*
 * The native engine.  The window starts flat at bar w0; events on a bar's
 * close are filled at the next bar's open; each bar is marked at its
 * close; a position still open is closed at the last bar's close.  Work
 * happens only on event bars; between them the loop marks to market.
 */
void
bt_sim_native(const struct series *s, const struct ev *ev, size_t nev,
    const struct exec *ex, struct simout *so)
{
	struct sim m;
	struct acc *a = so->acc;
	size_t n = s->n, w0 = s->w0, i, k = 0, end;

	memset(&m, 0, sizeof(m));
	m.s = s;
	m.ex = ex;
	m.so = so;
	m.cash = ex->cash;
	bt_acc_init(a, s->t);
	bt_acc_bar(a, w0, m.cash);
	if (so->eq != NULL)
		so->eq[0] = m.cash;
	if (so->pos != NULL)
		so->pos[0] = 0;
	while (k < nev && ev[k].bar < w0)
		k++;
	k = decide(&m, ev, nev, k, w0);
	for (i = w0 + 1; i < n; i = end + 1) {
		if (m.pend)
			fill(&m, i);
		end = k < nev && ev[k].bar < n - 1 ? ev[k].bar : n - 1;
		if (end == n - 1) {
			mark(&m, i, n - 1);
			if (m.u != 0)
				pos_close(&m, n - 1, s->c[n - 1],
				    bt_series_next(s, n - 1));
			mark(&m, n - 1, n);
			decide(&m, ev, nev, k, n - 1);	/* the latest signal */
			break;
		}
		mark(&m, i, end + 1);
		k = decide(&m, ev, nev, k, end);
	}
}

/* Python's float floor division, as backtesting.py's sizing uses it. */
static double
pyfloordiv(double vx, double wx)
{
	double mod = fmod(vx, wx), div = (vx - mod) / wx, fd;

	if (mod != 0 && ((wx < 0) != (mod < 0)))
		div -= 1.0;
	if (div != 0) {
		fd = floor(div);
		if (div - fd > 0.5)
			fd += 1.0;
	} else
		fd = copysign(0.0, vx / wx);
	return fd;
}

/* backtesting.py's commission(size, price): fixed + |size| price fee. */
static double
commission(const struct exec *ex, double size, double price)
{
	return ex->fixed + fabs(size) * price * ex->fee;
}

/* backtesting.py's close: raw price, commission on the exit value. */
static void
compat_close(struct sim *m, size_t i, double px)
{
	double exitc = commission(m->ex, m->u, px);

	m->cash += m->u * (px - m->tr.p_in) - exitc;
	m->tr.fees += exitc;
	m->tr.pnl = m->u * (px - m->tr.p_in) - m->tr.fees;
	m->tr.ret = copysign(1, m->u) * (px / m->tr.p_in - 1) - m->tr.fees /
	    (fabs(m->u) * m->tr.p_in);
	m->tr.p_out = px;
	m->tr.bar_out = i;
	m->tr.t_out = m->s->t[i];
	m->u = 0;
	trade_done(m);
}

/*
 * backtesting.py's broker at bar i's open: the close order first, then
 * the new one sized in whole units of an order of size f (all the
 * equity, or --size): int(margin * f // (price adjusted by the spread +
 * commission(f, price) / f)), as _Broker._process_orders computes it,
 * the fixed commission per unit included.  A position on the same side
 * is kept as it is.
 */
static void
compat_fill(struct sim *m, size_t i)
{
	const struct exec *ex = m->ex;
	double o = m->s->o[i], t = m->tgt, adj, plus, f, margin, units;

	m->pend = false;
	if (t == m->held)
		return;
	if (m->u != 0 && (t == 0 || (t > 0) != (m->u > 0)))
		compat_close(m, i, o);
	m->held = t;
	if (t == 0 || m->u != 0)
		return;
	f = fmin(fabs(t), BTPY_SIZE);
	adj = o * (1 + copysign(ex->slip, t));
	plus = adj + commission(ex, f, o) / f;
	margin = fmax(m->cash, 0);
	units = (double)(int64_t)pyfloordiv(margin * f, plus);
	/* No unit affordable, or (rounding) more than the margin: cancelled. */
	if (units == 0 || units * plus > margin) {
		m->so->unfilled++;
		return;
	}
	memset(&m->tr, 0, sizeof(m->tr));
	m->open = true;
	m->u = copysign(units, t);
	m->tr.units = m->u;
	m->tr.p_in = adj;
	m->tr.fees = commission(ex, units, adj);
	m->tr.cost = units * adj;
	m->tr.bar_in = i;
	m->tr.t_in = m->s->t[i];
	m->cash -= m->tr.fees;
}

/*
 * The backtesting.py-compatible engine (bt-backtest(1), BACKTESTING.PY MODE):
 * decisions from bar `start' (the first with every indicator valid, plus
 * one), equity = cash + unrealised PnL, open trades closed at the last
 * bar's open.  so->eq must hold s->n values; the accumulator is fed by
 * the caller (returns are resampled).
 */
void
bt_sim_compat(const struct series *s, const struct ev *ev, size_t nev,
    const struct exec *ex, size_t start, struct simout *so)
{
	struct sim m;
	size_t n = s->n, i, k = 0;

	memset(&m, 0, sizeof(m));
	m.s = s;
	m.ex = ex;
	m.so = so;
	m.cash = ex->cash;
	for (i = 0; i < n; i++) {
		if (i >= start && m.pend)
			compat_fill(&m, i);
		so->eq[i] = m.u == 0 ? m.cash : m.cash + m.u * (s->c[i] -
		    m.tr.p_in);
		if (so->pos != NULL)
			so->pos[i] = m.u;
		while (k < nev && ev[k].bar < i)
			k++;
		if (i >= start)
			k = decide(&m, ev, nev, k, i);
	}
	/*
	 * finalize_trades: the open trades close at the last bar's open,
	 * then the broker runs once more on that bar, so a decision taken on
	 * it fills there too; the trade it opens stays open (0.6.6).
	 */
	if (m.u != 0)
		compat_close(&m, n - 1, s->o[n - 1]);
	if (m.pend)
		compat_fill(&m, n - 1);
	so->eq[n - 1] = m.u == 0 ? m.cash : m.cash + m.u * (s->c[n - 1] -
	    m.tr.p_in);
	if (so->pos != NULL)
		so->pos[n - 1] = m.u;
}

/*
 * FractionalBacktest's report: sizes in units of the symbol (size times
 * the unit), prices per unit (divided by it).
 */
static void
unscale(double unit, struct simout *so, size_t n)
{
	size_t i;

	for (i = 0; i < so->ntr && so->tr != NULL; i++) {
		so->tr[i].units *= unit;
		so->tr[i].p_in /= unit;
		so->tr[i].p_out /= unit;
	}
	for (i = 0; i < n && so->pos != NULL; i++)
		so->pos[i] *= unit;
}

/* The periods per year, buy & hold and rounding of one series. */
static void
calendar(enum strat id, const struct exec *ex, const struct series *s,
    const double *par, struct mctx *mc, int *freq)
{
	size_t W;

	memset(mc, 0, sizeof(*mc));
	mc->compat = ex->compat;
	mc->alpha = mc->beta = NAN;
	if (ex->compat) {
		bt_compat_calendar(s->t, s->n, freq, &mc->A, &mc->round_ms);
		W = bt_lookback(id, par);
		if (W > s->n - 1)
			W = s->n - 1;
		mc->bh = (s->c[s->n - 1] - s->c[W]) / s->c[W];
		mc->nbars = s->n;
	} else {
		*freq = 0;
		mc->A = bt_series_per_year(s);
		mc->bh = (s->c[s->n - 1] - s->c[s->w0]) / s->c[s->w0];
		mc->nbars = s->n - s->w0;
	}
	mc->t0 = s->t[s->w0];
	mc->t1 = s->t[s->n - 1];
}

int
bt_simulate(struct strategy *st, const struct exec *ex,
    const struct series *s, const double *par, struct simout *so,
    struct mctx *mc, char *err)
{
	size_t from, i;
	int rc, freq;
	double *eq = so->eq;

	calendar(st->id, ex, s, par, mc, &freq);
	from = s->w0;
	if (ex->compat && from < bt_lookback(st->id, par) + 1)
		from = bt_lookback(st->id, par) + 1;
	if ((rc = bt_events(st, s, par, from, err)) != 0)
		return rc;
	if (!ex->compat) {
		bt_sim_native(s, st->ev, st->nev, ex, so);
		return 0;
	}
	/* Trades reach the accumulator as they close; then the equity. */
	bt_acc_init(so->acc, s->t);
	bt_sim_compat(s, st->ev, st->nev, ex, from, so);
	for (i = 0; i < s->n; i++)
		bt_acc_eq(so->acc, i, eq[i]);
	bt_acc_resampled(so->acc, s->t, eq, s->n, freq);
	if (s->unit > 0 && s->unit != 1)
		unscale(s->unit, so, s->n);
	return 0;
}

