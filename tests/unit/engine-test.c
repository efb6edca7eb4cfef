/*
 * engine-test.c - bt_engine.c's execution model on a handful of bars made
 * by hand: fills at the next bar's open, fees and slippage, lot rounding,
 * shorts and a reversal, the last bar's close (natively) and open
 * (backtesting.py), the window's warm-up.
 *
 * usage: engine-test [-q] [-o offset]
 *
 * The expected values were worked out by hand from bt-backtest(1),
 * EXECUTION; the Python lines in the comments recompute each (python3,
 * floats as C's doubles).  Prints TAP (tap.h).  Exits 0 when every check
 * passed.
 */
#define _POSIX_C_SOURCE 200809L	/* getopt */

#include "bt_engine.h"
#include "tap.h"

#define T0	1600000000000LL		/* 2020-09-13T12:26:40Z */
#define H	3600000LL		/* 1h bars */
#define MAXN	8

#define check_num(got, want, what)	check_tol(got, want, 1e-12, what)

/* Bars made by hand: open and close given, high and low around them. */
struct bars {
	struct series	 s;
	int64_t		 t[MAXN];
	double		 o[MAXN], h[MAXN], l[MAXN], c[MAXN];
};

static void
bars(struct bars *b, const double *o, const double *c, size_t n, size_t w0)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < n; i++) {
		b->t[i] = T0 + (int64_t)i * H;
		b->o[i] = o[i];
		b->c[i] = c[i];
		b->h[i] = fmax(o[i], c[i]) + 1;
		b->l[i] = fmin(o[i], c[i]) - 1;
	}
	snprintf(b->s.symbol, sizeof(b->s.symbol), "TESTUSDT");
	b->s.iv = H;
	b->s.n = n;
	b->s.w0 = w0;
	b->s.t = b->t;
	b->s.o = b->o;
	b->s.h = b->h;
	b->s.l = b->l;
	b->s.c = b->c;
	b->s.tclose = b->t[n - 1] + H - 1;
	b->s.borrowed = true;
}

/* A simulation's outputs, every one kept. */
struct out {
	struct acc	 a;
	struct simout	 so;
	double		 eq[MAXN], pos[MAXN];
};

static void
out_init(struct out *r)
{
	memset(r, 0, sizeof(*r));
	r->so.acc = &r->a;
	r->so.eq = r->eq;
	r->so.pos = r->pos;
	if ((r->so.tr = calloc(1, sizeof(*r->so.tr))) == NULL)
		abort();
}

static void
native(const struct bars *b, const struct ev *ev, size_t nev,
    const struct exec *ex, struct out *r)
{
	out_init(r);
	bt_sim_native(&b->s, ev, nev, ex, &r->so);
}

static void
check_eq(const struct out *r, const double *want, size_t n, const char *what)
{
	char buf[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s: equity at window bar %zu", what,
		    i);
		check_num(r->eq[i], want[i], buf);
	}
}

/*
 * A long, 10 bps fee, 5 bps slippage, lots of 0.01.  Decided on bar 0's
 * close, it fills at bar 1's open; still open at the end, it is closed at
 * the last bar's close, at the close time of that bar.
 *	px = 102 * 1.0005		# 102.051
 *	u = floor(10000 / (px * 1.001) / 0.01 * (1 + 1e-12)) * 0.01	# 97.89
 *	fin = u * px * 0.001; cash = 10000 - u * px - fin
 *	out = 108 * (1 - 0.0005); fout = u * out * 0.001
 *	final = cash + u * out - fout	# 10556.504943670003
 *	pnl = u * (out - px) - fin - fout	# 556.5049436700024
 */
static void
test_long(void)
{
	static const double o[] = { 100, 102, 104, 103, 106 };
	static const double c[] = { 101, 103, 105, 104, 108 };
	static const double want[] = { 10000, 10082.907837610002,
	    10278.687837610003, 10180.797837610002, 10556.504943670003 };
	struct ev ev[] = { { 0, EV_TARGET, 1 } };
	struct exec ex = { .cash = 10000, .fee = 0.001, .slip = 0.0005,
	    .size = 1, .lot = 0.01 };
	struct bars b;
	struct out r;
	const struct trade *t;

	bars(&b, o, c, 5, 0);
	native(&b, ev, 1, &ex, &r);
	check(r.so.ntr == 1, "long: one trade (%zu)", r.so.ntr);
	t = &r.so.tr[0];
	check(t->t_in == T0 + H && t->bar_in == 1,
	    "long: filled at bar 1's open, the bar after the decision");
	check_num(t->p_in, 102 * 1.0005, "long: entry price, open + slippage");
	check(t->units == 97.89, "long: units %.17g, whole lots of 0.01",
	    t->units);
	check(t->t_out == T0 + 5 * H && t->bar_out == 4,
	    "long: closed at the last bar, at its close time");
	check_num(t->p_out, 108 * (1 - 0.0005),
	    "long: exit price, close - slippage");
	check_num(t->fees, 20.55660633, "long: fees on both fills");
	check_num(t->pnl, 556.5049436700024, "long: pnl after fees");
	check_num(t->ret, 0.055707469794514755, "long: return on cost");
	check_eq(&r, want, 5, "long");
	check(r.pos[0] == 0 && r.pos[1] == 97.89 && r.pos[3] == 97.89 &&
	    r.pos[4] == 0, "long: flat, held, flat after the last close");
	check(r.a.nb == 5 && near(r.a.elast, want[4]) && r.a.tr.nt == 1,
	    "long: the accumulator saw 5 bars and the trade");
	free(r.so.tr);
}

