/* crypto_start.c - a floor of tests/bench/agent.sh: what OpenSSL 3's first
 * use costs a process. crypto_start 1 enciphers one AES-128 block the way
 * leal's provider does (EVP_CipherInit_ex2 on EVP_aes_128_ecb, after
 * OPENSSL_init_crypto with OPENSSL_INIT_NO_ATEXIT as crypto_openssl() calls
 * it): OpenSSL reads its configuration, loads the default provider and builds
 * its name and algorithm tables on that first call. crypto_start 0 links the
 * same library and calls nothing in it. A desk read authenticates to the card with
 * AES, so every process that reads a card pays the difference; the bare
 * APDUs (unauthenticated) do not. Exit 0 when the block came out. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const unsigned char key[16], in[16];
    unsigned char out[32];
    EVP_CIPHER_CTX *ctx;
    int outl = 0, ok;
    if (argc != 2 || (strcmp(argv[1], "0") != 0 && strcmp(argv[1], "1") != 0))
        return 2;
    if (argv[1][0] == '0')
        return 0;
    if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
        return 1;
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL && EVP_CipherInit_ex2(ctx, EVP_aes_128_ecb(), key, NULL, 1, NULL) == 1 &&
         EVP_CipherUpdate(ctx, out, &outl, in, (int)sizeof in) == 1 && outl == 16;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : 1;
}
