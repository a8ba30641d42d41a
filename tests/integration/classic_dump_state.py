#!/usr/bin/env python3
"""classic_dump_state.py - reads a leal MIFARE Classic card from a raw dump
(nfc-mfclassic's .mfd: 16 bytes a block from block 0) with cardlayout/LAYOUT.md
section 3 alone and python3-cryptography's AES-SIV: opens the sealed identity
(sectors 1-3, card id 0 in its associated data), then both sealed state slots
(sectors 4, 5), picks the current one by seq, and prints
  card CARD-ID seq SEQ points POINTS
Usage: classic_dump_state.py DUMP SEAL-MASTER-HEX ISSUER-HEX PROGRAM
Exit 1 with a message if a record does not open."""
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESSIV


def an10922(master, m):
    # CMAC(01 || M): for 17..31 bytes CMAC's padding is AN10922's.
    c = cmac.CMAC(algorithms.AES(master))
    c.update(b"\x01" + m)
    return c.finalize()


def open_span(key, card_id, sector, slot, rtype, span, pt_len):
    """version 1 || type || V (16) || C, AD = card id || sector || slot || type || version."""
    if span[0] != 1 or span[1] != rtype or any(span[18 + pt_len:]):
        raise ValueError("not a sealed record of type %d" % rtype)
    ad = struct.pack(">QBBBB", card_id, sector, slot, rtype, 1)
    return AESSIV(key).decrypt(span[2:18 + pt_len], [ad])


def main():
    dump = open(sys.argv[1], "rb").read()
    master, issuer, program = bytes.fromhex(sys.argv[2]), int(sys.argv[3], 16), int(sys.argv[4])
    block = lambda n: dump[16 * n:16 * n + 16]
    uid = dump[0:4]  # a 4-byte UID (its BCC follows in block 0)
    sid = b"LEAL" + struct.pack(">II", issuer, program)
    key = b"".join(an10922(master, uid + bytes([0x4C, 0x01, x]) + sid) for x in (0xF1, 0xF2))
    ident = b"".join(block(n) for n in (4, 5, 6, 8, 9, 10, 12, 13))
    try:
        pt = open_span(key, 0, 1, 0, 1, ident, 96)
    except (InvalidTag, ValueError) as e:
        sys.exit("identity does not open: %r" % e)
    card_id = struct.unpack(">Q", pt[2:10])[0]
    best = None
    for slot, first in ((0, 16), (1, 20)):
        span = b"".join(block(n) for n in range(first, first + 3))
        if not any(span):
            continue
        try:
            st = open_span(key, card_id, 4 + slot, slot, 2, span, 27)
        except (InvalidTag, ValueError):
            continue
        seq, points = struct.unpack(">II", st[0:8])
        if best is None or 0 < ((seq - best[0]) & 0xFFFFFFFF) < 0x80000000:
            best = (seq, points)
    if best is None:
        sys.exit("no state slot opens")
    print("card %d seq %d points %d" % (card_id, best[0], best[1]))


if __name__ == "__main__":
    main()
