#!/bin/bash
# desfire_pcsc.sh - the virtual DESFire behind the real pcscd: pcsc-tools'
# scriptor (an independent client) gets GetVersion's three-part answer with
# 91AF/9100 chaining; the reader's own answers (FF CA); `leal readers` and
# `leal card info` through pcsc: equal sim: for the same card; the virtual
# reader is refused without --allow-virtual; taps; a card torn mid-exchange.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

TMP=$(mktemp -d)
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

if ! pcscd_start "$TMP"; then
    fail "a pcscd with a vpcd reader" "no pcscd could be started or found"
    finish
    exit 1
fi
pass "pcscd with a vpcd reader on port $VPCD_PORT"

CARD=$TMP/card.json
run_capture "$CARDSIM" new --type desfire-ev1-4k --uid 04112233445566 -o "$CARD"
check_eq "leal-cardsim new" "0" "$RC"
run_capture "$CARDSIM" new --type desfire-ev1-4k -o "$CARD"
check_eq "new refuses to overwrite a card" "2" "$RC"
check_match "new says how to replace" "--force" "$ERR"

"$CARDSIM" serve --vpcd "$VPCD_PORT" --control "$TMP/ctl" "$CARD" 2>"$TMP/sim.log" &
SIM_PID=$!
if pcscd_wait present; then pass "card present in pcscd"; else fail "card present in pcscd" "$(pcscd_card_state)"; fi

# scriptor: reset, GetVersion in three frames, GET DATA UID and ATS.
cat >"$TMP/apdus" <<'APDU'
reset
90 60 00 00 00
90 AF 00 00 00
90 AF 00 00 00
FF CA 00 00 00
FF CA 01 00 00
APDU
OUT=$(timeout 20 scriptor -r "$PCSC_READER" "$TMP/apdus" 2>&1)
ANSWERS=$(printf '%s\n' "$OUT" | sed -n 's/^< \(OK: \)\{0,1\}\([0-9A-F ]*\).*/\2/p' | sed 's/ *$//')
EXPECTED="3B 81 80 01 80 80
04 01 01 01 00 18 05 91 AF
04 01 01 01 04 18 05 91 AF
04 11 22 33 44 55 66 BA 44 9F 50 10 01 26 91 00
04 11 22 33 44 55 66 90 00
80 90 00"
check_eq "scriptor: ATR, GetVersion 91AF/91AF/9100, UID, ATS historical bytes" "$EXPECTED" "$ANSWERS"

run_capture "$LEAL" readers
check_match "leal readers lists the virtual reader with its card" \
    "^pcsc:Virtual PCD 00 00  \(virtual: --allow-virtual\)  \[card present\]$" "$OUT"

run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER"
check_eq "virtual reader refused without --allow-virtual (exit 1)" "1" "$RC"
check_match "and says why" "virtual \(test\) reader; pass --allow-virtual" "$ERR"

run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
PCSC_OUT=$OUT
check_eq "card info through pcscd" "0" "$RC"
run_capture "$LEAL" card info --reader "sim:$CARD"
check_eq "card info through sim:" "0" "$RC"
check_eq "pcsc: and sim: print the same" "$PCSC_OUT" "$OUT"
check_match "card info: type, UID, version, memory, applications" \
    "type: MIFARE DESFire EV1.*uid: 04112233445566.*version: hardware 04 01 01 01 00 18 05.*free memory: 4864 bytes.*applications: none" \
    "$(echo $OUT)"
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual --json
J1=$OUT
run_capture "$LEAL" card info --reader "sim:$CARD" --json
check_eq "pcsc: and sim: --json the same" "$J1" "$OUT"
check_match "--json" '"free_memory":4864,"applications":\[\]' "$OUT"

run_capture "$LEAL" card info --reader "pcsc:No Such Reader" --allow-virtual
check_eq "unknown reader: exit 1" "1" "$RC"
check_match "unknown reader: says so" "no card reader found" "$ERR"
run_capture "$LEAL" card info --reader "nfcx:foo"
check_eq "bad reader spec: exit 2" "2" "$RC"

