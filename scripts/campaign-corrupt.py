#!/usr/bin/env python3
"""campaign-corrupt.py - damages an SQLite store in one named way, for
scripts/campaign-corruption (issue 7, campaign 4).

Usage:
  campaign-corrupt.py --list [--quick]     the ways, one per line
  campaign-corrupt.py DB WAY [SEED]        damage DB (and DB-wal, DB-shm)

The page map comes from dbstat on the file before it is damaged.  The
file format is SQLite's (sqlite.org/fileformat2.html): the 100-byte
header of page 1, b-tree pages with an 8- or 12-byte header and a cell
pointer array, records with a header of serial types.  Candles live in a
WITHOUT ROWID table, so their pages are index b-tree pages (leaf type
0x0a) whose cells are records (pair, slot, xo, o, h, l, c, v, ct, qv, n,
tb, tq); `pairs' is a rowid table (leaf type 0x0d).

A way that cannot apply to this file (no such page) exits 2.
"""

import os
import random
import sqlite3
import struct
import sys

CANDLE_COLS = ["pair", "slot", "xo", "o", "h", "l", "c", "v", "ct", "qv",
               "n", "tb", "tq"]


def varint(b, i):
    """SQLite varint at b[i]: (value, next index)."""
    v = 0
    for k in range(9):
        c = b[i + k]
        if k == 8:
            return (v << 8) | c, i + 9
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i + k + 1
    raise ValueError


def serial_len(t):
    if t in (0, 8, 9):
        return 0
    if 1 <= t <= 6:
        return (1, 2, 3, 4, 6, 8)[t - 1]
    if t == 7:
        return 8
    return (t - 12) // 2 if t % 2 == 0 else (t - 13) // 2


