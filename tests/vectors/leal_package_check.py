#!/usr/bin/env python3
"""leal_package_check.py - an independent reading of firmware/core/PACKAGE.md
(format 2), written from the document, not from package.c: parses a package
field by field, checks every rule the document states for the sections it
carries, recomputes the signed message (SHA-256 chain over 1,024-byte blocks)
and verifies the Ed25519 signature with python3-cryptography under the
RFC 8032 section 7.1 TEST 1 public key (package key version 2).

Usage: leal_package_check.py FILE.txt   (a vector file: PACKAGE = hex,
SIGNED_MESSAGE = hex). Prints the package's fields; exit 1 on any mismatch.
"""
import hashlib
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TEST1_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_vectors(path):
    v = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or "=" not in line:
            continue
        k, _, val = line.partition("=")
        v[k.strip()] = bytes.fromhex(val.strip())
    return v


def utf8_name_ok(b):
    if not 1 <= len(b) <= 63:
        return False
    try:
        s = b.decode("utf-8", errors="strict")  # refuses overlongs, surrogates, > U+10FFFF
    except UnicodeDecodeError:
        return False
    return all(not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) for ch in s)


def main():
    v = read_vectors(sys.argv[1])
    pkg, want_msg = v["PACKAGE"], v["SIGNED_MESSAGE"]
    (magic, fmt, keyv, res, prog, term, ver, issued, until, R, H, F, P, N, res2) = struct.unpack(
        ">4sBBHIIIQQIIIII4s", pkg[:60])
    if magic != b"LPKG" or fmt != 2 or res != 0 or res2 != b"\0" * 4:
        fail("header")
    if not (keyv and prog and term and ver and until > issued):
        fail("header fields")
    size = 60 + R + 9 * H + 28 * F + 24 * P + N + 32 + 8 + 64
    if len(pkg) != size:
        fail("size %d, the header says %d" % (len(pkg), size))
    off = 60 + R
    print("format 2, key version %d, program %d, terminal %d, version %d, issued %d, until %d"
          % (keyv, prog, term, ver, issued, until))
    print("rules %d bytes: %s" % (R, pkg[60:60 + R].hex() if R <= 8 else "..."))
    prev = 0
    for i in range(H):
        cid, reason = struct.unpack(">QB", pkg[off:off + 9])
        if cid <= prev or reason not in (1, 2, 3):
            fail("hot record %d" % i)
        print("hot %#x reason %d" % (cid, reason))
        prev, off = cid, off + 9
    prev = 0
    for i in range(F):
        cid, kind, flags, r, taps, seq, tag = struct.unpack(">QBBHII8s", pkg[off:off + 28])
        if cid <= prev or kind not in (1, 2) or flags & ~7 or (flags & 2 and kind != 1) or r:
            fail("floor record %d" % i)
        if (flags & 4 and (not flags & 2 or flags & 1)) or \
                (not flags & 1 and ((seq and not flags & 4) or tag != b"\0" * 8)):
            fail("floor record %d" % i)
        if flags & 4:  # bytes 16..19 are the TMC floor, the highest TMC the host proved
            print("floor %#x kind %d flags %d taps %d tmc %d" % (cid, kind, flags, taps, seq))
        else:
            print("floor %#x kind %d flags %d taps %d seq %d tag %s" % (cid, kind, flags, taps,
                                                                        seq, tag.hex()))
        prev, off = cid, off + 28
    prev = 0
    for i in range(P):
        cid, taps, upto, pts, kinds, r = struct.unpack(">QIIiB3s", pkg[off:off + 24])
        if cid <= prev or upto == 0 or pts == -2**31 or not kinds or kinds & ~0x0F or r != b"\0" * 3:
            fail("pending record %d" % i)
        print("pending %#x at taps %d up to entry %d points %+d kinds %#04x" % (cid, taps, upto, pts,
                                                                                kinds))
        prev, off = cid, off + 24
    end, prevkey = off + N, None
    while off < end:
        kind, item, n = struct.unpack(">BIB", pkg[off:off + 6])
        text = pkg[off + 6:off + 6 + n]
        if kind not in range(1, 6) or off + 6 + n > end or not utf8_name_ok(text):
            fail("name at %d" % off)
        if prevkey is not None and (kind, item) <= prevkey:
            fail("names out of order at %d" % off)
        print("name kind %d item %d: %s" % (kind, item, text.decode("utf-8")))
        prevkey, off = (kind, item), off + 6 + n
    store, cap, std, dst, has, r1 = struct.unpack(">IIhhB3s", pkg[off:off + 16])
    rules = [struct.unpack(">BBBBi", pkg[off + 16 + 8 * k:off + 24 + 8 * k]) for k in (0, 1)]
    if r1 != b"\0" * 3 or has not in (0, 1) or abs(std) > 1080 or abs(dst) > 1080:
        fail("site")
    if has:
        for (m, w, d, rz, t) in rules:
            if not (1 <= m <= 12 and 1 <= w <= 5 and d <= 6 and rz == 0 and abs(t) <= 604800):
                fail("zone rule")
        if std == dst:
            fail("zone: DST offset equals the standard one")
    elif dst != std or any(x != 0 for r in rules for x in r):
        fail("zone without DST carries rules")
    print("site store %d classic cap %d cents zone std %+d dst %+d rules %s" % (store, cap, std, dst,
                                                                                rules if has else "-"))
    off += 32
    day, sync = struct.unpack(">II", pkg[off:off + 8])
    if day > sync:
        fail("caps")
    print("caps %d a day, %d between syncs" % (day, sync))
    body = pkg[:-64]
    h = bytes(32)
    for i in range(0, len(body), 1024):
        h = hashlib.sha256(h + body[i:i + 1024]).digest()
    msg = b"leal-package" + bytes([2]) + struct.pack(">I", len(body)) + h
    if msg != want_msg:
        fail("signed message differs")
    Ed25519PublicKey.from_public_bytes(TEST1_PUBLIC).verify(pkg[-64:], msg)
    print("signed message recomputed, signature verified (%d bytes)" % len(pkg))


main()
