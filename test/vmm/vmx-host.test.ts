/**
 * The TypeScript VMM's VT-x path (assembly/index.ts: vmcsClearHost, vmcsWrite, vmxHostEnter,
 * run -> 'vmexit', vmcsRead): a VMCS built here field by field and identity EPT run a tiny
 * guest to its exits. Expected values from Intel SDM vol. 3C: exit reasons (appendix C),
 * the saved RIP of a fault-like instruction exit and its length (27.? / 28.2.1, 28.3.3),
 * CPUID always exiting (26.1.2), HLT with HLT exiting (26.1.3).
 */
import { describe, expect, it } from 'vitest';
import {
  CODE, F, PROC, guestCore, identityEpt, writeGuestVmcs, enterRun, rip, insnLen, skip, qual,
} from './vmx-guest.js';

const CPUID = [0x0f, 0xa2], HLT = [0xf4];
const R = { CPUID: 10, HLT: 12, EPT_VIOLATION: 48 };

describe('host-owned VT-x guest', () => {
  it('runs to CPUID (reason 10, length 2), then to HLT (12, length 1)', async () => {
    const core = await guestCore([0xb8, 0, 0, 0, 0, ...CPUID, ...HLT]); // mov eax, 0
    const eptp = identityEpt(core, 1 << 22);
    writeGuestVmcs(core, { proc: PROC.HLT, eptp });
    expect(enterRun(core)).toBe(R.CPUID);
    expect(rip(core)).toBe(CODE + 5); // RIP of the CPUID itself: the exit is fault-like
    expect(insnLen(core)).toBe(2);
    expect(core.getRegs().eax).toBe(0); // CPUID did not execute
    skip(core);
    expect(enterRun(core)).toBe(R.HLT);
    expect(rip(core)).toBe(CODE + 7);
    expect(insnLen(core)).toBe(1);
    const c = core.counters();
    expect(c.vmEntries).toBe(2);
    expect(c.vmExits).toBe(2);
    const byReason = core.vmxExitCounts();
    expect(byReason[R.CPUID]).toBe(1);
    expect(byReason[R.HLT]).toBe(1);
  });

  it('reports an EPT violation for a page the EPT does not map (reason 48, table 28-7)',
    async () => {
      // mov eax, [0x500000]: beyond the 4 MiB the identity EPT maps.
      const core = await guestCore([0xa1, 0x00, 0x00, 0x50, 0x00, ...HLT], 8 << 20);
      const eptp = identityEpt(core, 1 << 22);
      writeGuestVmcs(core, { proc: PROC.HLT, eptp });
      expect(enterRun(core)).toBe(R.EPT_VIOLATION);
      expect(rip(core)).toBe(CODE);
      // A data read (bit 0), not present (bits 5:3 = 0), linear address valid (7), the final
      // translation (8): paging is off, so the access is to the linear address itself.
      expect(qual(core)).toBe(0x1 | 0x80 | 0x100);
      expect(Number(core.vmcsRead(F.GUEST_PHYSICAL_ADDRESS))).toBe(0x500000);
      expect(Number(core.vmcsRead(F.GUEST_LINEAR_ADDRESS))).toBe(0x500000);
    });
});
