#!/usr/bin/python3
"""web_load.py - a bounded HTTP load on loopback for tests/bench/web_load.sh:
CLIENTS threads, each with its own keep-alive connection, send GET requests
for SECONDS and record each answer's latency; any status but 200 counts as an
error. A request still unanswered one second after the end is given up
(counted as unanswered, not in the latencies), so a phase lasts at most
SECONDS + 1. Prints one line: "REQUESTS ERRORS RPS P50_MS P99_MS UNANSWERED".

  web_load.py HOST PORT SECONDS CLIENTS COOKIE PATH [PATH...]

Each thread takes the paths in turn, starting at its own index, so every
path is asked about as often. The standard library only (no package)."""
import http.client
import sys
import threading
import time


def main():
    host, port, seconds, clients, cookie = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    paths = sys.argv[6:]
    lat = [[] for _ in range(clients)]
    errors = [0] * clients
    unanswered = [0] * clients
    start = threading.Barrier(clients + 1)
    headers = {"Cookie": cookie} if cookie else {}

    def run(i):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        k = i
        start.wait()
        end = deadline
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                break
            conn.timeout = end - t0 + 1.0
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            try:
                conn.request("GET", paths[k % len(paths)], headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except TimeoutError:
                unanswered[i] += 1
                break
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            lat[i].append(time.perf_counter() - t0)
            if not ok:
                errors[i] += 1
            k += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    all_lat = sorted(x for one in lat for x in one)
    n = len(all_lat)
    if n == 0:
        print("0 0 0 0 0 %d" % sum(unanswered))
        return
    p50 = all_lat[n // 2] * 1e3
    p99 = all_lat[min(n - 1, int(n * 0.99))] * 1e3
    print("%d %d %.1f %.1f %.1f %d" % (n, sum(errors), n / wall, p50, p99, sum(unanswered)))


if __name__ == "__main__":
    main()
