#!/usr/bin/env python3
"""An independent reader of firmware/core/JOURNAL.md, written from that page
alone (struct, python3-cryptography's AES and CMAC; no leal code): derives the
terminal's journal key from the journal master as KEYS.md says (AN10922),
reads an export field by field, checks every entry's MAC, the chain, the
header and the export MAC, then an ack against it, and prints one line per
entry, then "export ok" / "ack ok". Any failure: one line on stderr, exit 1.

Usage: journal_decode.py MASTER_HEX ISSUER PROGRAM TERMINAL EXPORT_HEX ACK_HEX
       journal_decode.py --vectors FILE   (the golden journal's own values)"""
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

OPS = {1: "earn", 2: "pay", 3: "pay+earn", 4: "redeem", 5: "stamp", 6: "bono", 7: "void",
       8: "balance", 9: "refusal", 0x0A: "settle", 0x10: "EPOCH", 0x11: "RECOVERY", 0x12: "ACK"}


class Refused(Exception):
    pass


def aes_cbc(key, data):
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return enc.update(data) + enc.finalize()


def dbl(block):
    n = int.from_bytes(block, "big") << 1
    if n >> 128:
        n = (n & ((1 << 128) - 1)) ^ 0x87
    return n.to_bytes(16, "big")


def journal_key(master, issuer, program, terminal):
    """KEYS.md: AN10922 under the journal master, M = "J" || issuer || program || terminal."""
    d = b"\x01" + b"J" + struct.pack(">III", issuer, program, terminal)
    k2 = dbl(dbl(aes_cbc(master, bytes(16))))
    d += b"\x80" + bytes(31 - len(d))
    d = d[:16] + bytes(a ^ b for a, b in zip(d[16:], k2))
    return aes_cbc(master, d)[16:]


def cmac(key, msg):
    c = CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


def need(cond, what):
    if not cond:
        raise Refused(what)


def entry(key, x, pos, term, epoch, seq, prev):
    need(len(x) - 16 - pos >= 4, "truncated entry")
    ver, op, kind, n = x[pos:pos + 4]
    need(ver == 1, "entry format version %d" % ver)
    need(op in OPS and kind <= 3 and n <= 22, "entry fields out of range")
    size = 112 + 14 * n + 16
    need(pos + size <= len(x) - 16, "truncated entry")
    e = x[pos:pos + size]
    f = struct.unpack(">IIIQhHQIIIIIIIIqhHIIB", e[4:89])
    (t, ep, sq, utc, off, reason, card, cb, ca, pkg, rep, rsq, item, amount, purse, points, qty,
     bono, p_after, purse_after, tier) = f
    need(e[93:96] == bytes(3), "reserved bytes set")
    need(t == term and ep == epoch, "entry of another terminal or epoch (seq %d)" % sq)
    need(sq == seq, "sequence %d where %d was due" % (sq, seq))
    need(cmac(key, e[:-16]) == e[-16:], "entry MAC fails (seq %d)" % sq)
    need(prev is None or e[96:112] == prev, "chain broken at seq %d" % sq)
    need((op == 0x10) == (sq == 1), "EPOCH entry not at sequence 1")
    lines = [struct.unpack(">BBIq", e[112 + 14 * i:126 + 14 * i]) for i in range(n)]
    # The state lines (0x12, indexes 1 then 2): the card before an earn, after
    # the engine's lines and before a host line; taken out here and printed as
    # "before" (the lines printed are the others).
    before = ""
    at = [i for i, l in enumerate(lines) if l[0] == 0x12]
    if at:
        i = at[0]
        need(len(at) == 2 and at[1] == i + 1 and lines[i][1] == 1 and lines[i + 1][1] == 2
             and op in (1, 3) and kind in (1, 2) and (i + 2 == n or (i + 3 == n and lines[-1][0] == 0x10)),
             "state lines out of place")
        a = struct.pack(">q", lines[i][3])
        b = struct.pack(">q", lines[i + 1][3])
        need(a[7] == 0, "state line reserved byte set")
        before = " before %d/%d/%s period %d buckets %s seq %d" % (
            lines[i][2], a[0], ".".join(str(x) for x in a[1:5]), struct.unpack(">H", a[5:7])[0],
            ".".join(str(x) for x in struct.unpack(">4H", b)), lines[i + 1][2])
        lines = lines[:i] + lines[i + 2:]
        n -= 2
    engine = [l for l in lines if 1 <= l[0] <= 4]
    last = lines[-1] if lines else None
    # After the engine's lines: at most one host line (0x10) or QR line (0x11), the last.
    need(len(engine) >= n - 1 and all(1 <= l[0] <= 4 for l in lines[:-1]),
         "line source out of range")
    need(not engine or op in (1, 3), "engine lines on a %s" % OPS[op])
    if last is not None and last[0] == 0x10:
        need(kind in (1, 2) and op in (1, 2, 3, 4, 5) and last[1] == 0 and last[2] != 0,
             "host line out of place")
    elif last is not None and last[0] == 0x11:
        need(kind == 3 and (last[1] == 2 or last[2:] == (0, 0)) and last[1] in (1, 2)
             and 0 <= last[3] < 1 << 32, "QR line out of place")
    else:
        need(last is None or 1 <= last[0] <= 4, "line source out of range")
    if kind == 3:  # a QR code (JOURNAL.md "QR entries")
        need(op in (1, 2, 3, 5, 6, 9) and cb == 0 and ca == 0, "QR entry fields out of range")
        need(op == 9 or (card != 0 and last is not None and last[0] == 0x11),
             "QR operation without its code")
    desc = ("seq %d %s kind %d time %d%+d card %x counter %d->%d package %d ref %d/%d item %d "
            "amount %d purse %d points %d qty %d bono %d after %d/%d/%d stamps %s reason %d%s lines %s"
            % (sq, OPS[op], kind, utc, off, card, cb, ca, pkg, rep, rsq, item, amount, purse, points,
               qty, bono, p_after, purse_after, tier, ".".join(str(b) for b in e[89:93]), reason,
               before, ",".join("%d:%d:%d:%d" % l for l in lines)))
    return size, e[-16:], desc


