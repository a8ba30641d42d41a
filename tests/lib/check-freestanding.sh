#!/bin/sh
# check-freestanding.sh SRC... - compiles every freestanding source with
# -ffreestanding against the compiler's own headers only (-nostdinc), so any
# hosted header (stdio.h, stdlib.h, string.h, openssl/...) fails the build.
# Then links the card operations of both card types (cardlayout/desfire/
# desfire_card.c, cardlayout/classic/classic_card.c) from those objects alone
# into tests/lib/freestanding/link_desfire_card.c + link_classic_card.c,
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
# The card operations of both card types, linked into one program:
# link_desfire_card.c gives the entry point, link_classic_card.c the Classic calls,
# mem.c the memory functions a compiler may call.
links="tests/lib/freestanding/link_desfire_card.c tests/lib/freestanding/link_classic_card.c tests/lib/freestanding/mem.c"
[ $status -eq 0 ] && { ar rcs "$tmp/fs.a" "$tmp"/*.o || status=1; }
for l in $links; do
    # shellcheck disable=SC2086
    [ $status -eq 0 ] && ! $CC $flags -fno-stack-protector -O1 -c "$l" -o "$tmp/link_$(basename "$l" .c).o" &&
        { echo "check-freestanding: $l does not compile freestanding"; status=1; }
done
if [ $status -eq 0 ] &&
    ! $CC -nostdlib -static -Wl,-e,link_start -o "$tmp/link" "$tmp"/link_*.o "$tmp/fs.a" -lgcc; then
    echo "check-freestanding: the card operations do not link without the C library ($links)"
    status=1
fi
exit $status
