#!/bin/bash
# desk.sh - the cost at the reader of the issuance desk on a DESFire EV1 (the
# virtual card behind the sim: reader, whose exchanges are those of a real
# card): command round trips (0xAF frames counted) and bytes exchanged for an
# issuance (with its verification), an issuance with an opening top-up, a desk
# read and a top-up; then the same on a MIFARE Classic 1K (stored value on). Each figure is printed beside cardlayout/LAYOUT.md's
# budget for it, as a ratio (1.00 = as designed; below 1 = fewer than the
# budget). Wall time per operation is printed against `leal card info` on the
# same card in the same run. Reports only.
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$PWD/$LEAL_BUILD/bin/leal
CARDSIM=$PWD/$LEAL_BUILD/bin/leal-cardsim
T=$(mktemp -d /tmp/leal-bench-desk-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="bench desk passphrase"
"$LEAL" keys init --issuer Bench --program 1 >/dev/null || exit 1
"$LEAL" program create --code b --name Bench --id 1 --classic-stored-value-cap 100 >/dev/null || exit 1
"$LEAL" customer add --program 1 --name A >/dev/null || exit 1
"$LEAL" customer add --program 1 --name B >/dev/null || exit 1
now() { date +%s.%N; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
report() { # NAME JSON BUDGET SECONDS REFSECONDS
    local rt bytes
    rt=$(field round_trips <<<"$2")
    bytes=$(field bytes <<<"$2")
    awk -v n="$1" -v rt="$rt" -v b="$bytes" -v budget="$3" -v s="$4" -v r="$5" 'BEGIN {
        printf "%-34s %3d round trips (LAYOUT.md budget %d: ratio %.2f), %5d bytes, %.3f s (%.1fx card info)\n",
               n, rt, budget, rt / budget, b, s, s / r }'
}

echo "(wall times include unlocking the keystore: scrypt, about a second by design)"
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/a.json" >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445577 -o "$T/b.json" >/dev/null
t0=$(now)
"$LEAL" card info --reader "sim:$T/a.json" >/dev/null
t1=$(now)
REF=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
t0=$(now)
ISSUE=$("$LEAL" card issue --customer 1 --reader "sim:$T/a.json" --json)
t1=$(now)
report "issuance (with verification)" "$ISSUE" 28 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"
t0=$(now)
ISSUE2=$("$LEAL" card issue --customer 2 --reader "sim:$T/b.json" --topup 20 --welcome-points 10 --json)
t1=$(now)
report "issuance with an opening top-up" "$ISSUE2" 36 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"
t0=$(now)
READ=$("$LEAL" card read --reader "sim:$T/a.json" --json)
t1=$(now)
report "desk read (verified view)" "$READ" 8 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"
t0=$(now)
TOP=$("$LEAL" card top-up 5 --reader "sim:$T/a.json" --json)
t1=$(now)
report "top-up (desk read + credit)" "$TOP" 16 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"

# MIFARE Classic 1K (LAYOUT.md 3.3): issuance = 6 transport-key probes + 24 to
# personalise + 19 to verify; the read 19. Bytes as a PN53x passes the commands.
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/c.json" >/dev/null
t0=$(now)
CISSUE=$("$LEAL" card issue --customer 1 --reader "sim:$T/c.json" --welcome-points 10 --json)
t1=$(now)
report "Classic 1K issuance (verified)" "$CISSUE" 49 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"
t0=$(now)
CREAD=$("$LEAL" card read --reader "sim:$T/c.json" --json)
t1=$(now)
report "Classic 1K desk read" "$CREAD" 19 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"

# Classic top-up (LAYOUT.md 3.3): the read (19), then the other state slot
# (authenticate + 3 block writes); at issuance the verification is its read (+4).
t0=$(now)
CTOP=$("$LEAL" card top-up 5 --reader "sim:$T/c.json" --json)
t1=$(now)
report "Classic 1K top-up (read + slot)" "$CTOP" 23 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"
"$CARDSIM" new --type classic-1k --uid 04a2195d -o "$T/d.json" >/dev/null
t0=$(now)
CISSUE2=$("$LEAL" card issue --customer 2 --reader "sim:$T/d.json" --topup 20 --json)
t1=$(now)
report "Classic 1K issuance + top-up" "$CISSUE2" 60 "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$REF"
