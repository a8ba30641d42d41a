#!/bin/bash
# web_users.sh - the back office's user management and catalogue edits
# (issue 16) against a real `leal serve`: the API's refusals with their exact
# status and message (no CSRF token, staff calling the user API, a manager
# touching another store's user or giving another store, a change to
# oneself), what a manager may do in their own stores, a role change that
# ends the user's sessions with its audit line, disable and a new password,
# a user's e-mail address (its refusals, its audit line), and a tier,
# reward, stamp card or bono kind simulated and saved (refused
# when the engine would refuse the set). Then tests/web/users.js in headless
# chromium: an admin adds a staff member who cannot open the rules page,
# makes them a manager and the page opens; a reward changed after its
# simulation; an e-mail address set in English and removed in Spanish.
# Screenshots go to build/screenshots/users/.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh
clear_of_midnight 60 UTC Europe/Madrid # this month and tomorrow, reckoned once

web_fixture users
DB=$T/ledger.db
SHOTS=build/screenshots/users
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
q() { sqlite3 "$DB" "$1"; }

"$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code a --name "Shop A" --kind chain >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz Europe/Madrid >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code a2 --name "A two" --tz Europe/Madrid >/dev/null
"$LEAL" customer add --db "$DB" --program 1 --name Carla --surname Card >/dev/null
CARLA_ACCT=$(q "select c.account_id from customer c join customer_pii p on p.customer_id = c.id where p.name = 'Carla'")
"$LEAL" account add-card "$CARLA_ACCT" --card-id 501 --uid 04a1b2c3d4e5f6 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null
"$LEAL" rule add --program 1 --bonus 5 --name "Bonus 5" --reason test --db "$DB" >/dev/null
"$LEAL" tier add --program 1 --name Gold --threshold 100 --multiplier 1,5 --reason test --db "$DB" >/dev/null
"$LEAL" reward add --program 1 --name Coffee --kind product --cost 50 --value 7 --reason test --db "$DB" >/dev/null
"$LEAL" sale --card-id 501 --amount 25 --store 1 --db "$DB" >/dev/null
"$LEAL" sale --card-id 501 --amount 10 --store 1 --db "$DB" >/dev/null
printf 'admin password 1\n' >"$T/pw-admin"
printf 'staff password 1\n' >"$T/pw-staff"
"$LEAL" user add sam --role staff --store 1 --password-file "$T/pw-staff" --db "$DB" >/dev/null
"$LEAL" user add mia --role manager --store 1 --password-file "$T/pw-staff" --db "$DB" >/dev/null
"$LEAL" user add tom --role staff --store 2 --password-file "$T/pw-staff" --db "$DB" >/dev/null
"$LEAL" user add max --role manager --store 1,2 --password-file "$T/pw-staff" --db "$DB" >/dev/null
TOM=$(q "select id from web_user where name = 'tom'")
MAX=$(q "select id from web_user where name = 'max'")
MIA=$(q "select id from web_user where name = 'mia'")

web_start serve --db "$DB" --init-admin ana --password-file "$T/pw-admin"

# status and message of an error answer
err() { $PY -c 'import json,sys; c,b=sys.stdin.read().split(" ",1); print(c + "|" + json.loads(b)["error"]["message"])'; }
# sign_in NAME PASSWORD: the session's CSRF token
sign_in() { web_sign_in "$1" "$2" | web_csrf; }
A=$(sign_in ana 'admin password 1')
S=$(sign_in sam 'staff password 1')
M=$(sign_in mia 'staff password 1')
users() { q "select count(*) from web_user"; }

# Refusals, each with its status and message, and nothing written.
check_eq "adding a user without the CSRF token: 403, nothing added" \
    "403|the request lacks this session's CSRF token; reload the page and try again|5" \
    "$(req "$T/jar-ana" POST /api/users '{"name":"x1","password":"x password 1","role":"staff","stores":[1]}' | err)|$(users)"
check_eq "changing a role without the CSRF token: 403, tom still staff" \
    "403|the request lacks this session's CSRF token; reload the page and try again|staff" \
    "$(req "$T/jar-ana" PUT "/api/users/$TOM" '{"role":"manager","stores":[2]}' | err)|$(q "select role from web_user where id = $TOM")"
