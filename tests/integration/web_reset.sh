#!/bin/bash
# web_reset.sh - a back-office user's forgotten password reset by e-mail
# against a real `leal serve` and a real SMTP server on 127.0.0.1
# (tests/lib/smtp_sink.py): the exact message received (To, Subject, the
# link BASE_URL/#/reset/TOKEN), the reset works once and ends the user's old
# sessions, the token is refused the second time, after its expiry (the
# stored expiry is moved into the past with sqlite3 rather than waiting 30
# minutes) and when wrong; an unknown name, a user without an e-mail address
# and a disabled user get the same 202 and no mail; only the token's SHA-256
# is in the database file's bytes; requests are limited per name; both
# steps are in the audit log. The answers (a reset's and the portal's sign-in
# link's) come before the mail goes out (a slow SMTP server holds its greeting
# until the test has them). The page (tests/web/reset.js, headless chromium):
# the sign-in page's link in Spanish and English, the request, the reset form.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh
web_fixture reset
SINK_PID= SLOW_PID=
trap 'for p in $SINK_PID $SLOW_PID; do kill "$p" 2>/dev/null; done; web_cleanup' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
OLD_PW="old password 1"
NEW_PW="new password 22"
printf '%s\n' "$OLD_PW" >"$T/pw"

"$LEAL" program create --db "$DB" --code sol --name "Café Sol" >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 1 --code c1 --name "Sol Centro" --tz Europe/Madrid >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --refuse eva@sol.example --lifetime 180 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
"$LEAL" mail set --db "$DB" --program 1 --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null || exit 1
"$LEAL" user add mia --role manager --store 1 --lang en --email mia@sol.example \
    --password-file "$T/pw" --db "$DB" >/dev/null || exit 1
"$LEAL" user add noe --role staff --store 1 --password-file "$T/pw" --db "$DB" >/dev/null || exit 1
"$LEAL" user add dan --role staff --store 1 --email dan@sol.example --password-file "$T/pw" \
    --db "$DB" >/dev/null || exit 1
"$LEAL" user disable dan --db "$DB" >/dev/null || exit 1

run_capture "$LEAL" user add bad --role staff --store 1 --email not-an-address --password-file "$T/pw" --db "$DB"
check_eq "a malformed --email is a usage error" 2 "$RC"
check_match "it says so in one line" "^leal: --email 'not-an-address' is not an e-mail address" "$ERR"
run_capture "$LEAL" user set noe --email noe@sol.example --db "$DB"
check_eq "user set --email" "0 user 'noe': e-mail noe@sol.example" "$RC $OUT"
run_capture "$LEAL" user set noe --email '' --db "$DB"
check_eq "user set --email '' removes it" "0 user 'noe': no e-mail (no reset by e-mail)" "$RC $OUT"
run_capture "$LEAL" user set noe --db "$DB"
check_eq "user set needs --lang or --email" \
    "2|leal: leal user set NAME needs --lang en|es or --email ADDR (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" user list --db "$DB" --json
check_eq "user list shows the addresses" "mia@sol.example||dan@sol.example" \
    "$(printf '%s' "$OUT" | $PY -c 'import json,sys; print("|".join(u["email"] for u in json.load(sys.stdin)))')"

web_start serve --db "$DB"
[ -n "$URL" ] || { fail "leal serve started" "$(cat "$T/serve.err")"; finish; }

# forgot FROM NAME: asks for a reset from client address FROM; prints "STATUS BODY".
forgot() { curl -s -w ' %{http_code}' --interface "$1" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$2\"}" "$URL/api/password/forgot" | awk '{s=$NF; $NF=""; sub(/ $/, ""); print s, $0}'; }
reset() { req "$T/jar-anon" POST /api/password/reset "{\"token\":\"$1\",\"password\":\"$2\"}"; }
eml_count() { ls "$T/inbox" | grep -c '\.eml$'; }
wait_mail() { for _ in $(seq 200); do [ "$(eml_count)" -ge "$1" ] && return; sleep 0.05; done; }
# mail N: To, Subject and the links of message N's plain text.
mail() { $PY - "${INBOX:-$T/inbox}/$(printf %04d "$1").eml" <<'PY'
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
found = re.findall(r"https?://\S+", m.get_body(("plain",)).get_content())
print(m["To"], "|", m["Subject"], "|", *found)
PY
}

