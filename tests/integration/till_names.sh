#!/bin/bash
# till_names.sh - the README's list of the names a till can receive (`error
# NAME`, `REFUSED: NAME`, from the board or `leal-terminal serve --stdio`) is
# exactly what `make -s till-names` prints from the one table (keys/base/err.c
# kept to the codes the board's and the PC port's sources name), in its order;
# and that covers the board's own table (build/firmware/err_board.c).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

WANT=$(make -s --no-print-directory till-names)
HAVE=$(sed -n '/^<!-- till-names/,/^<!-- \/till-names -->/p' README.md | grep -v '^<!--' |
    grep -o 'LEAL_E_[A-Z0-9_]*')
check_match "make till-names prints one name a line, the first the table's first error" \
    "^LEAL_E_INTERNAL$" "$(printf '%s\n' "$WANT" | head -1)"
check_eq "it names a tap's refusals, the board's replies and serve's own, never a host-only code" \
    "LEAL_E_TERMINAL_HOT_LISTED LEAL_E_NO_CARD LEAL_E_TILL_BOARD_LINE -" \
    "$(for n in LEAL_E_TERMINAL_HOT_LISTED LEAL_E_NO_CARD LEAL_E_TILL_BOARD_LINE LEAL_E_CONSENT_PURPOSE; do
        printf '%s\n' "$WANT" | grep -qx "$n" && printf '%s ' "$n"; done; echo -)"
# make test builds the board (make firmware) and so its table.
BOARD=$(sed -n 's/^    \(LEAL_E_[A-Z0-9_]*\),$/\1/p' build/firmware/err_board.c)
check_match "the board's table (build/firmware/err_board.c) holds its names" "^[0-9]{3}$" \
    "$(printf '%s\n' "$BOARD" | grep -c .)"
check_eq "every one of them is in it" "" \
    "$(printf '%s\n' "$BOARD" | grep -vxF -f <(printf '%s\n' "$WANT") | tr '\n' ' ')"
check_eq "the README lists exactly those names, in code order (diff README make)" "" \
    "$(diff <(printf '%s\n' "$HAVE") <(printf '%s\n' "$WANT") | grep '^[<>]' | tr '\n' ' ')"
check_eq "as many as make prints" "$(printf '%s\n' "$WANT" | wc -l)" "$(printf '%s\n' "$HAVE" | wc -l)"
finish
