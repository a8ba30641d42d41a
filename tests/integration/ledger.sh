#!/bin/bash
# ledger.sh - the ledger commands end to end on a real SQLite file: program,
# store, terminal, customers, accounts, cards, manual adjustments, voids,
# verify, backup, schema versions; every bad-input case of issue 5 exits 2
# with its one-line error and leaves the database exactly as it was (the
# full .dump compared before and after).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
# The schema version this leal writes (host/ledger/ledger.h).
SCHEMA=$(sed -n "s/^#define LEDGER_SCHEMA_VERSION \([0-9]*\)$/\1/p" host/ledger/ledger.h)

T=$(mktemp -d /tmp/leal-ledger-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg

l() { run_capture "$LEAL" "$@" --db "$DB"; }
dump() { sqlite3 "$DB" .dump | sha256sum; }
q() { sqlite3 "$DB" "$1"; }

# bad NAME EXPECTED_ERR_REGEX ARGS...: exit 2, the error, nothing written.
bad() {
    local name=$1 re=$2 before
    shift 2
    before=$(dump)
    l "$@"
    check_eq "$name: exit 2" 2 "$RC"
    check_match "$name: error" "$re" "$ERR"
    check_eq "$name: one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
    check_eq "$name: nothing written" "$before" "$(dump)"
}

l program create --code cafe --name "Café Sol" --kind collective --points-per-euro 1,2 \
    --points-expiry-days 365
check_eq "program create" "0|program 1 created (cafe)" "$RC|$OUT"
check_eq "program accounts" "10" "$(q "select count(*) from account where kind='program'")"
check_eq "points rate 1,2 per euro" "1200" "$(q 'select points_per_euro_milli from program')"
check_eq "WAL mode" "wal" "$(q 'pragma journal_mode')"
l store add --program 1 --code centro --name "Sol Centro" --tz Europe/Madrid
check_eq "store add" "0|store 1 added to program 1" "$RC|$OUT"
l terminal add --store 1 --name "caja 1" --json
check_eq "terminal add json" '0|{"id":1,"epoch":1}' "$RC|$OUT"
l terminal new-epoch 1
check_eq "terminal new epoch" "0|terminal 1 is now at epoch 2" "$RC|$OUT"
l customer add --program 1 --name Alicia --surname "García López" --email alicia@example.es \
    --phone +34600111222 --birth-date 1985-02-28 --gender female --address "C/ Mayor 1, Madrid" \
    --preferences "café solo"
check_eq "customer add" "0|customer 1 added, account 11" "$RC|$OUT"
l customer add --program 1 --name Bernardo --surname Ruiz --email b@example.es --json
check_eq "customer add json" '0|{"id":2,"account":12}' "$RC|$OUT"
l account add --program 1
check_eq "gift card account" "0|account 13 added" "$RC|$OUT"
l account add-card 11 --card-id 900001 --uid 04A1B2C3D4E5F6 --tech desfire-ev3
check_eq "card add" "0|card 900001 added to account" "$RC|$OUT"
l account add-card 11 --card-id 900002 --uid deadbeef --tech classic-1k --status pending
check_eq "second card on the same account" 0 "$RC"

l customer edit 1 --phone +34600999888
check_match "customer edit shows new phone" "^phone +\+34600999888$" "$OUT"
l customer show 1 --json
check_eq "customer show json" \
    '{"id":1,"program":1,"account":11,"name":"Alicia","surname":"García López","email":"alicia@example.es","phone":"+34600999888","birth_date":"1985-02-28","gender":"female","address":"C/ Mayor 1, Madrid","preferences":"café solo","notes":[]}' \
    "$OUT"
l customer consent 1 --channel email --granted yes --method "paper form" --by Marta
check_eq "consent" "0|consent recorded" "$RC|$OUT"
l customer note 1 --by Marta "prefers the morning shift"
check_eq "note" "0|note added" "$RC|$OUT"
l customer show 1
check_match "show lists consent" "^  email +granted .*, paper form, by Marta$" "$OUT"
check_match "show lists notes" "^notes$" "$OUT"
check_match "show lists the note" "^  [0-9-]+ [0-9:]+ UTC, Marta: prefers the morning shift$" "$OUT"
l customer show 1 --json
check_eq "show json has the note" "Marta|prefers the morning shift" \
    "$(echo "$OUT" | $PY -c 'import json,sys; n=json.load(sys.stdin)["notes"]; print(n[0]["author"] + "|" + n[0]["text"])')"
for s in "--name ali" "--name GARC" "--email ALICIA@example.es" "--phone +34600999888" \
    "--card-id 900001" "--uid 04a1b2c3d4e5f6" "--uid DEADBEEF"; do
    # shellcheck disable=SC2086
    l customer search $s --json
    check_eq "search $s" "0|1" "$RC|$(echo "$OUT" | grep -o '"id":[0-9]*' | sed 's/"id"://' | tr '\n' ' ' | xargs)"
done
l customer search --name zz
check_eq "search without match" "0|no customers" "$RC|$OUT"
l customer list --json
check_eq "list has both" "2" "$(echo "$OUT" | grep -o '"id":' | wc -l)"

# Manual adjustments ("dar o quitar puntos manualmente").
l ledger post --account 11 --asset EUR --amount 20,00 --reason "saldo inicial" --operator Marta \
    --request-id req-1 --json
check_eq "post euros" '0|{"entry":1,"replayed":false}' "$RC|$OUT"
l ledger post --account 11 --asset EUR --amount 20,00 --reason "saldo inicial" --operator Marta \
    --request-id req-1
check_eq "retry answers with the original" \
    "0|entry 1 was already posted (same request id and content)" "$RC|$OUT"
l ledger post --account 11 --asset PTS --amount 150 --reason "bienvenida" --operator Marta \
    --expires 2027-12-31 --request-id req-2
check_eq "post points" "0|entry 2 posted" "$RC|$OUT"
check_eq "lot expiry is the end of that day (UTC)" "1830297600" "$(q 'select expires_at from lot')"
l ledger post --account 11 --asset PTS --amount -40 --reason "regalo canjeado" --operator Pepe \
    --request-id req-3
check_eq "take points" "0|entry 3 posted" "$RC|$OUT"
l ledger post --account 11 --asset STAMP:cafe --amount 3 --reason "sellos" --operator Pepe \
    --request-id req-4
check_eq "stamps" 0 "$RC"
l ledger post --account 13 --asset EUR --amount 50 --counter gift_sold --kind gift_sale \
    --reason "tarjeta regalo" --operator Marta --request-id req-5
check_eq "gift card sold" "0|entry 5 posted" "$RC|$OUT"
l account show 11
check_eq "account show" "account 11 (customer) program 1 customer 1
balances
  EUR                       20.00
  PTS                         110
  STAMP:cafe                    3
cards
  900001               04A1B2C3D4E5F6       desfire-ev3  active    0
  900002               DEADBEEF             classic-1k   pending   0" \
    "$(echo "$OUT" | sed -n '1,8p')"
check_match "account show movements" "^  3 .* adjust +PTS +-40  Pepe +regalo canjeado$" "$OUT"
l account show 8
check_match "program adjustments account" "^account 8 \(program adjustments\)" "$OUT"
check_match "program adjustments balance" "EUR +-20.00" "$OUT"
l account history 11 --limit 2
check_eq "history page 1, newest first" "4 3" "$(echo "$OUT" | awk '$1 ~ /^[0-9]+$/ {print $1}' | xargs)"
check_match "history says how to page" "^more: --before 3$" "$OUT"
l account history 11 --limit 2 --before 3
check_eq "history page 2" "1 2" "$(echo "$OUT" | awk '$1 ~ /^[0-9]+$/ {print $1}' | sort | xargs)"

l ledger void 3 --reason "error de caja" --operator Marta
check_eq "void names both entries" "0|entry 3 voided by entry 6" "$RC|$OUT"
check_eq "void gave the points back" "150" "$(q 'select amount from balance where account_id=11 and asset="PTS"')"
l ledger verify
check_eq "verify" "0|ledger ok: 6 entries, 12 lines, 13 accounts" "$RC|$OUT"
l ledger expire --program 1 --operator nightly --at 2027-12-31
check_eq "nothing expired yet" "0|expired 0 points in 0 accounts" "$RC|$OUT"
cp "$DB" "$T/expire.db"
run_capture "$LEAL" ledger expire --program 1 --operator nightly --at 2028-01-01 --json \
    --db "$T/expire.db"
check_eq "lot expires the day after" '0|{"accounts":1,"points":150}' "$RC|$OUT"
check_eq "expired account" "150" \
    "$(sqlite3 "$T/expire.db" "select amount from balance where account_id = 5 and asset = 'PTS'")"

# Every bad input: exit 2, one line, nothing written.
bad "unknown account" "^leal: ledger post: account 99: no such id" \
    ledger post --account 99 --asset EUR --amount 1 --reason x --operator y
bad "unknown entry void" "^leal: ledger void: entry 77: no such id" \
    ledger void 77 --reason x --operator y
bad "idempotency conflict" "^leal: ledger post: the key is entry 1's: this request id was already used" \
    ledger post --account 11 --asset EUR --amount 20,01 --reason "saldo inicial" --operator Marta \
    --request-id req-1
bad "void of a void" "^leal: ledger void: entry 6 is a void: a void cannot be voided" \
    ledger void 6 --reason x --operator y
bad "second void" "^leal: ledger void: entry 3 was voided by entry 6: this entry was already voided" \
    ledger void 3 --reason "otra vez" --operator Pepe
bad "thousands separator" "^leal: --amount '1.234,50': malformed amount" \
    ledger post --account 11 --asset EUR --amount 1.234,50 --reason x --operator y
bad "thousands separator (comma)" "^leal: --amount '1,234.50': malformed amount" \
    ledger post --account 11 --asset EUR --amount 1,234.50 --reason x --operator y
bad "three decimals" "^leal: --amount '12.345': malformed amount" \
    ledger post --account 11 --asset EUR --amount 12.345 --reason x --operator y
bad "amount overflow" "^leal: --amount '92233720368547758.08': amount too large" \
    ledger post --account 11 --asset EUR --amount 92233720368547758.08 --reason x --operator y
bad "points overflow" "^leal: --amount '99999999999999999999': amount too large" \
    ledger post --account 11 --asset PTS --amount 99999999999999999999 --reason x --operator y
bad "fractional points" "^leal: --amount '1.5': malformed amount" \
    ledger post --account 11 --asset PTS --amount 1.5 --reason x --operator y
bad "malformed expiry" "^leal: --expires '2027-02-30': malformed date" \
    ledger post --account 11 --asset PTS --amount 1 --reason x --operator y --expires 2027-02-30
bad "malformed birth date" "^leal: customer add: birth date '1985-13-01': malformed date" \
    customer add --program 1 --name X --birth-date 1985-13-01
bad "no reason" "^leal: ledger post: a reason and the operator's name are required" \
    ledger post --account 11 --asset EUR --amount 1 --operator y
bad "unknown asset" "^leal: --asset 'euros': unknown asset" \
    ledger post --account 11 --asset euros --amount 1 --reason x --operator y
bad "overdraw" "^leal: ledger post: account 11 would hold -1 EUR: balance too low" \
    ledger post --account 11 --asset EUR --amount -20,01 --reason x --operator y
bad "unknown program" "^leal: store add: program 9: no such id" \
    store add --program 9 --code x --name y --tz UTC
bad "malformed id" "^leal: account 'abc': malformed number" account show abc
bad "duplicate card" "^leal: account add-card: card 900001: this id or code is already in use" \
    account add-card 12 --card-id 900001 --uid 0102 --tech classic-4k
bad "unknown customer" "^leal: customer show: customer 42: no such id" customer show 42
bad "expire without operator" "^leal: ledger expire: a reason and the operator's name are required" \
    ledger expire --program 1
bad "expire bad date" "^leal: --at '2028-1-1': malformed date" \
    ledger expire --program 1 --operator x --at 2028-1-1
bad "unknown option" "^leal: unknown option '--amout'" \
    ledger post --account 11 --asset EUR --amout 1 --reason x --operator y

# Issue 10 section 4: request ids in leal's own namespaces are refused from a
# person (a manual post could take the next top-up's key), and so is any kind
# but adjust (and gift_sale), with a message about the input.
for rid in card:900001:log:2 card:900001:seq:1 void:1 expire:11:1830297600 sync:900001:1; do
    bad "reserved request id $rid" \
        "^leal: --request-id '$rid': request ids starting card:, void:, expire:, sync: or desk: are leal's own; choose another$" \
        ledger post --account 11 --asset PTS --amount 5 --reason x --operator y --request-id "$rid"
done
bad "reserved request id on a void" "^leal: --request-id 'card:900001:log:9': request ids" \
    ledger void 2 --reason x --operator y --request-id card:900001:log:9
for k in refund regalo topup void; do
    bad "--kind $k" \
        "^leal: --kind '$k': a manual post is kind adjust \(or gift_sale to sell a gift card\); other kinds have their own commands$" \
        ledger post --account 11 --asset PTS --amount 5 --reason x --operator y --kind "$k"
done

# Text fields: valid UTF-8 without bidirectional controls.
bad "name with byte 0xFF" "^leal: customer add: name: not valid UTF-8 \(byte 0xFF at 2\): text too long" \
    customer add --program 1 --name "$(printf 'Jo\xffe')"
bad "bidi override in a reason" "^leal: ledger post: reason: a bidirectional control \(U\+202E\)" \
    ledger post --account 11 --asset PTS --amount 5 --operator y \
    --reason "$(printf 'regalo \xe2\x80\xae 0001')"
bad "bidi isolate in a surname" "^leal: customer add: surname: a bidirectional control \(U\+2067\)" \
    customer add --program 1 --name Eva --surname "$(printf 'Ruiz\xe2\x81\xa7')"
bad "C1 control in a note" "^leal: customer note: note: a control character \(U\+0085\)" \
    customer note 1 --by Marta "$(printf 'a\xc2\x85b')"
bad "overlong UTF-8" "^leal: customer add: name: not valid UTF-8 \(byte 0xC0 at 0\)" \
    customer add --program 1 --name "$(printf '\xc0\xaf')"
# JSON output stays JSON even over bytes written by older leal versions.
cp "$DB" "$T/bytes.db"
sqlite3 "$T/bytes.db" "update customer_pii set name = cast(x'4a6fff65' as text), address = 'a\"b' || char(1) where customer_id = 2"
run_capture "$LEAL" customer show 2 --json --db "$T/bytes.db"
check_eq "json over a 0xFF name parses" "0|Jo\ufffde|a\"b\u0001" \
    "$RC|$(echo "$OUT" | $PY -c 'import json,sys; c=json.load(sys.stdin); print(c["name"].encode("unicode_escape").decode() + "|" + c["address"].encode("unicode_escape").decode().replace("\\x01","\\u0001"))')"
run_capture "$LEAL" customer list --json --db "$T/bytes.db"
check_eq "json list over a 0xFF name parses" "0|2" \
    "$RC|$(echo "$OUT" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# Time zones: names of the tz database only; shown in the store's local time.
bad "tz Madrid" "^leal: --tz 'Madrid': unknown time zone; use a tz database name like Europe/Madrid$" \
    store add --program 1 --code x --name y --tz Madrid
bad "tz path" "^leal: --tz '../../etc/passwd': unknown time zone" \
    store add --program 1 --code x --name y --tz ../../etc/passwd
bad "tz absolute" "^leal: --tz '/etc/passwd': unknown time zone" \
    store add --program 1 --code x --name y --tz /etc/passwd
bad "tz folder" "^leal: --tz 'Europe': unknown time zone" \
    store add --program 1 --code x --name y --tz Europe
cp "$DB" "$T/tz.db"
run_capture "$LEAL" store add --program 1 --code norte --name "Sol Norte" --tz America/New_York --db "$T/tz.db"
check_eq "tz America/New_York" "0|store 2 added to program 1" "$RC|$OUT"
run_capture "$LEAL" ledger post --account 12 --asset PTS --amount 7 --reason "en tienda" \
    --operator Pepe --store 1 --request-id tz-1 --db "$T/tz.db"
run_capture "$LEAL" ledger post --account 12 --asset PTS --amount 8 --reason "en tienda" \
    --operator Pepe --store 2 --request-id tz-2 --db "$T/tz.db"
sqlite3 "$T/tz.db" "update entry set at = 1795435200 where request_id in ('tz-1', 'tz-2')" # 2026-11-23 12:00 UTC
run_capture "$LEAL" account history 12 --db "$T/tz.db"
check_match "history in Madrid's local time" "^  [0-9]+ +2026-11-23 13:00 CET +adjust +PTS +7 " "$OUT"
check_match "history in New York's local time" "^  [0-9]+ +2026-11-23 07:00 EST +adjust +PTS +8 " "$OUT"

# Import: a line longer than the buffer is refused whole (it once became two
# entries), and every refused line is named.
cp "$DB" "$T/import.db"
{
    echo "imp-1,12,8,PTS,5,ok,robot"
    printf 'imp-2,12,8,PTS,5,%s,robot\n' "$(head -c 1034 /dev/zero | tr '\0' x)"
    echo "imp-3,12,8,PTS,5,ok,robot"
    echo "card:900001:log:7,12,8,PTS,5,sneaky,robot"
    echo "imp-5,12,8,PTS"
} >"$T/import.csv"
check_eq "the long line is 1,058 bytes" 1058 "$(sed -n 2p "$T/import.csv" | wc -c)"
before=$(sqlite3 "$T/import.db" .dump | sha256sum)
run_capture "$LEAL" ledger import "$T/import.csv" --db "$T/import.db"
check_eq "import refuses: exit 2" 2 "$RC"
check_eq "import names every refused line" \
    "leal: $T/import.csv line 2: longer than 1022 bytes: line too long; nothing of it was imported
leal: $T/import.csv line 4: request id 'card:900001:log:7': request ids starting card:, void:, expire:, sync: or desk: are leal's own; choose another
leal: $T/import.csv line 5: expected 7 comma-separated fields: data is malformed
leal: $T/import.csv: 3 line(s) refused; 0 entries committed before line 2, nothing from it on: fix the lines named and import again (committed lines are recognised by their request ids)" \
    "$ERR"
check_eq "import with refused lines wrote nothing" "$before" "$(sqlite3 "$T/import.db" .dump | sha256sum)"
printf 'imp-1,12,8,PTS,5,ok,robot\nimp-2,12,8,PTS,5,%s,robot\n' "$(head -c 999 /dev/zero | tr '\0' x)" >"$T/import2.csv"
run_capture "$LEAL" ledger import "$T/import2.csv" --batch 1 --db "$T/import.db"
check_eq "a line of exactly 1,022 bytes is read whole (its reason is too long)" \
    "2|committed 1|leal: $T/import2.csv line 2: reason is longer than 255 bytes: text too long (255 bytes at most), not UTF-8, or holding control characters" \
    "$RC|$OUT|$(echo "$ERR" | head -1)"

# A mistyped --db never creates a ledger: every command but init and program
# create says so and exits 2.
for cmd in "ledger verify" "customer list" "account show 1" "ledger post --account 1 --asset EUR --amount 1 --reason x --operator y" "backup $T/b.db" "store add --program 1 --code a --name b --tz UTC"; do
    # shellcheck disable=SC2086
    run_capture "$LEAL" $cmd --db "$T/typo.db"
    check_eq "missing ledger: $cmd" \
        "2|leal: $T/typo.db: no ledger there; create one with 'leal ledger init --db $T/typo.db' (or 'leal program create'), or check --db|absent" \
        "$RC|$ERR|$([ -e "$T/typo.db" ] && echo present || echo absent)"
done
run_capture "$LEAL" ledger init --db "$T/typo.db"
check_eq "ledger init creates it" "0|ledger ready (schema version $SCHEMA)" "$RC|$OUT"
run_capture "$LEAL" ledger verify --db "$T/typo.db"
check_eq "then verify finds it" "0|ledger ok: 0 entries, 0 lines, 0 accounts" "$RC|$OUT"
run_capture "$LEAL" program create --code nuevo --name Nuevo --db "$T/new2.db"
check_eq "program create creates a ledger" "0|program 1 created (nuevo)" "$RC|$OUT"

# --json: errors as JSON on stdout too, usage errors included.
l customer show 42 --json
check_eq "json error: unknown id" \
    '2|{"error":{"code":256,"name":"LEAL_E_UNKNOWN_ID","message":"customer show: customer 42: no such id"}}|' \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" ledger post --account 11 --asset EUR --amount 1,2,3 --reason x --operator y --json
check_eq "json error: bad amount" \
    '2|{"error":{"code":300,"name":"LEAL_E_AMOUNT","message":"--amount '"'"'1,2,3'"'"': malformed amount; write euros like 12.50 or 12,50 (no thousands separators, 2 decimals at most)"}}' \
    "$RC|$OUT"
run_capture "$LEAL" customer search --json --bogus 1
check_eq "json error: unknown option" \
    '2|{"error":{"code":303,"name":"LEAL_E_USAGE","message":"unknown option '"'"'--bogus'"'"'"}}' "$RC|$OUT"
run_capture "$LEAL" ledger verify --json --db "$T/typo2.db"
check_eq "json error: missing ledger" "2|LEAL_E_NO_LEDGER" \
    "$RC|$(echo "$OUT" | $PY -c 'import json,sys; print(json.load(sys.stdin)["error"]["name"])')"
run_capture "$LEAL" card history 1 --json --db "$T/typo2.db"
check_eq "json error from the desk" "2|LEAL_E_NO_LEDGER" \
    "$RC|$(echo "$OUT" | $PY -c 'import json,sys; print(json.load(sys.stdin)["error"]["name"])')"
run_capture "$LEAL" card top-up abc --json
check_eq "json error: desk usage" "2|LEAL_E_USAGE" \
    "$RC|$(echo "$OUT" | $PY -c 'import json,sys; print(json.load(sys.stdin)["error"]["name"])')"

# The top-level help names every card subcommand 'leal card --help' lists.
run_capture "$LEAL" card --help
subs=$(echo "$OUT" | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
run_capture "$LEAL" card issue --help
subs=$( (echo "$subs"; echo "$OUT" | sed -n 's/^.*leal card \([a-z-]*\) .*/\1/p') | sort -u | xargs)
check_eq "card subcommands" "block erase history holder hotlist info issue pin read replace sync top-up unblock upgrade" "$subs"
run_capture "$LEAL" --help
cardline=$(echo "$OUT" | grep '^  card ')
for sub in $subs; do
    check_match "top-level help lists card $sub" "[ ,]$sub(,|$)" "$cardline"
done

# Search ignores accents and case; phones compare in one normal form; the
# limit is applied by the database (section 5 and 8).
cp "$DB" "$T/search.db"
s() { run_capture "$LEAL" customer search "$@" --json --db "$T/search.db"; echo "$OUT" | $PY -c 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(sys.stdin)))'; }
run_capture "$LEAL" customer add --program 1 --name "José" --surname "Núñez" --phone "612345679" --db "$T/search.db"
check_eq "José added" "0|customer 3 added, account 14" "$RC|$OUT"
run_capture "$LEAL" customer add --program 1 --name "MARÍA JOSÉ" --surname "Nuñez Ruiz" --phone "+34 699 111 222" --db "$T/search.db"
check_eq "jose finds José" "3" "$(s --name jose)"
check_eq "JOSÉ finds José" "3" "$(s --name JOSÉ)"
check_eq "nuñez finds Núñez and Nuñez Ruiz" "3 4" "$(s --name nuñez)"
check_eq "nunez too" "3 4" "$(s --name NUNEZ)"
check_eq "maría j" "4" "$(s --name 'maría j')"
check_eq "garcia finds García López" "1" "$(s --name garcia)"
check_eq "--limit 1 in SQL" "3" "$(s --name nu --limit 1)"
check_eq "612 345 679 finds 612345679" "3" "$(s --phone '612 345 679')"
check_eq "+34 prefix" "3" "$(s --phone '+34612345679')"
check_eq "0034 prefix" "3" "$(s --phone '0034 612 34 56 79')"
check_eq "a stored +34 number by its national form" "4" "$(s --phone 699111222)"
check_eq "Alicia's +34600999888 as 600 999 888" "1" "$(s --phone '600 999 888')"
run_capture "$LEAL" customer search --name "$(printf 'x\xe2\x80\xae')" --db "$T/search.db"
check_eq "a bidi control in a search" "2|leal: customer search: search text: a bidirectional control (U+202E): text too long (255 bytes at most), not UTF-8, or holding control characters" "$RC|$ERR"

# Sanity limits per program, per operation, with an explicit override.
bad "a manual post far beyond the limit" \
    "^leal: --amount '99999999999': program 1 allows 1000.00 EUR in one operation: over the program's limit for one operation; check the amount, or confirm with --over-limit$" \
    ledger post --account 11 --asset EUR --amount 99999999999 --reason x --operator y
bad "99,999,999 points" \
    "^leal: --amount '99999999': program 1 allows 100000 PTS in one operation: over the program's limit" \
    ledger post --account 11 --asset PTS --amount 99999999 --reason x --operator y
bad "taking away counts too" \
    "^leal: --amount '-100001': program 1 allows 100000 STAMP:cafe in one operation" \
    ledger post --account 11 --asset STAMP:cafe --amount -100001 --reason x --operator y
cp "$DB" "$T/limits.db"
run_capture "$LEAL" ledger post --account 11 --asset PTS --amount 250000 --reason "campaña" \
    --operator Marta --over-limit --db "$T/limits.db"
check_eq "--over-limit confirms it" "0|entry 7 posted|250150" \
    "$RC|$OUT|$(sqlite3 "$T/limits.db" "select amount from balance where account_id = 11 and asset = 'PTS'")"
run_capture "$LEAL" program set 1 --max-euros-per-operation 50 --max-points-per-operation 500 --db "$T/limits.db"
check_match "program set limits" "^one operation    50.00 EUR, 500 points or stamps$" "$OUT"
run_capture "$LEAL" ledger post --account 11 --asset EUR --amount 50,01 --reason x --operator y --db "$T/limits.db"
check_eq "the new limit" "2|leal: --amount '50,01': program 1 allows 50.00 EUR in one operation: over the program's limit for one operation; check the amount, or confirm with --over-limit" "$RC|$ERR"
run_capture "$LEAL" program show 1 --json --db "$T/limits.db"
check_eq "program json limits" "5000 500" \
    "$(echo "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["max_cents_per_operation"], d["max_units_per_operation"])')"
