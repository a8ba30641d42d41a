#!/bin/bash
# desk_loop.sh - `leal desk`, the desk's long-running card loop: every card
# presented read as `leal card read` reads it, one line each (text, --json),
# then waited out of the field; --stdio's commands (read, topup EUR, quit)
# with one answer line each. Through sim: (the card file is the card in the
# field: replaced or removed, the next one is read) and through the real
# pcscd + vpcd in front of leal-cardsim (cards loaded, removed and inserted
# through its control FIFO), with the keys from the desk agent: the exact
# views of several cards in a row, a card behind the ledger refused (blocked)
# while the loop goes on, a top-up torn at its commit's answer and settled by
# the loop's next read, a card taken away mid-read, a reader that goes away
# and comes back, and one that does not (exit 1); SIGTERM, SIGINT, quit and
# the end of input end it with 0.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-loop-XXXXXX)
SIM_PID=
LOOP_PID=
cleanup() {
    if [ -n "$LOOP_PID" ]; then kill "$LOOP_PID" 2>/dev/null; wait "$LOOP_PID" 2>/dev/null; fi
    XDG_RUNTIME_DIR=$T/run "$LEAL" agent stop >/dev/null 2>&1
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data XDG_RUNTIME_DIR=$T/run LEAL_PASSPHRASE="desk loop passphrase"
mkdir -m 700 "$T/run"
DB=$XDG_DATA_HOME/leal/ledger.db
q() { sqlite3 "$DB" "$1" 2>&1; }
# wait_lines FILE N: until FILE has N lines (60 s: the first waits for an unlock).
wait_lines() {
    local i
    for i in $(seq 1 1200); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
line() { sed -n "$2p" "$1"; }
# start_loop OUT ARGS...: leal desk in the background, its stdout in OUT.
start_loop() {
    local out=$1
    shift
    "$LEAL" desk "$@" >"$out" 2>"$out.err" &
    LOOP_PID=$!
}
# stop_loop SIGNAL: the loop's exit code in LOOP_RC.
stop_loop() {
    kill -"$1" "$LOOP_PID"
    wait "$LOOP_PID"
    LOOP_RC=$?
    LOOP_PID=
}
present() { cp "$1" "$T/field.tmp" && mv "$T/field.tmp" "$T/field.json"; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null || exit 1
"$LEAL" program create --code sol --name "Café Sol" --id 7 --purse-cap 150 >/dev/null || exit 1
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Luis >/dev/null
issue() { # FILE UID CUSTOMER ARGS...: the new card's id
    local f=$1 uid=$2 cust=$3
    shift 3
    "$CARDSIM" new --type desfire-ev1 --uid "$uid" -o "$f" >/dev/null
    "$LEAL" card issue --customer "$cust" --reader "sim:$f" --json "$@" |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["card_id"])'
}
ANA=$(issue "$T/ana.json" 04a1a2a3a4a5a6 1 --topup 5 --welcome-points 10)
LUIS=$(issue "$T/luis.json" 04b1b2b3b4b5b6 2 --topup 7)
ANA_ACC=$(q "SELECT account_id FROM card WHERE card_id = $ANA")
LUIS_ACC=$(q "SELECT account_id FROM card WHERE card_id = $LUIS")
"$CARDSIM" new --type desfire-ev1 --uid 04c1c2c3c4c5c6 -o "$T/blank.json" >/dev/null
# Ana's card as it is now, kept aside: after her next top-up it is behind the ledger.
cp "$T/ana.json" "$T/ana-old.json"
"$LEAL" card top-up 2,50 --reader "sim:$T/ana.json" >/dev/null || exit 1

ana_line() { # PURSE POINTS TAPS [NOTE]
    echo "read card $ANA (desfire-ev1, UID 04a1a2a3a4a5a6): account $ANA_ACC, card active, purse $1, points $2, stamps 0 0 0 0, taps $3; ledger agrees$4"
}
luis_line() { # PURSE TAPS
    echo "read card $LUIS (desfire-ev1, UID 04b1b2b3b4b5b6): account $LUIS_ACC, card active, purse $1, points 0, stamps 0 0 0 0, taps $2; ledger agrees"
}

# --- usage and a reader that cannot be opened -------------------------------
run_capture "$LEAL" desk --bogus
check_eq "an unknown option: exit 2, one line" "2|leal: unknown option '--bogus' (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" desk --timeout 0 --reader "sim:$T/ana.json"
check_eq "a bad --timeout: exit 2" "2|leal: bad --timeout '0' (seconds, 1..3600) (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" desk --reader "sim:$T/none.json"
check_eq "no such reader: exit 1, one line, nothing printed" \
    "1|leal: opening the reader sim:$T/none.json: no card reader found; plug one in or name it with --reader|" \
    "$RC|$ERR|$OUT"
run_capture "$LEAL" desk --help
check_match "--help names the commands" "topup EUR" "$OUT"

# --- sim: cards in a row, a refused card, SIGTERM ----------------------------
present "$T/ana.json"
start_loop "$T/sim.out" --reader "sim:$T/field.json"
wait_lines "$T/sim.out" 2
check_eq "sim: ready, then the card in the field" \
    "ready: waiting for cards on sim:$T/field.json (Ctrl-C ends)
$(ana_line 7.50 10 2)" "$(cat "$T/sim.out")"
present "$T/luis.json"
wait_lines "$T/sim.out" 3
check_eq "sim: the next card presented, in one line" "$(luis_line 7.00 1)" "$(line "$T/sim.out" 3)"
rm "$T/field.json"
present "$T/ana-old.json"
wait_lines "$T/sim.out" 4
check_eq "sim: a card behind the ledger is refused and blocked, in one line" \
    "error: card $ANA is blocked: its counter shows 1 taps, fewer than the 2 the ledger saw: a restored copy or a clone; nothing was posted; keep the card ('leal card history $ANA' shows why)" \
    "$(line "$T/sim.out" 4)"
check_eq "sim: ... and the ledger says blocked" "blocked" "$(q "SELECT status FROM card WHERE card_id = $ANA")"
present "$T/blank.json"
wait_lines "$T/sim.out" 5
check_eq "sim: a blank card: one line, the loop goes on" \
    "error: reading the card: this card was not issued by leal" "$(line "$T/sim.out" 5)"
echo "not a card" >"$T/junk"
present "$T/junk"
wait_lines "$T/sim.out" 6
present "$T/luis.json"
wait_lines "$T/sim.out" 7
check_eq "sim: a file that is no card file: one line, then the next card" \
    "error: connecting to the card: data is malformed|$(luis_line 7.00 1)" \
    "$(line "$T/sim.out" 6)|$(line "$T/sim.out" 7)"
stop_loop TERM
check_eq "sim: SIGTERM ends the loop with 0, nothing on stderr" "0|7|" \
    "$LOOP_RC|$(wc -l <"$T/sim.out")|$(cat "$T/sim.out.err")"
"$LEAL" card unblock "$ANA" --reason "the copy is shredded; the card is hers" >/dev/null
present "$T/luis.json"
start_loop "$T/int.out" --reader "sim:$T/field.json"
wait_lines "$T/int.out" 2
stop_loop INT
check_eq "sim: SIGINT ends the loop with 0 after its card" "0|$(luis_line 7.00 1)" "$LOOP_RC|$(line "$T/int.out" 2)"

# --- --stdio: commands, one answer line each ---------------------------------
present "$T/luis.json"
run_capture "$LEAL" desk --stdio --reader "sim:$T/field.json" <<<"read
topup 2,50

topup 0
sell 3
read
quit
read"
check_eq "--stdio: exit 0 at quit" 0 "$RC"
check_eq "--stdio: one answer line per command, none after quit" \
    "ready: reading commands (read, topup EUR, bono sell|use KIND, upgrade, quit) for sim:$T/field.json
$(luis_line 7.00 1)
topped-up card $LUIS (desfire-ev1, UID 04b1b2b3b4b5b6): account $LUIS_ACC, card active, purse 9.50, points 0, stamps 0 0 0 0, taps 2; ledger agrees
error: topup needs an amount in euros, like 20 or 12,50
error: unknown command 'sell' (read, topup EUR, bono sell|use KIND, upgrade, quit)
$(luis_line 9.50 2)
bye: the desk ends" "$OUT"
check_eq "--stdio: the top-up is in the ledger once" "950" \
    "$(q "SELECT sum(l.amount) FROM line l WHERE l.account_id = $LUIS_ACC AND l.asset = 'EUR'")"
run_capture "$LEAL" desk --stdio --json --reader "sim:$T/field.json" <<<"read"
check_eq "--stdio --json: the end of input ends it with 0; a JSON object per line" "0|2" \
    "$RC|$(printf '%s\n' "$OUT" | $PY -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)))')"
check_eq "--stdio --json: the read is card read's JSON" "read $LUIS 950 2 True" \
    "$(printf '%s\n' "$OUT" | sed -n 2p | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["result"], d["card_id"], d["purse_cents"], d["taps"], d["agrees"])')"
check_eq "--stdio --json: the read's line is exactly what 'leal card read --json' prints" \
    "$("$LEAL" card read --json --reader "sim:$T/field.json")" "$(printf '%s\n' "$OUT" | sed -n 2p)"
cp "$T/field.json" "$T/luis.json"

# --- through the real pcscd + vpcd, keys from the agent ----------------------
if ! pcscd_start "$T"; then
    fail "pcscd" "no pcscd could be started"
    finish
    exit 1
fi
R="pcsc:$PCSC_READER"
mkfifo "$T/ctl"
"$CARDSIM" serve --vpcd "$VPCD_PORT" --control "$T/ctl" "$T/luis.json" 2>"$T/serve.log" &
SIM_PID=$!
exec 3<>"$T/ctl"
pcscd_wait present || fail "pcscd: the card came up"
"$LEAL" agent start >/dev/null || fail "the agent started"
unset LEAL_PASSPHRASE
# --stdio keeps the card connected between commands: a card swapped in
# between is found at the first exchange and the card in the field is read.
mkfifo "$T/cmd"
"$LEAL" desk --stdio --reader "$R" --allow-virtual <"$T/cmd" >"$T/stdio.out" 2>&1 &
LOOP_PID=$!
exec 4>"$T/cmd"
echo read >&4
wait_lines "$T/stdio.out" 2
echo remove >&3
pcscd_wait absent
echo "load $T/ana.json" >&3
pcscd_wait present
echo read >&4
wait_lines "$T/stdio.out" 3
echo quit >&4
exec 4>&-
wait "$LOOP_PID"
LOOP_RC=$?
LOOP_PID=
check_eq "pcsc --stdio: a card swapped between two reads: the one in the field is read" \
    "0|ready: reading commands (read, topup EUR, bono sell|use KIND, upgrade, quit) for $PCSC_READER
$(luis_line 9.50 2)
$(ana_line 7.50 10 2)
bye: the desk ends" "$LOOP_RC|$(cat "$T/stdio.out")"
echo remove >&3
pcscd_wait absent
echo "load $T/luis.json" >&3
pcscd_wait present
start_loop "$T/pcsc.out" --json --reader "$R" --allow-virtual --timeout 5
wait_lines "$T/pcsc.out" 2
view() { # N: the Nth line's result, card, purse, taps, agreement and notes
    line "$T/pcsc.out" "$1" | $PY -c 'import json,sys
d = json.load(sys.stdin)
if "error" in d: print("error", d["error"]["name"], d["error"]["message"])
elif "event" in d: print(d["event"], d["reader"])
else: print(d["result"], d["card_id"], d["purse_cents"], d["taps"], d["agrees"], d["recovered_topups"], d["dropped_topups"])'
}
check_eq "pcsc: ready, then the card in the field (keys from the agent)" \
    "ready $PCSC_READER|read $LUIS 950 2 True 0 0" "$(view 1)|$(view 2)"
echo remove >&3
pcscd_wait absent
echo "load $T/ana.json" >&3
wait_lines "$T/pcsc.out" 3
check_eq "pcsc: the next card" "read $ANA 750 2 True 0 0" "$(view 3)"
# A top-up by `leal card top-up` while the loop waits for the card to go:
# torn at its commit's answer, the card leaves the field. Which exchange the
# commit (90 C7) is: counted in a trace of the same top-up of a copy of the
# card on a copy of the books (card exchanges only; pcscd's GET DATA are
# the reader's, not the card's).
"$LEAL" backup "$T/books-copy.db" >/dev/null
cp "$T/ana.json" "$T/ana-copy.json"
COMMIT_AT=$(LEAL_TRACE=apdu "$LEAL" card top-up 3 --db "$T/books-copy.db" --reader "sim:$T/ana-copy.json" \
    2>&1 >/dev/null | grep 'trace: > ' | grep -n 'trace: > 90 C7 ' | head -1 | cut -d: -f1)
check_match "the top-up's commit is an exchange of its own" "^[0-9]+$" "$COMMIT_AT"
echo "tear before-answer $COMMIT_AT" >&3
run_capture "$LEAL" card top-up 3 --reader "$R" --allow-virtual
check_eq "pcsc: the top-up torn at its commit's answer fails" 1 "$RC"
pcscd_wait absent
echo insert >&3
wait_lines "$T/pcsc.out" 4
check_eq "pcsc: the loop's read settles it: the card shows it, posted once" \
    "read $ANA 1050 3 True 1 0|1050" \
    "$(view 4)|$(q "SELECT sum(l.amount) FROM line l WHERE l.account_id = $ANA_ACC AND l.asset = 'EUR'")"
# A card taken away mid-read (its third exchange torn): one line, then the next read.
echo remove >&3
pcscd_wait absent
echo "tear before-answer 3" >&3
echo insert >&3
wait_lines "$T/pcsc.out" 5
check_eq "pcsc: a card removed mid-read is one line" \
    "error LEAL_E_CARD_REMOVED reading the card: the card left the reader before it was done; present it again" \
    "$(view 5)"
pcscd_wait absent
echo insert >&3
wait_lines "$T/pcsc.out" 6
check_eq "pcsc: ... and the loop goes on with the card presented again" "read $ANA 1050 3 True 0 0" "$(view 6)"
# The reader goes away (pcscd stopped) and comes back within --timeout.
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
exec 3>&-
pcscd_stop
umount /run/pcscd 2>/dev/null
wait_lines "$T/pcsc.out" 7
check_eq "pcsc: a reader gone is one line" "reader-gone $PCSC_READER" "$(view 7)"
pcscd_start "$T" || fail "pcscd again"
"$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/luis.json" 2>>"$T/serve.log" &
SIM_PID=$!
wait_lines "$T/pcsc.out" 9
check_eq "pcsc: it is back, and the card on it is read" \
    "reader-back $PCSC_READER|read $LUIS 950 2 True 0 0" "$(view 8)|$(view 9)"
# Gone for good: exit 1 after --timeout, the last line says so.
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
pcscd_stop
umount /run/pcscd 2>/dev/null
wait "$LOOP_PID"
LOOP_RC=$?
LOOP_PID=
check_eq "pcsc: a reader gone for good ends the loop with exit 1" \
    "1|reader-gone $PCSC_READER|error LEAL_E_NO_READER reader $R did not come back within 5 s: no card reader found" \
    "$LOOP_RC|$(view 10)|$(view 11 | cut -d';' -f1)"
check_eq "the ledger verifies" "ok" "$("$LEAL" ledger verify --json | $PY -c 'import json,sys; print("ok" if json.load(sys.stdin)["ok"] else "bad")')"
finish
