/* fuzz_rules_codec.c - the rule set decoder (firmware/core/rules_codec.h) on
 * any bytes: never a sanitizer finding; a set it accepts passes the check,
 * encodes back to exactly the bytes it came from, and decodes again to the
 * same set; a refusal leaves *out zeroed. The terminal's decoder
 * (rules_codec_decode_program) agrees on every input: the same error and
 * *where, and on success the same version, program and bono count. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/rules_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rules_set set, again, zero;
    static struct rules_versioned run, run_zero;
    static uint8_t out[RULES_CODEC_MAX_LEN];
    struct rules_problem where, run_where;
    size_t len = 0;
    leal_err err = rules_codec_decode(data, size, &set, &where);
    if (rules_codec_decode_program(data, size, &run, &run_where) != err ||
        run_where.part != where.part || run_where.index != where.index)
        abort();
    if (err != LEAL_OK) {
        if (memcmp(&set, &zero, sizeof set) != 0 || memcmp(&run, &run_zero, sizeof run) != 0)
            abort();
        return 0;
    }
    if (run.version != set.version || run.n_bonos != set.n_bonos ||
        memcmp(&run.program, &set.program, sizeof run.program) != 0)
        abort();
    if (where.part != RULES_PART_NONE || rules_codec_problem(&set, &where) != LEAL_OK)
        abort();
    if (rules_codec_encode(&set, out, sizeof out, &len) != LEAL_OK || len != size ||
        memcmp(out, data, size) != 0)
        abort();
    if (rules_codec_decode(out, len, &again, NULL) != LEAL_OK ||
        memcmp(&set, &again, sizeof set) != 0)
        abort();
    return 0;
}
