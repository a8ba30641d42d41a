"""net_client.py - an independent terminal sync client (terminal_net.sh): the
protocol of firmware/core/sync_auth.h in Python (python3-cryptography's
CMAC), over TLS to leal serve --terminals.
python3 net_client.py PORT JOURNAL_KEY_HEX TERMINAL KEY_VERSION EXPORT_FILE [FLOOD]
uploads the export with a fresh challenge, then sends the very same request
again; prints one line per answer: STATUS and the body (hex when binary).
With FLOOD, it first asks FLOOD more challenges for the same terminal after
its own, as anyone may, and prints "flood N" with how many were answered 200;
then it sends a request whose nonce has one byte changed (its MAC right for
it) and prints its answer before the two."""
import http.client
import ssl
import struct
import sys

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC


def cmac(key, msg):
    c = CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


def main(argv):
    port, jk, term, kv = int(argv[1]), bytes.fromhex(argv[2]), int(argv[3]), int(argv[4])
    body = open(argv[5], "rb").read()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    conn.request("POST", "/terminal/challenge", b"", {"X-Leal-Terminal": str(term)})
    r = conn.getresponse()
    nonce = r.read().decode()
    assert r.status == 200 and len(nonce) == 32, (r.status, nonce)
    ka = cmac(jk, b"leal sync auth key v1")
    kb = cmac(jk, b"leal sync body key v1")

    def auth_of(nonce):
        msg = b"LEALSYNC" + b"J\x01" + struct.pack(">IBB", term, kv, 0) + bytes.fromhex(nonce)
        mac = cmac(ka, msg + cmac(kb, body))
        return "1.%d.%d.%s.%s" % (term, kv, nonce, mac.hex())

    auth = auth_of(nonce)
    tries = [auth, auth]
    if len(argv) > 6:
        ok = 0
        for _ in range(int(argv[6])):
            conn.request("POST", "/terminal/challenge", b"", {"X-Leal-Terminal": str(term)})
            r = conn.getresponse()
            ok += r.read() is not None and r.status == 200
        print("flood", ok)
        forged = nonce[:-2] + "%02x" % (int(nonce[-2:], 16) ^ 1)
        tries = [auth_of(forged)] + tries
    for auth in tries:
        conn.request("POST", "/terminal/journal", body,
                     {"X-Leal-Auth": auth, "Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        data = r.read()
        text = data.decode().strip() if r.getheader("Content-Type", "").startswith("text/") \
            else data.hex()
        print(r.status, text)


if __name__ == "__main__":
    main(sys.argv)
