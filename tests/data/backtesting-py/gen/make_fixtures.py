#!/usr/bin/env python3
"""Make the backtesting.py 0.6.6 / pandas reference fixtures in tests/data/backtesting-py/.

This is bt's own script; it contains no code of backtesting.py.  It needs an
*installed* backtesting.py 0.6.6 (import name `backtesting`, e.g. on PYTHONPATH)
and pandas/numpy.  It is not run by the test suite: the fixtures it writes are
committed, and FIXTURES.md says with which versions they were made.

    PYTHONPATH=/path/to/backtesting.py python3 make_fixtures.py OUTDIR [part ...]

parts: grid walk walkbt resample fees fractional (default: all)
"""
import hashlib
import json
import math
import os
import struct
import sys
import warnings

import numpy as np
import pandas as pd

import backtesting
from backtesting import Backtest, Strategy
from backtesting.lib import FractionalBacktest, crossover

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)  # tests/data/backtesting-py


def load(name):
    return pd.read_csv(os.path.join(DATA, name), index_col=0, parse_dates=True)


def SMA(arr, n):
    """The SMA of backtesting.py's own test suite: pandas' rolling mean."""
    return pd.Series(arr).rolling(n).mean()


class SmaCross(Strategy):
    fast = 10
    slow = 30
    size = None  # None: buy()/sell() default size (all equity)

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        kw = {} if self.size is None else {'size': self.size}
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy(**kw)
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell(**kw)


def num(v):
    """A float as JSON keeps it: json.dumps uses repr, so full precision."""
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    v = float(v)
    return None if math.isnan(v) else v


def ts(t):
    return None if t is None or pd.isna(t) else pd.Timestamp(t).strftime('%Y-%m-%d')


def trades_of(stats):
    out = []
    for t in stats['_trades'].itertuples(index=False):
        out.append({
            'size': num(t.Size), 'entry_bar': int(t.EntryBar), 'exit_bar': int(t.ExitBar),
            'entry_time': ts(t.EntryTime), 'exit_time': ts(t.ExitTime),
            'entry_price': num(t.EntryPrice), 'exit_price': num(t.ExitPrice),
            'pnl': num(t.PnL), 'commission': num(t.Commission),
            'return_pct': num(t.ReturnPct),
        })
    return out


def open_at_end(stats):
    """Trades still open after the run (finalize_trades=True leaves the ones the
    final broker pass itself opened)."""
    broker = stats['_strategy']._broker
    return [{'size': num(t.size), 'entry_bar': int(t.entry_bar),
             'entry_price': num(t.entry_price), 'pl_at_last_close': num(t.pl)}
            for t in broker.trades], num(broker._cash)


def cross_at(a, b, i):
    """backtesting.lib.crossover(a, b) as next() sees it on bar i."""
    return bool(a[i - 1] < b[i - 1] and a[i] > b[i])


def dump_jsonl(path, rows):
    with open(path, 'w') as f:
        for r in rows:
            f.write(json.dumps(r, allow_nan=False) + '\n')


# (a) -----------------------------------------------------------------------
def part_grid(out):
    df = load('GOOG.csv').iloc[:100]
    close = df.Close.values
    n = len(df)
    rows = []
    for fast in range(2, 20, 2):
        for slow in range(10, 40, 2):
            r = {'fast': fast, 'slow': slow}
            s1 = SMA(close, fast).values
            s2 = SMA(close, slow).values
            up = cross_at(s1, s2, n - 1)
            down = cross_at(s2, s1, n - 1)
            r['last_bar_cross'] = 'up' if up else 'down' if down else None
            try:
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter('always')
                    st = Backtest(df, SmaCross, finalize_trades=True).run(fast=fast, slow=slow)
            except Exception as e:  # record what backtesting.py does
                r['error'] = f'{type(e).__name__}: {e}'
                rows.append(r)
                continue
            r['warnings'] = sorted({str(x.message) for x in w})
            r['equity_final'] = num(st['Equity Final [$]'])
            r['return_pct'] = num(st['Return [%]'])
            r['n_trades'] = int(st['# Trades'])
            r['start_bar'] = 1 + int(max(np.isnan(s1).argmin(), np.isnan(s2).argmin()))
            opened, cash = open_at_end(st)
            r['open_at_end'] = opened
            r['cash_at_end'] = cash
            r['closed_pnl_sum'] = num(st['_trades']['PnL'].sum()) if r['n_trades'] else 0.0
            rows.append(r)
    dump_jsonl(os.path.join(out, 'grid-last-bar.jsonl'), rows)