ROLE_MSG="this user's role: this user's role or stores do not allow that"
check_eq "staff calling the user API: list, add, role, disable all 403" \
    "403|$ROLE_MSG 403|$ROLE_MSG 403|$ROLE_MSG 403|$ROLE_MSG|5" \
    "$(req "$T/jar-sam" GET /api/users | err) $(req "$T/jar-sam" POST /api/users '{"name":"x2","password":"x password 1","role":"staff","stores":[1]}' "$S" | err) $(req "$T/jar-sam" PUT "/api/users/$TOM" '{"role":"staff","stores":[1]}' "$S" | err) $(req "$T/jar-sam" POST "/api/users/$TOM" '{"disabled":true}' "$S" | err)|$(users)"
OTHER="this user belongs to another store: this user's role or stores do not allow that"
check_eq "a manager touching another store's user: role, disable, password all 403; tom unchanged" \
    "403|$OTHER 403|$OTHER 403|$OTHER|staff 0" \
    "$(req "$T/jar-mia" PUT "/api/users/$TOM" '{"role":"staff","stores":[1]}' "$M" | err) $(req "$T/jar-mia" POST "/api/users/$TOM" '{"disabled":true}' "$M" | err) $(req "$T/jar-mia" POST "/api/users/$TOM" '{"password":"new password 1"}' "$M" | err)|$(q "select role || ' ' || disabled from web_user where id = $TOM")"
check_eq "nor a manager of stores 1 and 2, when mia has only store 1" "403|$OTHER" \
    "$(req "$T/jar-mia" PUT "/api/users/$MAX" '{"role":"staff","stores":[1]}' "$M" | err)"
GIVE="a manager gives only their own stores, to staff and managers: this user's role or stores do not allow that"
check_eq "a manager adding a user of another store, or an admin: 403, nothing added" \
    "403|$GIVE 403|$GIVE|5" \
    "$(req "$T/jar-mia" POST /api/users '{"name":"x3","password":"x password 1","role":"staff","stores":[2]}' "$M" | err) $(req "$T/jar-mia" POST /api/users '{"name":"x4","password":"x password 1","role":"admin","stores":[]}' "$M" | err)|$(users)"
check_eq "a manager sees the users of their stores and themselves" "mia sam" \
    "$(req "$T/jar-mia" GET /api/users | jget '" ".join(sorted(u["name"] for u in d["users"]))')"
check_eq "a manager adds a staff member of their store: 201" "201 zoe staff [1]" \
    "$(req "$T/jar-mia" POST /api/users '{"name":"zoe","password":"zoe password 1","role":"staff","stores":[1]}' "$M" | { read -r c b; echo "$c $(echo "0 $b" | jget '"%s %s %s" % (d["user"]["name"], d["user"]["role"], d["user"]["stores"])')"; })"
ZOE=$(q "select id from web_user where name = 'zoe'")
check_eq "the audit log has the addition, with no password in it" "mia|user.add|user $ZOE|zoe|staff|0" \
    "$(q "select actor, action, object, json_extract(after, '\$.name'), json_extract(after, '\$.role'), instr(after, 'pass') from audit where action = 'user.add' and actor = 'mia'" | tr '\n' ' ' | sed 's/ $//')"
check_eq "a name taken: 409" "409" \
    "$(req "$T/jar-ana" POST /api/users '{"name":"zoe","password":"zoe password 1","role":"staff","stores":[1]}' "$A" | cut -d' ' -f1)"
check_eq "a short password: 400 and its reason" \
    "400|the password: password refused: it needs 10 to 128 characters" \
    "$(req "$T/jar-ana" POST /api/users '{"name":"y1","password":"short","role":"staff","stores":[1]}' "$A" | err)"
check_eq "an unknown role: 400" \
    "400|send \"role\": admin, manager or staff and \"stores\": [store ids] (none for an admin): unknown role; the roles are admin, manager and staff (manager and staff need --store ID)" \
    "$(req "$T/jar-ana" PUT "/api/users/$TOM" '{"role":"boss","stores":[2]}' "$A" | err)"