web_sign_in mia "$OLD_PW" >/dev/null
check_eq "mia's old session works" 200 "$(req "$T/jar-mia" GET /api/me | cut -d' ' -f1)"

check_eq "a known user with an address: 202" '202 {"minutes":30}' "$(forgot 127.0.0.2 mia)"
wait_mail 1
LINE=$(mail 1)
TOKEN=$(printf '%s' "$LINE" | grep -o '#/reset/[0-9a-f]*' | cut -d/ -f3)
check_eq "the mail: To, Subject and the link" \
    "mia@sol.example | Your new password | $URL/#/reset/$TOKEN" "$LINE"
check_match "the token is 256 bits as hex" '^[0-9a-f]{64}$' "$TOKEN"
check_eq "only the token's SHA-256 is kept" \
    "$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1 | tr a-f A-F)" \
    "$(sqlite3 "$DB" "SELECT hex(token_hash) FROM web_reset")"
check_eq "it expires in 30 minutes" 1800 "$(sqlite3 "$DB" "SELECT expires_at - created_at FROM web_reset")"
check_eq "the token is in none of the database's files" "" \
    "$(grep -l -a -F "$TOKEN" "$DB" "$DB"-wal "$DB"-journal 2>/dev/null)"

for who in nobody noe dan; do
    check_eq "the same 202 for $who" '202 {"minutes":30}' "$(forgot 127.0.0.3 "$who")"
done

WRONG=$(printf '%s' wrong | sha256sum | cut -d' ' -f1)
check_eq "a wrong token: 400 with one line" \
    "400 632 this password reset link is unknown, used or expired; ask for a new one on the sign-in page" \
    "$(reset "$WRONG" "$NEW_PW" | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); e=json.loads(b)["error"]; print(s, e["code"], e["message"])')"
check_eq "a short password is refused" 400 "$(reset "$TOKEN" short | cut -d' ' -f1)"
check_eq "and the token stays unused" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM web_reset WHERE used_at IS NULL")"
check_eq "the reset" '200 {"reset":true}' "$(reset "$TOKEN" "$NEW_PW")"
check_eq "mia's old session ended" 401 "$(req "$T/jar-mia" GET /api/me | cut -d' ' -f1)"
check_eq "the new password signs in" 200 "$(web_sign_in mia "$NEW_PW" | cut -d' ' -f1)"
check_eq "the old one does not" 401 "$(req "$T/jar-x" POST /api/session "{\"name\":\"mia\",\"password\":\"$OLD_PW\"}" | cut -d' ' -f1)"
check_eq "the token is refused the second time" "400 632" \
    "$(reset "$TOKEN" "another password 3" | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); print(s, json.loads(b)["error"]["code"])')"
check_eq "and the password stays the new one" 200 "$(web_sign_in mia "$NEW_PW" | cut -d' ' -f1)"

# An expired token: a fresh one whose stored expiry is moved into the past.
check_eq "a second request" 202 "$(forgot 127.0.0.4 mia | cut -d' ' -f1)"
wait_mail 2
check_eq "no mail for nobody, noe (no address) or dan (disabled): the next is mia's again" \
    "mia@sol.example" "$(mail 2 | cut -d' ' -f1)"
TOKEN2=$(mail 2 | grep -o '#/reset/[0-9a-f]*' | cut -d/ -f3)
sqlite3 "$DB" "UPDATE web_reset SET expires_at = strftime('%s','now') - 1 WHERE used_at IS NULL" || exit 1
check_eq "an expired token is refused" "400 632" \
    "$(reset "$TOKEN2" "another password 3" | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); print(s, json.loads(b)["error"]["code"])')"

