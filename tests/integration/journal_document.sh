#!/bin/bash
# journal_document.sh - firmware/core/JOURNAL.md is enough to implement from: a
# reader written from that page alone (journal_decode.py, python3-cryptography)
# derives the terminal's journal key from the master as KEYS.md says, reads the
# golden export (tests/vectors/leal_journal.txt, which journal_test rebuilds
# byte for byte from leal's journal) field by field, verifies every entry's MAC,
# the chain and the export MAC, and the ack against it; and refuses a flipped
# bit in an entry, in the export MAC and in the ack, and the wrong master.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

DEC="$PY tests/integration/journal_decode.py"
V=tests/vectors/leal_journal.txt
val() { sed -n "s/^$1 = //p" "$V"; }
EXPORT=$(val EXPORT)
ACK=$(val ACK)
MASTER=000102030405060708090a0b0c0d0e0f

run_capture $DEC --vectors "$V"
check_eq "the golden journal reads and verifies" 0 "$RC"
check_match "KEY is the key KEYS.md derives, the export header" \
    "export key version 2 program 7 terminal 3 epoch 1780000000 seq 1..4 count 4" "$OUT"
check_match "seq 1 is the EPOCH entry" \
    "seq 1 EPOCH kind 0 time 1780000000\+60 card 0 counter 0->0 package 0 ref 0/0" "$OUT"
check_match "seq 2: the earn, its card, counters, points, balances and three lines" \
    "seq 2 earn kind 1 time 1780000060\+60 card 102030405060708 counter 12->13 package 5 ref 0/0 item 0 amount 2350 purse 0 points 56 qty 0 bono 0 after 156/1000/1 stamps 3.0.0.0 reason 0 lines 1:0:0:28,2:0:1:14,4:0:1:14" "$OUT"
check_match "seq 3: the pay of 3.00" \
    "seq 3 pay kind 1 time 1780000120\+60 card 102030405060708 counter 13->14 package 5 ref 0/0 item 0 amount 0 purse 300 points 0" "$OUT"
check_match "seq 4: the refusal of an earn, reason 203 (LEAL_E_CARD_BLOCKED)" \
    "seq 4 refusal kind 2 time 1780000180\+60 card 11 counter 4->4 package 5 ref 0/0 item 1 amount 1000 .* reason 203 lines $" "$OUT"
check_eq "four entries, then the export and the ack verify" "4 export ok|ack ok" \
    "$(echo "$OUT" | grep -c '^seq ') $(echo "$OUT" | tail -2 | paste -sd'|')"

run_capture $DEC $MASTER 0x11223344 7 3 "$EXPORT" "$ACK"
check_eq "given by master, issuer, program and terminal: the same" "0 ack ok" "$RC $(echo "$OUT" | tail -1)"

# flip HEX BYTE: the hex with bit 0 of byte BYTE inverted
flip() { $PY -c 'import sys; b=bytearray.fromhex(sys.argv[1]); b[int(sys.argv[2])]^=1; print(b.hex())' "$1" "$2"; }
run_capture $DEC $MASTER 0x11223344 7 3 "$(flip "$EXPORT" 100)" "$ACK"
check_eq "a flipped bit in an entry: refused" "1 refused: export MAC fails" "$RC $ERR"
# remac HEX: the export with its export MAC made right again under the key
remac() {
    $PY -c 'import sys; sys.path.insert(0, "tests/integration"); import journal_decode as d
k = d.journal_key(bytes.fromhex(sys.argv[2]), 0x11223344, 7, 3); x = bytes.fromhex(sys.argv[1])
print((x[:-16] + d.cmac(k, x[:-16])).hex())' "$1" "$MASTER"
}
run_capture $DEC $MASTER 0x11223344 7 3 "$(remac "$(flip "$EXPORT" 100)")" "$ACK"
check_eq "... and with the export MAC made right: the entry's own MAC refuses it" \
    "1 refused: entry MAC fails (seq 1)" "$RC $ERR"
run_capture $DEC $MASTER 0x11223344 7 3 "$(remac "$(flip "$EXPORT" 345)")" "$ACK"
check_eq "a flipped bit in the pay's sequence, re-MACed: refused by sequence" \
    "1 refused: sequence 2 where 3 was due" "$RC $ERR"
run_capture $DEC $MASTER 0x11223344 7 3 "$(flip "$EXPORT" 601)" "$ACK"
check_eq "a flipped bit in the export MAC: refused" "1 refused: export MAC fails" "$RC $ERR"
run_capture $DEC $MASTER 0x11223344 7 3 "$EXPORT" "$(flip "$ACK" 30)"
check_eq "a flipped bit in the ack: refused" "1 refused: ack MAC fails" "$RC $ERR"
run_capture $DEC 0f0102030405060708090a0b0c0d0e0f 0x11223344 7 3 "$EXPORT" "$ACK"
check_eq "another master (another terminal's key): refused" "1 refused: export MAC fails" "$RC $ERR"
run_capture $DEC $MASTER 0x11223344 7 4 "$EXPORT" "$ACK"
check_eq "terminal 4's key: refused" "1 refused: export MAC fails" "$RC $ERR"

# The state lines (JOURNAL.md "State lines"): the golden of leal_journal_state.txt, whose
# bytes journal_test rebuilds with leal's journal, read by the same reader.
SV=tests/vectors/leal_journal_state.txt
run_capture $DEC --vectors "$SV"
check_eq "the state-lines golden reads and verifies" "0 export ok|ack ok" \
    "$RC $(echo "$OUT" | tail -2 | paste -sd'|')"
check_match "a pay + earn: the card before it from its state lines, then the host line" \
    "seq 2 pay\+earn kind 1 .* after 89/700/1 stamps 0.2.0.0 reason 0 before 65/1/2.1.0.0 period 317 buckets 40.12.0.3 seq 12 lines 1:0:0:23,4:0:77:1,16:0:1234:40$" "$OUT"
check_match "a Classic earn: a new card before it" \
    "seq 3 earn kind 2 .* before 25/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 4 lines 1:0:0:10$" "$OUT"
SEXP=$(sed -n 's/^EXPORT = //p' "$SV")
SACK=$(sed -n 's/^ACK = //p' "$SV")
# The two state lines of seq 2 swapped (bytes 32+112+28 .. +56), re-MACed: refused.
swapped=$($PY -c 'import sys; sys.path.insert(0, "tests/integration"); import journal_decode as d
k = d.journal_key(bytes(range(16)), 0x11223344, 7, 3); x = bytearray.fromhex(sys.argv[1])
a = 32 + 112 + 28; x[a:a + 28] = x[a + 14:a + 28] + x[a:a + 14]
e = bytes(x[32:32 + 198 - 16]); x[32 + 198 - 16:32 + 198] = d.cmac(k, e)
x[-16:] = d.cmac(k, bytes(x[:-16])); print(x.hex())' "$SEXP")
run_capture $DEC $MASTER 0x11223344 7 3 "$swapped" "$SACK"
check_eq "state lines swapped (MACs made right): refused" "1 refused: state lines out of place" "$RC $ERR"
finish
