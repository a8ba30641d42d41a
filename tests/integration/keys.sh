#!/bin/bash
# keys.sh - `leal keys` end to end: init, list, rotate, add-program, backup,
# restore, export-terminal, verify-bundle; every bad-input case of issue 2
# with its exact one-line error, the file untouched after a failure, and no
# key byte in any output. An independent decoder (keystore_decode.py, written
# from KEYS.md with python3-cryptography) reads the files leal writes.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
clear_of_midnight 60 # the bundle's expiry, reckoned once

T=$(mktemp -d /tmp/leal-keys-XXXXXX)
trap 'rm -rf "$T"' EXIT
KS=$T/keystore
ALL_OUTPUT=$T/all-output
: >"$ALL_OUTPUT"
export LEAL_PASSPHRASE="correct horse battery"
export LEAL_BACKUP_PASSPHRASE="backup horse battery"
export LEAL_BUNDLE_PASSPHRASE="bundle horse battery"

# keys CMD... : runs leal keys with the test keystore; OUT/ERR/RC; keeps all output.
keys() {
    run_capture "$LEAL" keys "$@" --keystore "$KS"
    printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL_OUTPUT"
}
decode() { PASS="$2" $PY tests/integration/keystore_decode.py "$1"; }

keys init --issuer "Café Sol" --program 7
check_eq "init exits 0" 0 "$RC"
check_match "init names the keystore" "^created keystore $KS$" "$OUT"
check_eq "keystore mode is 0600" 600 "$(stat -c %a "$KS")"
DEC=$(decode "$KS" "$LEAL_PASSPHRASE")
check_match "independent decoder reads the issuer" "^issuer Café Sol$" "$DEC"
check_eq "one version of each of 12 roles" 12 "$(grep -c '^key .* 1 ' <<<"$DEC")"
ISSUER_ID=$(sed -n 's/^issuer_id //p' <<<"$DEC")
check_match "init prints the issuer id" "issuer id $ISSUER_ID\), program 7: 12 roles at version 1" "$OUT"

# The scrypt cost: the suites seal with N = 2^10 (testlib.sh's LEAL_SCRYPT_LOG2N);
# without the variable leal seals with the default, N = 2^17 (KEYS.md).
check_eq "LEAL_SCRYPT_LOG2N=10: kdf scrypt, N 2^10, r 8, p 1" "01 0a 08 01" "$(od -An -tx1 -j8 -N4 "$KS" | xargs)"
run_capture env -u LEAL_SCRYPT_LOG2N "$LEAL" keys init --issuer "Café Sol" --program 7 --keystore "$T/ks-default"
check_eq "without LEAL_SCRYPT_LOG2N: the default, N 2^17, r 8, p 1" "0 01 11 08 01" \
    "$RC $(od -An -tx1 -j8 -N4 "$T/ks-default" | xargs)"
check_match "the independent decoder opens it" "^issuer Café Sol$" "$(decode "$T/ks-default" "$LEAL_PASSPHRASE")"
for v in 9 18 1x; do
    run_capture env LEAL_SCRYPT_LOG2N=$v "$LEAL" keys init --issuer "Café Sol" --program 7 --keystore "$T/ks-$v"
    check_eq "LEAL_SCRYPT_LOG2N=$v refused, nothing written" \
        "2|leal: LEAL_SCRYPT_LOG2N=$v is not a whole number from 10 to 17; unset it for the default cost (see 'leal --help')|no file" \
        "$RC|$ERR|$([ -e "$T/ks-$v" ] && echo file || echo no file)"
done

keys init --issuer "Other" --program 8
check_eq "init over an existing keystore exits 2" 2 "$RC"
check_eq "init over an existing keystore says so" \
    "leal: keystore $KS already exists; refusing to overwrite it (to replace it, use 'leal keys restore --force')" "$ERR"

