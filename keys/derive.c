/* derive.c - diversification inputs (KEYS.md "Diversification"). */
#include "derive.h"

#include "base/bytes.h"
#include "base/ct.h"
#include "base/limits.h"
#include "diversify.h"

void derive_system_id(uint32_t issuer_id, uint32_t program_id, uint8_t out[12])
{
    out[0] = 'L';
    out[1] = 'E';
    out[2] = 'A';
    out[3] = 'L';
    store_be32(out + 4, issuer_id);
    store_be32(out + 8, program_id);
}

leal_err derive_card_key(const struct crypto_provider *cp, const uint8_t master[16],
                         const struct derive_card_input *in, uint8_t out[16])
{
    uint8_t m[LEAL_MAX_DIVERSIFY_INPUT];
    size_t id_len;
    leal_err err;
    if (in == NULL || in->id == NULL || in->aid == NULL || in->id_len < 4 ||
        in->id_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    id_len = in->id_len;
    leal_memcpy(m, in->id, id_len);
    leal_memcpy(m + id_len, in->aid, 3);
    derive_system_id(in->issuer_id, in->program_id, m + id_len + 3);
    err = diversify_aes128(cp, master, m, id_len + 3 + DERIVE_SYSTEM_ID_LEN, out);
    leal_wipe(m, sizeof m);
    return err;
}

leal_err derive_journal_key(const struct crypto_provider *cp, const uint8_t master[16],
                            uint32_t issuer_id, uint32_t program_id, uint32_t terminal_id,
                            uint8_t out[16])
{
    uint8_t m[13];
    m[0] = 'J';
    store_be32(m + 1, issuer_id);
    store_be32(m + 5, program_id);
    store_be32(m + 9, terminal_id);
    return diversify_aes128(cp, master, m, sizeof m, out);
}
