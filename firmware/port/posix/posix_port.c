/* posix_port.c - clock, randomness and operator line (posix_port.h). */
#include "posix_port.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

leal_err posix_now(void *ctx, struct port_time *out)
{
    struct timespec ts;
    struct tm local;
    time_t t;
    (void)ctx;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return LEAL_E_IO;
    if (ts.tv_sec < 0)
        return LEAL_E_STATE;
    t = ts.tv_sec;
    tzset();
    if (localtime_r(&t, &local) == NULL)
        return LEAL_E_IO;
    if (local.tm_gmtoff < -1080 * 60 || local.tm_gmtoff > 1080 * 60)
        return LEAL_E_STATE;
    out->utc_seconds = (uint64_t)ts.tv_sec;
    out->utc_offset_minutes = (int16_t)(local.tm_gmtoff / 60);
    return LEAL_OK;
}

leal_err posix_site_now(void *ctx, struct port_time *out)
{
    const struct package_terminal *pk = ctx;
    struct timespec ts;
    int16_t minutes;
    leal_err err;
    if (pk == NULL || !pk->loaded)
        return LEAL_E_STATE;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return LEAL_E_IO;
    if (ts.tv_sec < 0)
        return LEAL_E_STATE;
    if ((err = package_local_offset(&pk->info.site.zone, (uint64_t)ts.tv_sec, &minutes)) != LEAL_OK)
        return err;
    out->utc_seconds = (uint64_t)ts.tv_sec;
    out->utc_offset_minutes = minutes;
    return LEAL_OK;
}

leal_err posix_random_bytes(uint8_t *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = getrandom(out + done, n - done, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return LEAL_E_RANDOM;
        done += (size_t)got;
    }
    return LEAL_OK;
}

leal_err posix_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    if (n > PORT_RANDOM_MAX)
        return LEAL_E_ARG;
    return posix_random_bytes(out, n);
}

leal_err posix_show(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (len > PORT_SHOW_MAX)
        return LEAL_E_ARG;
    if (fwrite(line, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return LEAL_E_IO;
    return LEAL_OK;
}
