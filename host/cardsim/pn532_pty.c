/*
 * pn532_pty.c - the emulated PN532 on a pseudo-terminal. libnfc's uart_open
 * refuses a port whose termios carry its CCLAIMED flag and restores the
 * termios it found on close (libnfc 1.8's uart_open/uart_close), so the slave is put in raw
 * mode here and kept open: the master then never sees EIO between clients.
 */
/* posix_openpt, grantpt, unlockpt, ptsname: X/Open. */
#define _XOPEN_SOURCE 700

#include "pn532_emu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "host/cardsim/cardsim.h"
#include "firmware/core/pn532_frame.h"

struct pn532_pty {
    int master;
    int slave;
    char name[128];
    char *link;
};

const char *pn532_pty_name(const struct pn532_pty *p)
{
    return p->name;
}

leal_err pn532_pty_open(const char *link, struct pn532_pty **out)
{
    struct pn532_pty *p = NULL;
    struct termios t;
    struct stat st;
    const char *n;
    leal_err err = LEAL_E_IO;

    if (out == NULL || link == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode))
        return LEAL_E_EXISTS;
    if ((p = calloc(1, sizeof *p)) == NULL)
        return LEAL_E_NO_MEMORY;
    p->slave = -1;
    p->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (p->master < 0 || grantpt(p->master) != 0 || unlockpt(p->master) != 0)
        goto out;
    if ((n = ptsname(p->master)) == NULL || strlen(n) >= sizeof p->name)
        goto out;
    memcpy(p->name, n, strlen(n) + 1);
    if ((p->slave = open(p->name, O_RDWR | O_NOCTTY)) < 0 || tcgetattr(p->slave, &t) != 0)
        goto out;
    cfmakeraw(&t);
    if (tcsetattr(p->slave, TCSANOW, &t) != 0)
        goto out;
    if ((p->link = strdup(link)) == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto out;
    }
    (void)unlink(link);
    if (symlink(p->name, link) != 0) {
        err = errno == EACCES ? LEAL_E_PERMISSION : LEAL_E_IO;
        goto out;
    }
    *out = p;
    p = NULL;
    err = LEAL_OK;
out:
    if (p) {
        if (p->slave >= 0)
            close(p->slave);
        if (p->master >= 0)
            close(p->master);
        free(p->link);
        free(p);
    }
    return err;
}

void pn532_pty_close(struct pn532_pty *p)
{
    char target[sizeof p->name];
    ssize_t n;
    if (p == NULL)
        return;
    /* Remove the link only if it still points at our pty. */
    n = readlink(p->link, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        if (strcmp(target, p->name) == 0)
            (void)unlink(p->link);
    }
    close(p->slave);
    close(p->master);
    free(p->link);
    free(p);
}

static leal_err write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return LEAL_E_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return LEAL_OK;
}

leal_err pn532_pty_flush(struct pn532_pty *p)
{
    if (p == NULL)
        return LEAL_E_ARG;
    /* The master's flush drops what the host wrote and the emulator has not
     * read; what the emulator wrote and the host has not read waits in the
     * slave's input queue, which only a flush on the slave drops (Linux's
     * pty flushes its own side's queues: a TCIOFLUSH on the master left an
     * answer there for the board's next command). */
    if (tcflush(p->master, TCIOFLUSH) != 0 || tcflush(p->slave, TCIFLUSH) != 0)
        return LEAL_E_IO;
    return LEAL_OK;
}

leal_err pn532_pty_run(struct pn532_pty *p, struct pn532_emu *e, struct cardsim *card,
                       const char *card_path, const volatile sig_atomic_t *stop)
{
    uint8_t in[64], out[8 * (6 + LEAL_MAX_PN532_FRAME)];
    leal_err err;

    if (p == NULL || e == NULL || stop == NULL)
        return LEAL_E_ARG;
    while (!*stop) {
        struct pollfd pfd = {.fd = p->master, .events = POLLIN};
        ssize_t n;
        size_t ol = 0;
        int rc = poll(&pfd, 1, 200);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return LEAL_E_IO;
        }
        if (rc == 0)
            continue;
        n = read(p->master, in, sizeof in);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EIO)
                continue;
            return LEAL_E_IO;
        }
        if ((err = pn532_emu_input(e, in, (size_t)n, out, sizeof out, &ol)) != LEAL_OK)
            return err;
        /* Save before answering: once the host has the answer, the file says so too. */
        if (card && card_path && ol > 0 && (err = cardsim_sync(card, card_path)) != LEAL_OK)
            return err;
        if (ol > 0 && (err = write_all(p->master, out, ol)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}