bad "a zero limit" "^leal: --max-euros-per-operation '0': write euros like 500 or 12,50 \(more than 0\)" \
    program set 1 --max-euros-per-operation 0

# Every command that takes --json answers in JSON, not only its errors.
cp "$DB" "$T/json.db"
j() { run_capture "$LEAL" "$@" --json --db "$T/json.db"; }
run_capture "$LEAL" ledger init --json --db "$T/json-new.db"
check_eq "ledger init --json" "0|{\"schema_version\":$SCHEMA}" "$RC|$OUT"
j customer consent 2 --channel sms --granted no --method phone --by Marta
check_eq "customer consent --json" '0|{"customer":2,"channel":"sms","granted":false}' "$RC|$OUT"
j customer note 2 --by Marta "llamar por la tarde"
check_eq "customer note --json" '0|{"customer":2,"note_added":true}' "$RC|$OUT"
printf 'json-1,12,8,PTS,5,ok,robot\njson-2,12,8,PTS,6,ok,robot\n' >"$T/json.csv"
j ledger import "$T/json.csv" --batch 1
check_eq "ledger import --json: one object a line" \
    '0|{"committed":1}
{"committed":2}
{"imported":2,"already_there":0}' "$RC|$OUT"
j customer search --name ""
check_eq "an empty search is a usage error, not an internal one" \
    '2|{"error":{"code":303,"name":"LEAL_E_USAGE","message":"leal customer search: the text to search for is empty"}}' \
    "$RC|$OUT"

