// SPDX-License-Identifier: Apache-2.0
/* Cortex-M4F startup for QEMU's mps2-an386 board: vector table, FPU enable, then newlib's _start
 * (which zeroes .bss, sets up semihosting argv/heap, runs constructors, calls main and exits with
 * main's return value through semihosting SYS_EXIT, so QEMU's exit code is the test result).
 * For a real part, use the vendor's startup file (it also copies .data from flash). */
#include <stdint.h>

extern uint32_t __stack_top;
extern void _start(void);

#if FENNEC_M4_OWN_START
/* Images with a RAM budget (mps2_train.ld) start themselves: newlib's _start would move the stack
 * to where QEMU's SYS_HEAPINFO puts it, outside the image's RAM region. So: zero .bss, run the
 * constructors, call main, and exit with its return value (SYS_EXIT_EXTENDED carries the code). */
extern uint32_t __bss_start__, __bss_end__;
extern void __libc_init_array(void);
extern int main(void);

static void exit_with(int code) {
  const uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  register uint32_t r0 __asm("r0") = 0x20u; /* SYS_EXIT_EXTENDED */
  register const uint32_t* r1 __asm("r1") = block;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

static void start_image(void) {
  for (uint32_t* p = &__bss_start__; p < &__bss_end__; ++p) *p = 0;
  __libc_init_array();
  exit_with(main());
}
#else
#define start_image _start
#endif

void Reset_Handler(void) {
  /* SCB->CPACR: full access to CP10/CP11 (the FPU) before the first floating-point instruction. */
  *(volatile uint32_t*)0xE000ED88 |= (0xFu << 20);
  __asm volatile("dsb\n isb");
  start_image();
  for (;;) {
  }
}

/* A fault spins here; the CTest TIMEOUT turns that into a failure. */
void Default_Handler(void) {
  for (;;) {
  }
}

/* Armv7-M vector table: initial stack pointer, then 15 system exception handlers (0 = reserved).
 * A struct keeps data and function pointers apart (ISO C has no conversion between them). */
typedef void (*handler_t)(void);
typedef struct {
  uint32_t* initial_sp;
  handler_t handlers[15];
} vector_table_t;

__attribute__((section(".isr_vector"), used)) const vector_table_t vector_table = {
    &__stack_top,
    {
        Reset_Handler,   /* reset */
        Default_Handler, /* NMI */
        Default_Handler, /* HardFault */
        Default_Handler, /* MemManage */
        Default_Handler, /* BusFault */
        Default_Handler, /* UsageFault */
        0, 0, 0, 0,      /* reserved */
        Default_Handler, /* SVCall */
        Default_Handler, /* DebugMonitor */
        0,               /* reserved */
        Default_Handler, /* PendSV */
        Default_Handler, /* SysTick */
    },
};
