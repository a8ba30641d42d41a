/* port_template.c - the template terminal port (port_template.h). Each stub
 * says what a board's version does; the errors are those port.h allows. */
#include "port_template.h"

/* ---- card reader (cardlayout/card_reader.h) ---- */

/* Send cmd (an ISO 7816-4 APDU or a DESFire native frame) to the card in the
 * field over ISO 14443-4 and put its answer, status bytes included, in resp.
 * LEAL_E_NO_CARD, LEAL_E_CARD_REMOVED, LEAL_E_TIMEOUT, LEAL_E_READER,
 * LEAL_E_NO_SPACE (answer longer than resp_cap). */
static leal_err template_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                    size_t resp_cap, size_t *resp_len)
{
    (void)ctx, (void)cmd, (void)cmd_len, (void)resp, (void)resp_cap, (void)resp_len;
    return LEAL_E_UNSUPPORTED;
}

/* MIFARE Classic: authenticate block's sector with key_type (CLASSIC_KEY_A
 * or _B) and the 6-byte key; the reader keeps the Crypto1 session.
 * LEAL_E_CARD_AUTHENTICATION when the key does not open it. */
static leal_err template_classic_auth(void *ctx, uint8_t block, uint8_t key_type,
                                      const uint8_t key[6])
{
    (void)ctx, (void)block, (void)key_type, (void)key;
    return LEAL_E_UNSUPPORTED;
}

/* MIFARE Classic: read one 16-byte block of the authenticated sector. */
static leal_err template_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    (void)ctx, (void)block, (void)out;
    return LEAL_E_UNSUPPORTED;
}

/* MIFARE Classic: write one 16-byte block; LEAL_E_CARD_PERMISSION_DENIED
 * when the access bits refuse. */
static leal_err template_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    (void)ctx, (void)block, (void)data;
    return LEAL_E_UNSUPPORTED;
}

static const struct card_reader template_reader = {
    NULL, template_transceive, template_classic_auth, template_classic_read, template_classic_write,
};

/* ---- storage (port.h "Storage"): one set of functions, two instances ---- */

/* Read len bytes at offset: flash is usually memory-mapped (a memcpy). */
static leal_err template_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    (void)ctx, (void)offset, (void)out, (void)len;
    return LEAL_E_UNSUPPORTED;
}

/* Program len erased bytes at offset within one unit through the flash
 * controller; return once they are programmed (poll its busy flag). */
static leal_err template_program(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    (void)ctx, (void)offset, (void)data, (void)len;
    return LEAL_E_UNSUPPORTED;
}

/* Erase one unit (a flash sector); return once erased. */
static leal_err template_erase(void *ctx, uint32_t unit)
{
    (void)ctx, (void)unit;
    return LEAL_E_UNSUPPORTED;
}

/* The board's geometry goes here: e.g. 16 sectors of 4 KiB for the journal. */
static const struct port_storage template_journal = {
    NULL, 4096, 16, template_read, template_program, template_erase,
};

static const struct port_storage template_package = {
    NULL, 4096, 64, template_read, template_program, template_erase,
};

/* ---- clock, randomness, operator line ---- */

/* The RTC's UTC seconds and the store's offset from UTC at that instant;
 * LEAL_E_STATE while the RTC has not been set. */
static leal_err template_now(void *ctx, struct port_time *out)
{
    (void)ctx, (void)out;
    return LEAL_E_UNSUPPORTED;
}

/* n bytes from the board's TRNG (conditioned), or LEAL_E_RANDOM. */
static leal_err template_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx, (void)out, (void)n;
    return LEAL_E_UNSUPPORTED;
}

/* Show one line (UTF-8, at most PORT_SHOW_MAX bytes) on the display. */
static leal_err template_show(void *ctx, const char *line, size_t len)
{
    (void)ctx, (void)line, (void)len;
    return LEAL_E_UNSUPPORTED;
}

static const struct terminal_port template_port = {
    "template",        NULL,         &template_reader, &template_journal,
    &template_package, template_now, template_random,  template_show,
};

const struct terminal_port *port_template(void)
{
    return &template_port;
}
