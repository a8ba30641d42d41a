#!/usr/bin/python3
"""ev2_client.py - an independent MIFARE DESFire EV2 client, written from NXP's
public application notes alone (AN12196 "NTAG 424 DNA and NTAG 424 DNA
TagTamper features and hints" 6.6 and 7, AN12343 "MIFARE DESFire Light
features and hints" p.33-35 and p.54), not from leal's code. It talks to the
card through pyscard and the real pcscd (issue 19: an EV2 client reads a leal
EV2/EV3 card).

    ev2_client.py READER AID KEYNO KEY FILE MACLEN FULLFILE

selects application AID (3 bytes hex, as sent), authenticates key KEYNO with
AuthenticateEV2First (KEY: 16 bytes hex), reads MACLEN bytes of standard
file FILE in MAC mode (ReadData with MACt both ways) and the value of value
file FULLFILE in full mode (GetValue, deciphered with IVr), then prints

    ti HEX
    file NN HEX
    value NN DECIMAL
    cmdctr N

Exit 0 on success; 1 with one line on stderr when the card answers an error,
a MACt does not verify, the card does not prove the key or the padding is
wrong; 2 for bad arguments or no such reader.
"""

import os
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives import constant_time
from smartcard.System import readers


class CardError(Exception):
    pass


def aes_cbc(key, iv, data, encrypt):
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


def cmac(key, data):
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def rotl(b):
    return b[1:] + b[:1]


class Ev2Session:
    """AN12196 6.6: AuthenticateEV2First, then secure messaging with the
    session keys, TI and the command counter (AN12196 7, AN12343 p.54)."""

    def __init__(self, conn):
        self.conn = conn
        self.ti = None
        self.ctr = 0
        self.enc = None
        self.mac = None

    def native(self, ins, data=b""):
        """One wrapped native command: 90 INS 00 00 [Lc data] 00; the whole
        answer (AF frames fetched) and the final status byte."""
        apdu = [0x90, ins, 0x00, 0x00] + ([len(data)] + list(data) if data else []) + [0x00]
        resp, sw1, sw2 = self.conn.transmit(apdu)
        out = bytes(resp)
        while sw1 == 0x91 and sw2 == 0xAF and ins != 0x71:
            resp, sw1, sw2 = self.conn.transmit([0x90, 0xAF, 0x00, 0x00, 0x00])
            out += bytes(resp)
        if sw1 != 0x91:
            raise CardError("answer %02X%02X is not a DESFire status" % (sw1, sw2))
        return out, sw2

    def select(self, aid):
        data, st = self.native(0x5A, aid)
        if st != 0x00:
            raise CardError("SelectApplication: status %02X" % st)

    def authenticate_first(self, key_no, key):
        data, st = self.native(0x71, bytes([key_no, 0x00]))
        if st != 0xAF or len(data) != 16:
            raise CardError("AuthenticateEV2First: status %02X" % st)
        zero = bytes(16)
        rnd_b = aes_cbc(key, zero, data, False)
        rnd_a = os.urandom(16)
        token = aes_cbc(key, zero, rnd_a + rotl(rnd_b), True)
        resp, sw1, sw2 = self.conn.transmit([0x90, 0xAF, 0x00, 0x00, 32] + list(token) + [0x00])
        if (sw1, sw2) != (0x91, 0x00) or len(resp) != 32:
            raise CardError("AuthenticateEV2First: the card did not accept the key (%02X%02X)"
                            % (sw1, sw2))
        d = aes_cbc(key, zero, bytes(resp), False)
        if not constant_time.bytes_eq(d[4:20], rotl(rnd_a)):
            raise CardError("AuthenticateEV2First: the card did not prove the key")
        self.ti = d[0:4]
        self.ctr = 0
        # SV1/SV2 (AN12343 p.33-35): A5 5A | 5A A5, 00 01 00 80, RndA[0..1],
        # RndA[2..7] xor RndB[0..5], RndB[6..15], RndA[8..15].
        mix = bytes(a ^ b for a, b in zip(rnd_a[2:8], rnd_b[0:6]))
        tail = bytes([0x00, 0x01, 0x00, 0x80]) + rnd_a[0:2] + mix + rnd_b[6:16] + rnd_a[8:16]
        self.enc = cmac(key, bytes([0xA5, 0x5A]) + tail)
        self.mac = cmac(key, bytes([0x5A, 0xA5]) + tail)

    def mact(self, code, ctr, data):
        full = cmac(self.mac, bytes([code]) + ctr.to_bytes(2, "little") + self.ti + data)
        return full[1::2]

    def iv(self, label, ctr):
        return aes_cbc(self.enc, bytes(16), label + self.ti + ctr.to_bytes(2, "little") + bytes(8),
                       True)

    def command(self, ins, header):
        """A command in MAC mode (MACt over INS || CmdCtr || TI || header);
        the answer's MACt (over 00 || CmdCtr + 1 || TI || data) checked
        before the data is used. Returns the data (ciphertext in full mode)."""
        data, st = self.native(ins, header + self.mact(ins, self.ctr, header))
        if st != 0x00:
            raise CardError("command %02X: status %02X" % (ins, st))
        nxt = (self.ctr + 1) & 0xFFFF
        if len(data) < 8 or not constant_time.bytes_eq(self.mact(0x00, nxt, data[:-8]),
                                                       data[-8:]):
            raise CardError("command %02X: the answer's MACt does not verify" % ins)
        self.ctr = nxt
        return data[:-8]

    def read_data_mac(self, file_no, length):
        hdr = bytes([file_no]) + (0).to_bytes(3, "little") + length.to_bytes(3, "little")
        data = self.command(0xBD, hdr)
        if len(data) != length:
            raise CardError("ReadData: %d bytes where %d were asked" % (len(data), length))
        return data

    def get_value_full(self, file_no):
        ct = self.command(0x6C, bytes([file_no]))
        if len(ct) == 0 or len(ct) % 16:
            raise CardError("GetValue: the answer is no whole number of blocks")
        plain = aes_cbc(self.enc, self.iv(bytes([0x5A, 0xA5]), self.ctr), ct, False)
        # ISO/IEC 9797-1 method 2: the value, 80, then zeros.
        if plain[4] != 0x80 or any(plain[5:]):
            raise CardError("GetValue: bad padding")
        return int.from_bytes(plain[0:4], "little", signed=True)


