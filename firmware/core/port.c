/* port.c - the checks of the terminal port contract (port.h). */
#include "port.h"

#define PORT_UNIT_MIN 512u
#define PORT_UNIT_MAX (1024u * 1024u)
#define PORT_UNITS_MAX 65536u

leal_err port_storage_check(const struct port_storage *s)
{
    if (s == NULL || s->read == NULL || s->program == NULL || s->erase == NULL)
        return LEAL_E_ARG;
    if (s->unit_size < PORT_UNIT_MIN || s->unit_size > PORT_UNIT_MAX ||
        (s->unit_size & (s->unit_size - 1u)) != 0 || s->unit_count < 2 ||
        s->unit_count > PORT_UNITS_MAX)
        return LEAL_E_ARG;
    /* The whole storage is addressed with 32-bit offsets. */
    if ((uint64_t)s->unit_size * s->unit_count > UINT32_MAX)
        return LEAL_E_ARG;
    return LEAL_OK;
}

leal_err terminal_port_check(const struct terminal_port *p)
{
    if (p == NULL || p->name == NULL || p->now == NULL || p->random == NULL || p->show == NULL)
        return LEAL_E_ARG;
    if (p->reader == NULL || p->reader->transceive == NULL || p->reader->classic_auth == NULL ||
        p->reader->classic_read == NULL || p->reader->classic_write == NULL)
        return LEAL_E_ARG;
    if (port_storage_check(p->journal) != LEAL_OK || port_storage_check(p->package) != LEAL_OK)
        return LEAL_E_ARG;
    return LEAL_OK;
}
