#!/bin/sh
# checksrc.sh - house rules a compiler does not check (cf. curl's checksrc.pl):
# banned functions everywhere, memcmp on secrets, exit() below the CLI.
status=0
files=$(find keys cardlayout firmware host -name '*.[ch]' 2>/dev/null)
[ -z "$files" ] && exit 0
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|sscanf|rand|srand)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "checksrc: banned function (use snprintf, strtol/strtoull, the crypto provider's random)"
    status=1
fi
if grep -nE 'memcmp[[:space:]]*\([^;]*(mac|MAC|key|Key|cmac|tag|sig|crypt)' $files; then
    echo "checksrc: compare MACs, keys and cryptograms with leal_ct_equal()"
    status=1
fi
nocli=$(echo "$files" | tr ' ' '\n' | grep -v -e '^host/cli/' -e '^host/cardsim/cli/' -e '/main\.c$' \
    -e '^firmware/port/posix/terminal_')
if [ -n "$nocli" ] && grep -nE '\b(exit|abort|_exit)[[:space:]]*\(' $nocli; then
    echo "checksrc: no exit()/abort() below the CLI; return a leal_err"
    status=1
fi
# base_test walks 0..LEAL_ERR_END_, which follows the last enumerator: any code above the
# last one would fall outside the walk, so the last code of err.h must be the highest.
if [ -f keys/base/err.h ] && ! awk '
    /^[[:space:]]*LEAL_E[A-Z0-9_]* = [0-9]+,/ {
        v = $3 + 0
        if (v > max) { max = v; maxname = $1 }
        last = v; lastname = $1
    }
    END {
        if (last < max) { printf "keys/base/err.h: %s = %d is above the last code %s = %d\n", maxname, max, lastname, last; exit 1 }
    }' keys/base/err.h; then
    echo "checksrc: move the highest code of keys/base/err.h to the end (base_test walks up to it)"
    status=1
fi
exit $status
