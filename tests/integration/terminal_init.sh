#!/bin/bash
# terminal_init.sh - leal-terminal (firmware/port/posix) through the real
# binary: init from a bundle 'leal keys export-terminal' wrote (a wrong
# passphrase refused first), load packages 'leal terminal package' built
# (the same version again, another terminal's, one signed by another key and
# an expired one, the last two made here in Python from PACKAGE.md and signed
# with python3-cryptography, each refused in one line with its exit code and
# nothing changed), status in words and --json exactly, and the journal's
# export checked by the independent reader of JOURNAL.md
# (journal_decode.py), acknowledged with an ack made here in Python, a
# replayed and a forged ack refused.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-terminal-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal test passphrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
BP="bundle pass phrase"
printf '%s\n' "$BP" >"$T/bp"
printf 'not the passphrase\n' >"$T/wrong"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
LEAL_BUNDLE_PASSPHRASE=$BP "$LEAL" keys export-terminal --terminal 1 --program 7 \
    --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
ISSUER=$(sed -n 's/^issuer_id //p' <<<"$KEYS")
PACKAGE_SEED=$(sed -n 's/^key package 1 //p' <<<"$KEYS")
JOURNAL_MASTER=$(sed -n 's/^key journal 1 //p' <<<"$KEYS")
JOURNAL_KEY=$(PASS=$BP $PY tests/integration/keystore_decode.py "$T/t1.ltb" | sed -n 's/^key journal-derived 1 //p')
check_match "the keystore and bundle decode: issuer id, package seed, journal keys" \
    "^[0-9a-f]{8} [0-9a-f]{64} [0-9a-f]{32} [0-9a-f]{32}$" "$ISSUER $PACKAGE_SEED $JOURNAL_MASTER $JOURNAL_KEY"
UNTIL_BUNDLE=$(date -u -d "2027-06-02 00:00" +%s)

# Usage.
run_capture "$LT" --version
check_eq "--version" "leal-terminal 0.1.0" "$OUT"
run_capture "$LT" --help
check_match "--help lists the commands" "^  journal export -o FILE" "$OUT"
run_capture "$LT"
check_eq "no command: exit 2" 2 "$RC"
check_eq "no command: one line" "leal-terminal: no command given (see 'leal-terminal --help')" "$ERR"
run_capture "$LT" status --data "$D" --passphrase-file "$T/bp"
check_eq "status without a terminal: exit 2" 2 "$RC"
check_eq "status without a terminal: one line" \
    "leal-terminal: no terminal in $D: make one with 'leal-terminal init --bundle FILE --data $D'" "$ERR"

# A wrong passphrase: one line, exit 1, no folder made.
run_capture "$LT" init --bundle "$T/t1.ltb" --data "$D" --passphrase-file "$T/wrong"
check_eq "wrong bundle passphrase: exit 1" 1 "$RC"
check_eq "wrong bundle passphrase: one line" \
    "leal-terminal: bundle $T/t1.ltb does not open: wrong passphrase, or the file was altered; give the passphrase 'leal keys export-terminal' was given" "$ERR"
check_eq "wrong bundle passphrase: nothing made" "no" "$([ -e "$D" ] && echo yes || echo no)"
run_capture "$LT" init --bundle "$T/nothing.ltb" --data "$D" --passphrase-file "$T/bp"
check_eq "missing bundle: exit 2, one line" "2 leal-terminal: bundle $T/nothing.ltb does not exist" "$RC $ERR"

# Init; the bundle's passphrase from the environment as leal takes it.
BEFORE=$(date -u +%s)
LEAL_BUNDLE_PASSPHRASE=$BP run_capture "$LT" init --bundle "$T/t1.ltb" --data "$D"
AFTER=$(date -u +%s)
check_eq "init: exit 0" 0 "$RC"
check_eq "init: what it made" \
    "terminal 1 of program 7 made in $D (bundle valid until 2027-06-02 00:00 UTC); load a package next: leal-terminal load FILE" "$OUT"
check_eq "init: the folder 0700, the sealed bundle kept 0600, byte for byte" "700 600 same" \
    "$(stat -c %a "$D") $(stat -c %a "$D/bundle.ltb") $(cmp -s "$D/bundle.ltb" "$T/t1.ltb" && echo same)"
check_eq "init: journal 1 MiB, package store 4 MiB" "1048576 4194304" \
    "$(stat -c %s "$D/journal.dat") $(stat -c %s "$D/package.dat")"
run_capture "$LT" init --bundle "$T/t1.ltb" --data "$D" --passphrase-file "$T/bp"
check_eq "init again: exit 2, one line" \
    "2 leal-terminal: $D already holds a terminal; a terminal is made once: use another folder" "$RC $ERR"

