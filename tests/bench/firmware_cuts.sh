#!/bin/bash
# firmware_cuts.sh - the issue's 200 power cuts at seeded random points of the
# Cortex-M3 terminal's taps, each with QEMU stopped at the cut and a new QEMU
# and card simulator for the restart (tests/integration/firmware_cuts.sh with
# LEAL_FW_KILLS_N=200 and no self-reset cuts: make test runs 200 self-reset
# cuts in one QEMU run per card and 3 of these). Prints how many checks
# passed and how each cut ended (nothing of the tap, a RECOVERY of the torn
# append, the tap's entry whole, settled or not); fails if any check failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
start=$(date +%s)
N=${LEAL_FW_KILLS_N:-200}
LEAL_FW_KILLS_N=$N LEAL_FW_CUTS_N=0 bash tests/integration/firmware_cuts.sh >"$LOG" 2>&1
rc=$?
echo "power cuts, QEMU stopped: $N seeded cuts across earn, pay, redeem, stamp, bono, void on DESFire EV1 and Classic 1K in $(($(date +%s) - start)) s"
grep '^# self-reset cuts:' "$LOG" | sed 's/^# self-reset cuts: 0 () in [0-9]* s; QEMU stopped: /  how they ended: /'
tail -1 "$LOG" | sed 's/^/  checks: /'
if [ $rc -ne 0 ]; then
    grep -A3 '^not ok' "$LOG" | head -40 >&2
fi
exit $rc
