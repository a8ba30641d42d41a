/*
 * reader_pn532.c - the `pn532:DEVICE` reader backend: a PN532 in HSU mode on
 * a serial device (a USB-serial adapter, or the pseudo-terminal of
 * `leal-cardsim serve --pn532`), driven by leal's freestanding PN532 driver
 * (firmware/core/pn532.h) instead of libnfc: the same driver a board port
 * uses over its UART. This file is the driver's POSIX byte-stream port
 * (termios raw 115200 8N1, poll for the timeouts) and the reader-layer glue.
 * Hosted; heap object.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "firmware/core/pn532.h"
#include "host/log/log.h"
#include "reader_backend.h"

struct pn532_backend {
    int fd;
    struct pn532_port port;
    struct pn532 dev;
    struct pn532_target target;
    struct card_reader door;
};

static leal_err serial_write(void *ctx, const uint8_t *p, size_t n)
{
    struct pn532_backend *b = ctx;
    while (n > 0) {
        ssize_t w = write(b->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return log_foreign(LEAL_E_READER, "serial", "write", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return LEAL_OK;
}

static leal_err serial_read(void *ctx, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms)
{
    struct pn532_backend *b = ctx;
    struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
    ssize_t r;
    int res;
    *n = 0;
    do
        res = poll(&pfd, 1, (int)timeout_ms);
    while (res < 0 && errno == EINTR);
    if (res < 0)
        return log_foreign(LEAL_E_READER, "serial", "poll", strerror(errno));
    if (res == 0)
        return LEAL_E_TIMEOUT;
    if ((r = read(b->fd, p, cap)) < 0 && errno != EAGAIN && errno != EINTR)
        return log_foreign(LEAL_E_READER, "serial", "read", strerror(errno));
    if (r <= 0)
        return pfd.revents & POLLHUP ? LEAL_E_NO_READER : LEAL_E_TIMEOUT;
    *n = (size_t)r;
    return LEAL_OK;
}

/* The PN532's HSU default: 115200 baud, 8N1, raw. */
static leal_err serial_open(const char *path, int *fd)
{
    struct termios t;
    *fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0)
        return log_foreign(LEAL_E_NO_READER, "serial", path, strerror(errno));
    if (tcgetattr(*fd, &t) != 0) {
        close(*fd);
        return log_foreign(LEAL_E_NO_READER, "serial", path, "not a serial line");
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    if (tcsetattr(*fd, TCSANOW, &t) != 0) {
        close(*fd);
        return log_foreign(LEAL_E_NO_READER, "serial", path, strerror(errno));
    }
    (void)tcflush(*fd, TCIOFLUSH);
    return LEAL_OK;
}

static leal_err b_list(struct reader_entry *out, size_t cap, size_t *n)
{
    /* A serial line cannot be probed without writing to it: none listed. */
    (void)out;
    (void)cap;
    (void)n;
    return LEAL_OK;
}

static void b_close(void *ctx)
{
    struct pn532_backend *b = ctx;
    if (b == NULL)
        return;
    pn532_release(&b->dev);
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

static leal_err b_open(const char *arg, void **ctx, char *name, size_t name_cap, bool *is_virtual)
{
    struct pn532_backend *b;
    leal_err err;
    if (arg == NULL || *arg == '\0')
        return LEAL_E_USAGE; /* a serial device must be named: pn532:/dev/ttyUSB0 */
    if ((b = calloc(1, sizeof *b)) == NULL)
        return LEAL_E_NO_MEMORY;
    b->fd = -1;
    if ((err = serial_open(arg, &b->fd)) != LEAL_OK) {
        free(b);
        return err;
    }
    b->port = (struct pn532_port){b, serial_write, serial_read};
    pn532_init(&b->dev, &b->port);
    if ((err = pn532_begin(&b->dev, NULL)) != LEAL_OK) {
        b_close(b);
        return err == LEAL_E_READER || err == LEAL_E_TIMEOUT ? LEAL_E_NO_READER : err;
    }
    pn532_card_reader(&b->dev, &b->door);
    snprintf(name, name_cap, "pn532:%s", arg);
    *is_virtual = false; /* a local serial device, like nfc:pn532_uart */
    *ctx = b;
    return LEAL_OK;
}

static leal_err b_wait_card(void *ctx, unsigned timeout_ms)
{
    struct pn532_backend *b = ctx;
    unsigned waited = 0;
    for (;;) {
        leal_err err = pn532_select(&b->dev, &b->target);
        if (err != LEAL_E_NO_CARD)
            return err;
        if (waited >= timeout_ms)
            return LEAL_E_NO_CARD;
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
        waited += 100;
    }
}

static leal_err b_card_info(void *ctx, struct reader_card *info)
{
    struct pn532_backend *b = ctx;
    const struct pn532_target *t = &b->target;
    if (!b->dev.selected)
        return LEAL_E_NO_CARD;
    memset(info, 0, sizeof *info);
    memcpy(info->uid, t->uid, t->uid_len);
    info->uid_len = t->uid_len;
    /* The driver keeps the ATS with its TL byte. */
    reader_build_atr(t->sak, t->ats_len > 0 ? t->ats + 1 : t->ats,
                     t->ats_len > 0 ? t->ats_len - 1 : 0, info);
    return LEAL_OK;
}

static leal_err b_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                             size_t resp_cap, size_t *resp_len)
{
    struct pn532_backend *b = ctx;
    return b->door.transceive(b->door.ctx, cmd, cmd_len, resp, resp_cap, resp_len);
}

static leal_err b_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    struct pn532_backend *b = ctx;
    return b->door.classic_auth(b->door.ctx, block, key_type, key);
}

static leal_err b_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    struct pn532_backend *b = ctx;
    return b->door.classic_read(b->door.ctx, block, out);
}

static leal_err b_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct pn532_backend *b = ctx;
    return b->door.classic_write(b->door.ctx, block, data);
}

static void b_release(void *ctx)
{
    pn532_release(&((struct pn532_backend *)ctx)->dev);
}

const struct reader_backend reader_pn532_backend = {
    .scheme = "pn532",
    .list = b_list,
    .open = b_open,
    .wait_card = b_wait_card,
    .card_info = b_card_info,
    .transceive = b_transceive,
    .classic_auth = b_classic_auth,
    .classic_read = b_classic_read,
    .classic_write = b_classic_write,
    .release = b_release,
    .close = b_close,
};
