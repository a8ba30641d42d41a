/*
 * cardsim_card.h - the virtual card's generic state, shared by cardsim.c (its
 * life: engine table, card file, exchanges, tearing) and cardsim_services.c
 * (what an engine may ask of it). Private to host/cardsim: nothing else
 * includes it. Hosted.
 */
#ifndef LEAL_CARDSIM_CARD_H
#define LEAL_CARDSIM_CARD_H

#include <stdbool.h>

#include "cardsim_engine.h"

struct cardsim {
    const struct cardsim_engine *engine;
    void *state;
    char type[CARDSIM_MAX_TYPE];
    cardsim_rng_fn rng;
    void *rng_ctx;
    struct cardsim_tear tear;
    unsigned exchanges; /* since the tear was armed */
    bool tearing;       /* inside the exchange being torn */
    bool torn;
    bool active;
    bool powered; /* has had power since the last field-off */
    char *synced; /* card file text as last loaded, saved or synced */
};

#endif