def main(argv):
    if len(argv) != 8:
        sys.stderr.write("usage: ev2_client.py READER AID KEYNO KEY FILE MACLEN FULLFILE\n")
        return 2
    name, aid, key_no, key, file_no, length, full_no = argv[1:]
    try:
        aid, key = bytes.fromhex(aid), bytes.fromhex(key)
        key_no, file_no, length, full_no = int(key_no), int(file_no), int(length), int(full_no)
    except ValueError:
        sys.stderr.write("ev2_client: AID and KEY are hex, KEYNO FILE MACLEN FULLFILE numbers\n")
        return 2
    if len(aid) != 3 or len(key) != 16:
        sys.stderr.write("ev2_client: AID is 3 bytes and KEY 16\n")
        return 2
    found = [r for r in readers() if str(r) == name]
    if not found:
        sys.stderr.write("ev2_client: no reader %r; pcscd lists %s\n"
                         % (name, ", ".join(str(r) for r in readers()) or "none"))
        return 2
    conn = found[0].createConnection()
    conn.connect()
    s = Ev2Session(conn)
    try:
        s.select(aid)
        s.authenticate_first(key_no, key)
        data = s.read_data_mac(file_no, length)
        value = s.get_value_full(full_no)
    except CardError as e:
        sys.stderr.write("ev2_client: %s\n" % e)
        return 1
    finally:
        conn.disconnect()
    print("ti %s" % s.ti.hex())
    print("file %02d %s" % (file_no, data.hex()))
    print("value %02d %d" % (full_no, value))
    print("cmdctr %d" % s.ctr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
