/* IA-32 architectural constants used by the kernel (Intel SDM vol. 3A). */
#ifndef JEOS_X86_H
#define JEOS_X86_H
#include "../common/types.h"

/* GDT layout. SYSENTER needs kernel code, kernel data, user code, user data in this
 * order: SYSENTER loads CS from IA32_SYSENTER_CS and SS = CS + 8; SYSEXIT loads
 * CS = IA32_SYSENTER_CS + 16 and SS = IA32_SYSENTER_CS + 24, with RPL 3 (SDM vol. 2B,
 * SYSENTER and SYSEXIT). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE (0x18 | 3)
#define SEL_UDATA (0x20 | 3)
#define SEL_TSS   0x28

/* EFLAGS bits (SDM vol. 1, 3.4.3). */
#define EFLAGS_IF 0x200
#define EFLAGS_TF 0x100
#define EFLAGS_RESERVED1 0x2

/* CR0 bits (SDM vol. 3A, 2.5). */
#define CR0_WP (1u << 16) /* supervisor writes honour read-only pages (needed for COW) */
#define CR0_PG (1u << 31)

/* Page-table entry bits for 32-bit paging (SDM vol. 3A, 4.3, tables 4-5 and 4-6). */
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_A   0x020
#define PTE_D   0x040
#define PTE_COW 0x200 /* bit 9 is ignored by the MMU (available to software): copy on write */
#define PAGE_SIZE 4096u
#define PAGE_MASK 0xFFFFF000u

/* Page-fault error code bits (SDM vol. 3A, 4.7). */
#define PF_P 0x1 /* the fault was a protection violation (page present) */
#define PF_W 0x2 /* the access was a write */
#define PF_U 0x4 /* the access came from CPL 3 */

/* Exception vectors (SDM vol. 3A, table 6-1). */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define VEC_IRQ0 0x20  /* the master 8259's base after remapping */
#define VEC_SYSCALL 0x80

/* MSRs for SYSENTER (SDM vol. 4, table 2-2). */
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

/* The state saved on the kernel stack by every interrupt, exception and system call. The
 * stubs in entry.asm push the vector and an error code (0 when the CPU pushes none), then
 * PUSHAD and the data segment registers. useresp/userss exist only when the CPU came
 * from ring 3. */
struct trapframe {
  u32 gs, fs, es, ds;
  u32 edi, esi, ebp, esp_pushad, ebx, edx, ecx, eax;
  u32 vector, err;
  u32 eip, cs, eflags;
  u32 useresp, userss;
};

static inline int tf_from_user(const struct trapframe *tf) { return (tf->cs & 3) == 3; }

static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

#endif
