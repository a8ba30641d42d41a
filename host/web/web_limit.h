/*
 * web_limit.h - sign-in attempts limited per key ("user:NAME", "addr:IP"):
 * after WEB_LIMIT_FAILS failures within WEB_LIMIT_WINDOW seconds the key is
 * refused until the oldest of them leaves the window, so the sixth wrong
 * password in a minute is refused even when it is right. The table is the
 * caller's memory, of fixed size: when every slot holds a recent failure the
 * one whose newest failure is oldest is reused. Kept in the serving process
 * (a restart forgets it). Hosted; no allocation.
 */
#ifndef LEAL_WEB_LIMIT_H
#define LEAL_WEB_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define WEB_LIMIT_FAILS 5
#define WEB_LIMIT_WINDOW 60
#define WEB_LIMIT_SLOTS 512
#define WEB_LIMIT_KEY 96

struct web_limit_slot {
    char key[WEB_LIMIT_KEY];     /* "" : free */
    int64_t at[WEB_LIMIT_FAILS]; /* failure times, a ring */
    int n;                       /* failures held (<= WEB_LIMIT_FAILS) */
    int next;                    /* the ring's next position */
};

struct web_limit {
    struct web_limit_slot slot[WEB_LIMIT_SLOTS];
};

/* Empties the table. */
void web_limit_init(struct web_limit *w);
/* Whether key may try again at now (fewer than WEB_LIMIT_FAILS failures in
 * the window that ends at now). */
bool web_limit_allowed(const struct web_limit *w, const char *key, int64_t now);
/* Records a failure of key at now. */
void web_limit_fail(struct web_limit *w, const char *key, int64_t now);
/* Forgets key's failures (a user's right password, within the limit). */
void web_limit_clear(struct web_limit *w, const char *key);

#endif
