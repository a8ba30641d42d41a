#!/bin/bash
# desk_tmac_upgrade.sh - leal card upgrade (issue 19, LAYOUT.md 2.9): an
# EV3 issued before the Transaction MAC file (made so here: file 0x0F taken
# off the virtual card and its tmac key's record off the ledger) gets the
# file at the desk, through sim: and through the real pcscd in front of
# leal-cardsim's vpcd, and through `leal desk --stdio`'s upgrade command.
# Each: the card's other files byte for byte as before,
# the file as another implementation derives its key (tmac version 1, TMC 0),
# the ledger's record, the same balances, points and taps; run again it says
# so and changes nothing; an EV1 is refused in one line. The next terminal
# package's floors carry flag bit 2 for the upgraded cards, and a tap of one
# at leal-terminal journals a TMAC entry whose TMV `leal sync import` checks
# with the card's tmac key; the desk's next read of it shows its TMC (its
# file read: one exchange more), an EV1's read is as before. Every process
# this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
source tests/lib/terminal_setup.sh
pcscd_reexec "$@"

pcscd_fixture desk-tmac SPID
terminal_env tmac
KS=$XDG_DATA_HOME/leal/keystore
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(' '.join(str(d[k]) for k in sys.argv[1:]))" "$@"; }
source tests/lib/terminal_key.sh

terminal_program 1
declare -A ID CUID
N=0
for c in sim pcsc ev1 stdio; do
    N=$((N + 1))
    CUID[$c]=0477665544330$N
    "$LEAL" customer add --program 7 --name "c$N" >/dev/null
    "$CARDSIM" new --type "desfire-$([ $c = ev1 ] && echo ev1 || echo ev3)" --uid "${CUID[$c]}" \
        -o "$T/$c.json" >/dev/null
    ID[$c]=$("$LEAL" card issue --customer "$N" --reader "sim:$T/$c.json" --topup 20 \
        --welcome-points 7 --json | json card_id)
done

# The files of leal's application, as JSON: all of them, or all but 0x0F.
files() { # CARD.json all|but-tmac
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
print(json.dumps([f for f in app["files"] if sys.argv[2] == "all" or f["no"] != 15], sort_keys=True))' "$1" "$2"
}
tmac_file() { # CARD.json: comm access key_version key TMC||TMV of file 0x0F, or "none"
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
f = [f for f in app["files"] if f["no"] == 15]
print("none" if not f else "%d %04x %d %s %s" % (f[0]["comm"], f[0]["access"], f[0]["key_version"], f[0]["key"], f[0]["data"]))' "$1"
}
# floors PACKAGE: the floors' flags, the EV1's first, then by card id.
floors() { terminal_floor_flags "$1" "${ID[ev1]}"; }

# Issued before the Transaction MAC file: no file 0x0F, no tmac key on record.
for c in sim pcsc stdio; do
    $PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
for a in d["apps"]:
    if a["aid"] == "41454c":
        a["files"] = [f for f in a["files"] if f["no"] != 15]
json.dump(d, open(sys.argv[1], "w"))' "$T/$c.json"
done
sqlite3 "$DB" "DELETE FROM card_key WHERE role = 12"
check_eq "before: no file 0x0F on any of the EV3s" "none none none" \
    "$(tmac_file "$T/sim.json") $(tmac_file "$T/pcsc.json") $(tmac_file "$T/stdio.json")"
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
check_eq "before: the package's floors (EV1 0; the EV3s 2: EV2/EV3, no Transaction MAC)" "0 2 2 2" \
    "$(floors "$T/p1.lpkg")"

# expect_upgraded WHERE CARD: the card's file and the ledger's record, the rest as before.
expect_upgraded() {
    check_eq "$1: file 0x0F with the card's tmac key (version 1), TMC 0, TMV zeros" \
        "1 2ff0 1 $(card_role_key tmac 1 "${CUID[$2]}") $(printf '0%.0s' {1..24})" \
        "$(tmac_file "$T/$2.json")"
    check_eq "$1: every other file of the card byte for byte as before" "$3" "$(files "$T/$2.json" but-tmac)"
    check_eq "$1: the ledger records the card's tmac key version 1" "1" \
        "$(sqlite3 "$DB" "SELECT version FROM card_key WHERE card_id = ${ID[$2]} AND role = 12")"
}

# --- sim:
BEFORE=$(files "$T/sim.json" but-tmac)
run_capture "$LEAL" card upgrade --reader "sim:$T/sim.json" --json
check_eq "sim: upgraded (exit, result, tmac key version, purse, points, taps, agrees, RT: the read's 9 + 4)" \
    "0 tmac-added 1 2000 7 1 True 13" \
    "$RC $(json result tmac_key_version purse_cents points taps agrees round_trips <<<"$OUT")"
expect_upgraded sim sim "$BEFORE"
ALL=$(files "$T/sim.json" all)
run_capture "$LEAL" card upgrade --reader "sim:$T/sim.json"
check_eq "sim: again: it says so, exit 0" \
    "0|tmac         the card has its Transaction MAC file already (tmac key version 1); nothing was changed" \
    "$RC|$(grep '^tmac ' <<<"$OUT")"
check_eq "sim: again: nothing on the card changed" "$ALL" "$(files "$T/sim.json" all)"
run_capture "$LEAL" card upgrade --reader "sim:$T/ev1.json"
check_eq "EV1: refused in one line, exit 1" \
    "1|leal: card ${ID[ev1]} is a desfire-ev1: it has no Transaction MAC, so it cannot be upgraded (only DESFire EV2 and EV3 cards can); nothing was added" \
    "$RC|$ERR"
