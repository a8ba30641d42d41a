#!/bin/bash
# desk.sh - the issuance desk end to end through `leal card ...`: on the sim:
# reader, through the real pcscd (vpcd), and through the real libnfc
# (pn532_uart on the emulated PN532). Another implementation then reads the
# card from the spec alone: tests/interop/freefare_identity (libfreefare, no
# leal code) authenticates with the terminal key that `openssl mac` derives
# from keys/KEYS.md's inputs and reads the identity and state files.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"
clear_of_midnight 90 # the posting day, reckoned once

pcscd_fixture desk
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="desk test passphrase"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
check_eq "program 7" 0 "$RC"
for n in Ana Luis Marta; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
acct() { "$LEAL" customer show "$1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])'; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

# --- sim: ---------------------------------------------------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --welcome-points 50 --topup 20 --json
check_eq "issue exits 0" 0 "$RC"
ANA=$(field card_id <<<"$OUT")
check_match "issued card id has 12 digits" "^[1-9][0-9]{11}$" "$ANA"
check_eq "issued: purse, points, taps, agreement, round trips" "2000 50 1 True 38" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["points"], d["taps"], d["agrees"], d["round_trips"])' <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "read exits 0" 0 "$RC"
check_eq "read: the verified view" "card         $ANA (desfire-ev1, UID 04112233445566)
account      $(acct 1), card active
purse        20.00
points       50
stamps       0 0 0 0
taps         1
layout       version 2
ledger       agrees
last         DATE  topup    +20.00 EUR  purse top-up at the desk
             DATE  earn     +50 points  welcome points" \
    "$(sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/DATE/' <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "read --json: the last operations, newest first" "topup EUR 2000 purse top-up at the desk|earn PTS 50 welcome points" \
    "$($PY -c 'import json,sys; print("|".join("%s %s %d %s" % (o["kind"], o["asset"], o["amount"], o["reason"]) for o in json.load(sys.stdin)["last_operations"]))' <<<"$OUT")"
run_capture "$LEAL" card top-up 12,50 --reader "sim:$T/ana.json"
check_match "top-up 12,50" "^purse        32.50$" "$OUT"
run_capture "$LEAL" account show "$(acct 1)" --json
check_eq "ledger balance 32.50 EUR and 50 points" "3250 50" \
    "$($PY -c 'import json,sys; b=json.load(sys.stdin)["balances"]; print(b["EUR"], b["PTS"])' <<<"$OUT")"
run_capture "$LEAL" card top-up 1.000,00 --reader "sim:$T/ana.json"
check_eq "thousands separator refused (exit 2)" 2 "$RC"
run_capture "$LEAL" card top-up 990 --reader "sim:$T/ana.json"
check_eq "over the purse cap refused" "1|leal: top-up of card $ANA refused: 32.50 on the card plus 990.00 would pass the program's purse cap of 1000.00; nothing was written" "$RC|$ERR"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/ana.json"
check_eq "an issued card is refused, with whose it is" "leal: this card is already issued: card $ANA, account $(acct 1) (active); use a blank card, or 'leal card read' to see it" "$ERR"
run_capture "$LEAL" card block "$ANA" --reason "lost at the gym"
check_eq "block" "card $ANA blocked; it goes on the hot list of the next terminal package" "$OUT"
run_capture "$LEAL" card top-up 5 --reader "sim:$T/ana.json"
check_eq "a blocked card takes no top-up" "leal: topping up the card: this card is blocked" "$ERR"
check_eq "the reason is on the customer's record" "desk|card $ANA blocked: lost at the gym" \
    "$(sqlite3 "$XDG_DATA_HOME/leal/ledger.db" 'SELECT author, text FROM customer_note')"
run_capture "$LEAL" card block "$ANA"
check_eq "block needs a reason (exit 2)" 2 "$RC"
events() { $PY -c 'import json,sys; print(" / ".join("|".join([str(e["card_id"]), e["status"], e["reason"], e["operator"]]) for e in json.load(sys.stdin)[sys.argv[1]]))' "$1"; }
run_capture "$LEAL" card history "$ANA" --json
check_eq "history: issued, verified, blocked with why and who" \
    "$ANA|pending|issued| / $ANA|active|verified at the desk|desk / $ANA|blocked|lost at the gym|desk" \
    "$(events events <<<"$OUT")"
run_capture "$LEAL" card hotlist --program 7 --json
check_eq "the hot list holds the blocked card" "$ANA|blocked|lost at the gym|desk" "$(events cards <<<"$OUT")"
run_capture "$LEAL" card hotlist
check_eq "hotlist needs --program (exit 2)" "2|leal: card hotlist needs --program ID (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" card hotlist --program 8
check_eq "hotlist of an unknown program (exit 2)" "2|leal: the hot list: program 8: no such id" "$RC|$ERR"
run_capture "$LEAL" card history 123456789012
check_eq "history of an unknown card (exit 2)" "2|leal: reading the card's history: card 123456789012: no such id" "$RC|$ERR"

# Replacement: the new card carries the lost card's purse and points.
"$CARDSIM" new --type desfire-ev3 --random-uid -o "$T/ana2.json" >/dev/null
run_capture "$LEAL" card replace --old "$ANA" --reader "sim:$T/ana2.json" --json
check_eq "replace exits 0" 0 "$RC"
check_eq "new card: purse 32.50, 50 points, random UID, agrees" "3250 50 True True desfire-ev3" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["points"], d["random_uid"], d["agrees"], d["technology"])' <<<"$OUT")"
ANA2=$(field card_id <<<"$OUT")
run_capture "$LEAL" card top-up 5 --reader "sim:$T/ana.json"
check_eq "the replaced card is refused" "leal: topping up the card: this card is blocked" "$ERR"
run_capture "$LEAL" card hotlist --program 7 --json
check_eq "the hot list: the old card replaced, by which card, and what it still holds" \
    "$ANA|replaced|the card was replaced by card $ANA2 and still holds 32.50 EUR and 50 points, which the ledger moved to that card: keep it|desk" \
    "$(events cards <<<"$OUT")"