/*
 * Shorts: half the equity short on bar 0's signal, reversed to half long
 * on bar 2's; an exit on the last bar has no next open, so only the
 * latest signal says it.  No fee, no slippage, no lots.
 *	short: u = -0.5 * 1000 / 10 = -50, cash 1500; closed at 8: pnl 100
 *	long: u = 0.5 * 1100 / 8 = 68.75, cash 550; closed at 10: pnl 137.5
 */
static void
test_short(void)
{
	static const double o[] = { 10, 10, 8, 8, 9 };
	static const double c[] = { 10, 9, 8, 9, 10 };
	static const double want[] = { 1000, 1050, 1100, 1168.75, 1237.5 };
	struct ev ev[] = { { 0, EV_SHORT, 0 }, { 2, EV_LONG, 0 },
	    { 4, EV_XLONG, 0 } };
	struct exec ex = { .cash = 1000, .size = 0.5, .shorts = true };
	struct bars b;
	struct out r;

	bars(&b, o, c, 5, 0);
	native(&b, ev, 3, &ex, &r);
	check(r.so.ntr == 2, "short: two trades (%zu)", r.so.ntr);
	check(r.so.tr[0].units == -50 && r.so.tr[0].p_in == 10 &&
	    r.so.tr[0].t_in == T0 + H, "short: -50 units at bar 1's open");
	check(r.so.tr[0].p_out == 8 && r.so.tr[0].t_out == T0 + 3 * H &&
	    r.so.tr[0].bar_out == 3, "short: closed at bar 3's open, first");
	check_num(r.so.tr[0].pnl, 100, "short: pnl");
	check_num(r.so.tr[0].ret, 0.2, "short: return");
	check(r.so.tr[1].units == 68.75 && r.so.tr[1].p_in == 8 &&
	    r.so.tr[1].bar_in == 3,
	    "reversal: the long sized on the equity after the close");
	check(r.so.tr[1].p_out == 10 && r.so.tr[1].t_out == T0 + 5 * H,
	    "reversal: closed at the last close; the last bar's exit unfilled");
	check_num(r.so.tr[1].pnl, 137.5, "reversal: pnl");
	check_eq(&r, want, 5, "short");
	check(r.pos[1] == -50 && r.pos[2] == -50 && r.pos[3] == 68.75,
	    "short: positions per bar");
	check(r.so.has_sig && r.so.sig_t == T0 + 4 * H && r.so.sig_pos == 0,
	    "short: the latest signal is the last bar's exit");

	free(r.so.tr);

	/* Long-only: the short is no order; half long at 8, out at 10. */
	ex.shorts = false;
	native(&b, ev, 3, &ex, &r);
	check(r.so.ntr == 1 && r.so.tr[0].units == 62.5 &&
	    near(r.eq[4], 1125), "long-only: a short signal is flat");
	free(r.so.tr);
}

/*
 * Lots: 0.3 / 0.1 is 2.9999999999999996 in doubles, and the order is
 * still 3 lots (floor(x * (1 + 1e-12)) * 0.1 = 0.30000000000000004);
 * an order smaller than one lot is not filled, and counted.
 */
static void
test_lots(void)
{
	static const double o[] = { 10, 10, 11, 12 };
	static const double c[] = { 10, 10, 11, 12 };
	static const double o2[] = { 10, 150, 140, 130 };
	struct ev ev[] = { { 0, EV_LONG, 0 } };
	struct exec ex = { .cash = 3, .size = 1, .lot = 0.1 };
	struct bars b;
	struct out r;

	bars(&b, o, c, 4, 0);
	native(&b, ev, 1, &ex, &r);
	check(r.so.ntr == 1 && r.so.tr[0].units == 3 * 0.1,
	    "lots: 0.3 of cash 3 at 10 is 3 lots of 0.1 (%.17g)",
	    r.so.ntr ? r.so.tr[0].units : 0);
	free(r.so.tr);
	ex.cash = 100;
	ex.lot = 1;
	bars(&b, o2, o2, 4, 0);
	native(&b, ev, 1, &ex, &r);
	check(r.so.ntr == 0 && r.so.unfilled == 1 && r.eq[3] == 100,
	    "lots: 100 at 150 buys no lot of 1: unfilled, cash kept");
	free(r.so.tr);
}

