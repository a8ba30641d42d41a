#!/bin/bash
# host_change_waiting.sh - what still waits for a card, and why (issue 14):
# `leal reconcile`, `leal card read` at the desk and `leal account show`
# list the host changes waiting for a card (ledger_host_change.h), plain and
# --json, exactly. Ana's birthday bonus (+40, posted by hand) waits unsent;
# a package carries it at 0 taps (sent); a terminal tap applies it and earns
# +10, and the desk reads the card at 1 tap before that terminal's journal is
# in: in doubt (LEAL_E_HOST_CHANGE_DOUBT; `leal card sync` refuses); once the
# journal is imported, nothing waits. sim: only: seconds.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

program_fixture waiting "waiting test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
# The key "waiting" of a JSON document, as compact JSON.
waiting() { $PY -c "import json,sys; print(json.dumps(json.load(sys.stdin)['waiting'], ensure_ascii=False, separators=(',', ':')))"; }
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --json | field card_id)
ACC=$(q "SELECT account_id FROM card WHERE card_id = $ANA")
"$LEAL" ledger post --account "$ACC" --asset PTS --amount 40 --reason "cumpleaños" \
    --operator test >/dev/null || fail "the birthday bonus posted"

UNSENT="no package carried them yet: the next package carries them to the card (at 0 taps), or leal card sync at the desk"
SENT="a package carried them at 0 taps: the card's next tap at a terminal that loaded it applies them, or leal card sync at the desk"
DOUBT="a package carried them at 0 taps and the desk has seen the card at 1 taps, so a terminal may have applied them; neither packages nor leal card sync carry them until the terminals' journals are in (leal sync import)"
# obj SENT_TAPS SEEN STATE ERROR WHY: the JSON object of Ana's +40.
obj() { echo "{\"card_id\":$ANA,\"points\":40,\"entries\":1,\"upto_entry\":1,\"taps\":0,\"sent_taps\":$1,\"seen_taps\":$2,\"state\":\"$3\",\"error\":$4,\"why\":\"$5\"}"; }
LINE="card $ANA: +40 points (1 entry, to entry 1)"

# --- unsent: no package carried the bonus yet ----------------------------------
run_capture "$LEAL" reconcile
check_eq "reconcile: the bonus waits, unsent, and why" \
    "0|reconciled 0 card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 0 open
waiting  $LINE, unsent: $UNSENT|" "$RC|$OUT|$ERR"
run_capture "$LEAL" reconcile --json
check_eq "reconcile --json: exactly" \
    "0|{\"cards\":0,\"new\":0,\"fraud\":0,\"blocked\":0,\"resolved\":0,\"open\":0,\"findings\":[],\"waiting\":[$(obj null 0 unsent null "$UNSENT")]}" \
    "$RC|$OUT"
run_capture "$LEAL" account show "$ACC"
check_eq "account show: a 'waiting for a card' section" "0|waiting for a card
  $LINE, unsent: $UNSENT
last movements" "$RC|$(sed -n '/^waiting/,/^last movements/p' <<<"$OUT")"
run_capture "$LEAL" account show "$ACC" --json
check_eq "account show --json: waiting" "0|[$(obj null 0 unsent null "$UNSENT")]" "$RC|$(waiting <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "card read: the waiting line, the last line" "waiting      $LINE, unsent: $UNSENT" \
    "$(tail -1 <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read --json: waiting" "$(obj null 0 unsent null "$UNSENT")" "$(waiting <<<"$OUT")"

# --- sent: a package carries it at 0 taps ----------------------------------------
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
run_capture "$LEAL" reconcile --card "$ANA"
check_eq "reconcile --card: sent" "0|waiting  $LINE, sent: $SENT" "$RC|$(tail -1 <<<"$OUT")"
run_capture "$LEAL" reconcile --program 7 --json
check_eq "reconcile --program --json: sent" "0|[$(obj 0 0 sent null "$SENT")]" "$RC|$(waiting <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read --json: sent" "$(obj 0 0 sent null "$SENT")" "$(waiting <<<"$OUT")"
run_capture "$LEAL" account show "$ACC"
check_eq "account show: sent" "  $LINE, sent: $SENT" "$(sed -n '/^waiting/{n;p}' <<<"$OUT")"

# --- doubt: a terminal tap wrote the card; its journal is not in ----------------
"$LT" init --bundle "$T/t1.ltb" --data "$T/till" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$T/till" >/dev/null
run_capture "$LT" tap --earn 10 --reader "sim:$T/ana.json" --data "$T/till"
check_eq "the till applies the bonus and earns 10: 0 -> 50" "0|card $ANA earn: +10 points, 0 -> 50" "$RC|$OUT"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "card read at 1 tap: in doubt, and why" "waiting      $LINE, doubt: $DOUBT" "$(tail -1 <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read --json: doubt, LEAL_E_HOST_CHANGE_DOUBT" \
    "$(obj 0 1 doubt '"LEAL_E_HOST_CHANGE_DOUBT"' "$DOUBT")" "$(waiting <<<"$OUT")"
run_capture "$LEAL" reconcile
check_eq "reconcile: doubt" "0|waiting  $LINE, doubt: $DOUBT" "$RC|$(tail -1 <<<"$OUT")"
run_capture "$LEAL" reconcile --json
check_eq "reconcile --json: doubt" "0|[$(obj 0 1 doubt '"LEAL_E_HOST_CHANGE_DOUBT"' "$DOUBT")]" \
    "$RC|$(waiting <<<"$OUT")"
run_capture "$LEAL" account show "$ACC" --json
check_eq "account show --json: doubt" "0|[$(obj 0 1 doubt '"LEAL_E_HOST_CHANGE_DOUBT"' "$DOUBT")]" \
    "$RC|$(waiting <<<"$OUT")"
run_capture "$LEAL" card sync --reader "sim:$T/ana.json"
check_eq "card sync refuses while in doubt (exit 1)" 1 "$RC"

# --- the journal in: nothing waits -------------------------------------------------
"$LT" journal export -o "$T/e.ljx" --data "$T/till" >/dev/null
"$LEAL" sync import "$T/e.ljx" >/dev/null || fail "journal imported"
run_capture "$LEAL" reconcile
check_eq "reconcile: no waiting line" \
    "0|reconciled 1 card(s): 0 new finding(s) (0 fraud, 0 card(s) blocked), 0 resolved, 0 open|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" reconcile --json
check_eq "reconcile --json: waiting []" \
    '0|{"cards":1,"new":0,"fraud":0,"blocked":0,"resolved":0,"open":0,"findings":[],"waiting":[]}' "$RC|$OUT"
run_capture "$LEAL" account show "$ACC"
check_eq "account show: (none)" "waiting for a card
  (none)
last movements" "$(sed -n '/^waiting/,/^last movements/p' <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read --json: waiting null, card and ledger agree at 50" "null True 50" \
    "$(waiting <<<"$OUT") $(field agrees <<<"$OUT") $(field ledger_points <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "card read: no waiting line" "" "$(grep '^waiting' <<<"$OUT")"
finish
