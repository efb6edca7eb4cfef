#!/usr/bin/env python3
"""binance_server.py - a local stand-in for Binance's spot REST API and the
USD-M futures market-data endpoints, on one port, for bt's tests and bench.

Usage:
  binance_server.py --data DIR|FILE [--data ...] [--ready PATH] [--log PATH]
                    [--ctl PATH] [--now TIME] [--weight-limit N]
                    [--eager LIST] [--verbose]
--ready, --log, --ctl, --now, --verbose: see srvlib.py (the common part).
  --data          a directory of kline files, or one file; repeatable.  The
                  symbol set is the set of symbols found in the file names.
  --weight-limit  REQUEST_WEIGHT per minute (default 6000).
  --eager         intervals aggregated at load time (default 1h,4h,1d); the
                  others are aggregated on first use and then kept.

Data files.  SYMBOL-INTERVAL.csv or SYMBOL-INTERVAL.json; a suffix after the
interval is allowed and files of one (symbol, interval) are merged, so
data.binance.vision's monthly files (BTCUSDT-1h-2024-11.csv) load as they
are.  Underscores are dropped from the symbol (freqtrade's BTC_USDT-1h.json
is BTCUSDT).  Other file names are ignored.
  CSV: Binance's 12 columns; a header line is skipped; open and close times
       above 1e14 are µs and become ms.  Values are served as given (the
       real 2023-03-24 halt candle keeps its odd close time).
  JSON: freqtrade's [[ms,o,h,l,c,v],...] (or 12-field REST rows).  Missing
       fields are made up deterministically: close_time = open+iv-1, quote
       volume = v*close (8 decimals), trades = 1 per 1000 quote units plus 1
       (0 when v is 0), taker base/quote = half of volume/quote.
Numbers are kept as fixed-point integers in units of 1e-8: exact, like
Decimal, and faster.  Inputs with more than 8 decimals are rounded half-even.

Speed.  Every row is rendered to its JSON text once, at load (aggregates
when made); a page is a bisect on the open times and a join.  On the 2-CPU
machine this was written on, 60 symbols x 8760 1h rows (scripts/bench-data.py)
load with their 4h and 1d in about 3.5 s, and curl pages through all of
1h, 4h and 1d (780 requests of up to 1000 rows, 120 MB) in about 0.4 s.

Aggregation.  An interval without a file is aggregated from the finest
interval with a file that divides it: open first, high max, low min, close
last; volume, quote volume, trades, taker base and quote are summed;
close_time = open+iv-1; a bucket exists when any source row falls in it (a
missing hour does not drop its day, as on Binance).  Buckets are UTC, epoch
aligned; 1w starts on Monday 00:00 UTC and 1M on the 1st.  An interval that
cannot be derived (1m from 1h) is answered with [].

Time.  Server time = ctl "now", else --now, else real time.  Rows that open
after now are not served.  /api/v3/time answers that time plus ctl
"time_offset" (ms; a wrong exchange clock: the candles still follow "now"),
in microseconds when ctl "time_unit" is "us"; with ctl "time_delay"
(seconds) it sleeps that long before it reads a real clock (none of "now"
and --now), so that a "stall" fault after it puts the reading in the
middle of the round trip.  The candle whose interval contains now is the
open candle: its close_time is after now, O=H=L=C=its open, and volume,
quote volume, trades and taker volumes are the full values scaled by the
elapsed share (floor).

Endpoints (weight):
  GET /api/v3/ping (1)  {}            GET /api/v3/time (1) {"serverTime":now}
  GET /api/v3/klines (2)  symbol interval [startTime] [endTime] [limit]
      limit default 500, 1..1000.  Times in ms, or µs (> 1e14).  No start or
      end: the newest `limit`; start only: the oldest from start; end only:
      the newest up to end; both: from start, capped at end.  A startTime
      after endTime gives [].  timeZone is ignored (always UTC).  An
      interval that has files of its own is served from them only (it is
      not completed from finer data).
  GET /api/v3/exchangeInfo (20)  [symbol=X | symbols=["A","B"]]
      [symbolStatus=TRADING|HALT|BREAK].  tickSize and stepSize are the
      largest powers of ten that divide all prices and volumes in the data.
  GET /api/v3/ticker/24hr  [symbol | symbols] [type=FULL|MINI]; weight 2 for
      one symbol or 1-20, 40 for 21-100, 80 for none or 101+.  Computed from
      the 1h candles with open time in (now-24h, now], the open candle
      partial.  firstId/lastId count trades from the first candle loaded.
  GET /fapi/v1/ping, /fapi/v1/time (1)
  GET /fapi/v1/fundingRate (1)  [symbol] [startTime] [endTime] [limit]
      limit default 100, max 1000; every 8h at 00/08/16 UTC (4h for the
      symbols in ctl "funding_4h"), fundingTime plus 0-15 ms of fixed
      jitter.  Rate = P + clamp(0.01% - P, -0.05%, +0.05%) with premium P =
      0.03 x the 8h return of the closes, clamped to +-0.3%, 8 decimals;
      rates below 1e-5 in magnitude are written like Java, "8.4E-7", as the
      archives do.  markPrice = the close at fundingTime.  Without a
      symbol, all futures symbols, merged by time.
  GET /futures/data/openInterestHist, globalLongShortAccountRatio,
      topLongShortAccountRatio, topLongShortPositionRatio,
      takerlongshortRatio (0)  symbol period [startTime] [endTime] [limit]
      period 5m 15m 30m 1h 2h 4h 6h 12h 1d; limit default 30, max 500.  A row
      at timestamp t (a multiple of the period) is a snapshot at t; taker
      volumes cover [t-period, t).  Only t in [now-30d, now] is served; a
      startTime more than 31 days back is refused as on Binance with 400
      {"code":-1130,"msg":"parameter 'startTime' is invalid."}.
      openInterest = 0.6 x the base volume of the 24 h before t; the
      long/short accounts lean with the 24 h return; taker volumes come
      from the candles' taker volumes (sub-hour periods pro rata).
  Futures symbols = spot symbols + the keys of ctl "futures_alias"
  ({"1000PEPEUSDT":"PEPEUSDT"} serves PEPEUSDT's data; a leading number that
  makes the spot name is a multiplier for prices and divisor for volumes).

Errors: 400 {"code":-1102,...} missing symbol/interval; -1100 illegal
characters; -1120 bad interval; -1121 unknown symbol; -1130 bad limit;
-1128 symbol and symbols together.  Unknown paths: 404 text/html.

Rate limit.  Every response has X-MBX-USED-WEIGHT-1M and X-MBX-USED-WEIGHT:
the weight used in the current minute, counting this request (refused ones
count too).  Minutes are measured on the monotonic clock from the first
request after start or after a ctl change (not from calendar minutes as on
Binance), so a test that changes ctl and then sends a burst never sees the
window roll over in the middle.  A request that takes it over the limit
gets 429, Retry-After = seconds to the end of the minute, and
{"code":-1003,"msg":"Too much request weight used; current limit is N ..."}.
Refused requests are numbered within the minute; the one numbered
ban_after+1 (default: the fourth, i.e. ban_after more after the first 429)
is answered 418 and starts a ban of ban_seconds (default 120), during which
every request gets 418 with Retry-After = seconds left and "IP banned until
<ms>" (server time).  A ctl change clears weight and ban.

ctl keys:
  "now"              server time (ms or ISO 8601)
  "faults"           fault rules, see srvlib.py
  "weight_limit"     overrides --weight-limit
  "ban_after"        default 3;   "ban_seconds"  default 120
  "retry_after"      overrides Retry-After (and the ban time) of 429/418
  "status"           {"SYM":"BREAK"|"HALT"|...} exchangeInfo status
  "delisted"         ["SYM"]: status BREAK, and no candle (or funding, or
                     futures data) at or after its delisting time
  "delisted_at"      the delisting time: one time for all, or {"SYM":time}
                     (default: now, i.e. nothing is cut)
  "funding_4h"       ["SYM"] funding every 4h
  "futures_alias"    {"FUTSYM":"SPOTSYM"}
  "string_timestamps" true: futures/data timestamps as strings
  "time_offset"      ms added to /api/v3/time's serverTime (may be < 0)
  "time_unit"        "us": /api/v3/time's serverTime in microseconds
  "time_delay"       seconds /api/v3/time waits before reading the clock

Faults (besides srvlib's status, html, stall, stall_body, reset, truncate,
cut_body;
a "status" fault of 429 or 418 without a body gets Binance's -1003 body and
Retry-After 60 or 120 unless the rule sets "retry_after"; 5xx get -1001,
-1008 (503) or -1007 (504)):
  "invalid_symbol"  400 -1121          "empty"          200 []
  "wrong_type"      first row: field 1 (open) as a JSON number; "field":N
                    chooses the field, a number field (0, 6, 8) becomes a
                    string.  Futures rows: the first numeric string field
                    becomes a number, or "field":"name" flips that field.
  "malformed_row"   first row has 11 elements (futures: loses its last key)
  "unparsable"      first row's field 1 (or "field") is "abc"
  "out_of_order"    the first two rows swapped
  "duplicate"       the first row repeated
  "high_below_low"  first row's high and low swapped (klines only)
  "outside_window"  a row from before the window (before startTime) first
  "set"             a row's fields replaced: "row" (default 0; < 0 counts
                    from the end), "values" {"FIELD": value} with FIELD a
                    column number (klines: 2 is high, 4 close, 5 volume) or,
                    for futures rows, a key; each value goes in as given
                    ("1e308" stays a string, a number a number)
  "overlong"        klines: the page plus the "extra" (default 3) newest
                    rows after it, past the limit asked for
  "wrong_symbol"    futures rows: every "symbol" becomes "as" (default
                    XRPUSDT), as if the answer were another contract's
The transport faults apply to every endpoint; the data faults to klines,
fundingRate and futures/data (a fault that cannot apply leaves the answer
alone but is still logged).
"""

