#!/bin/bash
# messages_bounces.sh - `leal messages bounces` (issue 17): the delivery
# status notifications (RFC 3464) a mail server returns, as Postfix writes
# them, read from an mbox and matched to leal's messages by the token of
# their Message-ID, against a real SMTP server on 127.0.0.1
# (tests/lib/smtp_sink.py): a hard bounce (5.1.1) refuses the message and
# stops e-mail to that address until the customer's address changes (the
# send log, `leal customer export` and the run's summary say so); a soft
# bounce (4.2.2) makes the message a failure the backoff retries (then sent
# again, once, under the second attempt's own Message-ID, so a late report
# about the first attempt is recorded but leaves the resent message sent,
# and one naming an attempt never made is unmatched); a delay notice
# changes nothing; a report of no message of
# leal's counts as unmatched; a report given twice counts once; a file that
# is not a bounce is one line, exit 2, and nothing is written, even beside
# good ones; a campaign's preview counts what its send sends, the bounced
# address skipped (text and --json); erasure removes the bounces.
# The same on PostgreSQL with LEAL_TEST_BACKEND=pg (not in make test), the
# erased address sought there in the files of the tables that held it.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/messages.sh

ZONE=Europe/Madrid
clear_of_midnight 90 "$ZONE" # TODAY is reckoned once and checked to the end
TODAY=$(TZ=$ZONE date +%F)
MD=${TODAY:5:5}
messages_fixture bounce "$ZONE"