run_capture env LEAL_PASSPHRASE=short "$LEAL" keys init --issuer X --program 1 --keystore "$T/ks-short"
check_eq "short passphrase exits 2" 2 "$RC"
check_eq "short passphrase message" "leal: the keystore passphrase must have at least 8 characters" "$ERR"
check_eq "short passphrase writes nothing" "no" "$([ -e "$T/ks-short" ] && echo yes || echo no)"

keys list
check_eq "list exits 0" 0 "$RC"
check_match "list shows issuer" "^issuer     Café Sol$" "$OUT"
check_match "list shows issuer id" "^issuer id  $ISSUER_ID$" "$OUT"
check_match "list shows program" "^program 7$" "$OUT"
check_match "list shows terminal role held by terminals" "^  terminal      1 .* host, terminals$" "$OUT"
check_match "list shows purse-credit host only" "^  purse-credit  1 .* host only$" "$OUT"

keys rotate terminal
check_eq "rotate exits 0" 0 "$RC"
check_match "rotate reports version 2" "^program 7: terminal is now at version 2 \(fingerprint [0-9a-f]{16}\)" "$OUT"
DEC2=$(decode "$KS" "$LEAL_PASSPHRASE")
check_eq "rotation keeps version 1 unchanged" "$(grep '^key terminal 1 ' <<<"$DEC")" "$(grep '^key terminal 1 ' <<<"$DEC2")"
check_eq "rotation adds a different version 2" 1 "$(grep '^key terminal 2 ' <<<"$DEC2" | grep -vc "$(grep '^key terminal 1 ' <<<"$DEC" | cut -d' ' -f4)")"
keys list --json
check_eq "list --json is JSON with two terminal versions" "1 2 True" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin); r=[x for x in d["programs"][0]["roles"] if x["role"]=="terminal"][0]; print(*[v["version"] for v in r["versions"]], r["versions"][-1]["current"])' <<<"$OUT")"

keys rotate pincode
check_eq "unknown role exits 2" 2 "$RC"
check_match "unknown role names the roles" "^leal: unknown key role 'pincode'; roles: picc-master" "$ERR"
keys rotate terminal --program 99
check_eq "unknown program exits 2" 2 "$RC"
check_eq "unknown program message" "leal: program 99: unknown program; 'leal keys list' shows the programs" "$ERR"
keys add-program 9
check_eq "add-program exits 0" 0 "$RC"
keys add-program 9
check_eq "add-program twice exits 2" 2 "$RC"
check_eq "add-program twice message" "leal: program 9: a program with this id already exists" "$ERR"
keys rotate terminal
check_eq "rotate with two programs needs --program" 2 "$RC"
keys add-program 12x
check_eq "malformed program id exits 2" 2 "$RC"

# Wrong passphrase, damaged files: one line, non-zero, file byte-identical.
cp "$KS" "$T/ks.orig"
run_capture env LEAL_PASSPHRASE=wrong-passphrase "$LEAL" keys rotate qr --program 7 --keystore "$KS"
check_eq "wrong passphrase exits 1" 1 "$RC"
check_eq "wrong passphrase message" "leal: keystore $KS: wrong passphrase, or the file was altered" "$ERR"
check_eq "wrong passphrase leaves the keystore byte-identical" 0 "$(cmp -s "$KS" "$T/ks.orig"; echo $?)"

size=$(stat -c %s "$KS")
head -c $((size - 20)) "$KS" >"$T/ks-trunc"
run_capture "$LEAL" keys list --keystore "$T/ks-trunc"
check_eq "truncated keystore exits 1" 1 "$RC"
check_eq "truncated keystore message" "leal: keystore $T/ks-trunc: keystore file is damaged; restore it from a backup with 'leal keys restore'" "$ERR"
for off in 0 13 30 50 $((size - 1)); do
    cp "$KS" "$T/ks-flip"
    b=$(od -An -tu1 -j "$off" -N1 "$T/ks-flip" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 4)))" | dd of="$T/ks-flip" bs=1 seek="$off" conv=notrunc 2>/dev/null
    run_capture "$LEAL" keys list --keystore "$T/ks-flip"
    check_eq "bit flip at byte $off exits 1" 1 "$RC"
    check_eq "bit flip at byte $off is one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
    case $off in
    0) check_eq "flipped magic message" "leal: $T/ks-flip is not a leal keystore file" "$ERR" ;;
    *) check_match "bit flip at byte $off named" "^leal: keystore $T/ks-flip: (wrong passphrase, or the file was altered|keystore file is damaged)" "$ERR" ;;
    esac
