#!/bin/bash
# terminal_tamper.sh - the fraud scenarios of issue 14 on real journals and
# proven at a real terminal: a DESFire EV1 pays 1,00 to 5,00 at terminal 1
# (leal-terminal, sim:), and its export is edited as someone without the key
# can: an entry's byte changed, an entry dropped, two reordered, one
# replayed, and the whole journal passed off as terminal 2's (terminal 1's
# key used for another terminal). Each into its own copy of the ledger:
# the import stops at the entry it breaks (taking those before), a tamper
# finding names it, the card is blocked; terminal 1's next package
# hot-lists it, and leal-terminal, loading that package, refuses the card
# (exit 3, hot-listed) at the tap. The genuine export is then taken whole
# with no finding. Then a MIFARE Classic 1K copied (its card file) and both
# used, the original at terminal 1 (twice) and the copy at terminal 2: a
# clone naming the two payments at the same seq, the card blocked, and
# both terminals' next packages refuse original and copy at the tap. The
# world is tests/lib/terminal_cards.sh's. sim: only.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/terminal_cards.sh
terminal_cards_fixture tamper 2

# --- Ana's DESFire pays 1,00 .. 5,00 at terminal 1 (sequences 2 to 6).
for c in 1 2 3 4 5; do tap 1 ana --pay $c; done
check_eq "terminal 1: five payments, 5.00 left" "0|card $ANA pay: paid 5.00, 5.00 euros left" "$RC|$OUT"
"$LT" journal export -o "$T/e1.ljx" --data "$T/till1" >/dev/null
cp "$DB" "$T/base.db"
cp -r "$T/till1" "$T/till1.base"
cp "$T/ana.json" "$T/ana.base"

# edit FILE HOW: terminal 1's export edited as someone without its key can
# (the count in the header adjusted; every MAC left as it is).
#   flip: a byte of sequence 4's amount; drop: sequence 4 left out;
#   swap: sequences 4 and 5 in each other's place; replay: sequence 4 again
#   after itself; terminal2: every terminal id (header, entries) made 2.
edit() {
    $PY - "$T/e1.ljx" "$1" "$2" <<'EOF'
import struct, sys
src, out, how = sys.argv[1:]
x = open(src, "rb").read()
head, body, mac = bytearray(x[:32]), x[32:-16], x[-16:]
entries, pos = [], 0
while pos < len(body):
    size = 112 + 14 * body[pos + 3] + 16
    entries.append(bytearray(body[pos:pos + size]))
    pos += size
if how == "flip":
    entries[3][67] ^= 0x01  # sequence 4's purse cents, low byte (JOURNAL.md offsets 64..67)
elif how == "drop":
    del entries[3]
elif how == "swap":
    entries[3], entries[4] = entries[4], entries[3]
elif how == "replay":
    entries.insert(4, bytearray(entries[3]))
elif how == "terminal2":
    head[12:16] = struct.pack(">I", 2)
    for e in entries:
        e[4:8] = struct.pack(">I", 2)
head[28:32] = struct.pack(">I", len(entries))
open(out, "wb").write(bytes(head) + b"".join(bytes(e) for e in entries) + mac)
EOF
}

# scenario NAME HOW TERMINAL SEQ TAKEN KIND AT EUR: the edited export into a
# copy of the ledger; the import stops at SEQ (exit 1) taking TAKEN entries,
# terminal TERMINAL flagged; a tamper finding about Ana "tTERMINAL/eEPOCH/sAT
# KIND" (her first entry the break reaches), Ana blocked, EUR cents left;
# terminal 1's next package from that ledger hot-lists her, and a copy of
# terminal 1 loading it refuses her card at the tap.
MAC_WHY="its MAC does not verify (altered, damaged, or not this terminal's key)"
CHAIN_WHY="the chain breaks here (an entry missing, repeated or out of order)"
scenario() {
    local name=$1 how=$2 term=$3 seq=$4 taken=$5 kind=$6 at=$7 eur=$8 s=$T/$2 why
    why=$MAC_WHY
    [ "$kind" = chain ] && why=$CHAIN_WHY
    edit "$s.ljx" "$how"
    cp "$T/base.db" "$s.db"
    rm -rf "$T/till$how"
    cp -r "$T/till1.base" "$T/till$how"
    cp "$T/ana.base" "$T/ana.json"
    run_capture "$LEAL" sync import "$s.ljx" --db "$s.db"
    check_eq "$name: the import stops there, exit 1, naming the entry" \
        "1|leal: $s.ljx: terminal $term, epoch $EPOCH, sequence $seq: $why: nothing taken from it on (the $taken before it verify); $taken new entries taken before it; terminal $term flagged" \
        "$RC|$(head -1 <<<"$ERR")"
    QDB=$s.db
    check_eq "$name: one tamper finding about Ana naming her entry, Ana blocked, the payments before it taken" \
        "tamper|$ANA|t$term/e$EPOCH/s$at $kind|blocked|$eur" \
        "$(q "select group_concat(kind || '|' || card_id || '|' || evidence, ';') from reconcile_finding")|$(q "select status from card where card_id = $ANA")|$(bal "$ANA_ACC" EUR)"
    run_capture "$LEAL" terminal package --terminal 1 -o "$s.lpkg" --db "$s.db" --json
    check_eq "$name: terminal 1's next package hot-lists Ana" "0 1" "$RC $(field hot_list <<<"$OUT")"
    QDB=
    run_capture "$LT" load "$s.lpkg" --data "$T/till$how"
    check_eq "$name: terminal 1 loads it" 0 "$RC"
    tap "$how" ana --pay 1 --json
    check_eq "$name: leal-terminal with that package refuses Ana's card: hot-listed, exit 3, nothing paid" \
        "3 refused LEAL_E_TERMINAL_HOT_LISTED 5.00" \
        "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT") $(jfield '["purse_after"]' <<<"$OUT")"
}
EPOCH=$($PY -c 'import struct,sys; print(struct.unpack(">I", open(sys.argv[1],"rb").read()[16:20])[0])' "$T/e1.ljx")
scenario "edited (a byte of sequence 4's payment)" flip 1 4 3 mac 4 1700
scenario "dropped (sequence 4)" drop 1 4 3 chain 4 1700
scenario "reordered (sequences 4 and 5)" swap 1 4 3 chain 4 1700
scenario "replayed (sequence 4 after itself)" replay 1 5 4 chain 5 1400
# Its EPOCH (no card) breaks first; Ana is named from her first payment.
scenario "terminal 1's key passed off as terminal 2's" terminal2 2 1 0 mac 2 2000
cp "$T/ana.base" "$T/ana.json"

