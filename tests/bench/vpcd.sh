#!/bin/bash
# vpcd.sh - what the vpcd face (leal-cardsim serve --vpcd behind the real
# pcscd) adds per APDU. Figures: 10 APDUs sent by pcsc-tools' scriptor through
# pcscd, against scriptor's own start-up and reset in the same run; `leal card
# info` and a desk read (`leal card read`) through pcscd, each against the very
# same exchanges on the sim: reader in the same run (ratio 1.0 = pcscd adds
# nothing measurable). Needs root for pcscd's private namespace (as the
# integration tests). Reports only.
cd "$(dirname "$0")/../.." || exit 1
: "${LEAL_BUILD:=build/release}"
LEAL=$PWD/$LEAL_BUILD/bin/leal
CARDSIM=$PWD/$LEAL_BUILD/bin/leal-cardsim
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-bench-vpcd-XXXXXX)
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="bench vpcd passphrase"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

if ! pcscd_start "$T"; then
    echo "vpcd: no pcscd could be started (needs root): no figures"
    exit 1
fi
"$LEAL" keys init --issuer Bench --program 1 >/dev/null || exit 1
"$LEAL" program create --code b --name Bench --id 1 >/dev/null || exit 1
"$LEAL" customer add --program 1 --name A >/dev/null || exit 1
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/card.json" >/dev/null || exit 1
"$LEAL" card issue --customer 1 --reader "sim:$T/card.json" --topup 5 >/dev/null || exit 1

# The same exchanges on sim: first (the card file is the server's while it serves).
t0=$(now)
"$LEAL" card info --reader "sim:$T/card.json" >/dev/null || exit 1
t1=$(now)
INFO_SIM=$(secs "$t0" "$t1")
t0=$(now)
"$LEAL" card read --reader "sim:$T/card.json" >/dev/null
t1=$(now)
READ_SIM=$(secs "$t0" "$t1")

"$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/card.json" 2>"$T/sim.log" &
SIM_PID=$!
pcscd_wait present || { echo "vpcd: the card never came up in pcscd"; exit 1; }

apdus() { # N FILE: reset, then N GetApplicationIDs
    { printf 'reset\n'; for _ in $(seq 1 "$1"); do printf '90 6A 00 00 00\n'; done; } >"$2"
}
scriptor_time() { # FILE N: seconds for scriptor to send FILE; checks the N answers
    local t0 t1 n
    t0=$(now)
    timeout 60 scriptor -r "$PCSC_READER" "$1" >"$T/out" 2>&1
    t1=$(now)
    n=$(grep -c '^< .*91 00' "$T/out")
    [ "$n" = "$2" ] || echo "vpcd: scriptor got $n answers of $2" >&2
    secs "$t0" "$t1"
}
apdus 0 "$T/a0"
apdus 10 "$T/a10"
apdus 100 "$T/a100"
REF=$(scriptor_time "$T/a0" 0)
TEN=$(scriptor_time "$T/a10" 10)
HUNDRED=$(scriptor_time "$T/a100" 100)
awk -v t="$TEN" -v r="$REF" 'BEGIN {
    printf "10 APDUs through pcscd (scriptor)   %.3f s (%.2fx scriptor with the reset alone, %.3f s)\n", t, t / r, r }'
awk -v t="$TEN" -v h="$HUNDRED" 'BEGIN {
    printf "per APDU through pcscd              %.2f ms (100 APDUs minus 10, over 90)\n", (h - t) * 1000 / 90 }'

t0=$(now)
"$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual >/dev/null
t1=$(now)
awk -v p="$(secs "$t0" "$t1")" -v s="$INFO_SIM" 'BEGIN {
    printf "card info through pcscd             %.3f s (%.2fx the same APDUs on sim:, %.3f s)\n", p, p / s, s }'
t0=$(now)
"$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual >/dev/null
t1=$(now)
awk -v p="$(secs "$t0" "$t1")" -v s="$READ_SIM" 'BEGIN {
    printf "desk read through pcscd             %.3f s (%.2fx the same APDUs on sim:, %.3f s; both unlock the keystore)\n", p, p / s, s }'
