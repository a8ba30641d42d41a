/*
 * cm_port.c - the terminal port (firmware/core/port.h) of the Cortex-M3
 * board (board.h).
 *
 * Storage: a flash area the linker script reserves (STORAGE, 64 KiB at the
 * top of the 256 KiB flash), memory-mapped for reads. On QEMU's mps2-an385
 * that area is SSRAM, so programming and erasing are stores; the functions
 * keep port.h's rules as a flash controller would (a program only over
 * bytes that read 0xFF, within one 2 KiB page; an erase is one page), so
 * the core meets on this board exactly the flash it would meet on an
 * STM32F1. A real board replaces the three stores with its flash
 * controller's program and erase sequences and their busy wait.
 * Clock: SysTick milliseconds since the till set the UTC time (TIME line);
 * LEAL_E_STATE before that, as port.h allows a board with no battery clock.
 * Randomness: the QEMU board has no true random source, so the till seeds
 * an AES-128 CTR generator (SEED line: 32 bytes from the PC's getrandom) and
 * the key is replaced after each request (fast key erasure), so a later
 * dump of RAM does not give earlier outputs. LEAL_E_RANDOM until seeded.
 * A real board would seed it from its TRNG (the STM32F4's RNG, the nRF52's
 * RNG peripheral) instead.
 */
#include "board.h"

#include "firmware/core/package.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/portable/provider_portable.h"

extern uint8_t _storage_start[];

#define JOURNAL_BASE 0u
#define CM_PN532_SLACK 5u
#define PACKAGE_BASE (CM_JOURNAL_UNITS * CM_FLASH_UNIT)

/* ---- storage: ctx is the area ---- */

struct cm_area {
    uint8_t *base;
    uint32_t units;
};

/* ---- the host file behind the area (semihosting; board.h) ---- */

#define SH_OPEN 0x01u
#define SH_WRITE 0x05u
#define SH_READ 0x06u
#define SH_SEEK 0x0Au
#define SH_FLEN 0x0Cu
#define SH_GET_CMDLINE 0x15u
#define SH_MODE_RB_PLUS 3u /* "r+b" */
#define SH_MODE_WB_PLUS 7u /* "w+b" */
#define CM_FLASH_WORD 4u

static int32_t flash_file = -1;
static uint32_t flash_words, flash_cut; /* cut 0: no power cut */
static uint64_t tap_cut;                /* tcut=: 0 no cut */
static uint64_t append_cut;             /* acut=: 0 no cut */
static bool cut_resets;                 /* the cut resets the board (CUT line) */
static char cmdline[160];

uint32_t cm_flash_words(void)
{
    return flash_words;
}

/* Writes the area's bytes [at, at + len) through to the file; they are
 * durable (to QEMU's death) once the host's write returned. */
static leal_err flash_sync(uint32_t at, size_t len)
{
    uint32_t seek[2] = {(uint32_t)flash_file, at};
    uint32_t wr[3] = {(uint32_t)flash_file, (uint32_t)(uintptr_t)(_storage_start + at),
                      (uint32_t)len};
    if (flash_file < 0 || len == 0)
        return LEAL_OK;
    if (cm_semihost(SH_SEEK, seek) != 0 || cm_semihost(SH_WRITE, wr) != 0)
        return LEAL_E_IO;
    return LEAL_OK;
}

static void tap_flash_begin(void);
static void tap_flash_landed(void);

/* One more word landed (its bytes already written through): the power
 * goes here when the test asked for it. */
static void flash_word_landed(void)
{
    tap_flash_landed();
    if (++flash_words == flash_cut) {
        cm_uart_puts("power: cut after flash word ");
        cm_uart_dec(flash_words);
        cm_uart_putc('\n');
        cm_exit(CM_EXIT_POWER_CUT);
    }
}

/* The value of the argument "NAME=VALUE" among the command line's words
 * (cm_flash_attach turned the spaces into NULs); NULL when absent. */
