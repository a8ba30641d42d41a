#!/usr/bin/env python3
"""Writes tests/vectors/leal_journal_state.txt from firmware/core/JOURNAL.md alone
("Entry", "State lines", "Export", "Acknowledgment"): struct and the CMAC of
tests/integration/journal_decode.py (python3-cryptography), no leal code.
tests/unit/journal_test.c (test_state_lines_golden) rebuilds every byte with
leal's journal. Usage: leal_journal_state_gen.py > tests/vectors/leal_journal_state.txt"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import journal_decode as d  # noqa: E402

KEY = d.journal_key(bytes(range(16)), 0x11223344, 7, 3)
EPOCH = 1780000000


def state_lines(points, tier, stamps, period, buckets, seq):
    a = bytes([tier]) + bytes(stamps) + struct.pack(">H", period) + b"\x00"
    b = struct.pack(">4H", *buckets)
    return [(0x12, 1, points, struct.unpack(">q", a)[0]), (0x12, 2, seq, struct.unpack(">q", b)[0])]


def entry(op, kind, seq, utc, card, cb, ca, amount, purse, points, qty, after, purse_after, tier,
          stamps, lines, prev):
    e = struct.pack(">BBBBIIIQhHQIIIIIIIIqhHIIB", 1, op, kind, len(lines), 3, EPOCH, seq, utc, 60,
                    0, card, cb, ca, 5, 0, 0, 0, amount, purse, points, qty, 0, after, purse_after,
                    tier)
    e += bytes(stamps) + bytes(3) + prev
    for l in lines:
        e += struct.pack(">BBIq", *l)
    return e + d.cmac(KEY, e)


# seq 2: a pay + earn on DESFire card 0x0102030405060708 that also applied a host
# change of +40 (ledger entry 1234): the card before it (host change on) 65 points,
# tier 1, stamps 2 1 0 0, period 317 (May 2026), buckets 40 12 0 3, seq 12.
E1 = entry(3, 1, 2, EPOCH + 60, 0x0102030405060708, 12, 13, 2350, 300, 24, 1, 89, 700, 1,
           [0, 2, 0, 0],
           [(1, 0, 0, 23), (4, 0, 77, 1)] + state_lines(65, 1, [2, 1, 0, 0], 317, [40, 12, 0, 3], 12)
           + [(0x10, 0, 1234, 40)], b"\xa5" * 16)
# seq 3: an earn of 10.00 on Classic card 17: the card before it new (25 points,
# never earned: period 0), seq 4.
E2 = entry(1, 2, 3, EPOCH + 120, 17, 4, 5, 1000, 0, 10, 1, 35, 2000, 0, [1, 0, 0, 0],
           [(1, 0, 0, 10)] + state_lines(25, 0, [0, 0, 0, 0], 0, [0, 0, 0, 0], 4), E1[-16:])
head = struct.pack(">4sBBHIIIIII", b"LJEX", 1, 2, 0, 7, 3, EPOCH, 2, 3, 2)
X = head + E1 + E2
X += d.cmac(KEY, X)
A = struct.pack(">4sBBHIIII", b"LJAK", 1, 2, 0, 7, 3, EPOCH, 3) + E2[-16:]
A += d.cmac(KEY, A)

print("""# leal terminal journal, format 1: state lines (firmware/core/JOURNAL.md "State lines"). leal's
# own vector, no outside source: the golden journal key of leal_journal.txt (program 7, terminal 3
# of issuer 0x11223344, key version 2 from the journal master 000102030405060708090a0b0c0d0e0f),
# epoch 1780000000, package 5, UTC offset +60 min. ENTRY1 (seq 2, previous MAC a5 x 16): a pay +
# earn of 23.50 paying 3.00 on DESFire card 0x0102030405060708 (counter 12 -> 13), +24 points
# (base 23, rule 77 +1), one stamp, after 89 points, purse 7.00, tier 1, stamps 0 2 0 0; lines
# base, rule, the state lines of the card before it (65 points, tier 1, stamps 2 1 0 0, period
# 317, buckets 40 12 0 3, seq 12) and the host line (ledger entry 1234, +40): 5 lines, 198 bytes.
# ENTRY2 (seq 3): an earn of 10.00 on Classic card 17 (seq 4 -> 5), +10 points, one stamp, after
# 35 points, purse 20.00; lines base and the state lines (25 points, tier 0, stamps 0, period 0,
# buckets 0, seq 4): 3 lines, 170 bytes. EXPORT both (seq 2..3), ACK the host's acknowledgment of
# seq 3. Written by tests/vectors/leal_journal_state_gen.py (a Python reading of JOURNAL.md);
# tests/unit/journal_test.c rebuilds every byte with leal's journal.""")
print("KEY = " + KEY.hex())
print("ENTRY1 = " + E1.hex())
print("ENTRY2 = " + E2.hex())
print("EXPORT = " + X.hex())
print("ACK = " + A.hex())
