#!/bin/bash
# web_es.sh - the server's error messages in Spanish (issue 16, host/web/web_es.h):
# the language is the signed-in user's (leal user --lang, or their program's
# locale), else the browser's Accept-Language (the higher q of en and es).
# Exact messages for a wrong password, an unknown route, a missing CSRF
# token, a role refused, a portal link not known, and the English ones
# beside them; texts built at run time (a date the settlement cannot read,
# a name over its size: web_textf) in Spanish; then the sign-in pages in a Spanish browser
# (tests/web/es.js, Debian's chromium through playwright-core).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh

web_fixture es
DB=$T/ledger.db
SHOTS=build/screenshots/es
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
"$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code c --name "Tienda C" --locale es >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code c1 --name "C uno" --tz Europe/Madrid >/dev/null
printf 'admin password 1\n' >"$T/pw"
"$LEAL" user add pepe --role staff --store 1 --password-file "$T/pw" --db "$DB" >/dev/null
web_start serve --db "$DB" --init-admin ana --password-file "$T/pw"

# status|message of a request: curl's arguments.
ask() {
    curl -s -w '|%{http_code}' "$@" | $PY -c 'import json,sys; b,s=sys.stdin.read().rsplit("|",1); print(s + "|" + json.loads(b)["error"]["message"])'
}
signin() { ask -H 'Content-Type: application/json' -d "{\"name\":\"$1\",\"password\":\"wrong password\"}" "${@:2}" "$URL/api/session"; }
check_eq "a wrong password, Accept-Language es-ES" \
    "401|usuario o contraseña incorrectos (o el usuario está desactivado)" \
    "$(signin ana -H 'Accept-Language: es-ES,es;q=0.9')"
check_eq "the same in English without Accept-Language" \
    "401|wrong user name or password (or the user is disabled)" "$(signin ana)"
check_eq "the higher q wins: fr, en;q=0.5, es;q=0.8 gives Spanish" \
    "401|usuario o contraseña incorrectos (o el usuario está desactivado)" \
    "$(signin ana -H 'Accept-Language: fr, en;q=0.5, es;q=0.8')"
check_eq "and en;q=0.9, es;q=0.1 English" \
    "401|wrong user name or password (or the user is disabled)" \
    "$(signin ana -H 'Accept-Language: en;q=0.9, es;q=0.1')"
check_eq "an unknown route, with its detail in Spanish" \
    "404|no existe esa ruta de la API" \
    "$(ask -H 'Accept-Language: es' "$URL/api/nothing")"
check_eq "no session" "401|no ha iniciado sesión, o la sesión ha terminado; vuelva a entrar" \
    "$(ask -H 'Accept-Language: es' "$URL/api/me")"
check_eq "a portal link not known" "404|este enlace de acceso no se conoce aquí; pida uno nuevo" \
    "$(ask -H 'Accept-Language: es' -H 'Content-Type: application/json' -d '{"token":"00"}' "$URL/portal/api/session")"

# pepe, staff of the Spanish program, speaks Spanish whatever his browser says.
curl -s -c "$T/jar" -H 'Content-Type: application/json' \
    -d '{"name":"pepe","password":"admin password 1"}' "$URL/api/session" >/dev/null
check_eq "pepe's role refused, in his language (Accept-Language en)" \
    "403|el rol de este usuario: el rol o las tiendas de este usuario no lo permiten" \
    "$(ask -b "$T/jar" -H 'Accept-Language: en' "$URL/api/dashboard")"
check_eq "a change without the CSRF token" \
    "403|a la petición le falta el token CSRF de esta sesión; recargue la página y vuelva a intentarlo" \
    "$(ask -b "$T/jar" -H 'Content-Type: application/json' -d '{"program":1,"name":"Luz"}' "$URL/api/customers")"
# ana (an admin: Spanish since every program is) through the dashboard's flight.
curl -s -c "$T/jar2" -H 'Content-Type: application/json' \
    -d '{"name":"ana","password":"admin password 1"}' "$URL/api/session" >/dev/null
check_eq "a program that does not exist: 404, in ana's Spanish" \
    "404|?program= no nombra ningún programa: programa desconocido; 'leal keys list' muestra los programas" \
    "$(ask -b "$T/jar2" "$URL/api/dashboard?program=9")"

# Texts the server builds at run time (web_textf) follow the language too.
check_eq "a date the settlement cannot read, in ana's Spanish" \
    "400|?from= lleva una fecha, AAAA-MM-DD: fecha mal escrita; escríbala como AAAA-MM-DD" \
    "$(ask -b "$T/jar2" "$URL/api/settlement?program=1&from=1-2-3")"
ANA_CSRF=$(curl -s -b "$T/jar2" "$URL/api/me" | $PY -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
LONG=$($PY -c 'print("x" * 300)')
check_eq "a name over its size, in ana's Spanish, with the size" \
    "400|\"name\" debe ser un texto de 255 bytes como mucho: texto demasiado largo (255 bytes como mucho), no UTF-8 o con caracteres de control" \
    "$(ask -b "$T/jar2" -H "X-CSRF-Token: $ANA_CSRF" -H 'Content-Type: application/json' -d "{\"program\":1,\"name\":\"$LONG\"}" "$URL/api/customers")"

web_browser es 3 "$URL" "$SHOTS"
check_eq "screenshots of both sign-in pages" "portal-sign-in-es.png sign-in-es.png" \
    "$(cd "$SHOTS" && ls *.png | tr '\n' ' ' | sed 's/ $//')"
finish