import array
import bisect
import calendar
import datetime
import itertools
import json
import math
import operator
import os
import re
import sys
import threading
import zlib
from decimal import ROUND_HALF_EVEN, Decimal

sys.dont_write_bytecode = True    # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srvlib  # noqa: E402

E8 = 10**8
MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000
WEEK = 7 * DAY
WEEK_OFFSET = 4 * DAY  # 1970-01-05 was a Monday
IV_MS = {"1s": 1000, "1m": MIN, "3m": 3 * MIN, "5m": 5 * MIN,
         "15m": 15 * MIN, "30m": 30 * MIN, "1h": HOUR, "2h": 2 * HOUR,
         "4h": 4 * HOUR, "6h": 6 * HOUR, "8h": 8 * HOUR, "12h": 12 * HOUR,
         "1d": DAY, "3d": 3 * DAY, "1w": WEEK, "1M": None}
PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
FILE_RE = re.compile(r"^([A-Z0-9_]+)-(1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|"
                     r"1d|3d|1w|1M|1mo)(-[^/]*)?\.(csv|json)$")
SYMBOL_RE = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB",
          "EUR", "TRY", "BRL", "JPY", "DAI")
JSON_CT = "application/json;charset=UTF-8"
Q8 = Decimal("1e-8")

# Row columns.
OT, O, H, L, C, V, CT, QV, N, TBV, TBQ = range(11)
DECIMAL_COLS = (O, H, L, C, V, QV, TBV, TBQ)


# --- Numbers -------------------------------------------------------------

def fx(s):
    """A decimal string (or number) to an integer in units of 1e-8."""
    if isinstance(s, str):
        i = s.find(".")
        if i > 0 and len(s) - i == 9 and s[0] != "-":
            return int(s[:i] + s[i + 1:])
    elif isinstance(s, int):
        return s * E8
    elif isinstance(s, float):
        s = repr(s)
    d = Decimal(s).quantize(Q8, rounding=ROUND_HALF_EVEN)
    return int(d.scaleb(8))


def f8(x):
    """Fixed-point 1e-8 integer to "123.45000000"."""
    if x < 0:
        return "-" + f8(-x)
    return "%d.%08d" % divmod(x, E8)


def fdec(num, den, places):
    """num/den rounded half-even to `places` decimals, as a string."""
    if den == 0:
        return "0." + "0" * places if places else "0"
    d = (Decimal(num) / Decimal(den)).quantize(Decimal(1).scaleb(-places),
                                               rounding=ROUND_HALF_EVEN)
    return "%.*f" % (places, d) if places else str(int(d))


def java_small(x):
    """An 8-decimal fixed-point rate as Binance's archives write it: plain
    8 decimals, but E-notation ("8.4E-7") below 1e-5 in magnitude."""
    if x == 0 or abs(x) >= 1000:
        return f8(x)
    digits = str(abs(x))
    exp = -8 + len(digits) - 1
    digits = digits.rstrip("0")
    return "%s%s.%sE%d" % ("-" if x < 0 else "", digits[0],
                           digits[1:] or "0", exp)


# --- Series and aggregation ----------------------------------------------

