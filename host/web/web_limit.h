/*
 * web_limit.h - sign-in attempts limited per key ("user:NAME", "addr:IP"):
 * after WEB_LIMIT_FAILS failures within WEB_LIMIT_WINDOW seconds the key is
 * refused until the oldest of them leaves the window, so the sixth wrong
 * password in a minute is refused even when it is right. The table is the
 * caller's memory, of fixed size: when every slot holds a recent failure the
 * one whose newest failure is oldest is reused. Kept in the serving process
 * (a restart forgets it). Another table may count other events at another
 * rate (web_limit_init_rate: the portal's phone enrolments). Hosted; no
 * allocation.
 */
#ifndef LEAL_WEB_LIMIT_H
#define LEAL_WEB_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define WEB_LIMIT_FAILS 5
#define WEB_LIMIT_WINDOW 60
#define WEB_LIMIT_SLOTS 512
#define WEB_LIMIT_KEY 96
/* The most events a table's limit may count (web_limit_init_rate). */
#define WEB_LIMIT_RING 10

/* The portal's phone enrolments (host/web/web_portal_spend.c): each one the
 * certifier answers counts, WEB_ENROL_PER_CUSTOMER per customer and
 * WEB_ENROL_PER_ADDR per client address within WEB_ENROL_WINDOW seconds. */
#define WEB_ENROL_PER_CUSTOMER 3
#define WEB_ENROL_PER_ADDR 10
#define WEB_ENROL_WINDOW 3600

struct web_limit_slot {
    char key[WEB_LIMIT_KEY];    /* "" : free */
    int64_t at[WEB_LIMIT_RING]; /* event times, a ring of the table's max */
    int n;                      /* events held (<= max) */
    int next;                   /* the ring's next position */
};

struct web_limit {
    int max;        /* events allowed in a window, 1..WEB_LIMIT_RING */
    int64_t window; /* seconds */
    struct web_limit_slot slot[WEB_LIMIT_SLOTS];
};

/* Empties the table: WEB_LIMIT_FAILS failures in WEB_LIMIT_WINDOW seconds. */
void web_limit_init(struct web_limit *w);
/* Empties the table: max (1..WEB_LIMIT_RING, clamped) events in window
 * seconds (> 0). */
void web_limit_init_rate(struct web_limit *w, int max, int64_t window);
/* Whether key may try again at now (fewer than the table's max events in
 * the window that ends at now). */
bool web_limit_allowed(const struct web_limit *w, const char *key, int64_t now);
/* Records a failure of key at now. */
void web_limit_fail(struct web_limit *w, const char *key, int64_t now);
/* Forgets key's failures (a user's right password, within the limit). */
void web_limit_clear(struct web_limit *w, const char *key);

#endif
