/* package_file.c - a package file's header (see package_file.h). */
#include "package_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_source {
    int fd;
};

static leal_err file_at(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    const struct file_source *f = ctx;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(f->fd, out + got, len - got, (off_t)offset + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return LEAL_E_IO;
        if (n == 0)
            return LEAL_E_PACKAGE_MALFORMED; /* shorter than its header says */
        got += (size_t)n;
    }
    return LEAL_OK;
}

leal_err package_file_header(const char *path, struct package_info *out)
{
    struct file_source f;
    struct package_source src;
    struct stat st;
    leal_err err;
    if ((f.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT || errno == ENOTDIR ? LEAL_E_NOT_FOUND
               : errno == EACCES                   ? LEAL_E_PERMISSION
                                                   : LEAL_E_IO;
    if (fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
        err = LEAL_E_IO;
    else if ((uint64_t)st.st_size > PACKAGE_MAX_SIZE)
        err = LEAL_E_TOO_LARGE;
    else {
        src = (struct package_source){file_at, &f, (uint32_t)st.st_size};
        err = package_parse_header(&src, out);
    }
    close(f.fd);
    return err;
}

leal_err package_file_path(const char *dir, int64_t terminal_id, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/terminal-%lld.lpkg", dir, (long long)terminal_id);
    return n < 0 || (size_t)n >= cap ? LEAL_E_RANGE : LEAL_OK;
}
