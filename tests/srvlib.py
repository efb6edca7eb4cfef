"""srvlib - the machinery the fake servers in tests/ share.

binance_server.py, fred_server.py and telegram_server.py import this module
(it sits next to them, so `python3 tests/X_server.py` finds it).  Decision:
the brief asked for one readable file per server; the parts that are the
same in all three (the command line, the control file, the fault rules, the
request log and the HTTP plumbing) live here once instead of three times,
and each server file keeps only its protocol.

Common command line (every server):
  --ready PATH   after binding 127.0.0.1 on a random port, open PATH for
                 writing (usually a FIFO the test is reading), write the
                 port and a newline, close it.
  --log PATH     append one JSON line per request, flushed at once:
                 {"method","path","query":{name:value},"form","status","fault"}
                 "query" keeps the last value of a repeated name; "form" is
                 the parsed POST body (form-urlencoded or JSON) or null;
                 "status" is null when no response was sent (fault "reset");
                 "fault" is the name of the fault applied, or null.  The line
                 is written when the response has been decided, before it is
                 sent, so it is in the file even if the client gives up.
  --ctl PATH     a JSON object re-read whenever its inode, mtime or size
                 changes.  Write it atomically (write a temporary file, then
                 mv), a half-written file is ignored until it parses.  When
                 its content changes, every fault counter restarts from 0
                 (and the Binance server forgets its weight and ban state).
  --now TIME     the server's clock: ms since the epoch, or ISO 8601 UTC
                 ("2025-05-31T12:00:00Z", a date alone is midnight).  The
                 ctl key "now" overrides it; without either, real time.
  --verbose      keep http.server's access log on stderr.
SIGTERM and SIGINT end the server cleanly with status 0.

HTTP: HTTP/1.1 with keep-alive (libcurl reuses connections).  Every response
carries Content-Length, and headers and body go out in one write with
TCP_NODELAY, so a keep-alive client never waits on Nagle.  Request bodies
may have a Content-Length or be chunked; "Expect: 100-continue" is honoured.

Fault rules (ctl "faults": a list, checked in order for every request):
  match keys (all optional, all must match):
    "path"      the request path as logged (Telegram's token redacted),
                equal to it or a suffix of it ("/klines", "/sendMessage")
    "method"    "GET", "POST"
    "symbol"    query symbol         "interval"  query interval or period
    "series_id" (FRED)               "chat_id"   (Telegram)
  "skip": K     let the first K matching requests pass (default 0)
  "times": N    then apply to N matching requests (default 1; -1 = forever)
  "fault": NAME and its parameters.
  Every rule counts every request that matches its keys, whether or not an
  earlier rule faulted it, so rules are independent: {"skip":2,"times":1}
  always hits the third matching request.  The first rule in list order
  whose turn it is wins.
  Faults every server knows:
    "status"     answer "code" (default 500) with the server's own error
                 body for that code, or "body" (a string is sent as is, JSON
                 is encoded); "retry_after" adds a Retry-After header.
    "html"       answer "code" (default 502) with a text/html proxy page.
    "stall"      sleep "seconds" (default 30) before sending anything, then
                 send the normal response (if the client is still there).
    "stall_body" send the headers and the first half of the body, sleep
                 "seconds" (default 30), then send the rest.
    "reset"      close the socket at once with SO_LINGER 0 (an RST), no
                 response at all.
    "truncate"   send the headers with the full Content-Length but only the
                 first half of the body, then close the connection.
    "cut_body"   a complete response (status as routed, Content-Length
                 matching) whose body is only the first half of the real
                 one: HTTP is whole, the JSON in it is cut short.
  Each server adds data faults of its own (see its header).
"""

import argparse
import datetime
import http
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


def iso_to_ms(s):
    """ISO 8601 (UTC unless an offset is given; a date alone is midnight)
    to ms since the epoch."""
    s = s.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000) if d.microsecond == 0 else \
        int(d.timestamp()) * 1000 + d.microsecond // 1000


def time_ms(v):
    """A time given as ms (or µs when > 1e14), as a digit string, or as an
    ISO 8601 string; returns ms."""
    if isinstance(v, bool):
        raise ValueError("bad time")
    if isinstance(v, (int, float)):
        v = int(v)
    elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
        v = int(v.strip())
    elif isinstance(v, str):
        return iso_to_ms(v)
    else:
        raise ValueError("bad time %r" % (v,))
    return v // 1000 if v > 10**14 else v


