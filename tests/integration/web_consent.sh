#!/bin/bash
# web_consent.sh - the back office's customer consent per channel and purpose
# (rep8, issue 17): GET /api/customers/:id lists the current consent of each
# (channel, purpose) with its record (exact JSON); PUT /api/customers/:id
# {"consent":[...]} records changes with method "web" and the user as
# recorded_by, in one transaction with a "customer.consent" audit line (the
# consent before and after); a list with one bad change writes nothing; staff
# of another store are refused. The consent text's version is its own field
# (rep9): `leal customer consent --text-version`, the API's "text_version"
# (given in a PUT, listed in the GET and the audit line), `--show` and the
# customer export.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh

web_fixture webconsent
DB=$T/ledger.db
q() { sqlite3 "$DB" "$1"; }

"$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code a --name "Shop A" --kind chain >/dev/null
"$LEAL" program create --db "$DB" --code b --name "Shop B" >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz Europe/Madrid >/dev/null
"$LEAL" store add --db "$DB" --program 2 --code b1 --name "B one" --tz Europe/Madrid >/dev/null
"$LEAL" customer add --db "$DB" --program 1 --name Rosa --email rosa@example.com >/dev/null
"$LEAL" customer add --db "$DB" --program 2 --name Berta >/dev/null
ROSA=$(q "select customer_id from customer_pii where name = 'Rosa'")
BERTA=$(q "select customer_id from customer_pii where name = 'Berta'")
"$LEAL" customer consent "$ROSA" --db "$DB" --channel email --granted yes --method "paper form" \
    --by Marta --purpose marketing,service --evidence "signed, kept at A one" \
    --text-version alta-v3 >/dev/null || exit 1
q "update consent set at = 1767225600" # 2026-01-01 00:00 UTC: a fixed time to compare
printf 'admin password 1\n' >"$T/pw-admin"
printf 'staff password 1\n' >"$T/pw-staff"
"$LEAL" user add sam --role staff --store 2 --password-file "$T/pw-staff" --db "$DB" >/dev/null

web_start serve --db "$DB" --init-admin ana --password-file "$T/pw-admin"

# The status and the answer's "consent", times from this run (>= T0) as "now".
consent_of() {
    $PY -c 'import json,sys
s, b = sys.stdin.read().split(" ", 1)
d = json.loads(b)
for c in d.get("consent", []):
    if c["at"] >= int(sys.argv[1]): c["at"] = "now"
print(s, json.dumps(d.get("consent", d), separators=(",", ":")))' "$T0"
}
T0=$(date +%s)
CSRF_A=$(web_sign_in ana "$(cat "$T/pw-admin")" | web_csrf)
CSRF_S=$(web_sign_in sam "$(cat "$T/pw-staff")" | web_csrf)

check_eq "the customer's view lists the consent of each channel and purpose with its record" \
    '200 [{"channel":"email","purpose":"marketing","granted":true,"at":1767225600,"method":"paper form","recorded_by":"Marta","evidence":"signed, kept at A one","text_version":"alta-v3"},{"channel":"email","purpose":"service","granted":true,"at":1767225600,"method":"paper form","recorded_by":"Marta","evidence":"signed, kept at A one","text_version":"alta-v3"}]' \
    "$(req "$T/jar-ana" GET "/api/customers/$ROSA" | consent_of)"
check_eq "a customer without consent has an empty list" '200 []' \
    "$(req "$T/jar-ana" GET "/api/customers/$BERTA" | consent_of)"

OUT=$(req "$T/jar-ana" PUT "/api/customers/$ROSA" \
    '{"consent":[{"channel":"email","granted":false,"purposes":"marketing","evidence":"asked at the till"},{"channel":"sms","granted":true,"purposes":"service","text_version":"sms-v1"}]}' "$CSRF_A")
check_eq "PUT with consent changes records them (method web, by the user) and answers the view" \
    '200 [{"channel":"email","purpose":"marketing","granted":false,"at":"now","method":"web","recorded_by":"ana","evidence":"asked at the till","text_version":""},{"channel":"email","purpose":"service","granted":true,"at":1767225600,"method":"paper form","recorded_by":"Marta","evidence":"signed, kept at A one","text_version":"alta-v3"},{"channel":"sms","purpose":"service","granted":true,"at":"now","method":"web","recorded_by":"ana","evidence":"","text_version":"sms-v1"}]' \
    "$(echo "$OUT" | consent_of)"
check_eq "the personal fields are left as they were" "Rosa rosa@example.com" \
    "$(q "select name || ' ' || email from customer_pii where customer_id = $ROSA")"
