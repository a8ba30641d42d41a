#!/bin/bash
# web_care.sh - the back office's customer care (issue 16, host/web/web_care.h):
# notes signed by the user who wrote them (exact JSON; only their author or a
# manager/admin of the store edits or deletes them; each change audited with
# the text before and after); a customer's erasure request recorded by a
# manager (pending, audited), carried out by an admin from the page or by
# `leal customer erase`, which leaves no note text in the file's bytes; a
# user's own language (POST /api/me). Then the pages in headless Chromium
# (tests/web/care.js): a staff member in Spanish, a manager in English, an
# admin carrying out the erasure, exact strings, screenshots.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh

web_fixture webcare
DB=$T/ledger.db
SHOTS=build/screenshots/care
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
q() { sqlite3 "$DB" "$1"; }

"$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code a --name "Shop A" --kind chain --locale es >/dev/null
"$LEAL" program create --db "$DB" --code b --name "Shop B" >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz Europe/Madrid >/dev/null
"$LEAL" store add --db "$DB" --program 2 --code b1 --name "B one" --tz Europe/Madrid >/dev/null
for n in Rosa Lola Nuria Pilar; do "$LEAL" customer add --db "$DB" --program 1 --name "$n" >/dev/null; done
"$LEAL" customer add --db "$DB" --program 2 --name Berta >/dev/null
id_of() { q "select customer_id from customer_pii where name = '$1'"; }
ROSA=$(id_of Rosa) LOLA=$(id_of Lola) NURIA=$(id_of Nuria) PILAR=$(id_of Pilar) BERTA=$(id_of Berta)
acct_of() { q "select id from account where customer_id = $1"; }
# Pilar's household: three cards on her account (a desk's issue, as 'leal card
# issue --account' leaves them); Nuria's one card has a holder too.
for c in 9001:04a1b2c3d4e501 9002:04a1b2c3d4e502 9003:04a1b2c3d4e503; do
    "$LEAL" account add-card "$(acct_of "$PILAR")" --card-id "${c%%:*}" --uid "${c#*:}" \
        --tech desfire-ev2 --status active --db "$DB" >/dev/null || exit 1
done
"$LEAL" account add-card "$(acct_of "$NURIA")" --card-id 9004 --uid 04a1b2c3d4e504 \
    --tech desfire-ev2 --status active --db "$DB" >/dev/null || exit 1
for u in admin manager staff; do printf '%s password 1\n' "$u" >"$T/pw-$u"; done
"$LEAL" user add mia --role manager --store 1 --lang en --password-file "$T/pw-manager" --db "$DB" >/dev/null
run_capture "$LEAL" user add sam --role staff --store 1 --password-file "$T/pw-staff" --db "$DB"
check_eq "a staff member of a Spanish program is Spanish by default" "0|es" \
    "$RC|$(q "select lang from web_user where name = 'sam'")"
"$LEAL" user add tom --role staff --store 1 --lang en --password-file "$T/pw-staff" --db "$DB" >/dev/null
"$LEAL" user add pat --role staff --store 2 --password-file "$T/pw-staff" --db "$DB" >/dev/null
"$LEAL" customer note "$ROSA" --by Marta --db "$DB" "prefers the desk's paper receipts" >/dev/null || exit 1
uid() { q "select id from web_user where name = '$1'"; }

web_start serve --db "$DB" --init-admin ana --password-file "$T/pw-admin"
ANA=$(uid ana) MIA=$(uid mia) SAM=$(uid sam) TOM=$(uid tom)

# The status and the answer's KEY (notes or erasure), times of this run as "now".
part() {
    $PY -c 'import json,sys
s, b = sys.stdin.read().split(" ", 1)
d = json.loads(b)
v = d.get(sys.argv[1], d)
def now(x):
    if isinstance(x, dict):
        for k in ("at", "edited_at", "recorded_at", "done_at"):
            if isinstance(x.get(k), int) and x[k] >= int(sys.argv[2]): x[k] = "now"
    return x
v = [now(x) for x in v] if isinstance(v, list) else now(v)
print(s, json.dumps(v, separators=(",", ":")))' "$1" "$T0"
}
sign_in() { web_sign_in "$1" "$(cat "$T/pw-$2")"; }
T0=$(date +%s)
q "update customer_note set at = 1767225600" # the desk's note: 2026-01-01 00:00 UTC
CSRF_A=$(sign_in ana admin | web_csrf)
CSRF_M=$(sign_in mia manager | web_csrf)
CSRF_S=$(sign_in sam staff | web_csrf)
CSRF_T=$(sign_in tom staff | web_csrf)
CSRF_P=$(sign_in pat staff | web_csrf)