check_eq "no such user: 404" "404" "$(req "$T/jar-ana" PUT /api/users/999 '{"role":"staff","stores":[1]}' "$A" | cut -d' ' -f1)"
ANA=$(q "select id from web_user where name = 'ana'")
check_eq "no one changes their own role or disables themselves: 409" \
    "409|no one changes their own role or stores or disables themselves; another admin or manager does it 409|no one changes their own role or stores or disables themselves; another admin or manager does it|admin 0" \
    "$(req "$T/jar-ana" PUT "/api/users/$ANA" '{"role":"staff","stores":[1]}' "$A" | err) $(req "$T/jar-ana" POST "/api/users/$ANA" '{"disabled":true}' "$A" | err)|$(q "select role || ' ' || disabled from web_user where id = $ANA")"

# A user's e-mail address (where a forgotten password's link goes): the
# role rules of the other edits, the CLI's format check, audited as the CLI
# audits it (user.email, before and after), the sessions kept.
email() { q "select email from web_user where id = $1"; }
check_eq "an address without the CSRF token: 403; from staff: 403; a manager for another store's user: 403; tom has none" \
    "403|the request lacks this session's CSRF token; reload the page and try again 403|$ROLE_MSG 403|$OTHER|" \
    "$(req "$T/jar-ana" PUT "/api/users/$TOM/email" '{"email":"tom@a.example"}' | err) $(req "$T/jar-sam" PUT "/api/users/$TOM/email" '{"email":"tom@a.example"}' "$S" | err) $(req "$T/jar-mia" PUT "/api/users/$TOM/email" '{"email":"tom@a.example"}' "$M" | err)|$(email "$TOM")"
ADDR_MSG="\"email\" (name@example.com, or \"\" for none): an e-mail address or header is not valid (one '@', no spaces, no line breaks or control characters); correct it"
check_eq "a malformed address (as the CLI's --email refuses it), none given: 400, nothing written" \
    "400|$ADDR_MSG 400|$ADDR_MSG 400|send {\"email\": an address, or \"\" for none}|" \
    "$(req "$T/jar-ana" PUT "/api/users/$TOM/email" '{"email":"tom at a.example"}' "$A" | err) $(req "$T/jar-ana" POST /api/users '{"name":"y2","password":"y2 password 1","role":"staff","stores":[1],"email":"not an address"}' "$A" | err) $(req "$T/jar-ana" PUT "/api/users/$TOM/email" '{}' "$A" | err)|$(email "$TOM")"
check_eq "the admin sets tom's: 200, in the answer and the list, audited as the CLI does" \
    "200 tom@a.example|tom@a.example|ana|user.email|user $TOM|{\"email\":\"\"}|{\"email\":\"tom@a.example\"}" \
    "$(req "$T/jar-ana" PUT "/api/users/$TOM/email" '{"email":"tom@a.example"}' "$A" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["user"]["email"]')"; })|$(req "$T/jar-ana" GET /api/users | jget '[u["email"] for u in d["users"] if u["name"] == "tom"][0]')|$(q "select actor, action, object, before, after from audit where action = 'user.email'")"
check_eq "the CLI reads it" "tom@a.example" \
    "$("$LEAL" user list --db "$DB" --json | $PY -c 'import json,sys; print([u["email"] for u in json.load(sys.stdin) if u["name"] == "tom"][0])')"
check_eq "a manager sets and removes the address of staff of her store; sam's session stays" \
    "200 sam@a.example 200 |mia {\"email\":\"\"} {\"email\":\"sam@a.example\"}|mia {\"email\":\"sam@a.example\"} {\"email\":\"\"}|200" \
    "$(req "$T/jar-mia" PUT "/api/users/$(q "select id from web_user where name = 'sam'")/email" '{"email":"sam@a.example"}' "$M" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["user"]["email"]')"; }) $(req "$T/jar-mia" PUT "/api/users/$(q "select id from web_user where name = 'sam'")/email" '{"email":""}' "$M" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["user"]["email"]')"; })|$(q "select actor || ' ' || before || ' ' || after from audit where action = 'user.email' and actor = 'mia' order by id" | paste -sd'|')|$(req "$T/jar-sam" GET /api/me | cut -d' ' -f1)"

# Spanish: an admin added with "lang": "es" is answered in Spanish.
check_eq "an admin added in Spanish" "201 es" \
    "$(req "$T/jar-ana" POST /api/users '{"name":"eva","password":"eva password 1","role":"admin","stores":[],"lang":"es"}' "$A" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["user"]["lang"]')"; })"
