#!/bin/bash
# terminal_pcsc.sh - the host's time per tap (issue 13, goal: ratio <= 1.1):
# leal-terminal tap on a virtual DESFire EV1 through the real pcscd +
# vsmartcard-vpcd + leal-cardsim, against the same number of bare APDUs
# (tests/bench/pcsc_bare.c: SelectApplication of the card level, answered
# 91 00) sent to the same virtual card in the same run. Both are timed over
# the same window by tests/bench/terminal_time.c (LD_PRELOAD): from the
# process's first SCardConnect (the card is in the field) to its exit, so a
# one-shot tap's start (its bundle's scrypt, the journal's open), which a
# running terminal (leal-terminal run) pays once, is not in it; the
# journal's appends (fsync) are. The bare client sends as many APDUs as the
# tap did (counted by the same preload). Medians of RUNS, alternated. Needs
# root for pcscd's private namespace (as the integration tests). Reports only.
cd "$(dirname "$0")/../.." || exit 1
: "${LEAL_BUILD:=build/release}"
: "${RUNS:=9}"
LEAL=$PWD/$LEAL_BUILD/bin/leal
LT=$PWD/$LEAL_BUILD/bin/leal-terminal
CARDSIM=$PWD/$LEAL_BUILD/bin/leal-cardsim
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-bench-terminal-XXXXXX)
SIM_PID=
SHM=
cleanup() {
    [ -n "$SHM" ] && rm -rf "$SHM"
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="bench terminal passphrase"
export LEAL_BUNDLE_PASSPHRASE="bench bundle passphrase"

CFL=$(pkg-config --cflags libpcsclite) LIBS=$(pkg-config --libs libpcsclite)
cc -std=c11 -O2 $CFL -o "$T/pcsc_bare" tests/bench/pcsc_bare.c $LIBS || exit 1
cc -std=c11 -O2 -shared -fPIC $CFL -o "$T/terminal_time.so" tests/bench/terminal_time.c -ldl || exit 1

if ! pcscd_start "$T"; then
    echo "terminal_pcsc: no pcscd could be started (needs root): no figures"
    exit 1
fi
"$LEAL" keys init --issuer Bench --program 1 >/dev/null || exit 1
"$LEAL" program create --code b --name Bench --id 1 --points-per-euro 1 >/dev/null || exit 1
"$LEAL" store add --program 1 --code c --name Centro --tz Europe/Madrid >/dev/null || exit 1
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null || exit 1
"$LEAL" customer add --program 1 --name A >/dev/null || exit 1
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/card.json" >/dev/null || exit 1
"$LEAL" card issue --customer 1 --reader "sim:$T/card.json" --topup 100 >/dev/null || exit 1
"$LEAL" keys export-terminal --terminal 1 --program 1 --expires "$(date -u -d '+30 days' +%F)" \
    -o "$T/t1.ltb" >/dev/null || exit 1
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null || exit 1
"$LT" init --bundle "$T/t1.ltb" --data "$T/till" >/dev/null || exit 1
"$LT" load "$T/p1.lpkg" --data "$T/till" >/dev/null || exit 1

"$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/card.json" 2>"$T/sim.log" &
SIM_PID=$!
pcscd_wait present || { echo "terminal_pcsc: the card never came up in pcscd"; exit 1; }
R=(--reader "pcsc:$PCSC_READER" --allow-virtual --data "$T/till")

timed() { # FILE CMD...: appends "EXCHANGES WINDOW_US TRANSMIT_US" to FILE
    local f=$1
    shift
    rm -f "$T/one"
    TERMINAL_TIME_FILE=$T/one LD_PRELOAD=$T/terminal_time.so "$@" </dev/null >"$T/out" 2>&1 ||
        { echo "terminal_pcsc: '$*' failed: $(cat "$T/out")" >&2; return 1; }
    cat "$T/one" >>"$f"
}
median() { # FILE COLUMN: the median, in ms (COLUMN 0: the window less the time in pcsc)
    awk -v c="$2" '{ print c ? $c : $2 - $3 }' "$1" | sort -n |
        awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000 }'
}

