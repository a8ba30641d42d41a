/*
 * uart.c - the ARM CMSDK APB UART (CMSDK Technical Reference Manual, ARM DDI
 * 0479, 4.3) as QEMU's mps2-an385 places UART0 at 0x40004000 and UART1 at
 * 0x40005000: DATA, STATE (bit 0 TX buffer full, bit 1 RX buffer full), CTRL
 * (bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt enable), INTCLEAR
 * (bit 1 RX), BAUDDIV (>= 16). Polled; QEMU's -serial connects them. A wait
 * for a byte sleeps (WFI) until the RX interrupt (mps2-an385: UART0 RX is
 * IRQ 0, UART1 RX IRQ 2) or SysTick wakes the core, as a battery-powered
 * reader would, and so QEMU does not spin a host CPU while the card or the
 * till takes its time. Also SysTick (ARMv7-M B3.3) and the semihosting exit.
 */
#include "board.h"

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define UART_DATA 0x00u
#define UART_STATE 0x04u
#define UART_CTRL 0x08u
#define UART_INTCLEAR 0x0Cu
#define UART_BAUDDIV 0x10u
#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u
#define CTRL_RX_INT_EN 0x8u
#define INT_RX 0x2u
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void cm_uart_init(uint32_t base)
{
    REG(base, UART_BAUDDIV) = CM_CORE_HZ / 115200u;
    REG(base, UART_CTRL) = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    NVIC_ISER0 = 1u << (base == CM_UART0 ? 0u : 2u);
}

/* The RX interrupt only wakes the core; the byte is read where it is waited for. */
void cm_uart_rx_irq(void)
{
    REG(CM_UART0, UART_INTCLEAR) = INT_RX;
    REG(CM_UART1, UART_INTCLEAR) = INT_RX;
}

/* Sleeps until an interrupt unless a byte is there: with interrupts masked
 * between the look and the WFI, a byte that comes in between still wakes it
 * (a pending interrupt ends WFI), and its handler runs after. */
static void rx_sleep(uint32_t base)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    if (!(REG(base, UART_STATE) & STATE_RX_FULL))
        __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

void cm_uart_write(uint32_t base, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (REG(base, UART_STATE) & STATE_TX_FULL)
            ;
        REG(base, UART_DATA) = p[i];
    }
}

uint64_t cm_wait_cycles;
volatile uint64_t cm_wait_from;
volatile bool cm_waiting;

/* The cycle count: TIMER1, the second CMSDK APB timer (25 MHz, 32 bits),
 * counts down from 0xFFFFFFFF and wraps every 171 s; the wraps are counted
 * here as they are seen, so two readings more than 171 s apart may lose one.
 * Not SysTick: its count and its millisecond can disagree for a moment
 * around a wrap (the interrupt is taken a few instructions late, at the end
 * of a block under QEMU), which put whole milliseconds into COST. */
#define TIMER1_CTRL (*(volatile uint32_t *)0x40001000u)
#define TIMER1_VALUE (*(volatile uint32_t *)0x40001004u)
#define TIMER1_RELOAD (*(volatile uint32_t *)0x40001008u)

static uint32_t cycles_low;
static uint64_t cycles_high;

uint64_t cm_cycles(void)
{
    uint32_t primask, v;
    uint64_t c;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    v = 0xFFFFFFFFu - TIMER1_VALUE;
    if (v < cycles_low)
        cycles_high += 1ull << 32;
    cycles_low = v;
    c = cycles_high | v;
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return c;
}

bool cm_uart_read(uint32_t base, uint8_t *p, size_t cap, size_t *n, uint32_t timeout_ms)
{
    uint32_t start = cm_millis();
    size_t got = 0;
    bool came = true;
    cm_wait_from = cm_cycles();
    cm_waiting = true;
    /* Wait for the first byte, then take what is there without waiting:
     * the caller (the PN532 driver) reads again for the rest of a frame. */
    while (got == 0 && !(REG(base, UART_STATE) & STATE_RX_FULL)) {
        if (cm_millis() - start > timeout_ms) {
            came = false;
            break;
        }
        rx_sleep(base);
    }
    {
        /* The wait ends at once for the power-cut timer too (board.h). */
        uint64_t now = cm_cycles();
        __asm__ volatile("cpsid i" ::: "memory");
        cm_wait_cycles += now - cm_wait_from;
        cm_waiting = false;
        __asm__ volatile("cpsie i" ::: "memory");
    }
    if (!came) {
        *n = 0;
        return false;
    }
    while (got < cap && (REG(base, UART_STATE) & STATE_RX_FULL))
        p[got++] = (uint8_t)REG(base, UART_DATA);
    *n = got;
    return got > 0;
}

uint8_t cm_uart_getc(void)
{
    while (!(REG(CM_UART0, UART_STATE) & STATE_RX_FULL))
        rx_sleep(CM_UART0);
    return (uint8_t)REG(CM_UART0, UART_DATA);
}

void cm_uart_putc(char c)
{
    uint8_t b = (uint8_t)c;
    cm_uart_write(CM_UART0, &b, 1);
}

void cm_uart_puts(const char *s)
{
    while (*s)
        cm_uart_putc(*s++);
}

void cm_uart_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        cm_uart_putc(digits[p[i] >> 4]);
        cm_uart_putc(digits[p[i] & 15]);
    }
}

void cm_uart_dec(uint64_t v)
{
    char buf[21];
    size_t i = sizeof buf;
    buf[--i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && i > 0);
    cm_uart_puts(buf + i);
}

void cm_systick_start(void)
{
    TIMER1_CTRL = 0;
    TIMER1_RELOAD = 0xFFFFFFFFu;
    TIMER1_VALUE = 0xFFFFFFFFu;
    TIMER1_CTRL = 1u; /* enabled, no interrupt */
    SYST_RVR = CM_CORE_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x7; /* processor clock, interrupt, enable */
}

int32_t cm_semihost(uint32_t op, void *args)
{
    register uint32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

void cm_exit(int status)
{
    /* SYS_EXIT_EXTENDED (0x20): ADP_Stopped_ApplicationExit and the code. */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)status};
    (void)cm_semihost(0x20u, (void *)(uintptr_t)block);
    for (;;)
        ;
}