/*
 * backtesting.py's broker: whole units, int(cash * (1 - eps) // (price +
 * commission per unit)); commission on the entry and the exit value;
 * the open trade closed at the last bar's open; bars count from 0.
 *	units = floor(1000 * (1 - 2.2e-16) / (30 + 30 * 0.01)) = 33
 *	cash = 1000 - 33 * 30 * 0.01 = 990.1
 *	final = 990.1 + 33 * (40 - 30) - 33 * 40 * 0.01 = 1306.9
 */
static void
test_compat(void)
{
	static const double o[] = { 29, 30, 35, 38, 40 };
	static const double c[] = { 30, 32, 36, 39, 41 };
	static const double want[] = { 1000, 1056.1, 1188.1, 1287.1,
	    1306.8999999999999 };
	struct ev ev[] = { { 0, EV_LONG, 0 } };
	struct exec ex = { .cash = 1000, .fee = 0.01, .size = 1, .lot = 1,
	    .compat = true };
	struct bars b;
	struct out r;

	bars(&b, o, c, 5, 0);
	out_init(&r);
	bt_acc_init(&r.a, b.t);
	bt_sim_compat(&b.s, ev, 1, &ex, 0, &r.so);
	check(r.so.ntr == 1 && r.so.tr[0].units == 33,
	    "compat: 33 whole units");
	check(r.so.tr[0].bar_in == 1 && r.so.tr[0].p_in == 30 &&
	    r.so.tr[0].bar_out == 4 && r.so.tr[0].p_out == 40 &&
	    r.so.tr[0].t_out == T0 + 4 * H,
	    "compat: in at bar 1's open, out at the last bar's open");
	check_num(r.so.tr[0].fees, 23.1, "compat: commission in and out");
	check_num(r.so.tr[0].pnl, 306.9, "compat: pnl");
	check_num(r.so.tr[0].ret, 0.30999999999999994,
	    "compat: return, backtesting.py's pl_pct");
	check_eq(&r, want, 5, "compat");
	free(r.so.tr);
}

/*
 * One parameter set through bt_simulate(): the hold strategy on a window
 * that starts at bar 2 (bars 0 and 1 are warm-up): in at bar 3's open,
 * out at the last close; bars count from the window's first.
 *	u = 1000 / 102; final = 1000 * 107 / 102	# 1049.0196078431372
 */
static void
test_window(void)
{
	static const double o[] = { 50, 60, 100, 102, 104, 106 };
	static const double c[] = { 55, 65, 101, 103, 105, 107 };
	static const double want[] = { 1000, 1009.8039215686274,
	    1029.4117647058824, 1049.0196078431372 };
	struct strategy st;
	struct exec ex = { .cash = 1000, .size = 1 };
	struct bars b;
	struct out r;
	struct mctx mc;
	char err[BT_ERRLEN];

	memset(&st, 0, sizeof(st));
	if (bt_strategy_set(&st, "hold") == -1)
		abort();
	bars(&b, o, c, 6, 2);
	out_init(&r);
	check(bt_simulate(&st, &ex, &b.s, st.par, &r.so, &mc, err) == 0,
	    "window: hold simulated");
	check(r.so.ntr == 1 && r.so.tr[0].bar_in == 1 &&
	    r.so.tr[0].bar_out == 3 && r.so.tr[0].t_in == T0 + 3 * H,
	    "window: in at the window's bar 1, out at its bar 3");
	check_eq(&r, want, 4, "window");
	check(r.a.nb == 4, "window: 4 bars in the accumulator (%zu)", r.a.nb);
	check(mc.A == 8760 && mc.t0 == T0 + 2 * H && mc.t1 == T0 + 5 * H &&
	    mc.nbars == 4, "window: 8760 periods a year, the window's times");
	check_num(mc.bh, (107.0 - 101) / 101, "window: buy & hold");
	free(r.so.tr);
	bt_strategy_free(&st);
}

int
main(int argc, char *argv[])
{
	tap_args(argc, argv, "engine-test");
	test_long();
	test_short();
	test_lots();
	test_compat();
	test_window();
	return tap_done();
}
