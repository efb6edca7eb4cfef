#!/usr/bin/env python3
"""telegram_server.py - a local stand-in for the Telegram Bot API's
sendMessage, sendPhoto, getChat and getMe.

Usage:
  telegram_server.py --token TOKEN [--messages PATH] [--ready PATH]
                     [--log PATH] [--ctl PATH] [--now TIME] [--verbose]
--ready, --log, --ctl, --now, --verbose: see srvlib.py (the common part).
  --token TOKEN    the valid bot token ("123456789:AA..."); the bot's id is
                   the number before the colon.
  --messages PATH  append every ACCEPTED message as one JSON line, flushed:
                   {"chat_id","text","parse_mode","message_id"}; chat_id is
                   a number when it looks like one, text is as sent (before
                   entity parsing), parse_mode null when none was given.
The request log never holds the token: paths are logged as
/bot<redacted>/METHOD, whatever token was sent.

Methods (POST or GET; parameters from the query string, an
application/x-www-form-urlencoded body or an application/json body; method
names are case-insensitive, as on Telegram):
  /bot<TOKEN>/getMe        {"ok":true,"result":{"id",...,"is_bot":true}}
  /bot<TOKEN>/getChat      chat_id: the chat (as in sendMessage's answers)
                           or 400 "Bad Request: chat not found"
  /bot<TOKEN>/sendPhoto    multipart/form-data: chat_id, photo (a PNG or
                           JPEG upload, else 400 "IMAGE_PROCESS_FAILED"),
                           caption (at most 1024 characters, else 400
                           "message caption is too long"); see send_photo
  /bot<TOKEN>/sendMessage  chat_id, text, [parse_mode] (MarkdownV2, HTML or
      Markdown, any case), other parameters (disable_web_page_preview,
      link_preview_options, disable_notification, ...) accepted and ignored.
      200 {"ok":true,"result":{"message_id","from" or "sender_chat","chat",
      "date","text","entities"?}}.  message_id counts from 1 per chat; date
      is the server time in s; text is the text after entity parsing, and
      entities are the ones the markup made (Telegram's automatic url,
      mention and hashtag entities are not produced).  A chat that is a
      number below -1000000000000 or an @username is a channel (no "from",
      "sender_chat" = the chat, as Telegram answers for channel posts); any
      other negative id is a group, a positive one a private chat; both get
      "from" = the bot.
Errors (as {"ok":false,"error_code":N,"description":...}):
  401 "Unauthorized"                               wrong token
  404 "Not Found"                                  unknown method or path
  400 "Bad Request: chat_id is empty"
  400 "Bad Request: message text is empty"         missing, or blank after
                                                   entity parsing
  400 "Bad Request: unsupported parse_mode"
  400 "Bad Request: can't parse entities: ..."     markup errors, with
      tdlib's messages and byte offsets ("Character '.' is reserved and
      must be escaped with the preceding '\\'", "Can't find end of Bold
      entity at byte offset 5", "Unsupported start tag \"x\" at byte offset
      3", ...).  MarkdownV2 and HTML follow tdlib's parse_markdown_v2 and
      parse_html (td/telegram/MessageEntity.cpp) step by step, including
      blockquotes, except that URLs are only checked loosely.
      Deviation, on purpose: in HTML a '&' that starts no entity (&lt; &gt;
      &amp; &quot; &#N; &#xN;) is an error here, "Unescaped '&' at byte
      offset N", where real Telegram keeps it as text; so a client that
      forgets to escape '&' fails in tests.  ctl "html_amp_lenient": true
      restores Telegram's behaviour.
  400 "Bad Request: message is too long"           over 4096 UTF-16 code
                                                   units after parsing
  400 "Bad Request: chat not found"                chat not in ctl "chats"
  Checks run in that order (markup before the chat, as Telegram does).

ctl keys:
  "now"        server time (ms or ISO 8601)
  "chats"      the chats that exist: ids and/or "@usernames" (default: all)
  "html_amp_lenient"  see above
  "faults"     fault rules, see srvlib.py (status, html, stall, stall_body,
               reset, truncate); rules may match "chat_id".  A "status"
               fault without a body answers Telegram's error object; for 429
               {"ok":false,"error_code":429,"description":"Too Many
               Requests: retry after N","parameters":{"retry_after":N}} and
               Retry-After: N, N = the rule's "retry_after" (default 3).
"""