# A bad input never creates a database either.
run_capture "$LEAL" ledger post --db "$T/none.db" --account 1 --asset EUR --amount 1,2,3 \
    --reason x --operator y
check_eq "bad input creates no file" "2|absent" "$RC|$([ -e "$T/none.db" ] && echo present || echo absent)"

# Default path under XDG_DATA_HOME.
run_capture "$LEAL" ledger init
check_eq "default db" "0|ledger ready (schema version $SCHEMA)|yes" \
    "$RC|$OUT|$([ -f "$T/xdg/leal/ledger.db" ] && echo yes)"

# Backup: an online consistent copy that verifies and holds the same balances.
l backup "$T/copy.db"
check_eq "backup" "0|backup written to $T/copy.db" "$RC|$OUT"
run_capture "$LEAL" ledger verify --db "$T/copy.db"
check_eq "backup verifies" "0|ledger ok: 6 entries, 12 lines, 13 accounts" "$RC|$OUT"
check_eq "backup balances" "$(q 'select * from balance order by 1,2')" \
    "$(sqlite3 "$T/copy.db" 'select * from balance order by 1,2')"

# Issue 10 §3: no overwrite without --force, a missing folder named, 0600
# whatever the umask (files made by leal under umask 000).
check_eq "backup mode 0600" 600 "$(stat -c %a "$T/copy.db")"
cp "$T/copy.db" "$T/copy.orig"
l backup "$T/copy.db"
check_eq "backup over an existing file refused" \
    "2|leal: backup: $T/copy.db already exists; use --force to replace it" "$RC|$ERR"