# add NAME EMAIL: a customer born today (1992: a leap year) with e-mail consent.
add() {
    local id
    id=$("$LEAL" customer add --db "$DB" --program 7 --name "$1" --email "$2" \
        --birth-date "1992-$MD" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    "$LEAL" customer consent "$id" --db "$DB" --channel email --granted yes --method form \
        --by staff >/dev/null || exit 1
    echo "$id"
}
ANA=$(add Ana ana@example.org)
BEA=$(add Bea bea@example.org)
CARLOS=$(add Carlos carlos@example.org)
DANI=$(add Dani dani@example.org)
rcpts() { tail -q -n +2 "$T"/inbox/*.env 2>/dev/null | sort | tr '\n' ' '; }
token() { q "SELECT token FROM message_send WHERE customer_id = $1 AND occasion = 'birthday'"; }
eml_of() { local f; f=$(grep -l "^$1\$" "$T"/inbox/*.env | head -1); echo "${f%.env}.eml"; }
states() { q "SELECT customer_id, occasion, state, attempts, error FROM message_send ORDER BY id"; }

printf 'Hola {{name}}, feliz cumpleaños.\n' >"$T/b.txt"
"$LEAL" messages template --db "$DB" --program 7 --occasion birthday --subject 'Feliz día' \
    --text "$T/b.txt" >/dev/null || exit 1
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 1: four birthday messages sent" \
    "0|program 7, $TODAY ($ZONE): 4 recorded, 4 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown|ana@example.org bea@example.org carlos@example.org dani@example.org " \
    "$RC|$OUT|$(rcpts)"

# dsn OUT RECIPIENT ACTION STATUS DIAG PART EML [crlf] [original]: a report as
# Postfix writes one; PART "rfc822" returns the whole message received (EML),
# "headers" only its header block.
dsn() {
    $PY - "$@" <<'EOF'
import sys
out, rcpt, action, status, diag, part, eml = sys.argv[1:8]
crlf = "crlf" in sys.argv[8:]
orig = "original" in sys.argv[8:]
msg = open(eml, "rb").read().decode().replace("\r\n", "\n")
if part == "headers":
    msg = msg.split("\n\n", 1)[0] + "\n"
b = "B1.1764900000/mx.example.org"
rows = ["Return-Path: <>",
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)",
        "To: club@sol.example",
        "Subject: Undelivered Mail Returned to Sender",
        "MIME-Version: 1.0",
        "Message-Id: <20261205010000.%s@mx.example.org>" % out.rsplit("/", 1)[1].split(".")[0],
        "Content-Type: multipart/report; report-type=delivery-status;",
        '\tboundary="%s"' % b,
        "", "This is a MIME-encapsulated message.", "",
        "--" + b, "Content-Description: Notification", "Content-Type: text/plain; charset=us-ascii", "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.", "",
        "--" + b, "Content-Description: Delivery report", "Content-Type: message/delivery-status", "",
        "Reporting-MTA: dns; mx.example.org", "X-Postfix-Queue-ID: 4F1C2", "",
        "Final-Recipient: rfc822; " + rcpt]
if orig:
    rows.append("Original-Recipient: rfc822;" + rcpt.lower())
rows += ["Action: " + action, "Status: " + status, "Remote-MTA: dns; mx.example.org"]
if diag:
    first, _, rest = diag.partition(" | ")
    rows.append("Diagnostic-Code: smtp; " + first)
    if rest:
        rows.append("    " + rest)
rows += ["", "--" + b,
         "Content-Description: Undelivered Message" + (" Headers" if part == "headers" else ""),
         "Content-Type: " + ("text/rfc822-headers" if part == "headers" else "message/rfc822"), ""]
text = "\n".join(rows) + "\n" + msg + "\n--" + b + "--\n"
if crlf:
    text = text.replace("\n", "\r\n")
open(out, "wb").write(text.encode())
EOF
}
# mbox OUT FILE...: the messages as an mbox, each after a "From " line.
mbox() {
    local out=$1
    shift
    : >"$out"
    for f in "$@"; do
        printf 'From MAILER-DAEMON  Sat Dec  5 01:00:00 2026\n' >>"$out"
        cat "$f" >>"$out"
        printf '\n' >>"$out"
    done
}
dsn "$T/ana.eml" ANA@example.org failed 5.1.1 \
    "550 5.1.1 <ana@example.org>: Recipient address | rejected: User unknown in virtual mailbox table" \
    rfc822 "$(eml_of ana@example.org)" original
dsn "$T/bea.eml" bea@example.org failed 4.2.2 "452 4.2.2 <bea@example.org>: Mailbox full" \
    headers "$(eml_of bea@example.org)" crlf
dsn "$T/carlos.eml" carlos@example.org delayed 4.4.1 "" headers "$(eml_of carlos@example.org)"
dsn "$T/dani.eml" dani@example.org failed 5.2.1 "550 5.2.1 The email account that you tried to reach is disabled" \
    rfc822 "$(eml_of dani@example.org)"
# A report of a message leal never sent (another token).
sed "s/$(token "$ANA")/0123456789abcdef0123456789abcdef/" "$T/ana.eml" >"$T/other.eml"
printf 'From: bea@example.org\nTo: club@sol.example\nSubject: Out of office\n\nBack on Monday.\n' >"$T/ooo.eml"
mbox "$T/bounces.mbox" "$T/ana.eml" "$T/bea.eml" "$T/carlos.eml" "$T/ooo.eml" "$T/dani.eml" "$T/other.eml"
ROWS_BEFORE=$(states)

# Bad input first: nothing is written, even beside a good mbox.
printf 'Subject: hello\n\nnot a bounce\n' >"$T/plain.eml"
head -c 700 /dev/urandom >"$T/noise.eml"
for f in plain.eml noise.eml; do
    run_capture "$LEAL" messages bounces --db "$DB" "$T/bounces.mbox" "$T/$f"
    check_eq "bad input: $f beside a good mbox: exit 2, one line naming it, nothing on stdout" \
        "2|1|leal: $T/$f: not a delivery status notification (RFC 3464 multipart/report); give the bounces as the mail server returned them, or an mbox of them|" \
        "$RC|$(wc -l <<<"$ERR")|$ERR|$OUT"
done
run_capture "$LEAL" messages bounces --db "$DB" "$T/missing.mbox"
check_eq "bad input: a missing file: exit 1, one line" "1|1" "$RC|$(wc -l <<<"$ERR")"
check_match "bad input: the line names the file" "^leal: $T/missing.mbox: " "$ERR"
run_capture "$LEAL" messages bounces --db "$DB" --program 99 "$T/bounces.mbox"
check_eq "bad input: an unknown program: exit 2" "2" "$RC"
check_eq "bad input: no bounce recorded, no message changed" "0|$ROWS_BEFORE" \
    "$(q 'SELECT count(*) FROM message_bounce')|$(states)"

# --program of another program: every report is unmatched, nothing written.
"$LEAL" program create --db "$DB" --code luna --name Luna --id 8 >/dev/null || exit 1
run_capture "$LEAL" messages bounces --db "$DB" --program 8 --json "$T/bounces.mbox"
check_eq "another program: the failures are unmatched (--json), nothing written" \
    '0|{"reports":5,"hard":0,"soft":0,"unmatched":4,"repeated":0,"not_failures":1,"not_reports":1,"earlier":0}|0' \
    "$RC|$OUT|$(q 'SELECT count(*) FROM message_bounce')"

AT0=$(date +%s)
run_capture "$LEAL" messages bounces --db "$DB" --program 7 "$T/bounces.mbox"
ANA_ID=$(q "SELECT id FROM message_send WHERE customer_id = $ANA")
BEA_ID=$(q "SELECT id FROM message_send WHERE customer_id = $BEA")
DANI_ID=$(q "SELECT id FROM message_send WHERE customer_id = $DANI")
check_eq "bounces: a line per failure and the counts" \
    "0|$T/bounces.mbox#1: message $ANA_ID to customer $ANA: hard bounce 5.1.1; no more e-mail to ana@example.org
$T/bounces.mbox#2: message $BEA_ID to customer $BEA: soft bounce 4.2.2; retried
$T/bounces.mbox#5: message $DANI_ID to customer $DANI: hard bounce 5.2.1; no more e-mail to dani@example.org
$T/bounces.mbox#6: unmatched: no e-mail of leal's carried its Message-ID
5 report(s): 2 hard bounce(s), 1 soft (retried), 1 unmatched, 0 recorded before, 1 not failures; 1 other message(s)" \
    "$RC|$OUT"
check_eq "bounces: the rows (address lowercase, the diagnostic unfolded)" \
    "$ANA_ID|$ANA|hard|5.1.1|ana@example.org|550 5.1.1 <ana@example.org>: Recipient address rejected: User unknown in virtual mailbox table
$BEA_ID|$BEA|soft|4.2.2|bea@example.org|452 4.2.2 <bea@example.org>: Mailbox full
$DANI_ID|$DANI|hard|5.2.1|dani@example.org|550 5.2.1 The email account that you tried to reach is disabled" \
    "$(q 'SELECT message_id, customer_id, kind, status, address, diagnostic FROM message_bounce ORDER BY id')"
check_eq "bounces: hard refused, soft failed (retried), the delayed one still sent" \
    "$ANA|birthday|refused|1|bounced 5.1.1
$BEA|birthday|failed|1|bounced 4.2.2
$CARLOS|birthday|sent|1|
$DANI|birthday|refused|1|bounced 5.2.1" "$(states)"
check_eq "bounces: the soft bounce waits the backoff's first 5 minutes" "1" \
    "$(q "SELECT CASE WHEN next_at - updated_at = 300 AND updated_at >= $AT0 THEN 1 ELSE 0 END FROM message_send WHERE id = $BEA_ID")"

run_capture "$LEAL" messages bounces --db "$DB" "$T/bounces.mbox" "$T/bea.eml"
check_eq "again: every report recorded before, nothing changed" \
    "0|6 report(s): 0 hard bounce(s), 0 soft (retried), 1 unmatched, 4 recorded before, 1 not failures; 1 other message(s)|3" \
    "$RC|$(tail -1 <<<"$OUT")|$(q 'SELECT count(*) FROM message_bounce')"
check_eq "again: a single .eml of a report recorded before (CRLF lines) names it" \
    "$T/bea.eml#1: message $BEA_ID to customer $BEA: recorded before" "$(grep "bea.eml#" <<<"$OUT")"

# Dani changes address; the soft bounce's retry comes due (time moved, not waited).
"$LEAL" customer edit "$DANI" --db "$DB" --email dani.new@example.org >/dev/null || exit 1
q "UPDATE message_send SET next_at = next_at - 300 WHERE id = $BEA_ID"
printf 'Bienvenido, {{name}}.\n' >"$T/w.txt"
"$LEAL" messages template --db "$DB" --program 7 --occasion welcome --days 7 --subject Bienvenida \
    --text "$T/w.txt" >/dev/null || exit 1
cp "$(eml_of bea@example.org)" "$T/bea1.eml" # her first attempt, for a late report below
rm -f "$T"/inbox/*
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 2: Bea's retry and three welcomes sent; Ana's bounced address gets none" \
    "0|program 7, $TODAY ($ZONE): 4 recorded, 4 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown, 1 to a bounced address|bea@example.org bea@example.org carlos@example.org dani.new@example.org " \
    "$RC|$OUT|$(rcpts)"
BEA_WELCOME=$(q "SELECT token FROM message_send WHERE customer_id = $BEA AND occasion = 'welcome'")
check_eq "run 2: Bea's two messages: the birthday's second attempt with its own Message-ID, the welcome's first" \
    "$(printf '<%s@sol.example>\n' "$(token "$BEA").2" "$BEA_WELCOME.1" | sort)" \
    "$(for f in $(grep -l '^bea@example.org$' "$T"/inbox/*.env); do
        grep -i '^Message-ID:' "${f%.env}.eml" | sed 's/^[^:]*: //' | tr -d '\r'
    done | sort)"
check_match "run 2: Ana's send log shows the bounce and the message held back" \
    "^[0-9]+ birthday $TODAY refused attempts 1 at .* token [0-9a-f]{32}: bounced 5\.1\.1
[0-9]+ welcome $TODAY skipped attempts 1 at .* token [0-9a-f]{32}: the address bounced \(5\.1\.1, recorded [0-9-]+ [0-9:]+ UTC\): no e-mail until it changes$" \
    "$("$LEAL" messages log --db "$DB" --customer "$ANA")"
check_eq "run 2: Bea's birthday sent on the second attempt" "sent|2" \
    "$(q "SELECT state, attempts FROM message_send WHERE id = $BEA_ID")"

# A late report about Bea's first attempt (another server gave it up after
# the retry went out), and one naming a third attempt, never made.
dsn "$T/bea-late.eml" bea@example.org failed 4.4.7 "450 4.4.7 Message expired" headers "$T/bea1.eml"
sed "s/$(token "$BEA")\.1@/$(token "$BEA").3@/" "$T/bea-late.eml" >"$T/bea-3.eml"
run_capture "$LEAL" messages bounces --db "$DB" --program 7 "$T/bea-late.eml" "$T/bea-3.eml"
check_eq "late: the report about attempt 1 is recorded, Bea's message stays sent (2 attempts); attempt 3 is unmatched" \
    "0|$T/bea-late.eml#1: message $BEA_ID to customer $BEA: soft bounce 4.4.7 about attempt 1, sent again since: the message stays as its last attempt left it
$T/bea-3.eml#1: unmatched: no e-mail of leal's carried its Message-ID
2 report(s): 0 hard bounce(s), 0 soft (retried), 1 unmatched, 0 recorded before, 0 not failures; 0 other message(s); 1 about an earlier attempt (the message's state kept)|sent|2||$BEA_ID|soft|4.4.7|4" \
    "$RC|$OUT|$(q "SELECT state, attempts, error FROM message_send WHERE id = $BEA_ID")|$(q "SELECT message_id, kind, status FROM message_bounce ORDER BY id DESC LIMIT 1")|$(q 'SELECT count(*) FROM message_bounce')"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 3: nothing new" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown|4" \
    "$RC|$OUT|$(ls "$T"/inbox/*.eml | wc -l)"

# A campaign to all four: its preview counts what its send writes (Ana's
# address bounced; Dani's bounced too, but he has a new one).
"$LEAL" segment add all --db "$DB" --program 7 >/dev/null || exit 1
"$LEAL" messages campaign add news --db "$DB" --program 7 --segment all --subject Novedades \
    --text "$T/w.txt" >/dev/null || exit 1
run_capture "$LEAL" messages campaign preview news --db "$DB" --program 7
check_eq "campaign preview: 4 with an address and consent, Ana's skipped as bounced: 3 to send" \
    "0|campaign news, segment all: 4 members, 4 with an e-mail address and consent, 0 written to before, 1 skipped (the address bounced): 3 e-mails to send" \
    "$RC|$OUT"
run_capture "$LEAL" messages campaign preview news --db "$DB" --program 7 --json
check_eq "campaign preview --json: the same counts" \
    '0|{"campaign":"news","segment":"all","members":4,"email":4,"before":0,"bounced":1,"to_send":3}' "$RC|$OUT"
rm -f "$T"/inbox/*
run_capture "$LEAL" messages campaign send news --db "$DB" --program 7
check_eq "campaign send: the 3 the preview counted, and Ana's to a bounced address" \
    "0|campaign news: 4 members, 4 recorded, 3 sent, 0 failed (retried later), 0 refused, 0 skipped, 1 to a bounced address|bea@example.org carlos@example.org dani.new@example.org " \
    "$RC|$OUT|$(rcpts)"

check_eq "export: Ana's bounce with its address, status and diagnostic" \
    "hard|5.1.1|ana@example.org|550 5.1.1 <ana@example.org>: Recipient address rejected: User unknown in virtual mailbox table" \
    "$("$LEAL" customer export "$ANA" --db "$DB" | $PY -c '
import json,sys
r = json.load(sys.stdin)["tables"]["message_bounce"]
print("\n".join("|".join([x["kind"], x["status"], x["address"], x["diagnostic"]]) for x in r))')"
"$LEAL" customer erase "$ANA" --db "$DB" --confirm --cards keep >/dev/null || exit 1
check_eq "erase: Ana's bounces are gone, the others' stay" "0|3" \
    "$(q "SELECT count(*) FROM message_bounce WHERE customer_id = $ANA")|$(q 'SELECT count(*) FROM message_bounce')"
# On PostgreSQL: in no file of customer_pii, message_bounce or their
# indexes (the erasure vacuumed the old row versions away; a checkpoint
# writes the pages out first).
if [ "$BK" = pg ]; then
    q "CHECKPOINT" >/dev/null
    check_eq "erase: her address is nowhere in the tables' files" "0" "$(for f in $(q "SELECT \
pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname IN ('customer_pii', 'message_bounce') \
OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ('customer_pii'::regclass, \
'message_bounce'::regclass))"); do pg_as cat "$PG_DIR/data/$f"; done | grep -c -a 'ana@example.org')"
else
    check_eq "erase: her address is nowhere in the file" "0" "$(grep -c -a 'ana@example.org' "$DB")"
fi
finish
