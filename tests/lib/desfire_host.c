/* desfire_host.c - reader-side DESFire for tests (see desfire_host.h). */
#include "desfire_host.h"

#include <string.h>

#include <openssl/evp.h>

#define FRAME 59
#define BIG 9000

void dfh_init(struct dfh *h, dfh_xfer_fn xfer, void *ctx)
{
    memset(h, 0, sizeof *h);
    h->xfer = xfer;
    h->ctx = ctx;
    h->keyno = -1;
}

uint32_t dfh_crc32(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    static int ready;
    uint32_t c = 0xFFFFFFFFu;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = i;
            for (int k = 0; k < 8; k++)
                v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
            table[i] = v;
        }
        ready = 1;
    }
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c; /* DESFire: no final inversion */
}

uint16_t dfh_crc16(const uint8_t *p, size_t n)
{
    uint32_t crc = 0x6363;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x8408 : crc >> 1;
    }
    return (uint16_t)crc;
}

/* OpenSSL CBC over a whole buffer; iv updated for encryption and decryption. */
static int cbc(int keytype, const uint8_t *key, size_t key_len, int enc, uint8_t *iv,
               const uint8_t *in, uint8_t *out, size_t len)
{
    uint8_t k[24], last[16];
    const EVP_CIPHER *c;
    size_t bs = keytype == DFH_AES_KEY ? 16 : 8;
    int ol = 0, fl = 0, ok;
    EVP_CIPHER_CTX *ctx;
    if (len == 0)
        return 0;
    if (keytype == DFH_AES_KEY) {
        c = EVP_aes_128_cbc();
        memcpy(k, key, 16);
    } else {
        c = EVP_des_ede3_cbc();
        if (key_len == 8) {
            memcpy(k, key, 8);
            memcpy(k + 8, key, 8);
            memcpy(k + 16, key, 8);
        } else if (key_len == 16) {
            memcpy(k, key, 16);
            memcpy(k + 16, key, 8);
        } else {
            memcpy(k, key, 24);
        }
    }
    memcpy(last, enc ? in + len - bs : in + len - bs, bs);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx && EVP_CipherInit_ex(ctx, c, NULL, k, iv, enc) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
         EVP_CipherUpdate(ctx, out, &ol, in, (int)len) == 1 &&
         EVP_CipherFinal_ex(ctx, out + ol, &fl) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return -1;
    memcpy(iv, enc ? out + len - bs : last, bs);
    return 0;
}

static int sess_cbc(struct dfh *h, int enc, uint8_t *iv, const uint8_t *in, uint8_t *out,
                    size_t len)
{
    return cbc(h->auth == DFH_AES ? DFH_AES_KEY : DFH_DES, h->sess, h->sess_len, enc, iv, in, out,
               len);
}

/* CMAC from iv over msg: subkeys from E(0), last block, then CBC over everything. */
static int cmac(struct dfh *h, const uint8_t *msg, size_t len, uint8_t *mac)
{
    size_t bs = h->bs, padded = len == 0 ? bs : (len + bs - 1) / bs * bs;
    uint8_t zero[16] = {0}, l[16] = {0}, k1[16] = {0}, k2[16] = {0}, iv0[16] = {0}, buf[BIG + 32],
            *sub;
    uint8_t rb = bs == 16 ? 0x87 : 0x1B;
    if (sess_cbc(h, 1, iv0, zero, l, bs) != 0)
        return -1;
    for (int round = 0; round < 2; round++) {
        const uint8_t *src = round == 0 ? l : k1;
        uint8_t *dst = round == 0 ? k1 : k2;
        for (size_t i = 0; i < bs; i++)
            dst[i] = (uint8_t)(src[i] << 1 | (i + 1 < bs ? src[i + 1] >> 7 : 0));
        if (src[0] & 0x80)
            dst[bs - 1] ^= rb;
    }
    memset(buf, 0, padded);
    memcpy(buf, msg, len);
    if (len == padded && len > 0) {
        sub = k1;
    } else {
        buf[len] = 0x80;
        sub = k2;
    }
    for (size_t i = 0; i < bs; i++)
        buf[padded - bs + i] ^= sub[i];
    if (sess_cbc(h, 1, h->iv, buf, buf, padded) != 0)
        return -1;
    memcpy(mac, h->iv, bs);
    return 0;
}

