/* ram_storage.c - port_storage in memory with power cuts (ram_storage.h). */
#include "ram_storage.h"

#include <string.h>

static leal_err ram_range(const struct ram_storage *rs, uint32_t offset, size_t len)
{
    uint64_t size = (uint64_t)rs->port.unit_size * rs->port.unit_count;
    if (rs->dead)
        return LEAL_E_IO;
    if ((uint64_t)offset + len > size)
        return LEAL_E_ARG;
    return LEAL_OK;
}

/* Does one byte of work; false once the power is cut at this byte. */
static bool ram_work(struct ram_storage *rs)
{
    if (rs->armed && rs->work == rs->cut_at) {
        rs->dead = true;
        rs->armed = false;
        return false;
    }
    rs->work++;
    return true;
}

static leal_err ram_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    struct ram_storage *rs = ctx;
    leal_err err = ram_range(rs, offset, len);
    if (err == LEAL_OK)
        memcpy(out, rs->mem + offset, len);
    return err;
}

static leal_err ram_program(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    struct ram_storage *rs = ctx;
    leal_err err = ram_range(rs, offset, len);
    if (err != LEAL_OK)
        return err;
    if (len > 0 && offset / rs->port.unit_size != (offset + len - 1) / rs->port.unit_size)
        return LEAL_E_ARG;
    for (size_t i = 0; i < len; i++)
        if (rs->mem[offset + i] != 0xFF)
            return LEAL_E_ARG;
    rs->programs++;
    for (size_t i = 0; i < len; i++) {
        if (!ram_work(rs)) {
            if (rs->tear == RAM_TEAR_FLIPPED)
                rs->mem[offset + i] = (uint8_t)(data[i] ^ 0x01);
            return LEAL_E_IO;
        }
        rs->mem[offset + i] = data[i];
    }
    return LEAL_OK;
}

static leal_err ram_erase(void *ctx, uint32_t unit)
{
    struct ram_storage *rs = ctx;
    uint8_t *p;
    if (rs->dead)
        return LEAL_E_IO;
    if (unit >= rs->port.unit_count)
        return LEAL_E_ARG;
    rs->erases++;
    p = rs->mem + (size_t)unit * rs->port.unit_size;
    for (uint32_t i = 0; i < rs->port.unit_size; i++) {
        if (!ram_work(rs)) {
            if (rs->tear == RAM_TEAR_FLIPPED)
                p[i] ^= 0x01;
            return LEAL_E_IO;
        }
        p[i] = 0xFF;
    }
    return LEAL_OK;
}

leal_err ram_storage_init(struct ram_storage *rs, uint8_t *mem, uint32_t unit_size,
                          uint32_t unit_count)
{
    if (rs == NULL || mem == NULL)
        return LEAL_E_ARG;
    memset(rs, 0, sizeof *rs);
    rs->mem = mem;
    rs->port.ctx = rs;
    rs->port.unit_size = unit_size;
    rs->port.unit_count = unit_count;
    rs->port.read = ram_read;
    rs->port.program = ram_program;
    rs->port.erase = ram_erase;
    if (port_storage_check(&rs->port) != LEAL_OK)
        return LEAL_E_ARG;
    memset(mem, 0xFF, (size_t)unit_size * unit_count);
    return LEAL_OK;
}

void ram_storage_cut(struct ram_storage *rs, uint64_t bytes, uint8_t tear)
{
    rs->armed = true;
    rs->cut_at = rs->work + bytes;
    rs->tear = tear;
}

void ram_storage_power_on(struct ram_storage *rs)
{
    rs->dead = false;
    rs->armed = false;
}
