/* terminal_time.c - an LD_PRELOAD timer for tests/bench/terminal_pcsc.sh: the
 * window of one card's tap in a process, from its first SCardConnect (the
 * card is there) to the process's exit, with the number of SCardTransmit
 * calls (every APDU sent through pcscd) and the time spent inside them.
 * Preloaded alike into leal-terminal tap and the bare client
 * (tests/bench/pcsc_bare.c), so both are timed over the same window. On exit
 * it writes "EXCHANGES WINDOW_US TRANSMIT_US AFTER_US SYNC_US" to
 * TERMINAL_TIME_FILE (AFTER: from the last answer to the exit; SYNC: inside
 * fsync and fdatasync within the window, the journal's durable appends).
 * A process that ends with _exit() (leal-terminal does, after its command
 * closed everything) is timed to that call, one that returns from main to
 * the end of its exit handlers and destructors (this one's runs late: it
 * was loaded first). */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <winscard.h>

typedef LONG (*connect_fn)(SCARDCONTEXT, LPCSTR, DWORD, DWORD, LPSCARDHANDLE, LPDWORD);
typedef LONG (*transmit_fn)(SCARDHANDLE, const SCARD_IO_REQUEST *, LPCBYTE, DWORD,
                            SCARD_IO_REQUEST *, LPBYTE, LPDWORD);

static long long first_connect, in_transmit, last_answer, in_sync;
static int reported;
static unsigned long transmits;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

LONG SCardConnect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD protocols, LPSCARDHANDLE card,
                  LPDWORD active)
{
    static connect_fn real;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "SCardConnect");
    if (real == NULL)
        return SCARD_E_NO_SERVICE;
    if (first_connect == 0)
        first_connect = now_us();
    return real(ctx, reader, share, protocols, card, active);
}

LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST *send_pci, LPCBYTE send, DWORD send_len,
                   SCARD_IO_REQUEST *recv_pci, LPBYTE recv, LPDWORD recv_len)
{
    static transmit_fn real;
    long long t0;
    LONG rv;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "SCardTransmit");
    if (real == NULL)
        return SCARD_E_NO_SERVICE;
    t0 = now_us();
    rv = real(card, send_pci, send, send_len, recv_pci, recv, recv_len);
    last_answer = now_us();
    in_transmit += last_answer - t0;
    transmits++;
    return rv;
}

typedef int (*sync_fn)(int);

static int timed_sync(const char *name, sync_fn *real, int fd)
{
    long long t0;
    int rc;
    if (*real == NULL)
        *(void **)real = dlsym(RTLD_NEXT, name);
    if (*real == NULL)
        return -1;
    t0 = now_us();
    rc = (*real)(fd);
    if (first_connect != 0)
        in_sync += now_us() - t0;
    return rc;
}

int fsync(int fd)
{
    static sync_fn real;
    return timed_sync("fsync", &real, fd);
}

int fdatasync(int fd)
{
    static sync_fn real;
    return timed_sync("fdatasync", &real, fd);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("TERMINAL_TIME_FILE");
    FILE *f;
    if (reported++ || path == NULL || first_connect == 0 || (f = fopen(path, "w")) == NULL)
        return;
    long long end = now_us();
    fprintf(f, "%lu %lld %lld %lld %lld\n", transmits, end - first_connect, in_transmit,
            last_answer ? end - last_answer : 0, in_sync);
    fclose(f);
}

typedef void (*exit_fn)(int);

void _exit(int status)
{
    static exit_fn real;
    report();
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "_exit");
    if (real != NULL)
        real(status);
    abort(); /* not reached: _exit does not return */
}
