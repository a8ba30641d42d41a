#!/usr/bin/env python3
"""http_sink.py - a real HTTP server (python3's http.server) on loopback for leal's SMS and
WhatsApp gateway tests: every request is written, as received, to DIR/NNNN.req (temp name,
then rename): the request line, the headers, a blank line and the body.

  http_sink.py --dir DIR --port-file FILE [--answers 500,200] [--lifetime SECONDS]
               [--retry-after SECONDS] [--error-body TEXT]

It binds 127.0.0.1 on a port of the kernel's choosing and writes the port to FILE once it
listens. --answers gives the status of each request in turn (the last repeats; default 200).
--retry-after adds a Retry-After header to its 429 and 503 answers; --error-body is the body
of every answer of 400 or more (default "{}").
It stops on SIGTERM or after --lifetime seconds (default 120), so a test that dies leaves
nothing running for long.
"""
import argparse
import http.server
import os
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--answers", default="200")
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--retry-after", default=None)
    ap.add_argument("--error-body", default="{}")
    args = ap.parse_args()
    answers = [int(a) for a in args.answers.split(",")]
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = answers[min(count[0], len(answers) - 1)]
            count[0] += 1
            base = os.path.join(args.dir, "%04d" % count[0])
            with open(base + ".tmp", "wb") as f:
                f.write(self.requestline.encode() + b"\n")
                f.write(bytes(self.headers))
                f.write(body)
            os.rename(base + ".tmp", base + ".req")
            out = args.error_body.encode() if status >= 400 else b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            if args.retry_after is not None and status in (429, 503):
                self.send_header("Retry-After", args.retry_after)
            self.end_headers()
            self.wfile.write(out)

        do_POST = do_PUT = handle_any

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    threading.Timer(args.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
