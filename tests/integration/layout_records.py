#!/usr/bin/env python3
"""layout_records.py - a second implementation of cardlayout/LAYOUT.md, written
from the spec alone with python3-cryptography (AES-SIV, CMAC, Ed25519).

  layout_records.py generate          print tests/vectors/leal_layout_records.txt
  layout_records.py decode FILE       open the sealed Classic records of FILE with
                                      keys derived from its inputs, verify them and
                                      print what they hold, one "name = value" a line
"""
import struct
import sys

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

LAYOUT_VERSION = 1
LAYOUT_VERSION_BONOS = 2  # LAYOUT.md 4: the state file's version byte on a card with bonos
T_IDENTITY, T_STATE, T_BONOS = 1, 2, 4


def an10922(master, m):
    """AN10922 AES-128: CMAC over 01 || M padded to 32 bytes (KEYS.md). For
    16 <= len(M) <= 31 that padding is exactly plain CMAC's, so CMAC gives it."""
    assert 16 <= len(m) <= 31
    c = cmac.CMAC(algorithms.AES(master))
    c.update(b"\x01" + m)
    return c.finalize()


def system_id(issuer, program):
    return b"LEAL" + struct.pack(">II", issuer, program)


def classic_key(master, uid, sector, issuer, program):
    """LAYOUT.md 3.1: first 6 bytes of AN10922(master, UID || 4C 01 s || sysid)."""
    return an10922(master, uid + bytes([0x4C, 0x01, sector]) + system_id(issuer, program))[:6]


def seal_key(master, uid, issuer, program):
    sid = system_id(issuer, program)
    return (an10922(master, uid + bytes([0x4C, 0x01, 0xF1]) + sid) +
            an10922(master, uid + bytes([0x4C, 0x01, 0xF2]) + sid))


def identity(card_id, issuer, program, key_set, kind, flags, issued):
    return struct.pack(">BBQIIBBBI", LAYOUT_VERSION, T_IDENTITY, card_id, issuer, program,
                       key_set, kind, flags, issued) + bytes(7)


def state_body(seq, points, tier, stamps, period, buckets):
    return struct.pack(">IIB", seq, points, tier) + bytes(stamps) + struct.pack(
        ">H4H", period, *buckets)


def ad(card_id, sector, slot, rtype):
    return struct.pack(">QBBBB", card_id, sector, slot, rtype, LAYOUT_VERSION)


def seal(key, card_id, sector, slot, rtype, pt, span):
    vc = AESSIV(key).encrypt(pt, [ad(card_id, sector, slot, rtype)])
    rec = bytes([LAYOUT_VERSION, rtype]) + vc
    return rec + bytes(span - len(rec))


def open_record(key, card_id, sector, slot, rtype, span, pt_len):
    if span[0] != LAYOUT_VERSION or span[1] != rtype:
        raise ValueError("header")
    end = 18 + pt_len
    if any(span[end:]):
        raise ValueError("non-zero tail")
    # AESSIV.decrypt takes V || C, as RFC 5297 outputs it.
    return AESSIV(key).decrypt(span[2:end], [ad(card_id, sector, slot, rtype)])


def mad_crc(data):
    crc = 0xC7
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1D) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def access_bytes(conds):
    """conds: C1C2C3 as 3-bit ints for blocks 0, 1, 2 and the trailer."""
    c1 = c2 = c3 = 0
    for i, c in enumerate(conds):
        c1 |= ((c >> 2) & 1) << i
        c2 |= ((c >> 1) & 1) << i
        c3 |= (c & 1) << i
    return bytes([((~c2 & 0xF) << 4) | (~c1 & 0xF), (c1 << 4) | (~c3 & 0xF), (c3 << 4) | c2])


INPUT = dict(
    ISSUER=0x1EA10001, PROGRAM=7, CARD_ID=0x0000000100000042, KEY_SET=1, ISSUED=20415,
    UID=bytes.fromhex("04a2195c"),
    SEAL_MASTER=bytes(range(0, 16)), A_MASTER=bytes(range(16, 32)),
    B_MASTER=bytes(range(32, 48)), MADB_MASTER=bytes(range(48, 64)),
    SEED=bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
)
STATE = dict(SEQ=5, POINTS=1234, TIER=2, STAMPS=bytes([3, 0, 9, 1]), PERIOD=311,
             BUCKETS=(120, 80, 0, 45), PURSE=2500)