export LEAL_BUNDLE_PASSPHRASE=$BP
run_capture "$LT" status --json --data "$D"
EPOCH=$(field '["journal"]["epoch"]' <<<"$OUT")
check_match "the journal's first epoch is init's UTC second" "^1$" "$((EPOCH >= BEFORE && EPOCH <= AFTER))"
check_eq "status --json before a package" \
    "{\"issuer_id\":\"$ISSUER\",\"program\":7,\"terminal\":1,\"bundle_valid_until_at\":$UNTIL_BUNDLE,\"package\":null,\"journal\":{\"slots\":2048,\"slots_used\":1,\"unsynced\":1,\"appends_left\":2046,\"epoch\":$EPOCH,\"seq\":1},\"last_ack\":null}" "$OUT"
run_capture "$LT" status --data "$D"
check_match "status: no package, in words" "^package +none: load one with 'leal-terminal load FILE' \(taps are refused\)$" "$OUT"

# Packages.
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" --valid-days 3 >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p2.lpkg" --valid-days 3 >/dev/null
"$LEAL" terminal package --terminal 2 -o "$T/other.lpkg" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p3.lpkg" >/dev/null
UNTIL1=$(od -An -tu8 --endian=big -j28 -N8 "$T/p1.lpkg" | tr -d ' ')
# resign SRC DST SEED_HEX [DAYS_AGO]: PACKAGE.md's signed message over the body,
# signed with SEED (dates moved DAYS_AGO into the past first when given).
resign() {
    $PY - "$@" <<'PY'
import hashlib, struct, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
d = bytearray(open(sys.argv[1], "rb").read())
if len(sys.argv) > 4:
    now = int(time.time()) - int(sys.argv[4]) * 86400
    struct.pack_into(">QQ", d, 20, now - 86400, now)
body = bytes(d[:-64]); h = bytes(32)
for i in range(0, len(body), 1024):
    h = hashlib.sha256(h + body[i:i + 1024]).digest()
msg = b"leal-package" + bytes([2]) + struct.pack(">I", len(body)) + h
d[-64:] = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sys.argv[3])).sign(msg)
open(sys.argv[2], "wb").write(d)
PY
}
resign "$T/p3.lpkg" "$T/same.lpkg" "$PACKAGE_SEED"
check_eq "the Python signature is leal's own (Ed25519 is deterministic)" same \
    "$(cmp -s "$T/p3.lpkg" "$T/same.lpkg" && echo same)"
resign "$T/p3.lpkg" "$T/forged.lpkg" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
resign "$T/p3.lpkg" "$T/expired.lpkg" "$PACKAGE_SEED" 1
EXPIRED_AT=$(date -u -d "@$(od -An -tu8 --endian=big -j28 -N8 "$T/expired.lpkg" | tr -d ' ')" '+%Y-%m-%d %H:%M UTC')

run_capture "$LT" load "$T/p1.lpkg" --data "$D"
check_eq "load p1: exit 0" 0 "$RC"
check_eq "load p1: one line" \
    "package version 1 loaded: valid until $(date -u -d "@$UNTIL1" '+%Y-%m-%d %H:%M UTC'), 0 hot-listed cards, 0 floors" "$OUT"
refused() { # NAME FILE EXIT LINE
    run_capture "$LT" load "$2" --data "$D"
    check_eq "$1: exit $3, one line, nothing on stdout" "$3|$4|" "$RC|$ERR|$OUT"
}
refused "the same version again" "$T/p1.lpkg" 2 \
    "leal-terminal: package $T/p1.lpkg: terminal package has the version already loaded; nothing changed (version 1 is loaded)"
refused "another terminal's package" "$T/other.lpkg" 2 \
    "leal-terminal: package $T/other.lpkg: terminal package is for another terminal; build one with this terminal's id"
refused "a package signed by another key" "$T/forged.lpkg" 2 \
    "leal-terminal: package $T/forged.lpkg: terminal package signature does not verify: altered or not from this issuer; copy it again or build a new one"
refused "an expired package" "$T/expired.lpkg" 2 \
    "leal-terminal: package $T/expired.lpkg (version 3) expired on $EXPIRED_AT: build a new one with 'leal terminal package'"
refused "a file that is not a package" "$T/t1.ltb" 2 \
    "leal-terminal: package $T/t1.ltb: terminal package damaged (truncated, oversized or malformed); copy it again or build a new one"
refused "a package that does not exist" "$T/none.lpkg" 2 "leal-terminal: package $T/none.lpkg does not exist"
run_capture "$LT" status --json --data "$D"
check_eq "after the refusals: version 1 still in force, one copy" "1 1" \
    "$(field '["package"]["version"]' <<<"$OUT") $(field '["package"]["copies_valid"]' <<<"$OUT")"

run_capture "$LT" load "$T/p2.lpkg" --data "$D" --json
check_eq "load p2 --json" \
    "{\"file\":\"$T/p2.lpkg\",\"version\":2,\"valid_until_at\":$(od -An -tu8 --endian=big -j28 -N8 "$T/p2.lpkg" | tr -d ' '),\"hot_list\":0,\"floors\":0,\"bytes\":$(stat -c %s "$T/p2.lpkg")}" "$OUT"
refused "an older package after p2" "$T/p1.lpkg" 2 \
    "leal-terminal: package $T/p1.lpkg: terminal package is older than the one loaded; the loaded one stays; build a new one (version 2 is loaded)"