int dfh_raw(struct dfh *h, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
            size_t *out_len)
{
    uint8_t frame[1 + FRAME], resp[300];
    size_t off = 1, rl, n;
    int status;

    *out_len = 0;
    h->frames = 0;
    frame[0] = msg[0];
    for (;;) {
        n = len - off > FRAME ? FRAME : len - off;
        memcpy(frame + 1, msg + off, n);
        off += n;
        if (h->xfer(h->ctx, frame, 1 + n, resp, sizeof resp, &rl) != 0 || rl < 1)
            return -1;
        h->frames++;
        status = resp[0];
        if (status != 0xAF || off >= len)
            break;
        if (rl != 1)
            return -1; /* the card wants more and says nothing else */
        frame[0] = 0xAF;
    }
    for (;;) {
        if (*out_len + rl - 1 > cap)
            return -1;
        memcpy(out + *out_len, resp + 1, rl - 1);
        *out_len += rl - 1;
        if (status != 0xAF)
            return status;
        frame[0] = 0xAF;
        if (h->xfer(h->ctx, frame, 1, resp, sizeof resp, &rl) != 0 || rl < 1)
            return -1;
        h->frames++;
        status = resp[0];
    }
}

static void rotl(const uint8_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[(i + 1) % n];
}

int dfh_auth(struct dfh *h, uint8_t ins, uint8_t keyno, int keytype, const uint8_t *key,
             size_t key_len, const uint8_t *rnda)
{
    uint8_t f[40], r[64], rndb[16], rotb[16], tok[32], iv[16] = {0}, plain[16], rota[16];
    size_t n = keytype == DFH_DES ? 8 : 16, bs = keytype == DFH_AES_KEY ? 16 : 8, rl;
    int kt = keytype;

    h->auth = DFH_NONE;
    h->keyno = -1;
    f[0] = ins;
    f[1] = keyno;
    if (h->xfer(h->ctx, f, 2, r, sizeof r, &rl) != 0 || rl < 1)
        return -1;
    if (r[0] != 0xAF)
        return r[0];
    if (rl != 1 + n)
        return -1;
    if (cbc(kt, key, key_len, 0, iv, r + 1, rndb, n) != 0)
        return -1;
    rotl(rndb, rotb, n);
    memcpy(plain, rnda, n);
    if (ins == 0x0A) {
        /* D40 send mode: c_i = D(p_i xor c_(i-1)), IV zero. */
        uint8_t prev[8] = {0}, x[8], z[8];
        const uint8_t *src[2] = {rnda, rotb};
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < 8; i++)
                x[i] = src[b][i] ^ prev[i];
            memset(z, 0, 8);
            if (cbc(kt, key, key_len, 0, z, x, tok + 8 * b, 8) != 0)
                return -1;
            memcpy(prev, tok + 8 * b, 8);
        }
        memset(iv, 0, sizeof iv);
    } else {
        uint8_t both[32];
        memcpy(both, rnda, n);
        memcpy(both + n, rotb, n);
        /* IV continues from ek(RndB) (the iv after decrypting it). */
        if (cbc(kt, key, key_len, 1, iv, both, tok, 2 * n) != 0)
            return -1;
    }
    f[0] = 0xAF;
    memcpy(f + 1, tok, 2 * n);
    if (h->xfer(h->ctx, f, 1 + 2 * n, r, sizeof r, &rl) != 0 || rl < 1)
        return -1;
    if (r[0] != 0x00)
        return r[0];
    if (rl != 1 + n || cbc(kt, key, key_len, 0, iv, r + 1, rota, n) != 0)
        return -1;
    rotl(rnda, plain, n);
    if (memcmp(plain, rota, n) != 0)
        return -3; /* the card did not prove the key */
    memcpy(h->sess, rnda, 4);
    memcpy(h->sess + 4, rndb, 4);
    if (kt == DFH_AES_KEY) {
        memcpy(h->sess + 8, rnda + 12, 4);
        memcpy(h->sess + 12, rndb + 12, 4);
        h->sess_len = 16;
    } else if (kt == DFH_3K3DES) {
        memcpy(h->sess + 8, rnda + 6, 4);
        memcpy(h->sess + 12, rndb + 6, 4);
        memcpy(h->sess + 16, rnda + 12, 4);
        memcpy(h->sess + 20, rndb + 12, 4);
        h->sess_len = 24;
    } else if (key_len == 8 || memcmp(key, key + 8, 8) == 0) {
        h->sess_len = 8;
    } else {
        memcpy(h->sess + 8, rnda + 4, 4);
        memcpy(h->sess + 12, rndb + 4, 4);
        h->sess_len = 16;
    }
    h->auth = ins == 0x0A ? DFH_LEGACY : ins == 0x1A ? DFH_ISO : DFH_AES;
    h->bs = bs;
    h->keyno = keyno;
    memset(h->iv, 0, sizeof h->iv);
    return 0;
}

