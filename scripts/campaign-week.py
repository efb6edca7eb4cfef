#!/usr/bin/env python3
"""campaign-week.py - the engine of scripts/campaign-week (read that
script's header first: it holds the design and the decisions).

  campaign-week.py SETUP.json

SETUP.json is written by scripts/campaign-week: the mode, the seed, the
work directory, the test servers' URLs and control files, the rendered
crontab.  This program builds the seeded fault schedule, replays the
crontab minute by minute over the simulated span, injects the faults,
and at the end checks everything the issue asks for.  It prints figure
lines (JSON) on stdout, progress and the final table on stderr, and exits
with the number of failed rows (0: all held; capped at 100).
"""

import calendar
import datetime
import fcntl
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.request

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
IV = {"1h": HOUR, "4h": 4 * HOUR, "1d": DAY}
VIEW = {"1h": "ohlcv_h1", "4h": "ohlcv_h4", "1d": "ohlcv_d1"}


def iso(ms):
    return datetime.datetime.fromtimestamp(
        ms // 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hm(ms):
    """A short simulated time for tables: 05-25 01:10."""
    return datetime.datetime.fromtimestamp(
        ms // 1000, datetime.timezone.utc).strftime("%m-%d %H:%M")


def parse_iso(s):
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000)


def fields(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    # cron's day of week: 0 (or 7) is Sunday.
    return d.minute, d.hour, d.day, d.month, (d.weekday() + 1) % 7


def say(*a):
    print("campaign-week:", *a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ cron

def field_match(spec, v, lo, hi):
    """One cron field: *, */n, a-b, a-b/n, lists of those."""
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
        else:
            a = b = int(part)
        if hi == 7 and v == 0 and b == 7:
            v2 = 7
        else:
            v2 = v
        if a <= v2 <= b and (v2 - a) % step == 0:
            return True
    return False


class Line:
    """One crontab line: its schedule, its command, a short name."""

    def __init__(self, idx, sched, cmd):
        self.idx = idx
        self.sched = sched.split()
        self.cmd = cmd
        m = re.search(r"run/(\w+)\.lock", cmd)
        lock = m.group(1) if m else "line%d" % idx
        name = lock
        if lock == "validate" and "--full" in cmd:
            name = "validate_full"
        elif lock == "backup" and "--vacuum" in cmd:
            name = "vacuum"
        elif lock == "backup" and "--test-restore" in cmd:
            name = "test_restore"
        self.name = name
        self.prog = {"fetch": "bt-fetch", "sentiment": "bt-fetch",
                     "macro": "bt-fetch", "validate": "bt-validate",
                     "validate_full": "bt-validate",
                     "backtest": "bt-backtest", "backup": "bt-backup",
                     "vacuum": "bt-backup", "test_restore": "bt-backup",
                     "digest": "bt-digest",
                     "watchdog": "bt-watchdog"}.get(name, "?")
        self.durations = []

    def due(self, t):
        mi, h, dom, mon, dow = fields(t)
        s = self.sched
        if not (field_match(s[0], mi, 0, 59) and field_match(s[1], h, 0, 23)
                and field_match(s[3], mon, 1, 12)):
            return False
        dom_any, dow_any = s[2] == "*", s[4] == "*"
        dm = field_match(s[2], dom, 1, 31)
        dw = field_match(s[4], dow, 0, 7)
        if dom_any or dow_any:
            return dm and dw
        return dm or dw

    def typical_ms(self):
        d = sorted(self.durations[-20:])
        return d[len(d) // 2] if d else 50.0


# --------------------------------------------------------------- helpers

def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def descendants(root):
    """Pids of every process below root (from /proc)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def procs_with_env(needle):
    """Pids whose environment holds the byte string needle."""
    out = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if needle in f.read():
                    out.append(int(d))
        except OSError:
            continue
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2] != "Z"
    except (OSError, ValueError):
        return False


def free_mb(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize / 1048576.0


# ------------------------------------------------------------ the engine

class Week:
    def __init__(self, setup):
        self.S = setup
        self.W = setup["work"]
        self.home = setup["home"]
        self.top = setup["top"]
        self.mode = setup["mode"]
        self.seed = int(setup["seed"])
        self.rng = random.Random(self.seed)
        self.start = parse_iso(setup["start"])
        self.end = parse_iso(setup["end"])
        self.db = os.path.join(self.home, "db/crypto_agent.db")
        self.st = os.path.join(self.home, "db/bt_state.db")
        self.lines = []
        for i, raw in enumerate(open(setup["cron"])):
            raw = raw.rstrip("\n")
            if not raw or raw.startswith("#") or "\t" not in raw:
                continue
            sched, _user, cmd = raw.split("\t", 2)
            self.lines.append(Line(len(self.lines), sched, cmd))
        self.pathline = setup["pathline"]
        self.boot = setup["boot_id"]
        self.boots = [self.boot]
        self.symbols = setup["symbols"]
        self.tfs = setup["tfs"]
        self.delisted_sym = setup["delisted"]
        self.failures = []
        self.xfails = []
        self.rows = []          # the final table
        self.jobs = []          # every job run: dict
        self.bg = []            # background jobs: dict with proc
        self.minute_pings = {}  # minute -> pings
        self.minute_msgs = []   # (minute, message dict)
        self.ping_off = 0
        self.msg_off = 0
        self.trader = None
        self.trader_seq = 0
        self.trader_windows = []  # (start, end) of the trader down
        self.hb_windows = []      # (start, end) the heartbeat stopped
        self.cron_down = []       # (start, end)
        self.disk_full = []       # (start, end)
        self.state_broken = []    # (start, end)
        self.job_env_extra = dict(setup.get("future_env") or {})
        self.newest = {}          # (sym, tf) -> [(minute, newest open)]
        self.open_stored = []     # (minute, sym, tf, open) seen stored open
        self.kills = []
        self.notes = []
        self.events_before_state_damage = None
        self.tmpfs = setup.get("tmpfs", False)
        self.wallclock = time.monotonic()
        self.faults = []
        self.actions = {}       # minute -> [callables]
        self.expect = []        # expected events
        self.tolerate = []      # tolerated follow-ons
        self.fault_rules = {"binance": {}, "telegram": {}, "fred": {},
                            "ping": {}}
        self.tg_down = []       # (start, end) Telegram refuses
        self.probe_events = []  # (minute, message) injected CRITICALs
        self.S["fred_revise"] = self.fred_releases()

    def fred_releases(self):
        """FRED's releases for the simulated days (tests/data/fred.json
        ends on 2025-04-30): each series goes on from its last value, one
        observation a business day (every day for DFF), "." on US
        holidays as FRED writes them (2025-05-26, Memorial Day)."""
        base = json.load(open(self.S["fred_series"]))
        out = {}
        d0 = datetime.date(2025, 5, 1)
        d1 = datetime.date.fromtimestamp(self.end // 1000)
        for sid, obs in base.items():
            last = next(float(v) for _, v in reversed(obs) if v != ".")
            rev = {}
            d = d0
            k = 0
            while d <= d1:
                if sid == "DFF" or d.weekday() < 5:
                    if d == datetime.date(2025, 5, 26) and sid != "DFF":
                        rev[d.isoformat()] = "."
                    else:
                        k += 1
                        v = last * (1 + 0.001 * ((k * 7919) % 11 - 5))
                        rev[d.isoformat()] = "%.2f" % v
                d += datetime.timedelta(days=1)
            out[sid] = rev
        return out

    # ------------------------------------------------------- bookkeeping

    def fail(self, row, why):
        self.failures.append((row, why))
        say("FAIL: %s: %s" % (row, why))

    def fig(self, **kv):
        kv = dict({"campaign": "week"}, **kv)
        print(json.dumps(kv, separators=(",", ":")), flush=True)

    # ------------------------------------------------------- the servers

    def ctl(self, name, obj):
        write_json(self.S["ctl"][name], obj)

    def server_state(self, t):
        """The control files for minute t: the clocks, and the rules of
        every fault active at t."""
        st = {k: {"now": iso(t)} for k in ("binance", "telegram", "fred")}
        st["binance"]["faults"] = []
        st["telegram"]["faults"] = []
        st["fred"]["faults"] = []
        st["fred"]["revise"] = self.S["fred_revise"]
        for f in self.faults:
            if f["start"] <= t < f["end"]:
                for srv, v in f.get("ctl", {}).items():
                    for k, x in v.items():
                        if k == "faults":
                            st[srv]["faults"] += x
                        else:
                            st[srv][k] = x
        return st

    # --------------------------------------------------------- the trader

    def trader_start(self, t):
        log = os.path.join(self.W, "trader.log")
        self.trader = subprocess.Popen(
            ["python3", os.path.join(self.top, "tests/trader.py"),
             "--db", self.db, "--lock",
             os.path.join(self.home, "run/write.lock"), "--run",
             "--tag", "live", "--interval", "0.05",
             "--pidfile", self.S["trader_pidfile"],
             "--heartbeat", self.S["trader_heartbeat"],
             "--ctl", self.S["ctl"]["trader"], "--log", log,
             "--start-seq", str(self.trader_next_seq())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.W, "trader.err"), "a"),
            start_new_session=True)
        # Its first write: the table exists, the heartbeat is there.
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            if os.path.exists(self.S["trader_heartbeat"]) and \
                    self.trader_next_seq() > self.trader_seq:
                break
            time.sleep(0.01)

    def trader_next_seq(self):
        log = os.path.join(self.W, "trader.log")
        last = -1
        try:
            with open(log, "rb") as f:
                f.seek(max(0, os.path.getsize(log) - 4096))
                for ln in f.read().splitlines():
                    p = ln.split()
                    if len(p) >= 5 and p[0].isdigit():
                        last = int(p[0])
        except OSError:
            pass
        return last + 1

    def trader_kill(self):
        if self.trader is not None:
            try:
                os.kill(self.trader.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.trader.wait()
            self.trader_seq = self.trader_next_seq()
            self.trader = None

    # ------------------------------------------------------------- jobs

    def job_env(self, t):
        env = {"SHELL": "/bin/sh", "PATH": self.pathline,
               "HOME": self.home, "BT_HOME": self.home,
               "BT_CONF": self.S["conf"], "LOGNAME": "root",
               "USER": "root", "MAILTO": "root", "LC_ALL": "C",
               "TZ": "UTC", "BT_NOW": iso(t), "BT_BOOT_ID": self.boot}
        env.update(self.job_env_extra)
        return env

    def spawn(self, line, t):
        mail = open(os.path.join(self.W, "cron-mail"), "ab")
        return subprocess.Popen(["/bin/sh", "-c", line.cmd],
                                cwd=self.home, env=self.job_env(t),
                                stdin=subprocess.DEVNULL, stdout=mail,
                                stderr=mail, start_new_session=True)

    def run_line(self, line, t, kill=None, background=False):
        mail0 = os.path.getsize(os.path.join(self.W, "cron-mail")) \
            if os.path.exists(os.path.join(self.W, "cron-mail")) else 0
        t0 = time.monotonic()
        p = self.spawn(line, t)
        rec = {"line": line.name, "prog": line.prog, "t": t, "t0": t0,
               "rt0": time.time(), "killed": None, "rc": None}
        if background:
            rec["proc"] = p
            self.bg.append(rec)
            self.jobs.append(rec)
            return rec
        if kill is not None:
            time.sleep(kill / 1000.0)
            victim = None
            for c in descendants(p.pid):
                if comm(c).startswith("bt-"):
                    victim = c
            try:
                if victim is not None:
                    os.kill(victim, signal.SIGKILL)
                    rec["killed"] = comm(victim) or "bt"
                elif p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    rec["killed"] = "session"
            except ProcessLookupError:
                pass
            rec["kill_ms"] = kill
        rc = p.wait()
        rec["rc"] = rc
        rec["dur"] = (time.monotonic() - t0) * 1000
        rec["rt1"] = time.time()
        if kill is None:
            line.durations.append(rec["dur"])
        else:
            # Whatever is left of the job's session (a timeout wrapper
            # whose child died) goes too, as cron's session would.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            if os.path.getsize(os.path.join(self.W, "cron-mail")) != mail0:
                rec["mail"] = True
        except OSError:
            pass
        self.jobs.append(rec)
        return rec

    def reap(self):
        for rec in list(self.bg):
            p = rec["proc"]
            if p.poll() is not None:
                rec["rc"] = p.returncode
                rec["dur"] = (time.monotonic() - rec["t0"]) * 1000
                rec["rt1"] = time.time()
                del rec["proc"]
                self.bg.remove(rec)
                cb = rec.get("on_end")
                if cb:
                    cb(rec)

    def wait_stragglers(self, limit=60):
        """Waits for the commands bt-watchdog started (detached, with our
        BT_HOME in their environment): a restore, a re-fetch.  A minute
        is over when they are: they would end within it on a real host.
        """
        # Only the jobs' environments hold a BT_BOOT_ID (the servers and
        # the trader inherit this program's).
        needle = b"BT_BOOT_ID=" + self.boot[:24].encode()
        skip = {self.trader.pid} if self.trader else set()
        for r in self.bg:
            skip.add(r["proc"].pid)
            skip.update(descendants(r["proc"].pid))
        t0 = time.monotonic()
        waited = False
        while time.monotonic() - t0 < limit:
            left = [p for p in procs_with_env(needle) if p not in skip and
                    alive(p)]
            if not left:
                return waited
            waited = True
            time.sleep(0.02)
        self.notes.append("stragglers still running after %ds" % limit)
        return waited

    # -------------------------------------------------------- observing

    def observe(self, t):
        pl = self.S["ping_log"]
        try:
            with open(pl, "rb") as f:
                f.seek(self.ping_off)
                data = f.read()
            self.ping_off += len(data)
            n = sum(1 for ln in data.splitlines()
                    if b'"status":200' in ln)
        except OSError:
            n = 0
        self.minute_pings[t] = n
        try:
            with open(self.S["messages"], "rb") as f:
                f.seek(self.msg_off)
                data = f.read()
            # Whole lines only.
            k = data.rfind(b"\n") + 1
            self.msg_off += k
            for ln in data[:k].splitlines():
                try:
                    self.minute_msgs.append((t, json.loads(ln)))
                except ValueError:
                    pass
        except OSError:
            pass

    def store_newest(self, t):
        """After a fetch: the newest stored open time of every pair, and
        any stored candle that is still open at t (not closed by now)."""
        try:
            c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True,
                                timeout=5)
            for s in self.symbols:
                for tf in self.tfs:
                    r = c.execute("SELECT max(timestamp) FROM %s WHERE "
                                  "symbol=?" % VIEW[tf], (s,)).fetchone()
                    if r and r[0] is not None:
                        self.newest.setdefault((s, tf), []).append(
                            (t, r[0]))
                        if r[0] + IV[tf] > t:
                            self.open_stored.append((t, s, tf, r[0]))
            c.close()
        except sqlite3.Error as e:
            self.notes.append("%s: cannot read the store: %s" % (hm(t), e))

    # ------------------------------------------------------------ faults

    def add_fault(self, name, start, end, **kw):
        f = dict(name=name, start=start, end=end, **kw)
        self.faults.append(f)
        return f

    def at(self, t, fn):
        self.actions.setdefault(t - t % MIN, []).append(fn)

    def expect_ev(self, fault, prog, kind, onset, why, **kw):
        """An expected CRITICAL: prog and kind (a regex on the events'
        kind), and its onset (ms, or a callable evaluated at the end)."""
        self.expect.append(dict(fault=fault, prog=prog, kind=kind,
                                onset=onset, why=why, **kw))

    def tolerate_ev(self, fault, prog, kind, start, end, why):
        self.tolerate.append(dict(fault=fault, prog=prog, kind=kind,
                                  start=start, end=end, why=why))

    # -------------------------------------------------------- the loop

    def minute(self, t):
        for fn in self.actions.get(t, []):
            fn(t)
        st = self.server_state(t)
        for k in ("binance", "telegram", "fred"):
            self.ctl(k, st[k])
        hb = not any(a <= t < b for a, b in self.hb_windows)
        self.ctl("trader", {"now": iso(t), "heartbeat": hb})
        if t % DAY == 0 and t != self.start:
            self.logrotate(t)
        if any(a <= t < b for a, b in self.cron_down):
            return
        for line in self.lines:
            if not line.due(t):
                continue
            if any(r["line"] == line.name for r in self.bg):
                # The hung copy holds the lock: flock -n exits 75, as
                # cron's second copy would.
                pass
            k = self.kill_plan.get((t, line.name))
            hang = self.hang_plan.get((t, line.name))
            if hang:
                rec = self.run_line(line, t, background=True)
                rec["hang"] = True
                rec["on_end"] = hang
                continue
            kill = None
            if k is not None:
                kill = k * 1.1 * line.typical_ms()
            rec = self.run_line(line, t, kill=kill)
            if kill is not None:
                self.kills.append(rec)
            if line.name == "fetch":
                self.store_newest(t)
            if line.name == "watchdog":
                if self.wait_stragglers():
                    self.store_newest(t)

    def logrotate(self, t):
        """logrotate's copytruncate of every log, as at midnight."""
        d = os.path.join(self.home, "logs")
        stamp = datetime.datetime.fromtimestamp(
            (t - DAY) // 1000, datetime.timezone.utc).strftime("%Y%m%d")
        n = 0
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if not os.path.isfile(p) or re.search(r"-\d{8}$", name):
                continue
            try:
                shutil.copyfile(p, p + "-" + stamp)
                with open(p, "r+b") as f:
                    f.truncate(0)
                n += 1
            except OSError as e:
                self.notes.append("logrotate %s: %s" % (name, e))
        self.rotations = getattr(self, "rotations", 0) + n

    def setup(self):
        """Before the first minute: 60 days of history, the trader, and a
        first backup (taken after the trader made its table, or no
        restore would accept it)."""
        env = self.job_env(self.start - 10 * MIN)
        env["PATH"] = self.pathline
        st = self.server_state(self.start - 10 * MIN)
        self.ctl("binance", st["binance"])
        self.ctl("fred", st["fred"])
        log = open(os.path.join(self.W, "setup.log"), "ab")
        for args, t in ((["bt-fetch", "-q"], self.start - 10 * MIN),
                        (None, None),
                        (["bt-backup", "-q"], self.start - 5 * MIN)):
            if args is None:
                self.ctl("trader", {"now": iso(self.start - 8 * MIN)})
                self.trader_start(self.start - 8 * MIN)
                continue
            env["BT_NOW"] = iso(t)
            rc = subprocess.call(args, cwd=self.home, env=env,
                                 stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=log)
            if rc != 0:
                self.fail("setup", "%s exited %d (setup.log)" % (
                    " ".join(args), rc))
        self.store_newest(self.start - 10 * MIN)

    def run(self):
        self.plan()
        self.setup()
        self.print_plan()
        t = self.start
        last_report = time.monotonic()
        while t <= self.end:
            m0 = time.monotonic()
            self.minute(t)
            self.reap()
            # One simulated minute is one real second while a hung job
            # waits for its (scaled) timeout: the crontab's minutes were
            # scaled to seconds.
            if self.bg:
                left = 1.0 - (time.monotonic() - m0)
                if left > 0:
                    time.sleep(left)
                self.reap()
            self.observe(t)
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                say("at %s, %d job runs, %.0fs" % (
                    iso(t), len(self.jobs), time.monotonic() -
                    self.wallclock))
            t += MIN
        t0 = time.monotonic()
        while self.bg and time.monotonic() - t0 < 60:
            self.reap()
            time.sleep(0.05)
        self.wait_stragglers()
        self.loop_s = time.monotonic() - self.wallclock

    # -------------------------------------------------------- the plan

    def plan(self):
        self.kill_plan = {}
        self.hang_plan = {}

    def print_plan(self):
        say("seed %d, %s mode, %s to %s" % (self.seed, self.mode,
                                            iso(self.start), iso(self.end)))
        for f in sorted(self.faults, key=lambda f: f["start"]):
            say("  fault %-22s %s .. %s  %s" % (
                f["name"], hm(f["start"]), hm(f["end"]), f.get("what", "")))
        for (t, n), k in sorted(self.kill_plan.items()):
            pass
        say("  kill -9: %d planned: %s" % (len(self.kill_plan), ", ".join(
            "%s %s" % (hm(t), n) for (t, n) in sorted(self.kill_plan))))


def main():
    setup = json.load(open(sys.argv[1]))
    w = Week(setup)
    try:
        w.run()
    finally:
        w.trader_kill()
    say("loop done: %d job runs in %.0fs" % (len(w.jobs), w.loop_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
