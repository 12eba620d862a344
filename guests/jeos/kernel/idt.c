/* The interrupt descriptor table (SDM vol. 3A, 6.10 and 6.11). */
#include "idt.h"
#include "../common/types.h"
#include "pvops.h"
#include "x86.h"

/* Gate type bytes (SDM vol. 3A, 6.11, figure 6-2): P, DPL, 32-bit interrupt gate. An
 * interrupt gate clears IF on entry, so every handler starts with interrupts masked. */
#define GATE_INT_DPL0 0x8E
#define GATE_INT_DPL3 0xEE /* int 0x80 may be raised from ring 3 */

extern const u32 vector_table[49];

static u64 idt[256];

static u64 gate(u32 handler, u8 type) {
  return (u64)(handler & 0xFFFF) | ((u64)SEL_KCODE << 16) | ((u64)type << 40) |
         ((u64)(handler >> 16) << 48);
}

void idt_init(void) {
  for (int v = 0; v < 48; v++) idt[v] = gate(vector_table[v], GATE_INT_DPL0);
  idt[VEC_SYSCALL] = gate(vector_table[48], GATE_INT_DPL3);
  static struct { u16 limit; u32 base; } __attribute__((packed)) idtr;
  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  pv.load_idt(&idtr);
}
