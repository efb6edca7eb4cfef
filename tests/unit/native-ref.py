#!/usr/bin/env python3
"""native-ref.py - an independent, plain reading of bt-backtest(1)'s native
execution model and metric formulas, to check the C engine against.

usage: native-ref.py candles.json signals.jsonl last fee_bps slip_bps lot
           cash shorts line.json trades.csv equity.csv

candles.json is freqtrade's [[open_ms, o, h, l, c, v], ...]; the window is
the newest `last' bars.  It simulates the signals (targets held until the
next one, decided on a bar's close, filled at the next open), recomputes
every metric from whole arrays (two-pass variance, explicit drawdown
periods) and compares with bt-backtest's symbol line, trade list and
equity file to 1e-9 relative.  Exit 1 on any difference.
"""
import csv
import json
import math
import sys

(cpath, spath, last, fee_bps, slip_bps, lot, cash0, shorts, lpath, tpath,
 epath) = sys.argv[1:12]
rows = json.load(open(cpath))
last = int(last)
fee = float(fee_bps) / 1e4
slip = float(slip_bps) / 1e4
lot = float(lot)
cash0 = float(cash0)
rows = rows[-last:]
t = [r[0] for r in rows]
o = [float(r[1]) for r in rows]
c = [float(r[4]) for r in rows]
n = len(rows)
iv = t[1] - t[0]
index = {ts: i for i, ts in enumerate(t)}
sig = {}
for line in open(spath):
    s = json.loads(line)
    sig[index[s["timestamp"]]] = s["position"]


def lots(x):
    return x if lot <= 0 else math.floor(x / lot * (1 + 1e-12)) * lot


cash, u, held, tgt, pend = cash0, 0.0, 0.0, 0.0, False
tr = None
trades = []
eq, pos = [], []


def close(i, base, when):
    global cash, u, tr
    px = base * (1 - slip if u > 0 else 1 + slip)
    f = abs(u) * px * fee
    cash += u * px - f
    tr["pnl"] += u * (px - tr["p_in"]) - f - tr["fees"]
    tr["fees"] += f
    tr.update(p_out=px, bar_out=i, t_out=when)
    tr["ret"] = tr["pnl"] / tr["cost"]
    trades.append(tr)
    tr, u = None, 0.0


def change(i, du):
    global cash, u, tr
    px = o[i] * (1 + slip if du > 0 else 1 - slip)
    f = abs(du) * px * fee
    if tr is None:
        tr = dict(t_in=t[i], bar_in=i, units=du, p_in=px, cost=abs(du) * px,
                  pnl=0.0, fees=f)
    elif (du > 0) == (u > 0):
        tr["p_in"] = (abs(u) * tr["p_in"] + abs(du) * px) / (abs(u) + abs(du))
        tr["cost"] += abs(du) * px
        tr["fees"] += f
        if abs(u + du) > abs(tr["units"]):
            tr["units"] = u + du    # the largest position of the trade
    else:
        tr["pnl"] += -du * (px - tr["p_in"])
        tr["fees"] += f
    cash -= du * px + f
    u += du
    assert u != 0


for i in range(n):
    if i > 0 and pend:
        pend = False
        if tgt != held:
            if u != 0 and (tgt == 0 or (tgt > 0) != (u > 0)):
                close(i, o[i], t[i])
            if tgt != 0:
                px = o[i] * (1 + slip if tgt > 0 else 1 - slip)
                e = cash + u * o[i]
                want = math.copysign(lots(abs(tgt) * max(e, 0) /
                                          (px * (1 + fee))), tgt)
                if want != u:
                    change(i, want - u)
            held = tgt
    if i == n - 1 and u != 0:
        close(i, c[i], t[i] + iv)
    eq.append(cash + u * c[i])
    pos.append(u)
    if i in sig and sig[i] != tgt:
        tgt = sig[i]
        pend = tgt != held

# Metrics from whole arrays.
A = 365 * 86400000 / iv
r = [eq[k] / eq[k - 1] - 1 for k in range(1, n)]
g = math.exp(sum(math.log(1 + x) for x in r) / len(r)) - 1
mean = sum(r) / len(r)
var = sum((x - mean) ** 2 for x in r) / (len(r) - 1)
rann = (1 + g) ** A - 1
vol = math.sqrt((var + (1 + g) ** 2) ** A - (1 + g) ** (2 * A))
peak, dd = [], []
for e in eq:
    peak.append(e if not peak else max(peak[-1], e))
    dd.append(1 - e / peak[-1])
