# web.sh - a real `leal serve` for integration tests (sourced after
# testlib.sh), talked to with curl on loopback, one cookie jar per user.
#
#   web_fixture NAME       T (/tmp/leal-NAME-*), and at exit every server
#                          web_start started stopped (killed, waited for)
#                          and T removed
#   web_start NAME ARGS... `leal serve --listen 127.0.0.1:0 ARGS` in the
#                          background, its stdout in $T/NAME.out and stderr
#                          in $T/NAME.err; waits (30 s) until it says where
#                          it listens: URL (empty if it never said), WEB_PID
#                          its process (also added to WEB_PIDS)
#   req JAR METHOD PATH [JSON [CSRF]]  one request to $URL with the cookie
#                          jar JAR; prints "STATUS BODY"
#   jget EXPR              on "STATUS BODY" from stdin: EXPR (Python) of the
#                          body's JSON as d
#   web_sign_in NAME PASSWORD  POST /api/session as NAME, jar $T/jar-NAME;
#                          prints "STATUS BODY"
#   web_csrf               on web_sign_in's answer from stdin: the session's
#                          CSRF token
#   web_browser JS N ARGS...  node tests/web/JS.js ARGS (a page in headless
#                          chromium; at most 180 s), its stdout in $T/JS.out
#                          and stderr in $T/JS.err; each "CHECK NAME\tEXPECTED
#                          \tACTUAL" line it printed is a check, and one more:
#                          it exited 0 with N such lines and nothing on stderr
WEB_PIDS=()
WEB_PID=
URL=

web_fixture() {
    T=$(mktemp -d "/tmp/leal-$1-XXXXXX")
    trap web_cleanup EXIT
}

web_cleanup() {
    local p
    for p in "${WEB_PIDS[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}

web_start() {
    local name=$1
    shift
    "$LEAL" serve --listen 127.0.0.1:0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
    WEB_PID=$!
    WEB_PIDS+=("$WEB_PID")
    for _ in $(seq 300); do
        grep -q '^listening on' "$T/$name.out" 2>/dev/null && break
        kill -0 "$WEB_PID" 2>/dev/null || break
        sleep 0.1
    done
    URL=$(sed -n 's/^listening on //p' "$T/$name.out")
}

req() {
    local jar=$1 method=$2 path=$3 data=${4:-} csrf=${5:-}
    local args=(-s -o "$T/body" -w '%{http_code}' -X "$method" -b "$jar" -c "$jar")
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
    [ -n "$csrf" ] && args+=(-H "X-CSRF-Token: $csrf")
    local code
    code=$(curl "${args[@]}" "$URL$path")
    echo "$code $(cat "$T/body")"
}

jget() { $PY -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print(eval(sys.argv[1]))' "$1"; }

web_sign_in() { req "$T/jar-$1" POST /api/session "{\"name\":\"$1\",\"password\":\"$2\"}"; }

web_csrf() { jget 'd["csrf"]'; }

web_browser() {
    local js=$1 n=$2 rc name expected actual
    shift 2
    timeout 180 node "tests/web/$js.js" "$@" >"$T/$js.out" 2>"$T/$js.err"
    rc=$?
    while IFS=$'\t' read -r name expected actual; do
        check_eq "${name#CHECK }" "$expected" "$actual"
    done < <(grep '^CHECK ' "$T/$js.out")
    check_eq "the browser run exits 0 with $n checks and nothing on stderr" "0 $n " \
        "$rc $(grep -c '^CHECK ' "$T/$js.out") $(cat "$T/$js.err")"
}