def generate():
    i = INPUT
    out = []
    w = out.append
    w("# leal card layout versions 1 and 2: golden encodings of cardlayout/LAYOUT.md, made by")
    w("# tests/integration/layout_records.py (python3-cryptography, written from the spec")
    w("# alone) and checked byte for byte by tests/unit/records_test.c. Integers are")
    w("# decimal; everything else hex.")
    for kind, flags in ((1, 0), (4, 2)):
        w("")
        w("CARD_ID = %d" % i["CARD_ID"])
        w("ISSUER = %d" % i["ISSUER"])
        w("PROGRAM = %d" % i["PROGRAM"])
        w("KEY_SET = %d" % i["KEY_SET"])
        w("KIND = %d" % kind)
        w("FLAGS = %d" % flags)
        w("ISSUED = %d" % i["ISSUED"])
        w("IDENTITY = " + identity(i["CARD_ID"], i["ISSUER"], i["PROGRAM"], i["KEY_SET"], kind,
                                   flags, i["ISSUED"]).hex())
    s = STATE
    body = state_body(s["SEQ"], s["POINTS"], s["TIER"], s["STAMPS"], s["PERIOD"], s["BUCKETS"])
    w("")
    w("SEQ = %d" % s["SEQ"])
    w("POINTS = %d" % s["POINTS"])
    w("TIER = %d" % s["TIER"])
    w("STAMPS = " + s["STAMPS"].hex())
    w("PERIOD = %d" % s["PERIOD"])
    w("BUCKETS = " + " ".join("%d" % b for b in s["BUCKETS"]))
    w("PURSE = %d" % s["PURSE"])
    w("CARD_ID = %d" % i["CARD_ID"])
    w("STATE_BODY = " + body.hex())
    w("DESFIRE_STATE = " + (bytes([LAYOUT_VERSION]) + struct.pack(">Q", i["CARD_ID"]) + body).hex())
    w("DESFIRE_STATE_V2 = " +
      (bytes([LAYOUT_VERSION_BONOS]) + struct.pack(">Q", i["CARD_ID"]) + body).hex())
    # Layout version 3 (LAYOUT.md 2.10): version 2's file, then the purse mirror (BE u32).
    w("DESFIRE_STATE_V3 = " + (bytes([3]) + struct.pack(">Q", i["CARD_ID"]) + body +
                               struct.pack(">I", s["PURSE"])).hex())
    uid, iss, prog = i["UID"], i["ISSUER"], i["PROGRAM"]
    sk = seal_key(i["SEAL_MASTER"], uid, iss, prog)
    w("")
    w("UID = " + uid.hex())
    w("ISSUER = %d" % iss)
    w("PROGRAM = %d" % prog)
    w("SEAL_MASTER = " + i["SEAL_MASTER"].hex())
    w("SEAL_KEY = " + sk.hex())
    w("A_MASTER = " + i["A_MASTER"].hex())
    for sec in (1, 4):
        w("KEY_A_%d = " % sec + classic_key(i["A_MASTER"], uid, sec, iss, prog).hex())
    w("B_MASTER = " + i["B_MASTER"].hex())
    w("KEY_B_4 = " + classic_key(i["B_MASTER"], uid, 4, iss, prog).hex())
    w("MADB_MASTER = " + i["MADB_MASTER"].hex())
    w("MAD_KEY_B = " + classic_key(i["MADB_MASTER"], uid, 0, iss, prog).hex())
    rec = identity(i["CARD_ID"], iss, prog, i["KEY_SET"], 4, 2, i["ISSUED"])
    priv = Ed25519PrivateKey.from_private_bytes(i["SEED"])
    sig = priv.sign(rec + uid)
    from cryptography.hazmat.primitives import serialization
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
    body6 = state_body(6, 1300, s["TIER"], s["STAMPS"], s["PERIOD"], s["BUCKETS"])
    w("")
    w("UID = " + uid.hex())
    w("CARD_ID = %d" % i["CARD_ID"])
    w("SEAL_KEY = " + sk.hex())
    w("SEED = " + i["SEED"].hex())
    w("PUBLIC = " + pub.hex())
    w("IDENTITY = " + rec.hex())
    w("SIGNATURE = " + sig.hex())
    w("IDENTITY_SPAN = " + seal(sk, 0, 1, 0, T_IDENTITY, rec + sig, 128).hex())
    w("STATE_SLOT0 = " + seal(sk, i["CARD_ID"], 4, 0, T_STATE,
                              body + struct.pack(">I", s["PURSE"]), 48).hex())
    w("STATE_SLOT1 = " + seal(sk, i["CARD_ID"], 5, 1, T_STATE,
                              body6 + struct.pack(">I", s["PURSE"]), 48).hex())
    mad = bytes([0x00]) + struct.pack("<5H", *([0x014C] * 5)) + bytes(20)
    ka4 = classic_key(i["A_MASTER"], uid, 4, iss, prog)
    kb4 = classic_key(i["B_MASTER"], uid, 4, iss, prog)
    kb0 = classic_key(i["MADB_MASTER"], uid, 0, iss, prog)
    w("")
    w("MAD = " + (bytes([mad_crc(mad)]) + mad).hex())
    w("TRAILER_0 = " + (bytes.fromhex("a0a1a2a3a4a5") + access_bytes([4, 4, 4, 3]) +
                        bytes([0xC1]) + kb0).hex())
    w("TRAILER_4 = " + (ka4 + access_bytes([0, 0, 0, 3]) + bytes([0]) + kb4).hex())
    # LAYOUT.md 2.5: a top-up of 25.00 by the host, counter after 0x7FFFFFFD.
    w("")
    w("OP = 2")
    w("COUNTER = %d" % 0x7FFFFFFD)
    w("AMOUNT = 2500")
    w("TERMINAL = 0")
    w("LOG = " + (bytes([LAYOUT_VERSION, 3, 2, 0]) + struct.pack(">IiI", 0x7FFFFFFD, 2500, 0)).hex())
    w("")
    w("OP = 3")
    w("COUNTER = %d" % 0x7FFFFFF0)
    w("AMOUNT = -700")
    w("TERMINAL = 4660")
    w("LOG = " + (bytes([LAYOUT_VERSION, 3, 3, 0]) + struct.pack(">IiI", 0x7FFFFFF0, -700, 4660)).hex())
    # LAYOUT.md 4.2: a bono file with two bonos (id, sessions left, last day) and two free slots.
    slots = [(7, 10, 20800), (12, 3, 0)]
    w("")
    for n, (bid, sessions, last) in enumerate(slots, 1):
        w("BONO_%d = %d %d %d" % (n, bid, sessions, last))
    w("BONOS = " + bono_file(slots).hex())
    print("\n".join(out))


