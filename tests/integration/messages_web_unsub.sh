#!/bin/bash
# messages_web_unsub.sh - the web unsubscribe link (issue 17): with `leal
# messages web --url`, each message carries URL/unsubscribe/TOKEN (its last
# line, and List-Unsubscribe beside the mail-to with List-Unsubscribe-Post:
# RFC 8058's one-click, whose POST body curl sends), and a real `leal serve` answers it: GET a page
# asking to confirm, POST withdraws the e-mail consent (a consent row with
# its time, method and message), again changes nothing, in the customer's
# language; a bad token is a 404 with one line. Messages go through a real
# SMTP server on 127.0.0.1 (tests/lib/smtp_sink.py); HTTP through curl.
# With LEAL_TEST_BACKEND=pg (web_pg.sh) the same cases with the same exact
# expectations run on a PostgreSQL ledger, each row read in that database.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/backend.sh

T=$(mktemp -d /tmp/leal-msgweb-XXXXXX)
SINK_PID=
PID=
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
backend_db messages_web_unsub || {
    finish
    exit
}
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; backend_db_stop; rm -rf "$T"' EXIT

"$LEAL" program create --db "$DB" --code sol --name "Sol & Luna" --id 7 --locale es >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 7 --code c1 --name Centro --tz Europe/Madrid >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 120 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
"$LEAL" mail set --db "$DB" --program 7 --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
    --from club@sol.example --from-name "Sol" >/dev/null || exit 1
add() {
    local id
    id=$("$LEAL" customer add --db "$DB" --program 7 --name "$1" --email "$2" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    "$LEAL" customer consent "$id" --db "$DB" --channel email --granted yes \
        --method form --by staff >/dev/null || exit 1
    echo "$id"
}
ANA=$(add Ana ana@example.org)
BEA=$(add Bea bea@example.org)
"$LEAL" messages lang --db "$DB" --customer "$ANA" --lang en >/dev/null || exit 1
printf 'Hola {{name}}.\n' >"$T/es.txt"
printf 'Hi {{name}}.\n' >"$T/en.txt"
printf '<p>Hi {{name}}. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>\n' >"$T/en.html"
"$LEAL" messages template --db "$DB" --program 7 --occasion welcome --days 2 \
    --subject Bienvenida --text "$T/es.txt" >/dev/null || exit 1
"$LEAL" messages template --db "$DB" --program 7 --occasion welcome --lang en \
    --subject Welcome --text "$T/en.txt" --html "$T/en.html" >/dev/null || exit 1

"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")

for bad in "$URL/" "ftp://club.example" "https://club.example/x y" 'https://club.example/"x'; do
    run_capture "$LEAL" messages web --db "$DB" --program 7 --url "$bad"
    check_eq "web: '$bad' refused, exit 1, one line, nothing stored" "1|1|0" \
        "$RC|$(grep -c "^leal: .*http(s)://HOST\[:PORT\]\[/PATH\], without a trailing '/'" <<<"$ERR")|$(q 'SELECT count(*) FROM message_web')"
done
run_capture "$LEAL" messages web --db "$DB" --program 7 --url "$URL"
check_eq "web: the address stored" "0|program 7: messages carry the link $URL/unsubscribe/TOKEN" "$RC|$OUT"

run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run: Ana and Bea welcomed" "0|2 recorded, 2 sent" "$RC|$(grep -o '[0-9]* recorded, [0-9]* sent' <<<"$OUT")"
token() { q "SELECT token FROM message_send WHERE customer_id = $1"; }
ANA_T=$(token "$ANA")
BEA_T=$(token "$BEA")
# msg ADDRESS: the List-Unsubscribe header lines as sent (CRLF as LF), then
# the decoded parts.
msg() {
    $PY -c '
import email, email.policy, glob, re, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    if m["To"] == "<" + sys.argv[2] + ">":
        head = raw.split(b"\r\n\r\n")[0].decode()
        print(re.search(r"^List-Unsubscribe:.*?\r\n(?=[^ ])(List-Unsubscribe-Post:.*?\r\n)?", head + "\r\n",
                        re.M | re.S).group(0).replace("\r\n", "\n"), end="")
        print("".join(p.get_payload(decode=True).decode().replace("\r\n", "\n")
                      for p in m.walk() if not p.is_multipart()), end="")' "$T/inbox" "$1"
}
check_eq "Ana's message: mail-to and link in List-Unsubscribe, one-click, its last line, the HTML" \
    "List-Unsubscribe: <mailto:club@sol.example?subject=unsubscribe%20$ANA_T>,
 <$URL/unsubscribe/$ANA_T>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Hi Ana.
-- 
To receive no more of these e-mails: $URL/unsubscribe/$ANA_T
<p>Hi Ana. <a href=\"$URL/unsubscribe/$ANA_T\">Unsubscribe</a></p>" "$(msg ana@example.org)"
check_eq "Bea's message: the link, in Spanish" "List-Unsubscribe: <mailto:club@sol.example?subject=unsubscribe%20$BEA_T>,
 <$URL/unsubscribe/$BEA_T>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Hola Bea.