run_capture "$LEAL" card erase --reader "sim:$T/ana2.json"
check_eq "erase needs --yes without a terminal (exit 2)" 2 "$RC"
run_capture "$LEAL" card erase --yes --reader "sim:$T/ana2.json"
check_match "erase refuses money on the card" "holds money" "$ERR"

"$CARDSIM" new --type desfire-ev1 --uid 04aabbccddeeff -o "$T/luis.json" >/dev/null
"$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" >/dev/null
run_capture "$LEAL" card erase --yes --reader "sim:$T/luis.json"
check_match "erase a card without money" "^erased card [0-9]{12}: factory state" "$OUT"
run_capture "$LEAL" card info --reader "sim:$T/luis.json"
check_match "erased card has no application" "applications: none" "$(echo $OUT)"

# One exit-code rule for issue, top-up and read (issue 10 section 5): 0 done,
# 1 failed or the card and the ledger differ, 2 usage. Points posted by hand
# before the card exists leave it differing.
"$LEAL" customer add --program 7 --name Pilar >/dev/null
"$LEAL" ledger post --account "$(acct 4)" --asset PTS --amount 30 --reason "regalo" --operator Marta >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04cafe00000004 -o "$T/pilar.json" >/dev/null
run_capture "$LEAL" card issue --customer 4 --reader "sim:$T/pilar.json"
check_eq "issue onto a differing account exits 1, saying why in words" \
    "1|ledger       DIFFERS: the ledger has 30 points the card does not (1 entry, posted by hand on $(date -u +%F)); run leal card sync" \
    "$RC|$(grep '^ledger' <<<"$OUT")"
run_capture "$LEAL" card top-up 5 --reader "sim:$T/pilar.json" --json
check_eq "top-up of a differing card exits 1 (and tops up)" "1|500 False" \
    "$RC|$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["agrees"])' <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/pilar.json"
check_eq "read of a differing card exits 1" 1 "$RC"
run_capture "$LEAL" account show "$(acct 4)" --json
check_eq "the ledger holds the top-up and the points" "500 30" \
    "$($PY -c 'import json,sys; b=json.load(sys.stdin)["balances"]; print(b["EUR"], b["PTS"])' <<<"$OUT")"
