/*
 * board.h - what the Cortex-M3 port's files give each other (QEMU mps2-an385):
 * the CMSDK UARTs (polled: UART0 the console and till line, UART1 the PN532),
 * SysTick milliseconds, the terminal port over them (cm_port.c), and the end
 * of a run through ARM semihosting (QEMU's -semihosting) so that a test gets
 * the exit code. Freestanding, no heap.
 */
#ifndef LEAL_CM_BOARD_H
#define LEAL_CM_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/package.h"
#include "firmware/core/pn532.h"
#include "firmware/core/port.h"

/* The core clock QEMU's mps2-an385 models (25 MHz), for SysTick. */
#define CM_CORE_HZ 25000000u

/* CMSDK APB UARTs of the mps2-an385 (QEMU: -serial, in this order). */
#define CM_UART0 0x40004000u /* console and till lines */
#define CM_UART1 0x40005000u /* the PN532 (HSU, 115200 8N1) */

void cm_uart_init(uint32_t base);
void cm_uart_write(uint32_t base, const uint8_t *p, size_t n);
/* Up to cap bytes that are there within timeout_ms of waiting for the first
 * (the RX register holds one byte: the rest follow at once or not at all);
 * false when none came. */
bool cm_uart_read(uint32_t base, uint8_t *p, size_t cap, size_t *n, uint32_t timeout_ms);
/* One byte of UART0, waiting as long as it takes. */
uint8_t cm_uart_getc(void);
/* UART0's and UART1's RX interrupt (IRQ 0 and 2): wakes a waiting core. */
void cm_uart_rx_irq(void);
void cm_uart_putc(char c);
void cm_uart_puts(const char *s);
void cm_uart_hex(const uint8_t *p, size_t n);
void cm_uart_dec(uint64_t v);
uint32_t cm_millis(void);
/* Core clock cycles since cm_systick_start (CM_CORE_HZ; TIMER1 counts
 * them, uart.c), and how many of them cm_uart_read spent waiting for a first
 * byte: what a tap costs the CPU is the difference (under QEMU's -icount
 * shift=0 a cycle at 25 MHz is 40 guest instructions). */
uint64_t cm_cycles(void);
extern uint64_t cm_wait_cycles;
/* A wait of cm_uart_read under way, since cm_wait_from (the power-cut
 * timer leaves it out as COST does). */
extern volatile uint64_t cm_wait_from;
extern volatile bool cm_waiting;
void cm_systick_start(void);
/* One ARM semihosting call (op in r0, its argument block in r1; QEMU's
 * -semihosting-config enable=on,target=native serves it); what r0 holds after. */
int32_t cm_semihost(uint32_t op, void *args);
/* Ends the run: status 0 is success (semihosting SYS_EXIT_EXTENDED). */
__attribute__((noreturn)) void cm_exit(int status);
int cm_main(void);
/* err's name in two parts (build/firmware/err_board.c, err_subset.awk): what
 * goes first in *prefix ("LEAL_E_", or "" for LEAL_OK) and the rest returned
 * ("CARD_REMOVED"; "UNKNOWN" for a code outside the board's table): the board
 * stores its names without the prefix every error's begins with. */
const char *cm_errname(leal_err err, const char **prefix);
/* Serves the till's lines on UART0 until END (till.c); the run's exit status. */
int cm_till(void);

/* How deep the main stack went: cm_stack_paint fills it with CM_STACK_FILL
 * below the caller's frame (reset does, and each tap), cm_stack_used finds
 * the deepest byte that changed since and counts from the stack's top. */
#define CM_STACK_FILL 0xA5u
void cm_stack_paint(void);
uint32_t cm_stack_used(void);

/*
 * The terminal port of this board (cm_port.c): the storages in a reserved
 * flash area, the clock from SysTick once the till set it, randomness from
 * an AES-128 CTR generator the till seeds, the operator line on UART0 and
 * the reader through the PN532 driver on UART1.
 */
#define CM_FLASH_UNIT 2048u  /* an STM32F1 high-density page */
#define CM_JOURNAL_UNITS 8u  /* 16 KiB: 32 journal slots */
#define CM_PACKAGE_UNITS 16u /* two copies of 16 KiB */
#define CM_STORAGE_BYTES ((CM_JOURNAL_UNITS + CM_PACKAGE_UNITS) * CM_FLASH_UNIT)

struct cm_board {
    struct port_storage journal, package;
    struct pn532_port pn532_port;
    struct pn532 pn532;
    struct card_reader reader;
    struct terminal_port port;
};

/* Fills b; package (loaded later) gives the clock its zone. */
void cm_board_init(struct cm_board *b, struct package_terminal *package);
/* Erases both storages: a terminal being provisioned starts blank. */
LEAL_MUST_CHECK leal_err cm_board_format(struct cm_board *b);
/* The till sets the clock (UTC seconds now) and the generator's seed. */
void cm_clock_set(uint64_t utc_seconds);
LEAL_MUST_CHECK leal_err cm_clock_now(uint64_t *utc_seconds);
void cm_random_seed(const uint8_t seed[32]);

