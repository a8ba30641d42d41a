/*
 * web_limit.c - sign-in attempts limited per key (see web_limit.h).
 */
#include "web_limit.h"

#include <stdio.h>
#include <string.h>

void web_limit_init_rate(struct web_limit *w, int max, int64_t window)
{
    memset(w, 0, sizeof *w);
    w->max = max < 1 ? 1 : max > WEB_LIMIT_RING ? WEB_LIMIT_RING : max;
    w->window = window > 0 ? window : 1;
}

void web_limit_init(struct web_limit *w)
{
    web_limit_init_rate(w, WEB_LIMIT_FAILS, WEB_LIMIT_WINDOW);
}

static const struct web_limit_slot *find(const struct web_limit *w, const char *key)
{
    for (int i = 0; i < WEB_LIMIT_SLOTS; i++)
        if (w->slot[i].key[0] && strncmp(w->slot[i].key, key, WEB_LIMIT_KEY - 1) == 0)
            return &w->slot[i];
    return NULL;
}

static int recent(const struct web_limit *w, const struct web_limit_slot *s, int64_t now)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (s->at[i] > now - w->window)
            n++;
    return n;
}

static int64_t newest(const struct web_limit_slot *s)
{
    int64_t t = 0;
    for (int i = 0; i < s->n; i++)
        if (s->at[i] > t)
            t = s->at[i];
    return t;
}

bool web_limit_allowed(const struct web_limit *w, const char *key, int64_t now)
{
    const struct web_limit_slot *s = find(w, key);
    return s == NULL || recent(w, s, now) < w->max;
}

/* A free slot, one whose failures have all left the window, or the stalest. */
static struct web_limit_slot *take(struct web_limit *w, int64_t now)
{
    struct web_limit_slot *stalest = &w->slot[0];
    for (int i = 0; i < WEB_LIMIT_SLOTS; i++) {
        struct web_limit_slot *s = &w->slot[i];
        if (s->key[0] == '\0' || recent(w, s, now) == 0)
            return s;
        if (newest(s) < newest(stalest))
            stalest = s;
    }
    return stalest;
}

void web_limit_fail(struct web_limit *w, const char *key, int64_t now)
{
    struct web_limit_slot *s = (struct web_limit_slot *)find(w, key);
    if (s == NULL) {
        s = take(w, now);
        memset(s, 0, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", key);
    }
    s->at[s->next] = now;
    s->next = (s->next + 1) % w->max;
    if (s->n < w->max)
        s->n++;
}

void web_limit_clear(struct web_limit *w, const char *key)
{
    struct web_limit_slot *s = (struct web_limit_slot *)find(w, key);
    if (s)
        memset(s, 0, sizeof *s);
}
