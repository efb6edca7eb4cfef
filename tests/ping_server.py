#!/usr/bin/env python3
"""ping_server.py - a local stand-in for a healthchecks.io-style
dead-man's switch: it records the pings it receives.

Usage:
  ping_server.py --uuid UUID [--ready PATH] [--log PATH] [--ctl PATH]
                 [--now TIME] [--verbose]
--ready, --log, --ctl, --now, --verbose: see srvlib.py (the common part).
  --uuid UUID   the check's id: the only path that answers.

Endpoints (GET, HEAD or POST, as healthchecks.io's ping API):
  /UUID            success                          200 "OK"
  /UUID/start      a run started                    200 "OK"
  /UUID/fail       a run failed                     200 "OK"
  /UUID/N          a run ended with exit status N   200 "OK"
  anything else                                     404 "not found"
Every request goes to the --log file (srvlib's request log), so a test
counts the pings there; "fault" rules of the ctl file apply as in every
test server (an outage is a "status" or "reset" fault).
"""

import os
import re
import sys

sys.dont_write_bytecode = True    # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srvlib  # noqa: E402


class Ping(srvlib.App):
    name = "ping"

    def __init__(self, args):
        srvlib.App.__init__(self, args)
        self.uuid = args.uuid

    def error_body(self, code, retry_after, ctx):
        return srvlib.Response(code, srvlib.reason(code), "text/plain")

    def route(self, req, ctx, rule):
        m = re.match(r"^/([^/]+)(?:/(start|fail|\d{1,3}))?$", req.path)
        if not m or m.group(1) != self.uuid:
            return srvlib.Response(404, "not found", "text/plain")
        return srvlib.Response(200, "OK", "text/plain")


def main(argv=None):
    p = srvlib.arg_parser("Fake healthchecks.io ping endpoint.")
    p.add_argument("--uuid", required=True)
    args = p.parse_args(argv)
    return srvlib.serve(Ping(args))


if __name__ == "__main__":
    sys.exit(main())
