# terminal_key.sh - a card's terminal key as another implementation derives
# it, for integration tests (sourced after testlib.sh; uses KS, the keystore,
# and LEAL_PASSPHRASE): the master from the keystore (keystore_decode.py,
# written from KEYS.md), M = UID || AID 4C4541 || "LEAL" || issuer || program
# 7; 01 || M is 23 bytes, so AN10922's padding is CMAC's own and `openssl mac`
# computes it.
card_role_key() { # ROLE VERSION UIDHEX: any application role's card key
    local dec master issuer
    dec=$(PASS="$LEAL_PASSPHRASE" $PY tests/integration/keystore_decode.py "$KS")
    master=$(sed -n "s/^key $1 $2 //p" <<<"$dec")
    issuer=$(sed -n 's/^issuer_id //p' <<<"$dec")
    $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
        "01${3}4c45414c45414c${issuer}00000007" |
        openssl mac -cipher AES-128-CBC -macopt "hexkey:$master" CMAC | tr 'A-F' 'a-f'
}
terminal_key() { # VERSION UIDHEX
    card_role_key terminal "$@"
}