check_eq "refused backup leaves the file byte-identical" 0 "$(cmp -s "$T/copy.db" "$T/copy.orig"; echo $?)"
(umask 000 && "$LEAL" backup "$T/copy.db" --force --db "$DB" >/dev/null 2>&1)
check_eq "backup --force replaces it, mode 0600 under umask 000" "0|600" "$?|$(stat -c %a "$T/copy.db")"
l backup "$T/usb/copy.db"
check_eq "backup into a missing folder names it" \
    "2|leal: backup: folder $T/usb does not exist (is the disk mounted?); nothing was written" "$RC|$ERR"
check_eq "the missing folder is not created" absent "$([ -e "$T/usb" ] && echo present || echo absent)"
l backup "$T"
check_eq "backup onto a folder" "2|leal: backup: $T is a folder; name the copy's file (e.g. $T/ledger.db)" "$RC|$ERR"
check_eq "no scratch folder left behind" "" "$(ls -A "$T" | grep '^\.leal-tmp-')"
(umask 000 && "$LEAL" ledger init --db "$T/umask.db" >/dev/null 2>&1 &&
    "$LEAL" program create --code u --name U --kind single --points-per-euro 1 --db "$T/umask.db" >/dev/null 2>&1)
check_eq "a ledger made under umask 000 is 0600" "0|600" "$?|$(stat -c %a "$T/umask.db")"

