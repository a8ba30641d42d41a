/* serve_pn532.h - `leal-cardsim serve --pn532 LINK CARD.json` (serve_pn532.c). */
#ifndef LEAL_CARDSIM_SERVE_PN532_H
#define LEAL_CARDSIM_SERVE_PN532_H

/* Serves the card on an emulated PN532 until SIGTERM/SIGINT (card_path
 * NULL: no card in its field); trace_path (or NULL) gets the exchanges.
 * Returns the exit code. */
int cardsim_serve_pn532(const char *link, const char *card_path, const char *trace_path);

#endif