static const char *cmd_arg(const char *name, uint32_t len)
{
    for (uint32_t w = 0; w < len; w++) {
        uint32_t k = 0;
        while (name[k] != '\0' && cmdline[w + k] == name[k])
            k++;
        if (name[k] == '\0')
            return cmdline + w + k;
        while (w < len && cmdline[w] != '\0')
            w++;
    }
    return NULL;
}

leal_err cm_flash_attach(void)
{
    uint32_t get[2] = {(uint32_t)(uintptr_t)cmdline, sizeof cmdline - 1u};
    const char *file, *cut;
    uint32_t n, len, clen;
    leal_memset(cmdline, 0, sizeof cmdline);
    if (cm_semihost(SH_GET_CMDLINE, get) != 0)
        return LEAL_OK; /* no arguments: the flash lives in QEMU's memory */
    for (clen = 0; clen < get[1] && clen < sizeof cmdline; clen++)
        if (cmdline[clen] == ' ')
            cmdline[clen] = '\0';
    cut = cmd_arg("cut=", clen);
    if (cut != NULL) {
        for (n = 0; *cut >= '0' && *cut <= '9' && n < 100000000u; cut++)
            n = n * 10u + (uint32_t)(*cut - '0');
        if (*cut != '\0' || n == 0)
            return LEAL_E_FW_FLASH_FILE;
        flash_cut = n;
    }
    for (int which = 0; which < 2; which++) {
        cut = cmd_arg(which == 0 ? "tcut=" : "acut=", clen);
        if (cut == NULL)
            continue;
        for (n = 0; *cut >= '0' && *cut <= '9' && n < 100000000u; cut++)
            n = n * 10u + (uint32_t)(*cut - '0');
        if (*cut != '\0' || n == 0)
            return LEAL_E_FW_FLASH_FILE;
        if (which == 0)
            tap_cut = n;
        else
            append_cut = n;
    }
    file = cmd_arg("flash=", clen);
    if (file == NULL)
        return LEAL_OK;
    len = 0;
    while (file[len] != '\0')
        len++;
    {
        uint32_t op[3] = {(uint32_t)(uintptr_t)file, SH_MODE_RB_PLUS, len};
        flash_file = cm_semihost(SH_OPEN, op);
        if (flash_file < 0) {
            /* A new part: created erased. */
            op[1] = SH_MODE_WB_PLUS;
            if ((flash_file = cm_semihost(SH_OPEN, op)) < 0)
                return LEAL_E_IO;
            leal_memset(_storage_start, 0xFF, CM_STORAGE_BYTES);
            return flash_sync(0, CM_STORAGE_BYTES);
        }
    }
    {
        uint32_t flen[1] = {(uint32_t)flash_file};
        uint32_t rd[3] = {(uint32_t)flash_file, (uint32_t)(uintptr_t)_storage_start,
                          CM_STORAGE_BYTES};
        int32_t size = cm_semihost(SH_FLEN, flen);
        if (size < 0)
            return LEAL_E_IO;
        if ((uint32_t)size != CM_STORAGE_BYTES)
            return LEAL_E_FW_FLASH_FILE;
        if (cm_semihost(SH_READ, rd) != 0)
            return LEAL_E_IO;
    }
    return LEAL_OK;
}

/* ---- the power cut at a tap's N-th cycle (board.h) ---- */

#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
#define TIMER0_INTCLEAR (*(volatile uint32_t *)0x4000000Cu)
#define TIMER_ENABLE_IRQ 0x9u /* enable, interrupt enable */
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICER0 (*(volatile uint32_t *)0xE000E180u)
#define NVIC_IPR8 (*(volatile uint8_t *)0xE000E408u)
#define TIMER0_IRQ 8u

static uint64_t cut_c0, cut_w0;
static bool cut_armed, tap_on, tap_flash_started;
static uint64_t tap_flash_first, tap_flash_last;
static uint32_t tap_flash_words;

