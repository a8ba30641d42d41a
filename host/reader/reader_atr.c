/* reader_atr: the ATR a PC/SC reader builds for a contactless card, shared
 * by the libnfc and PN532 backends. Kept apart from reader.c so the backends
 * do not depend on the front end that dispatches to them. */
#include <string.h>

#include "reader_backend.h"

/* The ATR a PC/SC contactless reader would build for this card (PC/SC part 3
 * §3.1.3.2.3), so `leal card info` says the same through nfc: and pcsc:.
 * ISO 14443-4: 3B 8n 80 01 <ATS historical bytes> TCK. Storage cards:
 * 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 NN NN 00 00 00 00 TCK. */
void reader_build_atr(uint8_t sak, const uint8_t *ats, size_t ats_len, struct reader_card *info)
{
    uint8_t *atr = info->atr, tck = 0;
    size_t n = 0;
    atr[n++] = 0x3B;
    if (sak & 0x20) {
        size_t off = 1, hl;
        /* The ATS starts at T0 (TL stripped); TA, TB, TC as T0 says. */
        for (int bit = 0x10; bit <= 0x40; bit <<= 1)
            if (ats_len > 0 && (ats[0] & bit))
                off++;
        hl = ats_len > off ? ats_len - off : 0;
        if (hl > 15)
            hl = 15;
        if (hl > sizeof info->historical)
            hl = sizeof info->historical;
        memcpy(info->historical, ats + off, hl);
        info->historical_len = hl;
        atr[n++] = (uint8_t)(0x80 | hl);
        atr[n++] = 0x80;
        atr[n++] = 0x01;
        memcpy(atr + n, ats + off, hl);
        n += hl;
    } else {
        static const uint8_t storage[] = {0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0,
                                          0x00, 0x00, 0x03, 0x06, 0x03, 0x00};
        /* Card name (PC/SC part 3 supplement): 0001 Classic 1K, 0002 4K, 0003 Ultralight. */
        uint8_t name = (sak & 0x18) == 0x18 ? 0x02 : (sak & 0x08) ? 0x01 : 0x03;
        memcpy(atr + n, storage, sizeof storage);
        n += sizeof storage;
        atr[n++] = name;
        memset(atr + n, 0, 4);
        n += 4;
    }
    for (size_t i = 1; i < n; i++)
        tck ^= atr[i];
    atr[n++] = tck;
    info->atr_len = n;
}
