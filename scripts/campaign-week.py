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

import datetime
import fcntl
import json
import os
import random
import re
import shutil
import signal
import sqlite3
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

class NoRoom(Exception):
    pass


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
        self.cur_t = self.start
        self.faults = []
        self.actions = {}       # minute -> [callables]
        self.expect = []        # expected events
        self.tolerate = []      # tolerated follow-ons
        self.fault_rules = {"binance": {}, "telegram": {}, "fred": {},
                            "ping": {}}
        self.tg_down = []       # (start, end) Telegram refuses
        self.probe_events = []  # (minute, message) injected CRITICALs
        self.silences = []      # expected heartbeat silences
        self.planted = []
        self.corruption = None
        self.state_fault = None
        self.hung = None
        self.delisted_at = None
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
                    if (d == datetime.date(2025, 5, 26) and sid != "DFF") \
                            or (d == datetime.date(2025, 5, 23) and
                                sid == "DGS10"):
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
               "rt0": time.time(), "killed": None, "rc": None,
               "blog0": self.blog_size()}
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
        rec["blog1"] = self.blog_size()
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

    def blog_size(self):
        try:
            return os.path.getsize(self.S["binance_log"])
        except OSError:
            return 0

    def reap(self):
        for rec in list(self.bg):
            p = rec["proc"]
            if p.poll() is not None:
                rec["rc"] = p.returncode
                rec["dur"] = (time.monotonic() - rec["t0"]) * 1000
                rec["rt1"] = time.time()
                rec["ended_sim"] = self.cur_t
                rec["blog1"] = self.blog_size()
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

    def store_newest(self, t, at=None):
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
                            (t if at is None else at, r[0]))
                        if at is None and r[0] + IV[tf] > t:
                            self.open_stored.append((t, s, tf, r[0]))
            c.close()
        except sqlite3.Error as e:
            # The corrupt minutes: counted, not listed.
            self.unreadable = getattr(self, "unreadable", 0) + 1
            if self.unreadable == 1:
                self.notes.append("%s: cannot read the store: %s" % (
                    hm(t), e))

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
        if hb and self.trader is not None:
            # The trader's event loop beats within a few ms of the clock
            # moving; waiting for it keeps the heartbeat's age exact
            # whatever the load (the loop may run minutes in a few ms).
            want = iso(t)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 2:
                try:
                    with open(self.S["trader_heartbeat"]) as f:
                        if f.read().strip() == want:
                            break
                except OSError:
                    pass
                time.sleep(0.001)
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
            if line.name == "watchdog":
                # What the watchdog will see (a restore's outcome too).
                self.store_newest(t, at=t)
            kill = None
            if k is not None:
                kill = k * 1.1 * line.typical_ms()
            rec = self.run_line(line, t, kill=kill)
            if kill is not None:
                self.kills.append(rec)
            if line.name == "fetch":
                self.store_newest(t)
            if line.name == "watchdog":
                self.wait_stragglers()
                rl = os.path.join(self.home, "logs/recovery.log")
                sz = os.path.getsize(rl) if os.path.exists(rl) else 0
                if sz != getattr(self, "recovery_size", 0):
                    # It acted (a restore, a re-fetch): the store moved.
                    self.recovery_size = sz
                    self.store_newest(t, at=t + 30_000)

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
            self.cur_t = t
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

    def book(self, dur, lo, hi, lane, align=MIN, margin=30 * MIN,
             offset=0):
        """A random start (aligned, plus offset) in [lo, hi - dur] whose
        window [start - margin, start + dur + margin] is free in lane."""
        books = self.books.setdefault(lane, [])
        # A tight day: the margins shrink before the placement gives up.
        for m in (margin, margin // 2, 5 * MIN, 0):
            for _ in range(1500):
                n = (hi - dur - lo) // align
                if n <= 0:
                    break
                s = lo + self.rng.randrange(n) * align + offset
                if all(s + dur + m <= a or b + m <= s for a, b in books):
                    books.append((s, s + dur))
                    return s
        raise NoRoom("cannot place a %d min fault in lane %s" % (
            dur // MIN, lane))

    def book_all(self, s, dur):
        for lane in ("A", "B"):
            self.books.setdefault(lane, []).append((s, s + dur))

    def plan(self):
        """The seeded schedule; a draw that does not fit is drawn again
        from a sequence the seed also fixes."""
        for attempt in range(50):
            self.rng = random.Random(self.seed * 1000003 + attempt)
            for k in ("faults", "expect", "tolerate", "silences",
                      "trader_windows", "hb_windows", "cron_down",
                      "disk_full", "state_broken", "tg_down", "notes"):
                setattr(self, k, [])
            self.actions = {}
            self.corruption = self.hung = self.state_fault = None
            self.delisted_at = None
            try:
                return self.plan_once()
            except NoRoom as e:
                last = e
        raise SystemExit("campaign-week: %s (seed %d)" % (last, self.seed))

    def plan_once(self):
        self.kill_plan = {}
        self.hang_plan = {}
        self.books = {}
        self.protect = []       # no kill in these windows
        rng = self.rng
        S, E = self.start, self.end
        days = (E - S) // DAY
        first_midnight = S - S % DAY + DAY

        # The store's corruption, while the trader is down, around the
        # 01:10 routine validation of one night.
        night = first_midnight + rng.randrange(days) * DAY
        down, back = night + 45 * MIN, night + 75 * MIN
        self.book_all(night + 30 * MIN, 100 * MIN)
        self.protect.append((night + 20 * MIN, night + 130 * MIN))
        self.fault_corruption(down, back, night)

        # Lane A: what would blur each other's alerts; the longest and
        # the hour-aligned first, so that a tight day still fits.
        usable = (S + 60 * MIN, E - 90 * MIN)
        a = self.book(180 * MIN, *usable, "A")
        self.fault_cron_stop(a, a + 180 * MIN)
        a = self.book(180 * MIN, *usable, "A")
        self.fault_binance_5xx(a, a + 180 * MIN)
        a = self.book(130 * MIN, *usable, "A", align=HOUR)
        self.fault_binance_418(a)
        # One fetch run each (the :05 run of an hour).
        for name in ("binance_429", "truncated_pages", "open_candle",
                     "hung_fetch"):
            a = self.book(HOUR, *usable, "A", align=HOUR)
            getattr(self, "fault_" + name)(a)
        if self.tmpfs:
            a = self.book(60 * MIN, *usable, "A")
            self.fault_disk_full(a, a + 60 * MIN)
        else:
            self.notes.append("disk full skipped: not root, or no tmpfs")
        a = self.book(40 * MIN, *usable, "A")
        self.fault_state_damage(a)
        a = self.book(5 * MIN, *usable, "A")
        self.fault_reboot(a)

        # Lane B: Telegram (its outage may overlap the exchange's faults;
        # not cron's stop, the disk, the state file or the corruption).
        for a, b in self.books["A"]:
            f = next((f for f in self.faults if f["start"] == a), None)
            if f and f["name"] in ("cron_stop", "disk_full", "state_damage",
                                   "reboot"):
                self.books.setdefault("B", []).append((a, b))
        a = self.book(140 * MIN, *usable, "B")
        self.fault_telegram(a, a + 120 * MIN, a + 135 * MIN)
        a = self.book(10 * MIN, *usable, "B")
        self.fault_probe(a, "baseline")
        a = self.book(20 * MIN, *usable, "B")
        self.fault_trader_heartbeat(a, a + 20 * MIN)

        # FRED at a 02:02 macro run; the delisting part-way.
        two = first_midnight + rng.randrange(days) * DAY + 2 * HOUR
        self.fault_fred(two)
        self.fault_delisted(S + (E - S) // 3 + rng.randrange(12) * HOUR)

        # The runs a fault's own row judges are no victims either.
        for f in self.faults:
            if "run" in f:
                self.protect.append((f["run"], f["run"] + (
                    2 * HOUR if f["name"] == "binance_418" else 0)))

        # kill -9: victims and minutes, outside the protected windows.
        names = ["fetch", "validate", "validate_full", "backtest",
                 "sentiment", "macro", "backup", "vacuum", "digest",
                 "watchdog"]
        bylines = {ln.name: ln for ln in self.lines}
        n = int(self.S["kills"])
        tries = 0
        while len(self.kill_plan) < n and tries < 100000:
            tries += 1
            name = names[len(self.kill_plan) % len(names)] \
                if rng.random() < 0.7 else rng.choice(names)
            ln = bylines.get(name)
            if ln is None:
                continue
            t = S + rng.randrange((E - S) // MIN) * MIN
            # Daily jobs: at their slot's run half the time (the run that
            # does the work), else any run.
            slot = {"validate": 1, "validate_full": 1, "backup": 3,
                    "vacuum": 3, "sentiment": 2, "macro": 2}.get(name)
            if slot is not None and rng.random() < 0.5:
                t = t - t % DAY + slot * HOUR
                if t < S:
                    t += DAY
            while not ln.due(t) and t < E:
                t += MIN
            if t >= E or (t, name) in self.kill_plan:
                continue
            if any(a - 10 * MIN <= t <= b + 70 * MIN
                   for a, b in self.protect):
                continue
            self.kill_plan[(t, name)] = rng.random()

    def fault_corruption(self, down, back, night):
        day = datetime.datetime.fromtimestamp(
            night // 1000, datetime.timezone.utc).strftime("%Y%m%d")
        f = self.add_fault("store_corruption", down, back + 70 * MIN,
                           what="trader down %s..%s, 3 candle pages "
                           "overwritten at %s, planted backups/"
                           "db_backup_%s.db (0 bytes) and "
                           "db_backup_weekly_%s.db (foreign)" % (
                               hm(down), hm(back), hm(down + 5 * MIN),
                               day, day))
        f["corrupt_at"] = down + 5 * MIN
        f["validate_at"] = night + 70 * MIN
        self.trader_windows.append((down, back))
        self.at(down, lambda t: self.trader_kill())
        self.at(down + 5 * MIN, lambda t: self.corrupt_store(t, day))
        self.at(back, lambda t: self.trader_start(t))
        self.at(back + 10 * MIN, self.operator_resume)
        self.corruption = f
        self.trader_expect(f, down, back)
        for prog, kind in (("bt-validate", "integrity"),
                           ("bt-watchdog", "integrity")):
            self.expect_ev(f, prog, kind, f["validate_at"],
                           "the 01:10 routine validation runs quick_check")
        self.expect_ev(f, "bt-watchdog", "recovery", f["validate_at"],
                       "bt-watchdog starts the restore (the trader is "
                       "down)", match="restore")
        self.expect_ev(f, "bt-backup", "restore", f["validate_at"],
                       "bt-backup --restore's CRITICAL restore event")
        for prog, kind in (("bt-validate", "coverage|integrity"),
                           ("bt-fetch", "coverage"),
                           ("bt-backup", "restore_refused|backup_failed"),
                           ("bt-watchdog", "freshness|integrity|recovery")):
            self.tolerate_ev(f, prog, kind, down, back + 70 * MIN,
                             "follow-ons of the corruption and its restore")

    def trader_expect(self, f, down, back, hb=False):
        self.expect_ev(f, "bt-watchdog", "trader", down + (
            2 * MIN if hb else 0), "the live trader's %s" % (
            "heartbeat older than 120 s" if hb else "pid gone"))
        self.expect_ev(f, "bt-watchdog", "recovery", down + (
            2 * MIN if hb else 0), "the backtest paused while the trader "
            "is down", match="pause")
        self.tolerate_ev(f, "bt-watchdog", "trader|recovery|backtest",
                         down, back + 20 * MIN, "the trader's outage")

    def operator_resume(self, t):
        """The operator, having looked, lets the backtest run again."""
        p = os.path.join(self.home, "run/backtest.paused")
        if os.path.exists(p):
            os.unlink(p)
            self.resumes = getattr(self, "resumes", 0) + 1

    def corrupt_store(self, t, day):
        lock = open(os.path.join(self.home, "run/write.lock"), "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            c = sqlite3.connect(self.db, timeout=10)
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = [r[0] for r in c.execute(
                "SELECT pageno FROM dbstat WHERE name='candles' AND "
                "pagetype='leaf' ORDER BY pageno")]
            psz = c.execute("PRAGMA page_size").fetchone()[0]
            c.close()
            hit = self.rng.sample(pages, 3)
            with open(self.db, "r+b") as f:
                for p in hit:
                    f.seek((p - 1) * psz)
                    f.write(self.rng.randbytes(psz))
            self.corruption["pages"] = hit
            self.corruption["events_before"] = self.event_ids()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
        b = os.path.join(self.home, "backups")
        open(os.path.join(b, "db_backup_%s.db" % day), "wb").close()
        foreign = os.path.join(b, "db_backup_weekly_%s.db" % day)
        c = sqlite3.connect(foreign)
        c.execute("CREATE TABLE notes(x)")
        c.execute("INSERT INTO notes VALUES ('not a bt store')")
        c.commit()
        c.close()
        os.chmod(foreign, 0o600)
        self.planted = ["db_backup_%s.db" % day,
                        "db_backup_weekly_%s.db" % day]

    def event_ids(self):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % self.st, uri=True)
            ids = {r[0] for r in c.execute("SELECT event_id FROM events")}
            c.close()
            return ids
        except sqlite3.Error:
            return None

    def fault_cron_stop(self, a, b):
        f = self.add_fault("cron_stop", a, b, what="no job runs")
        self.cron_down.append((a, b))
        self.protect.append((a, b))
        self.silence(f, a, b, "cron stopped")
        self.tolerate_ev(f, "bt-watchdog", "job:.*|backtest|alert_path|"
                         "freshness|recovery", a, b + 90 * MIN,
                         "what cron's stop leaves overdue")

    def fault_reboot(self, r):
        f = self.add_fault("reboot", r, r + 2 * MIN,
                           what="every job and the trader killed, cron "
                           "down 2 min, a new boot id")
        self.cron_down.append((r, r + 2 * MIN))
        self.protect.append((r, r + 2 * MIN))
        self.at(r, self.reboot)
        self.at(r + MIN, lambda t: self.trader_start(t))
        self.tolerate_ev(f, "bt-watchdog", "trader|recovery|backtest",
                         r, r + 30 * MIN, "the minutes of the reboot")

    def reboot(self, t):
        for rec in list(self.bg):
            try:
                os.killpg(rec["proc"].pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.trader_kill()
        self.boot = "0c0ffee0-0000-4000-8000-%012d" % (len(self.boots) + 1)
        self.boots.append(self.boot)

    def fault_disk_full(self, a, b):
        f = self.add_fault("disk_full", a, b, what="BT_HOME's tmpfs filled "
                           "to ENOSPC")
        self.disk_full.append((a, b))
        self.protect.append((a, b))
        self.at(a, self.fill_disk)
        self.at(b, self.unfill_disk)
        self.silence(f, a, b, "the disk full")
        self.tolerate_ev(f, "bt-watchdog", "disk|job:.*|alert_path|"
                         "freshness|recovery", a, b + 90 * MIN,
                         "what the full hour leaves")
        self.tolerate_ev(f, "bt-backup", "backup_failed|vacuum_failed", a,
                         b + 90 * MIN, "a backup during the full hour")

    def fill_disk(self, t):
        p = os.path.join(self.home, "filler")
        with open(p, "wb", buffering=0) as f:
            for size in (1 << 20, 4096, 512):
                try:
                    while f.write(b"\0" * size):
                        pass
                except OSError:
                    pass
        self.filled_mb = os.path.getsize(p) / 1048576.0

    def unfill_disk(self, t):
        try:
            os.unlink(os.path.join(self.home, "filler"))
        except OSError:
            pass

    def fault_state_damage(self, a):
        rep = a + 21 * MIN
        f = self.add_fault("state_damage", a, rep, what="the state file's "
                           "events_unsent index page overwritten; repaired "
                           "by the operator at %s" % hm(rep))
        self.state_broken.append((a, rep))
        self.protect.append((a, rep + 10 * MIN))
        self.at(a, self.damage_state)
        self.at(rep, self.repair_state)
        self.silence(f, a, rep, "the state file broken (the alert path)")
        self.tolerate_ev(f, "bt-watchdog", "alert_path|job:.*|recovery",
                         a, rep + 90 * MIN, "the alert path while the "
                         "state file was broken")
        self.state_fault = f

    def damage_state(self, t):
        lock = open(os.path.join(self.home, "run/write.lock"), "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            self.state_fault["events_before"] = self.event_ids()
            c = sqlite3.connect(self.st, timeout=10)
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            page = c.execute("SELECT pageno FROM dbstat WHERE "
                             "name='events_unsent' ORDER BY pageno DESC"
                             ).fetchone()[0]
            psz = c.execute("PRAGMA page_size").fetchone()[0]
            c.close()
            with open(self.st, "r+b") as f:
                f.seek((page - 1) * psz)
                f.write(self.rng.randbytes(psz))
            self.state_fault["page"] = page
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def repair_state(self, t):
        """The operator's repair.  bt has no command for it today; a
        future `bt-backup --repair-state' is used when its --help names
        it.  Otherwise: under run/write.lock, the sqlite3 shell's .dump
        (which reads the tables, not the damaged index) into a new file,
        WAL mode, renamed over the old one."""
        env = self.job_env(t)
        h = subprocess.run(["bt-backup", "--help"], env=env,
                           capture_output=True, text=True).stdout
        if "--repair-state" in h:
            rc = subprocess.call(["bt-backup", "--repair-state"], env=env,
                                 cwd=self.home, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            self.state_fault["repair"] = "bt-backup --repair-state: %d" % rc
            return
        lock = open(os.path.join(self.home, "run/write.lock"), "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            new = self.st + ".repair"
            dump = subprocess.run(["sqlite3", self.st, ".dump"],
                                  capture_output=True).stdout
            for x in (new, new + "-wal", new + "-shm"):
                if os.path.exists(x):
                    os.unlink(x)
            subprocess.run(["sqlite3", new], input=dump, check=True,
                           capture_output=True)
            subprocess.run(["sqlite3", new, "PRAGMA journal_mode=WAL"],
                           check=True, capture_output=True)
            os.chmod(new, 0o600)
            for x in (self.st + "-wal", self.st + "-shm"):
                if os.path.exists(x):
                    os.unlink(x)
            os.rename(new, self.st)
            self.state_fault["repair"] = "sqlite3 .dump into a new file"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def fault_trader_heartbeat(self, a, b):
        f = self.add_fault("trader_heartbeat", a, b, what="the trader "
                           "writes on, its heartbeat stops")
        self.hb_windows.append((a, b))
        self.trader_expect(f, a, b, hb=True)
        self.at(b + 10 * MIN, self.operator_resume)

    def fault_binance_5xx(self, a, b):
        f = self.add_fault("binance_5xx", a, b, what="every endpoint 503",
                           ctl={"binance": {"faults": [
                               {"fault": "status", "code": 503,
                                "times": -1}]}})
        self.tolerate_ev(f, "bt-fetch", "circuit_breaker|coverage", a, b,
                         "a run during the outage")
        self.tolerate_ev(f, "bt-watchdog", "job:bt-fetch.*", a,
                         b + 90 * MIN, "the fetch dead-man")

    def fault_binance_429(self, h):
        self.add_fault("binance_429", h, h + HOUR, what="the %s fetch: "
                       "every klines request 429" % hm(h + 5 * MIN),
                       ctl={"binance": {"faults": [
                           {"path": "/api/v3/klines", "fault": "status",
                            "code": 429, "retry_after": 30,
                            "times": -1}]}},
                       run=h + 5 * MIN)

    def fault_binance_418(self, h):
        f = self.add_fault("binance_418", h, h + 130 * MIN,
                           what="the %s fetch banned (418, Retry-After "
                           "5400 s)" % hm(h + 5 * MIN), run=h + 5 * MIN)
        f["ctl"] = {}
        self.add_fault("binance_418_rule", h, h + HOUR, hidden=True,
                       ctl={"binance": {"faults": [
                           {"path": "/api/v3/klines", "fault": "status",
                            "code": 418, "retry_after": 5400,
                            "times": 1}]}})
        self.expect_ev(f, "bt-fetch", "banned", h + 5 * MIN,
                       "the 418: bt-fetch(1)")
        self.tolerate_ev(f, "bt-watchdog", "job:bt-fetch.*", h,
                         h + 3 * HOUR, "the fetch dead-man over the ban")
        self.tolerate_ev(f, "bt-fetch", "banned", h, h + 3 * HOUR,
                         "runs during the ban")

    def fault_truncated_pages(self, h):
        self.add_fault("truncated_pages", h, h + HOUR,
                       what="the %s fetch: 2 klines pages cut in half" %
                       hm(h + 5 * MIN), run=h + 5 * MIN,
                       ctl={"binance": {"faults": [
                           {"path": "/api/v3/klines", "fault": "truncate",
                            "skip": 1, "times": 2}]}})

    def fault_open_candle(self, h):
        # The exchange's clock 2 h ahead for one run: the candle still
        # open looks closed by the server's own time.
        f = self.add_fault("open_candle", h, h + HOUR,
                           what="the %s fetch: /api/v3/time 2 h ahead of "
                           "the klines' clock" % hm(h + 5 * MIN),
                           run=h + 5 * MIN)
        f["ctl"] = {"binance": {"faults": [
            {"path": "/api/v3/time", "fault": "status", "code": 200,
             "body": {"serverTime": h + 5 * MIN + 2 * HOUR},
             "times": -1}]}}

    def fault_hung_fetch(self, h):
        f = self.add_fault("hung_fetch", h, h + HOUR,
                           what="the %s fetch: every klines answer 2.5 s "
                           "late, until its timeout" % hm(h + 5 * MIN),
                           run=h + 5 * MIN,
                           ctl={"binance": {"faults": [
                               {"path": "/api/v3/klines", "fault": "stall",
                                "seconds": 2.5, "times": -1}]}})
        self.protect.append((h, h + HOUR))

        def ended(rec):
            f["rc"] = rec["rc"]
            f["dur"] = rec["dur"]
            f["ended_at"] = rec.get("ended_sim")
        self.hang_plan[(h + 5 * MIN, "fetch")] = ended
        self.hung = f

    def fault_telegram(self, a, b, c):
        f = self.add_fault("telegram", a, c, what="Telegram down (502) "
                           "to %s, then 429 (retry_after 30) to %s" % (
                               hm(b), hm(c)),
                           ctl={})
        self.add_fault("telegram_429", b, c, hidden=True,
                            ctl={"telegram": {"faults": [
                                {"path": "/sendMessage", "fault": "status",
                                 "code": 429, "retry_after": 30,
                                 "times": -1}]}})
        f["ctl"] = {}
        # Down: its proxy answers 502 (nothing reaches a chat).
        self.add_fault("telegram_down", a, b, hidden=True,
                       ctl={"telegram": {"faults": [
                           {"path": "/sendMessage", "fault": "html",
                            "code": 502, "times": -1}]}})
        self.tg_down.append((a, c))
        self.fault_probe(a + 10 * MIN, "during Telegram's outage", f)
        self.silence(f, a + 10 * MIN, c, "the alert path (Telegram)")
        self.tolerate_ev(f, "bt-watchdog", "alert_path", a, c + 30 * MIN,
                         "the alert path failing")

    def fault_probe(self, t, why, parent=None):
        f = parent or self.add_fault("probe", t, t + 10 * MIN,
                                     what="a CRITICAL from the trader's "
                                     "own script, piped into bt-digest")
        msg = "probe %s: the live trader lost its websocket (%s)" % (
            hm(t), why)
        self.at(t, lambda tt: self.probe(tt, msg))
        self.expect_ev(f, "trader", "websocket", t, "a script's CRITICAL "
                       "through bt-digest's stdin", text=msg)

    def probe(self, t, msg):
        line = json.dumps({"prog": "trader", "event": "websocket",
                           "severity": "CRITICAL", "message": msg})
        env = self.job_env(t)
        p = subprocess.run(["sh", "-c", "cd \"$BT_HOME\" && flock -o -E 75 "
                            "run/digest.lock bt-digest -q >>logs/bt-digest."
                            "jsonl 2>>logs/bt-digest.log"], input=line,
                           text=True, env=env)
        self.probe_events.append((t, msg, p.returncode))

    def fault_fred(self, two):
        self.add_fault("fred", two, two + HOUR, what="the %s macro run: "
                       "DGS10 answers 500; '.' values on holidays" %
                       hm(two + 2 * MIN), run=two + 2 * MIN,
                       ctl={"fred": {"faults": [
                           {"series_id": "DGS10", "fault": "status",
                            "code": 500, "times": -1}]}})

    def fault_delisted(self, t):
        self.delisted_at = t
        self.add_fault("delisted", t, self.end + MIN,
                       what="LUNAUSDT delisted (status BREAK, no candles "
                       "after)", ctl={"binance": {
                           "delisted": [self.delisted_sym],
                           "delisted_at": iso(t)}})

    def silence(self, f, a, b, why):
        self.silences.append((a, b, why, f["name"]))

    def print_plan(self):
        say("seed %d, %s mode, %s to %s" % (self.seed, self.mode,
                                            iso(self.start), iso(self.end)))
        for f in sorted(self.faults, key=lambda f: f["start"]):
            if f.get("hidden"):
                continue
            say("  %-18s %s .. %s  %s" % (
                f["name"], hm(f["start"]), hm(f["end"]), f.get("what", "")))
        say("  kill -9 (%d): %s" % (len(self.kill_plan), ", ".join(
            "%s %s" % (hm(t), n) for (t, n) in sorted(self.kill_plan))))
        for n in self.notes:
            say("  note: " + n)

    # ========================================================= verdicts

    # Rows that fail today because of a defect the lead will fix in C.
    # Only a row named here, with its defect, is XFAIL; any other failure
    # counts.  Remove an entry when its fix is merged.
    XFAIL = {
        # Empty: the four defects this campaign found are fixed (a wrong
        # server clock storing open candles, no BT_FETCH_DEADLINE, a
        # damaged store's coverage reported as "0 of 0" with exit 69, the
        # daily digest quadratic in the runs rows).
    }

    def row(self, name, ok, detail, figure=None):
        xf = not ok and name in self.XFAIL
        self.rows.append((name, ok, xf, detail))
        kv = {"row": name, "ok": bool(ok), "detail": detail}
        if xf:
            kv["xfail"] = self.XFAIL[name]
        if figure:
            kv.update(figure)
        self.fig(**kv)
        if not ok and not xf:
            self.fail(name, detail)
        elif xf:
            self.xfails.append((name, detail))
            say("XFAIL: %s: %s (known: %s)" % (name, detail,
                                               self.XFAIL[name]))

    def load_state(self):
        c = sqlite3.connect("file:%s?mode=ro" % self.st, uri=True,
                            timeout=10)
        c.row_factory = sqlite3.Row
        self.events = [dict(r) for r in c.execute(
            "SELECT * FROM events ORDER BY id")]
        self.runs = [dict(r) for r in c.execute(
            "SELECT * FROM runs ORDER BY id")]
        c.close()

    def wd_ok_minutes(self):
        """The minutes at which bt-watchdog ran and could write the state
        file: not killed, not the disk full, not the state file broken."""
        bad = self.disk_full + self.state_broken
        return sorted(r["t"] for r in self.jobs if r["line"] == "watchdog"
                      and r["rc"] in (0, 1, 78) and not r.get("killed") and
                      not any(a <= r["t"] < b for a, b in bad))

    def first_recordable(self, t, prog):
        """When an event of prog whose rule holds from t can be recorded:
        the first watchdog run at or after t that could write the state
        file (for bt-watchdog), or t itself for a program that raises its
        event in the run that finds it."""
        if prog != "bt-watchdog":
            return t
        for m in self.wdm:
            if m >= t:
                return m
        return None

    # ---------------------------------------------------------- oracles

    def episodes(self, name, prog, kind, holds, why, **kw):
        """Maximal runs of minutes where holds(t); each is an expected
        CRITICAL of prog/kind with its onset (the first such minute)."""
        out = []
        cur = None
        t = self.start
        while t <= self.end:
            h = holds(t)
            if h and cur is None:
                cur = [t, t]
            elif h:
                cur[1] = t
            elif cur is not None:
                out.append(tuple(cur))
                cur = None
            t += MIN
        if cur is not None:
            out.append(tuple(cur))
        for a, b in out:
            self.oracle.append(dict(name=name, prog=prog, kind=kind,
                                    onset=a, last=b, why=why, **kw))

    def oracles(self):
        self.oracle = []
        runs = self.runs
        # The fetch dead-man: no success in 60 + 60 min (overdue), or no
        # run recorded in 60 + 15 (missing): bt-watchdog(1), job:.
        fs = sorted(r["started"] for r in runs if r["prog"] == "bt-fetch"
                    and r["job"] == "" and r["exit"] in (0, 1))
        fr = sorted(r["started"] for r in runs if r["prog"] == "bt-fetch"
                    and r["job"] == "")
        import bisect

        def last_before(v, t):
            i = bisect.bisect_right(v, t)
            return v[i - 1] if i else None

        def fetch_dead(t):
            ls = last_before(fs, t)
            lr = last_before(fr, t)
            ls = self.start if ls is None else ls
            lr = self.start if lr is None else lr
            return t - ls > 120 * MIN or t - lr > 75 * MIN
        self.episodes("fetch dead-man", "bt-watchdog", "job:bt-fetch",
                      fetch_dead, "no successful bt-fetch run for 60 + 60 "
                      "min, or none at all for 60 + 15 min")

        # Coverage: the share of counted pairs current, < 95%.
        thr = {"1h": 6 * HOUR, "4h": 24 * HOUR, "1d": 7 * DAY}
        hist = {k: sorted(v) for k, v in self.newest.items()}

        def newest_at(k, t):
            v = hist.get(k, [])
            i = bisect.bisect_right(v, (t, float("inf")))
            return v[i - 1][1] if i else None

        def stale(t):
            cnt = cur = 0
            for s in self.symbols:
                if s == self.delisted_sym and self.delisted_at is not None \
                        and t >= self.delisted_at:
                    continue
                for tf in self.tfs:
                    cnt += 1
                    n = newest_at((s, tf), t)
                    if n is not None and t - n <= thr[tf]:
                        cur += 1
            return cnt and cur / cnt < 0.95
        self.coverage_at = stale
        self.episodes("coverage", "bt-watchdog", "freshness", stale,
                      "coverage below 95% (bt(7))")

        # The alert path: an unsent CRITICAL older than 300 s, the last 3
        # digest runs failed, or no digest run for 300 s.
        crit = [(e["ts"], e["sent"]) for e in self.events
                if e["severity"] == "CRITICAL"]
        dig = [(r["started"], r["exit"], r["ended"]) for r in runs
               if r["prog"] == "bt-digest"]
        dig.sort()
        dstart = [d[0] for d in dig]

        def alert_fail(t):
            for ts, sent in crit:
                if ts <= t - 300_000 and (sent is None or sent > t):
                    return True
            i = bisect.bisect_right(dstart, t)
            last3 = dig[max(0, i - 3):i]
            if len(last3) == 3 and all(
                    (e is not None and e not in (0, 75)) or
                    (e is None and t - st > 120_000) for st, e, _ in last3):
                return True
            ld = dstart[i - 1] if i else self.start
            return t - ld > 300_000 and t - self.start > 300_000
        self.episodes("alert path", "bt-watchdog", "alert_path", alert_fail,
                      "an unsent CRITICAL over 300 s, 3 failed digest runs, "
                      "or no digest run for 300 s")

    # ---------------------------------------------------------- matching

    def line_prefix(self, e):
        p = "%s %s" % (e["prog"], e["kind"])
        if e.get("symbol"):
            p += " " + e["symbol"]
        if e.get("tf"):
            p += " " + e["tf"]
        return p + ":"

    def delivered(self, e, since):
        """(minute, chat) of the first message at or after since whose
        text carries e's line."""
        pre = "Z " + self.line_prefix(e)
        for m, msg in self.minute_msgs:
            if m >= since and pre in msg.get("text", ""):
                return m, msg.get("chat_id")
        return None, None

    def tg_first_ok(self, t):
        """t, or when Telegram refused at t, the first minute after its
        outage at which it took a message."""
        for a, b in self.tg_down:
            if a <= t < b:
                for m, _ in self.minute_msgs:
                    if m >= b:
                        return m
                return None
        return t

    def match_events(self):
        crit = [e for e in self.events if e["severity"] == "CRITICAL"]
        for e in crit:
            e["_why"] = None
        self.table = []

        def find(prog, kind, lo, hi, match=None, text=None):
            for e in crit:
                if e["prog"] != prog or not re.fullmatch(kind, e["kind"]):
                    continue
                if not lo <= e["ts"] <= hi:
                    continue
                if match and match not in (e["message"] or "") + \
                        (e["detail"] or ""):
                    continue
                if text and text not in (e["message"] or ""):
                    continue
                return e
            return None

        items = []
        for x in self.expect:
            items.append(dict(x, fault=x["fault"]["name"], source="fault"))
        for o in self.oracle:
            f = self.attribute(o["onset"], o["prog"], o["kind"])
            items.append(dict(o, fault=f or "-", source="rule",
                              attributed=f is not None))
        for x in items:
            onset = x["onset"]
            due = self.first_recordable(onset, x["prog"])
            last = x.get("last", onset)
            recordable = due is not None and due <= last
            hi = (due if due is not None else onset) + 2 * MIN
            e = find(x["prog"], x["kind"], onset - MIN, hi, x.get("match"),
                     x.get("text"))
            r = dict(fault=x["fault"], what="%s %s%s" % (
                x["prog"], x["kind"], (" (%s)" % x["match"]) if
                x.get("match") else ""), onset=onset, why=x["why"])
            if x["source"] == "rule" and not x["attributed"]:
                r["miss"] = "no fault explains this condition: %s" % \
                    x["why"]
            if e is None:
                if x["source"] == "rule" and not recordable:
                    r["note"] = "not recordable (no watchdog run could " \
                        "write the state file while it held)"
                else:
                    r["miss"] = r.get("miss") or "not raised by %s" % (
                        hm(hi))
                self.table.append(r)
                continue
            e["_why"] = x["fault"]
            r["recorded"] = e["ts"]
            ok_from = self.tg_first_ok(e["ts"])
            m, chat = self.delivered(e, e["ts"])
            r["message"] = m
            r["chat"] = chat
            if m is None:
                r["miss"] = "never reached Telegram"
            else:
                base = max(e["ts"], ok_from or e["ts"])
                r["delay"] = (m - base) // 1000
                if m - base > 2 * MIN:
                    r["miss"] = "reached Telegram %d s after %s" % (
                        (m - base) // 1000, "Telegram's first 2xx"
                        if base != e["ts"] else "it was recorded")
            self.table.append(r)
        # Every other CRITICAL must be a follow-on the table tolerates:
        # a repeat or state change inside an expected condition, or a
        # listed follow-on of a fault.
        for e in crit:
            if e["_why"]:
                continue
            for o in self.oracle:
                if o["prog"] == e["prog"] and re.fullmatch(o["kind"],
                                                           e["kind"]) and \
                        o["onset"] - MIN <= e["ts"] <= o["last"] + 5 * MIN:
                    e["_why"] = "rule: " + o["name"]
                    break
            if e["_why"]:
                continue
            for tl in self.tolerate:
                if tl["prog"] == e["prog"] and re.fullmatch(tl["kind"],
                                                            e["kind"]) and \
                        tl["start"] <= e["ts"] <= tl["end"]:
                    e["_why"] = "follow-on: " + tl["fault"]["name"]
                    break
            if e["_why"]:
                continue
            for k in self.kills:
                if k["line"] == "backtest" and e["prog"] == "bt-watchdog" \
                        and e["kind"] in ("backtest", "recovery") and \
                        k["t"] <= e["ts"] <= k["t"] + 3 * HOUR:
                    e["_why"] = "follow-on: kill -9 of the backtest"
                    break
        self.unexpected = [e for e in crit if not e["_why"]]

    def attribute(self, t, prog=None, kind=None):
        """The fault a condition of prog/kind with onset t belongs to: one
        that lists it as a follow-on, else the latest one begun."""
        for k in self.kills:
            # A killed run of the same program, up to 2 h before (its
            # runs row never written: the dead-man counts from the one
            # before).
            if k.get("killed") and k["t"] <= t <= k["t"] + 2 * HOUR and \
                    prog == "bt-watchdog" and kind == "job:" + k["prog"]:
                return "kill -9 %s %s" % (hm(k["t"]), k["line"])
        best = None
        for tl in self.tolerate:
            if prog and tl["prog"] == prog and re.fullmatch(
                    tl["kind"], kind) and tl["start"] <= t <= tl["end"]:
                if best is None or tl["fault"]["start"] > best["start"]:
                    best = tl["fault"]
        if best is not None:
            return best["name"]
        for f in self.faults:
            if f["start"] - 5 * MIN <= t <= f["end"] + 90 * MIN:
                if best is None or f["start"] > best["start"]:
                    best = f
        return best["name"] if best else None

    # ------------------------------------------------------------ checks

    def verify(self):
        self.load_state()
        self.wdm = self.wd_ok_minutes()
        self.oracles()
        self.match_events()
        self.check_events()
        self.check_cap()
        self.check_coverage_events()
        self.check_store()
        self.check_indicators()
        self.check_restore()
        self.check_backtest_nights()
        self.check_trader()
        self.check_end_state()
        self.check_pings()
        self.check_faults()
        self.check_kills()
        self.check_timeouts()
        self.figures()
        self.print_table()

    def check_events(self):
        miss = [r for r in self.table if r.get("miss")]
        for r in self.table:
            self.fig(expected=r["what"], fault=r["fault"],
                     onset=iso(r["onset"]),
                     recorded=iso(r["recorded"]) if r.get("recorded")
                     else None,
                     message=iso(r["message"]) if r.get("message") else None,
                     delay_s=r.get("delay"), miss=r.get("miss"),
                     note=r.get("note"))
        self.row("expected events raised and delivered", not miss,
                 "%d expected, %d missed%s" % (
                     len(self.table), len(miss), "".join(
                         "; %s %s at %s: %s" % (r["fault"], r["what"],
                                                hm(r["onset"]), r["miss"])
                         for r in miss[:6])))
        delays = [r["delay"] for r in self.table if r.get("delay")
                  is not None]
        self.worst_delay = max(delays) if delays else None
        sent = [e for e in self.unexpected if e["sent"]]
        self.row("0 unexpected CRITICAL", not self.unexpected,
                 "%d unexpected CRITICAL events (%d sent)%s" % (
                     len(self.unexpected), len(sent), "".join(
                         "; %s %s %s: %s" % (hm(e["ts"]), e["prog"],
                                             e["kind"], e["message"][:100])
                         for e in self.unexpected[:6])))

    def check_coverage_events(self):
        """Every coverage finding says the same thing twice: X of Y
        pairs current, and the percentage; CRITICAL exactly below 95%."""
        bad = []
        n = 0
        for e in self.events:
            if e["kind"] not in ("coverage", "freshness"):
                continue
            m = re.search(r"(\d+) of (\d+) pairs", e["message"] or "")
            pc = re.search(r"coverage ([\d.]+)%", e["message"] or "")
            if not m or not pc or e["message"].startswith("recovered"):
                continue
            n += 1
            x, y, v = int(m.group(1)), int(m.group(2)), float(pc.group(1))
            want = 100.0 * x / y if y else 0.0
            if abs(want - v) > 0.1 or (e["severity"] == "CRITICAL") != (
                    v < 95):
                bad.append("%s %s: %s" % (hm(e["ts"]), e["prog"],
                                          e["message"][:90]))
        self.row("coverage findings agree with themselves (X of Y pairs = "
                 "the percentage)", not bad, "%d findings, %d inconsistent"
                 "%s" % (n, len(bad), "".join("; " + b for b in bad[:3])))

    def digest_lines(self):
        return self.log_lines("bt-digest.jsonl")

    def log_lines(self, base):
        d = os.path.join(self.home, "logs")
        for name in sorted(os.listdir(d)):
            if name.startswith(base):
                for ln in open(os.path.join(d, name), errors="replace"):
                    try:
                        yield json.loads(ln)
                    except ValueError:
                        pass

    def check_cap(self):
        over = {parse_iso(o["ts"]) for o in self.digest_lines()
                if o.get("event") == "over_cap"}
        ms = [m for m, _ in self.minute_msgs]
        bad = []
        worst = 0
        for i, (m, msg) in enumerate(self.minute_msgs):
            n = sum(1 for x in ms if m - HOUR < x <= m)
            worst = max(worst, n)
            if n > 10 and m not in over:
                bad.append((m, n))
        per = {}
        for m in ms:
            per[m - m % HOUR] = per.get(m - m % HOUR, 0) + 1
        self.per_hour = per
        self.row("hourly cap (10, rolling) held or overridden as "
                 "bt-digest(1) documents", not bad,
                 "%d messages; most in a rolling hour %d; %d over the cap "
                 "with an over_cap override, %d without%s" % (
                     len(ms), worst, sum(1 for m in ms if m in over),
                     len(bad), "".join("; %s: %d" % (hm(m), n)
                                       for m, n in bad[:5])),
                 {"per_hour": {hm(k): v for k, v in sorted(per.items())}})

    def klines(self, sym, tf, start):
        out = []
        base = self.S["url"]["binance"]
        while True:
            u = "%s/api/v3/klines?symbol=%s&interval=%s&startTime=%d&" \
                "limit=1000" % (base, sym, tf, start)
            rows = json.load(urllib.request.urlopen(u, timeout=30))
            out += rows
            if len(rows) < 1000:
                return out
            start = rows[-1][0] + 1

    def check_store(self):
        """The store against the exchange's closed candles, field by
        field, at the end."""
        write_json(self.S["ctl"]["binance"], dict(
            self.server_state(self.end)["binance"], faults=[]))
        # The exchange's candles closed by the last fetch that ran (a later
        # candle is not yet the store's to have).
        cut = max([r["t"] for r in self.jobs if r["line"] == "fetch"
                   and r["rc"] == 0] + [self.start])
        c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        lost = bad = opened = total = 0
        detail = []
        for s in self.symbols:
            for tf in self.tfs:
                rows = c.execute(
                    "SELECT timestamp, open, high, low, close, volume, "
                    "close_time, quote_volume, trades, taker_buy_base, "
                    "taker_buy_quote FROM %s WHERE symbol=? ORDER BY "
                    "timestamp" % VIEW[tf], (s,)).fetchall()
                if not rows:
                    lost += 1
                    detail.append("%s %s: nothing stored" % (s, tf))
                    continue
                ex = [r for r in self.klines(s, tf, rows[0][0])
                      if r[6] < cut]
                exd = {r[0]: r for r in ex}
                have = {r[0] for r in rows}
                total += len(rows)
                for r in rows:
                    e = exd.get(r[0])
                    if r[6] >= self.end or r[0] + IV[tf] > self.end:
                        opened += 1
                        detail.append("%s %s %s open" % (s, tf, iso(r[0])))
                        continue
                    want = None if e is None else (
                        e[0], float(e[1]), float(e[2]), float(e[3]),
                        float(e[4]), float(e[5]), e[6], float(e[7]),
                        e[8], float(e[9]), float(e[10]))
                    if want != tuple(r):
                        bad += 1
                        if len(detail) < 8:
                            detail.append("%s %s %s: %s, exchange %s" % (
                                s, tf, iso(r[0]), r[1:5], want and
                                want[1:5]))
                m = [e[0] for e in ex if e[0] not in have]
                lost += len(m)
                if m:
                    detail.append("%s %s: %d missing from %s" % (
                        s, tf, len(m), iso(m[0])))
        c.close()
        self.row("store = the exchange's closed candles", lost == 0 and
                 bad == 0 and opened == 0, "%d candles; %d lost, %d open, "
                 "%d bad%s" % (total, lost, opened, bad, "".join(
                     "; " + d for d in detail[:6])),
                 {"candles": total, "lost": lost, "open": opened,
                  "bad": bad})
        ever = [o for o in self.open_stored]
        self.row("no open candle stored at any time", not ever,
                 "%d pairs seen holding a candle not yet closed after a "
                 "fetch%s" % (len(ever), "".join(
                     "; %s %s %s at %s" % (s, tf, iso(o), hm(t))
                     for t, s, tf, o in ever[:4])))

    def check_indicators(self):
        scratch = os.path.join(self.W, "rebuild")
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(os.path.join(scratch, "db"))
        os.makedirs(os.path.join(scratch, "run"))
        copy = os.path.join(scratch, "db/crypto_agent.db")
        src = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        dst.close()
        src.close()
        env = self.job_env(self.end)
        env["BT_HOME"] = scratch
        env["HOME"] = scratch
        rc = subprocess.call(["bt-fetch", "-q", "--indicators", "--rebuild",
                              "-d", copy], env=env, cwd=scratch,
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(scratch, "err"), "w"))
        q = "SELECT * FROM indicadores_tecnico ORDER BY symbol, " \
            "timeframe, timestamp"
        a = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        b = sqlite3.connect("file:%s?mode=ro" % copy, uri=True)
        ra, rb = a.execute(q).fetchall(), b.execute(q).fetchall()
        diff = sum(1 for x, y in zip(ra, rb) if x != y) + abs(
            len(ra) - len(rb))
        self.row("indicator table = a from-scratch computation",
                 rc == 0 and diff == 0 and len(ra) > 0,
                 "bt-fetch --indicators --rebuild exit %d; %d rows, %d "
                 "differ" % (rc, len(ra), diff))

    def check_restore(self):
        f = self.corruption
        if f is None:
            return
        t = f["corrupt_at"]
        rs = [r for r in self.runs if r["prog"] == "bt-backup" and
              r["job"] == "restore" and r["started"] >= t]
        ok = [r for r in rs if r["exit"] == 0]
        ev = [e for e in self.events if e["prog"] == "bt-backup" and
              e["kind"] == "restore" and e["ts"] >= t]
        used = None
        for e in ev:
            try:
                used = json.loads(e["detail"] or "{}").get("backup")
            except ValueError:
                pass
        refused = [e for e in self.events if e["kind"] == "backup_bad" and
                   e["ts"] >= t]
        named = [p for p in self.planted if any(
            p in (e["message"] or "") for e in refused)]
        self.row("the restore happened, from a real backup, refusing the "
                 "planted ones", bool(ok) and used is not None and
                 used not in self.planted and len(named) ==
                 len(self.planted), "%d restore runs (%d ok) after %s; "
                 "restored %s; planted files refused: %s" % (
                     len(rs), len(ok), hm(t), used, ", ".join(named) or
                     "none"))
        # The gap refetched: every counted pair caught up again.
        t_ok = ok[0]["started"] if ok else None
        caught = None
        if t_ok is not None:
            m = t_ok - t_ok % MIN
            while m <= self.end and caught is None:
                if all(self.caught_up(s, tf, m) for s in self.symbols
                       for tf in self.tfs if s != self.delisted_sym):
                    caught = m
                m += MIN
        self.row("the gap refetched after the restore", caught is not None,
                 "every pair caught up at %s (restore at %s)" % (
                     hm(caught) if caught else "never",
                     hm(t_ok) if t_ok else "-"))
        before = f.get("events_before") or set()
        after = {e["event_id"] for e in self.events}
        lostev = before - after
        sf = self.state_fault
        sbefore = (sf or {}).get("events_before") or set()
        slost = sbefore - after
        self.row("the state file lost no event (the restore; the state "
                 "file's damage and repair)", not lostev and not slost,
                 "%d events before the corruption, %d missing; %d before "
                 "the state file's damage, %d missing (repair: %s)" % (
                     len(before), len(lostev), len(sbefore), len(slost),
                     (sf or {}).get("repair", "-")))

    def caught_up(self, s, tf, m):
        v = [x for x in self.newest.get((s, tf), []) if x[0] <= m]
        if not v:
            return False
        last_closed = m - m % IV[tf] - IV[tf]
        return v[-1][1] >= last_closed

    def check_backtest_nights(self):
        gates = [r for r in self.runs if r["prog"] == "bt-validate" and
                 r["job"] == "tf"]
        bts = [r for r in self.runs if r["prog"] == "bt-backtest"]
        nights = []
        t = self.start - self.start % DAY + 23 * HOUR + 30 * MIN
        if t < self.start:
            t += DAY
        while t <= self.end:
            nights.append(t)
            t += DAY
        bad = []
        ran_n = 0
        for n in nights:
            slots = [n, n + HOUR, n + 2 * HOUR]
            g = [r for r in gates if any(s <= r["started"] < s + MIN
                                         for s in slots)]
            allowed = [r for r in g if r["exit"] == 0]
            ran = [r for r in bts if n <= r["started"] < n + 3 * HOUR and
                   r["exit"] == 0]
            ran_n += bool(ran)
            paused = all(self.paused_at(s) for s in slots)
            if allowed and not ran and not paused:
                bad.append("%s: validation allowed it, no backtest ran" %
                           hm(n))
            for r in bts:
                if n <= r["started"] < n + 3 * HOUR:
                    gs = [x for x in g if abs(x["started"] - r["started"])
                          < MIN]
                    if gs and gs[0]["exit"] != 0:
                        bad.append("%s: ran on data that failed "
                                   "validation" % hm(r["started"]))
        self.row("the backtest ran every night validation allowed, never "
                 "on data that failed it", not bad, "%d nights, %d ran%s" % (
                     len(nights), ran_n, "".join("; " + b for b in bad)))

    def paused_at(self, t):
        for a, b in self.trader_windows + self.hb_windows:
            if a <= t <= b + 10 * MIN:
                return True
        return any(a <= t < b for a, b in self.cron_down)

    def check_trader(self):
        writes = []
        try:
            for ln in open(os.path.join(self.W, "trader.log")):
                p = ln.split()
                if len(p) == 5:
                    writes.append((int(p[1]) / 1000.0, float(p[2]),
                                   float(p[3]), p[4]))
        except OSError:
            pass
        jobs = sorted((r["rt0"], r.get("rt1", r["rt0"]), r["line"])
                      for r in self.jobs if "rt0" in r)
        worst = {}
        over = {}
        failed = 0
        for rt, wait, total, ok in writes:
            if ok != "1":
                failed += 1
                continue
            for a, b, name in jobs:
                if a > rt + 1:
                    break
                if a <= rt <= b:
                    worst[name] = max(worst.get(name, 0), total)
                    if total > 200:
                        over.setdefault(name, []).append(total)
        self.trader_writes = len(writes)
        self.trader_failed = failed
        self.trader_worst = worst
        bad = {k: v for k, v in over.items()}
        self.row("the trader's writes never waited over 200 ms while a bt "
                 "job ran", not bad, "%d writes (%d failed: the disk full, "
                 "the restore); worst per job: %s%s" % (
                     len(writes), failed, ", ".join(
                         "%s %.0f ms" % kv for kv in sorted(worst.items())),
                     "".join("; %s: %d over 200 ms (max %.0f)" % (
                         k, len(v), max(v)) for k, v in bad.items())),
                 {"trader_worst_ms": worst})
        self.row("the backtest never slowed the trader beyond its bound",
                 worst.get("backtest", 0) <= 200,
                 "worst write during the backtest line: %.0f ms" %
                 worst.get("backtest", 0))

    def check_end_state(self):
        bad = []
        for p in (self.db, self.st):
            c = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
            r = c.execute("PRAGMA integrity_check").fetchone()[0]
            c.close()
            if r != "ok":
                bad.append("%s: %s" % (os.path.basename(p), r))
        self.row("0 integrity failures at the end", not bad,
                 "; ".join(bad) or "store and state file ok")
        held = []
        rd = os.path.join(self.home, "run")
        for n in sorted(os.listdir(rd)):
            if n.endswith(".lock"):
                with open(os.path.join(rd, n), "a") as f:
                    try:
                        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        fcntl.flock(f, fcntl.LOCK_UN)
                    except OSError:
                        held.append(n)
        if os.path.exists(os.path.join(self.home, "db/LOCKED")):
            held.append("db/LOCKED")
        self.row("no lock left held", not held, ", ".join(held) or
                 "every run/*.lock free, no db/LOCKED")
        tmps = []
        for d, _, fs in os.walk(self.home):
            for n in fs:
                if ".tmp" in n:
                    tmps.append(os.path.relpath(os.path.join(d, n),
                                                self.home))
        self.row("no temp file left behind", not tmps, ", ".join(tmps[:8])
                 or "none")

    def check_pings(self):
        mins = sorted(self.minute_pings)
        sil = []
        cur = None
        for m in mins:
            if self.minute_pings[m] == 0:
                cur = [m, m] if cur is None else [cur[0], m]
            else:
                if cur:
                    sil.append(tuple(cur))
                cur = None
        if cur:
            sil.append(tuple(cur))
        alarms = [(a, b) for a, b in sil if b - a + MIN >= 6 * MIN]
        self.alarms = alarms
        bad = []
        for a, b in alarms:
            if not any(x - 5 * MIN <= a and b <= y + 5 * MIN
                       for x, y, _, _ in self.silences):
                bad.append("pings stopped %s..%s with no cause" % (
                    hm(a), hm(b)))
        for x, y, why, _ in self.silences:
            if y - x < 6 * MIN:
                continue
            if not any(a <= y and x <= b for a, b in alarms):
                bad.append("pings went on during %s (%s..%s)" % (
                    why, hm(x), hm(y)))
        self.row("heartbeat pings stopped during cron's outage and the "
                 "alert path's failures, and at no other time", not bad,
                 "silences of 6 min or more: %s%s" % (", ".join(
                     "%s..%s" % (hm(a), hm(b)) for a, b in alarms) or
                     "none", "".join("; " + b for b in bad)))

    def check_faults(self):
        """One row per fault whose own check is not an alert."""
        by = {f["name"]: f for f in self.faults}
        fetches = [r for r in self.jobs if r["line"] == "fetch"]

        def run_at(t):
            return next((r for r in fetches if r["t"] == t), None)

        def reqs(r):
            if r is None or "blog1" not in r:
                return None
            with open(self.S["binance_log"], "rb") as f:
                f.seek(r["blog0"])
                return f.read(r["blog1"] - r["blog0"]).count(b"\n")
        f = by.get("binance_418")
        if f:
            r1 = run_at(f["run"])
            r2 = run_at(f["run"] + HOUR)
            r3 = run_at(f["run"] + 2 * HOUR)
            ok = r1 and r1["rc"] == 75 and r2 and r2["rc"] == 75 and \
                reqs(r2) == 0 and r3 and r3["rc"] == 0
            self.row("418: the ban honoured, no request until it ends",
                     bool(ok), "runs at %s, +1h, +2h exited %s; requests "
                     "during the ban: %s" % (hm(f["run"]), [
                         r and r["rc"] for r in (r1, r2, r3)], reqs(r2)))
        f = by.get("binance_429")
        if f:
            r = run_at(f["run"])
            self.row("429 storm: the run gives up (75) and the next heals",
                     bool(r and r["rc"] == 75 and run_at(f["run"] + HOUR)
                          and run_at(f["run"] + HOUR)["rc"] == 0),
                     "storm run exit %s, %s requests; next run exit %s" % (
                         r and r["rc"], reqs(r), run_at(f["run"] + HOUR) and
                         run_at(f["run"] + HOUR)["rc"]))
        f = by.get("truncated_pages")
        if f:
            r = run_at(f["run"])
            self.row("truncated pages: retried within the run",
                     bool(r and r["rc"] == 0), "exit %s, %s requests" % (
                         r and r["rc"], reqs(r)))
        f = self.hung
        if f:
            self.row("the hung fetch ended by its own deadline "
                     "(BT_FETCH_DEADLINE) before the crontab's timeout",
                     f.get("rc") not in (None, 124, -9, 137) and
                     f.get("dur", 1e9) < 15000, "exit %s after %.1f s (the "
                     "scaled timeout is 15 s; 124 is timeout's)" % (
                         f.get("rc"), f.get("dur", 0) / 1000))
            nxt = run_at(f["run"] + HOUR)
            self.row("after the hung fetch, the next run heals",
                     bool(nxt and nxt["rc"] == 0), "next run exit %s" % (
                         nxt and nxt["rc"]))
        f = by.get("fred")
        if f:
            self.check_fred(f)
        if self.delisted_at is not None:
            nt = [e for e in self.events if e["kind"] == "not_trading"]
            printed = {parse_iso(o["ts"]) // DAY for o in self.log_lines(
                "bt-fetch.jsonl") if o.get("event") == "not_trading"}
            days = {e["ts"] // DAY for e in nt} | printed
            crit = [e for e in self.events if e["severity"] == "CRITICAL"
                    and e["ts"] > self.delisted_at + HOUR and (
                        e["symbol"] == self.delisted_sym or
                        self.delisted_sym in (e["message"] or ""))]
            want = len({t // DAY for t in range(
                self.delisted_at + HOUR, self.end, HOUR)})
            self.row("the delisted symbol: one WARNING a day, left out of "
                     "coverage", len(nt) <= len(days) and len(days) >= 1
                     and len(days) >= want - 1 and not crit,
                     "%d not_trading WARNINGs recorded, printed on %d days "
                     "(%d days since the delisting; printed while the state "
                     "file could not be written, a WARNING is not "
                     "recorded); %d CRITICAL naming it%s" % (
                         len(nt), len(days), want, len(crit), "".join(
                             "; %s %s %s" % (hm(e["ts"]), e["kind"],
                                             e["message"][:80])
                             for e in crit[:3])))
        if len(self.boots) > 1:
            try:
                hb = json.load(open(os.path.join(
                    self.home, "run/scheduler.heartbeat")))
            except (OSError, ValueError):
                hb = {}
            self.row("the reboot: the scheduler heartbeat carries the new "
                     "boot id", hb.get("boot_id") == self.boots[-1],
                     "boot ids %s; heartbeat's %s" % (
                         len(self.boots), hb.get("boot_id")))
        rot = getattr(self, "rotations", 0)
        self.row("logrotate's copytruncate at every midnight", rot > 0,
                 "%d logs rotated over %d midnights" % (
                     rot, (self.end - self.start) // DAY))

    def check_fred(self, f):
        c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            rows = {(a, b): v for a, b, v in c.execute(
                "SELECT series, date, value FROM macro_data")}
        except sqlite3.Error as e:
            rows = {}
            self.notes.append("macro_data: %s" % e)
        c.close()
        bad = []
        dots = 0
        macro_runs = sorted(r["started"] for r in self.runs
                            if r["prog"] == "bt-fetch" and r["job"] ==
                            "macro" and r["exit"] == 0)
        last = macro_runs[-1] if macro_runs else self.start
        n = 0
        for sid, rel in sorted(self.S["fred_revise"].items()):
            for d, v in rel.items():
                ms = parse_iso(d)
                if ms > last - last % DAY:
                    continue
                n += 1
                got = rows.get((sid, ms), "absent")
                if v == ".":
                    dots += 1
                    if got is not None:
                        bad.append("%s %s: '.' stored as %r" % (sid, d, got))
                elif got != float(v):
                    bad.append("%s %s: %s stored as %r" % (sid, d, v, got))
        failed = [r for r in self.jobs if r["line"] == "macro" and
                  f["start"] <= r["t"] < f["end"]]
        self.row("FRED: '.' stored as NULL, every release stored, the "
                 "error retried next hour", not bad, "%d releases "
                 "checked (%d '.'); macro runs in the error hour exited %s%s"
                 % (n, dots,
                    [r["rc"] for r in failed], "".join(
                        "; " + b for b in bad[:4])))

    def check_timeouts(self):
        """Only the hung fetch may meet its crontab timeout (scaled: the
        digest's 110 s and the watchdog's 55 s are 10 s here)."""
        hit = [r for r in self.jobs if r.get("rc") in (124, 137) and
               not r.get("hang") and not r.get("killed")]
        self.row("no job ended by its crontab timeout but the hung fetch",
                 not hit, "%d%s" % (len(hit), "".join(
                     "; %s %s exit %s after %.1f s" % (
                         hm(r["t"]), r["line"], r["rc"], r["dur"] / 1000)
                     for r in hit[:5])))

    def check_kills(self):
        bad = []
        oks = {"fetch": (0,), "validate": (0, 1), "validate_full": (0, 1),
               "backtest": (0, 1, 75), "sentiment": (0,), "macro": (0,),
               "backup": (0,), "vacuum": (0,), "test_restore": (0,),
               "digest": (0,), "watchdog": (0, 1)}
        hit = 0
        for k in self.kills:
            hit += k.get("killed") not in (None, "session")
            later = [r for r in self.jobs if r["line"] == k["line"] and
                     r["t"] > k["t"] and not r.get("killed")][:3]
            if later and not any(r["rc"] in oks[k["line"]] for r in later):
                bad.append("%s %s: next runs exited %s" % (
                    hm(k["t"]), k["line"], [r["rc"] for r in later]))
        self.row("kill -9: every victim healed by its next runs", not bad,
                 "%d kills, %d found the program running%s" % (
                     len(self.kills), hit, "".join("; " + b
                                                   for b in bad[:5])),
                 {"kills": len(self.kills), "killed_running": hit})

    def figures(self):
        runs = len(self.jobs)
        slow = {}
        for r in self.jobs:
            if r.get("dur") is not None and not r.get("killed") and \
                    not r.get("hang"):
                slow[r["line"]] = max(slow.get(r["line"], 0), r["dur"])
        self.fig(figure="slowest_run_ms", value={
            k: round(v) for k, v in sorted(slow.items())})
        self.fig(figure="job_runs", value=runs, loop_s=round(self.loop_s, 1),
                 runs_per_s=round(runs / max(self.loop_s, 0.001), 1),
                 worst_critical_delay_s=self.worst_delay,
                 trader_writes=self.trader_writes,
                 cron_mail=os.path.getsize(os.path.join(self.W, "cron-mail"))
                 if os.path.exists(os.path.join(self.W, "cron-mail")) else 0,
                 messages=len(self.minute_msgs),
                 notes=self.notes)

    def print_table(self):
        out = sys.stderr
        print("\n=== campaign-week, seed %d, %s mode: %s to %s" % (
            self.seed, self.mode, iso(self.start), iso(self.end)), file=out)
        print("\n--- expected events (onset, recorded, message, delay)",
              file=out)
        for r in sorted(self.table, key=lambda r: r["onset"]):
            print("  %-18s %-40s %s  %s  %s  %4s  %s" % (
                r["fault"][:18], r["what"][:40], hm(r["onset"]),
                hm(r["recorded"]) if r.get("recorded") else "  -        ",
                hm(r["message"]) if r.get("message") else "  -        ",
                "%ds" % r["delay"] if r.get("delay") is not None else "-",
                r.get("miss") or r.get("note") or "ok"), file=out)
        print("\n--- other CRITICAL events, and what explains them", file=out)
        for e in self.events:
            if e["severity"] == "CRITICAL" and (e.get("_why") or "").\
                    startswith(("rule:", "follow-on:")):
                print("  %s  %-24s %-40s %s" % (
                    hm(e["ts"]), "%s %s" % (e["prog"], e["kind"]),
                    e["_why"][:40], (e["message"] or "")[:60]), file=out)
        print("\n--- messages per hour", file=out)
        line = []
        for k, v in sorted(self.per_hour.items()):
            line.append("%s:%d" % (hm(k)[:8] + "h", v))
        for i in range(0, len(line), 8):
            print("  " + "  ".join(line[i:i + 8]), file=out)
        print("\n--- verdicts", file=out)
        for name, ok, xf, detail in self.rows:
            print("  %-5s %s\n        %s" % (
                "ok" if ok else "XFAIL" if xf else "FAIL", name, detail),
                file=out)
        print("", file=out)


def main():
    # SIGTERM and SIGINT unwind, so that the trader goes with us.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    setup = json.load(open(sys.argv[1]))
    w = Week(setup)
    try:
        w.run()
    finally:
        w.trader_kill()
    say("loop done: %d job runs in %.0fs" % (len(w.jobs), w.loop_s))
    w.verify()
    return min(100, len(w.failures))


if __name__ == "__main__":
    sys.exit(main())