/* Cycles of the tap's transaction so far, waits (the one under way too) aside. */
static uint64_t tap_work(void)
{
    uint64_t now = cm_cycles();
    uint64_t waits = cm_wait_cycles - cut_w0 + (cm_waiting ? now - cm_wait_from : 0u);
    return now - cut_c0 - waits;
}

/* TIMER0 for the cycles still to run (at least one). */
static void cut_timer_set(uint64_t left)
{
    uint32_t v = left > 0x7FFFFFFFu ? 0x7FFFFFFFu : left == 0 ? 1u : (uint32_t)left;
    TIMER0_CTRL = 0;
    TIMER0_INTCLEAR = 1u;
    TIMER0_RELOAD = v;
    TIMER0_VALUE = v;
    TIMER0_CTRL = TIMER_ENABLE_IRQ;
}

void cm_timer0(void)
{
    uint64_t work;
    TIMER0_INTCLEAR = 1u;
    if (!cut_armed)
        return;
    work = tap_work();
    if (work >= tap_cut) {
        cm_uart_puts("\npower: cut ");
        cm_uart_dec(work);
        if (append_cut != 0) {
            cm_uart_puts(" cycles into the tap, ");
            cm_uart_dec(work - tap_flash_first);
            cm_uart_puts(" into its journal append (acut=");
            cm_uart_dec(append_cut);
        } else {
            cm_uart_puts(" cycles into the tap (tcut=");
            cm_uart_dec(tap_cut);
        }
        cm_uart_puts(")\n");
        if (cut_resets)
            cm_board_reset();
        cm_exit(CM_EXIT_POWER_CUT);
    }
    cut_timer_set(tap_cut - work);
}

#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define AIRCR_VECTKEY 0x05FA0000u
#define AIRCR_SYSRESETREQ 0x4u

void cm_board_reset(void)
{
    __asm__ volatile("cpsid i\n\tdsb" ::: "memory");
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;)
        ;
}

leal_err cm_tap_cut_next(bool in_append, uint64_t n)
{
    if (n == 0)
        return LEAL_E_FORMAT;
    if (in_append)
        append_cut = n;
    else
        tap_cut = n;
    cut_resets = true;
    return LEAL_OK;
}

/* The power cut's timer from the tap's work now (cut_c0, cut_w0 set). */
static void cut_start(void)
{
    cut_armed = true;
    NVIC_IPR8 = 0x80u; /* below SysTick (0): the milliseconds go on counting */
    cut_timer_set(tap_cut - tap_work());
    NVIC_ISER0 = 1u << TIMER0_IRQ;
}

/* A program or an erase begins: the tap's first one starts its journal
 * append, from which acut= counts. */
static void tap_flash_begin(void)
{
    if (!tap_on || tap_flash_started)
        return;
    tap_flash_started = true;
    tap_flash_first = tap_work();
    if (append_cut != 0 && !cut_armed) {
        tap_cut = tap_flash_first + append_cut;
        cut_start();
    }
}

static void tap_flash_landed(void)
{
    if (!tap_on)
        return;
    tap_flash_last = tap_work();
    tap_flash_words++;
}

void cm_tap_flash(uint64_t *first, uint64_t *last, uint32_t *words)
{
    *first = tap_flash_first;
    *last = tap_flash_last;
    *words = tap_flash_words;
}

void cm_tap_cut_arm(uint64_t c0, uint64_t w0)
{
    cut_c0 = c0;
    cut_w0 = w0;
    tap_on = true;
    tap_flash_first = tap_flash_last = 0;
    tap_flash_words = 0;
    tap_flash_started = false;
    if (tap_cut != 0)
        cut_start();
}

void cm_tap_cut_disarm(void)
{
    tap_on = false;
    append_cut = 0; /* the first tap only */
    if (!cut_armed) {
        tap_cut = 0;
        return;
    }
    NVIC_ICER0 = 1u << TIMER0_IRQ;
    TIMER0_CTRL = 0;
    cut_armed = false;
    tap_cut = 0; /* the first tap only: the restart's own taps run whole */
}

