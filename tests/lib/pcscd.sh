# pcscd.sh - a private pcscd with a vpcd reader for integration tests (sourced
# after testlib.sh). pcscd 1.9 has a fixed socket path (/run/pcscd), so the
# test runs in its own mount namespace (unshare -m, as root) with a tmpfs on
# /run/pcscd, and stops only what it started.
#
#   pcscd_reexec "$@"    first line of the test: re-runs it in a namespace
#   pcscd_start          starts pcscd on a free port pair; sets VPCD_PORT
#   pcscd_card_state     prints "present" or "absent" for Virtual PCD 00 00
#   pcscd_wait STATE     waits (30 s) until the reader reports STATE
#   sim_ctl FIFO LINE    gives leal-cardsim serve's control FIFO a line and
#                        waits (10 s) until the simulator has read it
#   pcscd_fixture NAME [VAR...]  T (/tmp/leal-NAME-*); SIM_PID and each VAR
#                        (process ids the test sets) empty; at exit each of
#                        those processes stopped (killed, waited for), pcscd
#                        stopped, the namespace's /run/pcscd unmounted, T removed
#   stop_sim             the SIM_PID process stopped now, SIM_PID empty
# Without unshare (not root), it falls back to a running pcscd's reader on
# Debian's default port 35963; with neither, the test fails (never skips).
PCSCD_PID=
PCSC_READER="Virtual PCD 00 00"

pcscd_reexec() {
    if [ -z "${LEAL_PCSCD_NS:-}" ] && unshare -m --propagation private true 2>/dev/null; then
        LEAL_PCSCD_NS=1 exec unshare -m --propagation private bash "$0" "$@"
    fi
}

free_port_pair() {
    ${PY:-/usr/bin/python3} - <<'PY'
# Below the kernel's ephemeral range: a port the kernel hands out (port 0)
# can be taken by any outgoing connection between this check and vpcd's
# bind (seen: "Address already in use" with browsers and servers running).
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(500):
    p = random.randrange(10000, max(10002, low - 2))
    socks = []
    try:
        for port in (p, p + 1):
            s = socket.socket(); socks.append(s); s.bind(("", port))
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

pcscd_stop() {
    if [ -n "$PCSCD_PID" ]; then
        kill "$PCSCD_PID" 2>/dev/null
        wait "$PCSCD_PID" 2>/dev/null
        PCSCD_PID=
    fi
}

pcscd_start() {
    local dir=$1 i
    if [ -z "${LEAL_PCSCD_NS:-}" ]; then
        # No private namespace: use the running pcscd's vpcd reader.
        if pgrep -x pcscd >/dev/null; then
            VPCD_PORT=35963
            return 0
        fi
        echo "cannot start a private pcscd (needs root for unshare -m) and none is running"
        return 1
    fi
    mkdir -p /run/pcscd "$dir/reader.conf.d"
    mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || return 1
    VPCD_PORT=$(free_port_pair)
    sed "s/@PORT@/$VPCD_PORT/" tests/integration/pcscd/vpcd.conf.in >"$dir/reader.conf.d/vpcd"
    pcscd -f -c "$dir/reader.conf.d" >"$dir/pcscd.log" 2>&1 &
    PCSCD_PID=$!
    for i in $(seq 1 300); do
        [ -S /run/pcscd/pcscd.comm ] && return 0
        sleep 0.1
    done
    echo "pcscd did not start:"; cat "$dir/pcscd.log"
    return 1
}

pcscd_card_state() {
    "$LEAL" readers --json 2>/dev/null | ${PY:-/usr/bin/python3} -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["name"] == sys.argv[1]]
print("present" if r and r[0]["card_present"] else ("absent" if r else "noreader"))' "$PCSC_READER"
}

pcscd_wait() {
    local i
    for i in $(seq 1 300); do
        [ "$(pcscd_card_state)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# sim_ctl FIFO LINE: LINE written to a `leal-cardsim serve --control` FIFO,
# then a wait until the FIFO holds no unread byte: the simulator has taken the
# line, and it acts on it before it reads anything more from the reader, so
# the next exchange sees the new card or the armed tear (a fixed sleep did
# not, on a loaded machine).
sim_ctl() {
    printf '%s\n' "$2" >"$1"
    ${PY:-/usr/bin/python3} - "$1" <<'PY'
import fcntl, os, struct, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
for _ in range(200):
    if struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0] == 0:
        sys.exit(0)
    time.sleep(0.05)
print("leal-cardsim did not read its control line: " + sys.argv[1])
sys.exit(1)
PY
}

pcscd_fixture() {
    local v
    T=$(mktemp -d "/tmp/leal-$1-XXXXXX")
    shift
    PCSCD_FIXTURE_PIDS="$* SIM_PID"
    for v in $PCSCD_FIXTURE_PIDS; do printf -v "$v" '%s' ''; done
    trap pcscd_cleanup EXIT
}

# pcscd_stop_pid VAR: the process whose id VAR holds stopped, VAR empty.
pcscd_stop_pid() {
    if [ -n "${!1}" ]; then
        kill "${!1}" 2>/dev/null
        wait "${!1}" 2>/dev/null
    fi
    printf -v "$1" '%s' ''
}

stop_sim() { pcscd_stop_pid SIM_PID; }

pcscd_cleanup() {
    local v
    for v in $PCSCD_FIXTURE_PIDS; do pcscd_stop_pid "$v"; done
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