E=$(sign_in eva 'eva password 1')
EVA=$(q "select id from web_user where name = 'eva'")
check_eq "her own role refused in Spanish; a catalogue body refused in Spanish" \
    "409|nadie cambia su propio rol o tiendas ni se desactiva a sí mismo; lo hace otro administrador o gerente 400|envíe {\"part\": tier, reward, stamp o bono, \"id\": cuál, \"name\" y los campos de esa parte dentro de sus límites}" \
    "$(req "$T/jar-eva" PUT "/api/users/$EVA" '{"role":"staff","stores":[1]}' "$E" | err) $(req "$T/jar-eva" PUT /api/catalogue '{"part":"cup","id":1,"reason":"x"}' "$E" | err)"

# A role change: one transaction, the sessions end, the audit line's before and after.
T0=$(sign_in tom 'staff password 1')
check_eq "tom signed in" "200" "$(req "$T/jar-tom" GET /api/me | cut -d' ' -f1)"
check_eq "the admin makes tom a manager of stores 1 and 2" "200 manager [1, 2]" \
    "$(req "$T/jar-ana" PUT "/api/users/$TOM" '{"role":"manager","stores":[2,1]}' "$A" | { read -r c b; echo "$c $(echo "0 $b" | jget '"%s %s" % (d["user"]["role"], d["user"]["stores"])')"; })"
check_eq "his session ended" "401" "$(req "$T/jar-tom" GET /api/me | cut -d' ' -f1)"
check_eq "the audit line: who, what, before and after" \
    "ana|user.role|user $TOM|{\"role\":\"staff\",\"stores\":[2]}|{\"role\":\"manager\",\"stores\":[1,2]}" \
    "$(q "select actor, action, object, before, after from audit where action = 'user.role'")"
check_eq "signed in again he opens the rules" "200" \
    "$(sign_in tom 'staff password 1' >/dev/null; req "$T/jar-tom" GET /api/rules | cut -d' ' -f1)"

run_capture "$LEAL" user role max --role staff --store 2 --db "$DB"
check_eq "leal user role: the same change from the command line, audited" \
    "0|user 'max' is now staff; their sessions ended|staff [2]|user.role|{\"role\":\"manager\",\"stores\":[1,2]}|{\"role\":\"staff\",\"stores\":[2]}" \
    "$RC|$OUT|$(q "select role || ' [' || group_concat(store_id) || ']' from web_user u join web_user_store s on s.user_id = u.id where u.name = 'max'")|$(q "select action, before, after from audit where object = 'user $MAX' and action = 'user.role'")"
run_capture "$LEAL" user role max --role admin --store 1 --db "$DB"
check_match "an admin with a store is refused (exit 2), max unchanged" \
    "^2\|leal: user 'max': an admin has no stores; a manager or staff member has 1 to 16: .*\|staff$" \
    "$RC|$ERR|$(q "select role from web_user where name = 'max'")"

# Disable, enable, a new password.
Z=$(sign_in zoe 'zoe password 1')
check_eq "mia disables zoe: her session ends, she cannot sign in" "200 true 401 401" \
    "$(req "$T/jar-mia" POST "/api/users/$ZOE" '{"disabled":true}' "$M" | { read -r c b; echo "$c $(echo "0 $b" | jget 'str(d["user"]["disabled"]).lower()')"; }) $(req "$T/jar-zoe" GET /api/me | cut -d' ' -f1) $(req "$T/jar-z2" POST /api/session '{"name":"zoe","password":"zoe password 1"}' | cut -d' ' -f1)"