done
cp "$KS" "$T/ks-future"
printf '\002' | dd of="$T/ks-future" bs=1 seek=5 conv=notrunc 2>/dev/null
run_capture "$LEAL" keys list --keystore "$T/ks-future"
check_eq "future format version message" "leal: keystore $T/ks-future: file was written by a newer leal; upgrade leal to read it" "$ERR"
run_capture "$LEAL" keys list --keystore "$T/none"
check_eq "missing keystore message" "leal: keystore $T/none does not exist; create it with 'leal keys init' or name it with --keystore" "$ERR"

# Backup and restore.
keys backup -o "$T/backup"
check_eq "backup exits 0" 0 "$RC"
check_eq "backup mode is 0600" 600 "$(stat -c %a "$T/backup")"
check_eq "backup holds the same keys" "$(decode "$KS" "$LEAL_PASSPHRASE")" "$(decode "$T/backup" "$LEAL_BACKUP_PASSPHRASE")"
keys backup -o "$T/backup"
check_eq "backup over an existing file exits 2" 2 "$RC"
run_capture env LEAL_BACKUP_PASSPHRASE="$LEAL_PASSPHRASE" "$LEAL" keys list --keystore "$T/backup"
check_eq "a backup is not a keystore" "leal: $T/backup is not a leal keystore file" "$ERR"

run_capture env LEAL_PASSPHRASE="restored passphrase" "$LEAL" keys restore "$T/backup" --keystore "$T/ks-restored"
check_eq "restore exits 0" 0 "$RC"
check_match "restore reports the issuer" "^restored keystore $T/ks-restored from $T/backup \(issuer Café Sol, issuer id $ISSUER_ID, programs: 2\)$" "$OUT"
check_eq "restored keystore holds the same keys" "$(decode "$KS" "$LEAL_PASSPHRASE")" "$(decode "$T/ks-restored" "restored passphrase")"
cp "$KS" "$T/ks.orig"
keys restore "$T/backup"
check_eq "restore over an existing keystore without --force exits 2" 2 "$RC"
check_eq "refused restore leaves the keystore byte-identical" 0 "$(cmp -s "$KS" "$T/ks.orig"; echo $?)"
head -c 100 "$T/backup" >"$T/backup-trunc"
run_capture "$LEAL" keys restore "$T/backup-trunc" --keystore "$T/ks-new"
check_eq "truncated backup exits 1" 1 "$RC"
check_eq "truncated backup message" "leal: backup $T/backup-trunc is damaged; use another copy of the backup" "$ERR"
check_eq "failed restore writes nothing" "no" "$([ -e "$T/ks-new" ] && echo yes || echo no)"
run_capture env LEAL_BACKUP_PASSPHRASE=wrong-passphrase "$LEAL" keys restore "$T/backup" --keystore "$T/ks-new"
check_eq "restore with a wrong backup passphrase message" "leal: backup $T/backup: wrong passphrase, or the file was altered" "$ERR"
check_eq "failed restore (wrong passphrase) writes nothing" "no" "$([ -e "$T/ks-new" ] && echo yes || echo no)"
cp "$KS" "$T/ks.orig"
cp "$T/backup" "$T/backup-flip"
# One bit of byte 60 flipped (writing a fixed 'X' there left the file unchanged
# whenever the ciphertext already held an 'X': 1 run in 256 passed a restore).
$PY -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[60] ^= 1; open(p, "wb").write(b)' \
    "$T/backup-flip"
