#!/usr/bin/env python3
"""bench-data.py - the benchmark's candles: N symbols x Y years of 1h klines
made from the real BTCUSDT and ETHUSDT series in tests/data/vision/.

Usage:
  bench-data.py [--symbols N] [--years Y] [--end ISO] [--src DIR]
                [--plain DIR2] DIR

  DIR            gets DIR/SYMBOL-1h.csv for tests/binance_server.py: Binance's
                 12 columns, times in ms, no header.
  --plain DIR2   also writes DIR2/ohlcv-1h.csv, ohlcv-4h.csv, ohlcv-1d.csv
                 (no header) for sqlite3's .import into a plain table
                 ohlcv(symbol, tf, timestamp, open, high, low, close,
                 volume, close_time, quote_volume, trades, taker_buy_base,
                 taker_buy_quote), and DIR2/load.sql that creates the table
                 and imports them (run it from DIR2: sqlite3 x.db <load.sql).
                 4h and 1d are aggregated by binance_server's own code, so
                 they equal what the server answers.
  --symbols N    default 60: S00USDT, S01USDT, ...
  --years Y      default 1 (Y x 8760 hours); 2 repeats the pattern.
  --end ISO      default 2025-11-01T00:00:00Z: the last candle closes at
                 end - 1 ms (end is floored to the hour).
  --src DIR      default tests/data/vision next to this script.

How (no random walks, all exact integer arithmetic, deterministic):
  1. The base series is BTCUSDT's 7 months (2024-11..2025-05), then
     ETHUSDT's 7 months with prices scaled so that its first open equals
     BTC's last close (volumes scaled inversely), then BTC again scaled to
     continue from there, and so on, cut to Y x 8760 rows.  The rows are
     re-timed to consecutive hours ending at --end.
  2. Symbol i scales prices by f = (10 + (37 i mod 90)) / 10^(2 + i mod 8)
     (so levels run from about 10^4 down to 10^-3) and volumes by 1/f.
  3. Prices are rounded half-even to the symbol's tick (about 6 significant
     digits: 10^(floor(log10 p0) - 5), within 1e-8..0.01), then high is
     raised to max(open, close, high) and low lowered to min(open, close,
     low), and no price is below one tick.  Volumes and taker buy volumes
     are rounded to the lot step (10^-ceil(log10 p0), within 1e-5..1).
     Quote volume and taker buy quote volume are recomputed so that the
     volume-weighted price of the row is exactly the scaled source's
     (qv' = qv * v' / (v / f)), 8 decimals.  Trades are the source's.
"""

import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import binance_server as bs  # noqa: E402

E8 = bs.E8
HOUR = bs.HOUR
YEAR_H = 8760


def rdiv(a, b):
    """a/b rounded half-even, for integers, b > 0."""
    q, r = divmod(a, b)
    if 2 * r > b or (2 * r == b and q & 1):
        q += 1
    return q


def base_series(src, n):
    """n rows of (tuple, scale numerator, scale denominator)."""
    segs = []
    for sym in ("BTCUSDT", "ETHUSDT"):
        files = sorted(os.path.join(src, f) for f in os.listdir(src)
                       if f.startswith(sym + "-1h-") and f.endswith(".csv"))
        if not files:
            sys.exit("bench-data: no %s-1h-*.csv in %s" % (sym, src))
        segs.append(list(bs.load_series(files, "1h").tuples()))
    out = []
    num, den = 1, 1     # the segment's price scale
    k = 0
    while True:
        seg = segs[k % 2]
        for t in seg:
            out.append((t, num, den))
            if len(out) == n:
                return out
        k += 1
        nxt = segs[k % 2]
        # The next segment's first open, scaled, is this one's last close.
        num, den = seg[-1][bs.C] * num, den * nxt[0][bs.O]
        g = math.gcd(num, den)
        num, den = num // g, den // g


def pow10(e):
    """10^e as a 1e-8 fixed-point integer (e >= -8)."""
    return 10 ** (e + 8)