check_eq "EV1: no file 0x0F, no tmac key on record" "none 0" \
    "$(tmac_file "$T/ev1.json") $(sqlite3 "$DB" "SELECT count(*) FROM card_key WHERE card_id = ${ID[ev1]} AND role = 12")"

# --- leal desk --stdio: upgrade, then upgrade again (one answer line each); an EV1 refused
BEFORE=$(files "$T/stdio.json" but-tmac)
run_capture "$LEAL" desk --stdio --json --reader "sim:$T/stdio.json" <<<"upgrade
upgrade"
check_eq "desk --stdio: ready, then tmac-added (version 1, purse, points, taps, agrees), then tmac-present, exit 0" \
    "0|ready|tmac-added 1 2000 7 1 True|tmac-present 1 2000 7 1 True" \
    "$RC|$($PY -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    print("|" + (d["event"] if "event" in d else " ".join(str(d[k]) for k in ("result", "tmac_key_version", "purse_cents", "points", "taps", "agrees"))), end="")' <<<"$OUT" | cut -c2-)"
expect_upgraded "desk --stdio" stdio "$BEFORE"
run_capture "$LEAL" desk --stdio --reader "sim:$T/ev1.json" <<<"upgrade"
check_eq "desk --stdio: an EV1 refused in its answer line, the desk goes on (exit 0)" \
    "0|error: card ${ID[ev1]} is a desfire-ev1: it has no Transaction MAC, so it cannot be upgraded (only DESFire EV2 and EV3 cards can); nothing was added" \
    "$RC|$(sed -n 2p <<<"$OUT")"

# --- pcsc: the real pcscd in front of leal-cardsim serve --vpcd
BEFORE=$(files "$T/pcsc.json" but-tmac)
if pcscd_start "$T"; then
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/pcsc.json" 2>"$T/serve.log" &
    SIM_PID=$!
    if pcscd_wait present; then
        run_capture "$LEAL" card upgrade --reader "pcsc:$PCSC_READER" --allow-virtual --json
        check_eq "pcscd: upgraded (exit, result, tmac key version, purse, points, taps, RT)" \
            "0 tmac-added 1 2000 7 1 13" \
            "$RC $(json result tmac_key_version purse_cents points taps round_trips <<<"$OUT")"
    else
        fail "pcscd: the virtual EV3 present" "$(pcscd_card_state)"
    fi
    kill "$SIM_PID"
    wait "$SIM_PID"
    check_eq "pcscd: cardsim stopped cleanly" 0 "$?"
    SIM_PID=
    expect_upgraded pcscd pcsc "$BEFORE"
else
    fail "pcscd started"
fi

# The next package names both upgraded cards' file (flag bit 2: 2 | 4).
"$LEAL" terminal package --terminal 1 -o "$T/p2.lpkg" >/dev/null
check_eq "after: the package's floors (EV1 0; the upgraded EV3s 6)" "0 6 6 6" "$(floors "$T/p2.lpkg")"

# A tap at the terminal journals a TMAC entry; the import checks its TMV.
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p2.lpkg" --data "$D" >/dev/null
run_capture "$LT" tap --earn 10,00 --reader "sim:$T/sim.json" --data "$D"
check_eq "the upgraded card earns at the terminal" "0|card ${ID[sim]} earn: +10 points, 7 -> 17" "$RC|$OUT"
run_capture "$LT" status --json --data "$D"
check_eq "the journal: the EPOCH, the earn and its TMAC entry" "3" \
    "$($PY -c 'import json,sys; print(json.load(sys.stdin)["journal"]["seq"])' <<<"$OUT")"
check_eq "the card's TMC is 1 now" "01000000" "$(tmac_file "$T/sim.json" | cut -d' ' -f5 | cut -c1-8)"
"$LT" journal export -o "$T/j1" --data "$D" >/dev/null
run_capture "$LEAL" sync import "$T/j1"
check_match "the import checks the TMV with the card's tmac key: the card's word" \
    "; 1 TMV checked with the cards' tmac keys, 0 not the card's word" "$OUT"
check_eq "... and finds nothing against it" "0 ok" \
    "$RC $(sqlite3 "$DB" "SELECT verdict FROM terminal_tmac WHERE card_id = ${ID[sim]} AND tmc = 1")"
run_capture "$LEAL" card read --reader "sim:$T/sim.json" --json
check_eq "the desk reads the card: 17 points, 20.00, 1 tap (the earn's TMC stood for the counter: none debited), TMC 1 (its file read: 9 + 1 RT), the ledger agrees" \
    "0 17 2000 1 1 10 True" "$RC $(json points purse_cents taps tmc round_trips agrees <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/sim.json"
check_eq "... and says so in words" "0|taps         1|tmc          1" \
    "$RC|$(grep -E '^(taps|tmc) ' <<<"$OUT" | paste -sd'|')"
run_capture "$LEAL" card read --reader "sim:$T/ev1.json" --json
check_eq "an EV1's read as before: 9 RT, no TMC" "0 9 False" \
    "$RC $(json round_trips <<<"$OUT") $($PY -c 'import json,sys; print("tmc" in json.load(sys.stdin))' <<<"$OUT")"
finish
