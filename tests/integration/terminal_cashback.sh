#!/bin/bash
# terminal_cashback.sh - a cashback reward redeemed AT A TERMINAL is booked by
# `leal sync import` as the desk's `leal reward redeem` books one (issue 12):
# its points to points_redeemed and its euros owed to the account (asset
# CASHBACK, from the program's cashback_owed), the value taken from the rule
# set of the package the entry names, not today's. Package 1 carries reward 1
# "vuelta" (100 points, 5.00); the reward is then removed and id 1 given to a
# 9.00 one, so today's rules would give another answer. Ana earns 250 at the till,
# redeems reward 1 twice and voids the second: 50 points and 5.00 owed after
# the import; re-import books nothing; `leal card top-up --cashback` loads the
# 5.00 onto her purse; `ledger verify` passes. sim: only: seconds.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

program_fixture terminal-cashback "terminal cashback passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
bal() {
    case "$1" in
    [0-9]*) q "SELECT coalesce((SELECT amount FROM balance WHERE account_id = $1 AND asset = '$2'), 0)" ;;
    *) q "SELECT coalesce((SELECT b.amount FROM balance b JOIN account a ON a.id = b.account_id WHERE a.program_id = 7 AND a.name = '$1' AND b.asset = '$2'), 0)" ;;
    esac
}
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --json | field card_id)
ANA_ACC=$(q "SELECT account_id FROM card WHERE card_id = $ANA")
run_capture "$LEAL" reward add --program 7 --name vuelta --kind cashback --cost 100 --value 5 \
    --reason "cashback en caja"
check_eq "reward 1: cashback, 100 points for 5.00" 0 "$RC"
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null
# Today's rules differ from the package's: reward 1 removed, and the id taken
# again by a 9.00 cashback.
"$LEAL" reward remove 1 --program 7 --reason "fin de la vuelta" >/dev/null || fail "reward 1 removed"
"$LEAL" reward add --program 7 --name "vuelta grande" --kind cashback --cost 100 --value 9 \
    --reason "otra vuelta" >/dev/null || fail "a 9.00 reward added"
check_eq "today's rule set: version 3, reward 1 now 9.00" "3|[(1, 900)]" \
    "$(q "SELECT max(version) FROM rule_set WHERE program_id = 7")|$("$LEAL" reward list --program 7 --json | field rewards | $PY -c 'import ast,sys; print([(r["id"], r["value"]) for r in ast.literal_eval(sys.stdin.read())])')"

run_capture "$LT" tap --earn 250 --reader "sim:$T/ana.json" --data "$D"
check_eq "earn 250,00 at the till" "0|card $ANA earn: +250 points, 0 -> 250|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --redeem 1 --reader "sim:$T/ana.json" --data "$D" --json
check_eq "redeem reward 1 at the till (the package's rules): 100 points, 5.00 cashback" \
    "0 done redeem -100 150" \
    "$RC $(field outcome <<<"$OUT") $(field op <<<"$OUT") $(field points <<<"$OUT") $(field points_after <<<"$OUT")"
run_capture "$LT" tap --redeem 1 --reader "sim:$T/ana.json" --data "$D"
check_eq "redeem it again" 0 "$RC"
run_capture "$LT" tap --void --reader "sim:$T/ana.json" --data "$D" --json
check_eq "a void of the second redeem: 50 -> 150 points" "0 done void 50 150" \
    "$RC $(field outcome <<<"$OUT") $(field op <<<"$OUT") $(field points_before <<<"$OUT") $(field points_after <<<"$OUT")"

"$LT" journal export -o "$T/e.ljx" --data "$D" >/dev/null
run_capture "$LEAL" sync import "$T/e.ljx"
check_match "the import: the earn, two redeems and the void posted" \
    "^0\|$T/e.ljx: terminal 1, epoch [0-9]+, sequences 1 to 5: 5 taken \(4 posted, 1 recorded without movement, 0 held, 0 undone by a settle\), 0 already there\|$" \
    "$RC|$OUT|$ERR"
check_eq "Ana: 250 - 100 points, 5.00 owed (CASHBACK), purse 0" "150 500 0" \
    "$(bal "$ANA_ACC" PTS) $(bal "$ANA_ACC" CASHBACK) $(bal "$ANA_ACC" EUR)"
check_eq "the program: cashback_owed -5.00, points_redeemed 100" "-500 100" \
    "$(bal cashback_owed CASHBACK) $(bal points_redeemed PTS)"