check_eq "the altered backup differs from the backup" 1 "$(cmp -s "$T/backup" "$T/backup-flip"; echo $?)"
run_capture "$LEAL" keys restore "$T/backup-flip" --keystore "$KS" --force
check_eq "forced restore of an altered backup exits 1" 1 "$RC"
check_eq "forced restore of an altered backup leaves the keystore byte-identical" 0 "$(cmp -s "$KS" "$T/ks.orig"; echo $?)"

# Terminal bundles: only for a terminal the ledger knows, of the bundle's program.
EXP=$(date -u -d '+30 days' +%F)
DB=$T/ledger.db
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB"
check_eq "export-terminal without a ledger exits 2" 2 "$RC"
check_eq "export-terminal without a ledger says so" \
    "leal: ledger $DB does not exist; export-terminal checks the terminal id against the ledger: name it with --db" "$ERR"
check_eq "no ledger is created" "no" "$([ -e "$DB" ] && echo yes || echo no)"
"$LEAL" program create --code sol --name "Sol" --id 7 --points-per-euro 1 --db "$DB" >/dev/null
"$LEAL" program create --code luna --name "Luna" --id 8 --points-per-euro 1 --db "$DB" >/dev/null
"$LEAL" store add --program 7 --code c --name C --tz Europe/Madrid --db "$DB" >/dev/null
"$LEAL" store add --program 8 --code l --name L --tz Europe/Madrid --db "$DB" >/dev/null
for t in 1 2 3; do "$LEAL" terminal add --store 1 --name "till $t" --db "$DB" >/dev/null; done
"$LEAL" terminal add --store 2 --name "luna till" --db "$DB" >/dev/null
keys export-terminal --terminal 5 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB"
check_eq "export-terminal of a terminal the ledger does not know" \
    "2|leal: terminal 5 is not in the ledger $DB; add it with 'leal terminal add' and use the id it prints" "$RC|$ERR"
keys export-terminal --terminal 4 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB"
check_eq "export-terminal of another program's terminal" \
    "2|leal: terminal 4 belongs to program 8, not to program 7" "$RC|$ERR"
PIN_A="sha256//$(printf 'a%.0s' $(seq 32) | base64)" PIN_B="sha256//$(printf 'b%.0s' $(seq 32) | base64)"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB" --server-pin "${PIN_A%=}"
check_eq "a server pin that is not sha256// and 44 base64 characters: exit 2, one line" \
    "2|leal: --server-pin '${PIN_A%=}' is not sha256// and the base64 of 32 bytes (the 'terminal pin' line of leal serve) (see 'leal --help')" "$RC|$ERR"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB" --server-pin "${PIN_A%?=}F="
check_eq "a server pin whose padding hides bits: refused (one spelling per key)" \
    "2|leal: --server-pin '${PIN_A%?=}F=' is not sha256// and the base64 of 32 bytes (the 'terminal pin' line of leal serve) (see 'leal --help')" "$RC|$ERR"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB" --server-pin "$PIN_A" --server-pin "$PIN_A"
check_eq "the same server pin twice: refused" "2|leal: --server-pin $PIN_A is given twice (see 'leal --help')" "$RC|$ERR"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB" --server-pin "$PIN_A" --server-pin "$PIN_B" --server-pin "$PIN_A"
check_eq "three server pins: refused" \
    "2|leal: keys export-terminal takes at most 2 --server-pin (the server's key and the next one) (see 'leal --help')" "$RC|$ERR"
