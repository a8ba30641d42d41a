#!/usr/bin/env python3
"""smtp_sink.py - a real SMTP server (Debian's python3-aiosmtpd) on loopback for leal's mail
tests: every accepted message is written, as received, to DIR/NNNN.eml (temp name, then
rename), with its envelope in DIR/NNNN.env ("MAIL FROM" then each RCPT, one a line).

  smtp_sink.py --dir DIR --port-file FILE [--tls CERT KEY] [--auth USER:PASS]
               [--refuse ADDR]... [--hold-until FILE] [--lifetime SECONDS]

It binds 127.0.0.1 on a port of the kernel's choosing and writes the port to FILE once it
listens. --tls offers STARTTLS and then requires it; --auth requires AUTH PLAIN/LOGIN with that
user and password (only after STARTTLS). --refuse answers 550 to RCPT TO that address.
--hold-until makes a slow server: each connection, once accepted, first creates DIR/held.N (N
counts the connections from 1) and then waits for FILE to exist before its greeting, so a test
can see in what order things happen (an answer given while the SMTP server still holds). It stops
on SIGTERM or after --lifetime seconds (default 120), whichever comes first, so a test that
dies leaves nothing running for long.
"""
import argparse
import asyncio
import logging
import os
import signal
import ssl
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class HeldSMTP(SMTP):
    """An SMTP server whose greeting waits for a file (--hold-until)."""
    hold = None
    folder = None
    held = 0

    async def _handle_client(self):
        HeldSMTP.held += 1
        open(os.path.join(self.folder, "held.%d" % HeldSMTP.held), "w").close()
        while not os.path.exists(self.hold):
            await asyncio.sleep(0.02)
        return await super()._handle_client()


class Sink:
    def __init__(self, folder, refused):
        self.folder = folder
        self.refused = {a.lower() for a in refused}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.folder, "%04d" % self.count)
        with open(base + ".env.tmp", "w") as f:
            f.write(envelope.mail_from + "\n")
            for r in envelope.rcpt_tos:
                f.write(r + "\n")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".env.tmp", base + ".env")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 OK queued as %04d" % self.count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth")
    ap.add_argument("--refuse", action="append", default=[])
    ap.add_argument("--hold-until")
    ap.add_argument("--lifetime", type=float, default=120.0)
    a = ap.parse_args()
    # Quiet: refused handshakes are what some tests do on purpose.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")

    ctx = None
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
    user, _, password = (a.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: aiosmtpd then answers 535 itself (True means "already answered").
        return AuthResult(success=ok, handled=False)

    handler = Sink(a.dir, a.refuse)

    def factory():
        kw = {}
        if ctx:
            kw.update(tls_context=ctx, require_starttls=True)
        if a.auth:
            kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
        if a.hold_until:
            HeldSMTP.hold, HeldSMTP.folder = a.hold_until, a.dir
            return HeldSMTP(handler, hostname="leal-test-sink", **kw)
        return SMTP(handler, hostname="leal-test-sink", **kw)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(a.port_file + ".tmp", a.port_file)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.call_later(a.lifetime, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
