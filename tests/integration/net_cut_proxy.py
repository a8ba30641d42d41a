"""net_cut_proxy.py - a TCP proxy on 127.0.0.1 that cuts connections
(terminal_net.sh): python3 net_cut_proxy.py UPSTREAM_PORT LIMIT_FILE PORT_FILE.
Each accepted connection is relayed to 127.0.0.1:UPSTREAM_PORT both ways;
when the client has sent LIMIT bytes (read from LIMIT_FILE at each accept;
0: no limit), exactly those are passed on and both sockets are closed, as a
network cut at that byte would. The TLS stream is relayed untouched, so the
terminal's pinned key check sees the real server. Writes its port to PORT_FILE."""
import selectors
import socket
import sys
import threading


def relay(client, upstream_port, limit):
    up = socket.create_connection(("127.0.0.1", upstream_port))
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, up)
    sel.register(up, selectors.EVENT_READ, client)
    sent = 0
    try:
        while True:
            for key, _ in sel.select(timeout=60):
                src, dst = key.fileobj, key.data
                data = src.recv(65536)
                if not data:
                    return
                if src is client and limit:
                    data = data[: limit - sent]
                    sent += len(data)
                    dst.sendall(data)
                    if sent >= limit:
                        return
                else:
                    dst.sendall(data)
    except OSError:
        return
    finally:
        for s in (client, up):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def main():
    upstream, limit_file, port_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    import os
    os.rename(port_file + ".tmp", port_file)
    while True:
        c, _ = ls.accept()
        with open(limit_file) as f:
            limit = int(f.read().strip() or "0")
        threading.Thread(target=relay, args=(c, upstream, limit), daemon=True).start()


if __name__ == "__main__":
    main()