check_eq "refused bundles write nothing" "no" "$([ -e "$T/bundle" ] && echo yes || echo no)"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/bundle" --db "$DB"
check_eq "export-terminal exits 0" 0 "$RC"
check_eq "export-terminal message" "wrote terminal bundle $T/bundle: terminal 3, program 7, valid through $EXP (UTC)" "$OUT"
BDEC=$(decode "$T/bundle" "$LEAL_BUNDLE_PASSPHRASE")
KDEC_ALL=$(decode "$KS" "$LEAL_PASSPHRASE")
KDEC=$(awk '/^program 7$/ {f = 1; next} /^program / {f = 0} f' <<<"$KDEC_ALL")
check_eq "bundle carries both terminal versions" "$(grep '^key terminal ' <<<"$KDEC")" "$(grep '^key terminal ' <<<"$BDEC")"
check_eq "bundle carries classic-a and classic-seal" "$(grep -E '^key classic-(a|seal) ' <<<"$KDEC" | sed -n '1,2p')" "$(grep -E '^key classic-(a|seal) ' <<<"$BDEC")"
leaks=0
for role in picc-master app-master purse-credit journal classic-b mad-b tmac package qr; do
    for k in $(grep "^key $role " <<<"$KDEC" | cut -d' ' -f4); do
        grep -qi "$k" <<<"$BDEC" && leaks=$((leaks + 1))
    done
done
check_eq "bundle holds no host-only or private signing key" 0 "$leaks"
# The journal key is AN10922(journal master, "J" || issuer || program || terminal),
# and the public keys are those of the signing seeds: recomputed independently.
JM=$(grep '^key journal 1 ' <<<"$KDEC" | cut -d' ' -f4)
PKG=$(grep '^key package 1 ' <<<"$KDEC" | cut -d' ' -f4)
EXPECT=$($PY - "$JM" "$ISSUER_ID" "$PKG" <<'PY'
import sys
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
master, issuer, seed = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
m = b"J" + issuer + (7).to_bytes(4, "big") + (3).to_bytes(4, "big")
d = b"\x01" + m
d = d + b"\x80" + b"\x00" * (31 - len(d))  # AN10922: pad to 32 bytes
# AN10922 pads D to 32 bytes and uses the CMAC subkey K2 on the last block.
from cryptography.hazmat.primitives.ciphers import Cipher, modes
def ecb(k, b):
    e = Cipher(algorithms.AES(k), modes.ECB()).encryptor(); return e.update(b) + e.finalize()
def dbl(b):
    n = int.from_bytes(b, "big") << 1
    if n >> 128: n = (n ^ 0x87) & ((1 << 128) - 1)
    return n.to_bytes(16, "big")
k2 = dbl(dbl(ecb(master, bytes(16))))
last = bytes(a ^ b for a, b in zip(d[16:], k2))
x = ecb(master, d[:16])
x = ecb(master, bytes(a ^ b for a, b in zip(x, last)))
pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
print(x.hex(), pub.hex())
PY
)
check_eq "bundle journal key is AN10922 of the journal master" "$(cut -d' ' -f1 <<<"$EXPECT")" "$(sed -n 's/^key journal-derived 1 //p' <<<"$BDEC")"
check_eq "bundle package key is the public key of the package seed" "$(cut -d' ' -f2 <<<"$EXPECT")" "$(sed -n 's/^key package-public 1 //p' <<<"$BDEC")"