check_eq "one audit line, customer.consent, with the consent before and after" \
    "ana|customer.consent|customer $ROSA|2|3|1|0|0" \
    "$(q "select actor, action, object, json_array_length(before), json_array_length(after), json_extract(before, '\$[0].granted'), json_extract(after, '\$[0].granted'), (select count(*) from audit where action = 'customer.edit') from audit where action = 'customer.consent'")"
check_eq "the text version is its own column, the evidence left as given" \
    "paper form|signed, kept at A one|alta-v3
web|asked at the till|
web||sms-v1" "$(q "select method, evidence, text_version from consent where customer_id = $ROSA order by id")"
check_eq "the audit line's after holds the version given" "sms-v1" \
    "$(q "select json_extract(after, '\$[2].text_version') from audit where action = 'customer.consent'")"
run_capture "$LEAL" customer consent "$ROSA" --show --db "$DB"
check_match "leal customer consent --show sees the web's change" \
    "email +marketing +refused .*, web, by ana" "$OUT"
check_match "--show prints the text version" \
    "^sms +service +granted .*, web, by ana; text version: sms-v1$" "$OUT"
check_eq "--show --json carries it" "alta-v3|sms-v1" \
    "$("$LEAL" customer consent "$ROSA" --show --json --db "$DB" | $PY -c '
import json,sys
print("|".join(c["text_version"] for c in json.load(sys.stdin)["consent"] if c["text_version"]))')"
check_eq "the customer export carries it in every consent row" "alta-v3||sms-v1" \
    "$("$LEAL" customer export "$ROSA" --db "$DB" | $PY -c '
import json,sys
print("|".join(r["text_version"] for r in json.load(sys.stdin)["tables"]["consent"]))')"

N=$(q "select count(*) from consent")
check_eq "a list with an unknown purpose is refused whole (400, its first change not written either)" \
    '400 {"error":{"code":2,"name":"LEAL_E_ARG","message":"consent \"purposes\" are marketing, service and profiling, with commas"}}'"|$N|1" \
    "$(req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"post","granted":true,"purposes":"marketing"},{"channel":"email","granted":true,"purposes":"spam"}]}' "$CSRF_A")|$(q "select count(*) from consent")|$(q "select count(*) from audit where action = 'customer.consent'")"
check_eq "and so is an unknown channel" "400|$N" \
    "$(req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"fax","granted":true}]}' "$CSRF_A" | cut -d' ' -f1)|$(q "select count(*) from consent")"
check_eq "a change without granted true/false is refused before anything is written" \
    '400 {"error":{"code":2,"name":"LEAL_E_ARG","message":"each consent change needs \"channel\" (text) and \"granted\" (true or false), and may have \"purposes\", \"evidence\" and \"text_version\" (text)"}}'"|$N" \
    "$(req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"email","granted":"yes"}]}' "$CSRF_A")|$(q "select count(*) from consent")"
check_eq "a text_version that is not text is refused, nothing written" "400|$N" \
    "$(req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"email","granted":true,"text_version":3}]}' "$CSRF_A" | cut -d' ' -f1)|$(q "select count(*) from consent")"
check_eq "staff of another store cannot change it (403, nothing written)" "403|$N" \
    "$(req "$T/jar-sam" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"email","granted":true}]}' "$CSRF_S" | cut -d' ' -f1)|$(q "select count(*) from consent")"
check_eq "nor without the CSRF token" "403|$N" \
    "$(req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"email","granted":true}]}' | cut -d' ' -f1)|$(q "select count(*) from consent")"
OUT=$(req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"consent":[{"channel":"post","granted":true}],"surname":"Ruiz"}' "$CSRF_A")
check_eq "consent and personal fields in one body: both, each with its audit line" \
    "200|Ruiz|2|1" \
    "$(echo "$OUT" | cut -d' ' -f1)|$(q "select surname from customer_pii where customer_id = $ROSA")|$(q "select count(*) from audit where action = 'customer.consent'")|$(q "select count(*) from audit where action = 'customer.edit'")"
check_eq "no purposes given: marketing and service (as the CLI's default)" \
    "post marketing True web|post service True web" \
    "$(req "$T/jar-ana" GET "/api/customers/$ROSA" | jget '"|".join("%s %s %s %s" % (c["channel"], c["purpose"], c["granted"], c["method"]) for c in d["consent"] if c["channel"] == "post")')"
check_eq "the ledger's latest e-mail rows: marketing withdrawn, service still granted" \
    "0|1" "$(q "select (select granted from consent where customer_id = $ROSA and channel = 'email' and (',' || purposes || ',') like '%,marketing,%' order by id desc limit 1), (select granted from consent where customer_id = $ROSA and channel = 'email' and (',' || purposes || ',') like '%,service,%' order by id desc limit 1)")"
finish