import json
import os
import re
import sys
import threading
import zlib

sys.dont_write_bytecode = True    # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srvlib  # noqa: E402

MAX_LEN = 4096


class ParseError(Exception):
    pass


def _at(b, k):
    return b[k] if k < len(b) else 0


def _is_space(c):
    # tdlib's is_space() counts NUL, so scans stop at the end of the text.
    return c in (32, 9, 13, 10, 0, 11, 12)


def _reserved(c):
    return ParseError("Character '%s' is reserved and must be escaped with "
                      "the preceding '\\'" % chr(c))


def _no_end(e):
    return ParseError("Can't find end of %s entity at byte offset %d"
                      % (e[0], e[3]))


URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
HOST_RE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
                     r"([:/?#].*)?$")


def checked_link(url):
    """A loose stand-in for tdlib's get_checked_link: "" when invalid."""
    url = url.strip()
    if URL_RE.match(url):
        return url
    if HOST_RE.match(url):
        return "http://" + url
    return ""


def parse_markdown_v2(text):
    """Returns (text, entities) or raises ParseError.  Entities are tuples
    (type, utf16 offset, utf16 length, argument)."""
    b = text.encode("utf-8")
    n = len(b)
    out = bytearray()
    u16 = 0
    nested = []   # [type, argument, utf16 offset, byte offset, out pos]
    ents = []
    have_bq = False
    can_bq = True
    i = 0
    while i < n:
        c = b[i]
        if c == 0x5C and 0 < _at(b, i + 1) <= 126:
            i += 1
            u16 += 1
            out.append(b[i])
            if b[i] != 13:
                can_bq = b[i] == 10
            i += 1
            continue
        code = nested and nested[-1][0] in ("Code", "Pre", "PreCode")
        reserved = b"`" if code else b"_*[]()~`>#+-=|{}.!\n"
        if c not in reserved:
            if c & 0xC0 != 0x80:
                u16 += 1 + (c >= 0xF0)
                if c != 13:
                    can_bq = False
            out.append(c)
            i += 1
            continue
        is_end = False
        if nested:
            t = nested[-1][0]
            nx = _at(b, i + 1)
            if have_bq and c == 10 and (i + 1 == n or nx != 0x3E):
                is_end = True
            elif t == "Bold":
                is_end = c == 0x2A
            elif t == "Italic":
                is_end = c == 0x5F and nx != 0x5F
            elif t == "Code":
                is_end = c == 0x60
            elif t in ("Pre", "PreCode"):
                is_end = c == 0x60 and nx == 0x60 and _at(b, i + 2) == 0x60
            elif t in ("TextUrl", "CustomEmoji"):
                is_end = c == 0x5D
            elif t == "Underline":
                is_end = c == 0x5F and nx == 0x5F
            elif t == "Strikethrough":
                is_end = c == 0x7E
            elif t == "Spoiler":
                is_end = c == 0x7C and nx == 0x7C
        if not is_end:
            t = None
            arg = ""
            byte_off = i
            if c == 0x5F:
                if _at(b, i + 1) == 0x5F:
                    t = "Underline"
                    i += 1
                else:
                    t = "Italic"
            elif c == 0x2A:
                t = "Bold"
            elif c == 0x7E:
                t = "Strikethrough"
            elif c == 0x7C:
                if _at(b, i + 1) != 0x7C:
                    raise _reserved(c)
                i += 1
                t = "Spoiler"
            elif c == 0x5B:
                t = "TextUrl"
            elif c == 0x60:
                if _at(b, i + 1) == 0x60 and _at(b, i + 2) == 0x60:
                    i += 3
                    t = "Pre"
                    le = i
                    while not _is_space(_at(b, le)) and _at(b, le) != 0x60:
                        le += 1
                    if i != le and le < n and b[le] != 0x60:
                        t = "PreCode"
                        arg = b[i:le].decode("utf-8", "replace")
                        i = le
                    if _at(b, i) in (10, 13):
                        if _at(b, i + 1) in (10, 13) and \
                                b[i] != _at(b, i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    t = "Code"
            elif c == 0x21:
                if _at(b, i + 1) != 0x5B:
                    raise _reserved(c)
                i += 1
                t = "CustomEmoji"
            elif c == 10:
                u16 += 1
                out.append(10)
                can_bq = True
            elif c == 0x3E:
                if not can_bq:
                    raise _reserved(c)
                if not have_bq:
                    t = "BlockQuote"
                    have_bq = True
            else:
                raise _reserved(c)
            if t is not None:
                nested.append([t, arg, u16, byte_off, len(out)])
            i += 1
            continue
        # The end of an entity.
        t = nested[-1][0]
        if c == 10 and t != "BlockQuote":
            top = nested[-1]
            if t != "Spoiler" or not (top[3] == i - 2 or (
                    top[3] == i - 3 and out and out[-1] == 13)):
                raise _no_end(top)
            nested.pop()
            t = nested[-1][0]
            if t != "BlockQuote":
                raise _no_end(nested[-1])
            t = "ExpandableBlockQuote"
        top = nested[-1]
        arg = top[1]
        skip = u16 == top[2]
        if t in ("Underline", "Spoiler"):
            i += 1
        elif t in ("Pre", "PreCode"):
            i += 2
        elif t in ("TextUrl", "CustomEmoji"):
            if _at(b, i + 1) != 0x28:
                if t == "CustomEmoji":
                    raise ParseError("Custom emoji entity must contain a "
                                     "tg://emoji URL")
                url = out[top[4]:].decode("utf-8", "replace")
            else:
                i += 2
                ub = i
                u = bytearray()
                while i < n and b[i] != 0x29:
                    if b[i] == 0x5C and 0 < _at(b, i + 1) <= 126:
                        u.append(b[i + 1])
                        i += 2
                        continue
                    u.append(b[i])
                    i += 1
                if _at(b, i) != 0x29:
                    raise ParseError(
                        "Can't find end of a %sURL at byte offset %d" % (
                            "custom emoji " if t == "CustomEmoji" else "",
                            ub))
                url = u.decode("utf-8", "replace")
            if t == "CustomEmoji":
                m = re.match(r"^tg://emoji\?(?:.*&)?id=(\d+)", url, re.I)
                if not m:
                    raise ParseError("Custom emoji URL must have an emoji "
                                     "identifier")
                arg = m.group(1)
            else:
                arg = checked_link(url)
                if not arg:
                    skip = True
        elif t in ("BlockQuote", "ExpandableBlockQuote"):
            have_bq = False
            out.append(b[i])
            can_bq = True
            u16 += 1
            skip = False
        if not skip:
            ents.append((t, top[2], u16 - top[2], arg))
        nested.pop()
        i += 1
    if have_bq:
        t = "BlockQuote"
        if nested[-1][0] == "Spoiler" and nested[-1][3] == n - 2:
            nested.pop()
            t = "ExpandableBlockQuote"
        if nested[-1][0] == "BlockQuote":
            if u16 != nested[-1][2]:
                ents.append((t, nested[-1][2], u16 - nested[-1][2], ""))
            nested.pop()
    if nested:
        raise _no_end(nested[-1])
    return out.decode("utf-8", "replace"), ents


def decode_html_entity(b, pos):
    """(code point, position after it) of the entity at b[pos], or (0,
    pos) when there is none."""
    end = pos + 1
    res = 0
    if _at(b, pos + 1) == 0x23:
        end += 1
        if _at(b, pos + 2) == 0x78:
            end += 1
            while chr(_at(b, end)) in "0123456789abcdefABCDEF" and \
                    _at(b, end):
                res = res * 16 + int(chr(b[end]), 16)
                end += 1
                if res >= 0x10FFFF:
                    return 0, pos
        else:
            while 0x30 <= _at(b, end) <= 0x39:
                res = res * 10 + b[end] - 0x30
                end += 1
                if res >= 0x10FFFF:
                    return 0, pos
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(_at(b, end)).isalpha() and _at(b, end) < 128:
            end += 1
        res = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26,
               b"quot": 0x22}.get(bytes(b[pos + 1:end]), 0)
        if not res:
            return 0, pos
    return res, end + 1 if _at(b, end) == 0x3B else end


