/* file_storage.c - port_storage on a file (file_storage.h). */
#include "file_storage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static leal_err io_err(void)
{
    return errno == EACCES || errno == EPERM || errno == EROFS ? LEAL_E_PERMISSION : LEAL_E_IO;
}

static leal_err in_range(const struct file_storage *fs, uint32_t offset, size_t len)
{
    uint64_t size = (uint64_t)fs->port.unit_size * fs->port.unit_count;
    return (uint64_t)offset + len > size ? LEAL_E_ARG : LEAL_OK;
}

static leal_err write_all(int fd, const uint8_t *p, size_t len, off_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return io_err();
        p += n;
        len -= (size_t)n;
        offset += n;
    }
    return LEAL_OK;
}

static leal_err file_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    struct file_storage *fs = ctx;
    size_t done = 0;
    if (in_range(fs, offset, len) != LEAL_OK)
        return LEAL_E_ARG;
    while (done < len) {
        ssize_t n = pread(fs->fd, out + done, len - done, (off_t)offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return LEAL_E_IO;
        done += (size_t)n;
    }
    return LEAL_OK;
}

static leal_err file_program(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    struct file_storage *fs = ctx;
    leal_err err;
    if (in_range(fs, offset, len) != LEAL_OK ||
        (len > 0 && offset / fs->port.unit_size != (offset + len - 1) / fs->port.unit_size))
        return LEAL_E_ARG;
    if ((err = write_all(fs->fd, data, len, (off_t)offset)) != LEAL_OK)
        return err;
    return fdatasync(fs->fd) == 0 ? LEAL_OK : LEAL_E_IO;
}

static leal_err file_erase(void *ctx, uint32_t unit)
{
    struct file_storage *fs = ctx;
    uint8_t ff[4096];
    uint32_t done = 0;
    if (unit >= fs->port.unit_count)
        return LEAL_E_ARG;
    memset(ff, 0xFF, sizeof ff);
    while (done < fs->port.unit_size) {
        uint32_t n =
            fs->port.unit_size - done < sizeof ff ? fs->port.unit_size - done : (uint32_t)sizeof ff;
        leal_err err = write_all(fs->fd, ff, n, (off_t)unit * fs->port.unit_size + done);
        if (err != LEAL_OK)
            return err;
        done += n;
    }
    return fdatasync(fs->fd) == 0 ? LEAL_OK : LEAL_E_IO;
}

/* The folder of path, synced so that a rename in it is durable. */
static leal_err sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, rc;
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if ((size_t)(slash - path) >= sizeof dir)
        return LEAL_E_ARG;
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return io_err();
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? LEAL_OK : LEAL_E_IO;
}

static leal_err create_erased(const char *path, uint64_t size)
{
    char tmp[PATH_MAX];
    uint8_t ff[4096];
    leal_err err = LEAL_OK;
    int fd;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return LEAL_E_ARG;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return io_err();
    memset(ff, 0xFF, sizeof ff);
    for (uint64_t done = 0; done < size && err == LEAL_OK;) {
        size_t n = size - done < sizeof ff ? (size_t)(size - done) : sizeof ff;
        err = write_all(fd, ff, n, (off_t)done);
        done += n;
    }
    if (err == LEAL_OK && fsync(fd) != 0)
        err = LEAL_E_IO;
    if (close(fd) != 0 && err == LEAL_OK)
        err = LEAL_E_IO;
    if (err == LEAL_OK && rename(tmp, path) != 0)
        err = io_err();
    if (err != LEAL_OK) {
        unlink(tmp);
        return err;
    }
    return sync_dir_of(path);
}

leal_err file_storage_open(struct file_storage *fs, const char *path, uint32_t unit_size,
                           uint32_t unit_count)
{
    struct stat st;
    leal_err err;
    if (fs == NULL || path == NULL)
        return LEAL_E_ARG;
    memset(fs, 0, sizeof *fs);
    fs->fd = -1;
    fs->port.ctx = fs;
    fs->port.unit_size = unit_size;
    fs->port.unit_count = unit_count;
    fs->port.read = file_read;
    fs->port.program = file_program;
    fs->port.erase = file_erase;
    if (port_storage_check(&fs->port) != LEAL_OK)
        return LEAL_E_ARG;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            return io_err();
        if ((err = create_erased(path, (uint64_t)unit_size * unit_count)) != LEAL_OK)
            return err;
    }
    if ((fs->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        return io_err();
    if (fstat(fs->fd, &st) != 0 || (uint64_t)st.st_size != (uint64_t)unit_size * unit_count) {
        file_storage_close(fs);
        return LEAL_E_FORMAT;
    }
    return LEAL_OK;
}

void file_storage_close(struct file_storage *fs)
{
    if (fs != NULL && fs->fd >= 0) {
        close(fs->fd);
        fs->fd = -1;
    }
}
