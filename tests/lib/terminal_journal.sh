# shellcheck shell=bash
# terminal_journal.sh - a terminal's journal export as journal_decode.py reads
# it, for the tests that tap one table through a reader (terminal_nfc.sh,
# terminal_pcsc.sh). Sourced after testlib.sh.

# journal_times NAME DEC N: DEC's N entries' local times from the EPOCH's on,
# never back, each at +60 minutes (Madrid in December, the package's site),
# the EPOCH's (the journal's own, UTC) at +0.
journal_times() {
    local e times
    e=$(sed -n 's/^export .* epoch \([0-9]*\) seq .*/\1/p' <<<"$2")
    times=$(sed -n 's/^seq [0-9]* [A-Za-z+]* kind [0-9] time \([0-9]*\)\([+-][0-9]*\) .*/\1 \2/p' <<<"$2")
    check_eq "$1" "$3|0|$e +0" \
        "$(wc -l <<<"$times")|$(awk -v e="$e" 'NR > 1 && ($1 < p || $2 != "+60") { bad++ } { p = $1 } $1 < e { bad++ } END { print bad + 0 }' <<<"$times")|$(head -1 <<<"$times")"
}

# journal_entries DEC: DEC's entries, each entry's time as T.
journal_entries() {
    grep '^seq ' <<<"$1" | sed 's/ time [0-9]*[+-][0-9]* / time T /'
}

# desfire_table_entries CARD_HEX EPOCH PERIOD REWARD BONO: the EPOCH and the
# entries of the DESFire EV1 rows both tests tap first (earn 23,50, pay 3,00,
# pay 2,00 + earn 10,00, redeem, stamp 1, bono, void, a void refused, balance)
# on a card issued with 20.00 and a bono of 10 sessions. Reasons: 466 nothing
# to void. The counter starts at 2 (the desk's issue and top-up; the bono
# sold writes the bono file only). On an earn and a pay + earn, "before" is
# the card's state as the terminal read it (points, tier, stamps, the period
# in months since 1999-12 in Madrid, 0 before its first earn, the euros spent
# in it, and the state file's seq, which counts its writes from 0 at the
# issue: an earn and a pay write it). Purse after only where the tap read the
# purse: pay, pay + earn, balance.
desfire_table_entries() {
    local a=$1 e=$2 p=$3 reward=$4 bono=$5 z="ref 0/0 item 0 amount 0 purse 0 points 0 qty 0 bono 0"
    echo "seq 1 EPOCH kind 0 time T card 0 counter 0->0 package 0 $z after 0/0/0 stamps 0.0.0.0 reason 0 lines 
seq 2 earn kind 1 time T card $a counter 2->3 package 1 ref 0/0 item 0 amount 2350 purse 0 points 23 qty 0 bono 0 after 23/0/0 stamps 0.0.0.0 reason 0 before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 0 lines 1:0:0:23
seq 3 pay kind 1 time T card $a counter 3->4 package 1 ref 0/0 item 0 amount 0 purse 300 points 0 qty 0 bono 0 after 23/1700/0 stamps 0.0.0.0 reason 0 lines 
seq 4 pay+earn kind 1 time T card $a counter 4->5 package 1 ref 0/0 item 0 amount 1000 purse 200 points 10 qty 0 bono 0 after 33/1500/0 stamps 0.0.0.0 reason 0 before 23/0/0.0.0.0 period $p buckets 23.0.0.0 seq 2 lines 1:0:0:10
seq 5 redeem kind 1 time T card $a counter 5->6 package 1 ref 0/0 item $reward amount 0 purse 0 points -20 qty 0 bono 0 after 13/0/0 stamps 0.0.0.0 reason 0 lines 
seq 6 stamp kind 1 time T card $a counter 6->7 package 1 ref 0/0 item 0 amount 0 purse 0 points 0 qty 1 bono 0 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 7 bono kind 1 time T card $a counter 7->8 package 1 ref 0/0 item $bono amount 0 purse 0 points 0 qty 1 bono 9 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 8 void kind 1 time T card $a counter 8->9 package 1 ref $e/7 item $bono amount 0 purse 0 points 0 qty -1 bono 10 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 9 refusal kind 1 time T card $a counter 9->9 package 1 ref 0/0 item 7 amount 0 purse 0 points 0 qty 0 bono 0 after 13/0/0 stamps 1.0.0.0 reason 466 lines 
seq 10 balance kind 1 time T card $a counter 9->9 package 1 $z after 13/1500/0 stamps 1.0.0.0 reason 0 lines "
}
