# terminal_setup.sh - the set-up that the terminal scripts share (sourced
# after testlib.sh, T made: pcscd_fixture or a fixture of its own).
# terminal_env WORD: XDG_DATA_HOME ($T/data), LEAL_PASSPHRASE ("terminal WORD
# passphrase") and LEAL_BUNDLE_PASSPHRASE ("WORD bundle pass phrase")
# exported; DB (the ledger file), LT (leal-terminal) and D ($T/till: a
# till's data).
# terminal_program TERMINALS [OPTION...]: the keystore of issuer "Café Sol"
# with program 7 (code sol, 1 point per euro, and each OPTION of `leal
# program create`), store 1 (centro, Europe/Madrid) and terminals
# 1..TERMINALS ("caja N").
# terminal_reward: the reward "Café gratis" of program 7 (product 1001, 20
# points); prints its id.
# terminal_catalogue: REWARD (terminal_reward), the sale category cafe
# (code 3), stamp card 1 (Café, one stamp per item of cafe, goal 10) and BONO
# (10 masajes: 10 sessions, 45.00, 365 days).
# terminal_floor_flags PACKAGE CARD: the flags of the package's floors
# (tests/lib/package_decode.py reads them), CARD's first, then by card id.
terminal_env() {
    export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal $1 passphrase"
    export LEAL_BUNDLE_PASSPHRASE="$1 bundle pass phrase"
    DB=$XDG_DATA_HOME/leal/ledger.db
    LT="$LEAL_BUILD/bin/leal-terminal"
    D=$T/till
}
terminal_program() {
    local t n=$1
    shift
    "$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
    "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 "$@" >/dev/null
    "$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
    for ((t = 1; t <= n; t++)); do "$LEAL" terminal add --store 1 --name "caja $t" >/dev/null; done
}
terminal_reward() {
    "$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 \
        --cost 20 --reason catálogo --operator Marta --json | terminal_id
}
terminal_catalogue() {
    REWARD=$(terminal_reward)
    "$LEAL" sale category add cafe --program 7 --code 3 >/dev/null
    "$LEAL" stamp add --program 7 --name Café --per item --category cafe --goal 10 --reward 1 \
        --reason tarjeta --operator Marta >/dev/null
    BONO=$("$LEAL" bono add --program 7 --name "10 masajes" --sessions 10 --price 45 \
        --valid-days 365 --reason bonos --json | terminal_id)
}
# terminal_id: the "id" of the JSON object on stdin.
terminal_id() { $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
terminal_floor_flags() {
    $PY tests/lib/package_decode.py "$1" | awk '$1 == "floor" { print $2, $4 }' | sort -n |
        awk -v card="$2" '$1 == card { first = $2; next } { rest = rest " " $2 } END { print first rest }'
}