keys verify-bundle "$T/bundle" --issuer-id "$ISSUER_ID" --program 7
check_eq "verify-bundle exits 0" 0 "$RC"
check_match "verify-bundle shows terminal" "^terminal       3$" "$OUT"
check_match "verify-bundle shows validity" "^valid through  $EXP \(UTC\)$" "$OUT"
keys verify-bundle "$T/bundle" --issuer-id 0badc0de
check_eq "bundle from another issuer exits 1" 1 "$RC"
check_eq "bundle from another issuer message" "leal: bundle $T/bundle belongs to issuer $ISSUER_ID (Café Sol), not 0badc0de" "$ERR"
keys verify-bundle "$T/bundle" --program 9
check_eq "bundle for another program message" "leal: bundle $T/bundle belongs to program 7, not 9" "$ERR"
keys verify-bundle "$T/bundle" --at "$(date -u -d '+31 days' +%F)"
check_eq "expired bundle exits 1" 1 "$RC"
check_eq "expired bundle message" "leal: bundle $T/bundle expired after $EXP; export a new one for terminal 3" "$ERR"
run_capture env LEAL_BUNDLE_PASSPHRASE=wrong-passphrase "$LEAL" keys verify-bundle "$T/bundle"
check_eq "bundle with a wrong passphrase" "leal: bundle $T/bundle: wrong passphrase, or the file was altered" "$ERR"
cp "$T/bundle" "$T/bundle-future"
printf '\007' | dd of="$T/bundle-future" bs=1 seek=5 conv=notrunc 2>/dev/null
keys verify-bundle "$T/bundle-future"
check_eq "bundle from a future format" "leal: bundle $T/bundle-future: file was written by a newer leal; upgrade leal to read it" "$ERR"
head -c 60 "$T/bundle" >"$T/bundle-trunc"
keys verify-bundle "$T/bundle-trunc"
check_eq "truncated bundle exits 1" 1 "$RC"
check_eq "truncated bundle message" "leal: bundle $T/bundle-trunc is damaged; export it again with 'leal keys export-terminal'" "$ERR"
keys verify-bundle "$KS"
check_eq "a keystore is not a bundle" "leal: $KS is not a leal bundle file" "$ERR"
keys export-terminal --terminal 3 --program 7 --expires 2020-01-01 -o "$T/b2" --db "$DB"
check_eq "bundle expiring in the past exits 2" 2 "$RC"
check_eq "bundle expiring in the past message" "leal: expiry date 2020-01-01 is in the past" "$ERR"
keys export-terminal --terminal 3 --program 7 --expires 2027-02-30 -o "$T/b2" --db "$DB"
check_eq "impossible expiry date message" "leal: expiry date '2027-02-30' is not a date; write it as YYYY-MM-DD" "$ERR"
check_eq "refused exports write nothing" "no" "$([ -e "$T/b2" ] && echo yes || echo no)"

printf 'file passphrase\n' >"$T/passfile"
run_capture env -u LEAL_PASSPHRASE "$LEAL" keys init --issuer F --program 1 --keystore "$T/ks-file" --passphrase-file "$T/passfile"
check_eq "passphrase from a file" 0 "$RC"
check_match "file passphrase without its newline opens it" "^issuer F$" "$(decode "$T/ks-file" "file passphrase")"
run_capture env -u LEAL_PASSPHRASE "$LEAL" keys list --keystore "$T/ks-file" </dev/null
check_eq "no passphrase and no terminal exits 2" 2 "$RC"

# Issue 10 §3. Every file leal writes is 0600 even under umask 000.
"$LEAL" program create --code u --name U --id 1 --points-per-euro 1 --db "$T/ledger-u.db" >/dev/null
"$LEAL" store add --program 1 --code u --name U --tz Europe/Madrid --db "$T/ledger-u.db" >/dev/null
"$LEAL" terminal add --store 1 --name "till" --db "$T/ledger-u.db" >/dev/null
(umask 000 && "$LEAL" keys init --issuer U --program 1 --keystore "$T/ks-umask" >/dev/null 2>&1 &&
    "$LEAL" keys backup -o "$T/bak-umask" --keystore "$T/ks-umask" >/dev/null 2>&1 &&
    "$LEAL" keys export-terminal --terminal 1 --program 1 --expires "$EXP" -o "$T/bundle-umask" \
        --keystore "$T/ks-umask" --db "$T/ledger-u.db" >/dev/null 2>&1)
check_eq "umask 000: keystore, backup, bundle all 0600" "0|600 600 600" \
    "$?|$(stat -c %a "$T/ks-umask" "$T/bak-umask" "$T/bundle-umask" | tr '\n' ' ' | sed 's/ $//')"

# keys backup -o into a folder that does not exist (an unmounted /media/usb)
# is refused, and the folder is not created on the local disk.
keys backup -o "$T/usb/leal-keys.bak"
check_eq "backup into a missing folder exits 2" 2 "$RC"
check_eq "backup into a missing folder names it" \
    "leal: folder $T/usb does not exist (is the disk mounted?); the backup was not written" "$ERR"