static size_t padlen(size_t n, size_t bs)
{
    return (n == 0 || n % bs) ? (n / bs + 1) * bs : n;
}

/* D40 MAC: CBC-encrypt (IV 0) zero-padded data, first 4 bytes of the last block. */
static int mac4(struct dfh *h, const uint8_t *p, size_t n, uint8_t out[4])
{
    uint8_t buf[BIG + 16], iv[8] = {0};
    size_t pl = padlen(n, 8);
    memset(buf, 0, pl);
    memcpy(buf, p, n);
    if (sess_cbc(h, 1, iv, buf, buf, pl) != 0)
        return -1;
    memcpy(out, iv, 4);
    return 0;
}

/* D40 send mode "decipher": c_i = D(p_i xor c_(i-1)). */
static int d40_send(struct dfh *h, uint8_t *buf, size_t len)
{
    uint8_t prev[8] = {0}, x[8], z[8];
    for (size_t off = 0; off < len; off += 8) {
        for (int i = 0; i < 8; i++)
            x[i] = buf[off + (size_t)i] ^ prev[i];
        memset(z, 0, 8);
        if (cbc(DFH_DES, h->sess, h->sess_len, 0, z, x, buf + off, 8) != 0)
            return -1;
        memcpy(prev, buf + off, 8);
    }
    return 0;
}

static int ev1(const struct dfh *h)
{
    return h->auth == DFH_ISO || h->auth == DFH_AES;
}

int dfh_cmd(struct dfh *h, const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t data_len,
            int cmd_comm, uint8_t *out, size_t cap, size_t *out_len, int resp_comm, size_t resp_len)
{
    static uint8_t msg[BIG + 64], r[BIG + 64];
    uint8_t mac[16];
    size_t len = hdr_len, rl;
    int status;

    *out_len = 0;
    memcpy(msg, hdr, hdr_len);
    if (data_len)
        memcpy(msg + len, data, data_len);
    len += data_len;
    if (h->auth != DFH_NONE) {
        if (cmd_comm == DFH_ENC) {
            size_t clen = ev1(h) ? 4 : 2, pl = padlen(data_len + clen, ev1(h) ? h->bs : 8);
            memset(msg + len, 0, pl - data_len);
            if (ev1(h)) {
                uint32_t c = dfh_crc32(msg, len);
                memcpy(msg + len,
                       (uint8_t[]){(uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16),
                                   (uint8_t)(c >> 24)},
                       4);
                if (sess_cbc(h, 1, h->iv, msg + hdr_len, msg + hdr_len, pl) != 0)
                    return -1;
            } else {
                uint16_t c = dfh_crc16(data, data_len);
                msg[len] = (uint8_t)c;
                msg[len + 1] = (uint8_t)(c >> 8);
                if (d40_send(h, msg + hdr_len, pl) != 0)
                    return -1;
            }
            len = hdr_len + pl;
        } else if (ev1(h)) {
            if (cmac(h, msg, len, mac) != 0)
                return -1;
            if (cmd_comm == DFH_MAC) {
                memcpy(msg + len, mac, 8);
                len += 8;
            }
        } else if (cmd_comm == DFH_MAC) {
            if (mac4(h, data, data_len, msg + len) != 0)
                return -1;
            len += 4;
        }
    }
    status = dfh_raw(h, msg, len, r, sizeof r, &rl);
    if (status < 0)
        return status;
    if (status != 0x00) {
        if (status != 0xAF && status != 0x0C) {
            h->auth = DFH_NONE;
            h->keyno = -1;
        }
        return status;
    }
    if (h->auth == DFH_NONE) {
        if (rl > cap)
            return -1;
        memcpy(out, r, rl);
        *out_len = rl;
        return 0;
    }
    if (ev1(h)) {
        if (resp_comm == DFH_ENC) {
            uint8_t st0 = 0;
            uint8_t tmp[BIG + 8];
            uint32_t c;
            if (rl % h->bs || resp_len + 4 > rl || sess_cbc(h, 0, h->iv, r, r, rl) != 0)
                return -2;
            memcpy(tmp, r, resp_len);
            tmp[resp_len] = st0;
            c = dfh_crc32(tmp, resp_len + 1);
            if (r[resp_len] != (uint8_t)c || r[resp_len + 1] != (uint8_t)(c >> 8) ||
                r[resp_len + 2] != (uint8_t)(c >> 16) || r[resp_len + 3] != (uint8_t)(c >> 24))
                return -2;
            rl = resp_len;
        } else {
            uint8_t tmp[BIG + 8];
            if (rl < 8)
                return -2;
            memcpy(tmp, r, rl - 8);
            tmp[rl - 8] = 0x00;
            if (cmac(h, tmp, rl - 7, mac) != 0 || memcmp(mac, r + rl - 8, 8) != 0)
                return -2;
            rl -= 8;
        }
    } else if (resp_comm == DFH_MAC) {
        if (rl < 4 || mac4(h, r, rl - 4, mac) != 0 || memcmp(mac, r + rl - 4, 4) != 0)
            return -2;
        rl -= 4;
    } else if (resp_comm == DFH_ENC) {
        uint8_t iv[8] = {0};
        uint16_t c;
        if (rl % 8 || resp_len + 2 > rl || sess_cbc(h, 0, iv, r, r, rl) != 0)
            return -2;
        c = dfh_crc16(r, resp_len);
        if (r[resp_len] != (uint8_t)c || r[resp_len + 1] != (uint8_t)(c >> 8))
            return -2;
        rl = resp_len;
    }
    if (rl > cap)
        return -1;
    memcpy(out, r, rl);
    *out_len = rl;
    return 0;
}

