/* posix_terminal.c - a POSIX terminal's data folder, opened (posix_terminal.h). */
#include "posix_terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/keys/keyfile.h"
#include "keys/base/ct.h"
#include "keys/hosted/secmem.h"
#include "keys/portable/provider_portable.h"

/* The core's only crypto: the freestanding provider, randomness from the port. */
static const struct crypto_provider posix_crypto = CRYPTO_PORTABLE_PROVIDER(posix_random_bytes);

static leal_err errno_err(void)
{
    if (errno == ENOENT)
        return LEAL_E_NOT_FOUND;
    return errno == EACCES || errno == EPERM || errno == EROFS ? LEAL_E_PERMISSION : LEAL_E_IO;
}

static leal_err path_in(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? LEAL_E_ARG : LEAL_OK;
}

static leal_err sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (fd < 0)
        return errno_err();
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? LEAL_OK : LEAL_E_IO;
}

leal_err posix_file_replace(const char *path, const uint8_t *p, size_t len, unsigned mode)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    leal_err err = LEAL_OK;
    int fd;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return LEAL_E_ARG;
    unlink(tmp); /* a leftover keeps its own mode */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode)) < 0)
        return errno_err();
    for (size_t done = 0; done < len && err == LEAL_OK;) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            err = errno_err();
        else
            done += (size_t)n;
    }
    if (err == LEAL_OK && fsync(fd) != 0)
        err = LEAL_E_IO;
    if (close(fd) != 0 && err == LEAL_OK)
        err = LEAL_E_IO;
    if (err == LEAL_OK && rename(tmp, path) != 0)
        err = errno_err();
    if (err != LEAL_OK) {
        unlink(tmp);
        return err;
    }
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return sync_dir(dir);
}

leal_err posix_file_read(const char *path, size_t cap, uint8_t **p, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *p = NULL;
    *len = 0;
    if (fd < 0)
        return errno_err();
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return LEAL_E_IO;
    }
    if ((uint64_t)st.st_size > cap) {
        close(fd);
        return LEAL_E_TOO_LARGE;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        close(fd);
        return LEAL_E_NO_MEMORY;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (done != (size_t)st.st_size) {
        free(buf);
        return LEAL_E_IO;
    }
    *p = buf;
    *len = done;
    return LEAL_OK;
}