# (b) -----------------------------------------------------------------------
M64 = (1 << 64) - 1
WALK_N = 500_000
WALK_SEED = 20260101


def walk(n=WALK_N, seed=WALK_SEED):
    """x[0] = 100; x[i] = x[i-1] * (1 + r_i), r_i = (u_i - 0.5) * 0.02,
    u_i = (splitmix64_i >> 11) * 2**-53 (exact), i = 1..n-1."""
    state = seed
    x = [0.0] * n
    x[0] = 100.0
    for i in range(1, n):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z = z ^ (z >> 31)
        u = (z >> 11) * (1.0 / 9007199254740992.0)
        r = (u - 0.5) * 0.02
        x[i] = x[i - 1] * (1.0 + r)
    return x


def sha_doubles(a):
    h = hashlib.sha256()
    for v in a:
        h.update(b'\x00\x00\x00\x00\x00\x00\xf8\x7f' if math.isnan(v) else struct.pack('<d', v))
    return h.hexdigest()


def naive_delta(x, n):
    """sum += x[i] - x[i-n]; out = sum / n (first sum by plain left-to-right adds)."""
    out = [math.nan] * len(x)
    s = 0.0
    for i in range(n):
        s += x[i]
    out[n - 1] = s / n
    for i in range(n, len(x)):
        s += x[i] - x[i - n]
        out[i] = s / n
    return out


def talib_sma(x, n):
    """TA-Lib ta_SMA.c order: total += x[i]; out = total / n; total -= x[i-n+1]."""
    out = [math.nan] * len(x)
    total = 0.0
    for i in range(n - 1):
        total += x[i]
    for i in range(n - 1, len(x)):
        total += x[i]
        out[i] = total / n
        total -= x[i - n + 1]
    return out


DIFF_UPTO = 5000


def pandas_roll_mean(x, n):
    """Our reading of pandas 1.5's roll_mean (window/aggregations.pyx) for a fixed
    window and min_periods=n: Kahan-compensated running sum with separate
    compensations for adds and removes, removes before adds, never restarted;
    mean = sum/nobs, replaced by the last value when the last nobs values were
    equal, and clamped to 0 when the sign is impossible.  Checked against pandas."""
    out = [math.nan] * len(x)
    sum_x = comp_add = comp_rem = 0.0
    nobs = neg = same = 0
    prev = x[0]
    for i in range(len(x)):
        if i >= n:
            v = x[i - n]
            nobs -= 1
            y = -v - comp_rem
            t = sum_x + y
            comp_rem = t - sum_x - y
            sum_x = t
            neg -= math.copysign(1, v) < 0
        v = x[i]
        nobs += 1
        y = v - comp_add
        t = sum_x + y
        comp_add = t - sum_x - y
        sum_x = t
        neg += math.copysign(1, v) < 0
        same = same + 1 if v == prev else 1
        prev = v
        if nobs >= n:
            r = sum_x / nobs
            if same >= nobs:
                r = prev
            elif neg == 0 and r < 0:
                r = 0.0
            elif neg == nobs and r > 0:
                r = 0.0
            out[i] = r
    return out


def ulps(a, b):
    """Distance in units in the last place between two finite doubles of one sign."""
    ia = struct.unpack('<q', struct.pack('<d', a))[0]
    ib = struct.unpack('<q', struct.pack('<d', b))[0]
    return abs(ia - ib)


