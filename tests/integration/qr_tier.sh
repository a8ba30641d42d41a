#!/bin/bash
# qr_tier.sh - a phone's taps at the account's tier, and a bono used with a
# spending code (cardlayout/qr/QR.md "The account's tier", "A bono by QR").
# Ana spent 600.00 (tier 2 of 100 / 500 euros): `leal terminal package`
# carries her tier in her phone's QR allowance record, so the phone earns
# 10.00 at x2 (20 points) and redeems a reward that asks for tier 2; Luis
# (no spend) earns 10 and is refused it. A bono of 5 sessions sold on Ana's
# card: her phone uses one at the terminal; `leal sync import` books it from
# the account (4 sessions left, 4.00 of revenue). Luis, with no bono, gets
# the session at the terminal (it cannot see bonos); the import holds it.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-qrtier-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="qr tier test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
DB=$XDG_DATA_HOME/leal/ledger.db
LT="$LEAL_BUILD/bin/leal-terminal"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])" ; }
q() { sqlite3 "$DB" "$1"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
prog() { q "select coalesce((select b.amount from balance b join account a on a.id = b.account_id where a.name = '$1' and a.program_id = 7 and b.asset = '$2'), 0)"; }
# tap NAME OPTION...: a fresh code of phone NAME at the terminal.
tap() {
    run_capture "$LT" tap --qr "$("$LEAL" qr device code --key "$T/$1.key" --cert "$T/$1.cert")" \
        --data "$T/d" "${@:2}"
}

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" tier add --program 7 --name Plata --threshold 100 --multiplier 1.5 --reason t >/dev/null
"$LEAL" tier add --program 7 --name Oro --threshold 500 --multiplier 2 --reason t >/dev/null
"$LEAL" reward add --program 7 --name "Masaje VIP" --kind product --value 1001 --cost 40 \
    --min-tier 2 --reason catálogo --operator Marta >/dev/null
"$LEAL" bono add --program 7 --name "5 sesiones" --sessions 5 --price 20 --reason bonos >/dev/null
CUST=$("$LEAL" customer add --program 7 --name Ana --json)
ANA=$(field account <<<"$CUST")
LUIS=$("$LEAL" customer add --program 7 --name Luis --json | field account)
"$LEAL" sale --account "$ANA" --amount 600 --store 1 >/dev/null
"$LEAL" ledger post --account "$LUIS" --asset PTS --amount 200 --reason regalo --operator t >/dev/null
for who in ana luis; do
    "$LEAL" qr device keygen -o "$T/$who.key" >/dev/null
done
PA=$("$LEAL" qr enrol --account "$ANA" --pubkey "$T/ana.key.pub" -o "$T/ana.cert" \
    --redeem-allowance 100 --json | field virtual_card)
PL=$("$LEAL" qr enrol --account "$LUIS" --pubkey "$T/luis.key.pub" -o "$T/luis.cert" \
    --redeem-allowance 100 --json | field virtual_card)
check_eq "Ana: 600 earned, 100 held for her phone; Luis: 200, 100 held" "500|100|100|100" \
    "$(bal "$ANA" PTS)|$(bal "$ANA" "PTS-HOLD:$PA")|$(bal "$LUIS" PTS)|$(bal "$LUIS" "PTS-HOLD:$PL")"

# Ana's card, with the bono sold on it at the desk.
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$LEAL" card issue --customer "$(field id <<<"$CUST")" --reader "sim:$T/ana.json" >/dev/null
run_capture "$LEAL" bono sell --kind "5 sesiones" --reader "sim:$T/ana.json"
check_eq "bono 1 sold on Ana's card: 5 sessions on her account" "0|5" "$RC|$(bal "$ANA" BONO:1)"

"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p.lpkg" >/dev/null
"$LT" init --bundle "$T/t.ltb" --data "$T/d" >/dev/null
"$LT" load "$T/p.lpkg" --data "$T/d" >/dev/null

tap ana --earn 10,00 --json
check_eq "Ana's phone earns 10.00 at tier 2 (x2): base 10 + tier 10 = 20 points" \
    "0|20" "$RC|$(field points <<<"$OUT")"
tap ana --redeem 1
check_eq "Ana's phone redeems the tier-2 reward: 40 of the 100 held" \
    "0|QR spending $PA redeem: reward 1 redeemed, -40 points (60 left to redeem here)" "$RC|$OUT"
tap luis --earn 10,00 --json
check_eq "Luis's phone (no spend, tier 0) earns 10 points" "0|10" "$RC|$(field points <<<"$OUT")"
tap luis --redeem 1 --json
check_eq "Luis's phone is refused the tier-2 reward, its own reason" "3|LEAL_E_RULES_TIER" \
    "$RC|$($PY -c 'import json,sys; print(json.load(sys.stdin)["reason"]["name"])' <<<"$OUT")"

tap ana --bono 1
check_eq "Ana's phone uses a session of bono 1" "0" "$RC"
tap luis --bono 1
check_eq "Luis's phone: the terminal cannot see bonos, so it takes the session" "0" "$RC"

"$LT" journal export -o "$T/e" --data "$T/d" >/dev/null
run_capture "$LEAL" sync import "$T/e"
check_match "the import: Luis's session held, the rest posted" "4 posted, .* 1 held" "$OUT"
check_eq "Ana: PTS 500 + 20 = 520, hold 60; Luis: PTS 100 + 10 = 110, hold 100" \
    "520|60|110|100" \
    "$(bal "$ANA" PTS)|$(bal "$ANA" "PTS-HOLD:$PA")|$(bal "$LUIS" PTS)|$(bal "$LUIS" "PTS-HOLD:$PL")"
check_eq "Ana's bono: 4 sessions left, one session's revenue (20.00 / 5 = 4.00) recognised" \
    "4|400" "$(bal "$ANA" BONO:1)|$(prog bonos_revenue EUR)"
check_eq "Luis's session: held, its finding says the account holds no session of bono 1" \
    "held|$PL|balance too low for this movement: account $LUIS would hold -1 BONO:1|0" \
    "$(q "select kind, card_id, detail from sync_finding where card_id = $PL")|$(bal "$LUIS" BONO:1)"
run_capture "$LEAL" ledger verify
check_eq "ledger verify" 0 "$RC"

finish
