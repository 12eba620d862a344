/* The TPR variant of the irqmask workload: Adams & Agesen's cr8wr, the guest masking
 * interrupts by writing the task-priority register. IA-32 has no CR8: the TPR is the
 * local APIC's register at 0xFEE00080 (Intel SDM vol. 3A, 10.8.3.1 and 10.8.6). Runs
 * after irqmask when the command line says tpr=1 and CPUID.1:EDX.APIC (bit 9) is set:
 * each iteration reads the TPR, raises it to 0xF0 (every priority class masked) and
 * writes the old value back. Prints
 *   wl irqmask-tpr iters=N cycles=C per_iter=P
 * (or "wl irqmask-tpr skipped=REASON"). The APIC page is mapped, uncached and supervisor
 * only, in the calling process's address space for the run and unmapped after. */
#include "workloads.h"
#include "console.h"
#include "mm.h"
#include "pvops.h"
#include "x86.h"
#include "../common/fmt.h"

#define APIC_PAGE 0xFEE00000u /* IA32_APIC_BASE's reset value (10.4.4) */
#define APIC_TPR 0x80u        /* table 10-1 */
#define CPUID_APIC (1u << 9)  /* SDM vol. 2A, table 3-11 */
#define PTE_PCD 0x010         /* page-level cache disable (SDM vol. 3A, 4.3) */

int bench_tpr(u32 iters) {
  u32 a, b, c, d;
  cpuid(1, &a, &b, &c, &d);
  if (!(d & CPUID_APIC)) {
    kprintf("wl irqmask-tpr skipped=no-apic\n");
    return 0;
  }
  u32 *pte = as_walk(pv.read_cr3() & PAGE_MASK, APIC_PAGE, 1);
  if (!pte || (*pte & PTE_P)) {
    kprintf("wl irqmask-tpr skipped=no-mapping\n");
    return 0;
  }
  pv.set_pte(pte, APIC_PAGE | PTE_P | PTE_W | PTE_PCD);
  volatile u32 *tpr = (volatile u32 *)(APIC_PAGE + APIC_TPR);
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) {
    u32 old = *tpr;
    *tpr = 0xF0;
    *tpr = old;
  }
  u64 cycles = rdtsc() - t0;
  pv.set_pte(pte, 0);
  pv.invlpg(APIC_PAGE);
  u64 per = cycles;
  divmod64(&per, iters);
  char line[120];
  int n = fmt(line, sizeof line, "wl irqmask-tpr iters=%u cycles=%llu per_iter=%llu\n", iters,
              cycles, per);
  console_write(line, (u32)n);
  return 0;
}