# ---- Notes ----
DESK='{"id":1,"at":1767225600,"author":"Marta","user":0,"edited_at":0,"text":"prefers the desk'"'"'s paper receipts","may_change":false}'
check_eq "the customer's view lists the desk's note (no user: staff may not change it)" "200 [$DESK]" \
    "$(req "$T/jar-sam" GET "/api/customers/$ROSA" | part notes)"
check_eq "a manager may change it" "true" \
    "$(req "$T/jar-mia" GET "/api/customers/$ROSA" | part notes | sed 's/.*"may_change":\([a-z]*\)}]$/\1/')"
NOTE1="likes oat milk, allergic to nuts: note of $T0"
check_eq "staff add a note: 201, signed by them, dated now, theirs to change" \
    "201 [$DESK,{\"id\":2,\"at\":\"now\",\"author\":\"sam\",\"user\":$SAM,\"edited_at\":0,\"text\":\"$NOTE1\",\"may_change\":true}]" \
    "$(req "$T/jar-sam" POST "/api/customers/$ROSA/notes" "{\"text\":\"$NOTE1\"}" "$CSRF_S" | part notes)"
check_eq "its audit line: customer.note.add by sam, nothing before, the note after" \
    "sam|$SAM|customer.note.add|customer $ROSA||{\"author\":\"sam\",\"note\":2,\"text\":\"$NOTE1\"}" \
    "$(q "select actor, user_id, action, object, before, after from audit where action like 'customer.note.%'")"
check_eq "another staff member sees it, not theirs to change" "false" \
    "$(req "$T/jar-tom" GET "/api/customers/$ROSA" | part notes | sed 's/.*"may_change":\([a-z]*\)}]$/\1/')"
check_eq "and cannot edit it (403, the note as it was)" \
    "403 {\"error\":{\"code\":628,\"name\":\"LEAL_E_NOTE_AUTHOR\",\"message\":\"only the note's author, or a manager or admin of its store, may change or delete it\"}}|$NOTE1" \
    "$(req "$T/jar-tom" PUT /api/notes/2 '{"text":"changed by tom"}' "$CSRF_T")|$(q "select text from customer_note where id = 2")"
check_eq "nor delete it" "403|1" \
    "$(req "$T/jar-tom" DELETE /api/notes/2 "" "$CSRF_T" | cut -d' ' -f1)|$(q "select count(*) from customer_note where id = 2")"
check_eq "staff of another store: 403 on the customer's notes and on the note" "403 403 403" \
    "$(req "$T/jar-pat" POST "/api/customers/$ROSA/notes" '{"text":"x"}' "$CSRF_P" | cut -d' ' -f1) $(req "$T/jar-pat" PUT /api/notes/2 '{"text":"x"}' "$CSRF_P" | cut -d' ' -f1) $(req "$T/jar-pat" DELETE /api/notes/2 "" "$CSRF_P" | cut -d' ' -f1)"
check_eq "a note without text, or with a control character: 400, nothing written" "400 400|2" \
    "$(req "$T/jar-sam" POST "/api/customers/$ROSA/notes" '{"text":""}' "$CSRF_S" | cut -d' ' -f1) $(req "$T/jar-sam" POST "/api/customers/$ROSA/notes" '{"text":"a\u0007b"}' "$CSRF_S" | cut -d' ' -f1)|$(q "select count(*) from customer_note")"
check_eq "without the CSRF token: 403, nothing written" "403 403|2|$NOTE1" \
    "$(req "$T/jar-sam" POST "/api/customers/$ROSA/notes" '{"text":"x"}' | cut -d' ' -f1) $(req "$T/jar-sam" PUT /api/notes/2 '{"text":"x"}' | cut -d' ' -f1)|$(q "select count(*) from customer_note")|$(q "select text from customer_note where id = 2")"
