/*
 * startup.c - reset and the vector table of the Cortex-M3 (ARMv7-M
 * Architecture Reference Manual B1.5.3): the initial stack pointer, then the
 * handlers. Reset copies .data from flash, zeroes .bss and runs cm_main; the
 * faults stop the board through semihosting with a failure code so that a
 * test sees them instead of hanging. SysTick counts milliseconds.
 */
#include <stdint.h>

#include "board.h"

extern uint32_t _data_load[], _data_start[], _data_end[], _bss_start[], _bss_end[], _stack_bottom[],
    _stack_top[];

static volatile uint32_t cm_ticks;

void cm_reset(void);
void cm_fault(void);
void cm_systick(void);

void cm_reset(void)
{
    uint32_t *src = _data_load, *dst = _data_start;
    /* The linker's symbols bound one region each; comparing them is the point. */
    // cppcheck-suppress comparePointers
    while (dst < _data_end)
        *dst++ = *src++;
    // cppcheck-suppress comparePointers
    for (dst = _bss_start; dst < _bss_end; dst++)
        *dst = 0;
    cm_stack_paint();
    cm_exit(cm_main());
}

/* Paints the stack below this frame (64 bytes of room) for cm_stack_used.
 * Addresses as integers: the linker's symbols bound one region. */
void cm_stack_paint(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uintptr_t a = (uintptr_t)_stack_bottom; a < sp - 64u; a++)
        *(volatile uint8_t *)a = CM_STACK_FILL;
}

uint32_t cm_stack_used(void)
{
    uintptr_t a = (uintptr_t)_stack_bottom, top = (uintptr_t)_stack_top;
    while (a < top && *(const volatile uint8_t *)a == CM_STACK_FILL)
        a++;
    return (uint32_t)(top - a);
}

void cm_fault(void)
{
    cm_uart_puts("fault\n");
    cm_exit(3);
}

void cm_systick(void)
{
    cm_ticks++;
}

uint32_t cm_millis(void)
{
    return cm_ticks;
}

/* 16 system exceptions, then the board's interrupts up to TIMER0 (IRQ 8):
 * the UARTs' RX interrupts wake a waiting core (uart.c), TIMER0 places a
 * test's power cut (board.h). */
__attribute__((section(".vectors"), used)) static void (*const cm_vectors[16 + 9])(void) = {
    (void (*)(void))(uintptr_t)_stack_top,
    cm_reset,
    cm_fault, /* NMI */
    cm_fault, /* HardFault */
    cm_fault, /* MemManage */
    cm_fault, /* BusFault */
    cm_fault, /* UsageFault */
    0,
    0,
    0,
    0,
    cm_fault, /* SVCall */
    cm_fault, /* DebugMonitor */
    0,
    cm_fault, /* PendSV */
    cm_systick,
    cm_uart_rx_irq, /* IRQ 0: UART0 RX */
    cm_fault,       /* IRQ 1-7: UART TX, GPIO, never enabled */
    cm_uart_rx_irq, /* IRQ 2: UART1 RX */
    cm_fault,
    cm_fault,
    cm_fault,
    cm_fault,
    cm_fault,
    cm_timer0, /* IRQ 8 */
};
