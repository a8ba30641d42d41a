#!/bin/sh
# install.sh - make deps' part for tests/web: npm ci of the pinned
# playwright-core (package-lock.json) when node_modules does not already hold
# that version, from npm's cache first (--prefer-offline). No browser is ever
# downloaded: the tests drive Debian's /usr/bin/chromium.
cd "$(dirname "$0")" || exit 1
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' package.json)
have=$(node -p 'require("./node_modules/playwright-core/package.json").version' 2>/dev/null)
[ -n "$want" ] && [ "$want" = "$have" ] && exit 0
echo "make deps: npm ci in tests/web (playwright-core $want)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error ||
    { echo "make deps: npm ci failed in tests/web (offline? npm's cache lacks playwright-core $want)" >&2; exit 1; }
