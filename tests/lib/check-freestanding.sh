#!/bin/sh
# check-freestanding.sh SRC... - compiles every freestanding source with
# -ffreestanding against the compiler's own headers only (-nostdinc), so any
# hosted header (stdio.h, stdlib.h, string.h, openssl/...) fails the build.
# Then links the DESFire card operations (cardlayout/desfire/desfire_card.c)
# from those objects alone into tests/lib/freestanding/link_desfire_card.c,
# with -nostdlib: a call into the C library (stdio, malloc, ...) anywhere
# they reach is an undefined symbol. The program is linked, never run.
CC=${CC:-cc}
inc=$($CC -print-file-name=include)
flags="-std=c11 -ffreestanding -nostdinc -isystem $inc -I. -Wall -Wextra -Werror"
status=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for f in "$@"; do
    case "$f" in keys/hosted/*) echo "check-freestanding: $f is hosted"; status=1; continue ;; esac
    # shellcheck disable=SC2086
    if ! $CC $flags -fno-stack-protector -O1 -c "$f" -o "$tmp/$(echo "$f" | tr / _).o"; then
        echo "check-freestanding: $f needs a hosted header"
        status=1
    fi
done
link=tests/lib/freestanding/link_desfire_card.c
# shellcheck disable=SC2086
if [ $status -eq 0 ] && ! { ar rcs "$tmp/fs.a" "$tmp"/*.o &&
    $CC $flags -fno-stack-protector -O1 -c $link -o "$tmp/link.o" &&
    $CC -nostdlib -static -Wl,-e,link_start -o "$tmp/link" "$tmp/link.o" "$tmp/fs.a" -lgcc; }; then
    echo "check-freestanding: the DESFire card operations do not link without the C library ($link)"
    status=1
fi
exit $status
