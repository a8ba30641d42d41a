#!/bin/bash
# check-size.sh BASELINE FILE.c... - the size rule of issue 11: no function
# over 80 lines and no argument list over 6 in product code (tests and
# generated tables are not passed in). Measured by clang-tidy's
# readability-function-size (lines from the body's '{' to its '}', so blank
# lines and comments count; parameters as declared), on every run: nothing is
# cached, so a result is never older than the source.
#
# BASELINE lists today's violators as "path:function", one a line ('#'
# starts a comment). It may only shrink: a violator not listed fails, and a
# listed function that no longer violates (shrunk, renamed, moved or gone)
# fails too until its line is removed, so the list ends empty.
# CHECK_SIZE_CFLAGS: the compile flags (make passes the hosted ones; -I.).
# CHECK_SIZE_JOBS: parallel clang-tidy processes (default 2).
set -uo pipefail
MAX_LINES=80
MAX_PARAMS=6
baseline=${1:?usage: check-size.sh BASELINE FILE.c...}
shift
[ $# -gt 0 ] || { echo "check-size: no source files given" >&2; exit 2; }
[ -f "$baseline" ] || { echo "check-size: no baseline file $baseline" >&2; exit 2; }
command -v clang-tidy >/dev/null || { echo "check-size: clang-tidy is not installed (make deps)" >&2; exit 2; }
jobs=${CHECK_SIZE_JOBS:-2}
cflags=${CHECK_SIZE_CFLAGS:--std=c11 -I.}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

config="{Checks: '-*,readability-function-size', CheckOptions: [
 {key: readability-function-size.LineThreshold, value: $MAX_LINES},
 {key: readability-function-size.ParameterThreshold, value: $MAX_PARAMS},
 {key: readability-function-size.StatementThreshold, value: 1000000}]}"
export config cflags tmp
# One clang-tidy per batch of sources (its start, the loading of LLVM's
# libraries, cost as much as parsing a file) and one output file per batch. A
# compiler error fails the check (an unparsed file would pass silently
# otherwise): a batch that fails is run again a file at a time, to name it.
printf '%s\n' "$@" | xargs -P "$jobs" -n 16 bash -c '
    out=$(mktemp "$tmp/batch-XXXXXX.out")
    # shellcheck disable=SC2086
    clang-tidy --quiet --config="$config" "$@" -- $cflags >"$out" 2>"$out.err" && exit 0
    : >"$out"
    for f in "$@"; do
        # shellcheck disable=SC2086
        if ! clang-tidy --quiet --config="$config" "$f" -- $cflags >"$out.one" 2>"$out.err"; then
            echo "check-size: clang-tidy could not parse $f:" >&2; grep -m5 error: "$out.err" "$out.one" >&2
            touch "$tmp/failed"
        fi
        cat "$out.one" >>"$out"
    done' check-size
[ -e "$tmp/failed" ] && exit 1

# "path:function lines params" for every function over a limit. clang-tidy
# prints the warning, then one note per exceeded threshold.
cat "$tmp"/*.out | awk -v top="$PWD/" '
    / warning: function .* exceeds recommended size/ {
        flush(); split($0, a, ":"); path = a[1]; if (index(path, top) == 1) path = substr(path, length(top) + 1)
        match($0, /function '\''[^'\'']*'\''/); fn = substr($0, RSTART + 10, RLENGTH - 11)
        lines = "-"; params = "-"; next }
    / note: [0-9]+ lines including/ { match($0, /note: [0-9]+/); lines = substr($0, RSTART + 6, RLENGTH - 6) }
    / note: [0-9]+ parameters/ { match($0, /note: [0-9]+/); params = substr($0, RSTART + 6, RLENGTH - 6) }
    function flush() { if (fn != "") print path ":" fn, lines, params; fn = "" }
    END { flush() }' | sort -u >"$tmp/found"

sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$baseline" | sort -u >"$tmp/listed"
status=0
while read -r key lines params; do
    if ! grep -qxF "$key" "$tmp/listed"; then
        why=""
        [ "$lines" != "-" ] && why="$lines lines > $MAX_LINES"
        [ "$params" != "-" ] && why="${why:+$why, }$params parameters > $MAX_PARAMS"
        echo "check-size: $key is over the limit ($why): shorten it (the baseline $baseline only shrinks)"
        status=1
    fi
done <"$tmp/found"
cut -d' ' -f1 "$tmp/found" >"$tmp/found-keys"
while read -r key; do
    if ! grep -qxF "$key" "$tmp/found-keys"; then
        echo "check-size: $key is within the limits now (or gone): remove $key from the baseline $baseline"
        status=1
    fi
done <"$tmp/listed"
[ $status -eq 0 ] && echo "check-size: $# files, $(wc -l <"$tmp/found") functions over the limits, all in the shrinking baseline"
exit $status
