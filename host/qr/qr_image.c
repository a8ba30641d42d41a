/* qr_image.c - QR symbols drawn with libqrencode, read with libzbar. */
#include "qr_image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <png.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zbar.h>

#include <jpeglib.h>

#include "host/file.h"
#include "host/strbuf.h"

enum qr_image_kind qr_image_kind_of(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (n > 4 && strcasecmp(path + n - 4, ".png") == 0)
        return QR_IMAGE_PNG;
    if (n > 4 && strcasecmp(path + n - 4, ".svg") == 0)
        return QR_IMAGE_SVG;
    if (n > 4 && strcasecmp(path + n - 4, ".pdf") == 0)
        return QR_IMAGE_PDF;
    return 0;
}

static leal_err encode(const char *text, QRcode **q, struct qr_image_size *size)
{
    /* The 8-bit hint with case kept: libqrencode still takes alphanumeric mode
     * for the runs that fit it (all of a token's text) and never folds case. */
    errno = 0;
    *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (*q == NULL)
        return errno == ERANGE ? LEAL_E_TOO_LARGE : LEAL_E_NO_MEMORY;
    size->version = (*q)->version;
    size->modules = (*q)->width;
    return LEAL_OK;
}

/* Whether module (x, y) of the symbol with its quiet zone is dark. */
static int dark(const QRcode *q, int x, int y)
{
    x -= QR_IMAGE_QUIET;
    y -= QR_IMAGE_QUIET;
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return 0;
    return q->data[(size_t)y * (size_t)q->width + (size_t)x] & 1;
}

static void png_to_mem(png_structp png, png_bytep data, png_size_t n)
{
    strbuf_add(png_get_io_ptr(png), data, n);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

static leal_err png_bytes(const QRcode *q, struct strbuf *m)
{
    int side = (q->width + 2 * QR_IMAGE_QUIET) * QR_IMAGE_PNG_SCALE;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep row = malloc((size_t)side);
    leal_err err = LEAL_E_NO_MEMORY;
    if (png == NULL || info == NULL || row == NULL)
        goto out;
    if (setjmp(png_jmpbuf(png))) {
        err = LEAL_E_NO_MEMORY;
        goto out;
    }
    png_set_write_fn(png, m, png_to_mem, png_flush_none);
    png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++)
            row[x] = dark(q, x / QR_IMAGE_PNG_SCALE, y / QR_IMAGE_PNG_SCALE) ? 0 : 255;
        png_write_row(png, row);
    }
    png_write_end(png, info);
    err = strbuf_err(m);
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(row);
    return err;
}

static leal_err svg_bytes(const QRcode *q, struct strbuf *m)
{
    int side = q->width + 2 * QR_IMAGE_QUIET;
    strbuf_printf(m,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/"
                  "svg\" ");
    strbuf_printf(m, "width=\"%dmm\" height=\"%dmm\" viewBox=\"0 0 %d %d\" ", side, side, side,
                  side);
    strbuf_printf(m, "shape-rendering=\"crispEdges\">\n");
    strbuf_printf(m, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
                  side, side);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side;) {
            int run = 0;
            while (x + run < side && dark(q, x + run, y))
                run++;
            if (run > 0)
                strbuf_printf(m, "M%d %dh%dv1h-%dz", x, y, run, run);
            x += run > 0 ? run : 1;
        }
    strbuf_printf(m, "\"/>\n</svg>\n");
    return strbuf_err(m);
}

/* One page, the symbol as filled rectangles (a run of dark modules each),
 * QR_IMAGE_PDF_POINTS a module, y upwards as PDF has it. */
