/* agent_sock.c - the desk agent's socket and its peers (agent_sock.h). */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "agent_sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/file.h"

static leal_err check_dir(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? LEAL_E_NOT_FOUND : LEAL_E_IO;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        return LEAL_E_PERMISSION;
    return LEAL_OK;
}

leal_err agent_sock_path(bool make_dir, char out[AGENT_SOCK_PATH_MAX])
{
    char dir[4096];
    const char *run = getenv("XDG_RUNTIME_DIR");
    int n;
    leal_err err;
    if (run && run[0] == '/') {
        n = snprintf(dir, sizeof dir, "%s/leal", run);
    } else {
        if ((err = file_default_path("agent", dir, sizeof dir)) != LEAL_OK)
            return err;
        n = (int)strlen(dir);
    }
    if (n < 0 || (size_t)n >= sizeof dir)
        return LEAL_E_TOO_LARGE;
    if (make_dir) {
        char probe[4200];
        snprintf(probe, sizeof probe, "%s/x", dir);
        if ((err = file_mkdir_parents(probe)) != LEAL_OK)
            return err;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return errno == EACCES ? LEAL_E_PERMISSION : LEAL_E_IO;
    }
    if ((err = check_dir(dir)) != LEAL_OK)
        return err;
    n = snprintf(out, AGENT_SOCK_PATH_MAX, "%s/agent.sock", dir);
    if (n < 0 || n >= AGENT_SOCK_PATH_MAX)
        return LEAL_E_TOO_LARGE;
    return LEAL_OK;
}

static leal_err address(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return LEAL_E_TOO_LARGE;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return LEAL_OK;
}

leal_err agent_sock_peer_is_me(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
        return LEAL_E_PERMISSION;
    return cred.uid == geteuid() ? LEAL_OK : LEAL_E_PERMISSION;
}

static leal_err connect_raw(const char *path, int *fd)
{
    struct sockaddr_un sa;
    leal_err err;
    int s;
    *fd = -1;
    if ((err = address(path, &sa)) != LEAL_OK)
        return err;
    if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return LEAL_E_IO;
    if (connect(s, (const struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(s);
        if (e == ENOENT || e == ECONNREFUSED)
            return LEAL_E_NOT_FOUND;
        return e == EACCES || e == EPERM ? LEAL_E_PERMISSION : LEAL_E_IO;
    }
    *fd = s;
    return LEAL_OK;
}

leal_err agent_sock_connect(const char *path, int *fd)
{
    leal_err err = connect_raw(path, fd);
    if (err != LEAL_OK)
        return err;
    if ((err = agent_sock_peer_is_me(*fd)) != LEAL_OK) {
        close(*fd);
        *fd = -1;
    }
    return err;
}

leal_err agent_sock_listen(const char *path, int *fd)
{
    struct sockaddr_un sa;
    leal_err err;
    mode_t old;
    int s, probe, rc;
    *fd = -1;
    if ((err = address(path, &sa)) != LEAL_OK)
        return err;
    if (connect_raw(path, &probe) == LEAL_OK) {
        close(probe);
        return LEAL_E_EXISTS;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return LEAL_E_IO;
    if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return LEAL_E_IO;
    /* Created 0600 from the start: no moment where others could connect. */
    old = umask(0177);
    rc = bind(s, (const struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0 || listen(s, 16) != 0) {
        err = errno == EADDRINUSE ? LEAL_E_EXISTS : LEAL_E_IO;
        close(s);
        return err;
    }
    *fd = s;
    return LEAL_OK;
}

leal_err agent_sock_deadline(int fd, unsigned ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000u),
                         .tv_usec = (suseconds_t)(ms % 1000u) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return LEAL_E_IO;
    return LEAL_OK;
}

leal_err agent_sock_write(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return errno == EAGAIN || errno == EPIPE ? LEAL_E_PROTOCOL : LEAL_E_IO;
        p += w;
        n -= (size_t)w;
    }
    return LEAL_OK;
}

leal_err agent_sock_read(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (r < 0 && (errno == EAGAIN || errno == ECONNRESET)))
            return LEAL_E_PROTOCOL;
        if (r < 0)
            return LEAL_E_IO;
        p += r;
        n -= (size_t)r;
    }
    return LEAL_OK;
}
