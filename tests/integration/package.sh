#!/bin/bash
# package.sh - the terminal package end to end (firmware/core/PACKAGE.md): a
# real ledger whose cards were issued, replaced, blocked and read on the sim:
# reader; `leal terminal package` builds and signs it (0600, version going up
# per terminal); `leal package show --json` checked exactly; a separate Python
# reading of PACKAGE.md (format 2) decodes the file (hot list, floors, names,
# site: store, Europe/Madrid's rules, Classic purse cap; signed message) and
# its lists are compared with the ledger's own columns; a changed byte makes
# show fail; bad input is refused with one line and exit 2.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

program_fixture package "package test passphrase"
for n in Ana Luis Marta Pilar; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done

# Ana: DESFire with a top-up, then replaced; Luis: DESFire, blocked; Marta:
# Classic, read at the desk; Pilar: DESFire, active.
issue() {
    "$CARDSIM" new --type "$2" --uid "$3" -o "$T/$1.json" >/dev/null
    "$LEAL" card issue --customer "$4" --reader "sim:$T/$1.json" $5 --json | field card_id
}
ANA=$(issue ana desfire-ev1 04112233445566 1 "--topup 20")
LUIS=$(issue luis desfire-ev1 04112233445577 2 "")
MARTA=$(issue marta classic-1k 04a2195c 3 "")
PILAR=$(issue pilar desfire-ev1 04112233445588 4 "--topup 5")
"$CARDSIM" new --type desfire-ev1 --uid 04112233445599 -o "$T/ana2.json" >/dev/null
ANA2=$("$LEAL" card replace --old "$ANA" --reader "sim:$T/ana2.json" --json | field card_id)
"$LEAL" card block "$LUIS" --reason "stolen bag" >/dev/null
"$LEAL" card top-up 5 --reader "sim:$T/pilar.json" >/dev/null
"$LEAL" card read --reader "sim:$T/marta.json" >/dev/null
check_eq "the ledger: 2 hot cards, 3 active" "2|3" \
    "$(q "select count(*) from card where status in ('blocked','lost','replaced')")|$(q "select count(*) from card where status = 'active'")"

run_capture "$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" --valid-days 3 --json
check_eq "terminal package exits 0" 0 "$RC"
check_eq "package mode 0600" 600 "$(stat -c %a "$T/p1.lpkg")"
SIZE=$(stat -c %s "$T/p1.lpkg")
check_eq "size: header, rules (none defined: 18 bytes), 2 hot, 3 floors, the store's name, site, caps, signature" \
    $((60 + 18 + 2 * 9 + 3 * 28 + 6 + 6 + 32 + 8 + 64)) "$SIZE"
ISSUED=$(od -An -tu8 --endian=big -j20 -N8 "$T/p1.lpkg" | tr -d ' ')
UNTIL=$(od -An -tu8 --endian=big -j28 -N8 "$T/p1.lpkg" | tr -d ' ')
check_eq "valid for 3 days" $((3 * 86400)) $((UNTIL - ISSUED))
check_eq "build --json" "{\"file\":\"$T/p1.lpkg\",\"program\":7,\"terminal\":1,\"version\":1,\"issued_at\":$ISSUED,\"valid_until_at\":$UNTIL,\"hot_list\":2,\"floors\":3,\"pending\":0,\"store\":1,\"classic_purse_cap\":\"0.00\",\"key_version\":1,\"bytes\":$SIZE}" "$OUT"
check_eq "the ledger records version 1 for terminal 1" 1 "$(q 'select package_version from terminal where id = 1')"