static leal_err pdf_bytes(const QRcode *q, struct strbuf *m)
{
    int side = q->width + 2 * QR_IMAGE_QUIET, page = side * QR_IMAGE_PDF_POINTS;
    leal_err err;
    struct strbuf content = {0};
    size_t off[5];
    strbuf_printf(&content, "%d 0 0 %d 0 0 cm 0 g\n", QR_IMAGE_PDF_POINTS, QR_IMAGE_PDF_POINTS);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side;) {
            int run = 0;
            while (x + run < side && dark(q, x + run, y))
                run++;
            if (run > 0)
                strbuf_printf(&content, "%d %d %d 1 re\n", x, side - 1 - y, run);
            x += run > 0 ? run : 1;
        }
    strbuf_printf(&content, "f\n");
    strbuf_printf(m, "%%PDF-1.4\n");
    off[1] = m->len;
    strbuf_printf(m, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = m->len;
    strbuf_printf(m, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    off[3] = m->len;
    strbuf_printf(m, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] ", page, page);
    strbuf_printf(m, "/Contents 4 0 R /Resources << >> >>\nendobj\n");
    off[4] = m->len;
    strbuf_printf(m, "4 0 obj\n<< /Length %zu >>\nstream\n", content.len);
    strbuf_add(m, content.p, content.len);
    strbuf_printf(m, "endstream\nendobj\n");
    size_t xref = m->len;
    strbuf_printf(m, "xref\n0 5\n0000000000 65535 f \n");
    for (int i = 1; i < 5; i++)
        strbuf_printf(m, "%010zu 00000 n \n", off[i]);
    strbuf_printf(m, "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
    err = strbuf_err(&content) != LEAL_OK ? strbuf_err(&content) : strbuf_err(m);
    strbuf_free(&content);
    return err;
}

leal_err qr_image_bytes(const char *text, enum qr_image_kind kind, uint8_t **out, size_t *len,
                        struct qr_image_size *size)
{
    QRcode *q = NULL;
    struct strbuf m = {0};
    leal_err err;
    if (text == NULL || out == NULL || len == NULL || size == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    *len = 0;
    if (kind != QR_IMAGE_PNG && kind != QR_IMAGE_SVG && kind != QR_IMAGE_PDF)
        return LEAL_E_ARG;
    if ((err = encode(text, &q, size)) != LEAL_OK)
        return err;
    err = kind == QR_IMAGE_PNG   ? png_bytes(q, &m)
          : kind == QR_IMAGE_SVG ? svg_bytes(q, &m)
                                 : pdf_bytes(q, &m);
    strbuf_add(&m, NULL, 0); /* a NUL after the bytes, not counted */
    QRcode_free(q);
    if (err == LEAL_OK)
        err = strbuf_err(&m);
    if (err != LEAL_OK) {
        strbuf_free(&m);
        return err;
    }
    *out = (uint8_t *)m.p;
    *len = m.len;
    return LEAL_OK;
}

leal_err qr_image_write(const char *text, enum qr_image_kind kind, const char *path,
                        struct qr_image_size *size)
{
    uint8_t *p;
    size_t n;
    leal_err err;
    if (path == NULL)
        return LEAL_E_ARG;
    if ((err = qr_image_bytes(text, kind, &p, &n, size)) != LEAL_OK)
        return err;
    err = file_write_atomic(path, p, n, 0644);
    free(p);
    return err;
}

leal_err qr_image_terminal(const char *text, FILE *f, struct qr_image_size *size)
{
    /* Light modules are drawn (white foreground) on a black background:
     * upper half, lower half, full block or a space for each pair of rows. */
    static const char *const cell[4] = {" ", "\xE2\x96\x80", "\xE2\x96\x84", "\xE2\x96\x88"};
    QRcode *q = NULL;
    leal_err err;
    if (text == NULL || f == NULL || size == NULL)
        return LEAL_E_ARG;
    if ((err = encode(text, &q, size)) != LEAL_OK)
        return err;
    int side = q->width + 2 * QR_IMAGE_QUIET;
    for (int y = 0; y < side; y += 2) {
        fputs("\x1b[40;97m", f);
        for (int x = 0; x < side; x++) {
            int top = !dark(q, x, y), bottom = y + 1 < side && !dark(q, x, y + 1);
            fputs(cell[top | bottom << 1], f);
        }
        fputs("\x1b[0m\n", f);
    }
    QRcode_free(q);
    return ferror(f) ? LEAL_E_IO : LEAL_OK;
}

/* A picture of a code is never this large; the caps keep a hostile file small. */
#define IMAGE_FILE_MAX (64u << 20)
#define IMAGE_SIDE_MAX 16384u

static bool size_ok(unsigned long w, unsigned long h, unsigned long max_pixels)
{
    return w > 0 && h > 0 && w <= IMAGE_SIDE_MAX && h <= IMAGE_SIDE_MAX && w * h <= max_pixels;
}

static leal_err gray_png(const uint8_t *data, size_t len, unsigned long max_pixels,
                         uint8_t **pixels, unsigned *w, unsigned *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return LEAL_E_FORMAT;
    img.format = PNG_FORMAT_GRAY;
    if (!size_ok(img.width, img.height, max_pixels)) {
        png_image_free(&img);
        return LEAL_E_FORMAT;
    }
    *pixels = malloc(PNG_IMAGE_SIZE(img));
    if (*pixels == NULL) {
        png_image_free(&img);
        return LEAL_E_NO_MEMORY;
    }
    /* Transparent pixels over white, as a viewer shows them. */
    png_color white = {255, 255, 255};
    if (!png_image_finish_read(&img, &white, *pixels, 0, NULL)) {
        free(*pixels);
        *pixels = NULL;
        return LEAL_E_FORMAT;
    }
    *w = img.width;
    *h = img.height;
    return LEAL_OK;
}

/* libjpeg reports a fatal error by calling error_exit, which must not return. */
struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
};

static void jpeg_fail_exit(j_common_ptr c)
{
    longjmp(((struct jpeg_fail *)(void *)c->err)->back, 1);
}

static void jpeg_quiet(j_common_ptr c)
{
    (void)c; /* a damaged photo's warnings are not the caller's output */
}

/* The JPEG's pixels in grey (libjpeg converts colour to luminance). */
static leal_err gray_jpeg(const uint8_t *data, size_t len, unsigned long max_pixels,
                          uint8_t **pixels, unsigned *w, unsigned *h)
{
    struct jpeg_decompress_struct ci;
    struct jpeg_fail fail;
    uint8_t *volatile out = NULL;
    volatile leal_err err = LEAL_E_FORMAT;
    ci.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_fail_exit;
    fail.mgr.output_message = jpeg_quiet;
    if (setjmp(fail.back) == 0) {
        jpeg_create_decompress(&ci);
        jpeg_mem_src(&ci, data, (unsigned long)len);
        if (jpeg_read_header(&ci, TRUE) == JPEG_HEADER_OK &&
            size_ok(ci.image_width, ci.image_height, max_pixels)) {
            ci.out_color_space = JCS_GRAYSCALE;
            jpeg_start_decompress(&ci);
            out = ci.output_components == 1 ? malloc((size_t)ci.output_width * ci.output_height)
                                            : NULL;
            err = out == NULL && ci.output_components == 1 ? LEAL_E_NO_MEMORY : err;
            while (out != NULL && ci.output_scanline < ci.output_height) {
                JSAMPROW row = out + (size_t)ci.output_scanline * ci.output_width;
                if (jpeg_read_scanlines(&ci, &row, 1) != 1)
                    break;
            }
            if (out != NULL && ci.output_scanline == ci.output_height) {
                *w = ci.output_width;
                *h = ci.output_height;
                jpeg_finish_decompress(&ci);
                err = LEAL_OK;
            }
        }
    }
    jpeg_destroy_decompress(&ci);
    if (err != LEAL_OK) {
        free(out);
        return err;
    }
    *pixels = out;
    return LEAL_OK;
}

static leal_err scan(const uint8_t *pixels, unsigned w, unsigned h, char *text, size_t cap,
                     size_t *len)
{
    zbar_image_scanner_t *s = zbar_image_scanner_create();
    zbar_image_t *img = zbar_image_create();
    leal_err err = LEAL_E_NO_MEMORY;
    if (s != NULL && img != NULL) {
        zbar_image_scanner_set_config(s, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
        zbar_image_scanner_set_config(s, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
        zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
        zbar_image_set_size(img, w, h);
        zbar_image_set_data(img, pixels, (unsigned long)w * h, NULL);
        err = LEAL_E_NOT_FOUND;
        if (zbar_scan_image(s, img) > 0) {
            const zbar_symbol_t *sym = zbar_image_first_symbol(img);
            unsigned n = zbar_symbol_get_data_length(sym);
            err = LEAL_E_NO_SPACE;
            if (n < cap) {
                memcpy(text, zbar_symbol_get_data(sym), n);
                text[n] = '\0';
                *len = n;
                err = LEAL_OK;
            }
        }
    }
    if (img != NULL)
        zbar_image_destroy(img);
    if (s != NULL)
        zbar_image_scanner_destroy(s);
    return err;
}

leal_err qr_image_decode_bytes(const uint8_t *data, size_t n, unsigned long max_pixels, char *text,
                               size_t cap, size_t *len)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    static const uint8_t jpeg_magic[3] = {0xFF, 0xD8, 0xFF};
    uint8_t *pixels = NULL;
    unsigned w = 0, h = 0;
    leal_err err;
    if (data == NULL || text == NULL || len == NULL || cap == 0)
        return LEAL_E_ARG;
    if (n >= sizeof png_magic && memcmp(data, png_magic, sizeof png_magic) == 0)
        err = gray_png(data, n, max_pixels, &pixels, &w, &h);
    else if (n >= sizeof jpeg_magic && memcmp(data, jpeg_magic, sizeof jpeg_magic) == 0)
        err = gray_jpeg(data, n, max_pixels, &pixels, &w, &h);
    else
        err = LEAL_E_FORMAT;
    if (err == LEAL_OK)
        err = scan(pixels, w, h, text, cap, len);
    free(pixels);
    return err;
}

leal_err qr_image_decode(const char *path, char *text, size_t cap, size_t *len)
{
    uint8_t *data = NULL;
    size_t n;
    leal_err err;
    if (path == NULL || text == NULL || len == NULL || cap == 0)
        return LEAL_E_ARG;
    if ((err = file_read(path, IMAGE_FILE_MAX, &data, &n)) != LEAL_OK)
        return err;
    err = qr_image_decode_bytes(data, n, QR_IMAGE_PIXELS_MAX, text, cap, len);
    free(data);
    return err;
}
