#!/bin/sh
# Installs the Debian packages named as arguments that are missing (make deps).
# Prints what it installs; silent no-op when everything is there.
missing=""
for p in "$@"; do
    s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$s" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "make deps: missing Debian packages:$missing" >&2
    echo "make deps: run 'sudo make deps' (or install them with apt-get) and try again" >&2
    exit 1
fi
echo "make deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "make deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
    { echo "make deps: apt-get install failed for:$missing" >&2; exit 1; }
echo "make deps: done"
