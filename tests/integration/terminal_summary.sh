#!/bin/bash
# terminal_summary.sh - the journal's running summary at a POSIX terminal
# (firmware/core/journal_sum.h, JOURNAL.md "The summary"): one-shot taps keep
# journal.sum beside journal.dat, and a tap whose summary is current reads
# one journal slot, not the journal; a package with a day cap of 10.00 and a
# card with 20.00: pay 4,00 and pay 4,00 again, then the summary file is put
# back to its copy before the second pay (its save lost to a power cut),
# torn at several lengths, flipped, or removed: each time a pay of 3,00 is
# refused over the day's cap (exit 3), as the journal says, and 2,00 passes
# once; strace counts the journal reads of a one-shot tap.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
clear_of_midnight 60 UTC Europe/Madrid # the day's cap, reckoned once

T=$(mktemp -d /tmp/leal-terminal-sum-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field '["card_id"]')
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 --day-cap 10 --sync-cap 100 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null

pay() { run_capture "$LT" tap --pay "$1" --reader "sim:$T/ana.json" --data "$D"; }

pay 4,00
check_eq "pay 4,00: done, and journal.sum is written" "0|yes" "$RC|$([ -s "$D/journal.sum" ] && echo yes)"
cp "$D/journal.sum" "$T/before.sum"
pay 4,00
check_eq "pay 4,00 again: 12.00 left" "0|card $ANA pay: paid 4.00, 12.00 euros left" "$RC|$OUT"
check_eq "the summary moved on with the second pay" 1 "$(cmp -s "$T/before.sum" "$D/journal.sum"; echo $?)"
cp "$D/journal.sum" "$T/after.sum"
LEN=$(stat -c %s "$T/after.sum")
check_eq "journal.sum: a 56-byte header, one card of 51, an empty local hot list (8), its MAC" \
    131 "$LEN"

# Each way the saved summary can be wrong: the refusal still counts both pays.
REFUSAL="card $ANA pay: REFUSED: card refused: the payment would pass the offline spending cap per card per day; pay another way"
DONE="card $ANA pay: paid 2.00, 10.00 euros left"
refused_over_cap() {
    pay 3,00
    check_eq "$1: pay 3,00 refused over the day's cap (4 + 4 + 3 > 10)" \
        "3|card" "$RC|${OUT%% *}"
    check_eq "$1: the operator's line" "$REFUSAL" "$OUT"
}
cp "$T/before.sum" "$D/journal.sum"
refused_over_cap "the copy before the second pay (a lost save)"
for n in 0 1 55 56 100 130; do
    head -c "$n" "$T/after.sum" >"$D/journal.sum"
    refused_over_cap "journal.sum torn at $n bytes"
done
cp "$T/after.sum" "$D/journal.sum"
# The card's day total (bytes 79-86: 56 + 23, BE) from 8.00 to 0.00: its MAC fails.
printf '\x00\x00' | dd of="$D/journal.sum" bs=1 seek=85 conv=notrunc status=none
check_eq "the day's total rewritten in the file" 1 "$(cmp -s "$T/after.sum" "$D/journal.sum"; echo $?)"
refused_over_cap "journal.sum with its day total set to 0"
rm -f "$D/journal.sum"
refused_over_cap "no journal.sum"

pay 2,00
check_eq "pay 2,00 fits the day's cap: done" 0 "$RC"
check_eq "pay 2,00: 10.00 left" "$DONE" "$OUT"
pay 0,01
check_eq "then 0,01 more is over the cap" 3 "$RC"

# The journal reads of one one-shot tap (a 2,048-slot journal.dat, its head in
# the first unit): with the summary current, the open's scan of every slot,
# its chain walk and tail (1,936 + 111), the last operation's slot and the
# append's read-back = 4,097; without journal.sum, the rebuild walks the 1,936
# stored slots once more - the walk every one-shot tap paid before, and the
# caps' walk of the unacknowledged entries besides.
slot_reads() {
    strace -f -e trace=pread64 -o "$T/strace" "$LT" tap --balance --reader "sim:$T/ana.json" \
        --data "$D" >/dev/null 2>&1
    grep -c 'pread64(.*, 512, ' "$T/strace"
}
if command -v strace >/dev/null; then
    check_eq "a one-shot tap with its summary: 4,097 journal reads" 4097 "$(slot_reads)"
    rm -f "$D/journal.sum"
    check_eq "the same without journal.sum: 6,032" 6032 "$(slot_reads)"
    check_eq "and it is saved again for the next tap" 4097 "$(slot_reads)"
fi
finish
