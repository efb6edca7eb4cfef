#!/usr/bin/env python3
"""trader.py - a stand-in for the live trader: inserts rows into the
store's `trades' table the way bt(7) asks every writer of the shared file
to write, for the concurrency campaign (scripts/campaign-concurrency).

Usage:
  trader.py --db PATH --lock PATH [--rows N] [--tag TAG]
  trader.py --db PATH --check TAG... [--rows N]

Each insert is one transaction: flock(LOCK_EX) on run/write.lock (opened
close-on-exec), BEGIN IMMEDIATE, INSERT, COMMIT, unlock; a busy timeout
of 10 s covers readers' checkpoint-free moments.  Any failure (SQLITE_BUSY
included) is printed and exits 1.  --check exits 0 when every tag has all
its N rows, each exactly once, and prints what is missing otherwise.
"""

import argparse
import fcntl
import os
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
    a = ap.parse_args()
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
    for i in range(a.rows):
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            if i == 0:
                db.execute("CREATE TABLE IF NOT EXISTS trades("
                           "id INTEGER PRIMARY KEY, tag TEXT NOT NULL, "
                           "seq INTEGER NOT NULL, ts INTEGER NOT NULL, "
                           "symbol TEXT, side TEXT, qty REAL, price REAL)")
            db.execute("INSERT INTO trades(tag, seq, ts, symbol, side, qty, "
                       "price) VALUES (?,?,?,?,?,?,?)",
                       (a.tag, i, int(time.time() * 1000), "BTCUSDT",
                        "BUY" if i % 2 == 0 else "SELL", 0.001, 65000.0 + i))
            db.execute("COMMIT")
        except sqlite3.Error as e:
            print("trader: insert %d: %s" % (i, e), file=sys.stderr)
            return 1
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