def symbol_rows(base, i, start):
    """The rows of symbol i: tuples OT..TBQ."""
    fn = 10 + (37 * i) % 90
    fd = 10 ** (2 + i % 8)
    p0 = base[0][0][bs.O] * base[0][1] * fn / (base[0][2] * fd * E8)
    tick = pow10(max(-8, min(-2, math.floor(math.log10(p0)) - 5)))
    step = pow10(max(-5, min(0, -math.ceil(math.log10(p0)))))
    rows = []
    for j, (t, kn, kd) in enumerate(base):
        sn, sd = kn * fn, kd * fd          # scale = sn/sd

        def price(x):
            return max(tick, rdiv(x * sn, sd * tick) * tick)
        o, c = price(t[bs.O]), price(t[bs.C])
        h = max(price(t[bs.H]), o, c)
        lo = min(price(t[bs.L]), o, c)
        v, tbv = t[bs.V], t[bs.TBV]
        v2 = rdiv(v * sd, sn * step) * step
        tb2 = min(v2, rdiv(tbv * sd, sn * step) * step)
        qv2 = rdiv(t[bs.QV] * v2 * sn, v * sd) if v else 0
        tq2 = min(qv2, rdiv(t[bs.TBQ] * tb2 * sn, tbv * sd)) if tbv else 0
        ot = start + j * HOUR
        rows.append((ot, o, h, lo, c, v2, ot + HOUR - 1, qv2, t[bs.N], tb2,
                     tq2))
    return rows


def csv_line(t, f8=bs.f8):
    return "%d,%s,%s,%s,%s,%s,%d,%s,%d,%s,%s" % (
        t[0], f8(t[1]), f8(t[2]), f8(t[3]), f8(t[4]), f8(t[5]), t[6],
        f8(t[7]), t[8], f8(t[9]), f8(t[10]))


LOAD_SQL = """\
CREATE TABLE IF NOT EXISTS ohlcv(symbol TEXT, tf TEXT, timestamp INTEGER,
  open REAL, high REAL, low REAL, close REAL, volume REAL,
  close_time INTEGER, quote_volume REAL, trades INTEGER,
  taker_buy_base REAL, taker_buy_quote REAL);
.mode csv
.import ohlcv-1h.csv ohlcv
.import ohlcv-4h.csv ohlcv
.import ohlcv-1d.csv ohlcv
"""


def main():
    p = argparse.ArgumentParser(description="Synthesise benchmark klines.")
    p.add_argument("dir")
    p.add_argument("--plain", metavar="DIR2")
    p.add_argument("--symbols", type=int, default=60)
    p.add_argument("--years", type=int, default=1)
    p.add_argument("--end", default="2025-11-01T00:00:00Z")
    p.add_argument("--src", default=os.path.join(HERE, "..", "tests", "data",
                                                 "vision"))
    a = p.parse_args()
    if not 1 <= a.symbols <= 1000 or a.years < 1:
        p.error("--symbols 1..1000, --years >= 1")
    end = bs.srvlib.iso_to_ms(a.end) // HOUR * HOUR
    n = a.years * YEAR_H
    start = end - n * HOUR
    base = base_series(a.src, n)
    os.makedirs(a.dir, exist_ok=True)
    plain = {}
    if a.plain:
        os.makedirs(a.plain, exist_ok=True)
        for tf in ("1h", "4h", "1d"):
            plain[tf] = open(os.path.join(a.plain, "ohlcv-%s.csv" % tf), "w")
        with open(os.path.join(a.plain, "load.sql"), "w") as f:
            f.write(LOAD_SQL)
    fmt = "S%02dUSDT" if a.symbols <= 100 else "S%03dUSDT"
    for i in range(a.symbols):
        sym = fmt % i
        rows = symbol_rows(base, i, start)
        with open(os.path.join(a.dir, sym + "-1h.csv"), "w") as f:
            f.write("".join(csv_line(t) + ",0\n" for t in rows))
        if plain:
            s = bs.Series.from_tuples("1h", rows, rows=[None] * len(rows))
            series = {"1h": s, "4h": bs.aggregate(s, "4h")}
            series["1d"] = bs.aggregate(series["4h"], "1d")
            for tf, ser in series.items():
                plain[tf].write("".join("%s,%s,%s\n" % (sym, tf, csv_line(t))
                                        for t in ser.tuples()))
    for f in plain.values():
        f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