HTML_TAGS = ("a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
             "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote")
HTML_TYPES = {"i": "Italic", "em": "Italic", "b": "Bold", "strong": "Bold",
              "s": "Strikethrough", "strike": "Strikethrough",
              "del": "Strikethrough", "u": "Underline", "ins": "Underline",
              "tg-spoiler": "Spoiler", "span": "Spoiler"}


def _append_code(out, code):
    out += chr(code).encode("utf-8", "surrogatepass")


def parse_html(text, lenient_amp=False):
    """Returns (text, entities) or raises ParseError."""
    b = text.encode("utf-8")
    n = len(b)
    out = bytearray()
    u16 = 0
    nested = []   # [tag, argument, utf16 offset, out pos]
    ents = []
    surrogates = False
    i = 0
    while i < n:
        c = b[i]
        if c == 0x26:
            code, j = decode_html_entity(b, i)
            if code:
                u16 += 1 + (code > 0xFFFF)
                surrogates |= 0xD800 <= code <= 0xDFFF
                _append_code(out, code)
                i = j
                continue
            if not lenient_amp:
                raise ParseError("Unescaped '&' at byte offset %d" % i)
        if c != 0x3C:
            if c & 0xC0 != 0x80:
                u16 += 1 + (c >= 0xF0)
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if _at(b, i) != 0x2F:
            while not _is_space(_at(b, i)) and _at(b, i) != 0x3E:
                i += 1
            if _at(b, i) == 0:
                raise ParseError("Unclosed start tag at byte offset %d"
                                 % begin)
            tag = b[begin + 1:i].decode("utf-8", "replace").lower()
            if tag not in HTML_TAGS:
                raise ParseError("Unsupported start tag \"%s\" at byte "
                                 "offset %d" % (tag, begin))
            arg = ""
            while _at(b, i) != 0x3E:
                while _at(b, i) != 0 and _is_space(_at(b, i)):
                    i += 1
                if _at(b, i) == 0x3E:
                    break
                ab = i
                while not _is_space(_at(b, i)) and \
                        _at(b, i) not in b"=>/\"'":
                    i += 1
                name = bytes(b[ab:i])
                if not name:
                    raise ParseError("Empty attribute name in the tag \"%s\" "
                                     "at byte offset %d" % (tag, begin))
                while _at(b, i) != 0 and _is_space(_at(b, i)):
                    i += 1
                if _at(b, i) != 0x3D:
                    if _at(b, i) == 0:
                        raise ParseError("Unclosed start tag \"%s\" at byte "
                                         "offset %d" % (tag, begin))
                    if tag == "blockquote" and name == b"expandable":
                        arg = "1"
                    continue
                i += 1
                while _at(b, i) != 0 and _is_space(_at(b, i)):
                    i += 1
                if _at(b, i) == 0:
                    raise ParseError("Unclosed start tag \"%s\" at byte "
                                     "offset %d" % (tag, begin))
                if _at(b, i) not in (0x27, 0x22):
                    tb = i
                    while chr(_at(b, i)).isalnum() and _at(b, i) < 128 or \
                            _at(b, i) in (0x2E, 0x2D):
                        i += 1
                    value = b[tb:i].decode().lower()
                    if not _is_space(_at(b, i)) and _at(b, i) != 0x3E:
                        raise ParseError("Unexpected end of name token at "
                                         "byte offset %d" % tb)
                else:
                    endc = b[i]
                    i += 1
                    v = bytearray()
                    while _at(b, i) != endc and _at(b, i) != 0:
                        if b[i] == 0x26:
                            code, j = decode_html_entity(b, i)
                            if code:
                                _append_code(v, code)
                                i = j
                                continue
                        v.append(b[i])
                        i += 1
                    if _at(b, i) == endc:
                        i += 1
                    value = v.decode("utf-8", "replace")
                if _at(b, i) == 0:
                    raise ParseError("Unclosed start tag at byte offset %d"
                                     % begin)
                if tag == "a" and name == b"href":
                    arg = value
                elif tag == "code" and name == b"class" and \
                        value.startswith("language-"):
                    arg = value[9:]
                elif tag == "span" and name == b"class" and \
                        value.startswith("tg-"):
                    arg = value[3:]
                elif tag == "tg-emoji" and name == b"emoji-id":
                    arg = value
                elif tag == "blockquote" and name == b"expandable":
                    arg = "1"
            if tag == "span" and arg != "spoiler":
                raise ParseError("Tag \"span\" must have class \"tg-spoiler\""
                                 " at byte offset %d" % begin)
            nested.append([tag, arg, u16, len(out)])
        else:
            if not nested:
                raise ParseError("Unexpected end tag at byte offset %d"
                                 % begin)
            while not _is_space(_at(b, i)) and _at(b, i) != 0x3E:
                i += 1
            etag = b[begin + 2:i].decode("utf-8", "replace").lower()
            while _is_space(_at(b, i)) and _at(b, i) != 0:
                i += 1
            if _at(b, i) != 0x3E:
                raise ParseError("Unclosed end tag at byte offset %d"
                                 % begin)
            tag, arg, off, pos = nested[-1]
            if etag and etag != tag:
                raise ParseError("Unmatched end tag at byte offset %d, "
                                 "expected \"</%s>\", found \"</%s>\""
                                 % (begin, tag, etag))
            if u16 > off:
                ln = u16 - off
                if tag in HTML_TYPES:
                    ents.append((HTML_TYPES[tag], off, ln, ""))
                elif tag == "tg-emoji":
                    if not arg.isdigit() or int(arg) == 0:
                        raise ParseError("Invalid custom emoji identifier "
                                         "specified")
                    ents.append(("CustomEmoji", off, ln, arg))
                elif tag == "a":
                    url = checked_link(arg or out[pos:].decode(
                        "utf-8", "replace"))
                    if url:
                        ents.append(("TextUrl", off, ln, url))
                elif tag == "pre":
                    if ents and ents[-1][0] == "Code" and \
                            ents[-1][1:3] == (off, ln) and ents[-1][3]:
                        ents[-1] = ("PreCode",) + ents[-1][1:]
                    else:
                        ents.append(("Pre", off, ln, ""))
                elif tag == "code":
                    if ents and ents[-1][0] == "Pre" and \
                            ents[-1][1:3] == (off, ln) and arg:
                        ents[-1] = ("PreCode", off, ln, arg)
                    else:
                        ents.append(("Code", off, ln, arg))
                elif tag == "blockquote":
                    ents.append(("ExpandableBlockQuote" if arg else
                                 "BlockQuote", off, ln, ""))
            nested.pop()
        i += 1
    if nested:
        raise ParseError("Can't find end tag corresponding to start tag "
                         "\"%s\"" % nested[-1][0])
    if surrogates:
        raise ParseError("Text contains invalid Unicode characters after "
                         "decoding HTML entities, check for unmatched "
                         "surrogate code units")
    ents = [(t, o, ln, "" if t == "Code" else a) for t, o, ln, a in ents]
    return out.decode("utf-8", "replace"), ents


