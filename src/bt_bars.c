/*
 * bt_bars.c - bar sizes (bt-backtest(1), BAR SIZES): names, bins, the
 * intervals that build them, periods per year, and the aggregation.
 *
 * Invariants:
 * - Bins are left-closed and labelled by their open time, as Binance's
 *   klines are: months from the 1st (calendar months, not a fixed
 *   length), weeks from Monday 00:00 UTC (Binance's 1w), every other size
 *   from the Unix epoch.  pandas' W-SUN (`wsun', the backtesting.py mode)
 *   is the one right-closed kind: (Sunday, Sunday], labelled by Monday.
 * - An aggregated bar is open first, high max, low min, close last,
 *   volume summed; a bin that has not closed by now is never made.
 * - Times are ms since the epoch, UTC; no time zone is ever consulted.
 */
#include <stdlib.h>
#include <string.h>

#include "bt_bars.h"

#define MIN_MS	60000LL
#define HOUR_MS	3600000LL
#define DAY_MS	BT_DAY_MS
#define WEEK_MS	(7 * DAY_MS)
#define MON0	(4 * DAY_MS)		/* 1970-01-05, a Monday */
#define SUN0	(3 * DAY_MS)		/* 1970-01-04, a Sunday */

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The year and month (1..12) of a day since the epoch. */
static void
month_of(int64_t z, int64_t *y, int *m)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The first of the month k months after January 1970, in ms. */
static int64_t
month_start(int64_t k)
{
	return bt_days_from_civil(1970 + floordiv(k, 12), (int)(k - floordiv(k, 12) *
	    12) + 1, 1) * DAY_MS;
}

static int64_t
month_index(int64_t t)
{
	int64_t y;
	int m;

	month_of(floordiv(t, DAY_MS), &y, &m);
	return (y - 1970) * 12 + m - 1;
}

int
bt_bar_parse(const char *s, struct bt_bar *b)
{
	long n;
	char u;

	memset(b, 0, sizeof(*b));
	if (bt_tf_parse(s, &n, &u) == -1)
		return -1;
	switch (u) {
	case 'M':
		b->months = (int)n;
		snprintf(b->name, sizeof(b->name), "%ldM", n);
		break;
	case 'w':
		b->week = true;
		b->ms = n * WEEK_MS;
		snprintf(b->name, sizeof(b->name), "%ldw", n);
		break;
	default:
		bt_bar_of_ms(n * (u == 'd' ? DAY_MS : u == 'h' ? HOUR_MS :
		    MIN_MS), b);
	}
	return 0;
}

void
bt_bar_of_ms(int64_t ms, struct bt_bar *b)
{
	memset(b, 0, sizeof(*b));
	b->ms = ms;
	if (ms > 0 && ms % DAY_MS == 0)
		snprintf(b->name, sizeof(b->name), "%lldd",
		    (long long)(ms / DAY_MS));
	else if (ms > 0 && ms % HOUR_MS == 0)
		snprintf(b->name, sizeof(b->name), "%lldh",
		    (long long)(ms / HOUR_MS));
	else if (ms > 0 && ms % MIN_MS == 0)
		snprintf(b->name, sizeof(b->name), "%lldm",
		    (long long)(ms / MIN_MS));
	else
		snprintf(b->name, sizeof(b->name), "%llds",
		    (long long)(ms / 1000));
}

int64_t
bt_bar_start(const struct bt_bar *b, int64_t t)
{
	if (b->months > 0)
		return month_start(floordiv(month_index(t), b->months) *
		    b->months);
	if (b->wsun)
		return SUN0 + floordiv(t - 1 - SUN0, b->ms) * b->ms + DAY_MS;
	if (b->week)
		return MON0 + floordiv(t - MON0, b->ms) * b->ms;
	return floordiv(t, b->ms) * b->ms;
}

int64_t
bt_bar_next(const struct bt_bar *b, int64_t start)
{
	if (b->months > 0)
		return month_start(month_index(start) + b->months);
	return start + b->ms;
}

int64_t
bt_bar_close(const struct bt_bar *b, int64_t start)
{
	/* W-SUN's bin labelled Monday L ends at Sunday 00:00, L + 6 days. */
	if (b->wsun)
		return start + b->ms - DAY_MS;
	return bt_bar_next(b, start) - 1;
}

bool
bt_bar_divides(const struct bt_bar *b, int64_t iv)
{
	if (iv <= 0)
		return false;
	if (b->months > 0 || b->week || b->wsun)
		return DAY_MS % iv == 0;
	return b->ms % iv == 0;
}

double
bt_bar_per_year(const struct bt_bar *b)
{
	if (b->months > 0)
		return 12.0 / b->months;
	if (b->week || b->wsun)
		return 365.2425 / 7 / (double)(b->ms / WEEK_MS);
	return 365.0 * DAY_MS / (double)b->ms;
}

/* Bin [start, next) holds this many bars of interval iv. */
static size_t
expected(const struct bt_bar *b, int64_t start, int64_t iv)
{
	return (size_t)((b->wsun ? b->ms : bt_bar_next(b, start) - start) /
	    iv);
}

size_t
bt_bars_make(const struct bt_candle *c, size_t n, int64_t iv,
    const struct bt_bar *b, bool whole, int64_t now, struct bt_candle *out,
    struct bt_bars_left *left)
{
	size_t i = 0, j, k = 0;
	int64_t start;
	struct bt_candle *o;

	memset(left, 0, sizeof(*left));
	while (i < n) {
		start = bt_bar_start(b, c[i].t);
		o = &out[k];
		memset(o, 0, sizeof(*o));
		o->t = start;
		o->o = c[i].o;
		o->h = c[i].h;
		o->l = c[i].l;
		for (j = i; j < n && bt_bar_start(b, c[j].t) == start; j++) {
			if (c[j].h > o->h)
				o->h = c[j].h;
			if (c[j].l < o->l)
				o->l = c[j].l;
			o->c = c[j].c;
			o->v += c[j].v;
		}
		o->ct = bt_bar_close(b, start);
		o->has = BT_HAS_CT;
		if (o->ct >= now)
			left->open++;
		else if (whole && j - i < expected(b, start, iv)) {
			if (left->incomplete++ == 0)
				left->first_incomplete = start;
		} else
			k++;
		i = j;
	}
	return k;
}
