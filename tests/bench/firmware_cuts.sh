#!/bin/bash
# firmware_cuts.sh - the issue's 200 power cuts at seeded random points of the
# Cortex-M3 terminal's taps (tests/integration/firmware_cuts.sh with seeds 1
# to 200: make test runs 1 to 12). Prints how many checks passed and how each
# cut ended (nothing of the tap, a RECOVERY of the torn append, the tap's
# entry whole, settled or not); fails if any check failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
start=$(date +%s)
LEAL_FW_CUTS_N=${LEAL_FW_CUTS_N:-200} bash tests/integration/firmware_cuts.sh >"$LOG" 2>&1
rc=$?
echo "power cuts: ${LEAL_FW_CUTS_N:-200} seeded cuts across earn, pay, redeem, stamp, bono, void on DESFire EV1 and Classic 1K in $(($(date +%s) - start)) s"
grep '^# forms:' "$LOG" | sed 's/^# forms:/  how they ended:/'
tail -1 "$LOG" | sed 's/^/  checks: /'
if [ $rc -ne 0 ]; then
    grep -A3 '^not ok' "$LOG" | head -40 >&2
fi
exit $rc
