/*
 * till.c - the till's line protocol on UART0 of the Cortex-M3 terminal: the
 * same terminal core leal-terminal runs (firmware/core/terminal.h) over this
 * board's port (cm_port.c). One answer line per command: "ok ..." or
 * "error NAME" (keys/base/err.h: codes only, the till or the host has the
 * sentences; the board's flash keeps none, err_subset.awk); a tap first shows
 * the operator's line ("show card 7 earn: +23 points, 0 -> 23"; a refusal
 * "REFUSED: NAME"). The lines:
 *   TIME <utc seconds>   sets the clock (the board has no battery clock)
 *   SEED <64 hex>        seeds the random generator (cm_port.c)
 *   BUNDLE <hex>         the terminal's key bundle, plaintext (keys/bundle.h),
 *                        checked for expiry and kept in the software SAM in RAM
 *   FORMAT               erases the journal's and the package's flash
 *   LOAD <hex>           a terminal package (PACKAGE.md) into its flash, in
 *                        two copies (firmware/port/posix/package_store.h)
 *   EARN, PAY, PAYEARN, REDEEM, STAMP, BONO, VOID, BALANCE   one tap of the
 *                        card in the field each (firmware/core/till_line.h)
 *   EXPORT               the journal's export (JOURNAL.md), in hex
 *   STACK                the main stack's deepest use since the last tap began
 *                        (or since reset), in bytes
 *   COST                 the last tap's CPU cycles, waits for the PN532 aside
 *   WORDS                flash words programmed (and pages erased) since
 *                        reset (board.h: where a test's power cut lands)
 *   APPEND               the last tap's journal append: the cycles into the
 *                        tap (as COST and tcut= count) at which its first
 *                        program began and its last word landed, and its
 *                        words (board.h: where a test aims a power cut)
 *   CUT tcut=N|acut=N    the next tap's power cut, N cycles into it or into its
 *                        journal append, at which the board resets itself
 *                        (board.h cm_tap_cut_next; a test's self-reset cuts)
 *   RESET                the board resets itself (answers "ok reset" first)
 *   WIPE                 forgets the keys (what a tamper switch would call)
 *   END                  ends the run (exit 0)
 * Why the bundle comes in plaintext over the line: a sealed bundle needs
 * scrypt's memory, which no reader MCU has; a real board keeps the terminal
 * keys in a secure element or a SAM in the second slot, provisioned once.
 */
#include "board.h"
#include "firmware/core/terminal.h"
#include "firmware/core/till_line.h"
#include "firmware/port/posix/package_store.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/base/hex.h"
#include "keys/bundle.h"
#include "keys/portable/provider_portable.h"

/* The largest hex argument (a package, a bundle) and the export's buffer. */
#define TILL_BUF_LEN 4096u
#define TILL_WORD_LEN 12u
#define TILL_CARD_WAIT_MS 5000u
/* The package keys a LOAD checks against: the software SAM holds at most
 * LEAL_MAX_KEY_VERSIONS of them (a bundle of more is refused), so the board
 * needs no room for PACKAGE_MAX_KEYS (528 bytes on the LOAD's stack, 396 more
 * than these 4); one more than that would be sam_package_keys' LEAL_E_NO_SPACE. */
#define TILL_PACKAGE_KEYS                                                                          \
    (LEAL_MAX_KEY_VERSIONS < PACKAGE_MAX_KEYS ? LEAL_MAX_KEY_VERSIONS : PACKAGE_MAX_KEYS)

static const struct crypto_provider cm_crypto = CRYPTO_PORTABLE_PROVIDER(cm_random_bytes);

static struct cm_board board;
static struct sam_soft soft;
static struct sam sam;
static struct sam_info who;
static struct journal journal;
static struct package_store store;
static struct package_terminal package;
static struct terminal term;
static uint8_t buf[TILL_BUF_LEN];
static uint64_t last_cost; /* cycles of the last tap (cm_cycles), waits aside */
static bool have_keys, journal_is_open, store_is_open, term_is_open, reader_up;

