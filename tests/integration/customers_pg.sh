#!/bin/bash
# customers_pg.sh - customers end to end on both backends, the same cases
# with the same expected output: on an SQLite file, then on a private
# PostgreSQL 15 cluster this script starts (tests/lib/pg.sh) and stops.
# `leal customer add|show|edit|list|search|consent|note|export|erase`:
# exact rows and ids; search by name case- and accent-blind (jose finds
# José, nunez finds Núñez and Nuñez) in the order of what matched, by
# e-mail whatever its case, by phone in any of its forms, by card id and
# UID, per program, with a limit; consent per purpose and notes; the export
# of everything that names the customer; the erasure leaving no personal
# field in their rows, and the ledger's books still verified. On
# PostgreSQL also: the erased values are in none of the table's files (the
# old row versions vacuumed away), search keys that compare bytewise in a
# database with a language's collation, and `leal ledger copy` carrying the
# customers from the SQLite file to PostgreSQL and back to the same file.
# On both also `leal user` (each change audited, sessions ended) and `leal
# backup` (from PostgreSQL: a verified SQLite ledger file) and `leal
# customer retention`; then segment.sh, mail_cli.sh, messages.sh,
# messages_occasions.sh and messages_campaign.sh on this cluster
# (LEAL_TEST_BACKEND=pg, a database each).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/backend.sh

PSQL="$PG_BIN/psql"

# q SQL: the rows of the backend under test (tests/lib/backend.sh).
l() { run_capture "$LEAL" "$@" --db "$DB"; }
# The ids a search or list finds, in its order.
ids() {
    l customer "$@" --json
    printf '%s' "$OUT" | $PY -c 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(sys.stdin)))'
}
# The personal fields and search keys of customer $1, and their notes.
pii() {
    q "SELECT name || '|' || surname || '|' || email || '|' || phone || '|' || birth_date || '|' \
|| gender || '|' || address || '|' || preferences || '|' || name_key || '|' || surname_key || '|' \
|| phone_key FROM customer_pii WHERE customer_id = $1"
}

