/*
 * qr_image.h - a QR token's text drawn as a QR symbol and read back from a
 * picture. Drawing: libqrencode at error-correction level M (QR.md states
 * the version per token kind), a 4-module quiet zone, as PNG (libpng, 8
 * pixels a module, 8-bit grey), SVG (one path, a unit a module), PDF (one
 * page of filled rectangles, written here: PDF 1.4, no library) or text
 * for a terminal (Unicode half blocks, two module rows a line, white on
 * black set explicitly so the terminal's colours do not invert it). Files
 * are written atomically (host/file.h). Reading: a PNG (any colour type
 * libpng reads) or a JPEG (libjpeg, baseline or progressive, in grey)
 * through libzbar, QR symbols only; at most 16384 pixels a side and 40
 * megapixels. Hosted.
 * Errors: LEAL_E_TOO_LARGE (text over a QR symbol's room), LEAL_E_NO_MEMORY,
 * LEAL_E_FORMAT (not a PNG or JPEG leal can read), LEAL_E_NOT_FOUND (no QR symbol
 * in the picture), LEAL_E_NO_SPACE (the caller's text buffer), the file's.
 */
#ifndef LEAL_QR_IMAGE_H
#define LEAL_QR_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keys/base/err.h"

enum qr_image_kind {
    QR_IMAGE_PNG = 1,
    QR_IMAGE_SVG = 2,
    QR_IMAGE_PDF = 3,
};

struct qr_image_size {
    int version; /* QR version 1..40 */
    int modules; /* modules a side, without the quiet zone */
};

#define QR_IMAGE_QUIET 4 /* modules of light margin on each side */
#define QR_IMAGE_PNG_SCALE 8
#define QR_IMAGE_PIXELS_MAX (40ul << 20) /* a picture read: a 40-megapixel photo at most */
#define QR_IMAGE_PDF_POINTS 4            /* 1.41 mm a module: 69 mm for a static code */

/* The kind a file name asks for (".png", ".svg", ".pdf", any case); 0 if none. */
enum qr_image_kind qr_image_kind_of(const char *path);

/* Draws text into path as kind; *size says how large the symbol came out. */
LEAL_MUST_CHECK leal_err qr_image_write(const char *text, enum qr_image_kind kind, const char *path,
                                        struct qr_image_size *size);

/* Draws text as kind into memory: *out (malloc'd, the caller frees it, with
 * a NUL after its *len bytes for an SVG's text). What a server sends. */
LEAL_MUST_CHECK leal_err qr_image_bytes(const char *text, enum qr_image_kind kind, uint8_t **out,
                                        size_t *len, struct qr_image_size *size);

/* Draws text on f with half blocks (ANSI colours, one line per two rows). */
LEAL_MUST_CHECK leal_err qr_image_terminal(const char *text, FILE *f, struct qr_image_size *size);

/* The first QR symbol's text in the picture at path (a PNG or a JPEG, told
 * apart by their first bytes), with a NUL; *len bytes. */
LEAL_MUST_CHECK leal_err qr_image_decode(const char *path, char *text, size_t cap, size_t *len);
/* The same from n bytes of a picture in memory, of at most max_pixels
 * (qr_image_decode: QR_IMAGE_PIXELS_MAX; the fuzz target asks less, so that
 * a made-up header costs it no 40 MB scan). */
LEAL_MUST_CHECK leal_err qr_image_decode_bytes(const uint8_t *data, size_t n,
                                               unsigned long max_pixels, char *text, size_t cap,
                                               size_t *len);

#endif