# Taps: remove, the reader is empty; insert, the card is back.
echo remove >"$TMP/ctl"
if pcscd_wait absent; then pass "remove: card absent"; else fail "remove: card absent" "$(pcscd_card_state)"; fi
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual --timeout 0
check_eq "no card: exit 1" "1" "$RC"
check_match "no card: says so" "no card on the reader" "$ERR"
echo insert >"$TMP/ctl"
if pcscd_wait present; then pass "insert: card present"; else fail "insert: card present" "$(pcscd_card_state)"; fi

# The card leaves the field mid-exchange: GetVersion executes, no answer.
sim_ctl "$TMP/ctl" "tear before-answer 1"
sleep 0.3
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
check_eq "torn exchange: exit 1" "1" "$RC"
check_match "torn exchange: card removed during the operation" "removed during the operation" "$ERR"
if pcscd_wait absent; then pass "torn card is out of the field"; else fail "torn card is out of the field" "$(pcscd_card_state)"; fi
echo insert >"$TMP/ctl"
pcscd_wait present
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
check_eq "after re-insert the card answers as before" "$PCSC_OUT" "$OUT"

# Swap in another card while serving (another customer taps), and back.
"$CARDSIM" new --type desfire-ev3-2k --uid 04000000000001 -o "$TMP/card2.json"
sim_ctl "$TMP/ctl" "load $TMP/card2.json"
sleep 1 # the simulator has the new card; pcscd must see it leave and come back
pcscd_wait present
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
check_match "load: the other card answers" "type: MIFARE DESFire EV3.*uid: 04000000000001" "$(echo $OUT)"
sim_ctl "$TMP/ctl" "load $CARD"
sleep 1 # the simulator has the new card; pcscd must see it leave and come back
pcscd_wait present
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
check_eq "load: the first card is back as it was" "$PCSC_OUT" "$OUT"

# Tearing through pcscd (a sample; every point is covered in-process by
# desfire_tear_test): a value file, a debit, a commit.
apdus() { # apdus NAME APDU... -> the R-APDUs scriptor got, one per line
    local f=$TMP/$1
    shift
    printf '%s\n' "$@" >"$f"
    timeout 20 scriptor -r "$PCSC_READER" "$f" 2>&1 | sed -n 's/^< \([0-9A-F ]*\).*/\1/p' | sed 's/ *$//'
}
SELECT="90 5A 00 00 03 01 00 00 00"
GETVALUE="90 6C 00 00 01 02 00"
DEBIT5="90 DC 00 00 05 02 05 00 00 00 00"
COMMIT="90 C7 00 00 00"
OUT=$(apdus setup "90 CA 00 00 05 01 00 00 0F 81 00" "$SELECT" \
    "90 CC 00 00 11 02 00 EE EE 00 00 00 00 E8 03 00 00 64 00 00 00 00 00" "$GETVALUE")
check_eq "value file through pcscd" "91 00
91 00
91 00
64 00 00 00 91 00" "$OUT"
tear_sample() { # tear_sample NAME TEAR EXPECTED-VALUE
    sim_ctl "$TMP/ctl" "tear $2"
    sleep 0.3
    apdus "$1-run" "$SELECT" "$DEBIT5" "$COMMIT" >/dev/null
    if pcscd_wait absent; then pass "$1: torn"; else fail "$1: torn" "$(pcscd_card_state)"; fi
    echo insert >"$TMP/ctl"
    pcscd_wait present
    check_eq "$1: value afterwards" "91 00
$3 91 00" "$(apdus "$1-check" "$SELECT" "$GETVALUE")"
}
tear_sample "debit torn before its answer" "before-answer 2" "64 00 00 00"
tear_sample "commit torn before the commit record" "inside-commit 3 0" "64 00 00 00"
tear_sample "commit torn after the commit record" "inside-commit 3 1" "5F 00 00 00"
tear_sample "commit's answer lost" "before-answer 3" "5A 00 00 00"
tear_sample "commit never reached the card" "before-command 3" "5A 00 00 00"