# The genuine export: all six entries, no finding, 5.00 left.
run_capture "$LEAL" sync import "$T/e1.ljx"
check_eq "the genuine export: 6 taken, nothing to reconcile, 5.00 left" \
    "0|0|500|active" \
    "$RC|$(q 'select count(*) from reconcile_finding')|$(bal "$ANA_ACC" EUR)|$(q "select status from card where card_id = $ANA")"

# --- A Classic card copied; the original pays at terminal 1, the copy at 2.
cp "$T/marta.json" "$T/copy.json"
tap 1 marta --pay 3
check_eq "terminal 1: Marta's Classic pays 3,00" "0|card $MARTA pay: paid 3.00, 17.00 euros left|" "$RC|$OUT|$ERR"
tap 2 copy --pay 4
check_eq "terminal 2: the copy pays 4,00 from the same 20.00" \
    "0|card $MARTA pay: paid 4.00, 16.00 euros left|" "$RC|$OUT|$ERR"
# The original used again at terminal 1: its first payment's write confirmed
# (before that, the same seq at terminal 2 could be that payment's torn
# commit: a doubt for a person, not a clone).
tap 1 marta --pay 2
check_eq "terminal 1: the original pays 2,00 more" "0|card $MARTA pay: paid 2.00, 15.00 euros left|" "$RC|$OUT|$ERR"
"$LT" journal export -o "$T/e1b.ljx" --data "$T/till1" >/dev/null
"$LT" journal export -o "$T/e2.ljx" --data "$T/till2" >/dev/null
run_capture "$LEAL" sync import "$T/e1b.ljx" "$T/e2.ljx"
E1=$(q "select epoch from terminal_entry where terminal_id = 1 limit 1")
E2=$(q "select epoch from terminal_entry where terminal_id = 2 limit 1")
check_eq "both journals in: one clone, Marta blocked" \
    "0|reconcile: 1 new finding(s) (1 fraud, 1 card(s) blocked), 1 open: leal reconcile lists them" \
    "$RC|$(grep '^reconcile' <<<"$OUT")"
check_eq "the clone names both payments at the same seq; the event names them; all three payments taken (20.00 - 3.00 - 4.00 - 2.00)" \
    "clone|$MARTA|t1/e$E1/s7 and t2/e$E2/s2 at counter 2|blocked|reconcile clone: t1/e$E1/s7 and t2/e$E2/s2 at counter 2|1100" \
    "$(q "select kind || '|' || card_id || '|' || evidence from reconcile_finding")|$(q "select status from card where card_id = $MARTA")|$(q "select reason from card_event where card_id = $MARTA order by id desc limit 1")|$(bal "$MARTA_ACC" EUR)"
for t in 1 2; do
    run_capture "$LEAL" terminal package --terminal $t -o "$T/p${t}b.lpkg" --json
    check_eq "terminal $t's next package hot-lists Marta" "0 1" "$RC $(field hot_list <<<"$OUT")"
    "$LT" load "$T/p${t}b.lpkg" --data "$T/till$t" >/dev/null
done
tap 1 marta --pay 1 --json
check_eq "terminal 1: the original refused, hot-listed, exit 3" "3 refused LEAL_E_TERMINAL_HOT_LISTED" \
    "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT")"
tap 2 copy --pay 1 --json
check_eq "terminal 2: the copy refused, hot-listed, exit 3" "3 refused LEAL_E_TERMINAL_HOT_LISTED" \
    "$RC $(jfield '["outcome"]' <<<"$OUT") $(jfield '["reason"]["name"]' <<<"$OUT")"
run_capture "$LEAL" ledger verify
check_match "ledger verify" "^ledger ok" "$OUT"
finish
