#!/bin/bash
# layout_python.sh - a second implementation written from cardlayout/LAYOUT.md alone
# (tests/integration/layout_records.py, python3-cryptography's AES-SIV) opens the
# sealed MIFARE Classic records of the golden vectors, which leal's C codecs
# reproduce byte for byte in tests/unit/records_test.c.
source tests/lib/testlib.sh
VEC=tests/vectors/leal_layout_records.txt
PY=tests/integration/layout_records.py

run_capture python3 "$PY" decode "$VEC"
check_eq "python decode exits 0" 0 "$RC"
check_eq "seal key derived from KEYS.md/LAYOUT.md inputs" "seal_key_matches = True" \
    "$(grep '^seal_key_matches' <<<"$OUT")"
check_eq "identity opens and its Ed25519 signature verifies" \
    "identity = version 1 type 1 card 4294967362 issuer 513867777 program 7 keyset 1 kind 4 flags 2 issued 20415" \
    "$(grep '^identity' <<<"$OUT")"
check_eq "state slot 0" \
    "slot0 = seq 5 points 1234 tier 2 stamps [3, 0, 9, 1] period 311 buckets [120, 80, 0, 45] purse 2500" \
    "$(grep '^slot0' <<<"$OUT")"
check_eq "state slot 1" \
    "slot1 = seq 6 points 1300 tier 2 stamps [3, 0, 9, 1] period 311 buckets [120, 80, 0, 45] purse 2500" \
    "$(grep '^slot1' <<<"$OUT")"
check_eq "current slot by seq" "current = slot 1 seq 6" "$(grep '^current' <<<"$OUT")"
check_eq "a record moved to the other slot is refused" "moved_record = refused" \
    "$(grep '^moved_record' <<<"$OUT")"

# The generator reproduces the committed vectors exactly (the file is not hand-edited).
run_capture python3 "$PY" generate
check_eq "golden vectors regenerate identically" "$(cat "$VEC")" "$OUT"

# A flipped bit in the sealed identity must make the Python reader fail.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed 's/^IDENTITY_SPAN = 0101\(.\)/IDENTITY_SPAN = 0101f/' "$VEC" >"$tmp"
run_capture python3 "$PY" decode "$tmp"
check_eq "tampered identity refused by the python reader" 1 "$RC"
check_match "the refusal is the SIV check" "InvalidTag" "$ERR"
finish