check_eq "enabled with a new password: the old one fails, the new one signs in" "200 401 200" \
    "$(req "$T/jar-mia" POST "/api/users/$ZOE" '{"disabled":false,"password":"zoe password 2"}' "$M" | cut -d' ' -f1) $(req "$T/jar-z3" POST /api/session '{"name":"zoe","password":"zoe password 1"}' | cut -d' ' -f1) $(req "$T/jar-z4" POST /api/session '{"name":"zoe","password":"zoe password 2"}' | cut -d' ' -f1)"
check_eq "the audit log: disable, enable with the password marked new, never the password" \
    "user.disable|{\"disabled\":false}|{\"disabled\":true} user.enable|{\"disabled\":true}|{\"disabled\":false,\"password\":\"new\"}" \
    "$(q "select action || '|' || before || '|' || after from audit where action in ('user.disable', 'user.enable') order by id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "a password alone: audited as user.password" "200 user.password|mia" \
    "$(req "$T/jar-mia" POST "/api/users/$ZOE" '{"password":"zoe password 3"}' "$M" | cut -d' ' -f1) $(q "select action || '|' || actor from audit where action = 'user.password'")"

# The catalogue: simulate, refusals, save.
MON0=$(date -u +%Y-%m-01)
DAY1=$(date -u -d tomorrow +%Y-%m-%d)
"$LEAL" rules simulate --program 1 --from "$MON0" --to "$DAY1" --db "$DB" --json >"$T/sim.json"
CLI_PTS=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["totals"]; print(t["real_points"], t["sim_points"])' "$T/sim.json" 2>/dev/null)
SIM=$(req "$T/jar-mia" POST /api/catalogue/simulate "{\"part\":\"tier\",\"id\":1,\"multiplier_milli\":2000,\"threshold_euros\":20,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$M")
check_eq "a tier change simulated: the CLI's real and current points, the tier before and after, nothing written" \
    "200 $CLI_PTS {'name': 'Gold', 'threshold_euros': 100, 'multiplier_milli': 1500} {'name': 'Gold', 'threshold_euros': 20, 'multiplier_milli': 2000} 3" \
    "$(echo "$SIM" | cut -d' ' -f1) $(echo "$SIM" | jget '"%d %d %s %s" % (d["real_points"], d["current_rules_points"], d["before"], d["after"])') $(q "select max(version) from rule_set where program_id = 1")"
check_eq "staff cannot simulate or save the catalogue" "403 403" \
    "$(req "$T/jar-sam" POST /api/catalogue/simulate "{\"part\":\"reward\",\"id\":1,\"cost_points\":5,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$S" | cut -d' ' -f1) $(req "$T/jar-sam" PUT /api/catalogue '{"part":"reward","id":1,"cost_points":5,"reason":"x"}' "$S" | cut -d' ' -f1)"
check_eq "no such reward: 404; a field out of bounds or of another part: 400" \
    "404 400 400|send {\"part\": tier, reward, stamp or bono, \"id\": which, \"name\" and that part's own fields in their bounds}" \
    "$(req "$T/jar-mia" POST /api/catalogue/simulate "{\"part\":\"reward\",\"id\":9,\"cost_points\":5,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$M" | cut -d' ' -f1) $(req "$T/jar-mia" POST /api/catalogue/simulate "{\"part\":\"reward\",\"id\":1,\"cost_points\":0,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$M" | cut -d' ' -f1) $(req "$T/jar-mia" PUT /api/catalogue '{"part":"reward","id":1,"cost_points":5,"goal":5,"reason":"x"}' "$M" | err)"
check_eq "a reward for a tier that does not exist: refused by the engine's check before saving, and on save" \
    "400 400 3" \
    "$(req "$T/jar-mia" POST /api/catalogue/simulate "{\"part\":\"reward\",\"id\":1,\"min_tier\":5,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$M" | cut -d' ' -f1) $(req "$T/jar-mia" PUT /api/catalogue '{"part":"reward","id":1,"min_tier":5,"reason":"x"}' "$M" | cut -d' ' -f1) $(q "select max(version) from rule_set where program_id = 1")"
