#!/usr/bin/env python3
"""Writes tests/vectors/leal_journal_tmac.txt from firmware/core/JOURNAL.md ("Entry",
"Transaction MAC entries", "Export") and cardlayout/LAYOUT.md 2.8 (the TMI and the TMV)
alone: struct and the CMAC of tests/integration/journal_decode.py (python3-cryptography),
no leal code. tests/unit/journal_test.c (test_tmac_golden) rebuilds every byte with leal's
journal and desfire_tmac. Usage: leal_journal_tmac_gen.py > tests/vectors/leal_journal_tmac.txt"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import journal_decode as d  # noqa: E402

KEY = d.journal_key(bytes(range(16)), 0x11223344, 7, 3)
EPOCH = 1780000000
TMAC_KEY = bytes(range(0x10, 0x20))
UID = bytes.fromhex("04112233445566")
TMC = 14
COUNTER = 0x7FFFFFFF - 12
PURSE = 1000
MOVED = 300
BEFORE = bytes(range(32))
AFTER = bytes(range(32, 64))
FLAGS = 0x01 | 0x04 | 0x10  # GetValue purse, WriteData state, Debit purse


def pad16(b):
    return b + bytes(-len(b) % 16)


def tmi():
    def cmd(ins, fno, params, data=b""):
        return pad16(bytes([ins, fno]) + params) + (pad16(data) if data else b"")

    rng = struct.pack("<I", 0)[:3] + struct.pack("<I", 32)[:3]
    t = cmd(0xBD, 0x02, rng, BEFORE)
    t += cmd(0x6C, 0x04, struct.pack("<i", COUNTER))
    t += cmd(0x6C, 0x03, struct.pack("<i", PURSE))
    t += cmd(0x3D, 0x02, rng, AFTER)
    t += cmd(0xDC, 0x03, struct.pack("<i", MOVED))
    t += cmd(0xDC, 0x04, struct.pack("<i", 1))
    return t


SV1 = bytes([0x5A, 0x00, 0x01, 0x00, 0x80]) + struct.pack("<I", TMC) + UID
SES = d.cmac(TMAC_KEY, SV1)
TMV = d.cmac(SES, tmi())[1::2]

data = BEFORE + AFTER
data += bytes(-len(data) % 12)
lines = [(0x13, 1, TMC, struct.unpack(">q", TMV)[0]),
         (0x13, 2, COUNTER, (PURSE << 32) | MOVED)]
for i in range(0, len(data), 12):
    lines.append((0x13, 3 + i // 12, struct.unpack(">I", data[i:i + 4])[0],
                  struct.unpack(">q", data[i + 4:i + 12])[0]))
e = struct.pack(">BBBBIIIQhHQIIIIIIIIqhHIIB", 1, 0x0B, 1, len(lines), 3, EPOCH, 3, EPOCH + 120,
                60, 0, 0x0102030405060708, 12, 13, 5, EPOCH, 2, FLAGS, 0, 0, 0, 0, 0, 0, 0, 0)
e += bytes(4) + bytes(3) + b"\xa5" * 16
for ln in lines:
    e += struct.pack(">BBIq", *ln)
E = e + d.cmac(KEY, e)
head = struct.pack(">4sBBHIIIIII", b"LJEX", 1, 2, 0, 7, 3, EPOCH, 3, 3, 1)
X = head + E
X += d.cmac(KEY, X)

print("""# leal terminal journal, format 1: a Transaction MAC entry (firmware/core/JOURNAL.md
# "Transaction MAC entries"; cardlayout/LAYOUT.md 2.8). leal's own vector, no outside source: the
# golden journal key of leal_journal.txt (program 7, terminal 3 of issuer 0x11223344, key version
# 2), epoch 1780000000, package 5, UTC offset +60 min. ENTRY (seq 3, previous MAC a5 x 16): the
# TMAC entry of a pay + earn (its entry: seq 2) on DESFire card 0x0102030405060708, counter 12 ->
# 13, flags 15 (GetValue purse, WriteData state, Debit purse); the card answered TMC 14 and the
# TMV below; the counter read 0x7FFFFFF3, the purse 10.00, 3.00 debited; the state read 00..1f,
# the state written 20..3f: 8 lines, 240 bytes. TMI: the card's Transaction MAC input of those
# commands (ReadData state, GetValue counter, GetValue purse, WriteData state, Debit purse, Debit
# counter 1); TMV: under the tmac key TMAC_KEY for UID 04112233445566 at TMC 14. EXPORT: the entry
# alone. Written by tests/vectors/leal_journal_tmac_gen.py (a Python reading of JOURNAL.md and
# LAYOUT.md); tests/unit/journal_test.c rebuilds every byte with leal's journal and desfire_tmac.""")
print("KEY = " + KEY.hex())
print("TMAC_KEY = " + TMAC_KEY.hex())
print("TMI = " + tmi().hex())
print("TMV = " + TMV.hex())
print("ENTRY = " + E.hex())
print("EXPORT = " + X.hex())
