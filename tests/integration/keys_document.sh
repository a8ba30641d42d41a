#!/bin/bash
# keys_document.sh - keys/KEYS.md is enough to implement from: a reader written
# from its "Files" section alone (keystore_decode.py, python3-cryptography)
# decrypts a keystore, a backup and a terminal bundle written by leal and
# recomputes every field leal shows (issuer, issuer id, programs, roles, who
# holds them, versions, created dates, fingerprints, bundle terminal, validity,
# journal version) exactly as `leal keys list --json` and `leal keys
# verify-bundle --json` print them; the bundle is the keystore's keys as KEYS.md
# says; and the derivation vectors with AIDs 4C4541 and 000000 regenerate from
# AN10922 identically (tests/integration/derive_aids.py).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
clear_of_midnight 30 # the bundle's expiry, reckoned once

T=$(mktemp -d /tmp/leal-keysdoc-XXXXXX)
trap 'rm -rf "$T"' EXIT
KS=$T/keystore
export LEAL_PASSPHRASE="correct horse battery"
export LEAL_BACKUP_PASSPHRASE="backup horse battery"
export LEAL_BUNDLE_PASSPHRASE="bundle horse battery"
DEC="$PY tests/integration/keystore_decode.py"

keys() { run_capture "$LEAL" keys "$@" --keystore "$KS"; }
# canon JSON: one canonical line (sorted members), so member order is not compared
canon() { $PY -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, ensure_ascii=False))'; }

# A keystore with two programs and several versions of several roles.
keys init --issuer "Café Sol" --program 7
check_eq "init exits 0" 0 "$RC"
keys add-program 9
check_eq "add-program exits 0" 0 "$RC"
for r in terminal terminal package journal classic-seal; do
    keys rotate "$r" --program 7
    check_eq "rotate $r (program 7) exits 0" 0 "$RC"
done
keys rotate qr --program 9
check_eq "rotate qr (program 9) exits 0" 0 "$RC"

keys list --json
check_eq "keys list --json exits 0" 0 "$RC"
LIST=$(canon <<<"$OUT")
run_capture env PASS="$LEAL_PASSPHRASE" $DEC --json "$KS"
check_eq "the KEYS.md reader opens the keystore" 0 "$RC"
check_eq "keystore: every field as leal keys list --json shows it" "$LIST" "$(canon <<<"$OUT")"
# The comparison is not vacuous: what it compares is there.
check_eq "keystore: programs 7 and 9" "7 9" "$($PY -c 'import json,sys; print(*[p["id"] for p in json.loads(sys.argv[1])["programs"]])' "$OUT")"
check_eq "keystore: versions of terminal in program 7" "1 2 3" \
    "$($PY -c 'import json,sys; print(*[v["version"] for r in json.loads(sys.argv[1])["programs"][0]["roles"] if r["role"] == "terminal" for v in r["versions"]])' "$OUT")"
check_match "keystore: fingerprints are 16 hex digits" '"fingerprint":"[0-9a-f]{16}"' "$OUT"

keys backup -o "$T/backup"
check_eq "backup exits 0" 0 "$RC"
run_capture env PASS="$LEAL_BACKUP_PASSPHRASE" $DEC --json "$T/backup"
check_eq "the KEYS.md reader opens the backup" 0 "$RC"
check_eq "backup: every field as leal keys list --json shows it" "$LIST" "$(canon <<<"$OUT")"
check_eq "backup: kind byte B" "B" "$(dd if="$T/backup" bs=1 skip=4 count=1 2>/dev/null)"

EXP=$(date -u -d '+30 days' +%F)
# A bundle is made for a terminal of the program in the ledger (terminal 3).
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 --db "$T/ledger.db" >/dev/null
"$LEAL" store add --program 7 --code c --name C --tz Europe/Madrid --db "$T/ledger.db" >/dev/null
for t in 1 2 3; do "$LEAL" terminal add --store 1 --name "till $t" --db "$T/ledger.db" >/dev/null; done
# Pinned to two server keys (version 2 of the bundle's encoding).
PIN_A="sha256//$(printf 'a%.0s' $(seq 32) | base64)" PIN_B="sha256//$(printf 'b%.0s' $(seq 32) | base64)"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$T/ledger.db" \
    --server-pin "$PIN_B" --server-pin "$PIN_A"