check_eq "saving needs a reason" "400|say why in \"reason\"" \
    "$(req "$T/jar-mia" PUT /api/catalogue '{"part":"tier","id":1,"multiplier_milli":2000}' "$M" | err)"
check_eq "the tier saved as the next version, with who, why and what; the audit line's before and after" \
    "200 4 [(1, 'Gold', 20, 2000)]|mia|more gold|tier 1 changed|catalogue.edit|program 1 tier 1|1500|2000" \
    "$(req "$T/jar-mia" PUT /api/catalogue '{"part":"tier","id":1,"multiplier_milli":2000,"threshold_euros":20,"reason":"more gold"}' "$M" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget '[(x["tier"], x["name"], x["threshold_euros"], x["multiplier_milli"]) for x in d["rules"]["tiers"]]')"; })|$(q "select operator, reason, what from rule_set where program_id = 1 and version = 4")|$(q "select action, object, json_extract(before, '\$.multiplier_milli'), json_extract(after, '\$.multiplier_milli') from audit where action = 'catalogue.edit'")"
check_eq "the CLI sees the tier as saved" 'tier 1 "Gold": from 20 euros spent in the window, points x2' \
    "$("$LEAL" tier list --program 1 --db "$DB" 2>&1 | grep '^tier 1')"

# What the browser's reward simulation below must show: the CLI's figures under the saved rules.
"$LEAL" rules simulate --program 1 --from "$MON0" --to "$DAY1" --db "$DB" --json >"$T/sim2.json"
check_eq "the CLI's real and current-rules points the page will show (45 and 55)" "45 55" \
    "$($PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["real_points"], t["sim_points"])' "$T/sim2.json")"

web_browser users 33 "$URL" "$SHOTS"
check_eq "screenshots of the new pages" \
    "promotions-catalogue.png promotions-remove.png users-add.png users-email-es.png users-email.png users-role.png users-staff-refused.png" \
    "$(cd "$SHOTS" && ls *.png | tr '\n' ' ' | sed 's/ $//')"
check_eq "the reward as the browser saved it, then the tier it added and removed, in the ledger" \
    "7|Big coffee|60|reward 1 changed,tier 2 added,tier 2 removed|catalogue.add|program 1 tier 2|catalogue.remove|program 1 tier 2" \
    "$(q "select max(version) from rule_set where program_id = 1")|$(req "$T/jar-ana" GET /api/rules | jget '"%s|%s" % (d["rules"]["rewards"][0]["name"], d["rules"]["rewards"][0]["cost_points"])')|$(q "select group_concat(what) from (select what from rule_set where program_id = 1 and version >= 5 order by version)")|$(q "select action, object from audit where action in ('catalogue.add', 'catalogue.remove') order by id" | tr '\n' '|' | sed 's/|$//')"

# Adding and removing through the API: the exact set after each save, the
# audit line's before and after, and the refusals (nothing saved).
V() { q "select max(version) from rule_set where program_id = 1"; }
cat_put() { req "$T/jar-mia" PUT /api/catalogue "$1" "$M"; }
rewards() { jget '[(x["id"], x["name"], x["kind"], x["cost_points"], x["value"], x["min_tier"]) for x in d["rules"]["rewards"]]'; }
SIM=$(req "$T/jar-mia" POST /api/catalogue/simulate "{\"op\":\"add\",\"part\":\"reward\",\"name\":\"Tea\",\"kind\":\"voucher\",\"cost_points\":30,\"value\":150,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$M")
check_eq "a new reward simulated: nothing before it, the reward after it, nothing written" \
    "200 add reward 2 None {'name': 'Tea', 'cost_points': 30, 'value': 150, 'min_tier': 0} 7" \
    "$(echo "$SIM" | cut -d' ' -f1) $(echo "$SIM" | jget '"%s %s %s %s %s" % (d["op"], d["part"], d["id"], d["before"], d["after"])') $(V)"