cases() {
    local n=$BK
    l ledger init
    l program create --code cafe --name "Café Sol" --kind collective --points-per-euro 1,2
    check_eq "$n: program 1" "0|program 1 created (cafe)" "$RC|$OUT"
    l program create --code bar --name Bar --kind single
    l customer add --program 1 --name "José" --surname "Núñez" --email Jose.Nunez@Example.es \
        --phone "612345679" --birth-date 1985-02-03 --gender m --address "Calle Mayor 1" \
        --preferences "sin gluten"
    check_eq "$n: customer add" "0|customer 1 added, account 21" "$RC|$OUT"
    l customer add --program 1 --name "MARÍA JOSÉ" --surname "Nuñez Ruiz" \
        --phone "+34 699 111 222" --json
    check_eq "$n: customer add --json" '0|{"id":2,"account":22}' "$RC|$OUT"
    l customer add --program 1 --name "Ángel" --surname "Zapata" --email angel@example.es
    l customer add --program 2 --name "Josefa" --surname "Abad"
    check_eq "$n: a customer of program 2" "0|customer 4 added, account 24" "$RC|$OUT"
    check_eq "$n: the rows of customer 1" "1|21|1|customer|21" \
        "$(q "SELECT c.program_id, c.account_id, a.program_id, a.kind, a.id FROM customer c \
JOIN account a ON a.customer_id = c.id WHERE c.id = 1")"
    check_eq "$n: customer 1's personal fields and keys" \
        "José|Núñez|Jose.Nunez@Example.es|612345679|1985-02-03|m|Calle Mayor 1|sin gluten|jose|nunez|612345679" \
        "$(pii 1)"
    l customer add --program 9 --name Nadie
    check_eq "$n: an unknown program: exit 2, nothing written" "2|4" \
        "$RC|$(q "SELECT count(*) FROM customer")"
    l customer add --program 1 --name X --birth-date 1985-13-01
    check_eq "$n: a malformed birth date refused" \
        "2|leal: customer add: birth date '1985-13-01': malformed date; write it as YYYY-MM-DD" \
        "$RC|$ERR"

    check_eq "$n: search jose: accents and case ignored, by what matched" "1 4" \
        "$(ids search --name jose)"
    check_eq "$n: search NUÑEZ: the surnames" "1 2" "$(ids search --name "NUÑEZ")"
    check_eq "$n: search ang finds Ángel" "3" "$(ids search --name ang)"
    check_eq "$n: search jose in program 1" "1" "$(ids search --name jose --program 1)"
    check_eq "$n: search nu, limit 2" "1 2" "$(ids search --name nu --limit 2)"
    check_eq "$n: search by e-mail, another case" "1" \
        "$(ids search --email jose.nunez@EXAMPLE.ES)"
    check_eq "$n: search by phone, another form" "2" "$(ids search --phone "0034 699 111 222")"
    check_eq "$n: list" "1 2 3 4" "$(ids list)"
    check_eq "$n: list of program 2" "4" "$(ids list --program 2)"
    check_eq "$n: list, limit 3" "1 2 3" "$(ids list --limit 3)"
    l customer search --name zz
    check_eq "$n: no match" "0|no customers" "$RC|$OUT"
    l account add-card 22 --card-id 700001 --uid 04A1B2C3D4E5F6 --tech desfire-ev3
    check_eq "$n: a card for customer 2" "0|card 700001 added to account" "$RC|$OUT"
    check_eq "$n: search by card id" "2" "$(ids search --card-id 700001)"
    check_eq "$n: search by UID" "2" "$(ids search --uid 04a1b2c3d4e5f6)"

    l customer edit 2 --email maria@example.es --address "Plaza 3"
    check_match "$n: edit shows the new address" "^address +Plaza 3$" "$OUT"
    check_eq "$n: edit: the row" \
        "MARÍA JOSÉ|Nuñez Ruiz|maria@example.es|+34 699 111 222|||Plaza 3||maria jose|nunez ruiz|699111222" \
        "$(pii 2)"
    l customer consent 1 --channel email --granted yes --method "paper form" --by Marta \
        --purpose marketing,profiling --evidence "form v2"
    check_eq "$n: consent" "0|consent recorded" "$RC|$OUT"
    l customer consent 1 --channel sms --granted no --method phone --by Marta --json
    check_eq "$n: consent --json" '0|{"customer":1,"channel":"sms","granted":false}' "$RC|$OUT"
    l customer consent 1 --show --json
    check_eq "$n: consent --show: each channel and purpose" \
        "email:marketing:True email:profiling:True sms:marketing:False sms:service:False" \
        "$(printf '%s' "$OUT" | $PY -c 'import json,sys
print(" ".join("%s:%s:%s" % (c["channel"], c["purpose"], c["granted"]) for c in json.load(sys.stdin)["consent"]))')"
    l customer note 1 --by Marta "prefiere la mañana"
    check_eq "$n: note" "0|note added" "$RC|$OUT"
    l customer show 1
    check_eq "$n: show: consent and notes" "customer  1|account   21|consent|notes|1" \
        "$(printf '%s\n' "$OUT" | grep -E '^(customer|account|consent|notes)' | paste -sd '|')|$(printf '%s\n' "$OUT" | grep -c ', Marta: prefiere la mañana$')"
    l customer show 1 --json
    check_eq "$n: show --json" \
        '{"id":1,"program":1,"account":21,"name":"José","surname":"Núñez","email":"Jose.Nunez@Example.es","phone":"612345679","birth_date":"1985-02-03","gender":"m","address":"Calle Mayor 1","preferences":"sin gluten","notes":[' \
        "${OUT%%\{\"id\":1,\"at\"*}"
    l customer show 42
    check_eq "$n: an unknown customer" "2|leal: customer show: customer 42: no such id" "$RC|$ERR"

    l ledger post --account 21 --asset PTS --amount 50 --reason bienvenida --operator Marta
    check_eq "$n: a post to customer 1" "0|entry 1 posted" "$RC|$OUT"
    l customer export 1
    # (SQLite's report summaries, report_visit and report_held, aside: a
    # PostgreSQL ledger keeps no report summaries.)
    check_eq "$n: export: the tables that name customer 1 and their rows" \
        "customer:1 customer_pii:1 consent:2 customer_note:1 account:1 balance:1 entry:1 line:2 lot:1" \
        "$(printf '%s' "$OUT" | $PY -c 'import json,sys
t = json.load(sys.stdin)["tables"]
print(" ".join("%s:%d" % (k, len(v)) for k, v in t.items() if v and k[:7] != "report_"))')"
    check_eq "$n: export: the personal data" \
        "José Núñez Jose.Nunez@Example.es sin gluten prefiere la mañana" \
        "$(printf '%s' "$OUT" | $PY -c 'import json,sys
t = json.load(sys.stdin)["tables"]
p = t["customer_pii"][0]
print(p["name"], p["surname"], p["email"], p["preferences"], t["customer_note"][0]["text"])')"
    l customer export 1 --text
    check_eq "$n: export --text" "customer_pii: 1 row|    surname: Núñez|consent: 2 rows" \
        "$(printf '%s\n' "$OUT" | grep -E '^customer_pii:|^    surname:|^consent:' | paste -sd '|')"

    l customer erase 1 --confirm --operator Marta
    check_eq "$n: erase needs the cards decision: exit 2, nothing erased" \
        "2|leal: leal customer erase needs the decision on the customer's cards: --cards block (terminals refuse them) or --cards keep (they go on working, anonymously) (see 'leal --help')|0" \
        "$RC|$ERR|$(q "SELECT count(*) FROM customer WHERE erased_at IS NOT NULL")"
    l customer erase 1 --confirm --cards keep --operator Marta --json
    check_eq "$n: erase" '0|{"customer":1,"erased":true,"cards":"keep","cards_blocked":0}' "$RC|$OUT"
    check_eq "$n: erase: no personal field or key left" "||||||||||" "$(pii 1)"
    check_eq "$n: erase: the notes replaced by the erasure's" \
        "Marta|personal data erased at the customer's request (leal customer erase); cards kept by decision" \
        "$(q "SELECT author || '|' || text FROM customer_note WHERE customer_id = 1")"
    check_eq "$n: erase: marked erased; the other customers untouched" "1|0" \
        "$(q "SELECT count(*) FROM customer WHERE erased_at IS NOT NULL AND id = 1")|$(q \
            "SELECT count(*) FROM customer WHERE erased_at IS NOT NULL AND id <> 1")"
    check_eq "$n: erase: no longer found by name or e-mail" "4|" \
        "$(ids search --name jose)|$(ids search --email jose.nunez@example.es)"
    check_eq "$n: erase: the ledger keeps the entry and the balance" "1|50" \
        "$(q "SELECT count(*) FROM entry")|$(q "SELECT amount FROM balance WHERE account_id = 21")"
    l customer erase 1 --confirm --cards keep
    check_eq "$n: erase again" "2|leal: customer 1 was erased before; nothing to do" "$RC|$ERR"
    l customer erase 42 --confirm --cards keep
    check_eq "$n: erase an unknown customer" "2|leal: customer 42: no such id" "$RC|$ERR"
    l customer export 42
    check_eq "$n: export an unknown customer" "2|leal: customer 42: no such id" "$RC|$ERR"
    retention
    l ledger verify
    check_eq "$n: verify" "0|ledger ok: 1 entries, 2 lines, 24 accounts" "$RC|$OUT"
    users
    backup
}