/* ---- storage: ctx is the area ---- */

/* A power cut is to be placed: each flash word is written through alone. */
static bool cut_placed(void)
{
    return flash_cut != 0 || tap_cut != 0 || append_cut != 0;
}

static leal_err fl_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    const struct cm_area *a = ctx;
    if (offset > a->units * CM_FLASH_UNIT || len > a->units * CM_FLASH_UNIT - offset)
        return LEAL_E_ARG;
    leal_memcpy(out, a->base + offset, len);
    return LEAL_OK;
}

/* Word by word, each written through before the next (so a cut leaves the
 * words before it in the file and none after). */
static leal_err fl_program(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    const struct cm_area *a = ctx;
    volatile uint8_t *p = a->base + offset;
    uint32_t at = (uint32_t)(a->base - _storage_start) + offset;
    leal_err err;
    if (offset > a->units * CM_FLASH_UNIT || len > a->units * CM_FLASH_UNIT - offset ||
        (len > 0 && offset / CM_FLASH_UNIT != (offset + (uint32_t)len - 1u) / CM_FLASH_UNIT))
        return LEAL_E_ARG;
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0xFFu)
            return LEAL_E_ARG; /* flash programs only erased bytes */
    tap_flash_begin();
    for (size_t w = 0; w < len; w += CM_FLASH_WORD) {
        size_t n = len - w < CM_FLASH_WORD ? len - w : CM_FLASH_WORD;
        for (size_t i = w; i < w + n; i++)
            p[i] = data[i];
        /* Without a cut to place, one write-through for the whole call. */
        if (cut_placed() && (err = flash_sync(at + (uint32_t)w, n)) != LEAL_OK)
            return err;
        flash_word_landed();
    }
    return cut_placed() ? LEAL_OK : flash_sync(at, len);
}

static leal_err fl_erase(void *ctx, uint32_t unit)
{
    const struct cm_area *a = ctx;
    volatile uint8_t *p = a->base + unit * CM_FLASH_UNIT;
    leal_err err;
    if (unit >= a->units)
        return LEAL_E_ARG;
    tap_flash_begin();
    for (uint32_t i = 0; i < CM_FLASH_UNIT; i++)
        p[i] = 0xFFu;
    if ((err = flash_sync((uint32_t)(a->base - _storage_start) + unit * CM_FLASH_UNIT,
                          CM_FLASH_UNIT)) != LEAL_OK)
        return err;
    flash_word_landed();
    return LEAL_OK;
}

static struct cm_area journal_area, package_area;

leal_err cm_board_format(struct cm_board *b)
{
    leal_err err = LEAL_OK;
    for (uint32_t u = 0; u < b->journal.unit_count && err == LEAL_OK; u++)
        err = b->journal.erase(b->journal.ctx, u);
    for (uint32_t u = 0; u < b->package.unit_count && err == LEAL_OK; u++)
        err = b->package.erase(b->package.ctx, u);
    return err;
}

/* ---- clock ---- */

static uint64_t clock_base; /* UTC seconds at clock_set_ms */
static uint32_t clock_set_ms;
static bool clock_set;

void cm_clock_set(uint64_t utc_seconds)
{
    clock_base = utc_seconds;
    clock_set_ms = cm_millis();
    clock_set = true;
}

leal_err cm_clock_now(uint64_t *utc_seconds)
{
    if (!clock_set)
        return LEAL_E_STATE;
    *utc_seconds = clock_base + (cm_millis() - clock_set_ms) / 1000u;
    return LEAL_OK;
}

/* The store's zone comes from the loaded package's site, as on the POSIX
 * port (posix_site_now). */
static leal_err cm_now(void *ctx, struct port_time *out)
{
    const struct package_terminal *pk = ctx;
    uint64_t utc;
    int16_t minutes;
    leal_err err;
    if (pk == NULL || !pk->loaded)
        return LEAL_E_STATE;
    if ((err = cm_clock_now(&utc)) != LEAL_OK ||
        (err = package_local_offset(&pk->info.site.zone, utc, &minutes)) != LEAL_OK)
        return err;
    out->utc_seconds = utc;
    out->utc_offset_minutes = minutes;
    return LEAL_OK;
}