# pass NAME DATA: each operation's taps with the terminal's data in DATA.
pass() {
    local R=(--reader "pcsc:$PCSC_READER" --allow-virtual --data "$2") op args name N
    for op in "earn 2,00" "pay 1,00" "pay 1,00 --earn 1,00" "balance"; do
        read -r -a args <<<"--$op"
        name=${op%% *}
        [ "$op" = "pay 1,00 --earn 1,00" ] && name=pay+earn
        : >"$T/tap" && : >"$T/bare"
        timed "$T/warm" "$LT" tap "${args[@]}" "${R[@]}" || exit 1
        N=$(awk '{ print $1 }' "$T/one")
        for _ in $(seq 1 "$RUNS"); do
            timed "$T/tap" "$LT" tap "${args[@]}" "${R[@]}" || exit 1
            timed "$T/bare" "$T/pcsc_bare" "$PCSC_READER" "$N" || exit 1
        done
        # host and -sync per tap run (its own exchanges), then their medians.
        bo=$(median "$T/bare" 0)
        awk -v bo="$bo" '{ printf "%d %d %d\n", 1, $2 * 1000 / ($3 + bo * 1000), ($2 - $5) * 1000 / ($3 + bo * 1000) }' \
            "$T/tap" >"$T/host"
        awk -v p="$1" -v n="$name" -v k="$N" -v t="$(median "$T/tap" 2)" -v tx="$(median "$T/tap" 3)" \
            -v to="$(median "$T/tap" 0)" -v ta="$(median "$T/tap" 4)" -v ts="$(median "$T/tap" 5)" \
            -v b="$(median "$T/bare" 2)" -v bx="$(median "$T/bare" 3)" -v bo="$bo" \
            -v h="$(median "$T/host" 2)" -v hs="$(median "$T/host" 3)" 'BEGIN {
            printf "%-6s %-9s %5d %7.2f %7.2f %6.2f %6.2f %6.2f %7.2f %7.2f %6.2f %6.2f %6.2f %6.2f\n", p, n, k, t, tx, to, ta, ts, b, bx, bo, t / b, h, hs }'
    done
}
printf '%-6s %-9s %5s %7s %7s %6s %6s %6s %7s %7s %6s %6s %6s %6s\n' "data" "tap" "APDUs" "tap ms" \
    "in pcsc" "own" "after" "sync" "bare ms" "in pcsc" "own" "ratio" "host" "-sync"
pass disk "$T/till"
# The same terminal with its data folder (journal, package) on tmpfs: what
# the journal's durable appends cost a tap.
SHM=$(mktemp -d /dev/shm/leal-bench-terminal-XXXXXX)
cp -a "$T/till" "$SHM/till"
pass tmpfs "$SHM/till"
rm -rf "$SHM"
SHM=
SYNCS="not counted (no strace)"
if command -v strace >/dev/null; then
    strace -f -c -o "$T/syncs" -e trace=fsync,fdatasync "$LT" tap --earn 1,00 "${R[@]}" \
        </dev/null >/dev/null 2>&1 &&
        SYNCS=$(awk '$NF ~ /^f(data)?sync$/ { s += $4 } END { print s + 0 }' "$T/syncs")
fi
echo "fsync and fdatasync calls in one earn tap (strace): $SYNCS"
echo "APDUs: the core's round trips (bench_terminal) and the reader's GET DATA of the UID and ATS."
echo "tap ms: one tap in leal-terminal tap, from its SCardConnect to its exit (the journal's"
echo "  appends included; its start, bundle and journal open, not: a running terminal pays them"
echo "  once); bare ms: as many APDUs by pcsc_bare from its SCardConnect to its exit; in pcsc:"
echo "  of each, the time inside SCardTransmit (pcscd, vpcd, the card: leal-cardsim saves the card"
echo "  file after a write, so a tap's writing commands cost more there than the bare selects); own:"
echo "  the window less that; after: of the tap's own, from the last answer to the exit; sync: of"
echo "  the tap's own, inside fsync/fdatasync (the journal's one durable append); medians of $RUNS."
echo "ratio: tap / bare, the issue's literal figure (the card's work differs: selects against"
echo "  authenticated reads and writes). host: tap / (the tap's own exchanges + a bare client's own):"
echo "  the same exchanges as this card answered them with only a bare client around them, i.e. what"
echo "  leal adds on the host, storage included; -sync: the same less the durable append. Goal 1.10"
echo "  (TERMINAL.md \"Host time per tap\" says which figure it reads)."