# A plain ISO 7816-4 reader (scriptor, no DESFire commands) reads an issued
# card's free identity file: SELECT the DF by name, the EF 4C01 by FID, READ
# BINARY; the same 32 bytes as the native ReadData (LAYOUT.md 1.1, 2.3).
export XDG_DATA_HOME=$TMP/data LEAL_PASSPHRASE="desfire pcsc passphrase"
"$LEAL" keys init --issuer Pcsc --program 1 >/dev/null
"$LEAL" program create --code p --name Pcsc --id 1 >/dev/null
"$LEAL" customer add --program 1 --name Iso >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04000000000002 -o "$TMP/card3.json"
ISSUED=$("$LEAL" card issue --customer 1 --reader "sim:$TMP/card3.json" --json)
CARD_ID=$($PY -c 'import json,sys; print(json.load(sys.stdin)["card_id"])' <<<"$ISSUED")
sim_ctl "$TMP/ctl" "load $TMP/card3.json"
sleep 1 # the simulator has the new card; pcscd must see it leave and come back
pcscd_wait present
# scriptor prints 16 bytes a line: join each answer up to its " : status text".
apdus_long() { # apdus_long NAME APDU... -> one line per R-APDU
    local f=$TMP/$1
    shift
    printf '%s\n' "$@" >"$f"
    timeout 20 scriptor -r "$PCSC_READER" "$f" 2>&1 | awk '
        /^< / { r = substr($0, 3); on = 1 }
        on && !/^< / { r = r " " $0 }
        on && / : / { sub(/ : .*/, "", r); gsub(/ +/, " ", r); sub(/ $/, "", r); print r; on = 0 }'
}
ISO=$(apdus_long iso "00 A4 04 0C 07 F0 4C 45 41 4C 30 31" "00 A4 02 0C 02 4C 01" "00 B0 00 00 20" \
    "00 B0 00 00 21" "00 A4 02 0C 02 4C 03")
NATIVE=$(apdus_long native "90 5A 00 00 03 4C 45 41 00" "90 BD 00 00 07 01 00 00 00 20 00 00 00")
IDENT=$(sed -n 3p <<<"$ISO")
check_eq "ISO: DF by name, EF 4C01 by FID, 32 bytes, 6282 past the end, no EF 4C03" \
    "90 00
90 00
${IDENT}
${IDENT% 90 00} 62 82
6A 82" "$ISO"
check_eq "ISO READ BINARY = native ReadData" "91 00
${IDENT% 90 00} 91 00" "$NATIVE"
check_eq "no key: GetFileSettings of the purse, GetFileIDs, GetKeySettings answer 91 AE" "91 00
91 AE
91 00
91 AE
91 00
91 AE" "$(apdus_long closed "90 5A 00 00 03 4C 45 41 00" "90 F5 00 00 01 03 00" \
    "90 5A 00 00 03 4C 45 41 00" "90 6F 00 00 00" "90 5A 00 00 03 4C 45 41 00" "90 45 00 00 00")"
check_match "identity: version 1, type 1, this card id, DESFire EV1" \
    "^01 01 $(printf '%016X' "$CARD_ID" | sed 's/../& /g')[0-9A-F ]{27}01 00 " "$IDENT"

# EV2/EV3 at issuance (LEAL_ORIGINALITY_TEST_KEY from testlib.sh): a card whose
# originality signature is another key's is refused in one line, nothing
# written; the same card type signed with the trusted test key is issued.
"$LEAL" customer add --program 1 --name Fake >/dev/null
"$CARDSIM" new --type desfire-ev3 --uid 04000000000003 \
    --originality-key tests/vectors/originality_other_key.pem -o "$TMP/fake.json"
cp "$TMP/fake.json" "$TMP/fake.before"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$TMP/fake.json"
check_eq "not genuine: exit 1" "1" "$RC"
check_eq "not genuine: one line" "1" "$(printf '%s\n' "$ERR" | wc -l)"
check_match "not genuine: says so" "originality signature does not verify: not a genuine MIFARE DESFire" "$ERR"
if cmp -s "$TMP/fake.json" "$TMP/fake.before"; then pass "not genuine: card untouched"; else fail "not genuine: card untouched"; fi
"$CARDSIM" new --type desfire-ev3 --uid 04000000000004 -o "$TMP/real.json"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$TMP/real.json"
check_eq "genuine (test key): issued" "0" "$RC"

finish