class Db:
    def __init__(self, path):
        self.path = path
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        self.psz = c.execute("PRAGMA page_size").fetchone()[0]
        self.pages = {}
        for name, pageno, ptype in c.execute(
                "SELECT name, pageno, pagetype FROM dbstat ORDER BY pageno"):
            self.pages.setdefault((name, ptype), []).append(pageno)
        self.npages = c.execute("PRAGMA page_count").fetchone()[0]
        self.free = c.execute("PRAGMA freelist_count").fetchone()[0]
        c.close()
        with open(path, "rb") as f:
            self.buf = bytearray(f.read())

    def page(self, n):
        o = (n - 1) * self.psz
        return o, self.buf[o:o + self.psz]

    def pick(self, name, ptype, which):
        v = self.pages.get((name, ptype), [])
        if not v:
            sys.exit(2)
        return {"first": v[0], "mid": v[len(v) // 2], "last": v[-1]}[which]

    def cells(self, n):
        """(page offset, [cell offsets in the file])."""
        o, p = self.page(n)
        h = 100 if n == 1 else 0
        ncell = struct.unpack(">H", p[h + 3:h + 5])[0]
        hdr = 12 if p[h] in (2, 5) else 8
        ptrs = [struct.unpack(">H", p[h + hdr + 2 * i:h + hdr + 2 * i + 2])[0]
                for i in range(ncell)]
        return o, h, [o + q for q in ptrs]

    def candle_field(self, col, which="mid"):
        """File offset and length of column `col' of a candle in the
        middle of a leaf page."""
        n = self.pick("candles", "leaf", which)
        _, _, cells = self.cells(n)
        for ci in range(len(cells) // 2, len(cells)):
            i = cells[ci]
            _, i = varint(self.buf, i)          # payload size
            hs, j = varint(self.buf, i)          # record header size
            end = i + hs
            types = []
            while j < end:
                t, j = varint(self.buf, j)
                types.append(t)
            k = CANDLE_COLS.index(col)
            if k >= len(types):
                continue
            off = end + sum(serial_len(t) for t in types[:k])
            ln = serial_len(types[k])
            if ln > 0:
                return off, ln, types[k]
        sys.exit(2)

    def save(self):
        with open(self.path, "r+b") as f:
            f.write(self.buf)


def put(db, off, data):
    db.buf[off:off + len(data)] = data


def overwrite(db, n, rng, zero=False):
    o, _ = db.page(n)
    put(db, o, bytes(db.psz) if zero else rng.randbytes(db.psz))


def flip(db, col, bit, which="mid"):
    off, ln, t = db.candle_field(col, which)
    if bit == "low":
        db.buf[off + ln - 1] ^= 0x01
    elif bit == "mid":
        db.buf[off + ln // 2] ^= 0x10
    elif bit == "sign":
        db.buf[off] ^= 0x80


def header(db, off, fmt, v):
    put(db, off, struct.pack(fmt, v))


def trunc(path, size):
    with open(path, "r+b") as f:
        f.truncate(max(size, 0))


WAYS = {}


def way(name, quick=False):
    def deco(f):
        WAYS[name] = (f, quick)
        return f
    return deco


# --- the 100-byte header
way("hdr_magic", True)(lambda db, r: put(db, 0, bytes(16)))
way("hdr_page_size_invalid")(lambda db, r: header(db, 16, ">H", 768))
way("hdr_page_size_wrong")(lambda db, r: header(db, 16, ">H", 1024))
way("hdr_write_version")(lambda db, r: put(db, 18, b"\x07"))
way("hdr_read_version")(lambda db, r: put(db, 19, b"\x07"))
way("hdr_reserved_bytes")(lambda db, r: put(db, 20, b"\x20"))
way("hdr_payload_fractions")(lambda db, r: put(db, 21, b"\x10\x10\x10"))
way("hdr_db_size_small", True)(lambda db, r: header(db, 28, ">I", 2))
way("hdr_freelist_trunk_bogus")(
    lambda db, r: header(db, 32, ">I", db.npages + 7))
way("hdr_freelist_count_wrong")(
    lambda db, r: header(db, 36, ">I", db.free + 3))
way("hdr_freelist_zeroed", True)(lambda db, r: put(db, 32, bytes(8)))
way("hdr_schema_cookie")(lambda db, r: header(db, 40, ">I", 12345))
way("hdr_schema_format")(lambda db, r: header(db, 44, ">I", 9))
way("hdr_text_encoding")(lambda db, r: header(db, 56, ">I", 2))
way("hdr_user_version")(lambda db, r: header(db, 60, ">I", 77))
way("hdr_application_id")(lambda db, r: header(db, 68, ">I", 0x1234))
way("hdr_change_counter")(lambda db, r: header(db, 24, ">I", 999))

# --- whole pages
way("page1_body_random")(
    lambda db, r: put(db, 100, r.randbytes(db.psz - 100)))
way("schema_leaf_zeroed")(lambda db, r: put(db, 100, bytes(db.psz - 100)))
for _w in ("first", "mid", "last"):
    way("candles_leaf_%s_random" % _w, _w == "mid")(
        lambda db, r, w=_w: overwrite(db, db.pick("candles", "leaf", w), r))
    way("candles_leaf_%s_zeroed" % _w)(
        lambda db, r, w=_w: overwrite(db, db.pick("candles", "leaf", w), r,
                                      True))
way("candles_interior_random", True)(
    lambda db, r: overwrite(db, db.pick("candles", "internal", "first"), r))
way("candles_interior_zeroed")(
    lambda db, r: overwrite(db, db.pick("candles", "internal", "first"), r,
                            True))
way("pairs_page_zeroed", True)(
    lambda db, r: overwrite(db, db.pick("pairs", "leaf", "first"), r, True))
way("pairs_page_random")(
    lambda db, r: overwrite(db, db.pick("pairs", "leaf", "first"), r))
way("pairs_index_zeroed")(
    lambda db, r: overwrite(db, db.pick("sqlite_autoindex_pairs_1", "leaf",
                                        "first"), r, True))
way("pairs_index_random")(
    lambda db, r: overwrite(db, db.pick("sqlite_autoindex_pairs_1", "leaf",
                                        "first"), r))
way("bt_meta_zeroed")(
    lambda db, r: overwrite(db, db.pick("bt_meta", "leaf", "first"), r, True))
way("freelist_page_random")(
    lambda db, r: overwrite(db, struct.unpack(">I", db.buf[32:36])[0] or
                            sys.exit(2), r))


def swap_pages(db, a, b):
    oa, pa = db.page(a)
    ob, pb = db.page(b)
    put(db, oa, bytes(pb))
    put(db, ob, bytes(pa))


way("candles_leaves_swapped", True)(
    lambda db, r: swap_pages(db, db.pick("candles", "leaf", "first"),
                             db.pick("candles", "leaf", "last")))
way("candles_leaf_copied")(
    lambda db, r: put(db, db.page(db.pick("candles", "leaf", "mid"))[0],
                      bytes(db.page(db.pick("candles", "leaf", "first"))[1])))


def leaf_cells_fewer(db, r):
    n = db.pick("candles", "leaf", "mid")
    o, h, cells = db.cells(n)
    header(db, o + h + 3, ">H", len(cells) - 1)


def leaf_cell_pointer_dup(db, r):
    n = db.pick("candles", "leaf", "mid")
    o, h, cells = db.cells(n)
    put(db, o + h + 8 + 2, db.buf[o + h + 8:o + h + 10])


way("candles_leaf_cell_count_minus_1")(leaf_cells_fewer)
way("candles_leaf_cell_pointer_dup")(leaf_cell_pointer_dup)


def symbol_last_letter(db, tree, symbol, letter):
    """The last letter of a symbol on the first leaf of a b-tree."""
    o, p = db.page(db.pick(tree, "leaf", "first"))
    i = p.find(symbol)
    if i < 0:
        sys.exit(2)
    db.buf[o + i + len(symbol) - 1] = ord(letter)


def index_entry_changed(db, r):
    """A symbol in the pairs index: BTCUSDT -> BTCUSDU."""
    symbol_last_letter(db, "sqlite_autoindex_pairs_1", b"BTCUSDT", "U")


def pairs_symbol_changed(db, r):
    """A symbol in the pairs table: ETHUSDT -> ETHUSDX."""
    symbol_last_letter(db, "pairs", b"ETHUSDT", "X")


def pairs_scale_changed(db, r):
    """dp (10^k of prices) of a pair, stored as a REAL: x10."""
    n = db.pick("pairs", "leaf", "first")
    o, h, cells = db.cells(n)
    i = cells[0]
    _, i = varint(db.buf, i)        # payload size
    _, i = varint(db.buf, i)        # rowid
    hs, j = varint(db.buf, i)
    end = i + hs
    types = []
    while j < end:
        t, j = varint(db.buf, j)
        types.append(t)
    # id (NULL alias), symbol, tf, iv, kp, kv, kq, dp, dv, dq
    k = 7
    off = end + sum(serial_len(t) for t in types[:k])
    if types[k] == 7:
        v = struct.unpack(">d", db.buf[off:off + 8])[0]
        put(db, off, struct.pack(">d", v * 10))
    elif 1 <= types[k] <= 6:
        # An integral REAL is stored as an integer: 100 -> 10, or x10
        # when that fits the same bytes.
        ln = serial_len(types[k])
        v = int.from_bytes(db.buf[off:off + ln], "big", signed=True)
        w = v // 10 if v >= 10 and v % 10 == 0 else v * 10
        try:
            put(db, off, w.to_bytes(ln, "big", signed=True))
        except OverflowError:
            sys.exit(2)
    else:
        sys.exit(2)


def pairs_interval_changed(db, r):
    n = db.pick("pairs", "leaf", "first")
    o, h, cells = db.cells(n)
    i = cells[0]
    _, i = varint(db.buf, i)
    _, i = varint(db.buf, i)
    hs, j = varint(db.buf, i)
    end = i + hs
    types = []
    while j < end:
        t, j = varint(db.buf, j)
        types.append(t)
    k = 3
    off = end + sum(serial_len(t) for t in types[:k])
    ln = serial_len(types[k])
    db.buf[off + ln - 1] ^= 0x01


way("index_entry_changed", True)(index_entry_changed)
way("pairs_symbol_changed")(pairs_symbol_changed)
way("pairs_price_scale_changed", True)(pairs_scale_changed)
way("pairs_interval_bit")(pairs_interval_changed)

# --- values in a candle: single bit flips
for _c in ("o", "h", "l", "c", "v", "qv", "n", "tb", "tq"):
    for _b in ("low", "mid", "sign"):
        way("flip_%s_%s" % (_c, _b), (_c, _b) in (("c", "low"),
                                                  ("h", "sign")))(
            lambda db, r, c=_c, b=_b: flip(db, c, b))
way("flip_slot_low")(lambda db, r: flip(db, "slot", "low"))
way("flip_slot_mid")(lambda db, r: flip(db, "slot", "mid"))
way("flip_pair_low")(lambda db, r: flip(db, "pair", "low"))


def record_type_changed(db, r):
    """A serial type in a candle's record header: int -> float."""
    n = db.pick("candles", "leaf", "mid")
    _, _, cells = db.cells(n)
    i = cells[len(cells) // 2]
    _, i = varint(db.buf, i)
    hs, j = varint(db.buf, i)
    # The 4th serial type (o), a one-byte varint.
    for _ in range(3):
        _, j = varint(db.buf, j)
    db.buf[j] = 7


way("record_serial_type_changed")(record_type_changed)


def random_bytes(db, r):
    for _ in range(4):
        off = r.randrange(db.psz, len(db.buf))
        db.buf[off] ^= 1 << r.randrange(8)


for _i in range(1, 7):
    way("random_bits_%d" % _i, _i == 1)(
        lambda db, r, i=_i: (r.seed(1000 + i), random_bytes(db, r)))

# --- the file as a whole (these do not go through Db.save)
FILE_WAYS = {
    "file_truncated_to_0": lambda p, db: trunc(p, 0),
    "file_truncated_to_1_page": lambda p, db: trunc(p, db.psz),
    "file_truncated_half": lambda p, db: trunc(p, len(db.buf) // 2),
    "file_truncated_last_page": lambda p, db: trunc(p, len(db.buf) - db.psz),
    "file_truncated_mid_page": lambda p, db: trunc(p, len(db.buf) - 100),
    "file_extended_garbage": lambda p, db: open(p, "ab").write(
        random.Random(7).randbytes(db.psz)),
    "file_deleted": lambda p, db: os.unlink(p),
    "file_replaced_by_text": lambda p, db: open(p, "w").write(
        "this is not a database\n"),
}
QUICK_FILE = ("file_truncated_half", "file_deleted")

# --- the WAL (applied to a store whose last transaction is in DB-wal)
WAL_WAYS = {
    "wal_deleted": lambda p: os.unlink(p + "-wal"),
    "wal_and_shm_deleted": lambda p: (os.unlink(p + "-wal"),
                                      os.path.exists(p + "-shm") and
                                      os.unlink(p + "-shm")),
    "wal_truncated_mid_frame": lambda p: trunc(
        p + "-wal", os.path.getsize(p + "-wal") - 1000),
    "wal_header_salt": lambda p: wal_put(p, 16, b"\xde\xad\xbe\xef"),
    "wal_frame_checksum": lambda p: wal_put(p, 32 + 24 + 4096 * 2 + 48,
                                            b"\xff"),
    "wal_last_frame_garbage": lambda p: wal_put(
        p, os.path.getsize(p + "-wal") - 2000, b"\x55" * 64),
    "shm_deleted": lambda p: os.unlink(p + "-shm"),
    "shm_garbage": lambda p: open(p + "-shm", "r+b").write(
        random.Random(3).randbytes(4096)),
}
QUICK_WAL = ("wal_deleted", "shm_deleted")


def wal_put(p, off, data):
    with open(p + "-wal", "r+b") as f:
        f.seek(off)
        f.write(data)


def main():
    if sys.argv[1] == "--list":
        quick = "--quick" in sys.argv
        for k, (f, q) in WAYS.items():
            if q or not quick:
                print("page", k)
        for k in FILE_WAYS:
            if k in QUICK_FILE or not quick:
                print("file", k)
        for k in WAL_WAYS:
            if k in QUICK_WAL or not quick:
                print("wal", k)
        return 0
    path, name = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if name in WAL_WAYS:
        WAL_WAYS[name](path)
        return 0
    db = Db(path)
    if name in FILE_WAYS:
        FILE_WAYS[name](path, db)
        return 0
    WAYS[name][0](db, random.Random(seed))
    db.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
