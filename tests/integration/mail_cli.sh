#!/bin/bash
# mail_cli.sh - `leal mail set|show|test` end to end (issue 17): a program's
# SMTP settings stored in the ledger (the credentials file's path, never the
# password), a test message sent through them with STARTTLS and AUTH to a
# real SMTP server on 127.0.0.1 (tests/lib/smtp_sink.py, Debian's
# python3-aiosmtpd) that this script starts and stops, read back with
# Python's email parser; refusals in one line with their exit codes. The
# same on PostgreSQL with LEAL_TEST_BACKEND=pg (customers_pg.sh).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-mail-XXXXXX)
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
# On PostgreSQL (LEAL_TEST_BACKEND=pg, customers_pg.sh): a database of the
# cluster (tests/lib/backend.sh), the same cases and expectations.
source tests/lib/backend.sh
backend_db mail || {
    finish
    exit
}
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; backend_db_stop; rm -rf "$T"' EXIT

"$LEAL" program create --db "$DB" --code sol --name "Café Sol" --id 7 >/dev/null || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=leal test" \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --tls "$T/cert.pem" "$T/key.pem" \
    --auth "club:pa55 word" --lifetime 120 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/port")
printf 'club\npa55 word\n' >"$T/cred"

chmod 644 "$T/cred"
run_capture "$LEAL" mail set --program 7 --server 127.0.0.1 --port "$PORT" --from club@sol.example \
    --credentials "$T/cred" --ca-file "$T/cert.pem" --db "$DB"
check_eq "set: a credentials file others can read is refused, exit 1" 1 "$RC"
check_match "set: the refusal says chmod 600, in one line" "^leal: .*chmod 600" "$ERR"
check_eq "set: the refusal is one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
chmod 600 "$T/cred"
run_capture "$LEAL" mail set --program 7 --server 127.0.0.1 --port "$PORT" --from club@sol.example \
    --credentials "$T/cred" --tls none --db "$DB"
check_eq "set: credentials without TLS are refused" 1 "$RC"
run_capture "$LEAL" mail set --program 7 --server 127.0.0.1 --port "$PORT" --from 'club@sol.example>x' \
    --db "$DB"
check_eq "set: a bad sender address is refused, exit 2" 2 "$RC"
run_capture "$LEAL" mail show --program 7 --db "$DB"
check_eq "show: nothing stored yet, exit 1" 1 "$RC"
check_match "show: says how to set them" "leal mail set" "$ERR"

run_capture "$LEAL" mail set --program 7 --server 127.0.0.1 --port "$PORT" --from club@sol.example \
    --from-name "Café Sol" --credentials "$T/cred" --ca-file "$T/cert.pem" --db "$DB"
check_eq "set: exit 0" 0 "$RC"
check_eq "set: the password is nowhere in the ledger" 0 "$(backend_dump | grep -c 'pa55 word')"
check_eq "set: the ledger keeps the path" "$T/cred" "$(q "SELECT credentials FROM program_mail WHERE program_id = 7")"
run_capture "$LEAL" mail show --program 7 --db "$DB"
check_eq "show: the settings" "server: 127.0.0.1
port: $PORT
tls: starttls
from: club@sol.example
from name: Café Sol
credentials file: $T/cred
ca file: $T/cert.pem" "$OUT"

run_capture "$LEAL" mail test --program 7 --to ana@example.org --db "$DB"
check_eq "test: exit 0" 0 "$RC"
check_eq "test: says where it went" "sent a test message to ana@example.org through 127.0.0.1" "$OUT"
check_eq "test: the server got exactly one message" 1 "$(ls "$T/inbox" | grep -c '\.eml$')"
check_eq "test: envelope from the program's sender to the recipient" "club@sol.example
ana@example.org" "$(cat "$T/inbox/0001.env")"
check_eq "test: headers and both parts, read back by Python's email parser" \
    "Café Sol <club@sol.example>|<ana@example.org>|leal: test message|text/plain,text/html|This is a test message from leal: this program's mail settings work." \
    "$($PY -c '
import email, email.header, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
parts = [p for p in m.walk() if not p.is_multipart()]
sender = str(email.header.make_header(email.header.decode_header(m["From"])))
print("|".join([sender, m["To"], m["Subject"], ",".join(p.get_content_type() for p in parts),
                parts[0].get_payload(decode=True).decode().strip()]))' "$T/inbox/0001.eml")"

printf 'club\nwrong\n' >"$T/cred"
run_capture "$LEAL" mail test --program 7 --to ana@example.org --db "$DB"
check_eq "test: a wrong password is refused, exit 1" 1 "$RC"
check_match "test: the error says the server refused the user or password" "refused the user name or password" "$ERR"
check_nomatch "test: the password is in no output" "wrong|pa55" "$OUT$ERR"
check_eq "test: nothing more delivered" 1 "$(ls "$T/inbox" | grep -c '\.eml$')"
run_capture "$LEAL" mail test --program 7 --to 'ana@example.org
Bcc: x@y' --db "$DB"
check_eq "test: a recipient with a line break is refused" 1 "$RC"
check_match "test: named as an invalid address" "address or header is not valid" "$ERR"
finish