check_eq "the audit log" "user.reset-request user 1 mia {\"queued\":true}|user.reset user 1 mia |user.reset-request user 1 mia {\"queued\":true}" \
    "$(sqlite3 "$DB" "SELECT action || ' ' || object || ' ' || actor || ' ' || coalesce(after, '') FROM audit WHERE action LIKE 'user.reset%' ORDER BY id" | paste -sd'|')"

# A mail that fails after the answer (the SMTP server refuses the address
# with 550): the same 202, and the next request the server serves moves the
# failure into the audit log: what failed, whom it concerned, the error and
# the server's answer; never the address or the link. (Before, the failure
# left no trace anywhere.)
"$LEAL" user add eva --role staff --store 1 --email eva@sol.example --password-file "$T/pw" \
    --db "$DB" >/dev/null || exit 1
EVA=$(sqlite3 "$DB" "SELECT id FROM web_user WHERE name = 'eva'")
BEFORE=$(date +%s)
check_eq "a reset for an address the SMTP server refuses: the same 202" '202 {"minutes":30}' \
    "$(forgot 127.0.0.5 eva)"
failed() { sqlite3 "$DB" "SELECT coalesce(user_id, 0) || ' ' || actor || ' ' || object || ' ' || json_remove(after, '$.failed_at') FROM audit WHERE action = 'mail.failed'"; }
for _ in $(seq 600); do [ -n "$(failed)" ] && break; curl -s -o /dev/null "$URL/"; sleep 0.05; done
check_eq "the failure is in the audit log, moved there by a later request" \
    "0 mail user $EVA {\"mail\":\"password reset link\",\"code\":685,\"error\":\"LEAL_E_MAIL_REFUSED\",\"message\":\"the mail server refused the message for good (a 5xx answer, e.g. no such recipient); do not retry it unchanged\",\"why\":\"smtp://127.0.0.1:$(cat "$T/port"): RCPT failed: 550\"}" \
    "$(failed)"
check_eq "when it failed" 1 "$(sqlite3 "$DB" "SELECT json_extract(after, '$.failed_at') BETWEEN $BEFORE AND strftime('%s','now') FROM audit WHERE action = 'mail.failed'")"
check_eq "and nothing of the address or the link" "0" "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'mail.failed' AND (after LIKE '%eva@%' OR after LIKE '%reset/%')")"

