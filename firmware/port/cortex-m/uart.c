/*
 * uart.c - the ARM CMSDK APB UART (CMSDK Technical Reference Manual, ARM DDI
 * 0479, 4.3) as QEMU's mps2-an385 places UART0 at 0x40004000: DATA, STATE
 * (bit 0 TX buffer full, bit 1 RX buffer full), CTRL (bit 0 TX enable, bit 1
 * RX enable), BAUDDIV (>= 16). Polled; QEMU's -serial connects it. Also
 * SysTick (ARMv7-M B3.3) and the semihosting exit.
 */
#include "board.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10))
#define STATE_TX_FULL 0x1u
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void cm_uart_init(void)
{
    UART_BAUDDIV = CM_CORE_HZ / 115200u;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

void cm_uart_putc(char c)
{
    while (UART_STATE & STATE_TX_FULL)
        ;
    UART_DATA = (uint8_t)c;
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

void cm_systick_start(void)
{
    SYST_RVR = CM_CORE_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x7; /* processor clock, interrupt, enable */
}

void cm_exit(int status)
{
    /* SYS_EXIT_EXTENDED (0x20): ADP_Stopped_ApplicationExit and the code. */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)status};
    register uint32_t r0 __asm__("r0") = 0x20;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;)
        ;
}