# `leal customer retention`: customer 4 of program 2 (no entry) enrolled
# three years ago is erased after two years, once; program 1's customer 3,
# as old, is not the run's.
retention() {
    q "UPDATE customer SET created_at = created_at - 3 * 365 * 86400 WHERE id IN (3, 4)" >/dev/null
    l customer retention --program 2 --years 2
    check_eq "$n: retention: without --confirm, exit 2" \
        "2|leal: retention erases for good: add --confirm (or --dry-run to count) (see 'leal --help')" "$RC|$ERR"
    l customer retention --program 2 --years 2 --dry-run
    check_eq "$n: retention --dry-run: counts, erases nothing" \
        "0|program 2: 1 customer inactive for 2 years would be erased|0" \
        "$RC|$OUT|$(q "SELECT count(*) FROM customer WHERE erased_at IS NOT NULL AND id > 1")"
    l customer retention --program 2 --years 4 --confirm
    check_eq "$n: retention: none inactive for 4 years" \
        "0|program 2: 0 customers inactive for 4 years erased" "$RC|$OUT"
    l customer retention --program 2 --years 2 --confirm --operator dpo
    check_eq "$n: retention: customer 4 erased" \
        "0|program 2: 1 customer inactive for 2 years erased" "$RC|$OUT"
    check_eq "$n: retention: only customer 4, personal data emptied, the note by the operator" \
        "4|Ángel||dpo|personal data erased at the customer's request (leal customer erase)" \
        "$(q "SELECT c.id || '|' || (SELECT name FROM customer_pii WHERE customer_id = 3) || '|' || \
p.name || '|' || n.author || '|' || n.text FROM customer c JOIN customer_pii p ON p.customer_id = c.id \
JOIN customer_note n ON n.customer_id = c.id WHERE c.erased_at IS NOT NULL AND c.id > 1")"
    l customer retention --program 2 --years 2 --confirm
    check_eq "$n: retention again: nobody left to erase" \
        "0|program 2: 0 customers inactive for 2 years erased" "$RC|$OUT"
}