def ms_to_date(ms):
    return datetime.datetime.fromtimestamp(
        ms // 1000, datetime.timezone.utc).strftime("%Y-%m-%d")


class Ctl:
    """The control file: a JSON object, re-read when it changes."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.key = None
        self.raw = b""
        self.state = {}
        self.gen = 0

    def get(self):
        """Returns (state, generation); the generation grows whenever the
        content changes."""
        if not self.path:
            return self.state, self.gen
        with self.lock:
            try:
                st = os.stat(self.path)
                key = (st.st_ino, st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                key = None
            if key == self.key:
                return self.state, self.gen
            raw = b""
            if key is not None:
                try:
                    with open(self.path, "rb") as f:
                        raw = f.read()
                except FileNotFoundError:
                    pass
            if raw != self.raw:
                try:
                    state = json.loads(raw) if raw.strip() else {}
                    if not isinstance(state, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    # Half written, or broken: keep the old state, try again
                    # on the next request.
                    print("ctl %s: %s (ignored)" % (self.path, e),
                          file=sys.stderr)
                    self.key = None
                    return self.state, self.gen
                self.raw = raw
                self.state = state
                self.gen += 1
            self.key = key
            return self.state, self.gen


class Faults:
    """Chooses the fault rule, if any, for a request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.gen = None
        self.counts = []

    @staticmethod
    def matches(rule, req):
        p = rule.get("path")
        if p is not None and req.logpath != p and not req.logpath.endswith(p):
            return False
        m = rule.get("method")
        if m is not None and req.method != m:
            return False
        for key in ("symbol", "series_id", "chat_id"):
            if key in rule and str(rule[key]) != str(req.param(key)):
                return False
        if "interval" in rule:
            iv = req.param("interval")
            if iv is None:
                iv = req.param("period")
            if str(rule["interval"]) != str(iv):
                return False
        return True

    def pick(self, state, gen, req):
        rules = state.get("faults") or []
        if not isinstance(rules, list):
            return None
        with self.lock:
            if gen != self.gen or len(self.counts) != len(rules):
                self.gen = gen
                self.counts = [0] * len(rules)
            chosen = None
            for i, rule in enumerate(rules):
                if not isinstance(rule, dict) or not self.matches(rule, req):
                    continue
                n = self.counts[i]
                self.counts[i] += 1
                skip = int(rule.get("skip", 0))
                times = int(rule.get("times", 1))
                if chosen is None and n >= skip and (times < 0 or
                                                     n < skip + times):
                    chosen = rule
            return chosen


class ReqLog:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8") if path else None
        self.lock = threading.Lock()

    def write(self, obj):
        if self.f is None:
            return
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


def parse_multipart(ctype, body):
    """A multipart/form-data body (RFC 7578) as (fields, files): fields
    name -> text, files name -> {"filename", "type", "data"}.  A body that
    does not parse gives ({"_unparsable": ...}, {})."""
    import email.parser
    import email.policy
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        return {"_unparsable": body[:200].decode("utf-8", "replace")}, {}
    fields, files = {}, {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        fname = part.get_param("filename", header="content-disposition")
        if fname is not None:
            files[name] = {"filename": fname, "data": data,
                           "type": part.get_content_type()}
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


class Request:
    """One parsed request.  .query: name -> last value; .form: the parsed
    body (dict) or None; .logpath: the path as logged."""

    def __init__(self, method, target, headers, body):
        u = urlsplit(target)
        self.method = method
        self.path = u.path
        self.logpath = u.path
        self.query = dict(parse_qsl(u.query, keep_blank_values=True))
        self.headers = headers
        self.body = body
        self.form = None
        self.files = {}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
        if body:
            if ctype == "application/json":
                try:
                    v = json.loads(body.decode("utf-8"))
                    self.form = v if isinstance(v, dict) else {"_": v}
                except (ValueError, UnicodeDecodeError):
                    self.form = {"_unparsable": body.decode("utf-8",
                                                           "replace")}
            elif ctype == "multipart/form-data":
                self.form, self.files = parse_multipart(
                    headers.get("Content-Type"), body)
            else:
                self.form = dict(parse_qsl(body.decode("utf-8", "replace"),
                                           keep_blank_values=True))

    def param(self, name):
        """A parameter from the body, else from the query string."""
        if self.form is not None and name in self.form:
            return self.form[name]
        return self.query.get(name)


class Response:
    def __init__(self, status, body=b"", ctype="application/json",
                 headers=None):
        self.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])


def json_response(status, obj, ctype="application/json", headers=None):
    return Response(status, json.dumps(obj, ensure_ascii=False,
                                       separators=(",", ":")),
                    ctype, headers)


