/* file.c - capped reads and atomic writes. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static leal_err from_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return LEAL_E_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return LEAL_E_PERMISSION;
    case ENOMEM:
        return LEAL_E_NO_MEMORY;
    default:
        return LEAL_E_IO;
    }
}

leal_err file_read(const char *path, size_t cap, uint8_t **data, size_t *len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    leal_err err = LEAL_OK;
    int fd;

    *data = NULL;
    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return from_errno(errno);
    if (fstat(fd, &st) != 0) {
        err = from_errno(errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err = LEAL_E_IO;
        goto out;
    }
    if ((size_t)st.st_size > cap) {
        err = LEAL_E_TOO_LARGE;
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? from_errno(errno) : LEAL_E_IO; /* shrank while reading */
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return err;
}

static leal_err sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return from_errno(errno);
    if (fsync(fd) != 0 && errno != EINVAL) {
        close(fd);
        return LEAL_E_IO;
    }
    close(fd);
    return LEAL_OK;
}

static leal_err write_tmp_rename(const char *path, const uint8_t *data, size_t len, mode_t mode,
                                 bool replace)
{
    char tmp[4096];
    size_t done = 0;
    leal_err err;
    int fd;

    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return LEAL_E_TOO_LARGE;
    /* mkstemp: O_CREAT | O_EXCL (never through a planted link), mode 0600. */
    if ((fd = mkstemp(tmp)) < 0)
        return from_errno(errno);
    if (fchmod(fd, mode) != 0)
        goto fail;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if ((err = file_rename(tmp, path, replace)) != LEAL_OK) {
        unlink(tmp);
        return err;
    }
    return LEAL_OK;
fail:
    err = from_errno(errno);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return err;
}

leal_err file_write_atomic(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
    return write_tmp_rename(path, data, len, mode, true);
}

leal_err file_write_new(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
    return write_tmp_rename(path, data, len, mode, false);
}

leal_err file_parent(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (slash == NULL)
        n = snprintf(out, cap, ".");
    else if (slash == path)
        n = snprintf(out, cap, "/");
    else
        n = snprintf(out, cap, "%.*s", (int)(slash - path), path);
    return n < 0 || (size_t)n >= cap ? LEAL_E_TOO_LARGE : LEAL_OK;
}

leal_err file_private_dir(const char *path, char *dir, size_t cap)
{
    char parent[4096];
    struct stat st;
    leal_err err;
    int n;
    if ((err = file_parent(path, parent, sizeof parent)) != LEAL_OK)
        return err;
    if (stat(parent, &st) != 0)
        return from_errno(errno);
    if (!S_ISDIR(st.st_mode))
        return LEAL_E_NOT_FOUND;
    n = snprintf(dir, cap, "%s/.leal-tmp-XXXXXX", parent);
    if (n < 0 || (size_t)n >= cap)
        return LEAL_E_TOO_LARGE;
    if (mkdtemp(dir) == NULL) /* mode 0700, refuses anything already there */
        return from_errno(errno);
    return LEAL_OK;
}

leal_err file_create_new(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    leal_err err = LEAL_OK;
    if (fd < 0)
        return errno == EEXIST ? LEAL_E_EXISTS : from_errno(errno);
    if (fchmod(fd, mode) != 0) /* the umask may have taken bits away */
        err = from_errno(errno);
    if (close(fd) != 0 && err == LEAL_OK)
        err = LEAL_E_IO;
    if (err != LEAL_OK)
        (void)unlink(path);
    return err;
}

leal_err file_sync(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    leal_err err = LEAL_OK;
    if (fd < 0)
        return from_errno(errno);
    if (fsync(fd) != 0)
        err = LEAL_E_IO;
    close(fd);
    return err;
}

leal_err file_rename(const char *from, const char *to, bool replace)
{
    if (replace) {
        if (rename(from, to) != 0)
            return from_errno(errno);
        return sync_parent(to);
    }
    if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST)
            return LEAL_E_EXISTS;
        if (errno != EINVAL && errno != ENOSYS)
            return from_errno(errno);
        /* No RENAME_NOREPLACE on this file system: link() refuses an
         * existing name just as atomically. */
        if (link(from, to) != 0)
            return errno == EEXIST ? LEAL_E_EXISTS : from_errno(errno);
        (void)unlink(from);
    }
    return sync_parent(to);
}

leal_err file_mkdir_parents(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return LEAL_E_TOO_LARGE;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return from_errno(errno);
        *p = '/';
    }
    return LEAL_OK;
}

leal_err file_default_path(const char *name, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, cap, "%s/leal/%s", xdg, name);
    else if (home && home[0])
        n = snprintf(out, cap, "%s/.local/share/leal/%s", home, name);
    else
        return LEAL_E_NOT_FOUND;
    return n < 0 || (size_t)n >= cap ? LEAL_E_TOO_LARGE : LEAL_OK;
}
