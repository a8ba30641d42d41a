/*
 * main.c - the Cortex-M3 terminal (issue 18): greet on UART0, check the
 * portable crypto provider (keys/portable/) against published vectors before
 * anything may use it, then serve the till's lines on UART0 with the same
 * terminal core leal-terminal runs (firmware/core/terminal.h), the card
 * reached through the PN532 driver on UART1 (till.c). The run ends with 0
 * only if every vector matched and the till's lines ended with END.
 */
#include "board.h"
#include "keys/base/bytes.h"
#include "keys/portable/provider_portable.h"

/* FIPS-197 Appendix C.1: AES-128. */
static const uint8_t aes_key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t aes_plain[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t aes_cipher[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                       0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
/* FIPS 180-2 Appendix B.1: SHA-256("abc"). */
static const uint8_t sha_abc[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
/* RFC 4493 §4 Example 1: AES-CMAC of the empty message under 2b7e1516.... */
static const uint8_t cmac_key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                     0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
static const uint8_t cmac_empty[16] = {0xbb, 0x1d, 0x69, 0x29, 0xe9, 0x59, 0x37, 0x28,
                                       0x7f, 0xa3, 0x7d, 0x12, 0x9b, 0x75, 0x67, 0x46};

/* Prints "self-test NAME HEX ok|FAILED"; 1 when it failed. */
static int report(const char *name, const uint8_t *got, const uint8_t *want, size_t n, leal_err err)
{
    int bad = err != LEAL_OK || leal_memcmp(got, want, n) != 0;
    cm_uart_puts("self-test ");
    cm_uart_puts(name);
    cm_uart_putc(' ');
    cm_uart_hex(got, n);
    cm_uart_puts(bad ? " FAILED\n" : " ok\n");
    return bad;
}

int cm_main(void)
{
    uint8_t out[32];
    int failed = 0;
    leal_err err;

    cm_uart_init(CM_UART0);
    cm_systick_start();
    cm_uart_puts(
        "leal terminal core on Cortex-M3 (mps2-an385), 256 KiB flash, 64 KiB RAM, no heap\n");
    err = crypto_portable_aes128_ecb_encrypt(aes_key, aes_plain, out);
    failed += report("aes128", out, aes_cipher, 16, err);
    err = crypto_portable_sha256((const uint8_t *)"abc", 3, out);
    failed += report("sha256", out, sha_abc, 32, err);
    err = crypto_portable_aes128_cmac(cmac_key, NULL, 0, out);
    failed += report("cmac", out, cmac_empty, 16, err);
    cm_uart_puts(failed ? "self-test FAILED\n" : "self-test passed\n");
    if (failed)
        return 1;
    return cm_till();
}
