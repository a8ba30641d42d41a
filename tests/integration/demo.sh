#!/bin/bash
# demo.sh - `make demo`'s story runs to its end (on the ASan build here), so the
# README's second command cannot rot.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
clear_of_midnight 120 UTC Europe/Madrid # the bono's last day, the day's spending, reckoned once
run_capture bash tests/demo.sh "$LEAL_BUILD"
check_eq "the demo exits 0" 0 "$RC"
# (the day 7 days after the package was built, some minutes before this line)
check_match "the demo's terminals page: the kiosk's package valid for 7 days, read from its file" \
    "^terminal 1 \(kiosk 1\): package 1, valid until ($(date -u -d '+7 days' +%F)|$(date -u -d '+7 days 15 minutes ago' +%F)) [0-9:]{5} UTC \(valid\)$" "$OUT"
check_match "the demo's phone code verifies as a spending code with its caps" \
    "^verified: spending code, program 1, account [0-9]+, virtual card [0-9]{12}, qr key version 1, caps 20.00 a payment and 50.00 a day, time step [0-9]+, counter 1$" "$OUT"
check_eq "the demo reaches its end" "demo finished" "$(printf '%s\n' "$OUT" | tail -1)"
check_match "the demo's erasure blocks Luis's QR cards by decision" \
    "^customer [0-9]+: personal data erased; the ledger keeps their entries; [1-9][0-9]* card\(s\) blocked$" "$OUT"
check_match "the demo's kiosk takes Luis's printed code from a photo: +8 to his account" \
    "^QR static [0-9]{12} earn: \+(8|16) points to the account$" "$OUT"
check_match "the demo's kiosk takes his phone's code for 4,50" \
    "^QR spending [0-9]{12} pay: paid 4.50 \(4.50 today with this phone here\)$" "$OUT"
check_match "the demo's host posts both (the ack's entry recorded)" \
    "^/tmp/leal-demo-[A-Za-z0-9]+/kiosk1-qr.journal: terminal 1, epoch [0-9]+, sequences 6 to 8: 3 taken \(2 posted, 1 recorded without movement, 0 held, 0 undone by a settle\), 0 already there$" "$OUT"
check_match "the demo's Luis: +8 points from the kiosk (16 on a Tuesday afternoon)" "  earn +PTS +(8|16) +terminal earn$" "$OUT"
check_match "the demo's Luis: 4.50 paid at the kiosk" "  spend +EUR +-4.50 +terminal purse payment$" "$OUT"
check_match "the demo's card and ledger agree" "ledger       agrees" "$OUT"
check_match "the demo's Tuesday sale: the rule doubles the base 12" "^  rule    1 +\+12  Martes doble$" "$OUT"
check_match "the demo's sale earns 24 points on 12,40" "^points \+24, balance 99$" "$OUT"
check_match "the demo's sale stamps two coffees" "^stamp card 1 \(Café\): \+2, 2 now$" "$OUT"
check_match "the demo's refund of 4,00 takes back its share, 7" "^points -7 \(0 short\), tier spend -3 EUR$" "$OUT"
check_match "the demo's hot list holds the replaced card" "^[0-9]{12}  [0-9: -]{16}  replaced  replaced by card [0-9]{12} \(desk\)$" "$OUT"
check_match "the demo's read explains the difference in words" \
    "^ledger       DIFFERS: the ledger has 25 points the card does not \(1 entry, posted by hand on [0-9]{4}-[0-9]{2}-[0-9]{2}\); run leal card sync$" "$OUT"
check_match "the demo's sync brings the 25 points" "^synced       \+25 points brought onto the card from the ledger$" "$OUT"
check_eq "after the sync, card and ledger agree" "ledger       agrees" \
    "$(printf '%s\n' "$OUT" | grep '^ledger  ' | tail -1)"
check_match "the demo's rule" "^rule 1 added \(program 1, rule set version 1\)$" "$OUT"
check_match "the demo's stamp card" "^stamp card 1 added \(program 1, rule set version 3\)$" "$OUT"
check_match "the demo's rule history" "^version 3  [0-9-]{10} [0-9:]{5} UTC  Marta  stamp card 1 added: tarjeta de café$" "$OUT"
check_eq "the demo's gift card: a gift account, the gift on its purse" \
    "account      N (gift card), card active|purse        25.00" \
    "$(printf '%s\n' "$OUT" | grep -A1 '^account .* (gift card), ' | sed -E '1s/^account +[0-9]+/account      N/' | paste -sd'|')"
check_match "the demo's desk loop reads the gift card in one line" \
    "^read card [0-9]{12} \(desfire-ev1, UID 04998877665544\): account [0-9]+ \(gift card\), card active, purse 25.00, points 0, stamps 0 0 0 0, taps 1; ledger agrees$" "$OUT"
check_match "... then Ana's new card, synced: 32.50 and 75 points, TMC 2 (the credit and the sync)" \
    "^read card [0-9]{12} \(desfire-ev3, UID [0-9a-f]{14}, random UID\): account [0-9]+, card active, purse 32.50, points 75, stamps 0 0 0 0, taps 2, TMC 2; ledger agrees$" "$OUT"
check_match "the demo's books balance (the gift sale one entry of two lines)" "^ledger ok: 5 entries, 10 lines" "$OUT"
check_match "the demo's kiosk is made from its bundle" \
    "^terminal 1 of program 1 made in .*/kiosk1 \(bundle valid until [0-9-]{10} 00:00 UTC\); load a package next: leal-terminal load FILE$" "$OUT"
check_match "the demo's kiosk loads its package: the replaced card hot-listed, two floors" \
    "^package version 1 loaded: valid until [0-9-]{10} [0-9:]{5} UTC, 1 hot-listed cards, 2 floors$" "$OUT"