def bono_file(slots):
    """LAYOUT.md 4.2: 02 04, then four slots of id (BE32) sessions (BE16) last day (BE16)."""
    slots = list(slots) + [(0, 0, 0)] * (4 - len(slots))
    return bytes([LAYOUT_VERSION_BONOS, T_BONOS]) + b"".join(
        struct.pack(">IHH", *sl) for sl in slots)


def load(path):
    recs, cur = [], {}
    for line in open(path):
        line = line.strip()
        if line.startswith("#"):
            continue
        if not line:
            if cur:
                recs.append(cur)
            cur = {}
            continue
        k, v = line.split("=", 1)
        cur[k.strip()] = v.strip()
    if cur:
        recs.append(cur)
    return recs


def decode(path):
    recs = load(path)
    keys = next(r for r in recs if "SEAL_MASTER" in r)
    sealed = next(r for r in recs if "IDENTITY_SPAN" in r)
    h = lambda r, k: bytes.fromhex(r[k].replace(" ", ""))
    uid = h(keys, "UID")
    sk = seal_key(h(keys, "SEAL_MASTER"), uid, int(keys["ISSUER"]), int(keys["PROGRAM"]))
    print("seal_key_matches = %s" % (sk == h(keys, "SEAL_KEY")))
    pt = open_record(sk, 0, 1, 0, T_IDENTITY, h(sealed, "IDENTITY_SPAN"), 96)
    rec, sig = pt[:32], pt[32:]
    Ed25519PublicKey.from_public_bytes(h(sealed, "PUBLIC")).verify(sig, rec + uid)
    v, t, card_id, issuer, program, ks, kind, flags, issued = struct.unpack(">BBQIIBBBI", rec[:25])
    print("identity = version %d type %d card %d issuer %d program %d keyset %d kind %d "
          "flags %d issued %d" % (v, t, card_id, issuer, program, ks, kind, flags, issued))
    best = None
    for slot in (0, 1):
        p = open_record(sk, card_id, 4 + slot, slot, T_STATE, h(sealed, "STATE_SLOT%d" % slot), 27)
        seq, points, tier = struct.unpack(">IIB", p[:9])
        stamps = list(p[9:13])
        period, *buckets = struct.unpack(">H4H", p[13:23])
        purse, = struct.unpack(">I", p[23:27])
        print("slot%d = seq %d points %d tier %d stamps %s period %d buckets %s purse %d" % (
            slot, seq, points, tier, stamps, period, buckets, purse))
        if best is None or ((seq - best[1]) & 0xFFFFFFFF) in range(1, 1 << 31):
            best = (slot, seq)
    print("current = slot %d seq %d" % best)
    # A record moved to the other slot must not open.
    try:
        open_record(sk, card_id, 5, 1, T_STATE, h(sealed, "STATE_SLOT0"), 27)
        print("moved_record = opened")
    except Exception:
        print("moved_record = refused")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "generate":
        generate()
    elif len(sys.argv) == 3 and sys.argv[1] == "decode":
        decode(sys.argv[2])
    else:
        sys.exit(__doc__)