check_eq "saved: the next version holds exactly both rewards; its history line and audit line" \
    "200 8 [(1, 'Big coffee', 1, 60, 7, 0), (2, 'Tea', 2, 30, 150, 0)]|mia|tea too|reward 2 added|catalogue.add|program 1 reward 2|{\"cost_points\":30,\"min_tier\":0,\"name\":\"Tea\",\"value\":150}" \
    "$(cat_put '{"op":"add","part":"reward","name":"Tea","kind":"voucher","cost_points":30,"value":150,"reason":"tea too"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | rewards)"; })|$(q "select operator, reason, what from rule_set where program_id = 1 and version = 8")|$(q "select action, object, coalesce(before, 'NULL'), after from audit where action = 'catalogue.add' and object = 'program 1 reward 2'" | sed 's/|NULL|/|/')"
check_eq "the CLI lists it as saved" 'reward 2 "Tea": 1.50 EUR off for 30 points' \
    "$("$LEAL" reward list --program 1 --db "$DB" 2>&1 | grep '^reward 2')"
check_eq "refused, nothing saved: a name another reward has (case ignored), a cost of 0, an unknown kind" \
    "409|reward 2 already has that name: refused; the catalogue is left as it was 400 400 8" \
    "$(cat_put '{"op":"add","part":"reward","name":"TEA","kind":"product","cost_points":5,"value":9,"reason":"x"}' | err) $(cat_put '{"op":"add","part":"reward","name":"Zero","kind":"product","cost_points":0,"value":9,"reason":"x"}' | cut -d' ' -f1) $(cat_put '{"op":"add","part":"reward","name":"Odd","kind":"gift","cost_points":5,"value":9,"reason":"x"}' | cut -d' ' -f1) $(V)"
check_eq "a renamed reward may not take another's name either" \
    "409|reward 1 already has that name: refused; the catalogue is left as it was" \
    "$(cat_put '{"part":"reward","id":2,"name":"big coffee","reason":"x"}' | err)"
check_eq "a stamp card for a reward that does not exist: refused before saving" \
    "409|there is no reward 9 for the stamp card to hand over: refused; the catalogue is left as it was 8" \
    "$(cat_put '{"op":"add","part":"stamp","name":"Tea card","goal":5,"reward":9,"reason":"x"}' | err) $(V)"
check_eq "a stamp card for Tea: saved, exactly" "200 9 [(1, 'Tea card', 5, 0, 2)]" \
    "$(cat_put '{"op":"add","part":"stamp","name":"Tea card","goal":5,"reward":2,"reason":"stamps"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget '[(x["card"], x["name"], x["goal"], x["category"], x["reward"]) for x in d["rules"]["stamps"]]')"; })"
check_eq "nor can a stamp card be changed to hand over a reward that does not exist" \
    "409|there is no reward 9 for the stamp card to hand over: refused; the catalogue is left as it was 9" \
    "$(cat_put '{"part":"stamp","id":1,"reward":9,"reason":"x"}' | err) $(V)"
check_eq "the reward a stamp card hands over cannot be removed" \
    "409|stamp card 1 hands over reward 2; remove it or the reward stays: refused; the catalogue is left as it was 9" \
    "$(cat_put '{"op":"remove","part":"reward","id":2,"reason":"x"}' | err) $(V)"
check_eq "a reward for tier 1 and up; then tier 1 cannot be removed" \
    "200 10 409|reward 3 asks for tier 1; remove it or the tier stays: refused; the catalogue is left as it was 10" \
    "$(cat_put '{"op":"add","part":"reward","name":"Gold gift","kind":"product","cost_points":80,"value":12,"min_tier":1,"reason":"gold"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]')"; }) $(cat_put '{"op":"remove","part":"tier","id":1,"reason":"x"}' | err) $(V)"
check_eq "a bono kind added" "200 11 [(1, 'Ten yoga', 10, 90, 4500)]" \
    "$(cat_put '{"op":"add","part":"bono","name":"Ten yoga","sessions":10,"valid_days":90,"price_cents":4500,"reason":"yoga"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget '[(x["id"], x["name"], x["sessions"], x["valid_days"], x["price_cents"]) for x in d["rules"]["bonos"]]')"; })"
