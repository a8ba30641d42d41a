#!/bin/bash
# agent.sh - a desk card read in the desk's loop (leal desk --stdio: keys from
# the agent, ledger, OpenSSL and reader kept open) through the real pcscd +
# vpcd + leal-cardsim, against the same number of bare APDUs sent warm (one
# connection, tests/bench/pcsc_bare.c --warm) in the same run: the `read`
# command written to the loop until its view line came back, against a line
# to pcsc_bare until its "ok"; both processes long-running, timed alike by one
# Python driver (no process started per sample), medians of LOOP_RUNS,
# alternated. Goal (issue 11): ratio within 1.1. A second, timed pass of the
# same loop (tests/bench/pcsc_time.c preloaded in both processes) says where
# each one's time goes: its own work outside SCardTransmit, and the
# exchanges. Then the one-shot figures:
# a desk card read with the desk agent running (leal card read; no
# keystore unlock) through the real pcscd + vpcd + leal-cardsim, against the
# same number of bare APDUs sent to the same virtual card in the same run by a
# process that does nothing else (tests/bench/pcsc_bare.c). The APDU count is
# the read's own, counted at SCardTransmit (tests/bench/pcsc_count.c, an
# LD_PRELOAD counter). Medians of RUNS runs each, alternated. Also where the read's time goes: leal's process start,
# the agent's answer, the pcscd connection and the APDUs, and the same read
# unlocking the keystore itself. The floor no leal process goes under, printed
# beside the ratio: leal's libraries (leal --version less the bare client's
# own start, pcsc_bare --start) and OpenSSL's first AES (tests/bench/
# crypto_start.c), which the unauthenticated bare APDUs never pay. And a read
# at a desk's pace (1.1 s apart, so the clock has moved) with its fsync and
# fdatasync calls counted. Needs root for pcscd's private namespace.
# Reports only.
cd "$(dirname "$0")/../.." || exit 1
: "${LEAL_BUILD:=build/release}"
: "${RUNS:=15}"
LEAL=$PWD/$LEAL_BUILD/bin/leal
CARDSIM=$PWD/$LEAL_BUILD/bin/leal-cardsim
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-bench-agent-XXXXXX)
SIM_PID=
SHM=
cleanup() {
    XDG_RUNTIME_DIR=$T/run "$LEAL" agent stop >/dev/null 2>&1
    [ -n "$SHM" ] && rm -rf "$SHM"
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data XDG_RUNTIME_DIR=$T/run
unset LEAL_PASSPHRASE
mkdir -m 700 "$T/run"
printf 'bench agent passphrase\n' >"$T/pass"
PF=(--passphrase-file "$T/pass")

CFL=$(pkg-config --cflags libpcsclite) LIBS=$(pkg-config --libs libpcsclite)
cc -std=c11 -O2 $CFL -o "$T/pcsc_bare" tests/bench/pcsc_bare.c $LIBS || exit 1
cc -std=c11 -O2 -shared -fPIC $CFL -o "$T/pcsc_count.so" tests/bench/pcsc_count.c -ldl || exit 1
cc -std=c11 -O2 -shared -fPIC $CFL -o "$T/pcsc_time.so" tests/bench/pcsc_time.c -ldl || exit 1
cc -std=c11 -O2 $(pkg-config --cflags libcrypto) -o "$T/crypto_start" tests/bench/crypto_start.c \
    $(pkg-config --libs libcrypto) || exit 1

if ! pcscd_start "$T"; then
    echo "agent: no pcscd could be started (needs root): no figures"
    exit 1
fi
"$LEAL" keys init --issuer Bench --program 1 "${PF[@]}" >/dev/null || exit 1
"$LEAL" program create --code b --name Bench --id 1 >/dev/null || exit 1
"$LEAL" customer add --program 1 --name A >/dev/null || exit 1
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/card.json" >/dev/null || exit 1
"$LEAL" card issue --customer 1 --reader "sim:$T/card.json" --topup 5 "${PF[@]}" >/dev/null || exit 1
"$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/card.json" 2>"$T/sim.log" &
SIM_PID=$!
pcscd_wait present || { echo "agent: the card never came up in pcscd"; exit 1; }
R=(--reader "pcsc:$PCSC_READER" --allow-virtual)
"$LEAL" agent start "${PF[@]}" >/dev/null || { echo "agent: the agent did not start"; exit 1; }

# How many APDUs a desk read sends, counted where they leave the process.
PCSC_COUNT_FILE=$T/count LD_PRELOAD=$T/pcsc_count.so "$LEAL" card read "${R[@]}" </dev/null \
    >/dev/null || { echo "agent: the desk read failed"; exit 1; }
N=$(cat "$T/count")
"$T/pcsc_bare" "$PCSC_READER" "$N" || { echo "agent: the bare APDUs were not answered 91 00"; exit 1; }

# The loop: one read's APDUs counted as above, then leal desk --stdio and
# pcsc_bare --warm side by side, each fed through a FIFO.
: "${LOOP_RUNS:=61}"
# A read's APDUs in a running loop: two reads' count less one read's.
for k in 1 2; do
    PCSC_COUNT_FILE=$T/loopcount$k LD_PRELOAD=$T/pcsc_count.so "$LEAL" desk --stdio "${R[@]}" \
        < <(for _ in $(seq 1 $k); do echo read; done) >"$T/loopcount.out" 2>&1 ||
        { echo "agent: the loop's read failed"; exit 1; }
done
LN=$(($(cat "$T/loopcount2") - $(cat "$T/loopcount1")))
# The driver is Python: its buffered readline takes each answer in one read
# (bash's read takes a pipe's line a byte at a time: 150 reads for the view
# line against 3 for "ok", a third of a millisecond that is the driver's).
# With a first argument "timed", a second pass under tests/bench/pcsc_time.c
# (LD_PRELOAD in both processes) says where each one's time goes.
loop_driver() {
/usr/bin/python3 - "$1" "$T" "$LOOP_RUNS" "$PCSC_READER" "$LN" "$LEAL" "${R[@]}" <<'PY'
import os, subprocess, sys, time
timed, t, runs, reader, n, leal, args = sys.argv[1] == "timed", sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:]
def env(name):
    if not timed:
        return None
    return dict(os.environ, LD_PRELOAD=t + "/pcsc_time.so", PCSC_TIME_FILE=t + "/time_" + name)
desk = subprocess.Popen([leal, "desk", "--stdio", *args], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                        env=env("loop"))
warm = subprocess.Popen([t + "/pcsc_bare", "--warm", reader, n], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, text=True, bufsize=1, env=env("warm"))
desk.stdout.readline()  # the loop's ready line
def ask(p, want):
    t0 = time.perf_counter_ns()
    p.stdin.write("read\n")
    p.stdin.flush()
    line = p.stdout.readline()
    t1 = time.perf_counter_ns()
    if not line.startswith(want):
        sys.exit("agent: unexpected answer: " + line.strip())
    return (t1 - t0) // 1000
for _ in range(3):
    ask(desk, "read card"), ask(warm, "ok")
with open(t + ("/tloop" if timed else "/loop"), "w") as fl, open(t + ("/twarm" if timed else "/warm"), "w") as fw:
    for _ in range(runs):
        print(ask(desk, "read card"), file=fl)
        print(ask(warm, "ok"), file=fw)
for p in (desk, warm):
    p.stdin.close()
    p.wait()
PY
}
loop_driver plain || exit 1
loop_driver timed || exit 1