check_match "the demo's kiosk status: its journal" "^journal +1 of 2048 slots used, 1 entries not synced, newest epoch [0-9]+ sequence 1$" "$OUT"
# "Martes doble" (x2, Tuesdays 16:00-20:00) holds at the kiosk too, on Madrid's clock.
EARN=23
if [ "$(TZ=Europe/Madrid date +%u)" = 2 ] && [ "$(TZ=Europe/Madrid date +%-H)" -ge 16 ] &&
    [ "$(TZ=Europe/Madrid date +%-H)" -lt 20 ]; then EARN=46; fi
check_match "the demo's package carries one card's host changes (Ana's online sale and refund)" \
    "^wrote terminal package .*, 1 cards with host changes, " "$OUT"
check_match "the demo's kiosk: Ana's card earns $EARN points offline and takes the host's 24-7 (75 on the card)" \
    "^card [0-9]{12} earn: \+$EARN points, 75 -> $((75 + EARN + 24 - 7))$" "$OUT"
check_match "the demo's kiosk: and pays 3,00 from her purse" "^card [0-9]{12} pay: paid 3.00, 29.50 euros left$" "$OUT"
check_match "the demo's kiosk exports its journal: the epoch, the two taps and their TMAC entries (an EV3)" "^exported 5 entries \(terminal 1, epoch [0-9]+, sequences 1 to 5\) to " "$OUT"
check_match "the demo's host takes the kiosk's journal: the earn and the payment posted, their TMVs the card's" \
    "^/tmp/leal-demo-[A-Za-z0-9]+/kiosk1.journal: terminal 1, epoch [0-9]+, sequences 1 to 5: 5 taken \(2 posted, 3 recorded without movement, 0 held, 0 undone by a settle\), 0 already there; 2 TMVs checked with the cards' tmac keys, 0 not the card's word \(leal reconcile\)$" "$OUT"
check_match "the demo's same journal again: nothing twice" \
    "^/tmp/leal-demo-[A-Za-z0-9]+/kiosk1.journal: terminal 1, epoch [0-9]+, sequences 1 to 5: 0 taken \(0 posted, 0 recorded without movement, 0 held, 0 undone by a settle\), 5 already there$" "$OUT"
check_eq "the demo's account after the import: 50+25+24-7 points and the kiosk's, 32.50-3.00 euros" \
    "PTS $((92 + EARN))|EUR 29.50" \
    "$(printf '%s\n' "$OUT" | grep -E '^  (PTS|EUR) ' | tail -2 | sort -r | awk '{print $1, $2}' | paste -sd'|')"
check_match "the demo's account: the kiosk's earn, once" "  earn +PTS +$EARN +terminal earn$" "$OUT"
check_match "the demo's account: the kiosk's payment, once" "  spend +EUR +-3.00 +terminal purse payment$" "$OUT"
check_match "the demo's ack" "^wrote ack /tmp/leal-demo-[A-Za-z0-9]+/kiosk1.ack: terminal 1 took every entry up to epoch [0-9]+ sequence 5 \(56 bytes\)$" "$OUT"
check_match "the demo's kiosk applies the ack: only the ack's own entry is left" \
    "^acknowledged up to epoch [0-9]+ sequence 5; 1 entries not synced$" "$OUT"
check_match "the demo's bono sale" \
    "^bono sold: 10 masajes, 10 sessions for 45.00 EUR on card [0-9]{12} \(account [0-9]+\)$" "$OUT"
check_match "the demo's bono use earns a tenth of the price" \
    "^bono used: one session of 10 masajes on card [0-9]{12} \(account [0-9]+\), 4.50 EUR earned$" "$OUT"
check_eq "the demo's card read shows the bono, 9 sessions left, a year from today" \
    "bonos        10 masajes: 9 sessions left, until $(date -d '+365 days' +%F)" \
    "$(printf '%s\n' "$OUT" | grep '^bonos  ' | tail -1)"
check_eq "the demo's back office: today's dashboard totals through the API (3 card sales, 2 QR, purse 20+12.50+25 loaded, 3+4.50 spent)" \
    "sales_card     3|sales_qr       2|customers      2|purse_loaded   57.50 EUR|purse_spent    7.50 EUR" \
    "$(printf '%s\n' "$OUT" | grep -A7 '^\$ dashboard$' | grep -E '^(sales_card|sales_qr|customers|purse_)' | paste -sd'|')"
check_eq "the demo's customer care: the desk names the card's holder, the back office lists it and Marta's note" \
    "held by Ana Pérez|active   Ana Pérez|note by marta: prefers e-mail to SMS" \
    "$(printf '%s\n' "$OUT" | grep -A12 '^\$ care$' | sed -nE 's/^card [0-9]+: (held by .*)$/\1/p; s/^card [0-9]+  (active   .*)$/\1/p; /^note by marta/p' | paste -sd'|')"
check_match "the demo's portal: Ana's phone certified by the QR certifier through leal serve" \
    "^phone enrolled: virtual card [0-9]{12}, caps 20.00 a payment and 50.00 a day$" "$OUT"
check_eq "the demo's portal phone's code verifies: the enrolled virtual card, Ana's account" \
    "$(printf '%s\n' "$OUT" | sed -n 's/^phone enrolled: virtual card \([0-9]*\),.*/\1/p') 2" \
    "$(printf '%s\n' "$OUT" | grep '^verified: spending code' | tail -1 | sed -E 's/.*virtual card ([0-9]+),.*/\1/') $(printf '%s\n' "$OUT" | grep -c '^verified: spending code')"
check_eq "the demo's certifier stops and wipes its key" "qr certifier stopped; its key is wiped" \
    "$(printf '%s\n' "$OUT" | grep -A1 '^\$ tail -1 .*/certifier.out$' | tail -1)"
finish