bono_post() { "$LEAL" ledger post --db "$DB" --account "$CARLA_ACCT" --asset BONO:1 --amount "$1" --reason test --operator test >/dev/null || exit 1; }
bono_post 3
check_eq "its removal simulated while Carla holds 3 of its sessions: the simulation says so" \
    "200 3 11" \
    "$(req "$T/jar-mia" POST /api/catalogue/simulate "{\"op\":\"remove\",\"part\":\"bono\",\"id\":1,\"from\":\"$MON0\",\"to\":\"$DAY1\"}" "$M" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["sessions_held"]')"; }) $(V)"
check_eq "removed all the same (terminals take the sessions from the cards): the audit line has it before, nothing after" \
    "200 12 []|catalogue.remove|program 1 bono 1|{\"name\":\"Ten yoga\",\"price_cents\":4500,\"sessions\":10,\"valid_days\":90}|NULL" \
    "$(cat_put '{"op":"remove","part":"bono","id":1,"reason":"no yoga"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget 'd["rules"]["bonos"]')"; })|$(q "select action, object, before, coalesce(after, 'NULL') from audit where action = 'catalogue.remove' and object = 'program 1 bono 1'")"
check_eq "only the last stamp card can go; removed, then its reward can go: exactly reward 1 and 3 left" \
    "200 13 []|200 14 [(1, 'Big coffee', 1, 60, 7, 0), (3, 'Gold gift', 1, 80, 12, 1)]" \
    "$(cat_put '{"op":"remove","part":"stamp","id":1,"reason":"no card"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget 'd["rules"]["stamps"]')"; })|$(cat_put '{"op":"remove","part":"reward","id":2,"reason":"no tea"}' | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | rewards)"; })"
check_eq "no such item to remove: 404; a removal with fields, an addition with an id: 400 and what to send" \
    "404|there is no bono 7: no such id 400|to remove, send {\"op\": \"remove\", \"part\" and \"id\"} and no fields 400 14" \
    "$(cat_put '{"op":"remove","part":"bono","id":7,"reason":"x"}' | err) $(cat_put '{"op":"remove","part":"tier","id":1,"threshold_euros":5,"reason":"x"}' | err) $(cat_put '{"op":"add","part":"tier","id":3,"name":"x","threshold_euros":5,"reason":"x"}' | cut -d' ' -f1) $(V)"
check_eq "a tier starting where another does: refused" \
    "409|tier 1 already starts at 20 euros: refused; the catalogue is left as it was" \
    "$(cat_put '{"op":"add","part":"tier","name":"Twin","threshold_euros":20,"reason":"x"}' | err)"
check_eq "eva's bodies refused in Spanish: an addition without its fields, a removal with some" \
    "400|para añadir, envíe {\"op\": \"add\", \"part\", \"name\" y los campos de la parte: tier threshold_euros; reward kind (product, voucher, percent o cashback), cost_points, value; stamp goal, reward (y per: sale o item); bono sessions, price_cents} 400|para quitar, envíe {\"op\": \"remove\", \"part\" e \"id\"} y ningún campo" \
    "$(req "$T/jar-eva" PUT /api/catalogue '{"program":1,"op":"add","part":"bono","name":"B","reason":"x"}' "$E" | err) $(req "$T/jar-eva" PUT /api/catalogue '{"program":1,"op":"remove","part":"bono","id":1,"sessions":2,"reason":"x"}' "$E" | err)"
check_eq "eva's refusals in Spanish: a name taken, a tier a reward asks for" \
    "409|el premio 1 ya se llama así: rechazado; el catálogo queda como estaba 409|el premio 3 pide el nivel 1; quítelo o el nivel se queda: rechazado; el catálogo queda como estaba" \
    "$(req "$T/jar-eva" PUT /api/catalogue '{"program":1,"op":"add","part":"reward","name":"Big Coffee","kind":"product","cost_points":5,"value":9,"reason":"x"}' "$E" | err) $(req "$T/jar-eva" PUT /api/catalogue '{"program":1,"op":"remove","part":"tier","id":1,"reason":"x"}' "$E" | err)"
finish