def export(key, x):
    need(len(x) >= 32 + 128 + 16, "export too short")
    magic, ver, kv, res, prog, term, epoch, first, last, count = struct.unpack(">4sBBHIIIIII", x[:32])
    need(magic == b"LJEX", "not an export")
    need(ver == 1, "export format version %d" % ver)
    need(res == 0 and count >= 1 and last >= first, "export header out of range")
    need(cmac(key, x[:-16]) == x[-16:], "export MAC fails")
    # The first entry chains to zeros at sequence 1, else to the last entry
    # the host took before (its own record: not checked here).
    pos, prev = 32, bytes(16) if first == 1 else None
    out = ["export key version %d program %d terminal %d epoch %d seq %d..%d count %d"
           % (kv, prog, term, epoch, first, last, count)]
    for i in range(count):
        size, mac, desc = entry(key, x, pos, term, epoch, first + i, prev)
        out.append(desc)
        pos, prev = pos + size, mac
    need(pos + 16 == len(x), "bytes after the last entry")
    need(first + count - 1 == last, "last sequence not the header's")
    return (kv, prog, term, epoch, last, prev), out


def ack(key, a, exp):
    kv, prog, term, epoch, last, last_mac = exp
    need(len(a) == 56, "ack length %d" % len(a))
    magic, ver, akv, res, aprog, aterm, aep, aseq = struct.unpack(">4sBBHIIII", a[:24])
    need(magic == b"LJAK" and ver == 1 and res == 0, "not an ack")
    need(cmac(key, a[:40]) == a[40:], "ack MAC fails")
    need((akv, aprog, aterm, aep, aseq) == (kv, prog, term, epoch, last), "ack of something else")
    need(a[24:40] == last_mac, "ack names another entry MAC")


def main(argv):
    if len(argv) == 3 and argv[1] == "--vectors":
        v = {}
        for line in open(argv[2], encoding="utf-8"):
            if "=" in line and not line.startswith("#"):
                k, val = line.split("=", 1)
                v[k.strip()] = val.strip()
        args = ["000102030405060708090a0b0c0d0e0f", "0x11223344", "7", "3", v["EXPORT"], v["ACK"]]
        want_key = v["KEY"]
    elif len(argv) == 7:
        args, want_key = argv[1:], None
    else:
        print(__doc__.splitlines()[-2], file=sys.stderr)
        return 2
    key = journal_key(bytes.fromhex(args[0]), int(args[1], 0), int(args[2]), int(args[3]))
    try:
        need(want_key is None or key.hex() == want_key, "KEY is not the key KEYS.md derives")
        info, lines = export(key, bytes.fromhex(args[4]))
        print("\n".join(lines))
        print("export ok")
        ack(key, bytes.fromhex(args[5]), info)
        print("ack ok")
    except Refused as e:
        print("refused: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