check_eq "the missing folder is not created" absent "$([ -e "$T/usb" ] && echo present || echo absent)"
keys export-terminal --terminal 3 --program 7 --expires "$EXP" -o "$T/usb/till3.bundle" --db "$DB"
check_eq "bundle into a missing folder" \
    "2|leal: folder $T/usb does not exist (is the disk mounted?); the bundle was not written|absent" \
    "$RC|$ERR|$([ -e "$T/usb" ] && echo present || echo absent)"

# Passphrase files: the first line counts, whatever follows; a NUL in the
# first line is refused (it used to cut the passphrase short silently); a pipe works.
{ printf 'file passphrase\n'; head -c 3000 /dev/zero | tr '\0' '#'; printf '\n'; } >"$T/passfile-long"
run_capture env -u LEAL_PASSPHRASE "$LEAL" keys list --keystore "$T/ks-file" --passphrase-file "$T/passfile-long"
check_eq "only the first line of a passphrase file counts" "0" "$RC"
run_capture env -u LEAL_PASSPHRASE "$LEAL" keys list --keystore "$T/ks-file" --passphrase-file <(printf 'file passphrase\r\n')
check_eq "a passphrase from a pipe (CRLF line)" "0" "$RC"
printf 'file passphrase\0 and more\n' >"$T/passfile-nul"
run_capture env -u LEAL_PASSPHRASE "$LEAL" keys init --issuer N --program 1 --keystore "$T/ks-nul" --passphrase-file "$T/passfile-nul"
check_eq "a NUL in the first line is refused" \
    "2|leal: passphrase file $T/passfile-nul has a NUL byte in its first line; write the keystore passphrase as text on the first line|absent" \
    "$RC|$ERR|$([ -e "$T/ks-nul" ] && echo present || echo absent)"