static void answer_err(leal_err err)
{
    const char *prefix, *rest = cm_errname(err, &prefix);
    cm_uart_puts("error ");
    cm_uart_puts(prefix);
    cm_uart_puts(rest);
    cm_uart_putc('\n');
}

static void answer_ok(const char *what)
{
    cm_uart_puts("ok ");
    cm_uart_puts(what);
    cm_uart_putc('\n');
}

static bool word_is(const char *w, const char *name)
{
    while (*w && *w == *name)
        w++, name++;
    return *w == '\0' && *name == '\0';
}

/* The command word; *end is the byte after it (' ' or '\n'). */
static void read_word(char *w, size_t cap, uint8_t *end)
{
    size_t n = 0;
    uint8_t c;
    while ((c = cm_uart_getc()) == '\r' || c == '\n')
        ;
    while (c != ' ' && c != '\n' && c != '\r') {
        if (n + 1 < cap)
            w[n++] = (char)c;
        c = cm_uart_getc();
    }
    w[n] = '\0';
    *end = c == '\r' ? (uint8_t)'\n' : c;
}

/* The hex argument into buf (to the end of the line). */
static leal_err read_hex(size_t *len)
{
    size_t n = 0, digits = 0, one;
    leal_err err = LEAL_OK;
    char pair[2];
    uint8_t c;
    while ((c = cm_uart_getc()) != '\n') {
        if (c == '\r')
            continue;
        pair[digits++ % 2] = (char)c;
        if (digits % 2 != 0 || err != LEAL_OK)
            continue;
        if (n == sizeof buf)
            err = LEAL_E_TOO_LARGE;
        else if (leal_hex_decode(pair, 2, buf + n, 1, &one) != LEAL_OK)
            err = LEAL_E_FORMAT;
        else
            n++;
    }
    if (err == LEAL_OK && (digits == 0 || digits % 2 != 0))
        err = LEAL_E_FORMAT;
    *len = n;
    return err;
}

/* The rest of the line after the command word into a (NUL-terminated). */
static leal_err read_args(char *a, size_t cap, uint8_t end)
{
    size_t n = 0;
    leal_err err = LEAL_OK;
    uint8_t c = end;
    while (c != '\n' && (c = cm_uart_getc()) != '\n') {
        if (c == '\r')
            continue;
        if (n + 1 < cap)
            a[n++] = (char)c;
        else
            err = LEAL_E_TOO_LARGE;
    }
    a[n] = '\0';
    return err;
}

/* The bundle is decoded in this frame (1,120 bytes, on the stack only
 * while BUNDLE runs, wiped before it returns) and the software SAM keeps
 * its keys alone (536 bytes for the whole run): the keys held before are
 * wiped first, so a BUNDLE that fails leaves the board with none. */
LEAL_NOINLINE static leal_err do_bundle(void)
{
    struct bundle b;
    uint64_t now;
    size_t len;
    leal_err err = read_hex(&len);
    sam_soft_close(&soft);
    have_keys = false;
    if (err == LEAL_OK && (err = cm_clock_now(&now)) == LEAL_OK &&
        (err = bundle_decode(buf, len, &b)) == LEAL_OK &&
        (err = bundle_check(&b, b.issuer_id, b.program_id, now)) == LEAL_OK &&
        (err = sam_soft_open(&soft, &cm_crypto, &b, &sam)) == LEAL_OK)
        err = sam.info(sam.ctx, &who);
    if (err != LEAL_OK)
        sam_soft_close(&soft);
    bundle_clear(&b);
    leal_wipe(buf, sizeof buf);
    have_keys = err == LEAL_OK;
    return err;
}

static void wipe_keys(void)
{
    terminal_close(&term);
    journal_close(&journal);
    sam_soft_close(&soft);
    have_keys = journal_is_open = term_is_open = false;
}

