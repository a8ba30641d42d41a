#!/bin/bash
# qr_spend.sh - spending QR codes end to end (cardlayout/qr/QR.md "Spending
# code"): the reference phone makes its key, the host certifies it (`leal qr
# enrol`, a virtual card in the ledger), the phone shows codes with a counter
# that only goes up, zbarimg reads one from leal's PNG, `leal qr verify`
# accepts a code within the clock-skew window (to the second at its four
# edges) and refuses it outside with its reason, the phone stops past its
# refresh day, `leal qr revoke` puts the phone on the next package's hot
# list, and bad input is refused with one line.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
clear_of_midnight 90 UTC Europe/Madrid # the codes' issued day, reckoned once

program_fixture qrspend "qr spend test passphrase"
ACCT=$("$LEAL" customer add --program 7 --name Ana --json | field account)

run_capture "$LEAL" qr device keygen -o "$T/phone.key" --json
check_eq "device keygen exits 0" 0 "$RC"
PUB=$(printf '%s' "$OUT" | field public_key)
check_eq "the key is 32 bytes, 0600; KEY.pub holds its public key in hex" "32 600 $PUB" \
    "$(stat -c '%s %a' "$T/phone.key") $(cat "$T/phone.key.pub")"
check_eq "the public key is the private key's (python3-cryptography)" "$PUB" \
    "$($PY -c 'import sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
k = Ed25519PrivateKey.from_private_bytes(open(sys.argv[1], "rb").read())
print(k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex())' "$T/phone.key")"
run_capture "$LEAL" qr device keygen -o "$T/phone.key"
check_eq "keygen never overwrites a key: exit 1" 1 "$RC"

run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/phone.key.pub" -o "$T/phone.cert" \
    --cap-tx 15 --cap-day 40 --refresh-days 3 --json
check_eq "enrol exits 0" 0 "$RC"
VC=$(printf '%s' "$OUT" | field virtual_card)
TODAY=$(($(date -u +%s) / 86400))
check_eq "enrol --json: days, caps in cents" "$TODAY $((TODAY + 3)) 1500 4000" \
    "$(printf '%s' "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["issued_day"], d["expires_day"], d["cap_tx_cents"], d["cap_day_cents"])')"
check_eq "the certificate: 132 bytes, kind 2, the phone's public key at 36" "132 0102 $PUB" \
    "$(stat -c %s "$T/phone.cert") $(od -An -tx1 -N2 "$T/phone.cert" | tr -d ' ') $(od -An -tx1 -j36 -N32 "$T/phone.cert" | tr -d ' \n')"
check_eq "the ledger: the phone is an active virtual-qr card of kind 2 on the account" \
    "$ACCT|virtual-qr|active|2" \
    "$(q "select account_id, tech, status, layout_version from card where card_id = $VC")"

NOW=$(date -u +%s)
S=$((NOW / 30))
run_capture "$LEAL" qr device code --key "$T/phone.key" --cert "$T/phone.cert" --at "$NOW" --json
check_eq "device code exits 0, counter 1, this step" "0 1 $S" \
    "$RC $(printf '%s' "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["counter"], d["time_step"])')"
CODE=$(printf '%s' "$OUT" | field text)
check_match "the code: LQ: and 306 Base45 characters" '^LQ:[0-9A-Z $%*+./:-]{306}$' "$CODE"
run_capture "$LEAL" qr device code --key "$T/phone.key" --cert "$T/phone.cert" --at "$NOW" \
    -o "$T/phone.png" --json
check_eq "the next code has counter 2 (KEY.counter)" "2 2" \
    "$(printf '%s' "$OUT" | field counter) $(tr -d '\n' <"$T/phone.key.counter")"
CODE2=$(printf '%s' "$OUT" | field text)
check_eq "zbarimg reads the phone's PNG to the exact text" "$CODE2" "$(zbarimg --raw -q "$T/phone.png" 2>/dev/null)"

run_capture "$LEAL" qr verify "$CODE" --at "$NOW" --json
check_eq "verify: a spending code, caps, step, counter" \
    "0 {\"verified\":true,\"kind\":\"spending\",\"program\":7,\"account\":$ACCT,\"virtual_card\":$VC,\"key_version\":1,\"issued_day\":$TODAY,\"expires_day\":$((TODAY + 3)),\"cap_tx\":\"15.00\",\"cap_day\":\"40.00\",\"time_step\":$S,\"counter\":1}" \
    "$RC $OUT"
# The skew window: the terminal's step within 3 of the code's, either way.
for at in $(((S - 3) * 30)) $(((S + 3) * 30 + 29)); do
    run_capture "$LEAL" qr verify "$CODE" --at "$at"
    check_eq "accepted with the terminal at step $((at / 30 - S)) from the code's" 0 "$RC"
done
run_capture "$LEAL" qr verify "$CODE" --at $(((S + 4) * 30))
check_eq "refused 4 steps later: exit 1, expired" \
    "1 leal: QR code refused: QR code has expired; the customer gets a new one at the desk or in the app" \
    "$RC $ERR"
run_capture "$LEAL" qr verify "$CODE" --at $(((S - 4) * 30 + 29))
check_eq "refused with the phone 4 steps ahead: exit 1, not valid yet" \
    "1 leal: QR code refused: QR code is not valid yet (dated ahead of this terminal's clock); check the clock" \
    "$RC $ERR"

run_capture "$LEAL" qr device code --key "$T/phone.key" --cert "$T/phone.cert" \
    --at $(((TODAY + 3) * 86400))
check_eq "the phone shows no code on its refresh day: exit 1, one line" "1 1" \
    "$RC $(printf '%s\n' "$ERR" | wc -l)"
check_match "it says to enrol again" "enrol again" "$ERR"

run_capture "$LEAL" qr revoke "$VC" --reason "phone lost"
check_eq "revoke exits 0" 0 "$RC"
check_eq "the phone's virtual card is lost" "lost" "$(q "select status from card where card_id = $VC")"
"$LEAL" terminal package --terminal 1 -o "$T/p.lpkg" >/dev/null
check_eq "the revoked phone is on the terminal package's hot list (lost)" "1" \
    "$($PY -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
r, h = struct.unpack(">II", d[36:44])
hot = [struct.unpack(">QB", d[60 + r + 9 * i:69 + r + 9 * i]) for i in range(h)]
print(sum(1 for c, why in hot if c == int(sys.argv[2]) and why == 2))' "$T/p.lpkg" "$VC")"

printf 'zz\n' >"$T/bad.pub"
run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/bad.pub" -o "$T/x.cert"
check_eq "enrol with a file that is no public key: exit 2, no certificate" "2 no" \
    "$RC $([ -e "$T/x.cert" ] && echo yes || echo no)"
run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/phone.key.pub" -o "$T/x.cert" \
    --cap-tx 50 --cap-day 20
check_eq "--cap-day below --cap-tx: exit 2" 2 "$RC"
run_capture "$LEAL" qr enrol --account "$ACCT" --pubkey "$T/phone.key.pub" -o "$T/x.cert" \
    --refresh-days 32
check_eq "--refresh-days 32: exit 2" 2 "$RC"
check_eq "the refused enrolments recorded no card: 1 virtual card" 1 \
    "$(q "select count(*) from card where tech = 'virtual-qr'")"
run_capture "$LEAL" qr revoke 123456789012 --reason x
check_eq "revoking an unknown card: exit 2" 2 "$RC"
run_capture "$LEAL" qr device code --key "$T/phone.cert" --cert "$T/phone.cert"
check_eq "a certificate given as the key: exit 2" 2 "$RC"

finish
