/* Internal: the CPU hint for a spin-wait loop. */
#ifndef HV_CORE_SPIN_H
#define HV_CORE_SPIN_H

/* Tells the CPU this is a spin-wait (x86 PAUSE, Arm YIELD): cheaper for the sibling hyperthread
 * and for the memory system than a bare loop. */
static inline void hv__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

#endif