int dfh_change_key(struct dfh *h, uint8_t keyno_raw, int new_type, const uint8_t *new_key,
                   size_t nl, uint8_t version, const uint8_t *old_key)
{
    static uint8_t msg[128], r[128];
    size_t len = 2, rl;
    int status;

    msg[0] = 0xC4;
    msg[1] = keyno_raw;
    memcpy(msg + 2, new_key, nl);
    if (old_key)
        for (size_t i = 0; i < nl; i++)
            msg[2 + i] ^= old_key[i];
    len += nl;
    if (ev1(h)) {
        uint32_t c;
        size_t pl;
        if (new_type == DFH_AES_KEY)
            msg[len++] = version;
        c = dfh_crc32(msg, len);
        for (int i = 0; i < 4; i++)
            msg[len++] = (uint8_t)(c >> (8 * i));
        if (old_key) {
            c = dfh_crc32(new_key, nl);
            for (int i = 0; i < 4; i++)
                msg[len++] = (uint8_t)(c >> (8 * i));
        }
        pl = padlen(len - 2, h->bs);
        memset(msg + len, 0, pl - (len - 2));
        if (sess_cbc(h, 1, h->iv, msg + 2, msg + 2, pl) != 0)
            return -1;
        len = 2 + pl;
    } else {
        uint16_t c = dfh_crc16(msg + 2, nl);
        size_t pl;
        msg[len++] = (uint8_t)c;
        msg[len++] = (uint8_t)(c >> 8);
        if (old_key) {
            c = dfh_crc16(new_key, nl);
            msg[len++] = (uint8_t)c;
            msg[len++] = (uint8_t)(c >> 8);
        }
        pl = padlen(len - 2, 8);
        memset(msg + len, 0, pl - (len - 2));
        if (d40_send(h, msg + 2, pl) != 0)
            return -1;
        len = 2 + pl;
    }
    status = dfh_raw(h, msg, len, r, sizeof r, &rl);
    if (status != 0) {
        if (status > 0) {
            h->auth = DFH_NONE;
            h->keyno = -1;
        }
        return status;
    }
    if (old_key == NULL) {
        /* The authenticated key changed: the session is over, no MAC. */
        h->auth = DFH_NONE;
        h->keyno = -1;
        return rl == 0 ? 0 : -2;
    }
    if (ev1(h)) {
        uint8_t st0 = 0, mac[16];
        if (rl != 8 || cmac(h, &st0, 1, mac) != 0 || memcmp(mac, r, 8) != 0)
            return -2;
    }
    return 0;
}