/* What a package must be for this terminal now. */
static leal_err expect(struct package_key keys[TILL_PACKAGE_KEYS], struct package_expect *e)
{
    uint64_t now;
    size_t n;
    leal_err err;
    if ((err = cm_clock_now(&now)) != LEAL_OK ||
        (err = sam_package_keys(&sam, keys, TILL_PACKAGE_KEYS, &n)) != LEAL_OK)
        return err;
    leal_memset(e, 0, sizeof *e);
    e->program_id = who.program_id;
    e->terminal_id = who.terminal_id;
    e->now = now;
    e->loaded_version = package.loaded ? package.info.version : 0;
    e->keys = keys;
    e->nkeys = n;
    return LEAL_OK;
}

/* The journal in flash, opened once the keys are in. Its frame and the
 * package store's are their own (not inlined into one another or into the
 * commands: with -flto the journal's open and the package's check would
 * otherwise share one frame under every LOAD). */
LEAL_NOINLINE static leal_err open_journal(void)
{
    struct journal_report rep; /* what the open found: not kept (no command shows it) */
    struct journal_config cfg;
    struct port_time now;
    uint64_t utc;
    leal_err err;
    cfg.program_id = who.program_id;
    cfg.terminal_id = who.terminal_id;
    if ((err = sam.journal_key(sam.ctx, cfg.key, &cfg.key_version)) == LEAL_OK &&
        (err = cm_clock_now(&utc)) == LEAL_OK) {
        now.utc_seconds = utc;
        now.utc_offset_minutes = 0; /* the journal's own entries: UTC */
        err = journal_open(&journal, &board.journal, &cm_crypto, &cfg, &now, &rep);
    }
    leal_wipe(&cfg, sizeof cfg);
    return err;
}

/* The package store in flash: the newest copy that verifies. */
LEAL_NOINLINE static leal_err open_store(void)
{
    struct package_key keys[TILL_PACKAGE_KEYS];
    struct package_expect e;
    unsigned copies;
    leal_err err;
    if ((err = package_store_init(&store, &board.package)) != LEAL_OK ||
        (err = expect(keys, &e)) != LEAL_OK)
        return err;
    return package_store_select(&store, &cm_crypto, &e, &package, &copies);
}

/* The journal and the package store, opened once the keys are in. */
static leal_err open_storage(void)
{
    leal_err err;
    if (!have_keys)
        return LEAL_E_STATE;
    if (!journal_is_open) {
        if ((err = open_journal()) != LEAL_OK)
            return err;
        journal_is_open = true;
    }
    if (!store_is_open) {
        if ((err = open_store()) != LEAL_OK)
            return err;
        store_is_open = true;
    }
    return LEAL_OK;
}

/* The commands' frames are their own (not inlined into cm_till), so the
 * deepest of them is not under every tap. */
LEAL_NOINLINE static leal_err do_load(void)
{
    struct package_key keys[TILL_PACKAGE_KEYS];
    struct package_expect e;
    size_t len;
    leal_err err = read_hex(&len);
    if (err == LEAL_OK && (err = open_storage()) == LEAL_OK && (err = expect(keys, &e)) == LEAL_OK)
        err = package_store_load(&store, &cm_crypto, &e, &package, buf, (uint32_t)len);
    return err;
}

LEAL_NOINLINE static leal_err do_export(void)
{
    struct journal_export_info info;
    leal_err err = open_storage();
    if (err == LEAL_OK && (err = journal_export(&journal, buf, sizeof buf, &info)) == LEAL_OK) {
        cm_uart_puts("ok export ");
        cm_uart_hex(buf, info.len);
        cm_uart_putc('\n');
    }
    return err;
}

/* ---- the operator's line, as leal-terminal's (terminal_tap.c) ---- */

struct line {
    char s[PORT_SHOW_MAX];
    size_t n;
};

static void put(struct line *l, const char *s)
{
    while (*s && l->n < sizeof l->s)
        l->s[l->n++] = *s++;
}

static void put_dec(struct line *l, int64_t v, bool sign)
{
    char d[21];
    size_t i = sizeof d;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    d[--i] = '\0';
    do {
        d[--i] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0);
    if (v < 0)
        put(l, "-");
    else if (sign)
        put(l, "+");
    put(l, d + i);
}

