/* pcsc_time.c - an LD_PRELOAD timer for tests/bench/agent.sh: where a
 * long-running client's answer to a line on stdin goes. A request starts
 * when fgets returns a line from stdin and ends when the answer is flushed
 * (fflush(stdout)); inside it, the time in SCardTransmit (the exchanges:
 * pcscd, vpcd and the card) and the time between them (the client's own
 * work: before the first exchange, between exchanges, after the last). When
 * the process exits it writes to PCSC_TIME_FILE, over the requests with the
 * most common number of exchanges after the first SKIP (warm-up):
 *   requests N exchanges K
 *   own MEDIAN_US           the client's own work per request
 *   exchanges MEDIAN_US     the time in SCardTransmit per request
 *   before MEDIAN_US        own work before the first exchange
 *   after MEDIAN_US         own work after the last exchange
 * Medians in microseconds with one decimal. Single-threaded clients only. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#define MAX_REQUESTS 4096
#define SKIP 20

struct request {
    long long own, exchanges, before, after;
    int n; /* exchanges */
};

static struct request req[MAX_REQUESTS];
static int nreq;
static int open_req;   /* a request is running */
static long long mark; /* start of the request, or end of the last exchange */

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

typedef char *(*fgets_fn)(char *, int, FILE *);
typedef int (*fflush_fn)(FILE *);
typedef LONG (*transmit_fn)(SCARDHANDLE, const SCARD_IO_REQUEST *, LPCBYTE, DWORD,
                            SCARD_IO_REQUEST *, LPBYTE, LPDWORD);

char *fgets(char *s, int size, FILE *stream)
{
    static fgets_fn real;
    char *r;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "fgets");
    r = real(s, size, stream);
    if (r != NULL && stream == stdin && nreq < MAX_REQUESTS) {
        memset(&req[nreq], 0, sizeof req[nreq]);
        open_req = 1;
        mark = now_ns();
    }
    return r;
}

int fflush(FILE *stream)
{
    static fflush_fn real;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "fflush");
    if (stream == stdout && open_req) {
        struct request *q = &req[nreq++];
        q->after = now_ns() - mark;
        q->own += q->after;
        if (q->n == 0) {
            q->before = q->after;
            q->after = 0;
        }
        open_req = 0;
    }
    return real(stream);
}

LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST *send_pci, LPCBYTE send, DWORD send_len,
                   SCARD_IO_REQUEST *recv_pci, LPBYTE recv, LPDWORD recv_len)
{
    static transmit_fn real;
    long long t0, t1;
    LONG rv;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "SCardTransmit");
    if (real == NULL)
        return SCARD_E_NO_SERVICE;
    t0 = now_ns();
    rv = real(card, send_pci, send, send_len, recv_pci, recv, recv_len);
    t1 = now_ns();
    if (open_req) {
        struct request *q = &req[nreq];
        q->own += t0 - mark;
        if (q->n == 0)
            q->before = t0 - mark;
        q->exchanges += t1 - t0;
        q->n++;
        mark = t1;
    }
    return rv;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* The median of field (an offset into struct request) over requests with k exchanges. */
static double median_us(size_t field, int k)
{
    static long long v[MAX_REQUESTS];
    int m = 0;
    for (int i = SKIP; i < nreq; i++)
        if (req[i].n == k)
            v[m++] = *(const long long *)(const void *)((const char *)&req[i] + field);
    if (m == 0)
        return 0;
    qsort(v, (size_t)m, sizeof v[0], cmp_ll);
    return (double)v[m / 2] / 1000.0;
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("PCSC_TIME_FILE");
    int best = 0, best_count = 0;
    FILE *f;
    if (path == NULL || (f = fopen(path, "w")) == NULL)
        return;
    for (int i = SKIP; i < nreq; i++) {
        int c = 0;
        for (int j = SKIP; j < nreq; j++)
            c += req[j].n == req[i].n;
        if (c > best_count) {
            best = req[i].n;
            best_count = c;
        }
    }
    fprintf(f, "requests %d exchanges %d\n", best_count, best);
    fprintf(f, "own %.1f\n", median_us(offsetof(struct request, own), best));
    fprintf(f, "exchanges %.1f\n", median_us(offsetof(struct request, exchanges), best));
    fprintf(f, "before %.1f\n", median_us(offsetof(struct request, before), best));
    fprintf(f, "after %.1f\n", median_us(offsetof(struct request, after), best));
    fclose(f);
}
