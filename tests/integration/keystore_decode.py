#!/usr/bin/env python3
"""Decrypts a leal keystore, backup or terminal bundle from keys/KEYS.md alone
(python3-cryptography and hashlib's scrypt: an implementation independent of
leal's C code) and prints what it holds, one item per line:
  issuer NAME / issuer_id HEX / program ID / key ROLE VERSION HEX
Usage: keystore_decode.py FILE   (passphrase in the environment variable PASS)
Exit 1 with a message if the file does not decrypt."""
import hashlib
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROLES = ["picc-master", "app-master", "purse-credit", "terminal", "package", "qr",
         "journal", "classic-a", "classic-b", "classic-seal", "mad-b"]
ED25519 = {"package", "qr"}


def decrypt(blob, passphrase):
    if blob[:4] != b"LEAL":
        sys.exit("not a leal container")
    kind, version, _reserved, kdf, log2n, r, p = struct.unpack(">BBHBBBB", blob[4:12])
    salt, nonce = blob[12:28], blob[28:40]
    (length,) = struct.unpack(">I", blob[40:44])
    assert version == 1 and kdf == 1 and len(blob) == 44 + length + 16
    key = hashlib.scrypt(passphrase, salt=salt, n=1 << log2n, r=r, p=p, maxmem=1 << 30, dklen=32)
    return chr(kind), AESGCM(key).decrypt(nonce, blob[44:], blob[:44])


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        v = self.b[self.o:self.o + n]
        assert len(v) == n, "truncated"
        self.o += n
        return v

    def u8(self):
        return self.take(1)[0]

    def be32(self):
        return struct.unpack(">I", self.take(4))[0]

    def be64(self):
        return struct.unpack(">Q", self.take(8))[0]


def slot(rd, role, keylen, out):
    for _ in range(rd.u8()):
        version = rd.u8()
        rd.be64()
        out.append("key %s %d %s" % (role, version, rd.take(keylen).hex()))


def main():
    kind, plain = decrypt(open(sys.argv[1], "rb").read(), os.environb[b"PASS"])
    rd, out = Reader(plain), []
    assert rd.u8() == 1
    if kind in "KB":
        out.append("issuer_id %08x" % rd.be32())
        rd.be64()
        out.append("issuer " + rd.take(rd.u8()).decode())
        for _ in range(rd.u8()):
            out.append("program %d" % rd.be32())
            rd.be64()
            assert rd.u8() == len(ROLES)
            for i, role in enumerate(ROLES):
                assert rd.u8() == i + 1
                slot(rd, role, 32 if role in ED25519 else 16, out)
    else:
        out.append("issuer_id %08x" % rd.be32())
        out.append("issuer " + rd.take(rd.u8()).decode())
        out.append("program %d" % rd.be32())
        out.append("terminal %d" % rd.be32())
        rd.be64()
        rd.be64()
        for role in ("terminal", "classic-a", "classic-seal"):
            slot(rd, role, 16, out)
        version = rd.u8()
        out.append("key journal-derived %d %s" % (version, rd.take(16).hex()))
        slot(rd, "package-public", 32, out)
        slot(rd, "qr-public", 32, out)
    assert rd.o == len(plain), "trailing bytes"
    print("\n".join(out))


if __name__ == "__main__":
    main()