# `leal backup`: an SQLite ledger file of the same books and customers (from
# PostgreSQL: a verified `ledger copy` of one snapshot), 0600; an existing
# file replaced only with --force.
backup() {
    # A folder of the backend's own: the SQLite and PostgreSQL cases run at
    # once in $T, and the other's backup has its scratch folder there for a
    # moment (seen once in CI).
    local d=$T/backup-$n b files
    mkdir -p "$d"
    b=$d/backup.db
    l backup "$b"
    check_eq "$n: backup" "0|backup written to $b|600" "$RC|$OUT|$(stat -c %a "$b")"
    check_eq "$n: backup: the same books, customers and users" \
        "$(l ledger verify; echo "$OUT"; l customer list --program 1 --json; echo "$OUT"; l user list; echo "$OUT")" \
        "$(DB=$b l ledger verify; echo "$OUT"; DB=$b l customer list --program 1 --json; echo "$OUT"; DB=$b l user list; echo "$OUT")"
    l backup "$b"
    check_eq "$n: backup: an existing file refused" "2|leal: backup: $b already exists; use --force to replace it" "$RC|$ERR"
    files=$(ls -A "$d")
    l backup "$b" --force
    check_eq "$n: backup --force, no scratch folder left" "0|backup written to $b|backup.db|backup.db" \
        "$RC|$OUT|$files|$(ls -A "$d")"
}