# The page, in headless chromium (tests/web/reset.js): the link on the
# sign-in page in Spanish and English, the request, and the mailed link's form.
SHOTS=build/screenshots/reset
mkdir -p "$SHOTS" && rm -f "$SHOTS"/*.png
browser() { # MODE ARGS...: reset.js's checks, then its exit, check count and stderr
    local n=$1 mode=$2
    shift
    SHOTS=$SHOTS timeout 180 node tests/web/reset.js "$URL" "$@" >"$T/browser.out" 2>"$T/browser.err"
    local rc=$?
    while IFS=$'\t' read -r name expected actual; do
        check_eq "${name#CHECK }" "$expected" "$actual"
    done < <(grep '^CHECK ' "$T/browser.out")
    check_eq "the browser run ($mode) exits 0 with $n checks and nothing on stderr" "0 $n " \
        "$rc $(grep -c '^CHECK ' "$T/browser.out") $(cat "$T/browser.err")"
}
browser 2 forgot nobody es-ES
browser 2 forgot mia en-GB
wait_mail 3
check_eq "the browser's request mailed mia (and nobody got nothing)" "mia@sol.example" "$(mail 3 | cut -d' ' -f1)"
browser 3 reset "$(mail 3 | grep -o 'http://[^ ]*')" "browser password 4"

# The limit: the sign-in's, per name (each request counts) and per address.
for i in 1 2 3 4 5; do forgot "127.0.0.$((10 + i))" ghost >/dev/null; done
check_eq "the sixth request for one name in a minute is refused" 429 "$(forgot 127.0.0.20 ghost | cut -d' ' -f1)"
for who in a b c d e; do forgot 127.0.0.21 "$who" >/dev/null; done
check_eq "the sixth from one address in a minute is refused" 429 "$(forgot 127.0.0.21 f | cut -d' ' -f1)"
for i in 1 2 3 4 5; do
    curl -s -o /dev/null --interface 127.0.0.30 -H 'Content-Type: application/json' \
        -d "{\"token\":\"$WRONG\",\"password\":\"$NEW_PW\"}" "$URL/api/password/reset"
done
check_eq "the sixth wrong token from one address in a minute is refused" 429 \
    "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.30 -H 'Content-Type: application/json' \
        -d "{\"token\":\"$WRONG\",\"password\":\"$NEW_PW\"}" "$URL/api/password/reset")"
check_eq "no other mail was sent" 3 "$(eml_count)"

# The answer comes before the mail goes out, for a reset and for the portal's
# sign-in link: a slow SMTP server (tests/lib/smtp_sink.py --hold-until)
# takes the connection and holds its greeting until this test has both
# answers; then both mails arrive whole, in order. (Before, each request
# waited for the SMTP exchange: no answer came while the greeting was held.)
mkdir "$T/slow"
$PY tests/lib/smtp_sink.py --dir "$T/slow" --port-file "$T/slow-port" --hold-until "$T/go" --lifetime 180 &
SLOW_PID=$!
for _ in $(seq 600); do [ -s "$T/slow-port" ] && break; sleep 0.05; done
"$LEAL" mail set --db "$DB" --program 1 --server 127.0.0.1 --port "$(cat "$T/slow-port")" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null || exit 1
"$LEAL" customer add --db "$DB" --program 1 --name Lola --surname Mar --email lola@sol.example >/dev/null || exit 1
ask_link() { curl -s -w ' %{http_code}' --interface "$1" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\"}" "$URL/portal/api/link" | awk '{s=$NF; $NF=""; sub(/ $/, ""); print s, $0}'; }
check_eq "a reset asked while the SMTP server holds its greeting: answered" '202 {"minutes":30}' "$(forgot 127.0.0.40 mia)"
check_eq "a portal sign-in link likewise" '202 {"minutes":15}' "$(ask_link 127.0.0.40 lola@sol.example)"
for _ in $(seq 600); do [ -e "$T/slow/held.1" ] && break; sleep 0.05; done
check_eq "after both answers the first mail's connection waits at the SMTP server, nothing delivered" \
    "held.1" "$(ls "$T/slow")"
touch "$T/go"
for _ in $(seq 600); do [ -e "$T/slow/0002.eml" ] && break; sleep 0.05; done
slow_mail() { INBOX=$T/slow mail "$1"; }
TOKEN3=$(slow_mail 1 | grep -o '#/reset/[0-9a-f]*' | cut -d/ -f3)
check_eq "then the reset's mail arrives whole: To, Subject and the link of the token kept" \
    "mia@sol.example | Your new password | $URL/#/reset/$TOKEN3|1" \
    "$(slow_mail 1)|$(sqlite3 "$DB" "SELECT count(*) FROM web_reset WHERE used_at IS NULL AND hex(token_hash) = '$(printf '%s' "$TOKEN3" | sha256sum | cut -d' ' -f1 | tr a-f A-F)'")"
LINK=$(slow_mail 2 | grep -o '#t=[0-9a-f]*' | cut -d= -f2)
check_eq "and the portal's: To, Subject and the link of the token kept" \
    "lola@sol.example | Your sign-in link | $URL/portal/#t=$LINK|1" \
    "$(slow_mail 2)|$(sqlite3 "$DB" "SELECT count(*) FROM portal_link WHERE hex(token_hash) = '$(printf '%s' "$LINK" | sha256sum | cut -d' ' -f1 | tr a-f A-F)'")"
check_eq "two connections, two messages" "0001.eml 0002.eml held.1 held.2" "$(ls "$T/slow" | grep -v '\.env$' | tr '\n' ' ' | sed 's/ $//')"
check_eq "the reset's audit line says the mail was queued" 'user.reset-request user 1 mia {"queued":true}' \
    "$(sqlite3 "$DB" "SELECT action || ' ' || object || ' ' || actor || ' ' || after FROM audit WHERE action = 'user.reset-request' ORDER BY id DESC LIMIT 1")"
finish