static leal_err lock_folder(struct posix_terminal *t)
{
    char path[PATH_MAX];
    leal_err err;
    if ((err = path_in(t->dir, POSIX_LOCK_FILE, path, sizeof path)) != LEAL_OK)
        return err;
    if ((t->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return errno_err();
    if (flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? LEAL_E_READER_BUSY : LEAL_E_IO;
    return LEAL_OK;
}

/* The bundle (sealed file at path) into the software SAM, checked for expiry. */
static leal_err open_bundle(struct posix_terminal *t, const struct posix_terminal_open *o,
                            const char *path)
{
    struct bundle *b = secmem_alloc(sizeof *b);
    struct port_time now;
    leal_err err;
    if (b == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = keyfile_load_bundle(path, o->pass, o->pass_len, b)) == LEAL_OK &&
        (err = posix_now(NULL, &now)) == LEAL_OK &&
        (err = bundle_check(b, b->issuer_id, b->program_id, now.utc_seconds)) == LEAL_OK &&
        (err = sam_soft_open(&t->soft, t->cp, b, &t->sam)) == LEAL_OK &&
        (err = t->sam.info(t->sam.ctx, &t->info)) == LEAL_OK) {
        t->server_pin_count = b->server_pin_count;
        memcpy(t->server_pin, b->server_pin, sizeof t->server_pin);
    }
    bundle_clear(b);
    secmem_free(b);
    return err;
}

static leal_err open_storage(struct posix_terminal *t, const struct posix_terminal_open *o)
{
    char path[PATH_MAX];
    leal_err err;
    if ((err = path_in(t->dir, POSIX_JOURNAL_FILE, path, sizeof path)) != LEAL_OK ||
        (err = file_storage_open(&t->journal_fs, path, POSIX_STORAGE_UNIT, POSIX_JOURNAL_UNITS)) !=
            LEAL_OK)
        return err;
    if ((err = path_in(t->dir, POSIX_PACKAGE_FILE, path, sizeof path)) != LEAL_OK ||
        (err = file_storage_open(&t->package_fs, path, POSIX_STORAGE_UNIT, POSIX_PACKAGE_UNITS)) !=
            LEAL_OK)
        return err;
    t->journal_st = &t->journal_fs.port;
    t->package_st = &t->package_fs.port;
    if (o->wrap_storage)
        o->wrap_storage(o->wrap_ctx, &t->journal_st, &t->package_st);
    return package_store_init(&t->store, t->package_st);
}

static void load_sum(struct posix_terminal *t);

static leal_err open_journal(struct posix_terminal *t)
{
    struct journal_config cfg;
    struct port_time now;
    leal_err err;
    cfg.program_id = t->info.program_id;
    cfg.terminal_id = t->info.terminal_id;
    if ((err = t->sam.journal_key(t->sam.ctx, cfg.key, &cfg.key_version)) != LEAL_OK ||
        (err = posix_now(NULL, &now)) != LEAL_OK) {
        leal_wipe(&cfg, sizeof cfg);
        return err;
    }
    err = journal_open(&t->journal, t->journal_st, t->cp, &cfg, &now, &t->journal_report);
    leal_wipe(&cfg, sizeof cfg);
    if (err == LEAL_E_JOURNAL_FULL) {
        t->journal_read_only = true;
        err = LEAL_OK;
    }
    if (err == LEAL_OK)
        load_sum(t);
    return err;
}

/* The saved summary, if it verifies; whether it is current the terminal
 * asks at each use (a stale or refused one is rebuilt from the journal). */
static void load_sum(struct posix_terminal *t)
{
    char path[PATH_MAX];
    uint8_t *p = NULL;
    size_t len = 0;
    if (path_in(t->dir, POSIX_SUM_FILE, path, sizeof path) == LEAL_OK &&
        posix_file_read(path, JOURNAL_SUM_MAX_LEN, &p, &len) == LEAL_OK &&
        journal_sum_decode(&t->sum, &t->journal, p, len) == LEAL_OK &&
        journal_sum_current(&t->sum, &t->journal)) {
        t->sum_loaded = true;
        t->sum_loaded_head = t->sum.head;
    }
    free(p);
}

/* Writes the summary over POSIX_SUM_FILE, with no fsync: it is a cache
 * bound to the journal's head, so a write a power cut loses or tears costs
 * one walk of the journal at the next start, never a wrong total. In place
 * (no O_TRUNC; cut to its length after): ext4 starts writing back a file
 * truncated to zero when it is closed (auto_da_alloc), at every tap's end;
 * an overwrite torn half old, half new fails the summary's MAC as a short
 * one does. */
static void save_sum(struct posix_terminal *t)
{
    static uint8_t buf[JOURNAL_SUM_MAX_LEN];
    char path[PATH_MAX];
    size_t len = 0;
    int fd;
    if (!journal_sum_current(&t->sum, &t->journal) ||
        (t->sum_loaded && t->sum_loaded_head.epoch == t->sum.head.epoch &&
         t->sum_loaded_head.seq == t->sum.head.seq) ||
        journal_sum_encode(&t->sum, &t->journal, buf, sizeof buf, &len) != LEAL_OK ||
        path_in(t->dir, POSIX_SUM_FILE, path, sizeof path) != LEAL_OK)
        return;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return;
    bool whole = pwrite(fd, buf, len, 0) == (ssize_t)len && ftruncate(fd, (off_t)len) == 0;
    close(fd);
    if (!whole)
        unlink(path); /* a short write: no summary rather than a torn one */
}

leal_err posix_terminal_expect(struct posix_terminal *t, uint64_t now,
                               struct package_key keys[PACKAGE_MAX_KEYS], struct package_expect *e)
{
    size_t n;
    leal_err err = sam_package_keys(&t->sam, keys, PACKAGE_MAX_KEYS, &n);
    if (err != LEAL_OK)
        return err;
    memset(e, 0, sizeof *e);
    e->program_id = t->info.program_id;
    e->terminal_id = t->info.terminal_id;
    e->now = now;
    e->loaded_version = t->package.loaded ? t->package.info.version : 0;
    e->keys = keys;
    e->nkeys = n;
    return LEAL_OK;
}

/* Everything after the bundle: storage, journal, package. */
static leal_err open_rest(struct posix_terminal *t, const struct posix_terminal_open *o)
{
    struct package_key keys[PACKAGE_MAX_KEYS];
    struct package_expect e;
    leal_err err;
    t->stage = POSIX_STAGE_FOLDER;
    if ((err = open_storage(t, o)) != LEAL_OK)
        return err;
    t->stage = POSIX_STAGE_JOURNAL;
    if ((err = open_journal(t)) != LEAL_OK)
        return err;
    t->stage = POSIX_STAGE_PACKAGE;
    if ((err = posix_terminal_expect(t, 0, keys, &e)) != LEAL_OK)
        return err;
    return package_store_select(&t->store, t->cp, &e, &t->package, &t->package_copies);
}

static leal_err begin(struct posix_terminal *t, const struct posix_terminal_open *o)
{
    t->cp = &posix_crypto;
    t->lock_fd = -1;
    t->journal_fs.fd = -1;
    t->package_fs.fd = -1;
    t->stage = POSIX_STAGE_FOLDER;
    if (o->dir == NULL || snprintf(t->dir, sizeof t->dir, "%s", o->dir) >= (int)sizeof t->dir)
        return LEAL_E_ARG;
    return LEAL_OK;
}

leal_err posix_terminal_open(struct posix_terminal *t, const struct posix_terminal_open *o)
{
    char path[PATH_MAX];
    struct stat st;
    leal_err err;
    if ((err = begin(t, o)) != LEAL_OK ||
        (err = path_in(t->dir, POSIX_BUNDLE_FILE, path, sizeof path)) != LEAL_OK)
        goto out;
    if (stat(path, &st) != 0) {
        err = LEAL_E_NOT_FOUND;
        goto out;
    }
    if ((err = lock_folder(t)) != LEAL_OK)
        goto out;
    t->stage = POSIX_STAGE_BUNDLE;
    if ((err = open_bundle(t, o, path)) != LEAL_OK)
        goto out;
    err = open_rest(t, o);
out:
    if (err != LEAL_OK)
        posix_terminal_close(t);
    return err;
}

/* A folder a torn init left (storage, no bundle): its files belong to no terminal. */
static void remove_leftovers(const char *dir)
{
    char path[PATH_MAX];
    if (path_in(dir, POSIX_JOURNAL_FILE, path, sizeof path) == LEAL_OK)
        unlink(path);
    if (path_in(dir, POSIX_PACKAGE_FILE, path, sizeof path) == LEAL_OK)
        unlink(path);
    if (path_in(dir, POSIX_SUM_FILE, path, sizeof path) == LEAL_OK)
        unlink(path);
}

leal_err posix_terminal_init(struct posix_terminal *t, const struct posix_terminal_open *o,
                             const char *bundle_path)
{
    char path[PATH_MAX];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    struct stat st;
    leal_err err;
    if ((err = begin(t, o)) != LEAL_OK ||
        (err = path_in(t->dir, POSIX_BUNDLE_FILE, path, sizeof path)) != LEAL_OK)
        goto out;
    if (stat(path, &st) == 0) {
        err = LEAL_E_EXISTS;
        goto out;
    }
    t->stage = POSIX_STAGE_BUNDLE;
    if ((err = posix_file_read(bundle_path, LEAL_MAX_BUNDLE_FILE, &sealed, &sealed_len)) !=
            LEAL_OK ||
        (err = open_bundle(t, o, bundle_path)) != LEAL_OK)
        goto out;
    t->stage = POSIX_STAGE_FOLDER;
    if (mkdir(t->dir, 0700) != 0 && errno != EEXIST) {
        err = errno_err();
        goto out;
    }
    if ((err = lock_folder(t)) != LEAL_OK)
        goto out;
    remove_leftovers(t->dir);
    /* The bundle last: its presence is what makes the folder a terminal. */
    if ((err = open_rest(t, o)) != LEAL_OK)
        goto out;
    t->stage = POSIX_STAGE_FOLDER;
    err = posix_file_replace(path, sealed, sealed_len, 0600);
out:
    free(sealed);
    if (err != LEAL_OK)
        posix_terminal_close(t);
    return err;
}

void posix_terminal_close(struct posix_terminal *t)
{
    if (t == NULL)
        return;
    save_sum(t);
    journal_close(&t->journal);
    sam_soft_close(&t->soft);
    if (t->journal_fs.fd >= 0)
        file_storage_close(&t->journal_fs);
    if (t->package_fs.fd >= 0)
        file_storage_close(&t->package_fs);
    if (t->lock_fd >= 0) {
        close(t->lock_fd); /* releases the lock */
        t->lock_fd = -1;
    }
}
