/* pcsc_bare.c - the reference of tests/bench/agent.sh: N bare APDUs
 * (DESFire SelectApplication of the card level, 90 5A 00 00 03 000000 00,
 * answered 91 00 whatever was selected before) sent to
 * the card in READER through pcsclite, from a process that does nothing else:
 * what a desk read's card exchanges cost with no leal around them.
 * Usage: pcsc_bare READER N. Exit 0 when every answer was 91 00.
 * pcsc_bare --start exits at once: the bare client's own process start and
 * exit, the part of the reference that is not pcscd's or the card's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

int main(int argc, char **argv)
{
    static const BYTE apdu[] = {0x90, 0x5A, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00};
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD proto;
    long n;
    int bad = 0;
    if (argc == 2 && strcmp(argv[1], "--start") == 0)
        return 0;
    if (argc != 3 || (n = strtol(argv[2], NULL, 10)) < 0) {
        fprintf(stderr, "usage: pcsc_bare READER N\n");
        return 2;
    }
    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
        return 1;
    if (SCardConnect(ctx, argv[1], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card,
                     &proto) != SCARD_S_SUCCESS) {
        SCardReleaseContext(ctx);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        BYTE resp[258];
        DWORD rl = sizeof resp;
        const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
        if (SCardTransmit(card, pci, apdu, sizeof apdu, NULL, resp, &rl) != SCARD_S_SUCCESS ||
            rl < 2 || resp[rl - 2] != 0x91 || resp[rl - 1] != 0x00)
            bad++;
    }
    SCardDisconnect(card, SCARD_LEAVE_CARD);
    SCardReleaseContext(ctx);
    return bad ? 1 : 0;
}
