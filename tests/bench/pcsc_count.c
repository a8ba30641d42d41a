/* pcsc_count.c - an LD_PRELOAD counter for tests/bench/agent.sh: counts the
 * SCardTransmit calls of a process (every APDU it sends through pcscd) and
 * writes the count to the file named by PCSC_COUNT_FILE when it exits, so the
 * reference sends exactly as many APDUs as the desk read did. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <winscard.h>

typedef LONG (*transmit_fn)(SCARDHANDLE, const SCARD_IO_REQUEST *, LPCBYTE, DWORD,
                            SCARD_IO_REQUEST *, LPBYTE, LPDWORD);

static unsigned long transmits;

LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST *send_pci, LPCBYTE send, DWORD send_len,
                   SCARD_IO_REQUEST *recv_pci, LPBYTE recv, LPDWORD recv_len)
{
    static transmit_fn real;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "SCardTransmit");
    if (real == NULL)
        return SCARD_E_NO_SERVICE;
    transmits++;
    return real(card, send_pci, send, send_len, recv_pci, recv, recv_len);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("PCSC_COUNT_FILE");
    FILE *f;
    if (path == NULL || (f = fopen(path, "w")) == NULL)
        return;
    fprintf(f, "%lu\n", transmits);
    fclose(f);
}