check_eq "an unknown note: 404" "404" "$(req "$T/jar-mia" PUT /api/notes/99 '{"text":"x"}' "$CSRF_M" | cut -d' ' -f1)"
NOTE2="oat milk; the nut allergy confirmed by $T0"
check_eq "a manager of the store edits it: the author and date stay, edited now" \
    "200 [${DESK/false/true},{\"id\":2,\"at\":\"now\",\"author\":\"sam\",\"user\":$SAM,\"edited_at\":\"now\",\"text\":\"$NOTE2\",\"may_change\":true}]" \
    "$(req "$T/jar-mia" PUT /api/notes/2 "{\"text\":\"$NOTE2\"}" "$CSRF_M" | part notes)"
check_eq "audited: customer.note.edit by mia with the text before and after" \
    "mia|customer.note.edit|$NOTE1|$NOTE2" \
    "$(q "select actor, action, json_extract(before, '\$.text'), json_extract(after, '\$.text') from audit where action = 'customer.note.edit'")"
req "$T/jar-sam" POST "/api/customers/$ROSA/notes" '{"text":"to be deleted"}' "$CSRF_S" >/dev/null
check_eq "its author deletes their own note: audited with the text before, nothing after" \
    "200|2|sam|customer.note.delete|to be deleted|" \
    "$(req "$T/jar-sam" DELETE /api/notes/3 "" "$CSRF_S" | cut -d' ' -f1)|$(q "select count(*) from customer_note")|$(q "select actor, action, json_extract(before, '\$.text'), after from audit where action = 'customer.note.delete'")"
run_capture "$LEAL" customer export "$ROSA" --db "$DB"
check_eq "leal customer export lists the notes with their signer and edit time" \
    "0|1 Marta None None|2 sam $SAM True" \
    "$RC|$(echo "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print("|".join("%s %s %s %s" % (n["id"], n["author"], n["user_id"], None if n["edited_at"] is None else n["edited_at"] > 0) for n in d["tables"]["customer_note"]))')"

# ---- Family cards ----
run_capture "$LEAL" card holder 9001 "Pilar Ruiz" --db "$DB"
check_eq "leal card holder names who carries a card, audited" \
    "0|card 9001: held by Pilar Ruiz|desk|card.holder|card 9001||{\"holder\":\"Pilar Ruiz\"}" \
    "$RC|$OUT|$(q "select actor, action, object, before, after from audit where action = 'card.holder'")"
"$LEAL" card holder 9002 "Juan Ruiz" --db "$DB" >/dev/null
"$LEAL" card holder 9003 "Ana Ruiz" --operator Marta --db "$DB" >/dev/null
"$LEAL" card holder 9004 "Nuria's son" --db "$DB" >/dev/null
run_capture "$LEAL" card holder 9009 "Nobody" --db "$DB"
check_eq "a card the ledger does not hold: exit 2, one line, nothing written" \
    "2|leal: the card's holder: card 9009: no such id|4" \
    "$RC|$ERR|$(q "select count(*) from card_holder")"
check_eq "the customer's view lists the family's cards with their holders" \
    '200 [{"id":9001,"tech":"desfire-ev2","status":"active","holder":"Pilar Ruiz"},{"id":9002,"tech":"desfire-ev2","status":"active","holder":"Juan Ruiz"},{"id":9003,"tech":"desfire-ev2","status":"active","holder":"Ana Ruiz"}]' \
    "$(req "$T/jar-sam" GET "/api/customers/$PILAR" | part cards)"
check_eq "staff cannot detach a card (403), the card stays active" "403|active" \
    "$(req "$T/jar-sam" POST /api/cards/9002/detach '{"reason":"moved out"}' "$CSRF_S" | cut -d' ' -f1)|$(q "select status from card where card_id = 9002")"
check_eq "staff of another store: 403 too; without a reason: 400" "403 400" \
    "$(req "$T/jar-pat" POST /api/cards/9002/detach '{"reason":"moved out"}' "$CSRF_P" | cut -d' ' -f1) $(req "$T/jar-mia" POST /api/cards/9002/detach '{}' "$CSRF_M" | cut -d' ' -f1)"
