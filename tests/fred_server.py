#!/usr/bin/env python3
"""fred_server.py - a local stand-in for FRED's series/observations API.

Usage:
  fred_server.py --data FILE --key KEY [--ready PATH] [--log PATH]
                 [--ctl PATH] [--now TIME] [--verbose]
--ready, --log, --ctl, --now, --verbose: see srvlib.py (the common part).
  --data FILE  JSON {"DGS10":[["2025-01-02","4.57"],["2025-01-03","."],...]}
               tests/data/fred.json is such a file: DGS10, DFF, DTWEXBGS,
               VIXCLS and T10Y2Y from 2025-01-02 to 2025-04-30.  Its values
               are SYNTHETIC (a fixed pseudo-random walk from plausible early
               2025 levels), not FRED's; the holidays (01-20, 02-17, 04-18
               for yields, also 01-09 for VIX) are ".", DFF has every
               calendar day, as the real series does.
  --key KEY    the one registered API key (32 lowercase letters and digits).

GET /fred/series/observations
  series_id (required), api_key (required), file_type=json (required here:
  FRED's default is XML, which this server does not speak; anything else is
  a 400 with an XML error body), observation_start, observation_end
  (YYYY-MM-DD), sort_order asc|desc, limit 1..100000 (default 100000),
  offset (default 0).  Other FRED parameters (units, frequency, realtime_*)
  are accepted and ignored.
  200 {"realtime_start":today,"realtime_end":today,"observation_start",
  "observation_end","units":"lin","output_type":1,"file_type":"json",
  "order_by":"observation_date","sort_order","count","offset","limit",
  "observations":[{"realtime_start","realtime_end","date","value"}]}
  today is the server's date; count is the number of observations that
  match before offset and limit; a value is a string, "." when missing.
Errors, 400 {"error_code":400,"error_message":...} with FRED's texts: no
api_key, a malformed api_key, an unregistered api_key, no series_id, an
unknown series ("Bad Request.  The series does not exist."), bad dates,
sort_order, limit or offset.  Other paths: 404.

ctl keys:
  "now"     server time (ms or ISO 8601; a date is enough): also hides every
            observation after that date, as if not yet published
  "revise"  {"DGS10":{"2025-01-02":"4.60","2025-05-01":"4.41"}}: changed
            or added values (a revision, or a new release)
  "faults"  fault rules, see srvlib.py (status, html, stall, stall_body,
            reset, truncate, cut_body); a "status" fault without a body
            answers {"error_code":N,"error_message":...}, 429 with FRED's
            "Too Many Requests.  Exceeded Rate Limit".  Rules may match
            "series_id".  And one of FRED's own:
            "outside_window": an observation outside the window asked for
            is added, "where" "before" (default: the day before
            observation_start, first) or "after" (the day after the
            server's today, last); count counts it.
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True    # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srvlib  # noqa: E402

KEY_RE = re.compile(r"^[a-z0-9]{32}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KEY_DOC = ("  Read https://fred.stlouisfed.org/docs/api/api_key.html for "
           "more information.")


def ferr(status, msg):
    return srvlib.json_response(status, {"error_code": status,
                                         "error_message": msg})


def bad(msg):
    return ferr(400, "Bad Request.  " + msg)


def valid_date(s):
    if not DATE_RE.match(s):
        return False
    try:
        srvlib.iso_to_ms(s)
    except ValueError:
        return False
    return True


class Fred(srvlib.App):
    name = "fred"

    def __init__(self, args, series):
        srvlib.App.__init__(self, args)
        self.series = series

    def error_body(self, code, retry_after, ctx):
        if code == 429:
            return ferr(429, "Too Many Requests.  Exceeded Rate Limit")
        return ferr(code, srvlib.reason(code))

    def route(self, req, ctx, rule):
        if req.path != "/fred/series/observations":
            return ferr(404, "Not Found.  The requested URL was not found on "
                        "this server.")
        q = req.query
        key = q.get("api_key")
        if not key:
            return bad("Variable api_key is not set." + KEY_DOC)
        if not KEY_RE.match(key):
            return bad("The value for variable api_key is not a 32 character "
                       "alpha-numeric lower-case string." + KEY_DOC)
        if key != self.args.key:
            return bad("The value for variable api_key is not registered." +
                       KEY_DOC)
        if q.get("file_type") != "json":
            return srvlib.Response(
                400, '<?xml version="1.0" encoding="utf-8" ?>\n<error code='
                '"400" message="Bad Request.  This test server only serves '
                'file_type=json."/>\n', "text/xml; charset=UTF-8")
        sid = q.get("series_id")
        if not sid:
            return bad("Variable series_id is not set.")
        obs = self.series.get(sid)
        revise = (ctx.state.get("revise") or {}).get(sid)
        if obs is None and revise is None:
            return bad("The series does not exist.")
        start = q.get("observation_start", "1776-07-04")
        end = q.get("observation_end", "9999-12-31")
        for name, v in (("observation_start", start),
                        ("observation_end", end)):
            if not valid_date(v):
                return bad("Variable %s is not a valid date." % name)
        if start > end:
            return bad("The value for variable observation_start (%s) is "
                       "after the value for variable observation_end (%s)."
                       % (start, end))
        order = q.get("sort_order", "asc")
        if order not in ("asc", "desc"):
            return bad("Variable sort_order can only be 'asc' or 'desc'.")
        limit = q.get("limit", "100000")
        if not limit.isdigit() or not 1 <= int(limit) <= 100000:
            return bad("Variable limit is not an integer between 1 and "
                       "100000.")
        offset = q.get("offset", "0")
        if not offset.isdigit():
            return bad("Variable offset is not a non-negative integer.")
        limit, offset = int(limit), int(offset)
        today = srvlib.ms_to_date(ctx.now)
        data = dict(obs or [])
        data.update(revise or {})
        dates = [d for d in sorted(data) if start <= d <= end and d <= today]
        if order == "desc":
            dates.reverse()
        page = dates[offset:offset + limit]
        if rule and rule.get("fault") == "outside_window":
            after = rule.get("where") == "after"
            d = srvlib.ms_to_date(srvlib.iso_to_ms(today if after else start)
                                  + (1 if after else -1) * 86400000)
            data[d] = "1.00"
            dates.append(d)
            page = page + [d] if after else [d] + page
        return srvlib.json_response(200, {
            "realtime_start": today, "realtime_end": today,
            "observation_start": start, "observation_end": end,
            "units": "lin", "output_type": 1, "file_type": "json",
            "order_by": "observation_date", "sort_order": order,
            "count": len(dates), "offset": offset, "limit": limit,
            "observations": [{"realtime_start": today, "realtime_end": today,
                              "date": d, "value": data[d]} for d in page]})


def main(argv=None):
    p = srvlib.arg_parser("Fake FRED series/observations.")
    p.add_argument("--data", required=True, metavar="FILE")
    p.add_argument("--key", required=True)
    args = p.parse_args(argv)
    if not KEY_RE.match(args.key):
        p.error("--key must be 32 lowercase letters and digits")
    with open(args.data, encoding="utf-8") as f:
        series = json.load(f)
    return srvlib.serve(Fred(args, series))


if __name__ == "__main__":
    sys.exit(main())
