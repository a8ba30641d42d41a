/*
 * fuzz_vpcd_frame.c - the vpcd face: a byte stream as vpcd would send it
 * (2-byte big-endian length + payload, repeated), split and answered as
 * leal-cardsim serve does, including control bytes and PC/SC pseudo-APDUs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/cardsim/vpcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cardsim *c = NULL;
    struct pcsc_face f;
    static const uint8_t uid[7] = {4, 1, 2, 3, 4, 5, 6};
    size_t off = 0;

    if (cardsim_new("desfire-ev3", uid, 7, false, &c) != LEAL_OK)
        return 0;
    pcsc_face_init(&f, c);
    while (off < size) {
        const uint8_t *msg;
        size_t len, used;
        uint8_t out[LEAL_MAX_RAPDU + 64];
        struct vpcd_reply reply = {.p = out, .cap = sizeof out};
        if (vpcd_next_message(data + off, size - off, &used, &msg, &len) != LEAL_OK)
            break;
        off += used;
        if (vpcd_handle(&f, msg, len, &reply) == LEAL_OK && reply.send && reply.len > sizeof out)
            __builtin_trap();
    }
    cardsim_free(c);
    return 0;
}
