/* pcsc_bare.c - the reference of tests/bench/agent.sh: N bare APDUs
 * (DESFire SelectApplication of the card level, 90 5A 00 00 03 000000 00,
 * answered 91 00 whatever was selected before) sent to
 * the card in READER through pcsclite, from a process that does nothing else:
 * what a desk read's card exchanges cost with no leal around them.
 * Usage: pcsc_bare READER N. Exit 0 when every answer was 91 00.
 * pcsc_bare --start exits at once: the bare client's own process start and
 * exit, the part of the reference that is not pcscd's or the card's.
 * pcsc_bare --warm READER N: the reference of a read in `leal desk --stdio`:
 * connected once, then for each line read on stdin the N APDUs and one line
 * on stdout ("ok", or "bad" if an answer was not 91 00), until EOF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

/* The N APDUs; the number of answers that were not 91 00. */
static long send_apdus(SCARDHANDLE card, DWORD proto, long n)
{
    static const BYTE apdu[] = {0x90, 0x5A, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00};
    const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    long bad = 0;
    for (long i = 0; i < n; i++) {
        BYTE resp[258];
        DWORD rl = sizeof resp;
        if (SCardTransmit(card, pci, apdu, sizeof apdu, NULL, resp, &rl) != SCARD_S_SUCCESS ||
            rl < 2 || resp[rl - 2] != 0x91 || resp[rl - 1] != 0x00)
            bad++;
    }
    return bad;
}

int main(int argc, char **argv)
{
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD proto;
    long n, bad = 0;
    int warm = argc == 4 && strcmp(argv[1], "--warm") == 0;
    if (argc == 2 && strcmp(argv[1], "--start") == 0)
        return 0;
    if ((argc != 3 && !warm) || (n = strtol(argv[argc - 1], NULL, 10)) < 0) {
        fprintf(stderr, "usage: pcsc_bare [--warm] READER N\n");
        return 2;
    }
    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
        return 1;
    if (SCardConnect(ctx, argv[argc - 2], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                     &card, &proto) != SCARD_S_SUCCESS) {
        SCardReleaseContext(ctx);
        return 1;
    }
    if (warm) {
        char line[64];
        while (fgets(line, sizeof line, stdin) != NULL) {
            long b = send_apdus(card, proto, n);
            bad += b;
            puts(b ? "bad" : "ok");
            fflush(stdout);
        }
    } else {
        bad = send_apdus(card, proto, n);
    }
    SCardDisconnect(card, SCARD_LEAVE_CARD);
    SCardReleaseContext(ctx);
    return bad ? 1 : 0;
}
