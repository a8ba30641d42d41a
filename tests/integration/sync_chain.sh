#!/bin/bash
# sync_chain.sh - the chain generator's journals (tests/tools/chain_gen: a
# ledger of 3 terminals and 20 carded customers, a week of 600 taps under each
# terminal's journal key from a real keystore) import exactly once with exact
# totals: three `leal sync import` processes take all three exports at the
# same time (each in its own order, so every file is imported three times and
# in parallel), then one more import of them all posts nothing. The ledger's
# customer accounts then hold the seed plus exactly the points and euros the
# generator's cards moved, each terminal's entries are in once, and
# `leal ledger verify` holds.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-sync-chain-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="sync chain passphrase"
DB=$T/ledger.db
J=$T/journals

"$LEAL" keys init --issuer Chain --program 7 >/dev/null
run_capture "$LEAL_BUILD/tests/tools/chain_gen" --keystore "$XDG_DATA_HOME/leal/keystore" \
    --db "$DB" --out "$J" --terminals 3 --cards 20 --entries 600
check_eq "the generator: 3 exports of 201 entries (200 taps and the epoch's start)" \
    "0|chain 3 terminals 20 cards 603 entries: points 9502 euro_cents -52605|" "$RC|$OUT|$ERR"

orders=("1 2 3" "3 2 1" "2 3 1")
for i in 0 1 2; do
    files=()
    for t in ${orders[$i]}; do files+=("$J/t$t.journal"); done
    "$LEAL" sync import "${files[@]}" --db "$DB" >"$T/out.$i" 2>&1 &
    PIDS+=($!)
done
fails=0
for p in "${PIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
PIDS=()
check_eq "three importers of the same three files at once: all succeed" "0" "$fails"
taken() { # FILES...: "terminal:taken" summed over the outputs, by terminal
    sed -n 's/^.*terminal \([0-9]*\), .*: \([0-9]*\) taken.*/\1 \2/p' "$@" |
        awk '{ s[$1] += $2 } END { for (t = 1; t <= 3; t++) printf "%d:%d ", t, s[t] }'
}
check_eq "each terminal's 201 entries taken once across the three importers" "1:201 2:201 3:201 " \
    "$(taken "$T"/out.*)"

run_capture "$LEAL" sync import "$J/t1.journal" "$J/t2.journal" "$J/t3.journal" --db "$DB"
check_eq "a fourth import of all three takes nothing" "0|1:0 2:0 3:0 " \
    "$RC|$(printf '%s\n' "$OUT" >"$T/again" && taken "$T/again")"
check_match "and says they are already there" "0 taken.*201 already there" "$OUT"

sums() {
    sqlite3 "$DB" "select group_concat(asset || '=' || s, ' ') from (select asset, sum(amount) s
        from balance b join account a on a.id = b.account_id where a.kind = 'customer'
        and asset in ('EUR', 'PTS') group by asset order by asset)"
}
# 20 cards seeded with 50,000 cents and 1,000 points each, and what the cards moved.
check_eq "customer accounts: the seed plus exactly what the generator's cards moved" \
    "EUR=$((20 * 50000 - 52605)) PTS=$((20 * 1000 + 9502))" "$(sums)"
check_eq "every terminal entry once, none held" "603|0" \
    "$(sqlite3 "$DB" "select count(*) from terminal_entry; select count(*) from terminal_entry where outcome = 'held'" | tr '\n' '|' | sed 's/|$//')"
run_capture "$LEAL" ledger verify --db "$DB"
check_match "ledger verify" "^ledger ok" "$OUT"
finish