# `leal user`: the back office's users, their stores and sessions, and the
# audit of every change, with the same output on both backends.
users() {
    local sam_audit
    printf 'password one 1\n' >"$T/pw-$n"
    l store add --program 1 --code centro --name Centro --tz Europe/Madrid
    l store add --program 1 --code playa --name Playa --tz Europe/Madrid
    USER=tester l user add ana --role admin --password-file "$T/pw-$n"
    check_eq "$n: user add: an admin" "0|user 1 'ana' added (admin, en)" "$RC|$OUT"
    USER=tester l user add sam --role staff --store 1,2 --password-file "$T/pw-$n" --email sam@x.es --json
    check_eq "$n: user add --json: staff of two stores" '0|{"id":2,"name":"sam","role":"staff","lang":"en"}' "$RC|$OUT"
    l user add sam --role staff --store 1 --password-file "$T/pw-$n"
    check_eq "$n: user add: a name taken" \
        "2|leal: user 'sam': user 'sam': a user of that name exists already; pick another name" "$RC|$ERR"
    l user add bob --role staff --store 9 --password-file "$T/pw-$n"
    check_eq "$n: user add: an unknown store, nothing written" "2|leal: user 'bob': store 9: no such id|2" \
        "$RC|$ERR|$(q "SELECT count(*) FROM web_user")"
    q "INSERT INTO web_session(token_hash, user_id, csrf, created_at, expires_at) VALUES \
($(sql_blob "$(printf '%064d' 7)"), 2, 'c', 1, 4102444800)" >/dev/null
    USER=tester l user set sam --lang es
    check_eq "$n: user set --lang: the session ended" "0|user 'sam': language es; their sessions ended|0" \
        "$RC|$OUT|$(q "SELECT count(*) FROM web_session")"
    USER=tester l user role sam --role manager --store 2
    check_eq "$n: user role" "0|user 'sam' is now manager; their sessions ended" "$RC|$OUT"
    USER=tester l user passwd sam --password-file "$T/pw-$n"
    check_eq "$n: user passwd" "0|user 'sam': new password set; their sessions ended" "$RC|$OUT"
    USER=tester l user disable sam
    check_eq "$n: user disable" "0|user 'sam' disabled; their sessions ended" "$RC|$OUT"
    l user list --json
    check_eq "$n: user list --json" '0|[{"id":1,"name":"ana","role":"admin","lang":"en","email":"","disabled":false,"stores":[]},{"id":2,"name":"sam","role":"manager","lang":"es","email":"sam@x.es","disabled":true,"stores":[2]}]' "$RC|$OUT"
    USER=tester l user enable sam
    check_eq "$n: user enable" "0|user 'sam' enabled" "$RC|$OUT"
    l user enable nobody
    check_eq "$n: user enable: an unknown user" 2 "$RC"
    sam_audit='2|cli:tester|user.add|user 2||{"name":"sam","role":"staff","stores":[1,2]}
3|cli:tester|user.lang|user 2||{"lang":"es"}
4|cli:tester|user.role|user 2|{"role":"staff","stores":[1,2]}|{"role":"manager","stores":[2]}
5|cli:tester|user.passwd|user 2||
6|cli:tester|user.disable|user 2||{"disabled":true}
7|cli:tester|user.enable|user 2||{"disabled":false}'
    check_eq "$n: the audit of every change, no password in it" "$sam_audit" \
        "$(q "SELECT id || '|' || actor || '|' || action || '|' || object || '|' || coalesce(before, '') \
|| '|' || coalesce(after, '') FROM audit WHERE object = 'user 2' ORDER BY id")"
}

# The SQLite cases run while the cluster starts, then the same on PostgreSQL.
backend_both customers-pg cases

n=pg
# The erased values are in no file of customer_pii, customer_note or their
# indexes: the erasure vacuumed the old row versions away (a checkpoint
# writes the pages out first).
q "CHECKPOINT" >/dev/null
files=$(q "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname IN \
('customer_pii', 'customer_note') OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid \
IN ('customer_pii'::regclass, 'customer_note'::regclass)) ORDER BY 1")
check_eq "$n: the files of customer_pii, customer_note and their indexes" 9 "$(wc -l <<<"$files")"
found=0
for f in $files; do
    pg_as cat "$PG_DIR/data/$f" | grep -aqi -e 'Jose.Nunez@Example' -e 'sin gluten' \
        -e 'Calle Mayor' -e 'prefiere la ma' && found=$((found + 1))
done
check_eq "$n: erase: no erased value left in those files" 0 "$found"

# Search keys compare bytewise whatever the database's collation: in a
# database collated for Spanish (ICU, where '-' sorts before an apostrophe),
# a prefix is still a range of keys and the order is SQLite's.
ES=$(backend_pg_db es "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'es' LOCALE 'C' \
ENCODING 'UTF8'")
run_capture "$LEAL" ledger init --db "$ES"
run_capture "$LEAL" program create --code cafe --name Café --kind single --db "$ES"
for who in "O-Brien" "O'Brien" "Olga" "Nube"; do
    run_capture "$LEAL" customer add --program 1 --name "$who" --db "$ES"