/* ---- randomness ---- */

static uint8_t drbg_key[16], drbg_ctr[16];
static bool drbg_seeded;

void cm_random_seed(const uint8_t seed[32])
{
    leal_memcpy(drbg_key, seed, 16);
    leal_memcpy(drbg_ctr, seed + 16, 16);
    drbg_seeded = true;
}

static leal_err drbg_block(uint8_t out[16])
{
    leal_err err = crypto_portable_aes128_ecb_encrypt(drbg_key, drbg_ctr, out);
    for (int i = 15; i >= 0 && ++drbg_ctr[i] == 0; i--)
        ;
    return err;
}

leal_err cm_random_bytes(uint8_t *out, size_t n)
{
    uint8_t block[16];
    leal_err err = LEAL_OK;
    if (!drbg_seeded)
        return LEAL_E_RANDOM;
    for (size_t done = 0; done < n && err == LEAL_OK; done += 16) {
        size_t take = n - done < 16 ? n - done : 16;
        if ((err = drbg_block(block)) == LEAL_OK)
            leal_memcpy(out + done, block, take);
    }
    if (err == LEAL_OK && (err = drbg_block(block)) == LEAL_OK)
        leal_memcpy(drbg_key, block, 16); /* fast key erasure */
    leal_wipe(block, sizeof block);
    return err == LEAL_OK ? LEAL_OK : LEAL_E_RANDOM;
}

static leal_err cm_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    if (n > PORT_RANDOM_MAX)
        return LEAL_E_ARG;
    return cm_random_bytes(out, n);
}

/* ---- the operator line: "show LINE" on UART0 ---- */

static leal_err cm_show(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (len > PORT_SHOW_MAX)
        return LEAL_E_ARG;
    cm_uart_puts("show ");
    cm_uart_write(CM_UART0, (const uint8_t *)line, len);
    cm_uart_putc('\n');
    return LEAL_OK;
}

/* ---- the PN532 on UART1 ---- */

static leal_err pn_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    cm_uart_write(CM_UART1, p, n);
    return LEAL_OK;
}

static leal_err pn_read(void *ctx, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms)
{
    (void)ctx;
    return cm_uart_read(CM_UART1, p, cap, n, timeout_ms) ? LEAL_OK : LEAL_E_TIMEOUT;
}

void cm_board_init(struct cm_board *b, struct package_terminal *package)
{
    journal_area = (struct cm_area){_storage_start + JOURNAL_BASE, CM_JOURNAL_UNITS};
    package_area = (struct cm_area){_storage_start + PACKAGE_BASE, CM_PACKAGE_UNITS};
    b->journal = (struct port_storage){&journal_area, CM_FLASH_UNIT, CM_JOURNAL_UNITS,
                                       fl_read,       fl_program,    fl_erase};
    b->package = (struct port_storage){&package_area, CM_FLASH_UNIT, CM_PACKAGE_UNITS,
                                       fl_read,       fl_program,    fl_erase};
    b->pn532_port = (struct pn532_port){NULL, pn_write, pn_read};
    cm_uart_init(CM_UART1);
    pn532_init(&b->pn532, &b->pn532_port);
    /* QEMU's SysTick follows the host's clock, and the emulated PN532 is a
     * process on a shared host: give its answers CM_PN532_SLACK times the
     * driver's defaults (a real PN532 answers well within those). */
    b->pn532.ack_timeout_ms *= CM_PN532_SLACK;
    b->pn532.answer_timeout_ms *= CM_PN532_SLACK;
    pn532_card_reader(&b->pn532, &b->reader);
    b->port = (struct terminal_port){"cortex-m3", package, &b->reader, &b->journal,
                                     &b->package, cm_now,  cm_random,  cm_show};
}
