#!/bin/bash
# manpages.sh - the manual pages leal(1), leal-cardsim(1) and leal-terminal(1) (host/man/): each
# renders with man -l and groff's warnings on, without a warning; every command
# and subcommand the programs' own help lists (leal --help, leal COMMAND --help,
# leal COMMAND SUBCOMMAND --help, leal-cardsim --help, leal-terminal --help) appears in its page as
# "leal COMMAND SUBCOMMAND"; make install puts the pages in man1 beside the
# programs, and make uninstall removes them.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-man-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data HOME=$T/home
mkdir -p "$HOME"

# render PAGE: the page as text, one long line per tag (MANWIDTH); groff's
# warnings go to $T/warn. Hyphens that UTF-8 output makes typographic are
# mapped back to '-' so the text compares with what a user types.
render() {
    LC_ALL=C.UTF-8 MANWIDTH=400 man --warnings -l "$1" 2>"$T/warn" |
        sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g'
}

for page in leal leal-cardsim leal-terminal; do
    TEXT=$(render "host/man/$page.1")
    RC=$?
    check_eq "man -l host/man/$page.1 exits 0" 0 "$RC"
    check_eq "$page(1) renders without a groff warning" "" "$(cat "$T/warn")"
    # man's usual width too: a long unbreakable word warns only there.
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "host/man/$page.1" >/dev/null 2>"$T/warn80"
    check_eq "$page(1) renders at 80 columns without a groff warning" "" "$(cat "$T/warn80")"
    check_match "$page(1) has its NAME line" "^ +$page - " "$TEXT"
    for section in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" "SEE ALSO"; do
        check_match "$page(1) has a $section section" "^$section$" "$TEXT"
    done
    printf '%s\n' "$TEXT" >"$T/$page.txt"
done

# subcommands_of CMD: the subcommands 'leal CMD --help' names (its usage lines
# "leal CMD WORD" and its two-space-indented lists "  WORD ..."), then those its
# subcommands' own --help names in their usage lines.
help_words() { # PROGRAM-ARGS... ; PREFIX (e.g. "leal card")
    local prefix=$1
    shift
    timeout 20 "$@" --help </dev/null 2>/dev/null |
        sed -nE "s/^(usage: +| +)$prefix ([a-z][a-z-]*)( .*|$)/\2/p; s/^  ([a-z][a-z-]*)( .*|$)/\1/p"
}
PAIRS=()
COMMANDS=$("$LEAL" --help | sed -nE 's/^  ([a-z][a-z-]*) .*/\1/p')
check_match "leal --help lists its commands" "^keys$" "$COMMANDS"
for c in $COMMANDS; do
    PAIRS+=("leal $c")
    words=$(help_words "leal $c" "$LEAL" "$c")
    for w in $words; do
        words="$words $(timeout 20 "$LEAL" "$c" "$w" --help </dev/null 2>/dev/null |
            sed -nE "s/^(usage: +| +)leal $c ([a-z][a-z-]*)( .*|$)/\2/p")"
    done
    for w in $(tr ' ' '\n' <<<"$words" | sort -u); do
        PAIRS+=("leal $c $w")
    done
done
for w in $("$CARDSIM" --help | sed -nE 's/^(usage: +| +)leal-cardsim ([a-z][a-z-]*)( .*|$)/\2/p' | sort -u); do
    PAIRS+=("leal-cardsim $w")
done
for w in $("$LEAL_BUILD/bin/leal-terminal" --help | sed -nE 's/^  ([a-z][a-z-]*)( .*|$)/\1/p' | sort -u); do
    PAIRS+=("leal-terminal $w")
done
check_eq "asking every --help created no file" "" "$(find "$XDG_DATA_HOME" -type f 2>/dev/null)"
# Not vacuous: today's commands are all found (more may come, never fewer).
check_eq "the help texts name at least 10 commands, 41 subcommands and 2 leal-cardsim subcommands" "yes" \
    "$([ "${#PAIRS[@]}" -ge 53 ] && echo yes || echo "no: ${#PAIRS[*]}")"
missing=()
for p in "${PAIRS[@]}"; do
    page=leal
    [ "${p%% *}" = leal-cardsim ] && page=leal-cardsim
    [ "${p%% *}" = leal-terminal ] && page=leal-terminal
    grep -Eq "(^| )$p( |$)" "$T/$page.txt" || missing+=("$p")
done
check_eq "every command and subcommand of the help texts is in its manual page" "" "${missing[*]}"

# make install / uninstall put the pages beside the programs and take them away.
D=$T/root
run_capture env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -s install DESTDIR="$D" PREFIX=/usr
check_eq "make install exits 0, silent" "0|" "$RC|$ERR"
for page in leal leal-cardsim leal-terminal; do
    check_eq "make install: $page.1 in /usr/share/man/man1, mode 644, identical" "644 same" \
        "$(stat -c %a "$D/usr/share/man/man1/$page.1" 2>&1) $(cmp -s "host/man/$page.1" "$D/usr/share/man/man1/$page.1" && echo same)"
    check_eq "make install: bin/$page executable" "yes" "$([ -x "$D/usr/bin/$page" ] && echo yes)"
done
check_match "the installed page is found by man -l" "^ +leal - " "$(render "$D/usr/share/man/man1/leal.1")"
run_capture env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -s uninstall DESTDIR="$D" PREFIX=/usr
check_eq "make uninstall exits 0, silent" "0|" "$RC|$ERR"
check_eq "make uninstall removes programs and pages" "" "$(find "$D" -type f)"
finish
