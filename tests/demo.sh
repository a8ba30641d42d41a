#!/bin/bash
# demo.sh BUILD - the leal story, told on the virtual card: run by `make demo`.
# Everything happens in a fresh temporary folder; nothing outside it is touched.
set -eu
B=${1:-build/release}
LEAL="$PWD/$B/bin/leal"
D=$(mktemp -d /tmp/leal-demo-XXXXXX)
trap 'rm -rf "$D"' EXIT
export XDG_DATA_HOME="$D/data"
export LEAL_PASSPHRASE="demo keystore passphrase"
export LEAL_BACKUP_PASSPHRASE="demo backup passphrase"
export LEAL_BUNDLE_PASSPHRASE="demo bundle passphrase"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "The issuer creates its keystore (one program, every role at version 1)" \
    "$LEAL" keys init --issuer "Café Sol" --program 1
step "Keys are listed by fingerprint, never shown" "$LEAL" keys list
step "A backup under its own passphrase, first thing" "$LEAL" keys backup -o "$D/keys.bak"
step "The kiosk's key bundle: terminal roles of program 1 only, for 90 days" \
    "$LEAL" keys export-terminal --terminal 1 --program 1 --expires "$(date -u -d '+90 days' +%F)" \
    -o "$D/kiosk1.bundle"
step "The kiosk checks its bundle as it will at start-up" "$LEAL" keys verify-bundle "$D/kiosk1.bundle"
step "The terminal key is rotated; cards in the field keep working on version 1" \
    "$LEAL" keys rotate terminal
echo
echo "demo finished"