run_capture "$LEAL" card top-up 5 --reader "sim:$T/pilar.json" --reader "sim:$T/pilar.json"
check_eq "usage error exits 2" 2 "$RC"

# A customer of a program the keystore does not hold gets no card made with
# program 7's keys (issue 10 section 4); welcome points far beyond the
# program's limit are refused before the card is touched.
"$LEAL" program create --code luna --name Luna --id 9 >/dev/null
"$LEAL" customer add --program 9 --name Lola >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04cafe00000005 -o "$T/lola.json" >/dev/null
blank=$(sha256sum <"$T/lola.json")
run_capture "$LEAL" card issue --customer 5 --reader "sim:$T/lola.json"
check_eq "another program's customer: refused, exit 2" \
    "2|leal: account $(acct 5) belongs to program 9, which this keystore does not hold (it holds program 7): its cards need that program's keys; nothing was written" \
    "$RC|$ERR"
check_eq "... the blank card untouched" "$blank" "$(sha256sum <"$T/lola.json")"
check_eq "... no card in the ledger" 0 "$(sqlite3 "$XDG_DATA_HOME/leal/ledger.db" "select count(*) from card where account_id = $(acct 5)")"
"$LEAL" customer add --program 7 --name Rosa >/dev/null
run_capture "$LEAL" card issue --customer 6 --welcome-points 99999999 --reader "sim:$T/lola.json"
check_eq "99,999,999 welcome points refused" \
    "2|leal: --welcome-points 99999999: program 7 allows 100000 PTS in one operation: over the program's limit for one operation; check the amount, or confirm with --over-limit" \
    "$RC|$ERR"
check_eq "... the blank card untouched" "$blank" "$(sha256sum <"$T/lola.json")"
run_capture "$LEAL" card issue --customer 6 --welcome-points 150000 --over-limit --reader "sim:$T/lola.json" --json
check_eq "--over-limit confirms them" "0|150000" "$RC|$(field points <<<"$OUT")"
ROSA=$(field card_id <<<"$OUT")
run_capture "$LEAL" card block "$ROSA" --reason "prueba" --json
check_eq "block --json" "0|{\"card_id\":$ROSA,\"status\":\"blocked\"}" "$RC|$OUT"
run_capture "$LEAL" card unblock "$ROSA" --reason "prueba" --json
check_eq "unblock --json" "0|{\"card_id\":$ROSA,\"status\":\"active\"}" "$RC|$OUT"

# Issue 10 §5: 40 points posted by hand before Luis's card is made. The read
# says why card and ledger differ, in words; leal card sync brings the card to
# the ledger, once.
"$LEAL" ledger post --account "$(acct 2)" --asset PTS --amount 40 --reason "spring campaign" --operator Marta >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04aabbccddee01 -o "$T/luis3.json" >/dev/null
"$LEAL" card issue --customer 2 --reader "sim:$T/luis3.json" --welcome-points 5 >/dev/null
run_capture "$LEAL" card read --reader "sim:$T/luis3.json"
check_eq "read explains the difference in words" \
    "1|ledger       DIFFERS: the ledger has 40 points the card does not (1 entry, posted by hand on $(date -u +%F)); run leal card sync" \
    "$RC|$(grep '^ledger ' <<<"$OUT")"
syncd() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["result"], d["synced_points"], d["points"], d["agrees"], d["round_trips"])'; }
run_capture "$LEAL" card sync --reader "sim:$T/luis3.json" --json
check_eq "sync brings the 40 points: 45 on the card, agreeing (9 + 3 RT)" "0|synced 40 45 True 12" "$RC|$(syncd <<<"$OUT")"
run_capture "$LEAL" card sync --reader "sim:$T/luis3.json" --json
check_eq "sync again: nothing to bring" "0|synced 0 45 True 9" "$RC|$(syncd <<<"$OUT")"
run_capture "$LEAL" card sync --reader "sim:$T/luis3.json"
check_match "sync says it in words" "^ledger       agrees$" "$OUT"
run_capture "$LEAL" card sync --reader "sim:$T/ana.json"
check_eq "a replaced card is not synced" \
    "1|leal: card $ANA is replaced in the ledger: nothing to sync it with; nothing was written" "$RC|$ERR"

