# err_subset.awk - the board's copy of keys/base/err.c: the one table of
# names and sentences, with only the entries whose code the board's sources
# name (keep="LEAL_OK LEAL_E_..."). The other codes belong to the host (the
# ledger, the web, the CLI) and no board code can return them; leaving their
# sentences out keeps about 10 KiB of flash. A code outside the table reads
# "unknown error", as on the host. keep="ALL" copies the table whole (the
# Makefile checks that this reproduces err.c byte for byte, so the parse below
# cannot drop or cut an entry unnoticed). The include is rewritten to the
# root-relative path, as the copy lives under build/.
# names=1 leaves the sentences out too: each kept entry's text is its name,
# so leal_strerror gives the name on the board. The till protocol names codes
# only (TERMINAL.md "The till line"), the till or the host translate them;
# about 8 KiB of flash less. The table is then written compact, the same
# lookups over it: the names in one string, one after the other in the
# table's order, and the codes in a table of 16-bit entries in that order,
# so a code's index is the count of names before its own (2 bytes an entry,
# not err.c's 12: a code and two pointers; until 5 Dec each entry also held
# its name's 16-bit offset, 250 bytes more), about 1.2 KiB less again. The names are stored without the
# "LEAL_E_" every error's begins with (7 bytes an entry): cm_errname gives
# a name in its two parts, which the till prints one after the other; the
# whole name (leal_errname, leal_strerror) is put together in one buffer.
# Since 5 Dec's fifth round the names are front-coded (each stores only what
# differs from the name before it, codes of one area being neighbours): 1,850
# bytes of names to 1,317; a name is then rebuilt in a buffer of its own.
BEGIN {
    n = split(keep, k, " ")
    for (i = 1; i <= n; i++)
        kept[k[i]] = 1
}
keep != "ALL" && /^#include "err.h"$/ { include = "#include \"keys/base/err.h\""; if (!names) print include; next }
/^static const struct err_entry err_table\[\] = \{$/ { table = 1; if (!names) print; next }
table && /^};$/ { table = 0 }
table && /^    E\(/ {
    sym = $0
    sub(/^    E\(/, "", sym)
    sub(/,.*/, "", sym)
    skip = keep != "ALL" && !(sym in kept)
    if (!skip && names) {
        syms[nsyms++] = sym
        skip = 1
    }
}
{
    if (!skip && !names)
        print
    if (skip && /\),$/)
        skip = 0
}
END {
    if (!names)
        exit
    print "/* err.c for the board (firmware/port/cortex-m/err_subset.awk, names=1): the"
    print " * codes its sources name, each with its name as its text, stored without"
    print " * the \"LEAL_E_\" every error's begins with (cm_errname, board.h). */"
    print include
    print "#include \"firmware/port/cortex-m/board.h\""
    print ""
    print "#include <stddef.h>"
    print "#include <stdint.h>"
    print ""
    longest = length("UNKNOWN")
    for (i = 0; i < nsyms; i++) {
        rest[i] = syms[i]
        if (syms[i] != "LEAL_OK" && sub(/^LEAL_E_/, "", rest[i]) != 1) {
            print "err_subset.awk: " syms[i] " does not begin with LEAL_E_" >"/dev/stderr"
            exit 1
        }
        if (length(rest[i]) > longest)
            longest = length(rest[i])
    }
    # Front-coded: each name is a byte, how many of the previous name's
    # letters it begins with (below '0': no name's letter is), then the rest
    # of its letters; in octal (three digits) so no letter joins the escape.
    print "static const char err_names[] ="
    prev = ""
    for (i = 0; i < nsyms; i++) {
        if (rest[i] !~ /^[A-Z0-9_]+$/) {
            print "err_subset.awk: " syms[i] " has a character outside A-Z0-9_" >"/dev/stderr"
            exit 1
        }
        same = 0
        while (same < 47 && same < length(prev) && substr(prev, same + 1, 1) == substr(rest[i], same + 1, 1))
            same++
        print "    \"\\" sprintf("%03o", same) substr(rest[i], same + 1) "\""
        prev = rest[i]
    }
    print "    ;"
    print ""
    print "/* Code i's name is the i-th of err_names. */"
    print "static const uint16_t err_codes[] = {"
    for (i = 0; i < nsyms; i++)
        print "    " syms[i] ","
    print "};"
    print ""
    print "/* Code err's name (without its LEAL_E_), put together in one buffer that the"
    print " * next call overwrites (the board runs one thread), or NULL. */"
    print "static const char *find(leal_err err)"
    print "{"
    print "    static char name[" longest " + 1];"
    print "    const char *p = err_names;"
    print "    for (size_t i = 0; i < sizeof(err_codes) / sizeof(err_codes[0]); i++) {"
    print "        size_t n = (unsigned char)*p++;"
    print "        while (*p >= '0')"
    print "            name[n++] = *p++;"
    print "        name[n] = '\\0';"
    print "        if ((leal_err)err_codes[i] == err)"
    print "            return name;"
    print "    }"
    print "    return NULL;"
    print "}"
    print ""
    print "const char *cm_errname(leal_err err, const char **prefix)"
    print "{"
    print "    const char *rest = find(err);"
    print "    *prefix = err == LEAL_OK ? \"\" : \"LEAL_E_\";"
    print "    return rest ? rest : \"UNKNOWN\";"
    print "}"
    print ""
    print "/* The whole name, in one buffer that the next call overwrites (the board"
    print " * runs one thread; the till prints cm_errname's parts and links neither). */"
    print "static const char *whole(leal_err err)"
    print "{"
    print "    static char name[sizeof \"LEAL_E_\" + " longest "];"
    print "    const char *prefix, *rest = cm_errname(err, &prefix);"
    print "    size_t n = 0;"
    print "    while (*prefix)"
    print "        name[n++] = *prefix++;"
    print "    while (*rest)"
    print "        name[n++] = *rest++;"
    print "    name[n] = '\\0';"
    print "    return name;"
    print "}"
    print ""
    print "const char *leal_strerror(leal_err err)"
    print "{"
    print "    return find(err) ? whole(err) : \"unknown error\";"
    print "}"
    print ""
    print "const char *leal_errname(leal_err err)"
    print "{"
    print "    return whole(err);"
    print "}"
    print ""
    print "int leal_err_is_defined(leal_err err)"
    print "{"
    print "    return find(err) != NULL;"
    print "}"
}