OUT=$(req "$T/jar-mia" POST /api/cards/9002/detach '{"reason":"moved out"}' "$CSRF_M")
check_eq "a manager detaches Juan's card: blocked, the reason in its history, audited" \
    "200 blocked|blocked|detached from the family account: moved out|mia|mia|card.detach|{\"account\":$(acct_of "$PILAR"),\"holder\":\"Juan Ruiz\",\"status\":\"active\"}|{\"account\":$(acct_of "$PILAR"),\"holder\":\"Juan Ruiz\",\"reason\":\"moved out\",\"status\":\"blocked\"}" \
    "$(echo "$OUT" | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); print(s, json.loads(b)["card"]["status"])')|$(q "select status from card where card_id = 9002")|$(q "select reason, operator from card_event where card_id = 9002 order by rowid desc limit 1")|$(q "select actor, action, before, after from audit where action = 'card.detach'")"
check_eq "a card already detached (not active): 409" "409 LEAL_E_CARD_STATUS_CHANGE" \
    "$(req "$T/jar-mia" POST /api/cards/9002/detach '{"reason":"again"}' "$CSRF_M" | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); print(s, json.loads(b)["error"]["name"])')"
run_capture "$LEAL" customer export "$PILAR" --db "$DB"
check_eq "leal customer export lists the holders" "9001 Pilar Ruiz|9002 Juan Ruiz|9003 Ana Ruiz" \
    "$(echo "$OUT" | $PY -c 'import json,sys; print("|".join("%d %s" % (r["card_id"], r["name"]) for r in json.load(sys.stdin)["tables"]["card_holder"]))')"

# ---- Erasure requests ----
check_eq "no request yet: erasure is null" "200 null" \
    "$(req "$T/jar-sam" GET "/api/customers/$ROSA" | part erasure)"
check_eq "staff cannot record one (403), nothing written" "403|0" \
    "$(req "$T/jar-sam" POST "/api/customers/$ROSA/erasure" '{"asked_on":"2026-12-01","channel":"email"}' "$CSRF_S" | cut -d' ' -f1)|$(q "select count(*) from erasure_request")"
check_eq "a day that is not one: 400" \
    "400 {\"error\":{\"code\":301,\"name\":\"LEAL_E_DATE\",\"message\":\"the erasure request: the day the customer asked, '2026-02-30': malformed date; write it as YYYY-MM-DD\"}}" \
    "$(req "$T/jar-mia" POST "/api/customers/$ROSA/erasure" '{"asked_on":"2026-02-30","channel":"email"}' "$CSRF_M")"
check_eq "a channel that is not one: 400" \
    "400 {\"error\":{\"code\":2,\"name\":\"LEAL_E_ARG\",\"message\":\"\\\"channel\\\" is desk, email, post, phone or portal\"}}" \
    "$(req "$T/jar-mia" POST "/api/customers/$ROSA/erasure" '{"asked_on":"2026-12-01","channel":"fax"}' "$CSRF_M")"
check_eq "a manager records the customer's request: pending" \
    '201 {"id":1,"asked_on":"2026-12-01","channel":"email","recorded_by":"mia","recorded_at":"now","pending":true,"done_at":0,"done_by":""}' \
    "$(req "$T/jar-mia" POST "/api/customers/$ROSA/erasure" '{"asked_on":"2026-12-01","channel":"email"}' "$CSRF_M" | part erasure)"
check_eq "audited: customer.erasure-request by mia" "mia|$MIA|customer $ROSA|2026-12-01|email|1" \
    "$(q "select actor, user_id, object, json_extract(after, '\$.asked_on'), json_extract(after, '\$.channel'), json_extract(after, '\$.pending') from audit where action = 'customer.erasure-request'")"
check_eq "a second request while one is pending: 409" \
    '409 {"error":{"code":629,"name":"LEAL_E_ERASURE_PENDING","message":"this customer'"'"'s erasure request is already recorded and pending; an admin carries it out ('"'"'leal customer erase'"'"')"}}|1' \
    "$(req "$T/jar-mia" POST "/api/customers/$ROSA/erasure" '{"asked_on":"2026-12-02","channel":"desk"}' "$CSRF_M")|$(q "select count(*) from erasure_request")"