done
check_eq "$n: the database's own collation puts '-' first" "o-brien o'brien" \
    "$("$PSQL" "$ES" -qAtX -c "SELECT name_key FROM customer_pii WHERE name_key LIKE 'o%b%' \
ORDER BY name_key COLLATE \"default\"" | paste -sd ' ')"
check_eq "$n: a Spanish-collated database: prefix o, keys in byte order" "2 1 3" \
    "$(DB=$ES ids search --name o)"
check_eq "$n: the keys are collated C there" "C|C|C" \
    "$("$PSQL" "$ES" -qAtX -c "SELECT collation_name FROM information_schema.columns WHERE \
table_name = 'customer_pii' AND column_name LIKE '%_key' ORDER BY column_name" | paste -sd '|')"

# leal ledger copy: the SQLite ledger of the cases (customers, personal
# data, consent, notes, two erased customers) into a new PostgreSQL database
# and back into a new file: the file that comes back is the file that left
# (line by line: the erasure's VACUUM put the file's triggers and views in
# another order than a new ledger has them).
backend_copy_both_ways "copy with customers" \
    "copied 58 rows; 1 entries compared with the source; the copy's books are ok" sorted
check_eq "$n: the copy's customers, their accounts and personal data" \
    "$(sqlite3 "$T/ledger.db" "SELECT c.id, c.account_id, c.erased_at IS NULL, p.name, p.name_key, \
p.email FROM customer c JOIN customer_pii p ON p.customer_id = c.id ORDER BY c.id")" \
    "$("$PSQL" "$CHAIN" -qAtX -c "SELECT c.id, c.account_id, c.erased_at IS NULL, p.name, \
p.name_key, p.email FROM customer c JOIN customer_pii p ON p.customer_id = c.id ORDER BY c.id" \
        | sed 's/|t|/|1|/; s/|f|/|0|/')"
check_eq "$n: the copy is searched by name (the erased customer is not found)" "2" \
    "$(DB=$CHAIN ids search --name nu)"
run_capture "$LEAL" customer add --program 1 --name Nueva --db "$CHAIN"
check_eq "$n: the copy numbers on after the copied ids" "0|customer 5 added, account 25" \
    "$RC|$OUT"
# A table past the 64th of the file (a SQLite ledger has 71, each carried
# but the report summaries) is checked too: rows in a table the copy does
# not know (one added to the file by hand, last by name) are refused by
# name, not left behind.
sqlite3 "$T/ledger.db" "CREATE TABLE zz_local(x INTEGER); INSERT INTO zz_local VALUES (1)"
run_capture "$LEAL" ledger copy --from "sqlite:$T/ledger.db" --to "$(backend_pg_db chain3)"
check_eq "$n: copy of a ledger with rows in a table it does not carry: refused by name" \
    "1|leal: ledger copy: the source holds 1 rows of zz_local, which a copy does not carry yet: this is not supported on a PostgreSQL ledger yet; use an SQLite ledger (--db FILE) for it" \
    "$RC|$ERR"
sqlite3 "$T/ledger.db" "DROP TABLE zz_local"
# leal package show reads a package file, not the ledger: LEAL_DB naming
# PostgreSQL does not refuse it.
LEAL_DB=$DB run_capture "$LEAL" package show "$T/none.pkg"
check_nomatch "$n: package show with LEAL_DB on PostgreSQL: not refused" "PostgreSQL" "$ERR"
check_match "$n: package show: the file named" "none.pkg" "$ERR"
# Customers' tags and segments, a program's mail settings: every case of
# segment.sh and mail_cli.sh on PostgreSQL, each in a database of its own on
# this cluster, with the same exact expectations.
LEAL_TEST_PG_HOST=$PG_DIR backend_pg_suites segment mail_cli
# Messages: every case of messages.sh, messages_occasions.sh (but its
# SQLite migration) and messages_campaign.sh on PostgreSQL, at once (they
# wait on their SMTP servers and their runs' pauses), each in a database of
# its own, with the same exact expectations.
LEAL_TEST_PG_HOST=$PG_DIR backend_pg_suites_at_once messages messages_occasions messages_campaign
finish