# LEAL_*PASSPHRASE is copied and removed at start: the running leal's
# /proc/PID/environ no longer holds it; core dumps are off (RLIMIT_CORE 0
# even when the shell allowed them) and the process is not dumpable (its
# /proc files belong to root although it runs as nobody). leal waits on a
# FIFO named as passphrase file while the test looks.
P=$(mktemp -d /tmp/leal-keys-pub-XXXXXX)
trap 'rm -rf "$T" "$P"' EXIT
chmod 0755 "$P"
cp "$T/ks-file" "$P/ks" && chmod 0644 "$P/ks"
mkfifo -m 0666 "$P/fifo"
(ulimit -S -c 4096 && exec env LEAL_PASSPHRASE="env secret 4b1d" LEAL_BUNDLE_PASSPHRASE="env secret 77aa" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$LEAL" keys list --keystore "$P/ks" \
    --passphrase-file "$P/fifo" >"$T/nobody.out" 2>&1) &
LPID=$!
# The writer's open returns once leal has opened the FIFO (it is past its
# start); it looks at leal's /proc files, then hands over the passphrase.
timeout 30 bash -c 'exec 3>"$1"
    tr "\0" "\n" <"/proc/$2/environ" >"$3/environ"
    grep "core file" "/proc/$2/limits" >"$3/limits"
    stat -c %U "/proc/$2/environ" >"$3/owner"
    printf "file passphrase\n" >&3' _ "$P/fifo" "$LPID" "$P"
wait "$LPID"
check_eq "it then runs normally" "0" "$?"
check_eq "environ of the running leal holds no passphrase" 0 "$(grep -c 'env secret' "$P/environ")"
check_eq "nor the variables" 0 "$(grep -c '^LEAL_.*PASSPHRASE=.' "$P/environ")"
check_match "the environment was read" "^PATH=" "$(cat "$P/environ")"
check_match "no core dumps" "^Max core file size +0 +0 +bytes" "$(cat "$P/limits")"
check_eq "not dumpable: its /proc files belong to root, not to nobody" "root" "$(cat "$P/owner")"
check_match "it then runs normally (output)" "^issuer     F$" "$(cat "$T/nobody.out")"

# A crafted bundle header (scrypt N = 2^22, p = 4: 4 GiB of memory) is
# refused before any key derivation.
cp "$T/bundle" "$T/bundle-kdf"
printf '\026\010\004' | dd of="$T/bundle-kdf" bs=1 seek=9 conv=notrunc 2>/dev/null
keys verify-bundle "$T/bundle-kdf"
check_eq "crafted KDF parameters refused" \
    "1|leal: bundle $T/bundle-kdf is damaged; export it again with 'leal keys export-terminal'" "$RC|$ERR"

# restore --force onto another issuer's keystore needs --replace-other-issuer,
# and the replaced file is kept beside it.
run_capture "$LEAL" keys init --issuer "Other Shop" --program 5 --keystore "$T/ks-other"
cp "$T/ks-other" "$T/ks-other.orig"
run_capture "$LEAL" keys restore "$T/backup" --force --keystore "$T/ks-other"
OTHER_ID=$(decode "$T/ks-other" "$LEAL_PASSPHRASE" | sed -n 's/^issuer_id //p')
check_eq "restore --force onto another issuer's keystore is refused" \
    "2|leal: keystore $T/ks-other belongs to issuer $OTHER_ID (Other Shop), the backup to issuer $ISSUER_ID (Café Sol); to replace it anyway add --replace-other-issuer (the old file is kept beside it)" \
    "$RC|$ERR"
check_eq "refused: keystore byte-identical, nothing kept" "0|" \
    "$(cmp -s "$T/ks-other" "$T/ks-other.orig"; echo $?)|$(ls "$T" | grep 'ks-other.replaced-')"
run_capture env LEAL_PASSPHRASE="another passphrase" "$LEAL" keys restore "$T/backup" --force --keystore "$T/ks-other"
check_eq "a keystore that does not open with the passphrase given is not replaced either" \
    "2|0" "$RC|$(cmp -s "$T/ks-other" "$T/ks-other.orig"; echo $?)"
check_match "and the message says why" "^leal: keystore $T/ks-other does not open with the keystore passphrase given \(wrong passphrase, or the file was altered\), so leal cannot tell whose it is; to replace it anyway add --replace-other-issuer" "$ERR"
(umask 000 && "$LEAL" keys restore "$T/backup" --force --replace-other-issuer --keystore "$T/ks-other" >"$T/restore.out" 2>&1)
check_eq "with --replace-other-issuer it is replaced" 0 "$?"
KEPT=$(ls "$T" | grep -E '^ks-other\.replaced-[0-9]{14}$')
check_eq "the replaced keystore is kept beside it, 0600, byte-identical" "1|600|0" \
    "$(printf '%s\n' "$KEPT" | grep -c .)|$(stat -c %a "$T/$KEPT")|$(cmp -s "$T/$KEPT" "$T/ks-other.orig"; echo $?)"
check_match "restore names the kept file" "^kept the replaced keystore as $T/$KEPT$" "$(cat "$T/restore.out")"
check_eq "the restored keystore is the backup's issuer, 0600" "$ISSUER_ID|600" \
    "$(decode "$T/ks-other" "$LEAL_PASSPHRASE" | sed -n 's/^issuer_id //p')|$(stat -c %a "$T/ks-other")"
keys restore "$T/backup" --replace-other-issuer
check_eq "--replace-other-issuer alone is a usage error" 2 "$RC"

# No key byte, in hex of either case, in anything any keys command printed.
leaked=0
for k in $(grep '^key ' <<<"$KDEC_ALL" | cut -d' ' -f4); do
    if grep -qi "$k" "$ALL_OUTPUT"; then leaked=$((leaked + 1)); fi
done
check_eq "no key bytes in any output or error" 0 "$leaked"
check_eq "outputs were collected" 1 "$([ "$(wc -l <"$ALL_OUTPUT")" -gt 60 ] && echo 1)"

finish
