/* vpcd.c - the vpcd socket protocol (see vpcd.h). */
#include "vpcd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keys/base/bytes.h"

/* vpcd sends a message's 2-byte length and its payload as two segments; the
 * payload waits (Nagle on vpcd's side) until the length is acknowledged, and
 * Linux delays that ACK by about 40 ms: every APDU paid it. TCP_QUICKACK
 * acknowledges at once, but the kernel clears it again, so it is set after
 * every read. Best effort: on a socket without it nothing is lost but time. */
static void quickack(int fd)
{
#ifdef TCP_QUICKACK
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)fd;
#endif
}

leal_err vpcd_handle(struct pcsc_face *f, const uint8_t *msg, size_t len, struct vpcd_reply *reply)
{
    leal_err err;
    reply->len = 0;
    reply->send = false;
    if (len == 0)
        return LEAL_E_FORMAT;
    if (len == 1) {
        switch (msg[0]) {
        case VPCD_CTRL_OFF:
            pcsc_face_power_off(f);
            return LEAL_OK;
        case VPCD_CTRL_ON:
            return cardsim_active(f->card) ? LEAL_OK : pcsc_face_power_on(f);
        case VPCD_CTRL_RESET:
            pcsc_face_power_off(f);
            return pcsc_face_power_on(f);
        case VPCD_CTRL_ATR:
            /* Asked also as a presence poll, before power-on: a reader learns
             * the ATR by activating the card. */
            if (!cardsim_active(f->card) && (err = pcsc_face_power_on(f)) != LEAL_OK)
                return err;
            reply->send = true;
            return pcsc_face_atr(f, reply->p, reply->cap, &reply->len);
        default:
            return LEAL_E_FORMAT;
        }
    }
    reply->send = true;
    if (!cardsim_active(f->card)) {
        /* An APDU to an unpowered card: "no precise diagnosis". */
        if (reply->cap < 2)
            return LEAL_E_NO_SPACE;
        reply->p[0] = 0x6F;
        reply->p[1] = 0x00;
        reply->len = 2;
        return LEAL_OK;
    }
    err = pcsc_face_apdu(f, msg, len, reply->p, reply->cap, &reply->len);
    if (err != LEAL_OK)
        reply->send = false;
    return err;
}

leal_err vpcd_next_message(const uint8_t *stream, size_t len, size_t *consumed,
                           const uint8_t **payload, size_t *payload_len)
{
    size_t n;
    if (len < 2)
        return LEAL_E_TRUNCATED;
    n = load_be16(stream);
    if (len - 2 < n)
        return LEAL_E_TRUNCATED;
    *payload = stream + 2;
    *payload_len = n;
    *consumed = 2 + n;
    return LEAL_OK;
}

leal_err vpcd_connect(const char *host, uint16_t port, int *fd)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[8];
    leal_err err = LEAL_E_NO_READER;
    int s = -1;

    *fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    if (getaddrinfo(host ? host : "localhost", portstr, &hints, &res) != 0)
        return LEAL_E_NO_READER;
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0)
            continue;
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            /* Our replies go in one send() each (length and payload
             * together), without Nagle's wait; quick ACKs for vpcd's
             * split messages are asked after every read (read_full). */
            (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            quickack(s);
            *fd = s;
            err = LEAL_OK;
            break;
        }
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    return err;
}

static leal_err read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        quickack(fd);
        if (r == 0)
            return LEAL_E_CARD_REMOVED;
        if (r < 0) {
            if (errno == EINTR)
                return LEAL_E_INTERRUPTED;
            return errno == ECONNRESET ? LEAL_E_CARD_REMOVED : LEAL_E_IO;
        }
        p += r;
        n -= (size_t)r;
    }
    return LEAL_OK;
}

leal_err vpcd_read_message(int fd, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t hdr[2];
    size_t n;
    leal_err err;
    *len = 0;
    if ((err = read_full(fd, hdr, 2)) != LEAL_OK)
        return err;
    n = load_be16(hdr);
    if (n > cap)
        return LEAL_E_TOO_LARGE;
    if ((err = read_full(fd, buf, n)) != LEAL_OK)
        return err == LEAL_E_INTERRUPTED ? LEAL_E_IO : err;
    *len = n;
    return LEAL_OK;
}

leal_err vpcd_write_message(int fd, const uint8_t *buf, size_t len)
{
    uint8_t out[2 + LEAL_MAX_RAPDU + 64];
    size_t off = 0;
    if (len > sizeof out - 2)
        return LEAL_E_TOO_LARGE;
    store_be16(out, (uint16_t)len);
    memcpy(out + 2, buf, len);
    len += 2;
    while (off < len) {
        ssize_t w = send(fd, out + off, len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return (errno == EPIPE || errno == ECONNRESET) ? LEAL_E_CARD_REMOVED : LEAL_E_IO;
        }
        off += (size_t)w;
    }
    return LEAL_OK;
}
