#!/bin/bash
# books_nokeys.sh - a long-running process that serves the books (issue 16's
# web server) links the ledger-facing services of host/books/ without the
# desk's keys: a program that opens a ledger and imports through
# books_open/books_import, linked against libleal.a, does its work (exact
# output, exact balances) and carries no symbol of the keystore, the key
# files, locked key memory, passphrases or the desk's key acquisition; the
# same link of a program that calls desk_keys_acquire does (so the check can
# fail). Likewise a program that builds a card's view for showing
# (host/desk/desk_view.h) reads the ledger and carries no key symbol.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-books-XXXXXX)
trap 'rm -rf "$T"' EXIT
DB=$T/ledger.db
case "$LEAL_BUILD" in *asan*) SAN="-fsanitize=address,undefined" ;; *) SAN= ;; esac
PKGS="libpcsclite libnfc libcrypto sqlite3 libqrencode libpng jansson libpq"
link() { cc -std=c11 -D_POSIX_C_SOURCE=200809L -I. $(pkg-config --cflags $PKGS) $SAN -o "$2" "$1" \
    "$LEAL_BUILD/libleal.a" $(pkg-config --libs $PKGS) -lutil 2>&1; }
KEY_SYMBOLS='\b(keystore_[a-z_]+|keyfile_[a-z_]+|secmem_[a-z_]+|passphrase_[a-z_]+|desk_keys_[a-z_]+)\b'

cat >"$T/books.c" <<'EOF'
#include <stdio.h>
#include "host/books/books.h"
#include "host/books/import.h"
static void committed(void *ctx, int64_t n) { (void)ctx; printf("committed %lld\n", (long long)n); }
static void refused(void *ctx, const struct books_import_refusal *r)
{
    (void)ctx;
    printf("refused line %lld: %s\n", (long long)r->lineno, leal_strerror(r->err));
}
int main(int argc, char **argv)
{
    struct books_where where;
    struct books_import_events ev = {NULL, committed, refused};
    struct books_import_result res;
    struct ledger *l;
    FILE *f;
    leal_err err;
    if (argc != 3 || books_open(argv[1], false, &l, &where) != LEAL_OK)
        return 2;
    if ((f = fopen(argv[2], "r")) == NULL)
        return 2;
    err = books_import(l, f, 2, &ev, &res);
    fclose(f);
    printf("%s imported %lld refused %lld\n", leal_strerror(err), (long long)res.imported,
           (long long)res.refused);
    ledger_close(l);
    return err != LEAL_OK;
}
EOF
cat >"$T/view.c" <<'EOF'
#include <stdio.h>
#include "host/books/books.h"
#include "host/desk/desk_view.h"
int main(int argc, char **argv)
{
    struct books_where where;
    struct issuance_card v = {.card_id = 5, .tech = LEDGER_TECH_DESFIRE_EV1, .agrees = true};
    struct desk_card_view w;
    struct ledger *l;
    if (argc != 2 || books_open(argv[1], false, &l, &where) != LEAL_OK)
        return 2;
    v.ledger.account_id = 11;
    v.ledger.status = LEDGER_CARD_ACTIVE;
    desk_card_view(l, &v, DESK_VIEW_READ, &w);
    printf("%s %s %s %s", w.result, w.technology, w.status, w.agreement);
    for (int i = 0; i < w.noperations; i++)
        printf(" %s %s", w.operations[i].amount, w.operations[i].unit);
    printf("\n");
    ledger_close(l);
    return 0;
}
EOF
cat >"$T/keys.c" <<'EOF'
#include "host/desk/desk_keys.h"
int main(void)
{
    struct desk_key_request req = {0};
    struct desk_keys k;
    leal_err err = desk_keys_acquire(&req, &k);
    desk_keys_release(&k);
    return err != LEAL_OK;
}
EOF

OUT=$(link "$T/books.c" "$T/books")
check_eq "a books-only program links against libleal.a" "0|" "$?|$OUT"
"$LEAL" program create --db "$DB" --code web --name Web >/dev/null
"$LEAL" account add --program 1 --db "$DB" >/dev/null
"$LEAL" account add --program 1 --db "$DB" >/dev/null
printf 'w1,11,2,EUR,250,t,web\nw2,12,2,PTS,40,t,web\nw3,11,2,EUR,100,t,web\n' >"$T/in.csv"
run_capture "$T/books" "$DB" "$T/in.csv"
check_eq "it imports through the books service: a batch of 2 committed, then the last line" \
    "0|committed 2
committed 3
success imported 3 refused 0" "$RC|$OUT"
check_eq "the ledger holds exactly what was imported" "11:EUR:350 12:PTS:40" \
    "$(sqlite3 "$DB" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from (select * from balance where account_id in (11, 12) order by account_id)")"
check_eq "no key symbol is linked into it" "" \
    "$(nm "$T/books" | grep -Eo "$KEY_SYMBOLS" | sort -u | tr '\n' ' ')"

OUT=$(link "$T/view.c" "$T/view")
check_eq "a program that shows a card's view (host/desk/desk_view.h) links too" "0|" "$?|$OUT"
run_capture "$T/view" "$DB"
check_eq "its read view: names, verdict, the account's newest entries" \
    "0|read desfire-ev1 active agrees +1.00 EUR +2.50 EUR" "$RC|$OUT"
check_eq "and no key symbol is linked into it" "" \
    "$(nm "$T/view" | grep -Eo "$KEY_SYMBOLS" | sort -u | tr '\n' ' ')"

OUT=$(link "$T/keys.c" "$T/keys")
check_eq "a program that acquires desk keys links too" "0|" "$?|$OUT"
check_match "and carries the keystore's and locked memory's symbols (the check can fail)" \
    "keyfile_load.*secmem_alloc|secmem_alloc.*keyfile_load" \
    "$(nm "$T/keys" | grep -Eo "$KEY_SYMBOLS" | sort -u | tr '\n' ' ')"
finish
