#!/usr/bin/env python3
"""trader.py - a stand-in for the live trader: inserts rows into the
store's `trades' table the way bt(7) asks every writer of the shared file
to write, for the concurrency campaign (scripts/campaign-concurrency).

Usage:
  trader.py --db PATH --lock PATH [--rows N] [--tag TAG] [--table NAME]
            [--until FILE [--mark FILE] [--ready FILE]]
  trader.py --db PATH --check TAG... [--rows N]

Each insert is one transaction: flock(LOCK_EX) on run/write.lock (opened
close-on-exec), BEGIN IMMEDIATE, INSERT, COMMIT, unlock; a busy timeout
of 10 s covers readers' checkpoint-free moments.  Any failure (SQLITE_BUSY
included) is printed and exits 1.  --check exits 0 when every tag has all
its N rows, each exactly once, and prints what is missing otherwise.

For bt-preflight(1)'s isolation check, the preflight's own writer:
--table NAME writes that table instead of `trades' (a real store's trades
table is the live trader's, with its own columns).  --until FILE writes
until FILE exists instead of N rows, at least one; --ready FILE is opened
and written "ready" after the first commit (a FIFO the preflight reads, so
it waits exactly as long as needed); a commit that starts once --mark FILE
exists counts as "during".  At the end one JSON line on stdout: commits,
during, and the longest wait of any commit and of those during, in
seconds, from asking for the lock to the end of COMMIT.
"""

import argparse
import fcntl
import json
import os
import re
import sqlite3
import sys
import time


def connect(path):
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA busy_timeout=10000")
    return db


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--lock")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--tag", default="t")
    ap.add_argument("--check", nargs="*")
    ap.add_argument("--table", default="trades")
    ap.add_argument("--until")
    ap.add_argument("--mark")
    ap.add_argument("--ready")
    a = ap.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", a.table):
        print("trader: --table %r is not a table name" % a.table,
              file=sys.stderr)
        return 64
    db = connect(a.db)
    if a.check is not None:
        bad = 0
        for tag in a.check:
            got = db.execute("SELECT seq, count(*) FROM trades WHERE tag=? "
                             "GROUP BY seq", (tag,)).fetchall()
            have = {s: n for s, n in got}
            for i in range(a.rows):
                if have.get(i) != 1:
                    print("trader: %s row %d present %d times"
                          % (tag, i, have.get(i, 0)))
                    bad += 1
        return 1 if bad else 0
    fd = os.open(a.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
    # The table name is checked above: a constant as far as SQL goes.
    t = a.table
    commits = during = 0
    longest = longest_during = 0.0
    i = 0
    while (i < a.rows if a.until is None
           else i == 0 or not os.path.exists(a.until)):
        now_during = a.mark is not None and os.path.exists(a.mark)
        t0 = time.monotonic()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            if i == 0:
                db.execute("CREATE TABLE IF NOT EXISTS %s("
                           "id INTEGER PRIMARY KEY, tag TEXT NOT NULL, "
                           "seq INTEGER NOT NULL, ts INTEGER NOT NULL, "
                           "symbol TEXT, side TEXT, qty REAL, price REAL)"
                           % t)
            db.execute("INSERT INTO %s(tag, seq, ts, symbol, side, qty, "
                       "price) VALUES (?,?,?,?,?,?,?)" % t,
                       (a.tag, i, int(time.time() * 1000), "BTCUSDT",
                        "BUY" if i % 2 == 0 else "SELL", 0.001, 65000.0 + i))
            db.execute("COMMIT")
        except sqlite3.Error as e:
            print("trader: insert %d: %s" % (i, e), file=sys.stderr)
            return 1
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        waited = time.monotonic() - t0
        commits += 1
        longest = max(longest, waited)
        if now_during:
            during += 1
            longest_during = max(longest_during, waited)
        if i == 0 and a.ready is not None:
            with open(a.ready, "w") as f:
                f.write("ready\n")
        i += 1
    if a.until is not None:
        print(json.dumps({"commits": commits, "during": during,
                          "longest": round(longest, 6),
                          "longest_during": round(longest_during, 6)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
