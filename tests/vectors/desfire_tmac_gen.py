#!/usr/bin/env python3
"""Writes tests/vectors/desfire_tmac.txt: worked Transaction MAC computations
derived step by step from the public MIFARE DESFire Light data sheet
(NXP MF2DL(H)x0, section 10.3 "Transaction MAC"), with python3-cryptography's
AES-CMAC and no leal code. NXP publishes no EV3 TMAC vector (REFERENCE.md 2.5:
[NF]), so these are our own derivation, not a published vector.

  SV1         = 5A 00 01 00 80 || TMC (LE32, the value CommitTransaction
                reports, i.e. the counter before the commit + 1) || UID (7)
  SesTMMACKey = CMAC(AppTransactionMACKey, SV1)
  TMI         = per command: Cmd || FileNo || params, zero-padded to 16;
                then its data (if any), zero-padded to 16
  TMV         = bytes 1, 3, .., 15 of CMAC(SesTMMACKey, TMI) (MACt, zero IV)

Usage: desfire_tmac_gen.py > tests/vectors/desfire_tmac.txt"""
import struct

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import algorithms


def aes_cmac(key, msg):
    c = cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


def pad16(b):
    return b + bytes(-len(b) % 16)


def seg(ins, file_no, params, data=b""):
    s = pad16(bytes([ins, file_no]) + params)
    return s + (pad16(data) if data else b"")


def vector(name, key, uid, tmc, segs):
    sv1 = bytes([0x5A, 0x00, 0x01, 0x00, 0x80]) + struct.pack("<I", tmc) + uid
    ses = aes_cmac(key, sv1)
    tmi = b"".join(segs)
    full = aes_cmac(ses, tmi)
    tmv = full[1::2]
    print("NAME = " + name)
    print("KEY = " + key.hex().upper())
    print("UID = " + uid.hex().upper())
    print("TMC = %08X" % tmc)
    print("SV1 = " + sv1.hex().upper())
    print("SESTMMAC = " + ses.hex().upper())
    print("TMI = " + tmi.hex().upper())
    print("CMAC = " + full.hex().upper())
    print("TMV = " + tmv.hex().upper())
    print()


def le24(v):
    return struct.pack("<I", v)[:3]


def le32(v):
    return struct.pack("<i", v)


KEY = bytes.fromhex("F0E1D2C3B4A5968778695A4B3C2D1E0F")
UID = bytes.fromhex("04C3662A6B5E80")
REC = bytes(range(0x20, 0x40))

print("\n".join(("# " + line).rstrip() for line in __doc__.replace('"', "").splitlines()))
print("# Each record: the commands of one transaction in the order the card ran them.")
print("# 1: GetValue 02 (value 100), Credit 02 (5), WriteRecord 03 (offset 0, 32 bytes")
print("#    20..3F); first transaction, TMC 0 -> 1.")
print("# 2: ReadData 01 asked with length 0 (the whole 10-byte file 00..09: the")
print("#    actual length 10 goes into TMI), Debit 02 (7), ClearRecordFile 03;")
print("#    TMC 00010001 -> 00010002 (byte order of the counter).")
print("# 3: record 1's commands with Credit 6 instead of 5 (a changed amount).")
print()
vector("earn", KEY, UID, 1, [
    seg(0x6C, 0x02, le32(100)),
    seg(0x0C, 0x02, le32(5)),
    seg(0x3B, 0x03, le24(0) + le24(32), REC),
])
vector("read_debit_clear", KEY, UID, 0x00010002, [
    seg(0xBD, 0x01, le24(0) + le24(10), bytes(range(10))),
    seg(0xDC, 0x02, le32(7)),
    seg(0xEB, 0x03, b""),
])
vector("earn_changed", KEY, UID, 1, [
    seg(0x6C, 0x02, le32(100)),
    seg(0x0C, 0x02, le32(6)),
    seg(0x3B, 0x03, le24(0) + le24(32), REC),
])