static void put_euros(struct line *l, int64_t cents)
{
    int64_t a = cents < 0 ? -cents : cents;
    if (cents < 0)
        put(l, "-");
    put_dec(l, a / 100, false);
    put(l, a % 100 < 10 ? ".0" : ".");
    put_dec(l, a % 100, false);
}

static const char *op_name(uint8_t op)
{
    static const char *names[] = {"?",     "earn", "pay",  "pay+earn", "redeem",
                                  "stamp", "bono", "void", "balance",  "top-up"};
    return op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static void put_stamps(struct line *l, const struct state_body *st)
{
    put(l, "stamps");
    for (size_t i = 0; i < RULES_STAMP_CARDS; i++) {
        put(l, " ");
        put_dec(l, st->stamps[i], false);
    }
}

/* "23 -> 33" */
static void put_points(struct line *l, const struct terminal_result *r)
{
    put_dec(l, r->before.points, false);
    put(l, " -> ");
    put_dec(l, r->after.points, false);
}

/* What a void undid (leal-terminal's void_words): a bono by its name in the
 * package where it has one. */
static void void_words(struct line *l, const struct terminal_result *r)
{
    struct package_name name;
    bool found = false;
    put(l, "voided the ");
    if (r->voided_op == TERMINAL_BONO) {
        put(l, "session of bono ");
        put_dec(l, r->voided_item, false);
        if (package_name_find(&package.info, &package.source, PACKAGE_NAME_BONO, r->voided_item,
                              &found, &name) == LEAL_OK &&
            found) {
            put(l, " (");
            put(l, name.text);
            put(l, ")");
        }
        put(l, ": ");
        put_dec(l, r->bono_left, false);
        put(l, " left");
        return;
    }
    if (r->voided_op == TERMINAL_STAMP) {
        put(l, "stamp on card ");
        put_dec(l, (int64_t)r->voided_item + 1, false);
        put(l, ": ");
        put_stamps(l, &r->after);
        return;
    }
    put(l, op_name(r->voided_op));
    put(l, ": ");
    if (r->voided_op == TERMINAL_PAY || r->voided_op == TERMINAL_PAY_EARN) {
        put_euros(l, (int64_t)r->purse_after - r->purse_before);
        put(l, " euros back, ");
        put_euros(l, r->purse_after);
        put(l, " left; ");
    }
    put_points(l, r);
    put(l, " points");
}

/* The operator's line, word for word leal-terminal tap's (terminal_tap.c).
 * Not inlined: its line (PORT_SHOW_MAX bytes) is not on the stack during
 * the tap (do_tap). */
LEAL_NOINLINE static void show_result(const struct terminal_result *r)
{
    struct line l = {.n = 0};
    put(&l, "card ");
    put_dec(&l, (int64_t)r->card_id, false);
    put(&l, " ");
    put(&l, op_name(r->op));
    put(&l, ": ");
    if (r->outcome == TERMINAL_REFUSED) {
        const char *prefix, *rest = cm_errname((leal_err)r->reason, &prefix);
        put(&l, "REFUSED: ");
        put(&l, prefix);
        put(&l, rest);
    } else if (r->outcome != TERMINAL_DONE) {
        put(&l, "NO ANSWER at the last step: tap the card here again");
    } else if (r->op == TERMINAL_PAY || r->op == TERMINAL_PAY_EARN) {
        put(&l, "paid ");
        put_euros(&l, (int64_t)r->purse_before - r->purse_after);
        put(&l, ", ");
        put_euros(&l, r->purse_after);
        put(&l, " euros left");
    } else if (r->op == TERMINAL_REDEEM) {
        put(&l, "reward redeemed: ");
        put_points(&l, r);
        put(&l, " points");
    } else if (r->op == TERMINAL_STAMP) {
        put(&l, "stamped: ");
        put_stamps(&l, &r->after);
    } else if (r->op == TERMINAL_BONO) {
        put(&l, "bono session used: ");
        put_dec(&l, r->bono_left, false);
        put(&l, " left");
    } else if (r->op == TERMINAL_VOID) {
        void_words(&l, r);
    } else if (r->op == TERMINAL_BALANCE) {
        put_dec(&l, r->after.points, false);
        put(&l, " points, ");
        put_euros(&l, r->purse_after);
        put(&l, " euros, ");
        put_stamps(&l, &r->after);
    }
    if (r->outcome == TERMINAL_DONE && (r->op == TERMINAL_EARN || r->op == TERMINAL_PAY_EARN)) {
        put(&l, r->op == TERMINAL_PAY_EARN ? "; " : "");
        put_dec(&l, r->points, true);
        put(&l, " points, ");
        put_points(&l, r);
    }
    if (board.port.show(board.port.ctx, l.s, l.n) != LEAL_OK)
        cm_uart_puts("show: the line could not be written\n");
}

/* One tap of the card in the field. */
LEAL_NOINLINE static leal_err do_tap(const struct terminal_request *req)
{
    static struct terminal_result res;
    struct terminal_setup s;
    struct pn532_target t;
    struct terminal_card card;
    leal_err err;
    uint32_t start;
    uint64_t c0, w0;
    cm_stack_paint();
    if ((err = open_storage()) != LEAL_OK)
        return err;
    if (!package.loaded)
        return LEAL_E_STATE;
    if (!term_is_open) {
        leal_memset(&s, 0, sizeof s);
        s.port = &board.port;
        s.cp = &cm_crypto;
        s.sam = &sam;
        s.cfg.store_id = package.info.site.store_id;
        s.cfg.classic_purse_cap = package.info.site.classic_purse_cap_cents;
        s.package = &package;
        s.journal = &journal;
        if ((err = terminal_open(&term, &s)) != LEAL_OK)
            return err;
        term_is_open = true;
    }
    if (!reader_up) {
        if ((err = pn532_begin(&board.pn532, NULL)) != LEAL_OK)
            return err;
        reader_up = true;
    }
    start = cm_millis();
    while ((err = pn532_select(&board.pn532, &t)) == LEAL_E_NO_CARD &&
           cm_millis() - start < TILL_CARD_WAIT_MS)
        ;
    if (err != LEAL_OK)
        return err;
    leal_memset(&card, 0, sizeof card);
    card.type = t.sak & 0x20u ? TERMINAL_CARD_DESFIRE : TERMINAL_CARD_CLASSIC;
    leal_memcpy(card.uid, t.uid, t.uid_len);
    card.uid_len = t.uid_len;
    leal_memset(&res, 0, sizeof res);
    c0 = cm_cycles();
    w0 = cm_wait_cycles;
    cm_tap_cut_arm(c0, w0);
    err = terminal_tap(&term, &card, req, &res);
    cm_tap_cut_disarm();
    last_cost = cm_cycles() - c0 - (cm_wait_cycles - w0);
    pn532_release(&board.pn532);
    if (err != LEAL_OK)
        return err;
    show_result(&res);
    cm_uart_puts(res.outcome == TERMINAL_DONE      ? "ok done"
                 : res.outcome == TERMINAL_REFUSED ? "ok refused"
                                                   : "ok in-doubt");
    cm_uart_puts(" card ");
    cm_uart_dec(res.card_id);
    cm_uart_puts(" points ");
    cm_uart_dec(res.after.points);
    cm_uart_puts(" entry ");
    cm_uart_dec(res.entry.epoch);
    cm_uart_putc('/');
    cm_uart_dec(res.entry.seq);
    cm_uart_putc('\n');
    return LEAL_OK;
}

/* CUT's argument into a: "tcut=N" or "acut=N", the next tap's power cut
 * (board.h cm_tap_cut_next). */
static leal_err do_cut(char *a, size_t cap, uint8_t end)
{
    bool in_append;
    const char *p = a + 5;
    uint64_t n;
    leal_err err = read_args(a, cap, end);
    if (err != LEAL_OK)
        return err;
    in_append = a[0] == 'a';
    if ((a[0] != 't' && a[0] != 'a') || a[1] != 'c' || a[2] != 'u' || a[3] != 't' || a[4] != '=')
        return LEAL_E_FORMAT;
    if ((err = till_line_number(&p, ' ', 1, UINT32_MAX, &n)) != LEAL_OK)
        return err;
    if (*p != '\0')
        return LEAL_E_FORMAT;
    if ((err = cm_tap_cut_next(in_append, n)) == LEAL_OK)
        answer_ok("cut");
    return err;
}

int cm_till(void)
{
    /* Static, as the port's other buffers: the tap's stack is the core's. */
    static struct terminal_request req;
    static char a[TILL_LINE_ARGS_MAX];
    char w[TILL_WORD_LEN];
    const char *p;
    uint8_t end;
    uint64_t v;
    leal_err err;
    cm_board_init(&board, &package);
    if ((err = cm_flash_attach()) != LEAL_OK) {
        cm_uart_puts("flash: ");
        answer_err(err);
        return 1;
    }
    cm_uart_puts("till: ready\n");
    for (;;) {
        size_t len;
        read_word(w, sizeof w, &end);
        err = LEAL_OK;
        if (word_is(w, "TIME") && end == ' ') {
            p = a;
            if ((err = read_args(a, sizeof a, end)) == LEAL_OK &&
                (err = till_line_number(&p, ' ', 0, UINT32_MAX, &v)) == LEAL_OK && *p != '\0')
                err = LEAL_E_FORMAT;
            if (err == LEAL_OK) {
                cm_clock_set(v);
                answer_ok("time");
            }
        } else if (word_is(w, "SEED") && end == ' ') {
            if ((err = read_hex(&len)) == LEAL_OK && len != 32)
                err = LEAL_E_FORMAT;
            if (err == LEAL_OK) {
                cm_random_seed(buf);
                answer_ok("seed");
            }
            leal_wipe(buf, sizeof buf);
        } else if (word_is(w, "BUNDLE") && end == ' ') {
            if ((err = do_bundle()) == LEAL_OK)
                answer_ok("bundle");
        } else if (word_is(w, "FORMAT") && end == '\n') {
            journal_is_open = store_is_open = term_is_open = false;
            package.loaded = false;
            if ((err = cm_board_format(&board)) == LEAL_OK)
                answer_ok("format");
        } else if (word_is(w, "LOAD") && end == ' ') {
            if ((err = do_load()) == LEAL_OK)
                answer_ok("package");
        } else if (word_is(w, "EXPORT") && end == '\n') {
            err = do_export();
        } else if (word_is(w, "STACK") && end == '\n') {
            cm_uart_puts("ok stack ");
            cm_uart_dec(cm_stack_used());
            cm_uart_putc('\n');
        } else if (word_is(w, "COST") && end == '\n') {
            cm_uart_puts("ok cost ");
            cm_uart_dec(last_cost);
            cm_uart_puts(" cycles\n");
        } else if (word_is(w, "APPEND") && end == '\n') {
            uint64_t first, last;
            uint32_t words;
            cm_tap_flash(&first, &last, &words);
            cm_uart_puts("ok append first ");
            cm_uart_dec(first);
            cm_uart_puts(" last ");
            cm_uart_dec(last);
            cm_uart_puts(" words ");
            cm_uart_dec(words);
            cm_uart_putc('\n');
        } else if (word_is(w, "WORDS") && end == '\n') {
            cm_uart_puts("ok words ");
            cm_uart_dec(cm_flash_words());
            cm_uart_putc('\n');
        } else if (word_is(w, "CUT") && end == ' ') {
            err = do_cut(a, sizeof a, end);
        } else if (word_is(w, "RESET") && end == '\n') {
            answer_ok("reset");
            cm_board_reset();
        } else if (word_is(w, "WIPE") && end == '\n') {
            wipe_keys();
            answer_ok("wiped");
        } else if (word_is(w, "END") && end == '\n') {
            wipe_keys();
            answer_ok("end");
            return 0;
        } else if ((err = read_args(a, sizeof a, end)) == LEAL_OK &&
                   (err = till_line_request(w, a, &req)) == LEAL_OK) {
            err = do_tap(&req); /* EARN, PAY, PAYEARN, REDEEM, STAMP, BONO, VOID, BALANCE */
        }
        if (err != LEAL_OK)
            answer_err(err);
    }
}
