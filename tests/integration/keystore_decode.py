#!/usr/bin/env python3
"""Decrypts a leal keystore, backup or terminal bundle from keys/KEYS.md alone
("Files: enough to decrypt a keystore, a backup or a bundle"), with
python3-cryptography and hashlib's scrypt: an implementation independent of
leal's C code.

Usage (passphrase in the environment variable PASS):
  keystore_decode.py FILE          one item per line: issuer NAME / issuer_id HEX /
                                   program ID / key ROLE VERSION HEX (a bundle adds
                                   terminal ID and key journal-derived VERSION HEX)
  keystore_decode.py --json FILE   what `leal keys list --json` (keystore, backup) or
                                   `leal keys verify-bundle --json` (bundle) prints,
                                   computed from the file
  keystore_decode.py --bundle-of KEYSTORE BUNDLE
                                   (PASS for the keystore, BUNDLE_PASS for the bundle)
                                   checks the bundle against the keystore as KEYS.md
                                   says it is made: one "NAME yes|no" line per rule
Exit 1 with a message if a file does not decrypt or breaks a rule of KEYS.md."""
import datetime
import hashlib
import json
import os
import base64
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# KEYS.md "Common pieces": role numbers 1..12 in this order; Ed25519 roles; the
# roles a bundle carries (held by "host,terminal").
ROLES = ["picc-master", "app-master", "purse-credit", "terminal", "package", "qr",
         "journal", "classic-a", "classic-b", "classic-seal", "mad-b", "tmac"]
ED25519 = {"package", "qr"}
IN_BUNDLE = {"terminal", "package", "qr", "classic-a", "classic-seal"}
KINDS = {ord("K"): "keystore", ord("B"): "backup", ord("T"): "bundle"}