# --- pcscd --------------------------------------------------------------------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    "$CARDSIM" new --type desfire-ev3 --uid 04010203040506 -o "$T/marta.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/marta.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    run_capture "$LEAL" card issue --customer 3 --reader "pcsc:$PCSC_READER" --topup 7,50
    check_eq "issue through pcscd without --allow-virtual is refused" 1 "$RC"
    run_capture "$LEAL" card issue --customer 3 --reader "pcsc:$PCSC_READER" --allow-virtual --topup 7,50 --welcome-points 5
    check_eq "issue through pcscd" 0 "$RC"
    check_match "issued through pcscd: purse" "^purse        7.50$" "$OUT"
    MARTA=$("$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual --json | field card_id)
    run_capture "$LEAL" card top-up 2,50 --reader "pcsc:$PCSC_READER" --allow-virtual --json
    check_eq "top-up through pcscd: purse, taps, round trips (LAYOUT.md 2.7, 2.9, 2.10, 4.4: 9 + the EV3's TMC 1 + 8 + its layout-3 state write 1)" "1000 2 19" \
        "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["taps"], d["round_trips"])' <<<"$OUT")"
    run_capture "$LEAL" card erase --yes --reader "pcsc:$PCSC_READER" --allow-virtual
    check_eq "erase through pcscd refuses a card with money" \
        "1|leal: card $MARTA holds money; replace it ('leal card replace') or spend it first" "$RC|$ERR"
    run_capture "$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual
    PCSC_READ=$OUT
    kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
    run_capture "$LEAL" card read --reader "sim:$T/marta.json"
    check_eq "read through pcscd equals read through sim:" "$PCSC_READ" "$OUT"
    # Marta's card is lost: a new card in the same reader takes it over.
    "$LEAL" card block "$MARTA" --reason "lost" >/dev/null
    pcscd_wait absent || fail "card gone from pcscd" "$(pcscd_card_state)"
    "$CARDSIM" new --type desfire-ev1 --uid 04010203040507 -o "$T/marta2.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/marta2.json" 2>"$T/serve2.log" &
    SIM_PID=$!
    pcscd_wait present || fail "second card present in pcscd" "$(pcscd_card_state)"
    run_capture "$LEAL" card replace --old "$MARTA" --reader "pcsc:$PCSC_READER" --allow-virtual --json
    check_eq "replace through pcscd: purse 10.00 and 5 points move, card and ledger agree" \
        "0 1000 5 True" \
        "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(0, d["purse_cents"], d["points"], d["agrees"])' <<<"$OUT")"
    kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
    # A card without money is erased through pcscd.
    pcscd_wait absent || fail "card gone from pcscd" "$(pcscd_card_state)"
    "$CARDSIM" new --type desfire-ev1 --uid 04010203040508 -o "$T/luis2.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/luis2.json" 2>"$T/serve3.log" &
    SIM_PID=$!
    pcscd_wait present || fail "third card present in pcscd" "$(pcscd_card_state)"
    "$LEAL" card issue --customer 2 --reader "pcsc:$PCSC_READER" --allow-virtual >/dev/null
    run_capture "$LEAL" card erase --yes --reader "pcsc:$PCSC_READER" --allow-virtual
    check_match "erase through pcscd" "^erased card [0-9]{12}: factory state" "$OUT"
    kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
    run_capture "$LEAL" card info --reader "sim:$T/luis2.json"
    check_match "the card erased through pcscd has no application left" "applications: none" "$(echo $OUT)"
    # Issue 10 §1: a copy of a card restored after a top-up is behind the
    # ledger: blocked with why, refused for a top-up, the ledger unchanged.
    serve_vpcd() {
        "$CARDSIM" serve --vpcd "$VPCD_PORT" "$1" 2>>"$T/serve4.log" &
        SIM_PID=$!
        pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    }
    stop_vpcd() {
        kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
        pcscd_wait absent || fail "card gone from pcscd" "$(pcscd_card_state)"
    }
    pcscd_wait absent || fail "card gone from pcscd" "$(pcscd_card_state)"
    "$CARDSIM" new --type desfire-ev1 --uid 04010203040509 -o "$T/copy.json" >/dev/null
    serve_vpcd "$T/copy.json"
    COPY=$("$LEAL" card issue --customer 2 --reader "pcsc:$PCSC_READER" --allow-virtual --topup 5 --json | field card_id)
    stop_vpcd
    cp "$T/copy.json" "$T/copy-dump.json"
    serve_vpcd "$T/copy.json"
    run_capture "$LEAL" card top-up 5 --reader "pcsc:$PCSC_READER" --allow-virtual
    check_match "top-up through pcscd before the copy is restored" "^purse        10.00$" "$OUT"
    stop_vpcd
    cp "$T/copy-dump.json" "$T/copy.json"
    serve_vpcd "$T/copy.json"
    WHY="its counter shows 1 taps, fewer than the 2 the ledger saw: a restored copy or a clone"
    run_capture "$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual --operator marta
    check_eq "a restored copy read through pcscd is blocked with why" \
        "1|leal: card $COPY is blocked: $WHY; nothing was posted; keep the card ('leal card history $COPY' shows why)" "$RC|$ERR"
    run_capture "$LEAL" card top-up 5 --reader "pcsc:$PCSC_READER" --allow-virtual
    check_eq "the restored copy takes no top-up, and says why" \
        "1|leal: card $COPY is blocked: $WHY; nothing was posted; keep the card ('leal card history $COPY' shows why)" "$RC|$ERR"
    stop_vpcd
    run_capture "$LEAL" card history "$COPY" --json
    check_eq "its history: blocked with why and who" "$COPY|blocked|$WHY|marta" \
        "$($PY -c 'import json,sys; e=json.load(sys.stdin)["events"][-1]; print("|".join([str(e["card_id"]), e["status"], e["reason"], e["operator"]]))' <<<"$OUT")"
    run_capture "$LEAL" account show "$(acct 2)" --json
    check_eq "the ledger keeps 10.00 EUR for it" "1000" \
        "$($PY -c 'import json,sys; print(json.load(sys.stdin)["balances"]["EUR"])' <<<"$OUT")"
    run_capture "$LEAL" ledger verify
    check_eq "the ledger verifies after the verdict" 0 "$RC"
    # Issue 10 §1: the old card presented first at a replacement is emptied in
    # the same operation, then the new card takes the balances from the ledger.
    "$CARDSIM" new --type desfire-ev1 --uid 0401020304050a -o "$T/old.json" >/dev/null
    "$CARDSIM" new --type desfire-ev1 --uid 0401020304050b -o "$T/new.json" >/dev/null
    serve_vpcd "$T/old.json"
    OLD=$("$LEAL" card issue --customer 3 --reader "pcsc:$PCSC_READER" --allow-virtual --topup 3 --welcome-points 2 --json | field card_id)
    "$LEAL" card replace --old "$OLD" --reader "pcsc:$PCSC_READER" --allow-virtual --timeout 30 --json \
        >"$T/replace.out" 2>"$T/replace.err" &
    RPID=$!
    for _ in $(seq 300); do grep -q "present the new card" "$T/replace.err" && break; sleep 0.1; done
    check_eq "replace with the old card at the desk: emptied first" \
        "card $OLD emptied (3.00 EUR and 2 points taken off it; the ledger keeps them for the new card): remove it and present the new card" \
        "$(cat "$T/replace.err")"
    stop_vpcd
    serve_vpcd "$T/new.json"
    wait "$RPID"
    check_eq "... and the new card takes 3.00 and 2 points from the ledger" "0|3.00 2 True" \
        "$?|$($PY -c 'import json,sys; d=json.load(sys.stdin); print("%d.%02d" % divmod(d["purse_cents"], 100), d["points"], d["agrees"])' <"$T/replace.out")"
    stop_vpcd
    run_capture "$LEAL" card read --reader "sim:$T/old.json"
    check_eq "the old card holds nothing and agrees" "0|purse        0.00|points       0|ledger       agrees" \
        "$RC|$(grep -E '^(purse|points|ledger) ' <<<"$OUT" | paste -sd'|')"
    run_capture "$LEAL" card history "$OLD" --json
    check_eq "its history: emptied at the desk, then replaced" \
        "lost|emptied at the desk for its replacement / replaced|replaced by card $($PY -c 'import json,sys; print(json.load(sys.stdin)["card_id"])' <"$T/replace.out")" \
        "$($PY -c 'import json,sys; print(" / ".join("%s|%s" % (e["status"], e["reason"]) for e in json.load(sys.stdin)["events"][-2:]))' <<<"$OUT")"
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi

# --- libnfc, and another implementation --------------------------------------
# The card file behind an emulated PN532 on a pty; libnfc finds it through
# LIBNFC_DEVICE.
serve_pn532() {
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" >>"$T/pn532.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
    export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
}
"$CARDSIM" new --type desfire-ev1 --uid 04776655443322 -o "$T/pn.json" >/dev/null
serve_pn532 "$T/pn.json"
run_capture "$LEAL" card issue --customer 3 --reader "nfc:$LIBNFC_DEVICE" --welcome-points 7 --json
check_eq "issue through libnfc and the PN532" 0 "$RC"
PN=$(field card_id <<<"$OUT")
# The terminal key, derived outside leal: the master from the keystore (read by
# keystore_decode.py), M = UID || AID 4C4541 || "LEAL" || issuer || program
# (KEYS.md); 01 || M is 23 bytes, so AN10922's padding to 32 bytes is exactly
# CMAC's own padding and `openssl mac` computes it.
DEC=$(PASS="$LEAL_PASSPHRASE" $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
MASTER=$(sed -n 's/^key terminal 1 //p' <<<"$DEC")
ISSUER=$(sed -n 's/^issuer_id //p' <<<"$DEC")
M=01047766554433224c4541$(printf '4c45414c')${ISSUER}00000007
KEY=$($PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$M" |
    openssl mac -cipher AES-128-CBC -macopt "hexkey:$MASTER" CMAC | tr 'A-F' 'a-f')
check_match "openssl mac derived a key" "^[0-9a-f]{32}$" "$KEY"
run_capture "$LEAL_BUILD/tests/interop/freefare_identity" "$KEY" 1
check_eq "libfreefare authenticates with the derived key and reads the card" 0 "$RC"
check_eq "libfreefare reads leal's identity and state (layout version 2: state 02, LAYOUT.md 4.1)" "uid 04776655443322
identity version 1 type 1 card $PN issuer $ISSUER program 7 keyset 1 kind 1
state version 2 card $PN seq 0 points 7" "$OUT"
run_capture "$LEAL_BUILD/tests/interop/freefare_identity" 00112233445566778899aabbccddeeff 1
check_eq "a wrong key is refused by the card" 1 "$RC"
run_capture "$LEAL" card top-up 4 --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "top-up through libnfc: purse, taps, round trips" "400 1 17" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["purse_cents"], d["taps"], d["round_trips"])' <<<"$OUT")"
run_capture "$LEAL" card erase --yes --reader "nfc:$LIBNFC_DEVICE"
check_eq "erase through libnfc refuses a card with money" \
    "1|leal: card $PN holds money; replace it ('leal card replace') or spend it first" "$RC|$ERR"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
# Replace and erase through libnfc: the card is replaced by another one on
# the PN532, then a card without money is issued and erased.
"$LEAL" card block "$PN" --reason "broken" >/dev/null
"$CARDSIM" new --type desfire-ev3 --uid 04776655443323 -o "$T/pn2.json" >/dev/null
serve_pn532 "$T/pn2.json"
run_capture "$LEAL" card replace --old "$PN" --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "replace through libnfc: purse 4.00 and 7 points move" "desfire-ev3 400 7 True" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["technology"], d["purse_cents"], d["points"], d["agrees"])' <<<"$OUT")"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
"$CARDSIM" new --type desfire-ev1 --uid 04776655443324 -o "$T/pn3.json" >/dev/null
serve_pn532 "$T/pn3.json"
"$LEAL" card issue --customer 2 --reader "nfc:$LIBNFC_DEVICE" >/dev/null
run_capture "$LEAL" card erase --yes --reader "nfc:$LIBNFC_DEVICE"
check_match "erase through libnfc" "^erased card [0-9]{12}: factory state" "$OUT"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=

run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