def part_walk(out):
    x = walk()
    xs = pd.Series(x)
    res = {'n': WALK_N, 'seed': WALK_SEED, 'x_sha256': sha_doubles(x),
           'x_samples': {str(i): x[i] for i in list(range(0, WALK_N, 4999)) + [WALK_N - 1]},
           'x_min': min(x), 'x_max': max(x), 'rolling': {}}
    diffs = []
    means = {}
    for n in (2, 10, 30, 50):
        m = xs.rolling(n).mean().values.tolist()
        means[n] = m
        nd = naive_delta(x, n)
        tl = talib_sma(x, n)
        d_nd = [i for i in range(n - 1, WALK_N) if m[i] != nd[i]]
        d_tl = [i for i in range(n - 1, WALK_N) if m[i] != tl[i]]
        res['rolling'][str(n)] = {
            'sha256': sha_doubles(m),
            'naive_delta_sha256': sha_doubles(nd),
            'talib_sha256': sha_doubles(tl),
            'every_4999th': {str(i): (None if math.isnan(m[i]) else m[i])
                             for i in range(0, WALK_N, 4999)},
            'last_100': [m[i] for i in range(WALK_N - 100, WALK_N)],
            'n_differ_from_pandas_algorithm': sum(
                1 for i, v in enumerate(pandas_roll_mean(x, n)) if i >= n - 1 and v != m[i]),
            'n_differ_from_naive_delta': len(d_nd),
            'n_differ_from_talib': len(d_tl),
        }
        for name, other, d in (('naive_delta', nd, d_nd), ('talib', tl, d_tl)):
            hist = {}
            for i in d:
                k = ulps(m[i], other[i])
                k = str(k) if k <= 8 else '>8'
                hist[k] = hist.get(k, 0) + 1
            res['rolling'][str(n)][name + '_ulp_histogram'] = hist
            res['rolling'][str(n)][name + '_max_abs_diff'] = max(
                (abs(m[i] - other[i]) for i in d), default=0.0)
        # Every difference would be ~230 MB: list those below DIFF_UPTO only.
        for i in sorted(set(d_nd) | set(d_tl)):
            if i >= DIFF_UPTO:
                break
            diffs.append({'n': n, 'i': i, 'pandas': m[i], 'naive_delta': nd[i], 'talib': tl[i]})
    eq = [i for i in range(29, WALK_N) if means[10][i] == means[30][i]]
    res['rolling10_eq_rolling30'] = [{'i': i, 'value': means[10][i]} for i in eq]
    with open(os.path.join(out, 'walk-rolling.json'), 'w') as f:
        json.dump(res, f, allow_nan=False, indent=1)
        f.write('\n')
    dump_jsonl(os.path.join(out, 'walk-rolling-diff.jsonl'), diffs)