check_eq "export-terminal exits 0" 0 "$RC"
keys verify-bundle "$T/bundle" --json
check_eq "verify-bundle --json exits 0" 0 "$RC"
VERIFY=$(canon <<<"$OUT")
run_capture env PASS="$LEAL_BUNDLE_PASSPHRASE" $DEC --json "$T/bundle"
check_eq "the KEYS.md reader opens the bundle" 0 "$RC"
check_eq "bundle: every field as leal keys verify-bundle --json shows it" "$VERIFY" "$(canon <<<"$OUT")"
check_match "bundle: the two server pins in the order given" "\"server_pins\": \\[\"$PIN_B\", \"$PIN_A\"\\]" "$VERIFY"
check_match "bundle: terminal 3, program 7, valid through the day named, journal version 2" \
    "\"journal_version\": 2, .*\"program\": 7, \"server_pins\": \\[[^]]*\\], \"terminal\": 3, \"valid_through\": \"$EXP\"" "$VERIFY"
check_eq "bundle: its fingerprints are the keystore's (terminal 1-3, classic-a 1, classic-seal 1-2, package 1-2, qr 1)" \
    "$($PY -c '
import json, sys
ks = json.loads(sys.argv[1])["programs"][0]["roles"]
print(" ".join("%s:%d:%s" % (r["role"], v["version"], v["fingerprint"]) for name in ("terminal", "classic-a", "classic-seal", "package", "qr") for r in ks if r["role"] == name for v in r["versions"]))' "$LIST")" \
    "$($PY -c '
import json, sys
print(" ".join("%s:%d:%s" % (k["role"], k["version"], k["fingerprint"]) for k in json.loads(sys.argv[1])["keys"]))' "$VERIFY")"

run_capture env PASS="$LEAL_PASSPHRASE" BUNDLE_PASS="$LEAL_BUNDLE_PASSPHRASE" $DEC --bundle-of "$KS" "$T/bundle"
check_eq "bundle-of exits 0" 0 "$RC"
check_eq "the bundle is made from the keystore as KEYS.md says" \
    "issuer_id_equal yes
issuer_name_equal yes
terminal_every_version_equal yes
classic-a_every_version_equal yes
classic-seal_every_version_equal yes
package_public_keys_of_every_version yes
qr_public_keys_of_every_version yes
journal_version_is_current yes
journal_key_is_an10922_of_the_master yes
no_host_only_key_or_private_seed yes" "$OUT"

# The reader refuses what KEYS.md says to refuse.
run_capture env PASS="wrong passphrase" $DEC --json "$KS"
check_eq "wrong passphrase refused" "1 refused: wrong passphrase or altered file (GCM tag)" "$RC $ERR"
cp "$T/bundle" "$T/bundle-kind"
printf 'K' | dd of="$T/bundle-kind" bs=1 seek=4 conv=notrunc 2>/dev/null
run_capture env PASS="$LEAL_BUNDLE_PASSPHRASE" $DEC --json "$T/bundle-kind"
check_eq "the header is associated data: a bundle relabelled keystore is refused" \
    "1 refused: wrong passphrase or altered file (GCM tag)" "$RC $ERR"
cp "$KS" "$T/ks-n"
printf '\040' | dd of="$T/ks-n" bs=1 seek=9 conv=notrunc 2>/dev/null
run_capture env PASS="$LEAL_PASSPHRASE" $DEC --json "$T/ks-n"
check_eq "scrypt N = 2^32 refused before running scrypt" "1 refused: scrypt parameters are not format 1's (N 2^10 to 2^17, r 8, p 1)" "$RC $ERR"
cp "$KS" "$T/ks-p"
printf '\002' | dd of="$T/ks-p" bs=1 seek=11 conv=notrunc 2>/dev/null
run_capture env PASS="$LEAL_PASSPHRASE" $DEC --json "$T/ks-p"
check_eq "scrypt p = 2 refused too (format 1 has r = 8, p = 1)" "1 refused: scrypt parameters are not format 1's (N 2^10 to 2^17, r 8, p 1)" "$RC $ERR"
run_capture "$LEAL" keys list --keystore "$T/ks-p"
check_eq "leal refuses the same file" 1 "$RC"
head -c -1 "$KS" >"$T/ks-short"
run_capture env PASS="$LEAL_PASSPHRASE" $DEC --json "$T/ks-short"
check_eq "a file one byte short refused" "1 refused: file size does not match its length field" "$RC $ERR"

# Derivation vectors with leal's AID and the PICC AID, regenerated from AN10922.
run_capture $PY tests/integration/derive_aids.py
check_eq "derive_aids.py exits 0 (its AN10922 self-check passed)" 0 "$RC"
check_eq "tests/vectors/leal_derive_aids.txt regenerates identically" "$(cat tests/vectors/leal_derive_aids.txt)" "$OUT"
finish