check_eq "a manager cannot carry it out (403), nor can staff" "403 403|0" \
    "$(req "$T/jar-mia" POST "/api/customers/$ROSA/erase" '{}' "$CSRF_M" | cut -d' ' -f1) $(req "$T/jar-sam" POST "/api/customers/$ROSA/erase" '{}' "$CSRF_S" | cut -d' ' -f1)|$(q "select count(*) from customer where erased_at is not null")"
check_eq "an admin cannot erase a customer who asked nothing (409)" \
    '409 {"error":{"code":630,"name":"LEAL_E_ERASURE_NONE","message":"no pending erasure request for this customer; a manager or admin records the customer'"'"'s request first"}}|' \
    "$(req "$T/jar-ana" POST "/api/customers/$LOLA/erase" '{}' "$CSRF_A")|$(q "select erased_at from customer where id = $LOLA")"
bytes() { cat "$DB" "$DB-wal" 2>/dev/null | grep -c -a -F "$1"; }
# An edit through the page puts the person's fields in its audit line (before/after).
req "$T/jar-ana" PUT "/api/customers/$ROSA" '{"email":"rosa.quintana@example.org","phone":"+34 611 222 333"}' "$CSRF_A" >/dev/null
check_eq "before the erasure the notes' texts and the edit's fields are in the file's bytes (the checks below can fail)" "yes yes yes yes|1" \
    "$([ "$(bytes "$NOTE1")" -gt 0 ] && echo yes) $([ "$(bytes "$NOTE2")" -gt 0 ] && echo yes) $([ "$(bytes rosa.quintana@example.org)" -gt 0 ] && echo yes) $([ "$(bytes "+34 611 222 333")" -gt 0 ] && echo yes)|$(q "select count(*) from audit where action = 'customer.edit' and object = 'customer $ROSA' and json_extract(after, '\$.email') = 'rosa.quintana@example.org'")"
check_eq "the erasure needs the decision on the cards (400), nothing erased" \
    '400 {"error":{"code":2,"name":"LEAL_E_ARG","message":"\"cards\" is block (terminals refuse the customer'"'"'s cards) or keep (they go on working, anonymously)"}}|Rosa' \
    "$(req "$T/jar-ana" POST "/api/customers/$ROSA/erase" '{"cards":"maybe"}' "$CSRF_A")|$(q "select name from customer_pii where customer_id = $ROSA")"
OUT=$(req "$T/jar-ana" POST "/api/customers/$ROSA/erase" '{"cards":"keep"}' "$CSRF_A")
check_eq "the admin carries it out from the page: done by ana, no notes left but the erasure's own" \
    "200 {\"id\":1,\"asked_on\":\"2026-12-01\",\"channel\":\"email\",\"recorded_by\":\"mia\",\"recorded_at\":\"now\",\"pending\":false,\"done_at\":\"now\",\"done_by\":\"ana\"}|200 [\"personal data erased at the customer's request (leal customer erase); cards kept by decision\"]|" \
    "$(echo "$OUT" | part erasure)|$(echo "$OUT" | $PY -c 'import json,sys; s, b = sys.stdin.read().split(" ", 1); d = json.loads(b); print(s, json.dumps([n["text"] for n in d["notes"]]))')|$(q "select name from customer_pii where customer_id = $ROSA")"
check_eq "audited: customer.erase by ana, the request before" "ana|$ANA|customer $ROSA|1|2026-12-01|ana" \
    "$(q "select actor, user_id, object, json_extract(before, '\$.request'), json_extract(before, '\$.asked_on'), json_extract(after, '\$.done_by') from audit where action = 'customer.erase'")"
check_eq "no note text left in the file's bytes (notes and their audit lines)" "0 0 0" \
    "$(bytes "$NOTE1") $(bytes "$NOTE2") $(bytes "to be deleted")"
check_eq "no field of the page's edit left (its audit line kept, the fields emptied)" "0 0|1||" \
    "$(bytes rosa.quintana@example.org) $(bytes "+34 611 222 333")|$(q "select count(*), json_extract(after, '\$.email'), json_extract(before, '\$.name') from audit where action = 'customer.edit' and object = 'customer $ROSA'")"