def bucket_start(iv, t):
    """The open time of the `iv` bucket that holds time t (ms)."""
    ms = IV_MS[iv]
    if iv == "1M":
        d = datetime.datetime.fromtimestamp(t // 1000, datetime.timezone.utc)
        return calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000
    if iv == "1w":
        return t - (t - WEEK_OFFSET) % WEEK
    return t - t % ms


def bucket_end(iv, start):
    """The open time of the bucket after the one opening at `start`."""
    if iv == "1M":
        d = datetime.datetime.fromtimestamp(start // 1000,
                                            datetime.timezone.utc)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return calendar.timegm((y, m, 1, 0, 0, 0)) * 1000
    return start + IV_MS[iv]


def divides(src, dst):
    """True when every `dst` bucket is a union of whole `src` buckets."""
    s = IV_MS[src]
    if s is None or src == dst:
        return False
    if dst == "1M":
        return DAY % s == 0
    d = IV_MS[dst]
    if d % s:
        return False
    return dst != "1w" or WEEK_OFFSET % s == 0


ROW_FMT = ('[%d,"%d.%08d","%d.%08d","%d.%08d","%d.%08d","%d.%08d",%d,'
           '"%d.%08d",%d,"%d.%08d","%d.%08d","0"]')


def render(t):
    """A row tuple (OT..TBQ) as Binance's JSON text."""
    ot, o, h, lo, c, v, ct, qv, n, tbv, tbq = t
    if min(o, h, lo, c, v, qv, tbv, tbq) < 0:
        return '[%d,"%s","%s","%s","%s","%s",%d,"%s",%d,"%s","%s","0"]' % (
            ot, f8(o), f8(h), f8(lo), f8(c), f8(v), ct, f8(qv), n, f8(tbv),
            f8(tbq))
    return ROW_FMT % (ot, o // E8, o % E8, h // E8, h % E8, lo // E8,
                      lo % E8, c // E8, c % E8, v // E8, v % E8, ct,
                      qv // E8, qv % E8, n, tbv // E8, tbv % E8, tbq // E8,
                      tbq % E8)


def _column(values):
    try:
        return array.array("q", values)
    except OverflowError:
        return list(values)


class Series:
    """Candles of one (symbol, interval), sorted by open time: eleven
    columns (OT..TBQ) and each row pre-rendered as its JSON text."""

    __slots__ = ("iv", "origin", "cols", "rows", "_prefix")

    def __init__(self, iv, cols, rows, origin=None):
        self.iv = iv
        self.origin = origin or iv
        self.cols = cols
        self.rows = rows
        self._prefix = {}

    @classmethod
    def from_tuples(cls, iv, tuples, rows=None, origin=None):
        """tuples: sorted (OT..TBQ) tuples; rows: their JSON texts (made
        with render() when not given)."""
        cols = [_column(c) for c in zip(*tuples)] if tuples else \
            [array.array("q") for _ in range(11)]
        if rows is None:
            rows = [render(t) for t in tuples]
        return cls(iv, cols, rows, origin)

    @classmethod
    def from_cols(cls, iv, cols, origin=None):
        """cols: eleven lists, rows sorted by open time."""
        return cls(iv, [_column(c) for c in cols], render_cols(cols), origin)

    @property
    def opens(self):
        return self.cols[OT]

    def __len__(self):
        return len(self.rows)

    def row(self, i):
        c = self.cols
        return (c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i],
                c[6][i], c[7][i], c[8][i], c[9][i], c[10][i])

    def tuples(self):
        return zip(*self.cols)

    def prefix(self, col):
        """Prefix sums of a column (cached): p[i] = sum of rows < i."""
        p = self._prefix.get(col)
        if p is None:
            p = [0]
            p.extend(itertools.accumulate(self.cols[col]))
            self._prefix[col] = p
        return p


def render_cols(cols):
    """render() for whole columns at once (much faster)."""
    if any(min(cols[k], default=0) < 0 for k in DECIMAL_COLS):
        return [render(t) for t in zip(*cols)]
    args = []
    rep = itertools.repeat(E8)
    for k in range(11):
        if k in (OT, CT, N):
            args.append(cols[k])
        else:
            args.append(list(map(operator.floordiv, cols[k], rep)))
            args.append(list(map(operator.mod, cols[k], rep)))
    return list(map(COLS_FORMAT, *args))


COLS_FORMAT = ('[{},"{}.{:08d}","{}.{:08d}","{}.{:08d}","{}.{:08d}",'
               '"{}.{:08d}",{},"{}.{:08d}",{},"{}.{:08d}","{}.{:08d}",'
               '"0"]').format


def _agg_slow(src, iv, a, n, out):
    """Aggregates rows [a, n) of src bucket by bucket into `out` (a list
    of 11 column lists)."""
    opens = src.opens
    o_, h_, l_, c_, v_, qv_, n_, tbv_, tbq_ = (src.cols[k] for k in (
        O, H, L, C, V, QV, N, TBV, TBQ))
    bl = bisect.bisect_left
    while a < n:
        start = bucket_start(iv, opens[a])
        end = bucket_end(iv, start)
        b = min(n, bl(opens, end, a))
        for k, x in enumerate((start, o_[a], max(h_[a:b]), min(l_[a:b]),
                               c_[b - 1], sum(v_[a:b]), end - 1,
                               sum(qv_[a:b]), sum(n_[a:b]), sum(tbv_[a:b]),
                               sum(tbq_[a:b]))):
            out[k].append(x)
        a = b


def aggregate(src, iv):
    """Aggregates Series `src` into interval `iv`, as Binance does."""
    opens = src.opens
    n = len(opens)
    out = [[] for _ in range(11)]
    s, d = IV_MS.get(src.iv), IV_MS[iv]
    regular = n > 1 and s and d and iv != "1w" and d % s == 0 and \
        opens[-1] - opens[0] == (n - 1) * s and opens[0] % s == 0
    if not regular:
        _agg_slow(src, iv, 0, n, out)
        return Series.from_cols(iv, out, src.origin)
    # Gap-free and on the grid: whole buckets are every k rows, done with
    # strided slices; the partial buckets at both ends bucket by bucket.
    k = d // s
    first = opens[0]
    a0 = 0 if first % d == 0 else (d - first % d) // s
    a0 = min(a0, n)
    m = (n - a0) // k
    e = a0 + m * k
    _agg_slow(src, iv, 0, a0, out)
    if m:
        cols = src.cols

        def strided(col, j):
            return cols[col][a0 + j:e:k]

        def total(col):
            acc = list(strided(col, 0))
            for j in range(1, k):
                acc = list(map(operator.add, acc, strided(col, j)))
            return acc
        b0 = opens[a0]
        mid = [list(range(b0, b0 + m * d, d)), list(strided(O, 0)),
               list(map(max, *(strided(H, j) for j in range(k)))) if k > 1
               else list(strided(H, 0)),
               list(map(min, *(strided(L, j) for j in range(k)))) if k > 1
               else list(strided(L, 0)),
               list(strided(C, k - 1)), total(V),
               list(range(b0 + d - 1, b0 + m * d, d)), total(QV), total(N),
               total(TBV), total(TBQ)]
        for c, x in zip(out, mid):
            c.extend(x)
    _agg_slow(src, iv, e, n, out)
    return Series.from_cols(iv, out, src.origin)


# --- Loading ---------------------------------------------------------------

# A data.binance.vision line whose decimals all have 8 places: its fixed-
# point integers are just its fields without the dots.
CANON = re.compile(r"^\d+(?:,\d+\.\d{8}){5},\d+,\d+\.\d{8},\d+"
                   r"(?:,\d+\.\d{8}){2},\d+$")


def _csv_rows(path):
    """Yields (open_ms, json_text, tuple) from a 12-column kline CSV."""
    canon = CANON.match
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if canon(line):
                p = line.split(",")
                t = list(map(int, line.replace(".", "").split(",")))
                if t[0] > 10**14:
                    t[0] //= 1000
                    p[0] = str(t[0])
                if t[6] > 10**14:
                    t[6] //= 1000
                    p[6] = str(t[6])
                yield t[0], ('[' + p[0] + ',"' + '","'.join(p[1:6]) +
                             '",' + p[6] + ',"' + p[7] + '",' + p[8] +
                             ',"' + p[9] + '","' + p[10] + '","0"]'), \
                    tuple(t[:11])
                continue
            p = line.split(",")
            if not p[0].isdigit():
                continue  # header or blank
            if len(p) < 11:
                raise ValueError("%s: short row: %s" % (path, line))
            ot = int(p[0])
            ct = int(p[6])
            if ot > 10**14:
                ot //= 1000
            if ct > 10**14:
                ct //= 1000
            t = (ot, fx(p[1]), fx(p[2]), fx(p[3]), fx(p[4]), fx(p[5]), ct,
                 fx(p[7]), int(p[8]), fx(p[9]), fx(p[10]))
            yield ot, render(t), t