FP=$("$LEAL" keys list --json | $PY -c 'import json,sys
d=json.load(sys.stdin)
for p in d["programs"]:
    for r in p["roles"]:
        if r["role"] == "package": print(r["versions"][-1]["fingerprint"])')
tstr() { date -u -d "@$1" '+%Y-%m-%d %H:%M'; }
run_capture "$LEAL" package show "$T/p1.lpkg" --json
check_eq "show exits 0" 0 "$RC"
check_eq "show --json, exactly" "{\"file\":\"$T/p1.lpkg\",\"format\":2,\"program\":7,\"terminal\":1,\"version\":1,\"issued\":\"$(tstr "$ISSUED")\",\"issued_at\":$ISSUED,\"valid_until\":\"$(tstr "$UNTIL")\",\"valid_until_at\":$UNTIL,\"expired\":false,\"rules_bytes\":18,\"rules\":{\"version\":0,\"points_per_euro_milli\":1000,\"rules\":0,\"tiers\":0,\"rewards\":0,\"stamp_cards\":0,\"bonos\":0},\"hot_list\":{\"cards\":2,\"blocked\":1,\"lost\":0,\"replaced\":1},\"floors\":3,\"pending\":0,\"cap_day\":\"50.00\",\"cap_between_syncs\":\"200.00\",\"store\":1,\"store_name\":\"Centro\",\"zone\":\"UTC+01:00, UTC+02:00 from M3.5.0/2:00 to M10.5.0/3:00\",\"classic_purse_cap\":null,\"names\":{\"tiers\":0,\"stamp_cards\":0,\"rewards\":0,\"bonos\":0,\"stores\":1},\"key_version\":1,\"fingerprint\":\"$FP\",\"signature\":\"verified\",\"bytes\":$SIZE}" "$OUT"
run_capture "$LEAL" package show "$T/p1.lpkg"
check_match "show for a person: the signature" "^signature +verifies against the keystore's public key$" "$OUT"
check_match "show for a person: the hot list" "^hot list +2 cards \(1 blocked, 0 lost, 1 replaced\)$" "$OUT"
check_match "show for a person: the store" "^store +1 \(Centro\)$" "$OUT"
check_match "show for a person: Europe/Madrid's rules" "^time zone +UTC\+01:00, UTC\+02:00 from M3.5.0/2:00 to M10.5.0/3:00$" "$OUT"
check_match "show for a person: Classic stored value off by default" "^classic purse +off: every Classic stored-value card is refused$" "$OUT"
# A keystore without the package's program: shown, the signature not checked.
"$LEAL" keys init --issuer Luna --program 8 --keystore "$T/luna.ks" >/dev/null
run_capture "$LEAL" package show "$T/p1.lpkg" --keystore "$T/luna.ks"
check_eq "show with another program's keystore: exit 0" 0 "$RC"
check_match "show with another program's keystore: not checked" "^signature +not checked: the keystore has no package key version 1 for program 7$" "$OUT"

# An independent reading of PACKAGE.md: the lists and the signed message.
decode() { $PY tests/lib/package_decode.py "$1"; }
DEC=$(decode "$T/p1.lpkg")
WANT_HOT=$(q "select 'hot ' || card_id || ' ' || status from card where status in ('blocked','lost','replaced') order by card_id")
check_eq "hot list: the ledger's blocked and replaced cards, by card id" "$WANT_HOT" "$(grep '^hot' <<<"$DEC")"
check_match "the replaced card is Ana's first" "^hot $ANA replaced$" "$DEC"
check_match "the blocked card is Luis's" "^hot $LUIS blocked$" "$DEC"
WANT_FLOORS=$(q "select 'floor ' || card_id || ' ' || case when tech like 'classic%' then 'classic 1 ' || last_counter || ' ' || seen_seq || ' ' || lower(hex(substr(seen_mark, 1, 8))) else 'desfire 0 ' || last_counter || ' 0 0000000000000000' end from card where status = 'active' order by card_id")
check_eq "floors: every active card's last counter, Classic seq and tag" "$WANT_FLOORS" "$(grep '^floor' <<<"$DEC")"
check_match "Pilar's floor: 2 taps (opening top-up, top-up)" "^floor $PILAR desfire 0 2 0 0{16}$" "$DEC"
check_match "Ana's new card's floor: 1 tap (the euros moved onto it)" "^floor $ANA2 desfire 0 1 0 0{16}$" "$DEC"
check_match "Marta's Classic floor: seq 1 and a tag" "^floor $MARTA classic 1 0 1 [0-9a-f]{16}$" "$DEC"
check_nomatch "no tag of zeros on Marta's floor" "^floor $MARTA classic 1 0 1 0{16}$" "$DEC"
check_eq "caps" "caps 5000 20000" "$(grep '^caps' <<<"$DEC")"
check_eq "site: store 1, Classic off, Europe/Madrid: +60, +120 from the last Sunday of March 02:00 to the last of October 03:00" \
    "site 1 0 60 120 1 3 5 0 7200 10 5 0 10800" "$(grep '^site' <<<"$DEC")"
check_eq "names: the store's" "name store 1 Centro" "$(grep '^name' <<<"$DEC")"
check_eq "no host changes waiting" "" "$(grep '^pending' <<<"$DEC")"

# The version only goes up; caps and validity as asked.
run_capture "$LEAL" terminal package --terminal 1 -o "$T/p2.lpkg" --day-cap 20 --sync-cap 80,50
check_match "second build: version 2" "^wrote terminal package $T/p2.lpkg: terminal 1, program 7, store 1, version 2, 2 cards hot-listed, 3 floors, 0 cards with host changes, caps 20.00 a day and 80.50 between syncs, Classic purse off, valid until .* UTC, signed with package key version 1 \($SIZE bytes\)$" "$OUT"
check_eq "the ledger records version 2" 2 "$(q 'select package_version from terminal where id = 1')"
check_eq "p2 caps" "caps 2000 8050" "$(decode "$T/p2.lpkg" | grep '^caps')"

# The rules the shop defined travel in the package (RULES.md section 7).
"$LEAL" rule add --program 7 --name "Martes doble" --multiplier 2 --best --days tue \
    --time 16:00-20:00 --reason "campaña" >/dev/null
"$LEAL" sale category add cafe --program 7 --code 3 >/dev/null
"$LEAL" rule add --program 7 --bonus 10 --categories cafe --reason "café" >/dev/null
"$LEAL" tier add --program 7 --name Oro --threshold 500 --multiplier 1,5 --reason oro >/dev/null
"$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason "catálogo" >/dev/null
"$LEAL" stamp add --program 7 --name "Café" --per item --category cafe --goal 10 --reward 1 \
    --reason "café" >/dev/null
"$LEAL" bono add --program 7 --name "10 masajes" --sessions 10 --price 45 --reason bonos >/dev/null
"$LEAL" program set 7 --classic-stored-value-cap 30 >/dev/null
run_capture "$LEAL" terminal package --terminal 1 -o "$T/pr.lpkg"
check_eq "with rules: exit 0" 0 "$RC"
check_eq "size: the rule set's 152 bytes (18 + tier 8 + rules 41 and 43 + stamp card 12 + reward 18 + bono 12), names (Oro 3, Café 5, Café gratis 12, 10 masajes 10, Centro 6)" \
    $((60 + 152 + 2 * 9 + 3 * 28 + 5 * 6 + 3 + 5 + 12 + 10 + 6 + 32 + 8 + 64)) "$(stat -c %s "$T/pr.lpkg")"
DEC=$(decode "$T/pr.lpkg")
check_eq "names: tier, stamp card, reward, bono, store, in (kind, item) order, UTF-8 as typed" \
    "name tier 1 Oro
name stamp 0 Café
name reward 1 Café gratis
name bono $(q "select item from rule_set_name where program_id = 7 and part = 6 and version = 6") 10 masajes
name store 1 Centro" "$(grep '^name' <<<"$DEC")"
check_match "site: the program's Classic cap, 30.00" "^site 1 3000 60 120 1 " "$DEC"
run_capture "$LEAL" package show "$T/pr.lpkg"
check_match "show: the rules for a person" \
    "^rules +rule set version 6, 1.00 points per euro: 2 rules, 1 tier, 1 reward, 1 stamp card, 1 bono \(152 bytes\)$" "$OUT"
check_match "show: the names" "^names +1 tier, 1 stamp card, 1 reward, 1 bono, 1 store$" "$OUT"
check_match "show: the Classic cap" "^classic purse +cap 30.00 EUR$" "$OUT"
run_capture "$LEAL" package show "$T/pr.lpkg" --json
check_match "show --json: the rules" \
    '"rules_bytes":152,"rules":\{"version":6,"points_per_euro_milli":1000,"rules":2,"tiers":1,"rewards":1,"stamp_cards":1,"bonos":1\},"hot_list"' "$OUT"
check_eq "Python's reading of the rules section: format 1, version 6, rate 1000, 1 tier, 2 rules, 1 stamp card, 1 reward, 1 bono" \
    "rules-head 1 6 1000 1 2 1 1 1" "$(grep '^rules-head' <<<"$DEC")"
check_eq "the rules section is the ledger's version 6, byte for byte" \
    "rules $(q 'select lower(hex(encoded)) from rule_set where program_id = 7 and version = 6')" \
    "$(grep '^rules ' <<<"$DEC")"
# The base rate is the program's at build time, not the one stored with the set.
q "update program set points_per_euro_milli = 1500 where id = 7"
"$LEAL" terminal package --terminal 1 -o "$T/pr2.lpkg" >/dev/null
check_eq "a new rate travels with the same rule set" "rules-head 1 6 1500 1 2 1 1 1" \
    "$(decode "$T/pr2.lpkg" | grep '^rules-head')"
q "update program set points_per_euro_milli = 1000 where id = 7"

# A changed byte: refused by show (exit 1), whichever byte.
cp "$T/p1.lpkg" "$T/bad.lpkg"
printf '\x08' | dd of="$T/bad.lpkg" bs=1 seek=19 conv=notrunc 2>/dev/null
run_capture "$LEAL" package show "$T/bad.lpkg"
check_eq "a changed version byte: exit 1" 1 "$RC"
check_match "a changed version byte: does not verify" "^signature +DOES NOT VERIFY: terminal package signature does not verify" "$OUT"
# A format 1 package (an older leal's): refused with what to do.
cp "$T/p1.lpkg" "$T/old.lpkg"
printf '\x01' | dd of="$T/old.lpkg" bs=1 seek=4 conv=notrunc 2>/dev/null
run_capture "$LEAL" package show "$T/old.lpkg"
check_eq "a format 1 package: exit 1, one line" "1|leal: package $T/old.lpkg: terminal package is format 1 (no store, time zone or Classic cap); build a new one with \`leal terminal package\` and load it" "$RC|$ERR"
head -c 100 "$T/p1.lpkg" >"$T/short.lpkg"
run_capture "$LEAL" package show "$T/short.lpkg"
check_eq "a truncated package: exit 1, one line" "1|leal: package $T/short.lpkg: terminal package damaged (truncated, oversized or malformed); copy it again or build a new one" "$RC|$ERR"

# Bad input: one line, exit 2, no file, no version taken.
run_capture "$LEAL" terminal package --terminal 9 -o "$T/p9.lpkg"
check_eq "unknown terminal" "2|leal: terminal package: terminal 9: no such id" "$RC|$ERR"
check_eq "unknown terminal: no file" "absent" "$([ -e "$T/p9.lpkg" ] && echo present || echo absent)"
# The terminal is looked up before any key is asked for: no passphrase needed to refuse it.
run_capture env -u LEAL_PASSPHRASE "$LEAL" terminal package --terminal 9 -o "$T/p9.lpkg" </dev/null
check_eq "unknown terminal: refused before the passphrase" "2|leal: terminal package: terminal 9: no such id" "$RC|$ERR"
# A terminal of a program this keystore does not hold: only that program's package key would do.
"$LEAL" program create --code luna --name Luna --id 8 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 8 --code norte --name Norte --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 2 --name "caja 2" >/dev/null
run_capture "$LEAL" terminal package --terminal 2 -o "$T/p8.lpkg"
check_eq "another program's terminal" "2|leal: terminal 2 belongs to program 8, which this keystore does not hold; use the keystore of that program" "$RC|$ERR"
check_eq "another program's terminal: no file, no version" "absent|0" \
    "$([ -e "$T/p8.lpkg" ] && echo present || echo absent)|$(q 'select package_version from terminal where id = 2')"
run_capture "$LEAL" terminal package --terminal 1 -o "$T/p3.lpkg" --valid-days 0
check_eq "--valid-days 0" "2|leal: --valid-days '0': a whole number of days from 1 to 366 (see 'leal --help')" "$RC|$(head -1 <<<"$ERR")"
run_capture "$LEAL" terminal package --terminal 1 -o "$T/p3.lpkg" --day-cap 100 --sync-cap 50
check_eq "day cap above sync cap" 2 "$RC"
run_capture "$LEAL" terminal package --terminal 1
check_eq "no -o" 2 "$RC"
check_eq "nothing taken by refusals (p2 version 2, pr and pr2 3 and 4)" 4 "$(q 'select package_version from terminal where id = 1')"

# Host-decided points for a card travel as a pending change (PACKAGE.md "Pending changes"):
# Pilar's birthday bonus of 40 and a correction of -5 net to +35 at her 2 taps, up to the
# newest of them; a euro correction never travels.
PACC=$(q "select account_id from card where card_id = $PILAR")
"$LEAL" ledger post --account "$PACC" --asset PTS --amount 40 --reason "cumpleaños" \
    --operator Marta --reference "bonus:cumpleaños" >/dev/null
"$LEAL" ledger post --account "$PACC" --asset PTS --amount -5 --reason "corrección" \
    --operator Marta >/dev/null
"$LEAL" ledger post --account "$PACC" --asset EUR --amount 5 --reason "corrección" \
    --operator Marta >/dev/null
UPTO=$(q "select max(e.id) from entry e join line n on n.entry_id = e.id where n.account_id = $PACC and n.asset = 'PTS'")
run_capture "$LEAL" terminal package --terminal 1 -o "$T/pp.lpkg" --json
check_match "build --json: one card with host changes" '"pending":1,' "$OUT"
check_eq "pending: Pilar +35 at taps 2, up to the -5 entry, kinds adjustment and bonus" \
    "pending $PILAR 2 $UPTO 35 3 0 0" "$(decode "$T/pp.lpkg" | grep '^pending')"
run_capture "$LEAL" package show "$T/pp.lpkg"
check_match "show: the pending count" "^pending +1 cards with host changes waiting$" "$OUT"
check_eq "the ledger remembers at which taps a package carried them, and up to which entry" \
    "2|$UPTO" "$(q "select taps || '|' || upto_entry from card_host_change_sent where card_id = $PILAR")"
finish
