/* cut_storage.c - a power cut in a terminal's storage (cut_storage.h). */
#include "tests/lib/cut_storage.h"

static leal_err cut_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    struct cut_storage *cs = ctx;
    return cs->inner->read(cs->inner->ctx, offset, out, len);
}

static leal_err cut_program(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    struct cut_storage *cs = ctx;
    if (cs->work + len > cs->cut_at) {
        size_t before = (size_t)(cs->cut_at - cs->work);
        if (before > 0)
            (void)cs->inner->program(cs->inner->ctx, offset, data, before);
        cs->power_off();
        return LEAL_E_IO; /* not reached: power_off does not return */
    }
    cs->work += len;
    return cs->inner->program(cs->inner->ctx, offset, data, len);
}

static leal_err cut_erase(void *ctx, uint32_t unit)
{
    struct cut_storage *cs = ctx;
    if (cs->work + 1 > cs->cut_at) {
        cs->power_off();
        return LEAL_E_IO;
    }
    cs->work += 1;
    return cs->inner->erase(cs->inner->ctx, unit);
}

void cut_storage_init(struct cut_storage *cs, const struct port_storage *inner, uint64_t cut_at,
                      void (*power_off)(void))
{
    cs->power_off = power_off;
    cs->inner = inner;
    cs->cut_at = cut_at;
    cs->work = 0;
    cs->port = *inner;
    cs->port.ctx = cs;
    cs->port.read = cut_read;
    cs->port.program = cut_program;
    cs->port.erase = cut_erase;
}
