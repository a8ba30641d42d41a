/*
 * board.h - what the Cortex-M3 port's files give each other (QEMU mps2-an385):
 * the CMSDK UART0 (polled), SysTick milliseconds, and the end of a run
 * through ARM semihosting (QEMU's -semihosting) so that a test gets the exit
 * code. Freestanding, no heap.
 */
#ifndef LEAL_CM_BOARD_H
#define LEAL_CM_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* The core clock QEMU's mps2-an385 models (25 MHz), for SysTick. */
#define CM_CORE_HZ 25000000u

void cm_uart_init(void);
void cm_uart_putc(char c);
void cm_uart_puts(const char *s);
void cm_uart_hex(const uint8_t *p, size_t n);
uint32_t cm_millis(void);
void cm_systick_start(void);
/* Ends the run: status 0 is success (semihosting SYS_EXIT_EXTENDED). */
__attribute__((noreturn)) void cm_exit(int status);
int cm_main(void);

#endif
