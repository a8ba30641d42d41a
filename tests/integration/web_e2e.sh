#!/bin/bash
# web_e2e.sh - the back office end to end in Debian's headless chromium
# (tests/web/e2e.js, playwright-core from tests/web/package.json, installed
# by make deps with npm ci; no browser download) against a real `leal serve`:
# sign-in, a customer with markup in the name shown as text, accent-blind
# search, an edit in the audit log, consent per channel and purpose recorded on the customer's page (and audited), the dashboard changing after a sale, a
# card blocked and unblocked through the hot list, the users page, staff
# refused another store's customer, the audit log and the dashboard. Screenshots of each page go to build/screenshots/.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh

web_fixture e2e
DB=$T/ledger.db
SHOTS=build/screenshots
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png

check_eq "playwright-core is installed as pinned (make deps: npm ci in tests/web)" \
    "$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' tests/web/package.json)" \
    "$(node -p 'require("./tests/web/node_modules/playwright-core/package.json").version' 2>&1)"

"$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code a --name "Shop A" --kind chain >/dev/null
"$LEAL" program create --db "$DB" --code b --name "Shop B" >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz Europe/Madrid >/dev/null
"$LEAL" customer add --db "$DB" --program 2 --name Berta --surname Other >/dev/null
BERTA=$(sqlite3 "$DB" "select customer_id from customer_pii where name = 'Berta'")
"$LEAL" customer add --db "$DB" --program 1 --name Carla --surname Card >/dev/null
CARLA_ACCT=$(sqlite3 "$DB" "select c.account_id from customer c join customer_pii p on p.customer_id = c.id where p.name = 'Carla'")
"$LEAL" account add-card "$CARLA_ACCT" --card-id 501 --uid 04a1b2c3d4e5f6 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null
"$LEAL" terminal add --store 1 --name "till 1" --db "$DB" >/dev/null
"$LEAL" rule add --program 1 --bonus 5 --name "Bonus 5" --reason test --db "$DB" >/dev/null
"$LEAL" tier add --program 1 --name Gold --threshold 100 --multiplier 1,5 --reason test --db "$DB" >/dev/null
"$LEAL" sale --card-id 501 --amount 25 --store 1 --db "$DB" >/dev/null
"$LEAL" sale --card-id 501 --amount 40 --store 1 --at "@$(($(date +%s) - 86400 * 40))" --db "$DB" >/dev/null
printf 'staff password 1\n' >"$T/pw-staff"
printf 'admin password 1\n' >"$T/pw-admin"
"$LEAL" user add sam --role staff --store 1 --password-file "$T/pw-staff" --db "$DB" >/dev/null
# A program created with a Spanish locale: its manager pepe gets Spanish by
# default, ed asks for English; Dora's account holds 12,50 euros.
"$LEAL" program create --db "$DB" --code c --name "Tienda C" --locale es >/dev/null
"$LEAL" store add --db "$DB" --program 3 --code c1 --name "C uno" --tz Europe/Madrid >/dev/null
"$LEAL" customer add --db "$DB" --program 3 --name Dora --surname Sol >/dev/null
DORA_ACCT=$(sqlite3 "$DB" "select c.account_id from customer c join customer_pii p on p.customer_id = c.id where p.name = 'Dora'")
"$LEAL" account add-card "$DORA_ACCT" --card-id 503 --uid 04a1b2c3d4e5f7 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null
"$LEAL" ledger post --db "$DB" --account "$DORA_ACCT" --asset EUR --amount 12,50 --reason opening \
    --operator test >/dev/null
run_capture "$LEAL" user add pepe --role manager --store 2 --password-file "$T/pw-staff" --db "$DB"
check_eq "a manager of a Spanish program gets Spanish by default" "0|user 2 'pepe' added (manager, es)" "$RC|$OUT"
run_capture "$LEAL" user add ed --role manager --store 2 --lang en --password-file "$T/pw-staff" --db "$DB"
check_eq "--lang en overrides it" "0|user 3 'ed' added (manager, en)" "$RC|$OUT"
run_capture "$LEAL" user add x --role staff --store 2 --lang fr --password-file "$T/pw-staff" --db "$DB"
check_eq "another language is refused before anything is written" "2|0" "$RC|$(sqlite3 "$DB" "select count(*) from web_user where name = 'x'")"
web_start serve --db "$DB" --init-admin ana --password-file "$T/pw-admin"

web_browser e2e 46 "$URL" "$SHOTS" "$BERTA" "$LEAL" "$DB" 501
check_eq "a screenshot of each page" "audit.png card-es.png card.png cards.png customer-consent.png customer.png customers.png dashboard-es.png dashboard.png rules.png sign-in.png staff-refused.png terminals.png users.png" \
    "$(cd "$SHOTS" && ls *.png | tr '\n' ' ' | sed 's/ $//')"
check_match "each a PNG of the page" "PNG image data, 1280 x [0-9]+" "$(file "$SHOTS/customers.png")"
finish