zeros = sorted(set([k for k in range(n) if dd[k] == 0] + [n - 1]))
periods = [(p, q) for p, q in zip(zeros, zeros[1:]) if q > p + 1]
pdd = [max(dd[p:q + 1]) for p, q in periods]
pdur = [t[q] - t[p] for p, q in periods]
pnl = [x["pnl"] for x in trades]
ret = [x["ret"] for x in trades]
nt = len(trades)
w = sum(1 for x in pnl if x > 0) / nt
mp = sum(pnl) / nt
sdp = math.sqrt(sum((x - mp) ** 2 for x in pnl) / (nt - 1))
wins = [x for x in pnl if x > 0]
losses = [x for x in pnl if x < 0]
cover = set()
for x in trades:
    cover.update(range(x["bar_in"], x["bar_out"] + 1))
years = ((t[-1] - t[0]) // 1000) / 86400 / 365.25
want = {
    "bars": n,
    "equity_final": eq[-1],
    "equity_peak": max(eq),
    "return_pct": (eq[-1] - eq[0]) / eq[0] * 100,
    "buy_hold_return_pct": (c[-1] - c[0]) / c[0] * 100,
    "return_ann_pct": rann * 100,
    "volatility_ann_pct": vol * 100,
    "cagr_pct": ((eq[-1] / eq[0]) ** (1 / years) - 1) * 100,
    "sharpe": rann / vol,
    "sortino": rann / (math.sqrt(sum(min(x, 0) ** 2 for x in r) / len(r)) *
                       math.sqrt(A)),
    "calmar": rann / max(dd),
    "max_drawdown_pct": -max(dd) * 100,
    "avg_drawdown_pct": -sum(pdd) / len(pdd) * 100,
    "max_drawdown_duration_days": max(pdur) / 86400000,
    "avg_drawdown_duration_days": sum(pdur) / len(pdur) / 86400000,
    "trades": nt,
    "win_rate_pct": w * 100,
    "best_trade_pct": max(ret) * 100,
    "worst_trade_pct": min(ret) * 100,
    "avg_trade_pct": (math.exp(sum(math.log(1 + x) for x in ret) / nt) - 1) * 100,
    "expectancy_pct": sum(ret) / nt * 100,
    "profit_factor": sum(wins) / abs(sum(losses)) if losses else None,
    "sqn": math.sqrt(nt) * mp / sdp,
    "kelly": w - (1 - w) / ((sum(wins) / len(wins)) / (-sum(losses) / len(losses)))
    if wins and losses else None,
    "exposure_pct": len(cover) / n * 100,
    "commissions": sum(x["fees"] for x in trades),
    "max_trade_duration_days": max(x["t_out"] - x["t_in"] for x in trades) / 86400000,
    "avg_trade_duration_days": sum(x["t_out"] - x["t_in"] for x in trades) / nt / 86400000,
    "periods_per_year": A,
}
bad = 0


def check(what, got, exp, tol=1e-9):
    global bad
    if not (abs(got - exp) <= tol * max(abs(exp), 1e-300) or got == exp):
        print("MISMATCH %s: got %r want %r" % (what, got, exp))
        bad += 1


line = [json.loads(x) for x in open(lpath)]
line = [x for x in line if x.get("event") == "symbol"][0]
for k, v in want.items():
    if v is None:
        if line.get(k) is not None:
            print("MISMATCH %s: got %r want null" % (k, line.get(k)))
            bad += 1
    elif line.get(k) is None:
        print("MISSING %s" % k)
        bad += 1
    else:
        check(k, line[k], v)
got = list(csv.DictReader(open(tpath)))
check("trade count", len(got), nt)
for a, b in zip(got, trades):
    check("units", float(a["units"]), abs(b["units"]))
    check("entry_price", float(a["entry_price"]), b["p_in"])
    check("exit_price", float(a["exit_price"]), b["p_out"])
    check("pnl", float(a["pnl"]), b["pnl"])
    check("return_pct", float(a["return_pct"]), b["ret"] * 100)
    check("fees", float(a["fees"]), b["fees"])
    check("entry_bar", int(a["entry_bar"]), b["bar_in"])
    check("exit_bar", int(a["exit_bar"]), b["bar_out"])
rows = [x for x in csv.DictReader(open(epath)) if x["symbol"] != "PORTFOLIO"]
check("equity rows", len(rows), n)
for k, (a, e, p) in enumerate(zip(rows, eq, pos)):
    check("equity[%d]" % k, float(a["equity"]), e, 1e-12)
    check("position[%d]" % k, float(a["position"]), p, 1e-12)
print("%d trades, %d metrics, %d bars checked; %d mismatches" %
      (nt, len(want), n, bad))
sys.exit(1 if bad else 0)
