#!/usr/bin/env python3
"""Generates tests/vectors/leal_derive_aids.txt: leal's card keys with its own
application AID (4C 45 41) and the PICC AID (00 00 00), computed from NXP
AN10922 section 2.2 (AES-128 diversification) and from
keys/KEYS.md "Diversification" alone; no leal code is used.

AN10922 AES-128: D = 01 || M, padded with 80 00.. to 32 bytes; the last block
is XORed with CMAC subkey K2 (K1 if M is 31 bytes, no padding); the key is the
last block of AES-CBC(master, IV 0) over D. The subkeys are those of
RFC 4493 (L = AES(master, 0^128); K1 = L << 1 (^ 0x87); K2 = K1 << 1 (^ 0x87)).

The AN10922 sample AID (3042F5) cannot tell a wire-order AID from a
value-order one; these inputs can: each record also carries the key a wrong
reading gives (WRONG_VALUE_ORDER: the AID written most significant byte
first, 41 45 4C; WRONG_NO_AID: the PICC AID left out of M), so a unit test can
assert leal gives KEY and not the other.

Usage: derive_aids.py           prints the vector file (the committed one must
                                match it byte for byte)"""
import sys

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def aes_cbc(key, data):
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return enc.update(data) + enc.finalize()


def dbl(block):
    n = int.from_bytes(block, "big") << 1
    if n >> 128:
        n = (n & ((1 << 128) - 1)) ^ 0x87
    return n.to_bytes(16, "big")


def an10922(master, m):
    assert 1 <= len(m) <= 31
    k1 = dbl(aes_cbc(master, bytes(16)))
    k2 = dbl(k1)
    d = b"\x01" + m
    if len(d) < 32:
        d += b"\x80" + bytes(31 - len(d))
        sub = k2
    else:
        sub = k1
    d = d[:16] + bytes(a ^ b for a, b in zip(d[16:], sub))
    return aes_cbc(master, d)[16:]


def self_check():
    # AN10922 section 2.2.1 and the short-M example of AN10957 pp. 13-14.
    got = an10922(bytes.fromhex("00112233445566778899aabbccddeeff"),
                  bytes.fromhex("04782e21801d80" "3042f5" "4e585020416275"))
    assert got.hex() == "a8dd63a3b89d54b37ca802473fda9175", got.hex()
    got = an10922(bytes.fromhex("f3f9377698707b688eaf84abe39e3791"), bytes.fromhex("04deadbeeffeed"))
    assert got.hex() == "0bb408baff98b6ee9f2e1585777f6a51", got.hex()
    # For a 23-byte D the AN10922 padding is what RFC 4493 CMAC does itself:
    # a second implementation of the same arithmetic.
    master = bytes.fromhex("00112233445566778899aabbccddeeff")
    m = bytes(22)
    c = cmac.CMAC(algorithms.AES(master))
    c.update(b"\x01" + m)
    assert c.finalize() == an10922(master, m)


MASTER = bytes.fromhex("00112233445566778899aabbccddeeff")
ISSUER = 0x1A2B3C4D
PROGRAM = 7
UID = bytes.fromhex("04782e21801d80")
CARD_ID = bytes.fromhex("0000000100000042")
LEAL_AID = bytes.fromhex("4c4541")   # as SelectApplication sends it: 5A 4C 45 41
PICC_AID = bytes.fromhex("000000")


def sysid():
    return b"LEAL" + ISSUER.to_bytes(4, "big") + PROGRAM.to_bytes(4, "big")


def record(out, what, ident_name, ident, aid, wrong_name, wrong_m):
    m = ident + aid + sysid()
    out.append("# " + what)
    out.append("MASTER = " + MASTER.hex())
    out.append("ISSUER = %08x" % ISSUER)
    out.append("PROGRAM = %08x" % PROGRAM)
    out.append("%s = %s" % (ident_name, ident.hex()))
    out.append("AID = " + aid.hex())
    out.append("M = %s %s %s" % (ident.hex(), aid.hex(), sysid().hex()))
    out.append("KEY = " + an10922(MASTER, m).hex())
    out.append("%s = %s" % (wrong_name, an10922(MASTER, wrong_m).hex()))
    out.append("")


def main():
    self_check()
    out = [
        "# leal's card keys with its own AID 4C 45 41 and the PICC AID 00 00 00",
        "# (keys/KEYS.md \"Diversification\"): AN10922 section 2.2 AES-128 computed by",
        "# tests/integration/derive_aids.py (Python, python3-cryptography AES; checked first",
        "# against AN10922 2.2.1 and AN10957 pp. 13-14); regenerate with",
        "# `python3 tests/integration/derive_aids.py > tests/vectors/leal_derive_aids.txt`.",
        "# Not an NXP vector. M = id || AID as sent on the wire || \"LEAL\" || issuer || program.",
        "# WRONG_VALUE_ORDER is the key for the AID written as its value (41 45 4C), WRONG_NO_AID",
        "# the PICC key with no AID in M: leal must give KEY, never these.",
        "",
    ]
    value_order = LEAL_AID[::-1]
    record(out, "application keys (app-master, purse-credit, terminal), fixed 7-byte UID", "UID",
           UID, LEAL_AID, "WRONG_VALUE_ORDER", UID + value_order + sysid())
    record(out, "application keys, random-UID card: the 8-byte card id", "CARD_ID", CARD_ID,
           LEAL_AID, "WRONG_VALUE_ORDER", CARD_ID + value_order + sysid())
    record(out, "PICC master key, fixed 7-byte UID", "UID", UID, PICC_AID, "WRONG_NO_AID",
           UID + sysid())
    record(out, "PICC master key, random-UID card: the 8-byte card id", "CARD_ID", CARD_ID,
           PICC_AID, "WRONG_NO_AID", CARD_ID + sysid())
    sys.stdout.write("\n".join(out[:-1]) + "\n")


if __name__ == "__main__":
    main()