def parse_markdown(text):
    """Legacy Markdown (parse_mode "Markdown"): *bold* _italic_ `code`
    ```pre``` [text](url); '\\' escapes _ * ` [."""
    out = []
    ents = []
    i, n = 0, len(text)
    u16 = 0

    def units(s):
        return len(s.encode("utf-16-le")) // 2
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += units(c)
            i += 1
            continue
        start_byte = len(text[:i].encode("utf-8"))
        if c == "`" and text.startswith("```", i):
            j = text.find("```", i + 3)
            if j < 0:
                raise ParseError("Can't find end of the entity starting at "
                                 "byte offset %d" % start_byte)
            inner = text[i + 3:j]
            ents.append(("Pre", u16, units(inner), ""))
            out.append(inner)
            u16 += units(inner)
            i = j + 3
            continue
        end = {"[": "]"}.get(c, c)
        j = text.find(end, i + 1)
        if j < 0:
            raise ParseError("Can't find end of the entity starting at byte "
                             "offset %d" % start_byte)
        inner = text[i + 1:j]
        i = j + 1
        t = {"_": "Italic", "*": "Bold", "`": "Code", "[": "TextUrl"}[c]
        arg = ""
        if c == "[":
            if i < n and text[i] == "(":
                k = text.find(")", i)
                if k < 0:
                    raise ParseError("Can't find end of the entity starting "
                                     "at byte offset %d" % start_byte)
                arg = checked_link(text[i + 1:k])
                i = k + 1
            else:
                arg = checked_link(inner)
        if inner and (t != "TextUrl" or arg):
            ents.append((t, u16, units(inner), arg))
        out.append(inner)
        u16 += units(inner)
    return "".join(out), ents


