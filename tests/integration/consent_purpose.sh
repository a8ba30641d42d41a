#!/bin/bash
# consent_purpose.sh - consent per channel and purpose (issue 17, RGPD):
# the migration reading a ledger's consent per channel as marketing and
# service (never profiling), `leal customer consent --purpose --evidence` and
# `--show` (text and JSON), refusals, the occasions needing service consent
# and campaigns marketing (by SMS, to a real HTTP receiver), segment export
# --purpose sms (marketing) and profiling, the customer export holding the
# purposes and evidence, and an SMS's unsubscribe link withdrawing both
# message purposes on its channel.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-purpose-XXXXXX)
SINK_PID=
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
L() { "$LEAL" "$@" --db "$DB"; }
cid() { $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
show() { L customer consent "$1" --show | sed 's/ \+[0-9-]* [0-9:]*\( [A-Z+0-9:]*\)\?,/ AT,/'; }

# The migration, on an older ledger: consent per channel only.
FROM=$(grep -o 'MSG_PURPOSE_MIGRATION, */\* [0-9]* ->' host/ledger/schema.c | grep -o '[0-9][0-9]*')
M=$T/old.db
"$LEAL" program create --db "$M" --code luna --name Luna --id 8 >/dev/null || exit 1
OLD=$("$LEAL" customer add --db "$M" --program 8 --name Olga --email olga@example.org --json | cid)
"$LEAL" customer consent "$OLD" --db "$M" --channel email --granted yes --method "paper form" --by Marta >/dev/null || exit 1
"$LEAL" customer consent "$OLD" --db "$M" --channel sms --granted no --method phone --by Marta >/dev/null || exit 1
sqlite3 "$M" "ALTER TABLE consent DROP COLUMN purposes; ALTER TABLE consent DROP COLUMN evidence;
DROP TABLE message_channel_text;
DROP TABLE report_mark; DROP TABLE report_day; DROP TABLE report_visit; DROP TABLE terminal_tmac;
DROP TABLE report_held; DROP TABLE report_redeem;
DROP TABLE message_bounce; ALTER TABLE consent DROP COLUMN text_version;
DROP TABLE erasure_request; DROP TABLE card_holder; ALTER TABLE customer_note DROP COLUMN user_id; ALTER TABLE customer_note DROP COLUMN edited_at;
DROP TABLE web_reset; ALTER TABLE web_user DROP COLUMN email;
PRAGMA user_version = $FROM;"
run_capture "$LEAL" customer consent "$OLD" --db "$M" --show
check_eq "migration: a consent per channel reads as marketing and service, never profiling" \
    "0|email     marketing  granted AT, paper form, by Marta; evidence: consent per channel before purposes: read as marketing and service, the messages it was given for
email     service    granted AT, paper form, by Marta; evidence: consent per channel before purposes: read as marketing and service, the messages it was given for
sms       marketing  refused AT, phone, by Marta; evidence: consent per channel before purposes: read as marketing and service, the messages it was given for
sms       service    refused AT, phone, by Marta; evidence: consent per channel before purposes: read as marketing and service, the messages it was given for" \
    "$RC|$(sed 's/ \+[0-9-]* [0-9:]*\( [A-Z+0-9:]*\)\?,/ AT,/' <<<"$OUT")"
check_eq "migration: the rows kept (2), both marketing,service, the ledger at the new version" \
    "2|marketing,service marketing,service|$(grep -o 'LEDGER_SCHEMA_VERSION [0-9]*' host/ledger/ledger.h | grep -o '[0-9]*$')" \
    "$(sqlite3 "$M" 'SELECT count(*) FROM consent')|$(sqlite3 "$M" 'SELECT group_concat(purposes, " ") FROM consent')|$(sqlite3 "$M" 'PRAGMA user_version')"

L program create --code sol --name Sol --id 7 --locale es >/dev/null || exit 1
L store add --program 7 --code c1 --name Centro --tz Europe/Madrid >/dev/null || exit 1
ANA=$(L customer add --program 7 --name Ana --phone '+34 600 000 001' --json | cid)
BEA=$(L customer add --program 7 --name Bea --phone '+34 600 000 002' --json | cid)
CARLOS=$(L customer add --program 7 --name Carlos --phone '+34 600 000 003' --json | cid)
check_eq "schema version" "$(grep -o 'LEDGER_SCHEMA_VERSION [0-9]*' host/ledger/ledger.h | grep -o '[0-9]*$')" \
    "$(sqlite3 "$DB" 'PRAGMA user_version')"

# Refusals: exit 2, one line, nothing recorded.
run_capture L customer consent "$ANA" --channel sms --granted yes --method form --by staff --purpose spam
check_eq "an unknown purpose: exit 2, one line, nothing recorded" \
    "2|leal: --purpose 'spam': each is marketing, service or profiling, once, separated by commas|0" \
    "$RC|$ERR|$(sqlite3 "$DB" 'SELECT count(*) FROM consent')"
run_capture L customer consent "$ANA" --channel sms --granted yes --method form --by staff --purpose service,service
check_eq "a purpose twice: exit 2" "2|0" "$RC|$(sqlite3 "$DB" 'SELECT count(*) FROM consent')"
run_capture L customer consent "$ANA" --show --channel sms
check_eq "--show with --channel: exit 2" 2 "$RC"

# Ana: SMS for service only; Bea: SMS for marketing only; Carlos: SMS for
# both, and profiling by e-mail.
run_capture L customer consent "$ANA" --channel sms --granted yes --method form --by staff \
    --purpose service --evidence "alta form v3, signed, kept at Centro" --json
check_eq "consent --purpose --json" "0|{\"customer\":$ANA,\"channel\":\"sms\",\"granted\":true,\"purposes\":\"service\"}" "$RC|$OUT"
L customer consent "$BEA" --channel sms --granted yes --method web --by portal --purpose marketing >/dev/null || exit 1
L customer consent "$CARLOS" --channel sms --granted yes --method form --by staff >/dev/null || exit 1
L customer consent "$CARLOS" --channel email --granted yes --method form --by staff \
    --purpose profiling,marketing >/dev/null || exit 1
check_eq "the purposes stored in canonical order" "service|marketing|marketing,service|marketing,profiling" \
    "$(sqlite3 "$DB" 'SELECT purposes FROM consent ORDER BY id' | tr '\n' '|' | sed 's/|$//')"
check_eq "--show: Ana's consent with its evidence" \
    "sms       service    granted AT, form, by staff; evidence: alta form v3, signed, kept at Centro" \
    "$(show "$ANA")"
check_eq "--show --json: Carlos, per channel and purpose" \
    "email marketing True|email profiling True|sms marketing True|sms service True" \
    "$(L customer consent "$CARLOS" --show --json | $PY -c '
import json,sys
d = json.load(sys.stdin)
print("|".join("%s %s %s" % (c["channel"], c["purpose"], c["granted"]) for c in d["consent"]))')"

# Messages by SMS: the occasions need service, campaigns marketing.
mkdir "$T/inbox"
$PY tests/lib/http_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 120 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
L messages web --program 7 --url "$URL" >/dev/null || exit 1
printf '{"to": "{{phone}}", "text": "{{text}}"}\n' >"$T/body.json"
L messages gateway set --program 7 --channel sms --url "http://127.0.0.1:$(cat "$T/port")/send" \
    --body "$T/body.json" >/dev/null || exit 1
printf 'Hola {{name}}.\n' >"$T/t.txt"
L messages template --program 7 --occasion welcome --days 2 --subject x --text "$T/t.txt" >/dev/null || exit 1
run_capture L messages run --program 7
check_eq "welcome (service): Ana and Carlos, not Bea (marketing only)" "0|$ANA $CARLOS" \
    "$RC|$(sqlite3 "$DB" "SELECT group_concat(customer_id, ' ') FROM (SELECT customer_id FROM message_send WHERE occasion = 'welcome' AND state = 'sent' ORDER BY 1)")"
L segment add todos --program 7 >/dev/null || exit 1
L messages campaign add promo --program 7 --segment todos --subject x --text "$T/t.txt" >/dev/null || exit 1
run_capture L messages campaign send promo --program 7
check_eq "campaign (marketing): Bea and Carlos, not Ana (service only)" "0|$BEA $CARLOS" \
    "$RC|$(sqlite3 "$DB" "SELECT group_concat(customer_id, ' ') FROM (SELECT customer_id FROM message_send WHERE occasion = 'campaign:promo' AND state = 'sent' ORDER BY 1)")"
check_eq "the receiver got exactly those 4 SMS" 4 "$(ls "$T/inbox" | wc -l)"

# Segment exports by purpose.
L segment export todos --purpose sms --csv "$T/sms.csv" >/dev/null || exit 1
check_eq "export --purpose sms: marketing consent by SMS (Bea, Carlos)" \
    "id,name,phone|$BEA,Bea,+34 600 000 002|$CARLOS,Carlos,+34 600 000 003" \
    "$(tr -d '\r' <"$T/sms.csv" | tr '\n' '|' | sed 's/|$//')"
L segment export todos --purpose profiling --csv "$T/prof.csv" >/dev/null || exit 1
check_eq "export --purpose profiling: only Carlos (profiling consent)" \
    "id,points,tier,store,last_visit|$CARLOS,0,0,," \
    "$(tr -d '\r' <"$T/prof.csv" | tr '\n' '|' | sed 's/|$//')"

# The customer export holds every consent row with its purposes and evidence.
check_eq "customer export: Ana's consent row with purposes and evidence" \
    "sms|1|service|alta form v3, signed, kept at Centro" \
    "$(L customer export "$ANA" --json | $PY -c '
import json,sys
d = json.load(sys.stdin)
for r in d["tables"]["consent"]:
    print("%s|%s|%s|%s" % (r["channel"], r["granted"], r["purposes"], r["evidence"]))')"

# An SMS's unsubscribe link withdraws both message purposes on SMS.
TOKEN=$(sqlite3 "$DB" "SELECT token FROM message_send WHERE customer_id = $CARLOS AND occasion = 'welcome'")
check_eq "the link: POST withdraws marketing and service by SMS, e-mail untouched" "200|sms       marketing  refused AT, unsubscribe link, by message $(sqlite3 "$DB" "SELECT id FROM message_send WHERE token = '$TOKEN'")" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/unsubscribe/$TOKEN")|$(show "$CARLOS" | grep '^sms *marketing')"
check_eq "Carlos after the link: e-mail kept, SMS withdrawn for both purposes" \
    "email marketing granted|email profiling granted|sms marketing refused|sms service refused" \
    "$(show "$CARLOS" | awk '{print $1, $2, $3}' | tr '\n' '|' | sed 's/|$//')"
finish