def part_walkbt(out):
    x = np.array(walk())
    idx = pd.date_range('2020-01-01', periods=WALK_N, freq='min')
    df = pd.DataFrame({'Open': x, 'High': x, 'Low': x, 'Close': x}, index=idx)
    rows = []
    for cash, fin in ((10_000, True), (10_000, False), (10**12, True), (10**12, False)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            st = Backtest(df, SmaCross, cash=cash, finalize_trades=fin).run()
        s1 = SMA(x, 10).values
        s2 = SMA(x, 30).values
        ups = sum(cross_at(s1, s2, i) for i in range(30, WALK_N))
        downs = sum(cross_at(s2, s1, i) for i in range(30, WALK_N))
        opened, cash_end = open_at_end(st)
        rows.append({
            'data': 'walk (FIXTURES.md), O=H=L=C=x, 1-minute index from 2020-01-01',
            'strategy': 'SmaCross(10, 30)', 'cash': cash, 'finalize_trades': fin,
            'n_trades': int(st['# Trades']), 'equity_final': num(st['Equity Final [$]']),
            'return_pct': num(st['Return [%]']), 'crossovers_up': int(ups),
            'crossovers_down': int(downs), 'open_at_end': opened, 'cash_at_end': cash_end,
            'n_warnings': len(w),
            'warnings_first': sorted({str(m.message)[:120] for m in w})[:3],
        })
    dump_jsonl(os.path.join(out, 'walk-smacross.jsonl'), rows)


# (c) -----------------------------------------------------------------------
AGG = {'Open': 'first', 'High': 'max', 'Low': 'min', 'Close': 'last', 'Volume': 'sum'}


def part_resample(out):
    df = load('GOOG.csv')

    def write(rule, name, extra):
        r = df.resample(rule).agg(AGG)
        n_bins = len(r)
        r = r.dropna()
        r.insert(0, 'label', r.index.strftime('%Y-%m-%d'))
        for k, f in extra.items():
            r.insert(1, k, f(r.index))
        # first and last daily bar that fell into the bin
        first = df.index.to_series().resample(rule).min().reindex(r.index)
        last = df.index.to_series().resample(rule).max().reindex(r.index)
        r['first_bar'] = first.dt.strftime('%Y-%m-%d').values
        r['last_bar'] = last.dt.strftime('%Y-%m-%d').values
        r['n_bars'] = df.Close.resample(rule).count().reindex(r.index).values
        r['Volume'] = r['Volume'].astype(np.int64)
        r.to_csv(os.path.join(out, name), index=False, float_format=repr)
        return n_bins, len(r)

    res = {}
    res['W'] = write('W', 'GOOG-W.csv',
                     {'monday': lambda ix: (ix - pd.Timedelta(days=6)).strftime('%Y-%m-%d')})
    res['MS'] = write('MS', 'GOOG-MS.csv', {})
    res['M'] = write('M', 'GOOG-M.csv', {})
    with open(os.path.join(out, 'GOOG-resample.json'), 'w') as f:
        json.dump({k: {'bins': a, 'nonempty_bins': b} for k, (a, b) in res.items()}, f, indent=1)
        f.write('\n')


# (d) -----------------------------------------------------------------------
def part_fees(out):
    df = load('GOOG.csv')
    rows = []
    for comm in ((1.0, 0.0), (5.0, 0.001), (0, 0.002)):
        st = Backtest(df, SmaCross, commission=comm, finalize_trades=True).run()
        tr = trades_of(st)
        rows.append({'commission': list(comm), 'strategy': 'SmaCross(10, 30)',
                     'finalize_trades': True,
                     'equity_final': num(st['Equity Final [$]']),
                     'return_pct': num(st['Return [%]']),
                     'n_trades': int(st['# Trades']),
                     'commissions': num(st.get('Commissions [$]')),
                     'sharpe': num(st['Sharpe Ratio']),
                     'trades': tr})
    dump_jsonl(os.path.join(out, 'fees.jsonl'), rows)


# (e) -----------------------------------------------------------------------
def pandas_aliases_shim():
    """backtesting.py 0.6.6 resamples monthly/yearly equity with 'ME'/'YE', aliases that
    pandas only knows from 2.2 on.  Under an older pandas (Debian's 1.5.3), map them to
    the same offsets' old names 'M'/'A'; daily data never reaches this path."""
    major, minor = (int(v) for v in pd.__version__.split('.')[:2])
    if (major, minor) >= (2, 2):
        return
    old = {'ME': 'M', 'YE': 'A'}
    for cls in (pd.Series, pd.DataFrame):
        orig = cls.resample

        def resample(self, rule, *a, _orig=orig, **k):
            return _orig(self, old.get(rule, rule) if isinstance(rule, str) else rule, *a, **k)
        cls.resample = resample


def part_fractional(out):
    pandas_aliases_shim()
    btc = load('BTCUSD.csv')
    rows = []
    for data_name, data in (('BTCUSD', btc), ("BTCUSD['2015':]", btc['2015':])):
        for fast, slow in ((2, 3), (3, 6)):
            for unit in (1e-6, 1e-8):
                for cash in (100, 10_000):
                    for size in (None, 0.5):
                        with warnings.catch_warnings(record=True) as w:
                            warnings.simplefilter('always')
                            st = FractionalBacktest(data, SmaCross, fractional_unit=unit,
                                                    cash=cash, finalize_trades=True
                                                    ).run(fast=fast, slow=slow, size=size)
                        rows.append({
                            'data': data_name, 'fast': fast, 'slow': slow,
                            'fractional_unit': unit, 'cash': cash,
                            'order_size': size, 'finalize_trades': True,
                            'equity_final': num(st['Equity Final [$]']),
                            'return_pct': num(st['Return [%]']),
                            'n_trades': int(st['# Trades']),
                            'trade_sizes': [num(t) for t in st['_trades']['Size']],
                            'trades': trades_of(st),
                            'warnings': sorted({str(m.message)[:120] for m in w}),
                        })
    dump_jsonl(os.path.join(out, 'fractional.jsonl'), rows)


PARTS = {'grid': part_grid, 'walk': part_walk, 'walkbt': part_walkbt,
         'resample': part_resample, 'fees': part_fees, 'fractional': part_fractional}

if __name__ == '__main__':
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    sys.stderr.write(f'backtesting from {backtesting.__file__}; pandas {pd.__version__}, '
                     f'numpy {np.__version__}\n')
    for p in sys.argv[2:] or list(PARTS):
        PARTS[p](outdir)
