#!/usr/bin/env python3
"""trace_secrets.py - what must never appear in a card-exchange trace, and a
check that none does. The secrets come from outside leal's code: the keys of
the keystore as keystore_decode.py prints them, and the card file the virtual
card keeps (the diversified keys a DESFire application or a Classic sector
trailer holds, every DESFire file and record as the card stores it, every
Classic data block, and the plaintext of the sealed Classic records, opened
with LAYOUT.md's AES-SIV by classic_dump_state.py's functions).

  trace_secrets.py TRACE KEYS CARD.json
KEYS: keystore_decode.py's output (its issuer and program seal Classic records).
Prints "checked N secrets: none in the trace", or each one found (exit 1).
A secret is looked for as hex in each trace line with its spaces taken out,
whole and, for keys, each 8-byte half."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classic_dump_state import an10922, open_span  # noqa: E402

# Public constants that are no one's secret: factory and transport keys.
PUBLIC = {"ffffffffffff", "000000000000", "a0a1a2a3a4a5", "d3f7d3f7d3f7"}


def add(secrets, label, hexstr, halves):
    h = hexstr.lower()
    if h in PUBLIC or not h.strip("0"):
        return
    secrets.append((label, h))
    if halves and len(h) >= 32:
        secrets.append((label + " (first half)", h[:len(h) // 2]))
        secrets.append((label + " (second half)", h[len(h) // 2:]))


def keystore_secrets(path, secrets):
    issuer = program = None
    for line in open(path):
        f = line.split()
        if f[:1] == ["key"]:
            add(secrets, "keystore %s v%s" % (f[1], f[2]), f[3], True)
        elif f[:1] == ["issuer_id"]:
            issuer = int(f[1], 16)
        elif f[:1] == ["program"]:
            program = int(f[1])
    return issuer, program


def desfire_secrets(card, secrets):
    for app in [card["picc"]] + card["apps"]:
        for i, k in enumerate(app["keys"]):
            add(secrets, "app %s key %d" % (app["aid"], i), k["key"], True)
        for f in app["files"]:
            if "data" in f:
                add(secrets, "app %s file %d" % (app["aid"], f["no"]), f["data"], False)
            for r, rec in enumerate(f.get("records", [])):
                add(secrets, "app %s file %d record %d" % (app["aid"], f["no"], r), rec, False)


def classic_secrets(card, secrets, keys_path, issuer, program):
    blocks = [bytes.fromhex(b) for b in card["blocks"]]
    for n, b in enumerate(blocks):
        trailer = (n < 128 and n % 4 == 3) or (n >= 128 and n % 16 == 15)
        if trailer:
            add(secrets, "sector trailer %d key A" % n, b[0:6].hex(), False)
            add(secrets, "sector trailer %d key B" % n, b[10:16].hex(), False)
        elif n > 0:
            add(secrets, "block %d" % n, b.hex(), False)
    seal = [l.split()[3] for l in open(keys_path) if l.startswith("key classic-seal ")][0]
    uid = bytes.fromhex(card["uid"])
    assert len(uid) == 4, "a 4-byte UID (LAYOUT.md's record keys take it whole)"
    sid = b"LEAL" + struct.pack(">II", issuer, program)
    key = b"".join(an10922(bytes.fromhex(seal), uid + bytes([0x4C, 0x01, x]) + sid)
                   for x in (0xF1, 0xF2))
    add(secrets, "classic record key", key.hex(), True)
    block = lambda n: blocks[n]
    ident = b"".join(block(n) for n in (4, 5, 6, 8, 9, 10, 12, 13))
    pt = open_span(key, 0, 1, 0, 1, ident, 96)
    add(secrets, "identity plaintext", pt.hex(), False)
    card_id = struct.unpack(">Q", pt[2:10])[0]
    for slot, first in ((0, 16), (1, 20)):
        span = b"".join(block(n) for n in range(first, first + 3))
        if any(span):
            st = open_span(key, card_id, 4 + slot, slot, 2, span, 27)
            add(secrets, "state slot %d plaintext" % slot, st.hex(), False)


def main():
    trace, keys_path, card_path = sys.argv[1:4]
    card = json.load(open(card_path))
    secrets = []
    issuer, program = keystore_secrets(keys_path, secrets)
    if card["type"].startswith("desfire"):
        desfire_secrets(card, secrets)
    else:
        classic_secrets(card, secrets, keys_path, issuer, program)
    lines = ["".join(l.split()).lower() for l in open(trace)]
    whole = "".join(lines)
    found = [(label, h) for label, h in secrets if h in whole]
    for label, h in found:
        print("in the trace: %s %s" % (label, h))
    if found:
        sys.exit(1)
    print("checked %d secrets: none in the trace" % len(secrets))


if __name__ == "__main__":
    main()