-- 
Para no recibir más estos correos: $URL/unsubscribe/$BEA_T" "$(msg bea@example.org)"

# status_body METHOD PATH: the status, then the body.
status_body() { curl -s -X "$1" -w '\n%{http_code}' "$URL$2" | $PY -c 'import sys; b,c=sys.stdin.read().rsplit("\n",1); print(c); print(b, end="")'; }
consent() { q "SELECT granted, method, recorded_by FROM consent WHERE customer_id = $1 AND channel = 'email' ORDER BY id" | tr '\n|' '  '; }
MSG_ANA=$(q "SELECT id FROM message_send WHERE customer_id = $ANA")

check_eq "GET: 200, the English page asks to confirm (the name escaped)" "200
<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Sol &amp; Luna</title></head><body>
<h1>Sol &amp; Luna</h1>
<p>Stop receiving e-mails from Sol &amp; Luna?</p>
<form method=\"post\" action=\"/unsubscribe/$ANA_T\"><button type=\"submit\">Unsubscribe</button></form>
</body></html>" "$(status_body GET "/unsubscribe/$ANA_T")"
check_eq "GET changes nothing: Ana's consent still granted" "1 form staff " "$(consent "$ANA")"
BEFORE=$(date +%s)
check_eq "POST: 200, done (English)" "200
<p>Done: you will receive no more e-mails from Sol &amp; Luna.</p>" \
    "$(status_body POST "/unsubscribe/$ANA_T" | sed -n '1p;5p')"
AFTER=$(date +%s)
check_eq "POST: the withdrawal recorded (unsubscribe link, by her message)" \
    "1 form staff 0 unsubscribe link message $MSG_ANA " "$(consent "$ANA")"
AT=$(q "SELECT at FROM consent WHERE customer_id = $ANA ORDER BY id DESC LIMIT 1")
check_eq "POST: recorded with the time of the click" 1 "$((AT >= BEFORE && AT <= AFTER))"
check_eq "POST again: 200, nothing new recorded" "200|1 form staff 0 unsubscribe link message $MSG_ANA " \
    "$(status_body POST "/unsubscribe/$ANA_T" | sed -n 1p)|$(consent "$ANA")"
check_eq "the CLI's unsubscribe of the same token records nothing either" \
    "0|1 form staff 0 unsubscribe link message $MSG_ANA " \
    "$("$LEAL" messages unsubscribe "$ANA_T" --db "$DB" >/dev/null; echo $?)|$(consent "$ANA")"
check_eq "Bea's page is in Spanish (the program's locale)" "200
<p>¿Dejar de recibir correos de Sol &amp; Luna?</p>
<form method=\"post\" action=\"/unsubscribe/$BEA_T\"><button type=\"submit\">Darse de baja</button></form>" \
    "$(status_body GET "/unsubscribe/$BEA_T" | sed -n '1p;5,6p')"
check_eq "Bea's consent untouched by Ana's clicks" "1 form staff " "$(consent "$BEA")"
# A mail client's one-click (RFC 8058): a form POST with that exact body.
one_click() { curl -s -H 'Content-Type: application/x-www-form-urlencoded' \
    --data 'List-Unsubscribe=One-Click' -w '\n%{http_code}' "$URL$1" | $PY -c 'import sys; b,c=sys.stdin.read().rsplit("\n",1); print(c); print(b, end="")'; }
check_eq "Bea's one-click POST: done, in Spanish; withdrawn by the link" "200
<p>Hecho: no recibirá más correos de Sol &amp; Luna.</p>|0|unsubscribe link" \
    "$(one_click "/unsubscribe/$BEA_T" | sed -n '1p;5p')|$(q "SELECT granted, method FROM consent WHERE customer_id = $BEA ORDER BY id DESC LIMIT 1")"

check_eq "an unknown token: 404, one line" "404
not found: no message carries that unsubscribe link" \
    "$(status_body GET /unsubscribe/0123456789abcdef0123456789abcdef)"
check_eq "a malformed token: 404 on GET and POST" "404 404" \
    "$(status_body GET "/unsubscribe/x'%3BDROP" | sed -n 1p) $(status_body POST /unsubscribe/ | sed -n 1p)"
check_eq "another method: 405" 405 "$(status_body PUT "/unsubscribe/$BEA_T" | sed -n 1p)"
check_eq "consent rows: 2 for Ana, 2 for Bea, no more" "2 2" \
    "$(q "SELECT count(*) FROM consent WHERE customer_id = $ANA") $(q "SELECT count(*) FROM consent WHERE customer_id = $BEA")"
check_eq "unsubscribed: the next welcome run writes to neither" "0 recorded, 0 sent" \
    "$(q "DELETE FROM message_send"; "$LEAL" messages run --db "$DB" --program 7 | grep -o '[0-9]* recorded, [0-9]* sent')"
run_capture "$LEAL" messages web --db "$DB" --program 7 --url ''
check_eq "web --url '': removed" "0|program 7: messages say to reply to unsubscribe|0" \
    "$RC|$OUT|$(q 'SELECT count(*) FROM message_web')"
finish