/*
 * Flash that outlives a run (QEMU only; cm_port.c). The emulated flash is
 * RAM to QEMU and starts as zeroes at every run, so when QEMU is started
 * with the semihosting argument flash=FILE (-semihosting-config
 * ...,arg=leal-cm3,arg=flash=FILE) the board mirrors the storages' 48 KiB
 * (CM_STORAGE_BYTES) in that host file: read whole at start (a missing file is created
 * erased, all 0xFF, like a new part), and every flash word programmed and
 * every page erased written through before the call returns, so the file
 * holds what the flash would hold when QEMU stops or is killed.
 * The argument cut=N (a test's power cut) stops the board, exit status
 * CM_EXIT_POWER_CUT, right after its N-th flash word (4 bytes, or the
 * shorter tail of a program) lands since reset, before the program call
 * returns: the rest of that program never reaches the file. A page erase
 * counts as one word and lands whole.
 * cm_flash_attach reads the arguments and the file: LEAL_OK also when no
 * flash= was given (the flash then lives in QEMU's memory only),
 * LEAL_E_IO when the file cannot be opened, read or created,
 * LEAL_E_FW_FLASH_FILE when it is not CM_STORAGE_BYTES long or cut= (tcut=,
 * acut= below) is not a positive number.
 */
#define CM_EXIT_POWER_CUT 5
LEAL_MUST_CHECK leal_err cm_flash_attach(void);
/*
 * A power cut at an arbitrary instruction of a tap (issue 18): the argument
 * tcut=N stops the board, exit status CM_EXIT_POWER_CUT, once the first tap
 * since reset has run N CPU cycles of its transaction (terminal_tap: the
 * card exchange and the journal append), the waits for the PN532's answers
 * left out exactly as COST counts them. The CMSDK timer TIMER0 (25 MHz,
 * IRQ 8) is programmed for the cycles still to run and, when it fires in a
 * wait, again for the rest; so the cut lands wherever the core is then: in
 * a command sent to the card and not answered, in a frame half sent, between
 * two flash words (a word reaches the file whole or not at all), in the
 * crypto. Under QEMU's -icount shift=0 a cycle is 40 guest instructions; the
 * same tap's count varies by about 2% from run to run (the PN532's answers
 * come in host-dependent pieces, and each piece is parsed again), so a cut
 * is replayed from N within that.
 * The argument acut=N does the same N cycles after the first tap's journal
 * append began (its first flash program or erase), where there are no waits:
 * a cut placed within the append whatever the card exchange before it took,
 * replayed within a cycle or two; or, N beyond the append, in the card's
 * commit after it (its waits left out as above), replayed within some 400
 * cycles.
 * cm_tap_cut_arm starts the count at the tap's transaction (with the cycle
 * and wait counts COST starts from), cm_tap_cut_disarm stops it; nothing
 * happens without tcut= or acut=.
 */
void cm_tap_cut_arm(uint64_t c0, uint64_t w0);
void cm_tap_cut_disarm(void);
/*
 * The same cut asked for by the till's line (CUT tcut=N, CUT acut=N: the
 * next tap's, in_append for acut=), and at it the board resets itself
 * instead of stopping QEMU: many cuts in one QEMU run (the test's
 * self-reset cuts, tests/integration/firmware_cuts.sh). The reset is the
 * Cortex-M3's own (SCB AIRCR SYSRESETREQ, cm_board_reset), which QEMU's
 * mps2-an385 answers with a system reset: the core starts again from the
 * vector table, the peripherals (UARTs, timers, SysTick, NVIC) from their
 * reset state, startup.c copies .data and zeroes .bss and paints the stack,
 * and the flash is read again from its host file, which holds the words
 * that landed whole before the cut and no others. Nothing in RAM is carried
 * across (the till gives the clock, seed and keys again, as after power-up).
 * LEAL_E_FORMAT: n is 0.
 */
LEAL_MUST_CHECK leal_err cm_tap_cut_next(bool in_append, uint64_t n);
/* The core's reset request (SYSRESETREQ); never returns. */
__attribute__((noreturn)) void cm_board_reset(void);
/* The last tap's flash words (its journal append): cycles into the tap (as
 * tcut= counts them) at which its first program or erase began and its last
 * word landed, and how many words; zeroes when it wrote none. Where a test
 * aims its cuts. */
void cm_tap_flash(uint64_t *first, uint64_t *last, uint32_t *words);
void cm_timer0(void);
/* Flash words programmed (and pages erased) since reset. */
uint32_t cm_flash_words(void);
LEAL_MUST_CHECK leal_err cm_random_bytes(uint8_t *out, size_t n);

#endif