# verify names the first difference and exits non-zero.
sqlite3 "$T/copy.db" "update balance set amount = amount + 1 where account_id = 11 and asset = 'EUR'"
run_capture "$LEAL" ledger verify --db "$T/copy.db"
check_eq "verify finds tampering" \
    "2|leal: ledger verify: EUR: account 11 balance is 2001 but its lines sum to 2000: ledger check failed: balances or entries disagree" \
    "$RC|$ERR"

# Schema versions: a newer database is refused untouched; not-a-ledger too.
cp "$DB" "$T/newer.db"
sqlite3 "$T/newer.db" "pragma user_version = $((SCHEMA + 1))"
before=$(sha256sum <"$T/newer.db")
run_capture "$LEAL" ledger verify --db "$T/newer.db"
check_eq "newer schema refused" \
    "2|leal: $T/newer.db: the file has schema version $((SCHEMA + 1)); this leal knows up to $SCHEMA: database was created by a newer leal; upgrade leal" \
    "$RC|$ERR"
check_eq "newer schema untouched" "$before" "$(sha256sum <"$T/newer.db")"
sqlite3 "$T/other.db" "create table t(x)"
run_capture "$LEAL" ledger verify --db "$T/other.db"
check_eq "not a ledger" "2" "$RC"
check_match "not a ledger message" "this file is not a leal ledger" "$ERR"
# A damaged file is the disk's fault, not the user's input: exit 1, one line.
sqlite3 "$DB" "pragma wal_checkpoint(truncate)" >/dev/null
head -c 3000 "$DB" >"$T/damaged.db"
run_capture "$LEAL" customer list --db "$T/damaged.db"
check_eq "a damaged ledger: exit 1, one line" \
    "1|leal: $T/damaged.db: database disk image is malformed: database file is damaged; restore it from a backup" \
    "$RC|$ERR"

finish
