# err_subset.awk - the board's copy of keys/base/err.c: the one table of
# names and sentences, with only the entries whose code the board's sources
# name (keep="LEAL_OK LEAL_E_..."). The other codes belong to the host (the
# ledger, the web, the CLI) and no board code can return them; leaving their
# sentences out keeps about 10 KiB of flash. A code outside the table reads
# "unknown error", as on the host. keep="ALL" copies the table whole (the
# Makefile checks that this reproduces err.c byte for byte, so the parse below
# cannot drop or cut an entry unnoticed). The include is rewritten to the
# root-relative path, as the copy lives under build/.
# names=1 leaves the sentences out too: each kept entry's text is its name
# (the compiler merges the two equal strings), so leal_strerror gives the name
# on the board. The till protocol names codes only (TERMINAL.md "The till
# line"), the till or the host translate them; about 8 KiB of flash less.
BEGIN {
    n = split(keep, k, " ")
    for (i = 1; i <= n; i++)
        kept[k[i]] = 1
}
keep != "ALL" && /^#include "err.h"$/ { print "#include \"keys/base/err.h\""; next }
/^static const struct err_entry err_table\[\] = \{$/ { table = 1; print; next }
table && /^};$/ { table = 0 }
table && /^    E\(/ {
    sym = $0
    sub(/^    E\(/, "", sym)
    sub(/,.*/, "", sym)
    skip = keep != "ALL" && !(sym in kept)
    if (!skip && names) {
        print "    E(" sym ", \"" sym "\"),"
        skip = 1
    }
}
{
    if (!skip)
        print
    if (skip && /\),$/)
        skip = 0
}
