/*
 * reader_part3.h - MIFARE Classic through PC/SC part 3 storage-card
 * pseudo-APDUs (FF 82 load key, FF 86 authenticate, FF B0 read, FF D6 write;
 * PC/SC Part 3, section 3.2.2.1) over a backend's transceive. Shared by the pcsc:
 * and sim: backends, which both speak PC/SC; its own file so that no backend
 * calls back into reader.c. Hosted.
 * Errors: the backend's transceive errors, LEAL_E_PROTOCOL (short or
 * wrong-length answer), LEAL_E_CARD_AUTHENTICATION, LEAL_E_CARD_PERMISSION_DENIED,
 * LEAL_E_CARD_STATUS, LEAL_E_ARG (key type neither A nor B).
 */
#ifndef LEAL_READER_PART3_H
#define LEAL_READER_PART3_H

#include "reader_backend.h"

LEAL_MUST_CHECK leal_err reader_part3_classic_auth(const struct reader_backend *b, void *ctx,
                                                   uint8_t block, uint8_t key_type,
                                                   const uint8_t key[6]);
LEAL_MUST_CHECK leal_err reader_part3_classic_read(const struct reader_backend *b, void *ctx,
                                                   uint8_t block, uint8_t out[16]);
LEAL_MUST_CHECK leal_err reader_part3_classic_write(const struct reader_backend *b, void *ctx,
                                                    uint8_t block, const uint8_t data[16]);

#endif
