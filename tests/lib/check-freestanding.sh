#!/bin/sh
# check-freestanding.sh SRC... - compiles every freestanding source with
# -ffreestanding against the compiler's own headers only (-nostdinc), so any
# hosted header (stdio.h, stdlib.h, string.h, openssl/...) fails the build.
CC=${CC:-cc}
inc=$($CC -print-file-name=include)
status=0
for f in "$@"; do
    case "$f" in keys/hosted/*) echo "check-freestanding: $f is hosted"; status=1; continue ;; esac
    if ! $CC -std=c11 -ffreestanding -nostdinc -isystem "$inc" -I. -Wall -Wextra -Werror \
        -fsyntax-only "$f"; then
        echo "check-freestanding: $f needs a hosted header"
        status=1
    fi
done
exit $status