class Refused(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Refused(what)


def decrypt(blob, passphrase):
    """KEYS.md "The container": returns (kind letter, plaintext)."""
    need(len(blob) >= 44 + 16 and blob[:4] == b"LEAL", "not a leal container")
    kind, version, reserved, kdf, log2n, r, p = struct.unpack(">BBHBBBB", blob[4:12])
    salt, nonce = blob[12:28], blob[28:40]
    (length,) = struct.unpack(">I", blob[40:44])
    need(kind in KINDS, "unknown kind %r" % kind)
    need(version == 1, "container format %d is not 1" % version)
    need(reserved == 0 and kdf == 1, "reserved bytes or KDF id")
    # Format 1's parameters, checked before running scrypt: r = 8, p = 1, N
    # from 2^10 to 2^17 (leal writes 2^17 unless LEAL_SCRYPT_LOG2N says less).
    need(10 <= log2n <= 17 and (r, p) == (8, 1),
         "scrypt parameters are not format 1's (N 2^10 to 2^17, r 8, p 1)")
    need(len(blob) == 44 + length + 16, "file size does not match its length field")
    key = hashlib.scrypt(passphrase, salt=salt, n=1 << log2n, r=r, p=p, maxmem=1 << 30, dklen=32)
    try:
        plain = AESGCM(key).decrypt(nonce, blob[44:], blob[:44])
    except InvalidTag:
        raise Refused("wrong passphrase or altered file (GCM tag)")
    return chr(kind), plain


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        v = self.b[self.o:self.o + n]
        need(len(v) == n, "truncated")
        self.o += n
        return v

    def u8(self):
        return self.take(1)[0]

    def be32(self):
        return struct.unpack(">I", self.take(4))[0]

    def be64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def name(self):
        n = self.u8()
        need(1 <= n <= 64, "name length")
        raw = self.take(n)
        need(all(c >= 0x20 and c != 0x7F for c in raw), "control byte in a name")
        return raw.decode("utf-8")

    def end(self):
        need(self.o == len(self.b), "trailing bytes")


def slot(rd, keylen):
    """A slot: [(version, created, key bytes)], versions strictly ascending."""
    count = rd.u8()
    need(1 <= count <= 16, "slot count")
    out = []
    for _ in range(count):
        version, created, key = rd.u8(), rd.be64(), rd.take(keylen)
        need(version >= 1 and (not out or version > out[-1][0]), "versions not ascending")
        out.append((version, created, key))
    return out


def keylen(role):
    return 32 if role in ED25519 else 16


def parse_keyset(plain):
    rd = Reader(plain)
    need(rd.u8() == 1, "keystore encoding is not 1")
    ks = {"issuer_id": rd.be32(), "created": rd.be64(), "issuer": rd.name(), "programs": []}
    nprog = rd.u8()
    need(nprog <= 16, "program count")
    for _ in range(nprog):
        pid, created, nroles = rd.be32(), rd.be64(), rd.u8()
        need(pid != 0 and pid not in [p["id"] for p in ks["programs"]], "program id")
        # A program made before the tmac role lists one role fewer (KEYS.md).
        need(nroles in (len(ROLES), len(ROLES) - 1), "role count")
        roles = {"tmac": []}
        for number, role in enumerate(ROLES[:nroles], 1):
            need(rd.u8() == number, "role number out of order")
            roles[role] = slot(rd, keylen(role))
        ks["programs"].append({"id": pid, "created": created, "roles": roles})
    rd.end()
    return ks


def parse_bundle(plain):
    rd = Reader(plain)
    encoding = rd.u8()
    need(encoding in (1, 2), "bundle encoding is not 1 or 2")
    b = {"issuer_id": rd.be32(), "issuer": rd.name(), "program": rd.be32(),
         "terminal": rd.be32(), "created": rd.be64(), "expires": rd.be64()}
    need(b["program"] != 0 and b["expires"] > b["created"], "program id or expiry")
    b["slots"] = {role: slot(rd, 16) for role in ("terminal", "classic-a", "classic-seal")}
    b["journal_version"] = rd.u8()
    need(b["journal_version"] != 0, "journal version")
    b["journal_key"] = rd.take(16)
    b["slots"]["package"] = slot(rd, 32)
    b["slots"]["qr"] = slot(rd, 32)
    b["server_pins"] = []
    if encoding == 2:
        n = rd.u8()
        need(1 <= n <= 2, "server pin count")
        b["server_pins"] = [rd.take(32) for _ in range(n)]
        need(len(set(b["server_pins"])) == n, "server pins not distinct")
    rd.end()
    return b


def ed25519_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(material):
    """KEYS.md "Fingerprints": over the AES master, or the Ed25519 public key."""
    return hashlib.sha256(b"leal-fingerprint" + material).digest()[:8].hex()


def day(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")


def keyset_json(ks):
    when = datetime.datetime.fromtimestamp(ks["created"], datetime.timezone.utc)
    out = {"issuer": ks["issuer"], "issuer_id": "%08x" % ks["issuer_id"],
           "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "programs": []}
    for p in ks["programs"]:
        roles = []
        for role in ROLES:
            s = p["roles"][role]
            versions = []
            for i, (version, created, key) in enumerate(s):
                material = ed25519_public(key) if role in ED25519 else key
                versions.append({"version": version, "created": day(created),
                                 "fingerprint": fingerprint(material),
                                 "current": i == len(s) - 1})
            roles.append({"role": role,
                          "held_by": "host,terminal" if role in IN_BUNDLE else "host",
                          "versions": versions})
        out["programs"].append({"id": p["id"], "roles": roles})
    return out


def bundle_json(b):
    keys = []
    for role in ("terminal", "classic-a", "classic-seal", "package", "qr"):
        for version, _created, key in b["slots"][role]:
            keys.append({"role": role, "version": version, "fingerprint": fingerprint(key)})
    return {"issuer": b["issuer"], "issuer_id": "%08x" % b["issuer_id"], "program": b["program"],
            "terminal": b["terminal"], "valid_through": day(b["expires"] - 1),
            "journal_version": b["journal_version"], "keys": keys,
            "server_pins": ["sha256//" + base64.b64encode(p).decode() for p in b["server_pins"]]}


def an10922(master, m):
    """KEYS.md "Diversification": AES-128 AN10922 section 2.2 (subkeys of RFC 4493)."""
    def aes_cbc(data):
        enc = Cipher(algorithms.AES(master), modes.CBC(bytes(16))).encryptor()
        return enc.update(data) + enc.finalize()

    def dbl(block):
        n = int.from_bytes(block, "big") << 1
        return ((n & ((1 << 128) - 1)) ^ (0x87 if n >> 128 else 0)).to_bytes(16, "big")

    k1 = dbl(aes_cbc(bytes(16)))
    d = b"\x01" + m
    sub = k1
    if len(d) < 32:
        d += b"\x80" + bytes(31 - len(d))
        sub = dbl(k1)
    return aes_cbc(d[:16] + bytes(a ^ b for a, b in zip(d[16:], sub)))[16:]


def bundle_of(ks, b):
    """KEYS.md "Terminal bundle": the rules a bundle made from this keystore follows."""
    progs = [p for p in ks["programs"] if p["id"] == b["program"]]
    need(len(progs) == 1, "the bundle's program is not in the keystore")
    roles = progs[0]["roles"]
    journal = [v for v in roles["journal"] if v[0] == b["journal_version"]]
    need(len(journal) == 1, "the bundle's journal version is not in the keystore")
    m = b"J" + struct.pack(">III", b["issuer_id"], b["program"], b["terminal"])
    rules = [
        ("issuer_id_equal", b["issuer_id"] == ks["issuer_id"]),
        ("issuer_name_equal", b["issuer"] == ks["issuer"]),
    ]
    for role in ("terminal", "classic-a", "classic-seal"):
        rules.append(("%s_every_version_equal" % role, b["slots"][role] == roles[role]))
    for role in ("package", "qr"):
        public = [(v, c, ed25519_public(k)) for v, c, k in roles[role]]
        rules.append(("%s_public_keys_of_every_version" % role, b["slots"][role] == public))
    rules.append(("journal_version_is_current", b["journal_version"] == roles["journal"][-1][0]))
    rules.append(("journal_key_is_an10922_of_the_master",
                  b["journal_key"] == an10922(journal[0][2], m)))
    secrets = {k for r in ("picc-master", "app-master", "purse-credit", "journal", "classic-b",
                           "mad-b", "tmac", "package", "qr") for _v, _c, k in roles[r]}
    held = {k for r in ("terminal", "classic-a", "classic-seal", "package", "qr")
            for _v, _c, k in b["slots"][r]} | {b["journal_key"]}
    rules.append(("no_host_only_key_or_private_seed", not (secrets & held)))
    return rules


def main():
    args = sys.argv[1:]
    try:
        if args[:1] == ["--bundle-of"] and len(args) == 3:
            kind, plain = decrypt(open(args[1], "rb").read(), os.environb[b"PASS"])
            need(kind in "KB", "not a keystore or backup")
            ks = parse_keyset(plain)
            kind, plain = decrypt(open(args[2], "rb").read(), os.environb[b"BUNDLE_PASS"])
            need(kind == "T", "not a terminal bundle")
            for name, ok in bundle_of(ks, parse_bundle(plain)):
                print("%s %s" % (name, "yes" if ok else "no"))
            return
        as_json = args[:1] == ["--json"]
        if as_json:
            args = args[1:]
        need(len(args) == 1, "usage: keystore_decode.py [--json] FILE")
        kind, plain = decrypt(open(args[0], "rb").read(), os.environb[b"PASS"])
    except Refused as e:
        sys.exit("refused: %s" % e)
    try:
        if kind in "KB":
            ks = parse_keyset(plain)
            if as_json:
                print(json.dumps(keyset_json(ks), ensure_ascii=False, separators=(",", ":")))
                return
            out = ["issuer_id %08x" % ks["issuer_id"], "issuer " + ks["issuer"]]
            for p in ks["programs"]:
                out.append("program %d" % p["id"])
                for role in ROLES:
                    out += ["key %s %d %s" % (role, v, k.hex()) for v, _c, k in p["roles"][role]]
        else:
            b = parse_bundle(plain)
            if as_json:
                print(json.dumps(bundle_json(b), ensure_ascii=False, separators=(",", ":")))
                return
            out = ["issuer_id %08x" % b["issuer_id"], "issuer " + b["issuer"],
                   "program %d" % b["program"], "terminal %d" % b["terminal"]]
            for role in ("terminal", "classic-a", "classic-seal"):
                out += ["key %s %d %s" % (role, v, k.hex()) for v, _c, k in b["slots"][role]]
            out.append("key journal-derived %d %s" % (b["journal_version"], b["journal_key"].hex()))
            for role in ("package", "qr"):
                out += ["key %s-public %d %s" % (role, v, k.hex())
                        for v, _c, k in b["slots"][role]]
    except Refused as e:
        sys.exit("refused: %s" % e)
    print("\n".join(out))


if __name__ == "__main__":
    main()