def _json_rows(path, iv):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    ivms = IV_MS[iv]
    for r in data:
        ot = int(r[0])
        if ot > 10**14:
            ot //= 1000
        if len(r) >= 11:
            ct = int(r[6])
            if ct > 10**14:
                ct //= 1000
            t = (ot, fx(r[1]), fx(r[2]), fx(r[3]), fx(r[4]), fx(r[5]), ct,
                 fx(r[7]), int(r[8]), fx(r[9]), fx(r[10]))
        else:
            o, h, l, c, v = (fx(x) for x in r[1:6])
            qv = v * c // E8
            n = 0 if v == 0 else 1 + qv // (1000 * E8)
            ct = (bucket_end(iv, ot) if ivms is None else ot + ivms) - 1
            t = (ot, o, h, l, c, v, ct, qv, n, v // 2, qv // 2)
        yield ot, render(t), t


ROW_FORMAT = '[{},"{}","{}","{}","{}","{}",{},"{}",{},"{}","{}","0"]'.format


def _fast_csv(path):
    """A whole file whose decimals all have exactly 8 places, the usual
    case, column by column at C speed: (columns, texts), or None when the
    file is not like that (then _csv_rows reads it line by line)."""
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\r", "").strip()
    if text[:1].isalpha():
        text = text[text.find("\n") + 1:] if "\n" in text else ""  # header
    if not text:
        return None
    fields = text.replace("\n", ",").split(",")
    if len(fields) % 12:
        return None
    scol = [fields[k::12] for k in range(11)]
    n = len(scol[0])
    rep, nodot = itertools.repeat, itertools.repeat("")
    cols = [None] * 11
    try:
        for k in (OT, CT, N):
            cols[k] = list(map(int, scol[k]))
        for k in DECIMAL_COLS:
            c = scol[k]
            # Exactly 8 decimals: then the integer of 1e-8 units is the
            # field without its dot.
            if list(map(operator.sub, map(len, c),
                        map(str.find, c, rep(".")))) != [9] * n:
                return None
            cols[k] = list(map(int, map(str.replace, c, rep("."), nodot)))
    except ValueError:
        return None
    if min(min(c) for c in cols) < 0:
        return None
    for k in (OT, CT):
        if max(cols[k]) > 10**14:
            cols[k] = [x // 1000 if x > 10**14 else x for x in cols[k]]
            scol[k] = list(map(str, cols[k]))
    texts = list(map(ROW_FORMAT, *scol))
    return [_column(c) for c in cols], texts


def load_series(paths, iv):
    """Loads and merges the files of one (symbol, interval); where files
    overlap, the later file (in name order) wins."""
    parts = []
    for path in sorted(paths):
        fast = _fast_csv(path) if path.endswith(".csv") else None
        if fast is None:
            gen = _csv_rows(path) if path.endswith(".csv") else \
                _json_rows(path, iv)
            rows = list(gen)
            fast = ([_column([r[2][k] for r in rows]) for k in range(11)],
                    [r[1] for r in rows])
        parts.append(fast)
    if len(parts) == 1:
        cols, texts = parts[0]
    else:
        cols = [_column([x for p in parts for x in p[0][k]])
                for k in range(11)]
        texts = [x for p in parts for x in p[1]]
    opens = list(cols[OT])
    if any(a >= b for a, b in zip(opens, opens[1:])):
        byot = {}
        for i, ot in enumerate(opens):
            byot[ot] = i
        keep = [byot[k] for k in sorted(byot)]
        cols = [_column([c[i] for i in keep]) for c in cols]
        texts = [texts[i] for i in keep]
    return Series(iv, cols, texts)


def scan(paths):
    """Maps (symbol, interval) to the data files found under `paths`."""
    found = {}
    for p in paths:
        files = [p] if os.path.isfile(p) else \
            [os.path.join(p, n) for n in sorted(os.listdir(p))]
        for path in files:
            m = FILE_RE.match(os.path.basename(path))
            if not m:
                continue
            sym = m.group(1).replace("_", "")
            iv = "1M" if m.group(2) == "1mo" else m.group(2)
            found.setdefault((sym, iv), []).append(path)
    return found


class Market:
    """All candles: files as loaded, plus aggregates made once."""

    def __init__(self, paths, eager=("1h", "4h", "1d")):
        self.lock = threading.Lock()
        self.sources = {}   # symbol -> {iv: Series}
        self.built = {}     # symbol -> {iv: Series or None}
        self.info = {}      # symbol -> (tick, step) cache
        for (sym, iv), files in sorted(scan(paths).items()):
            self.sources.setdefault(sym, {})[iv] = load_series(files, iv)
            self.built.setdefault(sym, {})
        for sym in self.sources:
            for iv in eager:
                self.series(sym, iv)

    def symbols(self):
        return sorted(self.sources)

    def series(self, sym, iv):
        """The Series of (sym, iv), or None when it cannot be derived."""
        src = self.sources.get(sym)
        if src is None:
            return None
        s = src.get(iv)
        if s is not None:
            return s
        built = self.built[sym]
        if iv in built:
            return built[iv]
        with self.lock:
            if iv in built:
                return built[iv]
            fine = [k for k in src if divides(k, iv)]
            if not fine:
                built[iv] = None
                return None
            finest = min(fine, key=lambda k: IV_MS[k])
            # Start from the coarsest aggregate of the same origin that
            # divides iv: the sums are the same, the work is less.
            cands = [(IV_MS[k], s) for k, s in built.items()
                     if s is not None and s.origin == finest and
                     divides(k, iv)]
            base = max(cands, key=lambda x: x[0])[1] if cands else \
                src[finest]
            built[iv] = aggregate(base, iv)
            return built[iv]

    def finest(self, sym):
        src = self.sources[sym]
        return src[min(src, key=lambda k: IV_MS[k] or 31 * DAY)]

    def hourly(self, sym):
        """The 1h series, or the finest one there is."""
        return self.series(sym, "1h") or self.finest(sym)

    def tick_step(self, sym):
        """(tickSize, stepSize) as fixed-point integers."""
        r = self.info.get(sym)
        if r is None:
            s = self.finest(sym)
            g = math.gcd(*s.cols[O], *s.cols[H], *s.cols[L], *s.cols[C])
            gv = math.gcd(*s.cols[V])

            def p10(g):
                t = 1
                while t < E8 and g % (t * 10) == 0:
                    t *= 10
                return t
            r = self.info[sym] = (p10(g), p10(gv))
        return r


# --- Faults on row lists ----------------------------------------------------

class Raw(str):
    """A JSON token written as is (a number where a string belongs)."""


def dumps(v):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dumps(x)
                              for k, x in v.items()) + "}"
    return json.dumps(v, separators=(",", ":"))


def kline_fault(name, rule, rows, before):
    """Applies a data fault to a page of kline JSON texts.  `before` is the
    text of the row just before the page (or None)."""
    if not rows and name != "outside_window":
        return rows
    rows = list(rows)
    first = json.loads(rows[0]) if rows else None
    if name == "wrong_type":
        k = int(rule.get("field", 1))
        if k in (OT, CT, N):
            first[k] = str(first[k])
        else:
            first[k] = Raw(first[k])
        rows[0] = dumps(first)
    elif name == "malformed_row":
        rows[0] = dumps(first[:11])
    elif name == "unparsable":
        first[int(rule.get("field", 1))] = "abc"
        rows[0] = dumps(first)
    elif name == "out_of_order" and len(rows) > 1:
        rows[0], rows[1] = rows[1], rows[0]
    elif name == "duplicate":
        rows.insert(1, rows[0])
    elif name == "high_below_low":
        h, lo = fx(first[H]), fx(first[L])
        if h == lo:
            h = lo - max(1, lo // 1000)
        first[H], first[L] = f8(lo), f8(h)
        rows[0] = dumps(first)
    elif name == "set":
        k = int(rule.get("row", 0))
        row = json.loads(rows[k])
        for f, v in (rule.get("values") or {}).items():
            row[int(f)] = v
        rows[k] = dumps(row)
    elif name == "outside_window":
        if before is None and first is not None:
            iv = first[CT] - first[OT] + 1
            b = list(first)
            b[OT] -= iv
            b[CT] -= iv
            before = dumps(b)
        if before is not None:
            rows.insert(0, before)
    return rows


def dict_fault(name, rule, rows, step):
    """Applies a data fault to a list of futures row dicts."""
    if not rows:
        return rows
    rows = [dict(r) for r in rows]
    first = rows[0]
    tkey = "fundingTime" if "fundingTime" in first else "timestamp"
    numeric = [k for k, v in first.items() if isinstance(v, str) and
               k not in ("symbol", tkey)]
    if name == "wrong_type":
        k = rule.get("field")
        if k is None:
            k = numeric[0] if numeric else tkey
        v = first.get(k)
        first[k] = Raw(v) if isinstance(v, str) and not isinstance(v, Raw) \
            else str(v)
    elif name == "malformed_row":
        first.pop(list(first)[-1])
    elif name == "unparsable":
        k = rule.get("field") or (numeric[0] if numeric else tkey)
        first[k] = "abc"
    elif name == "out_of_order" and len(rows) > 1:
        rows[0], rows[1] = rows[1], rows[0]
    elif name == "duplicate":
        rows.insert(1, dict(first))
    elif name == "outside_window":
        b = dict(first)
        t = int(b[tkey]) - step
        b[tkey] = str(t) if isinstance(b[tkey], str) else t
        rows.insert(0, b)
    elif name == "set":
        rows[int(rule.get("row", 0))].update(rule.get("values") or {})
    elif name == "wrong_symbol":
        for r in rows:
            if "symbol" in r:
                r["symbol"] = rule.get("as", "XRPUSDT")
    return rows


# --- The server -------------------------------------------------------------

def berr(code, msg, status=400):
    return srvlib.json_response(status, {"code": code, "msg": msg}, JSON_CT)


def mandatory(name):
    return berr(-1102, "Mandatory parameter '%s' was not sent, was empty/null,"
                " or malformed." % name)


def illegal(name, rng="^[0-9]{1,20}$"):
    return berr(-1100, "Illegal characters found in parameter '%s'; legal "
                "range is '%s'." % (name, rng))


INVALID_SYMBOL = (-1121, "Invalid symbol.")
SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'


class BadRequest(Exception):
    def __init__(self, resp):
        self.resp = resp


def int_param(q, name, default=None):
    v = q.get(name)
    if v is None or v == "":
        return default
    if not v.isdigit():
        raise BadRequest(illegal(name))
    return int(v)


def time_param(q, name):
    v = int_param(q, name)
    return v // 1000 if v is not None and v > 10**14 else v


def window(lo, hi, start, limit):
    """Index range [a, b) of a page: rows [lo, hi) are eligible; `start`
    given means oldest first, else newest."""
    if lo >= hi:
        return lo, lo
    if start is not None:
        return lo, min(hi, lo + limit)
    return max(lo, hi - limit), hi


class Limiter:
    """REQUEST_WEIGHT per minute of the monotonic clock, 429 and 418."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.t0 = None      # the first request since the reset
        self.win = None
        self.used = 0
        self.refused = 0
        self.ban_until = 0.0

    def take(self, weight, limit, ban_after, ban_seconds, mono):
        """Returns (verdict, used, seconds): verdict None, 429 or 418."""
        with self.lock:
            if self.t0 is None:
                self.t0 = mono
            if self.ban_until > mono:
                return 418, self.used, self.ban_until - mono
            win = int((mono - self.t0) // 60)
            if win != self.win:
                self.win = win
                self.used = 0
                self.refused = 0
            self.used += weight
            if self.used <= limit:
                return None, self.used, 0
            self.refused += 1
            if self.refused > ban_after:
                self.ban_until = mono + ban_seconds
                return 418, self.used, ban_seconds
            return 429, self.used, self.t0 + (win + 1) * 60 - mono


class Binance(srvlib.App):
    name = "binance"

    def __init__(self, args, market):
        srvlib.App.__init__(self, args)
        self.market = market
        self.limiter = Limiter()
        self.limiter_gen = None
        self.funding_cache = {}
        self.cache_lock = threading.Lock()

    # Rate limiting.

    def weight(self, req):
        p = req.path
        if p in ("/api/v3/ping", "/api/v3/time"):
            return 1
        if p == "/api/v3/klines":
            return 2
        if p == "/api/v3/exchangeInfo":
            return 20
        if p == "/api/v3/ticker/24hr":
            if req.query.get("symbol"):
                return 2
            s = req.query.get("symbols")
            if not s:
                return 80
            n = s.count(",") + 1
            return 2 if n <= 20 else 40 if n <= 100 else 80
        if p.startswith("/fapi/"):
            return 1
        return 0

    def pre(self, req, ctx):
        st = ctx.state
        if ctx.gen != self.limiter_gen:
            with self.limiter.lock:
                if ctx.gen != self.limiter_gen:
                    self.limiter.reset()
                    self.limiter_gen = ctx.gen
        limit = int(st.get("weight_limit", self.args.weight_limit))
        verdict, used, secs = self.limiter.take(
            self.weight(req), limit, int(st.get("ban_after", 3)),
            float(st.get("ban_seconds", 120)), srvlib.time.monotonic())
        ctx.used = used
        if verdict is None:
            return None
        ra = st.get("retry_after")
        ra = int(ra) if ra is not None else max(1, math.ceil(secs))
        if verdict == 429:
            r = berr(-1003, "Too much request weight used; current limit is "
                     "%d request weight per 1 MINUTE. Please use WebSocket "
                     "Streams for live updates to avoid polling the API."
                     % limit, 429)
        else:
            r = berr(-1003, "Way too much request weight used; IP banned "
                     "until %d. Please use WebSocket Streams for live updates "
                     "to avoid bans." % (ctx.now + ra * 1000), 418)
        r.headers.append(("Retry-After", str(ra)))
        return r

    def decorate(self, resp, req, ctx):
        used = getattr(ctx, "used", 0)
        resp.headers.append(("X-MBX-USED-WEIGHT-1M", str(used)))
        resp.headers.append(("X-MBX-USED-WEIGHT", str(used)))

    def error_body(self, code, retry_after, ctx):
        if code == 429:
            r = berr(-1003, "Too much request weight used; current limit "
                     "is %d request weight per 1 MINUTE. Please use "
                     "WebSocket Streams for live updates to avoid polling "
                     "the API." % int(ctx.state.get(
                         "weight_limit", self.args.weight_limit)), 429)
            r.headers.append(("Retry-After", "60"))
            return r
        if code == 418:
            r = berr(-1003, "Way too much request weight used; IP banned "
                     "until %d. Please use WebSocket Streams for live "
                     "updates to avoid bans."
                     % (ctx.now + int(retry_after or 120) * 1000), 418)
            r.headers.append(("Retry-After", "120"))
            return r
        if code == 503:
            return berr(-1008, "Server is currently overloaded with other "
                        "requests. Please try again in a few minutes.", 503)
        if code == 504:
            return berr(-1007, "Timeout waiting for response from backend "
                        "server. Send status unknown; execution status "
                        "unknown.", 504)
        if code >= 500:
            return berr(-1001, "Internal error; unable to process your "
                        "request. Please try again.", code)
        return berr(-1000, "An unknown error occurred while processing the "
                    "request.", code)

    # Symbols, status, delisting.

    def status(self, sym, ctx):
        st = ctx.state
        if sym in (st.get("delisted") or []):
            return "BREAK"
        return (st.get("status") or {}).get(sym, "TRADING")

    def cap(self, sym, ctx):
        """The last time (inclusive) whose candles sym may serve."""
        st = ctx.state
        if sym not in (st.get("delisted") or []):
            return ctx.now
        at = st.get("delisted_at")
        if isinstance(at, dict):
            at = at.get(sym)
        if at is None:
            return ctx.now
        return min(ctx.now, srvlib.time_ms(at) - 1)

    def futures(self, ctx):
        """Futures symbol -> (spot symbol, multiplier)."""
        fut = {s: (s, 1) for s in self.market.sources}
        for f, s in (ctx.state.get("futures_alias") or {}).items():
            if s in self.market.sources:
                m = re.match(r"^(\d+)(.+)$", f)
                fut[f] = (s, int(m.group(1)) if m and m.group(2) == s else 1)
        return fut

    # Routing.

    def route(self, req, ctx, rule):
        if req.method != "GET":
            return srvlib.Response(405, srvlib.HTML_PAGE % {
                "code": 405, "reason": "Method Not Allowed"}, "text/html")
        fname = rule.get("fault") if rule else None
        if fname == "invalid_symbol":
            return berr(*INVALID_SYMBOL)
        if fname == "empty":
            return srvlib.Response(200, "[]", JSON_CT)
        p = req.path
        try:
            if p in ("/api/v3/ping", "/fapi/v1/ping"):
                return srvlib.Response(200, "{}", JSON_CT)
            if p in ("/api/v3/time", "/fapi/v1/time"):
                t = ctx.now
                delay = float(ctx.state.get("time_delay", 0))
                if delay > 0:
                    srvlib.time.sleep(delay)
                    if ctx.state.get("now") is None and self.now is None:
                        t = int(srvlib.time.time() * 1000)
                if p == "/api/v3/time":
                    t += int(ctx.state.get("time_offset", 0))
                    if ctx.state.get("time_unit") == "us":
                        t *= 1000
                return srvlib.Response(200, '{"serverTime":%d}' % t,
                                       JSON_CT)
            if p == "/api/v3/klines":
                return self.klines(req, ctx, rule)
            if p == "/api/v3/exchangeInfo":
                return self.exchange_info(req, ctx)
            if p == "/api/v3/ticker/24hr":
                return self.ticker(req, ctx)
            if p == "/fapi/v1/fundingRate":
                return self.funding(req, ctx, rule)
            if p.startswith("/futures/data/") and \
                    p[14:] in FUTURES_DATA:
                return self.futures_data(req, ctx, rule, p[14:])
        except BadRequest as e:
            return e.resp
        return srvlib.Response(404, srvlib.HTML_PAGE % {
            "code": 404, "reason": "Not Found"}, "text/html")

    def klines(self, req, ctx, rule):
        q = req.query
        sym, iv = q.get("symbol"), q.get("interval")
        if not sym:
            return mandatory("symbol")
        if not iv:
            return mandatory("interval")
        if not SYMBOL_RE.match(sym):
            return illegal("symbol", "^[A-Z0-9-_.]{1,20}$")
        if sym not in self.market.sources:
            return berr(*INVALID_SYMBOL)
        if iv not in IV_MS:
            return berr(-1120, "Invalid interval.")
        limit = int_param(q, "limit", 500)
        if not 1 <= limit <= 1000:
            return berr(-1130, "Data sent for parameter 'limit' is not "
                        "valid.")
        start = time_param(q, "startTime")
        end = time_param(q, "endTime")
        s = self.market.series(sym, iv)
        if s is None:
            return srvlib.Response(200, "[]", JSON_CT)
        opens = s.opens
        cap = self.cap(sym, ctx)
        hi = bisect.bisect_right(opens, cap)
        lo = 0
        if start is not None:
            lo = bisect.bisect_left(opens, start)
        if end is not None:
            hi = min(hi, bisect.bisect_right(opens, end))
        a, b = window(lo, hi, start, limit)
        rows = s.rows[a:b]
        if b > a and s.cols[CT][b - 1] >= ctx.now:
            rows[-1] = self.partial(s, b - 1, ctx.now)
        fname = rule.get("fault") if rule else None
        if fname == "overlong":
            top = bisect.bisect_right(opens, cap)
            for i in range(max(b, top - int(rule.get("extra", 3))), top):
                rows.append(self.partial(s, i, ctx.now)
                            if s.cols[CT][i] >= ctx.now else s.rows[i])
        if fname in KLINE_FAULTS:
            rows = kline_fault(fname, rule, rows,
                               s.rows[a - 1] if a > 0 else None)
        return srvlib.Response(200, "[" + ",".join(rows) + "]", JSON_CT)

    @staticmethod
    def partial_tuple(s, i, now):
        t = s.row(i)
        span = t[CT] - t[OT] + 1
        el = min(span, max(0, now - t[OT]))

        def f(x):
            return x * el // span
        return (t[OT], t[O], t[O], t[O], t[O], f(t[V]), t[CT], f(t[QV]),
                f(t[N]), f(t[TBV]), f(t[TBQ]))

    def partial(self, s, i, now):
        return render(self.partial_tuple(s, i, now))

    # exchangeInfo.

    def symbol_info(self, sym, ctx):
        tick, step = self.market.tick_step(sym)
        s = self.market.finest(sym)
        top = max(s.cols[H]) if len(s) else E8
        max_price = 10 ** (len(str(top // E8)) + 1) * E8
        max_qty = max(step, 9 * 10 ** 13 // max(1, top // E8 + 1) // step *
                      step)
        base, quote = sym[:-4], sym[-4:]
        for qa in QUOTES:
            if sym.endswith(qa) and len(sym) > len(qa):
                base, quote = sym[:-len(qa)], qa
                break
        return {
            "symbol": sym, "status": self.status(sym, ctx),
            "baseAsset": base, "baseAssetPrecision": 8,
            "quoteAsset": quote, "quotePrecision": 8,
            "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS",
                           "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                           "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
            "cancelReplaceAllowed": True, "amendAllowed": True,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": f8(tick),
                 "maxPrice": f8(max_price), "tickSize": f8(tick)},
                {"filterType": "LOT_SIZE", "minQty": f8(step),
                 "maxQty": f8(max_qty), "stepSize": f8(step)},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {"filterType": "MARKET_LOT_SIZE", "minQty": f8(0),
                 "maxQty": f8(max_qty // 10 // step * step or step),
                 "stepSize": f8(0)},
                {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10,
                 "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10,
                 "maxTrailingBelowDelta": 2000},
                {"filterType": "PERCENT_PRICE_BY_SIDE",
                 "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
                 "askMultiplierUp": "5", "askMultiplierDown": "0.2",
                 "avgPriceMins": 5},
                {"filterType": "NOTIONAL", "minNotional": f8(5 * E8),
                 "applyMinToMarket": True, "maxNotional": f8(9 * 10**6 * E8),
                 "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}],
            "permissions": [], "permissionSets": [["SPOT", "MARGIN"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER",
                                                "EXPIRE_MAKER",
                                                "EXPIRE_BOTH", "DECREMENT"]}

    def symbol_list(self, q, name="symbols"):
        """Parses symbols=["A","B"]; raises BadRequest."""
        v = q.get(name)
        try:
            lst = json.loads(v)
            if not isinstance(lst, list) or not all(
                    isinstance(x, str) and SYMBOL_RE.match(x) for x in lst):
                raise ValueError
        except ValueError:
            raise BadRequest(illegal(name, SYMBOLS_RANGE))
        return lst

    def exchange_info(self, req, ctx):
        q = req.query
        known = self.market.sources
        if q.get("symbol") and q.get("symbols"):
            return berr(-1128, "Combination of optional parameters invalid.")
        status = q.get("symbolStatus")
        if status and (q.get("symbol") or q.get("symbols")):
            return berr(-1128, "Combination of optional parameters invalid.")
        if q.get("symbol"):
            syms = [q["symbol"]]
            if not SYMBOL_RE.match(syms[0]):
                return illegal("symbol", "^[A-Z0-9-_.]{1,20}$")
        elif q.get("symbols"):
            syms = self.symbol_list(q)
        else:
            syms = sorted(known)
        if any(s not in known for s in syms):
            return berr(*INVALID_SYMBOL)
        infos = [self.symbol_info(s, ctx) for s in syms]
        if status:
            infos = [i for i in infos if i["status"] == status]
        limit = int(ctx.state.get("weight_limit", self.args.weight_limit))
        return srvlib.json_response(200, {
            "timezone": "UTC", "serverTime": ctx.now,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                 "intervalNum": 1, "limit": limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND",
                 "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY",
                 "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE",
                 "intervalNum": 5, "limit": 61000}],
            "exchangeFilters": [], "symbols": infos}, JSON_CT)

    # ticker/24hr.

    def ticker_one(self, sym, ctx, mini):
        s = self.market.hourly(sym)
        now = ctx.now
        cap = self.cap(sym, ctx)
        opens = s.opens
        lo = bisect.bisect_right(opens, now - DAY)
        hi = bisect.bisect_right(opens, cap)
        tick, step = self.market.tick_step(sym)
        rows = [s.row(i) for i in range(lo, hi)]
        if rows and rows[-1][CT] >= now:
            rows[-1] = self.partial_tuple(s, hi - 1, now)
        count = sum(r[N] for r in rows)
        if rows:
            op, last = rows[0][O], rows[-1][C]
            high = max(r[H] for r in rows)
            low = min(r[L] for r in rows)
            vol = sum(r[V] for r in rows)
            qvol = sum(r[QV] for r in rows)
            prev = s.cols[C][lo - 1] if lo > 0 else op
            first_id = 100_000_000 + s.prefix(N)[lo] if count else -1
            last_id = first_id + count - 1 if count else -1
        else:
            op = last = high = low = vol = qvol = prev = 0
            first_id = last_id = -1
        out = {"symbol": sym}
        if not mini:
            crc = zlib.crc32(("%s:%d" % (sym, now // 1000)).encode())
            n_last = rows[-1][N] if rows else 0
            lastq = (rows[-1][V] // max(1, n_last)) // step * step \
                if rows else 0
            out.update({
                "priceChange": f8(last - op),
                "priceChangePercent": fdec((last - op) * 100, op, 3),
                "weightedAvgPrice": fdec(qvol, vol, 8) if vol else
                f8(0),
                "prevClosePrice": f8(prev), "lastPrice": f8(last),
                "lastQty": f8(lastq if rows else 0),
                "bidPrice": f8(last),
                "bidQty": f8((crc % 9000 + 1000) * step if rows else 0),
                "askPrice": f8(last + tick if rows else 0),
                "askQty": f8((crc // 9000 % 9000 + 1000) * step
                             if rows else 0)})
        out.update({"openPrice": f8(op), "highPrice": f8(high),
                    "lowPrice": f8(low), "lastPrice": f8(last),
                    "volume": f8(vol), "quoteVolume": f8(qvol),
                    "openTime": now - DAY, "closeTime": now,
                    "firstId": first_id, "lastId": last_id, "count": count})
        return out

    def ticker(self, req, ctx):
        q = req.query
        known = self.market.sources
        mini = q.get("type") == "MINI"
        if q.get("type") not in (None, "FULL", "MINI"):
            return illegal("type", "^(FULL|MINI)$")
        if q.get("symbol") and q.get("symbols"):
            return berr(-1128, "Combination of optional parameters invalid.")
        if q.get("symbol"):
            sym = q["symbol"]
            if not SYMBOL_RE.match(sym):
                return illegal("symbol", "^[A-Z0-9-_.]{1,20}$")
            if sym not in known:
                return berr(*INVALID_SYMBOL)
            return srvlib.json_response(200, self.ticker_one(sym, ctx, mini),
                                        JSON_CT)
        syms = self.symbol_list(q) if q.get("symbols") else sorted(known)
        if any(s not in known for s in syms):
            return berr(*INVALID_SYMBOL)
        return srvlib.json_response(
            200, [self.ticker_one(s, ctx, mini) for s in syms], JSON_CT)

    # Futures.

    def fsymbol(self, req, ctx, required=True):
        sym = req.query.get("symbol")
        if not sym:
            if required:
                raise BadRequest(mandatory("symbol"))
            return None, None
        fut = self.futures(ctx)
        if sym not in fut:
            raise BadRequest(berr(*INVALID_SYMBOL))
        return sym, fut[sym]

    def funding_rows(self, fsym, spot, mult, step):
        """All funding rows of fsym: (time, rate 1e-8 int, mark 1e-8 int)."""
        key = (fsym, spot, mult, step)
        with self.cache_lock:
            rows = self.funding_cache.get(key)
        if rows is not None:
            return rows
        s = self.market.hourly(spot)
        opens, closes, cts = s.opens, s.cols[C], s.cols[CT]
        rows = []
        if len(s):
            t = (opens[0] // step + 1) * step
            last = cts[-1] + 1
            while t <= last:
                i1 = bisect.bisect_left(opens, t) - 1
                i0 = bisect.bisect_left(opens, t - 8 * HOUR) - 1
                if i0 >= 0:
                    c1, c0 = closes[i1], closes[i0]
                    p = 0.03 * (c1 / c0 - 1) if c0 else 0.0
                    f = p + max(-0.0005, min(0.0005, 0.0001 - p))
                    f = max(-0.003, min(0.003, f))
                    jit = zlib.crc32(("%s:%d" % (fsym, t)).encode()) % 16
                    rows.append((t + jit, round(f * E8), c1 * mult))
                t += step
        with self.cache_lock:
            self.funding_cache[key] = rows
        return rows

    def funding(self, req, ctx, rule):
        q = req.query
        sym, src = self.fsymbol(req, ctx, required=False)
        limit = int_param(q, "limit", 100)
        if not 1 <= limit <= 1000:
            return berr(-1130, "Data sent for parameter 'limit' is not "
                        "valid.")
        start = time_param(q, "startTime")
        end = time_param(q, "endTime")
        fut = {sym: src} if sym else self.futures(ctx)
        four = ctx.state.get("funding_4h") or []
        out = []
        for fsym, (spot, mult) in sorted(fut.items()):
            step = 4 * HOUR if fsym in four else 8 * HOUR
            rows = self.funding_rows(fsym, spot, mult, step)
            times = [r[0] for r in rows]
            cap = min(self.cap(spot, ctx), ctx.now)
            hi = bisect.bisect_right(times, cap)
            lo = bisect.bisect_left(times, start) if start is not None else 0
            if end is not None:
                hi = min(hi, bisect.bisect_right(times, end))
            a, b = window(lo, hi, start, limit)
            out += [(r[0], fsym, r) for r in rows[a:b]]
        out.sort()
        a, b = window(0, len(out), start, limit)
        res = [{"symbol": fsym, "fundingTime": r[0],
                "fundingRate": java_small(r[1]), "markPrice": f8(r[2])}
               for _, fsym, r in out[a:b]]
        fname = rule.get("fault") if rule else None
        if fname in DICT_FAULTS:
            res = dict_fault(fname, rule, res, 8 * HOUR)
        return srvlib.Response(200, dumps(res), JSON_CT)

    def futures_data(self, req, ctx, rule, kind):
        q = req.query
        sym, (spot, mult) = self.fsymbol(req, ctx)
        period = q.get("period")
        if not period:
            return mandatory("period")
        if period not in PERIODS:
            return berr(-1130, "Data sent for parameter 'period' is not "
                        "valid.")
        limit = int_param(q, "limit", 30)
        if not 1 <= limit <= 500:
            return berr(-1130, "Data sent for parameter 'limit' is not "
                        "valid.")
        start = time_param(q, "startTime")
        end = time_param(q, "endTime")
        now = ctx.now
        if start is not None and start < now - 31 * DAY:
            return berr(-1130, "parameter 'startTime' is invalid.")
        p = IV_MS[period]
        s = self.market.hourly(spot)
        if not len(s):
            return srvlib.Response(200, "[]", JSON_CT)
        first = s.opens[0] + p
        last = min(s.cols[CT][-1] + 1, self.cap(spot, ctx) + 1, now)
        k_lo = -(-max(now - 30 * DAY, first) // p)
        k_hi = last // p
        if start is not None:
            k_lo = max(k_lo, -(-start // p))
        if end is not None:
            k_hi = min(k_hi, end // p)
        if k_lo > k_hi:
            ks = range(0)
        elif start is not None:
            ks = range(k_lo, min(k_hi, k_lo + limit - 1) + 1)
        else:
            ks = range(max(k_lo, k_hi - limit + 1), k_hi + 1)
        strts = bool(ctx.state.get("string_timestamps"))
        res = [self.futures_row(kind, sym, s, mult, k * p, p, strts)
               for k in ks]
        fname = rule.get("fault") if rule else None
        if fname in DICT_FAULTS:
            res = dict_fault(fname, rule, res, p)
        return srvlib.Response(200, dumps(res), JSON_CT)

    @staticmethod
    def price_at(s, t):
        """The price at time t: interpolated inside the candle holding t."""
        i = max(0, bisect.bisect_right(s.opens, t) - 1)
        ot, ct = s.opens[i], s.cols[CT][i]
        o, c = s.cols[O][i], s.cols[C][i]
        if t > ct:
            return c
        return o + (c - o) * (t - ot) // (ct - ot + 1)

    def futures_row(self, kind, sym, s, mult, t, p, strts):
        ts = str(t) if strts else t
        opens = s.opens
        if kind == "takerlongshortRatio":
            if p >= HOUR:
                i0 = bisect.bisect_left(opens, t - p)
                i1 = bisect.bisect_left(opens, t)
                tb = sum(s.cols[TBV][i0:i1])
                v = sum(s.cols[V][i0:i1])
                num, den = 1, 1
            else:
                i = bisect.bisect_right(opens, t - p) - 1
                tb, v = s.cols[TBV][i], s.cols[V][i]
                num, den = p, s.cols[CT][i] - opens[i] + 1
            buy = tb * num // den // mult
            sell = (v - tb) * num // den // mult
            return {"buySellRatio": fdec(buy, sell, 4) if sell else "0.0000",
                    "buyVol": fdec(buy, E8, 4), "sellVol": fdec(sell, E8, 4),
                    "timestamp": ts}
        price = self.price_at(s, t)
        if kind == "openInterestHist":
            pre = s.prefix(V)
            v24 = pre[bisect.bisect_left(opens, t)] - \
                pre[bisect.bisect_left(opens, t - DAY)]
            oi = v24 * 6 // 10 // mult
            return {"symbol": sym, "sumOpenInterest": f8(oi),
                    "sumOpenInterestValue": f8(oi * price * mult // E8),
                    "timestamp": ts}
        p0 = self.price_at(s, t - DAY)
        r = price / p0 - 1 if p0 else 0.0
        k, off = {"globalLongShortAccountRatio": (4, 0.0),
                  "topLongShortAccountRatio": (6, 0.03),
                  "topLongShortPositionRatio": (5, 0.05)}[kind]
        lng = round((0.5 + off + max(-0.25, min(0.25, k * r))) * 10000)
        sht = 10000 - lng
        return {"symbol": sym, "longShortRatio": fdec(lng, sht, 4),
                "longAccount": fdec(lng, 10000, 4),
                "shortAccount": fdec(sht, 10000, 4), "timestamp": ts}


KLINE_FAULTS = ("wrong_type", "malformed_row", "unparsable", "out_of_order",
                "duplicate", "high_below_low", "outside_window", "set")
DICT_FAULTS = ("wrong_type", "malformed_row", "unparsable", "out_of_order",
               "duplicate", "outside_window", "set", "wrong_symbol")
FUTURES_DATA = ("openInterestHist", "globalLongShortAccountRatio",
                "topLongShortAccountRatio", "topLongShortPositionRatio",
                "takerlongshortRatio")


def main(argv=None):
    p = srvlib.arg_parser("Fake Binance spot and USD-M market data.")
    p.add_argument("--data", action="append", required=True,
                   metavar="DIR|FILE")
    p.add_argument("--weight-limit", type=int, default=6000)
    p.add_argument("--eager", default="1h,4h,1d")
    args = p.parse_args(argv)
    eager = [x for x in args.eager.split(",") if x]
    for iv in eager:
        if iv not in IV_MS:
            p.error("--eager: unknown interval %s" % iv)
    t0 = srvlib.time.monotonic()
    market = Market(args.data, eager)
    if not market.sources:
        p.error("no kline files found in %s" % " ".join(args.data))
    if args.verbose:
        print("loaded %d symbols in %.2f s" % (
            len(market.sources), srvlib.time.monotonic() - t0),
            file=sys.stderr)
    return srvlib.serve(Binance(args, market))


if __name__ == "__main__":
    sys.exit(main())