# median_ms CMD...: the median wall time of RUNS runs, in milliseconds.
sample() { # FILE CMD...: appends one wall time in ms to FILE
    local f=$1 t0 t1
    shift
    t0=$(date +%s%N)
    "$@" </dev/null >/dev/null 2>&1 || echo "agent: '$*' failed" >&2
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000)) >>"$f"
}
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000 }'; }
for _ in $(seq 1 "$RUNS"); do
    sample "$T/read" "$LEAL" card read "${R[@]}"
    sample "$T/bare" "$T/pcsc_bare" "$PCSC_READER" "$N"
    sample "$T/bare0" "$T/pcsc_bare" "$PCSC_READER" 0
    sample "$T/version" "$LEAL" --version
    sample "$T/status" "$LEAL" agent status
    sample "$T/start" "$T/pcsc_bare" --start
    sample "$T/crypto0" "$T/crypto_start" 0
    sample "$T/crypto1" "$T/crypto_start" 1
done
# At a desk's pace: each read a second after the last, so that whatever the
# read records with the time would change (back-to-back reads share a second).
: "${SPACED_RUNS:=7}"
for _ in $(seq 1 "$SPACED_RUNS"); do
    sleep 1.1
    sample "$T/spaced" "$LEAL" card read "${R[@]}"
done
SYNCS="not counted (no strace)"
if command -v strace >/dev/null; then
    sleep 1.1
    if strace -f -c -o "$T/syncs" -e trace=fsync,fdatasync "$LEAL" card read "${R[@]}" \
        </dev/null >/dev/null 2>&1; then
        SYNCS=$(awk '$NF ~ /^f(data)?sync$/ { s += $4 } END { print s + 0 }' "$T/syncs")
    else
        SYNCS="not counted (the read failed)"
    fi
fi
# The same read with the data folder (ledger) on tmpfs: what the ledger's
# disk costs the read (a read that changes nothing writes nothing).
SHM=$(mktemp -d /dev/shm/leal-bench-agent-XXXXXX)
"$LEAL" agent stop >/dev/null
cp -a "$XDG_DATA_HOME" "$SHM/data"
XDG_DATA_HOME=$SHM/data "$LEAL" agent start "${PF[@]}" >/dev/null || echo "agent: no agent on tmpfs" >&2
for _ in $(seq 1 "$RUNS"); do
    XDG_DATA_HOME=$SHM/data sample "$T/shm" "$LEAL" card read "${R[@]}"
    sample "$T/bare2" "$T/pcsc_bare" "$PCSC_READER" "$N"