run_capture "$LT" status --data "$D"
check_match "status: the package in words" "^package +version 2, valid until [0-9-]{10} [0-9:]{5} UTC$" "$OUT"
check_match "status: the journal in words" "^journal +1 of 2048 slots used, 1 entries not synced, newest epoch $EPOCH sequence 1$" "$OUT"
check_match "status: never acknowledged" "^last ack +never$" "$OUT"

# The journal: export, checked by the independent reader, acknowledged.
# make_ack EXPORT OUT: an ack of the export's last entry (JOURNAL.md), in Python.
make_ack() {
    $PY - "$JOURNAL_KEY" "$1" "$2" <<'PY'
import struct, sys
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC
key, x = bytes.fromhex(sys.argv[1]), open(sys.argv[2], "rb").read()
prog, term, epoch, first, last = struct.unpack(">IIIII", x[8:28])
a = b"LJAK" + bytes([1, x[5], 0, 0]) + struct.pack(">IIII", prog, term, epoch, last) + x[-32:-16]
c = CMAC(algorithms.AES(key)); c.update(a)
open(sys.argv[3], "wb").write(a + c.finalize())
PY
}
hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }
run_capture "$LT" journal export -o "$T/e1.ljx" --data "$D"
check_eq "export: exit 0" 0 "$RC"
check_eq "export: in words" \
    "exported 1 entries (terminal 1, epoch $EPOCH, sequences 1 to 1) to $T/e1.ljx; after 'leal sync import', apply the host's answer with 'leal-terminal journal ack'" "$OUT"
check_eq "export: no temporary file left" "" "$(ls "$T" | grep '\.tmp$')"
make_ack "$T/e1.ljx" "$T/a1.ljak"
run_capture $PY tests/integration/journal_decode.py "$JOURNAL_MASTER" "0x$ISSUER" 7 1 "$(hexof "$T/e1.ljx")" "$(hexof "$T/a1.ljak")"
check_eq "the independent reader: the export and the ack verify" 0 "$RC"
check_match "the independent reader: the EPOCH entry at sequence 1" "^seq 1 EPOCH kind 0 time $EPOCH[+-][0-9]+ " "$OUT"
check_match "the independent reader: export ok, ack ok" "export ok.ack ok" "$(tr '\n' '.' <<<"$OUT")"
cp "$T/a1.ljak" "$T/forged.ljak"
flip_byte "$T/forged.ljak" 30
run_capture "$LT" journal ack "$T/forged.ljak" --data "$D"
check_eq "a forged ack: exit 2, one line" \
    "2 leal-terminal: acknowledgment $T/forged.ljak: terminal journal data fails its MAC: altered, damaged or from another terminal; nothing of it was taken" "$RC $ERR"
run_capture "$LT" journal ack "$T/a1.ljak" --data "$D"
check_eq "ack: exit 0, in words" \
    "0 acknowledged up to epoch $EPOCH sequence 1; 1 entries not synced" "$RC $OUT"
run_capture "$LT" journal ack "$T/a1.ljak" --data "$D"
check_eq "the same ack replayed: exit 2" 2 "$RC"
check_match "the same ack replayed: one line" \
    "^leal-terminal: acknowledgment $T/a1.ljak: journal acknowledgment is not newer than the one already applied" "$ERR"
check_eq "the replayed ack: one line only" 1 "$(wc -l <<<"$ERR")"
run_capture "$LT" status --json --data "$D"
check_match "status --json: the last ack, the ACK entry unsynced" \
    "\"journal\":\{\"slots\":2048,\"slots_used\":1,\"unsynced\":1,\"appends_left\":2045,\"epoch\":$EPOCH,\"seq\":2\},\"last_ack\":\{\"at\":[0-9]+,\"epoch\":$EPOCH,\"seq\":1\}\}$" "$OUT"
run_capture "$LT" journal export -o "$T/e2.ljx" --data "$D" --json
check_eq "the second export: the ACK entry alone" \
    "{\"file\":\"$T/e2.ljx\",\"terminal\":1,\"epoch\":$EPOCH,\"first_seq\":2,\"last_seq\":2,\"count\":1,\"bytes\":$(stat -c %s "$T/e2.ljx"),\"unsynced_after\":0}" "$OUT"
make_ack "$T/e2.ljx" "$T/a2.ljak"
run_capture "$LT" journal ack "$T/a2.ljak" --data "$D" --json
check_eq "the second ack --json" "{\"epoch\":$EPOCH,\"seq\":2,\"unsynced\":1}" "$OUT"
run_capture "$LT" journal ack "$T/a1.ljak" --data "$D"
check_eq "the first ack after the second: exit 2" 2 "$RC"
run_capture "$LT" journal export -o "$T/nodir/e.ljx" --data "$D"
check_eq "export into a folder that does not exist: exit 1, nothing written" "1 no" \
    "$RC $([ -e "$T/nodir" ] && echo yes || echo no)"
finish