API_TYPES = {"Bold": "bold", "Italic": "italic", "Underline": "underline",
             "Strikethrough": "strikethrough", "Spoiler": "spoiler",
             "Code": "code", "Pre": "pre", "PreCode": "pre",
             "TextUrl": "text_link", "CustomEmoji": "custom_emoji",
             "BlockQuote": "blockquote",
             "ExpandableBlockQuote": "expandable_blockquote"}


def api_entities(ents):
    out = []
    for t, off, ln, arg in sorted(ents, key=lambda e: (e[1], -e[2])):
        e = {"offset": off, "length": ln, "type": API_TYPES[t]}
        if t == "PreCode":
            e["language"] = arg
        elif t == "TextUrl":
            e["url"] = arg
        elif t == "CustomEmoji":
            e["custom_emoji_id"] = arg
        out.append(e)
    return out


def tg_error(code, description, headers=None, parameters=None):
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return srvlib.json_response(code, body, headers=headers)


def bad(msg):
    return tg_error(400, "Bad Request: " + msg)


class Telegram(srvlib.App):
    name = "telegram"

    def __init__(self, args):
        srvlib.App.__init__(self, args)
        self.token = args.token
        self.bot_id = int(args.token.split(":")[0]) \
            if args.token.split(":")[0].isdigit() else 1
        self.msgs = open(args.messages, "a", encoding="utf-8") \
            if args.messages else None
        self.lock = threading.Lock()
        self.counters = {}

    def redact(self, path):
        return re.sub(r"^/bot[^/]*", "/bot<redacted>", path)

    def error_body(self, code, retry_after, ctx):
        if code == 429:
            n = int(retry_after if retry_after is not None else 3)
            return tg_error(429, "Too Many Requests: retry after %d" % n,
                            [("Retry-After", str(n))], {"retry_after": n})
        desc = {401: "Unauthorized", 403: "Forbidden: bot was blocked by "
                "the user", 404: "Not Found", 400: "Bad Request"}.get(
                    code, srvlib.reason(code))
        return tg_error(code, desc)

    def bot(self):
        return {"id": self.bot_id, "is_bot": True, "first_name": "bt test",
                "username": "bt_test_bot"}

    def chat(self, chat_id):
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            cid = -(10**12 + zlib.crc32(chat_id.encode()) % 10**9)
            return {"id": cid, "title": chat_id[1:], "username": chat_id[1:],
                    "type": "channel"}
        cid = int(chat_id)
        if cid < -10**12:
            return {"id": cid, "title": "bt test channel", "type": "channel"}
        if cid < 0:
            return {"id": cid, "title": "bt test group", "type": "group"}
        return {"id": cid, "first_name": "Test", "username": "test_user",
                "type": "private"}

    def route(self, req, ctx, rule):
        m = re.match(r"^/bot([^/]*)/([A-Za-z]+)$", req.path)
        if not m:
            return tg_error(404, "Not Found")
        if m.group(1) != self.token:
            return tg_error(401, "Unauthorized")
        method = m.group(2).lower()
        if method == "getme":
            b = self.bot()
            b.update({"can_join_groups": True,
                      "can_read_all_group_messages": False,
                      "supports_inline_queries": False})
            return srvlib.json_response(200, {"ok": True, "result": b})
        if method == "sendmessage":
            return self.send_message(req, ctx)
        if method == "sendphoto":
            return self.send_photo(req, ctx)
        if method == "getchat":
            return self.get_chat(req, ctx)
        return tg_error(404, "Not Found")

    def known_chat(self, chat_id, ctx):
        """The chat as Telegram would see it, or None when it is not in
        ctl "chats"."""
        chat_id = str(chat_id).strip()
        if re.match(r"^-?\d+$", chat_id):
            chat_id = int(chat_id)
        elif not chat_id.startswith("@"):
            return None, chat_id
        chats = ctx.state.get("chats")
        if chats is not None and str(chat_id) not in [str(c) for c in chats]:
            return None, chat_id
        return self.chat(chat_id), chat_id

    def get_chat(self, req, ctx):
        chat_id = req.param("chat_id")
        if chat_id is None or str(chat_id).strip() == "":
            return bad("chat_id is empty")
        chat, _ = self.known_chat(chat_id, ctx)
        if chat is None:
            return bad("chat not found")
        return srvlib.json_response(200, {"ok": True, "result": chat})

    def send_photo(self, req, ctx):
        """sendPhoto as multipart/form-data: chat_id, an uploaded photo
        (checked to be a PNG or JPEG file), an optional caption of at most
        1024 characters after entity parsing.  Accepted uploads go to the
        --messages file as {"method":"sendPhoto","chat_id","caption",
        "filename","photo_bytes","photo_sha256","message_id"}."""
        import hashlib
        chat_id = req.param("chat_id")
        if chat_id is None or str(chat_id).strip() == "":
            return bad("chat_id is empty")
        photo = req.files.get("photo")
        if photo is None:
            return bad("there is no photo in the request")
        data = photo["data"]
        if not (data.startswith(b"\x89PNG\r\n\x1a\n") or
                data.startswith(b"\xff\xd8\xff")):
            return bad("IMAGE_PROCESS_FAILED")
        caption = req.param("caption") or ""
        if len(caption.encode("utf-16-le", "surrogatepass")) // 2 > 1024:
            return bad("message caption is too long")
        chat, chat_id = self.known_chat(chat_id, ctx)
        if chat is None:
            return bad("chat not found")
        with self.lock:
            mid = self.counters.get(chat["id"], 0) + 1
            self.counters[chat["id"]] = mid
            if self.msgs:
                self.msgs.write(json.dumps(
                    {"method": "sendPhoto", "chat_id": chat_id,
                     "caption": caption, "filename": photo["filename"],
                     "photo_bytes": len(data),
                     "photo_sha256": hashlib.sha256(data).hexdigest(),
                     "message_id": mid},
                    ensure_ascii=False, separators=(",", ":")) + "\n")
                self.msgs.flush()
        msg = {"message_id": mid, "chat": chat, "date": ctx.now // 1000,
               "photo": [{"file_id": "p%d" % mid, "width": 1,
                          "height": 1, "file_size": len(data)}]}
        if caption:
            msg["caption"] = caption
        return srvlib.json_response(200, {"ok": True, "result": msg})

    def send_message(self, req, ctx):
        chat_id = req.param("chat_id")
        if chat_id is None or str(chat_id).strip() == "":
            return bad("chat_id is empty")
        chat_id = str(chat_id).strip()
        if re.match(r"^-?\d+$", chat_id):
            chat_id = int(chat_id)
        elif not chat_id.startswith("@"):
            return bad("chat not found")
        text = req.param("text")
        if text is None or not isinstance(text, str) or not text.strip():
            return bad("message text is empty")
        mode = req.param("parse_mode")
        ents = []
        out = text
        try:
            if mode in (None, ""):
                pass
            elif str(mode).lower() == "markdownv2":
                out, ents = parse_markdown_v2(text)
            elif str(mode).lower() == "html":
                out, ents = parse_html(text, bool(
                    ctx.state.get("html_amp_lenient")))
            elif str(mode).lower() == "markdown":
                out, ents = parse_markdown(text)
            else:
                return bad("unsupported parse_mode")
        except ParseError as e:
            return bad("can't parse entities: %s" % e)
        if not out.strip():
            return bad("message text is empty")
        if len(out.encode("utf-16-le", "surrogatepass")) // 2 > MAX_LEN:
            return bad("message is too long")
        chats = ctx.state.get("chats")
        if chats is not None and str(chat_id) not in [str(c) for c in chats]:
            return bad("chat not found")
        chat = self.chat(chat_id)
        with self.lock:
            mid = self.counters.get(chat["id"], 0) + 1
            self.counters[chat["id"]] = mid
            if self.msgs:
                self.msgs.write(json.dumps(
                    {"chat_id": chat_id, "text": text,
                     "parse_mode": mode or None, "message_id": mid},
                    ensure_ascii=False, separators=(",", ":")) + "\n")
                self.msgs.flush()
        msg = {"message_id": mid}
        if chat["type"] == "channel":
            msg["sender_chat"] = chat
        else:
            msg["from"] = self.bot()
        msg.update({"chat": chat, "date": ctx.now // 1000, "text": out})
        if ents:
            msg["entities"] = api_entities(ents)
        return srvlib.json_response(200, {"ok": True, "result": msg})


def main(argv=None):
    p = srvlib.arg_parser("Fake Telegram Bot API (sendMessage, getMe).")
    p.add_argument("--token", required=True)
    p.add_argument("--messages", metavar="PATH")
    args = p.parse_args(argv)
    return srvlib.serve(Telegram(args))


if __name__ == "__main__":
    sys.exit(main())