HTML_PAGE = """<html>
<head><title>%(code)d %(reason)s</title></head>
<body>
<center><h1>%(code)d %(reason)s</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def reason(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


class Ctx:
    """What one request sees: the ctl state, its generation, the time."""

    def __init__(self, app, state, gen):
        self.state = state
        self.gen = gen
        now = state.get("now")
        try:
            self.now = time_ms(now) if now is not None else \
                (app.now if app.now is not None else int(time.time() * 1000))
        except ValueError:
            self.now = app.now if app.now is not None else \
                int(time.time() * 1000)


class App:
    """Base of the three servers.  A subclass sets .name and implements
    route(req, ctx, rule) -> Response, and error_body(code, retry_after,
    ctx) -> Response for the "status" fault; it may override pre() (checked
    before faults, e.g. rate limits), redact() and decorate()."""

    name = "fake"
    # Data faults this server implements in route(); others are generic.
    data_faults = ()

    def __init__(self, args):
        self.args = args
        self.ctl = Ctl(args.ctl)
        self.faults = Faults()
        self.log = ReqLog(args.log)
        self.now = time_ms(args.now) if args.now else None

    def redact(self, path):
        return path

    def pre(self, req, ctx):
        return None

    def decorate(self, resp, req, ctx):
        """Add headers every response carries."""

    def error_body(self, code, retry_after, ctx):
        return json_response(code, {"error": reason(code)})

    def route(self, req, ctx, rule):
        raise NotImplementedError

    def handle(self, h, req):
        state, gen = self.ctl.get()
        ctx = Ctx(self, state, gen)
        resp = self.pre(req, ctx)
        rule = None
        fname = None
        if resp is None:
            rule = self.faults.pick(state, gen, req)
            fname = rule.get("fault") if rule else None
            if fname == "status":
                code = int(rule.get("code", 500))
                ra = rule.get("retry_after")
                if "body" in rule:
                    b = rule["body"]
                    resp = Response(code, b if isinstance(b, str) else
                                    json.dumps(b, separators=(",", ":")))
                else:
                    resp = self.error_body(code, ra, ctx)
                if ra is not None:
                    resp.headers = [x for x in resp.headers
                                    if x[0].lower() != "retry-after"]
                    resp.headers.append(("Retry-After", str(int(ra))))
            elif fname == "html":
                code = int(rule.get("code", 502))
                resp = Response(code, HTML_PAGE % {"code": code,
                                                   "reason": reason(code)},
                                "text/html")
            else:
                resp = self.route(req, ctx, rule)
            if fname == "cut_body":
                resp.body = resp.body[:len(resp.body) // 2]
        self.decorate(resp, req, ctx)
        self.log.write({"method": req.method, "path": req.logpath,
                        "query": req.query, "form": req.form,
                        "status": None if fname == "reset" else resp.status,
                        "fault": fname})
        h.send(resp, fname, rule or {})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fake"
    sys_version = ""

    def log_message(self, fmt, *a):
        if self.server.app.args.verbose:
            BaseHTTPRequestHandler.log_message(self, fmt, *a)

    def _any(self):
        app = self.server.app
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
        req = Request(self.command, self.path, self.headers, body)
        req.logpath = app.redact(req.path)
        try:
            app.handle(self, req)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def _read_chunked(self):
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0",
                       16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass        # trailers
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def send(self, resp, fname, rule):
        if fname == "reset":
            self.reset()
            return
        if fname == "truncate":
            self.close_connection = True
        head = ["HTTP/1.1 %d %s" % (resp.status, reason(resp.status)),
                "Content-Type: " + resp.ctype,
                "Content-Length: %d" % len(resp.body),
                "Date: " + self.date_time_string()]
        head += ["%s: %s" % kv for kv in resp.headers]
        if self.close_connection:
            head.append("Connection: close")
        head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        body = resp.body
        half = len(body) // 2
        if fname == "stall":
            time.sleep(float(rule.get("seconds", 30)))
        if fname == "truncate":
            self.wfile.write(head + body[:half])
        elif fname == "stall_body":
            self.wfile.write(head + body[:half])
            self.wfile.flush()
            time.sleep(float(rule.get("seconds", 30)))
            self.wfile.write(body[half:])
        else:
            self.wfile.write(head + body)
        self.wfile.flush()

    def reset(self):
        """Close the connection with an RST."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The fd closes when its last user goes: close the files too.
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except OSError:
                pass
        self.connection.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128


def arg_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--ready", metavar="PATH")
    p.add_argument("--log", metavar="PATH")
    p.add_argument("--ctl", metavar="PATH")
    p.add_argument("--now", metavar="TIME")
    p.add_argument("--verbose", action="store_true")
    return p


def _stop(signum, frame):
    raise SystemExit(0)


def serve(app):
    """Bind, announce the port, serve until SIGTERM."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.app = app
    port = srv.server_address[1]
    if app.args.ready:
        with open(app.args.ready, "w") as f:
            f.write("%d\n" % port)
    try:
        srv.serve_forever(poll_interval=0.5)
    except SystemExit:
        pass
    finally:
        srv.server_close()
        if app.log.f:
            app.log.f.close()
    return 0