done
XDG_DATA_HOME=$SHM/data "$LEAL" agent stop >/dev/null
rm -rf "$SHM"
for _ in $(seq 1 3); do
    sample "$T/unlock" "$LEAL" card read "${R[@]}" --program 1 --keystore "$XDG_DATA_HOME/leal/./keystore" "${PF[@]}"
done
READ=$(median "$T/read") BARE=$(median "$T/bare") BARE0=$(median "$T/bare0")
SHMREAD=$(median "$T/shm") BARE2=$(median "$T/bare2")
VERSION=$(median "$T/version") STATUS=$(median "$T/status") UNLOCK=$(median "$T/unlock")
START=$(median "$T/start") CRYPTO0=$(median "$T/crypto0") CRYPTO1=$(median "$T/crypto1")
SPACED=$(median "$T/spaced")
LOOP=$(median "$T/loop") WARM=$(median "$T/warm")
awk -v r="$LOOP" -v b="$WARM" -v n="$LN" -v runs="$LOOP_RUNS" 'BEGIN {
    printf "desk read in the loop (leal desk --stdio) %7.2f ms (%d APDUs; median of %d)\n", r, n, runs
    printf "the same %2d APDUs sent warm (pcsc_bare)  %7.2f ms\n", n, b
    printf "ratio loop read / warm bare APDUs        %7.2f (goal 1.10)\n", r / b }'
# Each read against the bare request right after it: steadier on a loaded machine.
paste "$T/loop" "$T/warm" | awk '{ print $1 / $2 }' | sort -g |
    awk '{ a[NR] = $1 } END { printf "median of the %d paired ratios           %7.2f\n", NR, (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
# Where the loop read's time goes (the timed pass): the client's own work
# between the command line and its answer, outside SCardTransmit, and the
# exchanges themselves, for leal desk and for pcsc_bare --warm alike.
tv() { awk -v k="$2" '$1 == k { print $2 }' "$T/time_$1"; }
if [ -s "$T/time_loop" ] && [ -s "$T/time_warm" ]; then
    printf 'where a loop read goes (timed pass, medians): leal own work %.1f us (before the first\n' "$(tv loop own)"
    printf '  exchange %.1f, after the last %.1f), its %s exchanges %.1f us; pcsc_bare own work %.1f us,\n' \
        "$(tv loop before)" "$(tv loop after)" "$(awk '{ print $4; exit }' "$T/time_loop")" "$(tv loop exchanges)" "$(tv warm own)"
    printf '  its %s exchanges %.1f us\n' "$(awk '{ print $4; exit }' "$T/time_warm")" "$(tv warm exchanges)"
fi
echo "one-shot figures (leal card read, a process per read):"
awk -v r="$READ" -v b="$BARE" -v n="$N" -v runs="$RUNS" 'BEGIN {
    printf "desk read with the agent through pcscd   %7.2f ms (%d APDUs; median of %d)\n", r, n, runs
    printf "the same %2d bare APDUs (pcsc_bare)        %7.2f ms\n", n, b
    printf "ratio desk read / bare APDUs             %7.2f\n", r / b }'
awk -v r="$READ" -v b="$BARE" -v v="$VERSION" -v st="$START" -v c0="$CRYPTO0" -v c1="$CRYPTO1" 'BEGIN {
    f = (v - st) + (c1 - c0)
    printf "floor of a leal process beside the bare client: its libraries (leal --version %.2f ms less\n", v
    printf "  pcsc_bare --start %.2f ms) %.2f ms + OpenSSL'"'"'s first AES (crypto_start 1 less 0) %.2f ms = %.2f ms\n", st, v - st, c1 - c0, f
    printf "the read less that floor                 %7.2f ms: ratio %.2f to the bare APDUs\n", r - f, (r - f) / b }'
awk -v s="$SPACED" -v n="$SPACED_RUNS" -v r="$READ" -v y="$SYNCS" 'BEGIN {
    printf "a read 1.1 s after the last (desk pace)  %7.2f ms (median of %d; %.2fx the back-to-back read); fsync/fdatasync calls in one: %s\n", s, n, s / r, y }'
awk -v r="$SHMREAD" -v b="$BARE2" 'BEGIN {
    printf "the read with its ledger on tmpfs        %7.2f ms: %.2fx the bare APDUs (%.2f ms) measured beside it\n", r, r / b, b }'
awk -v r="$READ" -v b="$BARE" -v b0="$BARE0" -v v="$VERSION" -v s="$STATUS" -v u="$UNLOCK" -v n="$N" -v st="$START" 'BEGIN {
    printf "where the read goes: leal start + exit (leal --version) %.2f ms; the agent'"'"'s answer (agent status\n", v
    printf "  less that) %.2f ms; pcscd connect (pcsc_bare 0 less --start) %.2f ms; %d APDUs %.2f ms (%.2f ms\n", s - v, b0 - st, n, b - b0, (b - b0) / n
    printf "  each); the rest (ledger, reader open, card checks, crypto, output) %.2f ms\n", r - s - (b - st)
    printf "the same read unlocking the keystore     %7.2f ms (%.1fx the read with the agent)\n", u, u / r }'