check_eq "each redeem's lines: PTS both ways and CASHBACK both ways; the void negates the second" \
    "redeem:-100,100,500,-500 redeem:-100,100,500,-500 void:100,-100,-500,500" \
    "$(q "SELECT group_concat(k, ' ') FROM (SELECT e.kind || ':' || (SELECT group_concat(amount, ',') FROM (SELECT amount FROM line WHERE entry_id = e.id ORDER BY id)) AS k FROM entry e WHERE e.terminal_id = 1 AND e.kind IN ('redeem','void') ORDER BY e.terminal_seq)")"
run_capture "$LEAL" sync import "$T/e.ljx"
check_match "the same export again: nothing taken twice" \
    "^0\|.*: 0 taken \(0 posted, 0 recorded without movement, 0 held, 0 undone by a settle\), 5 already there\|$" \
    "$RC|$OUT|$ERR"
check_eq "balances unchanged" "150 500 -500" \
    "$(bal "$ANA_ACC" PTS) $(bal "$ANA_ACC" CASHBACK) $(bal cashback_owed CASHBACK)"

run_capture "$LEAL" card top-up --cashback --reader "sim:$T/ana.json"
check_eq "card top-up --cashback: the terminal's 5.00 onto the purse" \
    "0|cashback     5.00 EUR loaded onto the purse" "$RC|$(grep '^cashback' <<<"$OUT")"
check_eq "ledger: Ana EUR 5.00, CASHBACK 0; the program's cashback -5.00, cashback_owed 0" \
    "500 0 -500 0" \
    "$(bal "$ANA_ACC" EUR) $(bal "$ANA_ACC" CASHBACK) $(bal cashback EUR) $(bal cashback_owed CASHBACK)"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "the card: 150 points, 5.00 on the purse" "150 500" \
    "$(field points <<<"$OUT") $(field purse_cents <<<"$OUT")"
run_capture "$LEAL" ledger verify
check_eq "ledger verify: exit 0" 0 "$RC"

# A second till, its package built from today's rules: reward 1 is 9.00 there.
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
"$LEAL" keys export-terminal --terminal 2 --program 7 --expires 2027-06-01 -o "$T/t2.ltb" >/dev/null
"$LEAL" terminal package --terminal 2 -o "$T/p2.lpkg" >/dev/null
"$LT" init --bundle "$T/t2.ltb" --data "$T/till2" >/dev/null
"$LT" load "$T/p2.lpkg" --data "$T/till2" >/dev/null
check_eq "the ledger records the rule set each package carried" "1|1|1 2|1|3" \
    "$(q "SELECT group_concat(terminal_id || '|' || version || '|' || rules_version, ' ') FROM (SELECT * FROM package_rules ORDER BY terminal_id, version)")"
run_capture "$LT" tap --redeem 1 --reader "sim:$T/ana.json" --data "$T/till2"
check_eq "redeem reward 1 at till 2: 150 -> 50" "0|card $ANA redeem: reward redeemed: 150 -> 50 points" "$RC|$OUT"
"$LT" journal export -o "$T/e2.ljx" --data "$T/till2" >/dev/null
# As if package 1 of till 2 had been built before the ledger kept its rule set:
# the value is not known, so the redeem is held, not guessed.
q "DELETE FROM package_rules WHERE terminal_id = 2"
run_capture "$LEAL" sync import "$T/e2.ljx"
check_match "a package the ledger has no record of: the cashback redeem held" \
    "^0\|.*: 2 taken \(0 posted, 1 recorded without movement, 1 held, 0 undone by a settle\), 0 already there" \
    "$RC|$OUT"
check_eq "the finding says why" \
    "held|no such id: package 1 of terminal 2 is not in the ledger, so the cashback of reward 1 redeemed under it is not known: held until that package's rule set is recorded (package_rules)" \
    "$(q "SELECT kind || '|' || detail FROM sync_finding WHERE terminal_id = 2 AND kind = 'held'")"
check_eq "nothing moved: PTS 150, CASHBACK 0" "150 0" "$(bal "$ANA_ACC" PTS) $(bal "$ANA_ACC" CASHBACK)"
q "INSERT INTO package_rules(terminal_id, version, rules_version) VALUES (2, 1, 3)"
run_capture "$LEAL" sync import "$T/e2.ljx"
check_match "once the record is there, the next import posts it" \
    "1 entry held before now posted" "$RC|$OUT"
check_eq "package 1 of till 2 ran rule set 3: 9.00 owed, 50 points" "50 900 -900" \
    "$(bal "$ANA_ACC" PTS) $(bal "$ANA_ACC" CASHBACK) $(bal cashback_owed CASHBACK)"
run_capture "$LEAL" ledger verify
check_eq "ledger verify: exit 0" 0 "$RC"
finish
