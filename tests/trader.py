#!/usr/bin/env python3
"""trader.py - a stand-in for the live trader: inserts rows into the
store's `trades' table the way bt(7) asks every writer of the shared file
to write, for the concurrency campaign (scripts/campaign-concurrency) and
the week of chaos (scripts/campaign-week).

Usage:
  trader.py --db PATH --lock PATH [--rows N] [--tag TAG] [--table NAME]
            [--until FILE [--mark FILE] [--ready FILE]]
  trader.py --db PATH --check TAG... [--rows N]
  trader.py --db PATH --lock PATH --run [--tag TAG] [--interval S]
            [--pidfile PATH] [--heartbeat PATH] [--ctl PATH] [--log PATH]
            [--start-seq N]

Each insert is one transaction: flock(LOCK_EX) on run/write.lock (opened
close-on-exec), BEGIN IMMEDIATE, INSERT, COMMIT, unlock; a busy timeout
of 10 s covers readers' checkpoint-free moments.  Any failure (SQLITE_BUSY
included) is printed and exits 1.  --check exits 0 when every tag has all
its N rows, each exactly once, and prints what is missing otherwise.

--run is the long-running live trader: it writes one row every --interval
seconds of real time (default 0.05) until SIGTERM or SIGKILL, as a live
trader does all week.  A failed write (the disk full, the store replaced
under it) is logged and the next one is tried: a live trader does not
stop.  The connection is reopened after a failure.
  --pidfile PATH    its pid, written atomically at start (and left behind
                    by a SIGKILL, as a real crash leaves it).
  --heartbeat PATH  after every write, and within 5 ms of the clock
                    moving, the clock's time (ISO 8601 UTC) is written
                    into PATH (through a temporary name) and PATH's
                    modification time set to it, so bt-watchdog(1), which
                    reads the mtime, and bt-backup(1), which reads the
                    content, both see the simulated time.
  --ctl PATH        a JSON object, re-read when it changes (as the test
                    servers' ctl files): "now" (ISO 8601 UTC or ms) is the
                    clock of the heartbeat (default: real time);
                    "heartbeat": false stops the heartbeat while the
                    process goes on writing (a hung event loop).
  --log PATH        one line per write, flushed:
                    "SEQ REAL_MS LOCK_WAIT_MS TOTAL_MS OK"; REAL_MS is the
                    wall clock when the write began, LOCK_WAIT_MS the time
                    blocked on write.lock, TOTAL_MS until COMMIT returned
                    (or failed); OK is 1 or the error, spaces as '_'.
  --start-seq N     the first sequence number (a restarted trader goes on
                    from where it stopped).
The rows are (tag, seq, ts, timestamp, symbol, side, qty, price); the table
and the seed's idx_trades_symbol are created when missing.

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
import datetime
import fcntl
import json
import os
import re
import signal
import sqlite3
import sys
import time


def connect(path):
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA busy_timeout=10000")
    return db


def one_shot(a, db):
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



def to_ms(v):
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip()
    if s.lstrip("-").isdigit():
        return int(s)
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000)


def iso(ms):
    return datetime.datetime.fromtimestamp(
        ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Ctl:
    def __init__(self, path):
        self.path = path
        self.key = None
        self.state = {}

    def get(self):
        if not self.path:
            return self.state
        try:
            st = os.stat(self.path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return self.state
        if key != self.key:
            try:
                with open(self.path) as f:
                    v = json.load(f)
                if isinstance(v, dict):
                    self.state = v
                self.key = key
            except (OSError, ValueError):
                pass        # half written: the old state until it parses
        return self.state


def write_atomic(path, text, mtime_ms=None):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    if mtime_ms is not None:
        os.utime(tmp, ns=(mtime_ms * 1000000, mtime_ms * 1000000))
    os.rename(tmp, path)


_beat = {"now": None}


def beat(a, ctl, real, force=False):
    """The heartbeat: the ctl clock's time (or real time), into the file
    and its mtime, whenever that time changed (or force)."""
    if not a.heartbeat:
        return
    st = ctl.get()
    if not st.get("heartbeat", True):
        return
    try:
        now = to_ms(st["now"]) if "now" in st else real
    except (ValueError, TypeError):
        now = real
    if force or now != _beat["now"]:
        write_atomic(a.heartbeat, iso(now) + "\n", now)
        _beat["now"] = now


def run(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    if a.pidfile:
        write_atomic(a.pidfile, "%d\n" % os.getpid())
    ctl = Ctl(a.ctl)
    log = open(a.log, "a", buffering=1) if a.log else None
    fd = os.open(a.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
    db = None
    seq = a.start_seq
    while not stop:
        t0 = time.monotonic()
        real = int(time.time() * 1000)
        wait = 0.0
        ok = "1"
        try:
            if db is None:
                db = connect(a.db)
            fcntl.flock(fd, fcntl.LOCK_EX)
            wait = time.monotonic() - t0
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TABLE IF NOT EXISTS trades("
                           "id INTEGER PRIMARY KEY, tag TEXT NOT NULL, "
                           "seq INTEGER NOT NULL, ts INTEGER NOT NULL, "
                           "timestamp INTEGER, symbol TEXT, side TEXT, "
                           "qty REAL, price REAL)")
                db.execute("CREATE INDEX IF NOT EXISTS idx_trades_symbol "
                           "ON trades(symbol, timestamp DESC)")
                db.execute("INSERT INTO trades(tag, seq, ts, timestamp, "
                           "symbol, side, qty, price) VALUES "
                           "(?,?,?,?,?,?,?,?)",
                           (a.tag, seq, real, real, "BTCUSDT",
                            "BUY" if seq % 2 == 0 else "SELL", 0.001,
                            65000.0 + seq % 1000))
                db.execute("COMMIT")
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except sqlite3.Error as e:
            ok = str(e).replace(" ", "_") or "error"
            try:
                if db is not None:
                    db.close()
            except sqlite3.Error:
                pass
            db = None
        total = time.monotonic() - t0
        if log:
            log.write("%d %d %.1f %.1f %s\n" % (seq, real, wait * 1000,
                                                total * 1000, ok))
        seq += 1
        # Until the next write: the event loop, which beats the heartbeat
        # as soon as the clock moves (and right after each write).
        beat(a, ctl, real, force=True)
        while not stop:
            left = a.interval - (time.monotonic() - t0)
            if left <= 0:
                break
            time.sleep(min(left, 0.005))
            beat(a, ctl, real)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--lock")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--tag", default="t")
    ap.add_argument("--check", nargs="*")
    ap.add_argument("--run", action="store_true")
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--pidfile")
    ap.add_argument("--heartbeat")
    ap.add_argument("--ctl")
    ap.add_argument("--log")
    ap.add_argument("--start-seq", type=int, default=0)
    ap.add_argument("--table", default="trades")
    ap.add_argument("--until")
    ap.add_argument("--mark")
    ap.add_argument("--ready")
    a = ap.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", a.table):
        print("trader: --table %r is not a table name" % a.table,
              file=sys.stderr)
        return 64
    if a.run:
        if not a.lock:
            ap.error("--run needs --lock")
        return run(a)
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
    return one_shot(a, db)


if __name__ == "__main__":
    sys.exit(main())