check_eq "the notes' audit lines keep which note and its author, their text emptied" \
    "customer.note.add|-|2 sam|;customer.note.edit|2 sam||2 sam|;customer.note.add|-|3 sam|;customer.note.delete|3 sam||-" \
    "$(q "select group_concat(action || '|' || coalesce(json_extract(before, '\$.note') || ' ' || json_extract(before, '\$.author') || '|' || json_extract(before, '\$.text'), '-') || '|' || coalesce(json_extract(after, '\$.note') || ' ' || json_extract(after, '\$.author') || '|' || json_extract(after, '\$.text'), '-'), ';') from (select * from audit where action like 'customer.note.%' order by id)")"
check_eq "a second erasure: 409, nothing pending" "409" \
    "$(req "$T/jar-ana" POST "/api/customers/$ROSA/erase" '{}' "$CSRF_A" | cut -d' ' -f1)"
check_eq "an erased customer takes no new request (409)" "409" \
    "$(req "$T/jar-mia" POST "/api/customers/$ROSA/erasure" '{"asked_on":"2026-12-03","channel":"desk"}' "$CSRF_M" | cut -d' ' -f1)"

# The command line carries out a request recorded on the page.
req "$T/jar-mia" POST "/api/customers/$NURIA/erasure" '{"asked_on":"2026-12-04","channel":"post"}' "$CSRF_M" >/dev/null
run_capture "$LEAL" customer erase "$NURIA" --confirm --cards keep --operator Marta --db "$DB"
check_eq "leal customer erase marks the pending request done, audited from the command line, and removes the card's holder" \
    "0|Marta|1|customer.erase|Marta||0|0" \
    "$RC|$(q "select done_by, done_at > 0 from erasure_request where customer_id = $NURIA")|$(q "select action, actor, user_id from audit where action = 'customer.erase' and object = 'customer $NURIA'")|$(q "select count(*) from card_holder where card_id = 9004")|$(bytes "Nuria's son")"
check_eq "the page shows it done" "false Marta" \
    "$(req "$T/jar-mia" GET "/api/customers/$NURIA" | $PY -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1])["erasure"]; print(str(d["pending"]).lower(), d["done_by"])')"

# ---- A user's own language ----
check_eq "a user sets their own language: English, their session kept" "200 en|200|sam|user.lang|{\"lang\":\"es\"}|{\"lang\":\"en\"}" \
    "$(req "$T/jar-sam" POST /api/me '{"lang":"en"}' "$CSRF_S" | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); print(s, json.loads(b)["user"]["lang"])')|$(req "$T/jar-sam" GET /api/me | cut -d' ' -f1)|$(q "select actor, action, before, after from audit where action = 'user.lang'")"
check_eq "a language that is not one: 400, nothing changed" "400|en" \
    "$(req "$T/jar-sam" POST /api/me '{"lang":"fr"}' "$CSRF_S" | cut -d' ' -f1)|$(q "select lang from web_user where name = 'sam'")"
check_eq "errors follow it: an English 403 for sam now" "403|LEAL_E_WEB_FORBIDDEN|this user's role: this user's role or stores do not allow that" \
    "$(req "$T/jar-sam" GET /api/audit | $PY -c 'import json,sys; s,b=sys.stdin.read().split(" ",1); e=json.loads(b)["error"]; print(s + "|" + e["name"] + "|" + e["message"])')"
req "$T/jar-sam" POST /api/me '{"lang":"es"}' "$CSRF_S" >/dev/null

# ---- The pages, in Chromium ----
web_browser care 16 "$URL" "$SHOTS" "$LOLA" "$PILAR"
check_eq "screenshots of the customer page in both languages and the user's page" \
    "customer-erased-en.png customer-family-en.png customer-notes-en.png customer-notes-es.png me-en.png" \
    "$(cd "$SHOTS" && ls *.png | tr '\n' ' ' | sed 's/ $//')"
check_eq "the browser detached Ana's card; Pilar's, the last active one, cannot be (409)" \
    "blocked|409 {\"error\":{\"code\":631,\"name\":\"LEAL_E_CARD_LAST\",\"message\":\"this is the account's only active card; block it instead, or add another card at the desk first ('leal account add-card')\"}}|active" \
    "$(q "select status from card where card_id = 9003")|$(req "$T/jar-ana" POST /api/cards/9001/detach '{"reason":"last"}' "$CSRF_A")|$(q "select status from card where card_id = 9001")"
finish
