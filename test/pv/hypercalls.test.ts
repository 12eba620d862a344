/**
 * Each hypercall with valid and invalid arguments. The numbers and error codes are Xen's
 * (xen/include/public/xen.h, errno.h, event_channel.h, grant_table.h, sched.h, vcpu.h);
 * an invalid call returns its error and changes nothing (the frame table, every live page
 * table and CR3 compare equal before and after). The isolation cases try what a guest must
 * never get: another owner's frame, a writable page table, the VMM's PDE slots, a trap
 * handler or callback in the VMM's region, a DPL-0 descriptor, an ungranted grant.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { harness, SCRATCH, type Harness } from './harness.js';
import { HC, MMUEXT, EVTCHNOP, FLAT_RING1_CS, FLAT_RING1_SS, FLAT_RING3_SS, DOMID_SELF,
  GNTTABOP, GNTST_bad_domain } from '../../bindings/vmm/pv/xen.js';
import { IDT_VA, REGION_START } from '../../bindings/vmm/depriv/region.js';
import { T_L1, T_L2, T_WRITABLE } from '../../bindings/vmm/pv/mm.js';

// errno.h (XEN_E*), negated as hypercalls return them
const EPERM = -1, ENOENT = -2, ESRCH = -3, EFAULT = -14, EEXIST = -17, EINVAL = -22;
const ENOSYS = -38;

let h: Harness;
let pd: number, pt0: number;
const pteOf = (va: number) => pt0 * 4096 + (va >>> 12) * 4;
beforeEach(async () => {
  h = await harness();
  pd = h.pageDirectory / 4096;
  pt0 = h.get32(h.pageDirectory) >>> 12;
});

/** Calls `f` and checks it returned `rc` and changed nothing. */
function refused(rc: number, f: () => number): void {
  const before = h.snapshot();
  expect(f()).toBe(rc);
  expect(h.snapshot()).toBe(before);
  expect(h.frames.check()).toEqual([]);
}
const mmu = (ptr: number, val: number, dom = DOMID_SELF, count = 1) => {
  h.put32(SCRATCH, ptr, 0, val, 0);
  return h.hc(HC.mmu_update, SCRATCH, count, SCRATCH + 0x100, dom);
};
const ext = (cmd: number, arg1: number, arg2 = 0) => {
  h.put32(SCRATCH + 0x200, cmd, arg1, arg2);
  return h.hc(HC.mmuext_op, SCRATCH + 0x200, 1, 0, DOMID_SELF);
};

describe('mmu_update', () => {
  it('maps one of the domain\'s frames read-only and writable, counting references', () => {
    const va = 0x400000, frame = 0x500;
    expect(mmu(pteOf(va), frame * 4096 | 1)).toBe(0);
    expect(h.get32(pteOf(va))).toBe(frame * 4096 | 1);
    expect(h.get32(SCRATCH + 0x100)).toBe(1); // success count
    expect(h.frames.refCount[frame]).toBe(2); // its identity mapping and this one
    expect(mmu(pteOf(va), frame * 4096 | 3)).toBe(0);
    expect(h.frames.type[frame]).toBe(T_WRITABLE);
    expect(h.frames.typeCount[frame]).toBe(2);
    expect(h.frames.check()).toEqual([]);
  });
  it('refuses another owner\'s frame (the VMM\'s), with -EPERM', () => {
    const vmm = h.region.ptFrame / 4096;
    refused(EPERM, () => mmu(pteOf(0x400000), vmm * 4096 | 1));
    refused(EPERM, () => mmu(h.region.idt, 0)); // an entry in the VMM's frame
  });
  it('refuses a frame another domain owns (-EPERM), in a PTE, a PDE or a pin', () => {
    const other = 0x2f0;
    h.frames.owner[other] = 2; // as if the frame had been given to domain 2
    // (its identity mapping in domain 1's tables was built before: drop it first)
    expect(mmu(pteOf(other * 4096), 0)).toBe(0);
    refused(EPERM, () => mmu(pteOf(0x400000), other * 4096 | 1));
    refused(EPERM, () => mmu(h.pageDirectory + 100 * 4, other * 4096 | 1));
    refused(EPERM, () => ext(MMUEXT.PIN_L1_TABLE, other));
    refused(EPERM, () => mmu(other * 4096, 0)); // an update inside its frame
  });
  it('refuses to make a page table writable (-EINVAL)', () => {
    refused(EINVAL, () => mmu(pteOf(h.pageDirectory), h.pageDirectory | 3));
    refused(EINVAL, () => mmu(pteOf(pt0 * 4096), pt0 * 4096 | 3));
  });
  it('refuses the VMM\'s PDE slots 1008-1023 (-EPERM) and 4 MiB pages (-EINVAL)', () => {
    refused(EPERM, () => mmu(h.pageDirectory + 1023 * 4, 0));
    refused(EPERM, () => mmu(h.pageDirectory + 1008 * 4, pt0 * 4096 | 1));
    refused(EINVAL, () => mmu(h.pageDirectory + 100 * 4, 0x1000000 | 0x83));
  });
  it('refuses a page directory entry naming a data page that is mapped writable', () => {
    refused(EINVAL, () => mmu(h.pageDirectory + 100 * 4, 0x500 * 4096 | 1));
  });
  it('refuses bad commands, values above 4 GiB, foreign domains, bad lists', () => {
    refused(ENOSYS, () => mmu(pteOf(0x400000) | 3, 0));
    h.put32(SCRATCH, pteOf(0x400000), 0, 0x500000, 1);
    refused(EINVAL, () => h.hc(HC.mmu_update, SCRATCH, 1, 0, DOMID_SELF));
    refused(EPERM, () => mmu(pteOf(0x400000), 0x500001, 5));
    refused(EFAULT, () => h.hc(HC.mmu_update, REGION_START, 1, 0, DOMID_SELF));
    refused(EFAULT, () => h.hc(HC.mmu_update, 0xa0000000, 1, 0, DOMID_SELF));
    refused(EINVAL, () => h.hc(HC.mmu_update, SCRATCH, 2049, 0, DOMID_SELF));
  });
  it('stops a batch at the first bad update, the ones before it done', () => {
    h.put32(SCRATCH, pteOf(0x400000), 0, 0x500001, 0, pteOf(0x401000), 0,
      h.region.ptFrame | 1, 0);
    expect(h.hc(HC.mmu_update, SCRATCH, 2, SCRATCH + 0x100, DOMID_SELF)).toBe(EPERM);
    expect(h.get32(SCRATCH + 0x100)).toBe(1);
    expect(h.get32(pteOf(0x400000))).toBe(0x500001);
    expect(h.frames.check()).toEqual([]);
  });
});

describe('mmuext_op', () => {
  it('pins and unpins an L1 table, refusing a page mapped writable', () => {
    const f = 0x600;
    refused(EINVAL, () => ext(MMUEXT.PIN_L1_TABLE, f));
    expect(mmu(pteOf(f * 4096), f * 4096 | 1)).toBe(0); // read-only now
    expect(ext(MMUEXT.PIN_L1_TABLE, f)).toBe(0);
    expect(h.frames.type[f]).toBe(T_L1);
    refused(EINVAL, () => ext(MMUEXT.PIN_L1_TABLE, f)); // already pinned
    refused(EINVAL, () => mmu(pteOf(f * 4096), f * 4096 | 3)); // writable while a table
    expect(ext(MMUEXT.UNPIN_TABLE, f)).toBe(0);
    refused(EINVAL, () => ext(MMUEXT.UNPIN_TABLE, f));
    expect(mmu(pteOf(f * 4096), f * 4096 | 3)).toBe(0);
    expect(h.frames.check()).toEqual([]);
  });
  it('refuses an L1 whose entries name the VMM\'s frames', () => {
    const f = 0x601;
    h.put32(f * 4096 + 8, h.region.stubs | 1);
    expect(mmu(pteOf(f * 4096), f * 4096 | 1)).toBe(0);
    refused(EPERM, () => ext(MMUEXT.PIN_L1_TABLE, f));
  });
  it('loads a new page directory (CR3) after validating it', () => {
    const f = 0x602;
    h.core.writePhys(f * 4096, h.core.readPhys(h.pageDirectory, 4096));
    refused(EINVAL, () => ext(MMUEXT.NEW_BASEPTR, f)); // still mapped writable
    expect(mmu(pteOf(f * 4096), f * 4096 | 1)).toBe(0);
    expect(ext(MMUEXT.NEW_BASEPTR, f)).toBe(0);
    expect(h.core.getRegs().cr3).toBe(f * 4096);
    expect(h.frames.type[f]).toBe(T_L2);
    expect(h.get32(f * 4096 + 1023 * 4)).toBe(h.region.pde);
    expect(h.frames.check()).toEqual([]);
  });
  it('refuses L3/L4 pins (2-level paging), unknown commands, foreign frames', () => {
    refused(EINVAL, () => ext(MMUEXT.PIN_L3_TABLE, 0x600));
    refused(EINVAL, () => ext(MMUEXT.PIN_L4_TABLE, 0x600));
    refused(ENOSYS, () => ext(99, 0));
    refused(EPERM, () => ext(MMUEXT.PIN_L1_TABLE, h.region.ptFrame / 4096));
    refused(EPERM, () => ext(MMUEXT.NEW_BASEPTR, 0xfffff));
    refused(EINVAL, () => ext(MMUEXT.PIN_L2_TABLE, pd)); // pinned by the builder
  });
  it('flushes the TLB on request', () => {
    for (const c of [MMUEXT.TLB_FLUSH_LOCAL, MMUEXT.INVLPG_LOCAL, MMUEXT.TLB_FLUSH_ALL]) {
      expect(ext(c, 0x400000)).toBe(0);
    }
  });
});

describe('update_va_mapping', () => {
  it('changes the PTE of a linear address of the current tables', () => {
    expect(h.hc(HC.update_va_mapping, 0x400000, 0x500001, 0, 2)).toBe(0);
    expect(h.get32(pteOf(0x400000))).toBe(0x500001);
  });
  it('refuses addresses in the VMM\'s region, values above 4 GiB, unknown flags', () => {
    refused(EINVAL, () => h.hc(HC.update_va_mapping, REGION_START, 0x500001, 0, 0));
    refused(EINVAL, () => h.hc(HC.update_va_mapping, 0x400000, 0x500001, 1, 0));
    refused(EINVAL, () => h.hc(HC.update_va_mapping, 0x400000, 0x500001, 0, 8));
    refused(EINVAL, () => h.hc(HC.update_va_mapping, 0xa0000000, 0x500001, 0, 0));
  });
});

describe('traps, callbacks, stacks and descriptors', () => {
  const trap = (vector: number, flags: number, cs: number, addr: number) => {
    const u = [vector | (flags << 8) | (cs << 16), addr, 0, 0];
    h.put32(SCRATCH + 0x300, ...u);
    return h.hc(HC.set_trap_table, SCRATCH + 0x300);
  };
  const idtGate = (v: number) => [h.get32(h.region.idt + v * 8), h.get32(h.region.idt + v * 8 + 4)];
  it('installs a trap table; int 0x80 with DPL 3 gets its own gate to ring 1', () => {
    expect(trap(0x80, 3, FLAT_RING1_CS, 0x101000)).toBe(0);
    const [lo, hi] = idtGate(0x80);
    expect(lo >>> 16).toBe(FLAT_RING1_CS);
    expect(((hi >>> 13) & 3)).toBe(3);
    expect((hi & 0xffff0000) | (lo & 0xffff)).toBe(0x101000);
    expect(trap(14, 0, FLAT_RING1_CS, 0x101000)).toBe(0);
    expect(h.domain.trapTable[14]?.eip).toBe(0x101000);
    expect(IDT_VA).toBe(REGION_START + 0xf000);
  });
  it('refuses handlers in the VMM\'s region, ring-0/3 selectors, the hypercall vector', () => {
    const before = idtGate(3);
    expect(before[0] >>> 16).toBe(0xe008); // the VMM's stub
    expect(trap(3, 3, FLAT_RING1_CS, 0xffc11000)).toBe(EPERM);
    expect(trap(3, 3, FLAT_RING1_CS, 0xfc000000)).toBe(EPERM);
    // The VMM's own ring-0 code selector: RPL 0 is taken as 1 (Xen's fixup), and 0xe009 is
    // no ring-1 code selector of the guest.
    expect(trap(3, 3, 0xe008, 0x101000)).toBe(EPERM);
    expect(h.domain.trapTable[3]).toBeUndefined();
    expect(trap(4, 3, 0xe02b, 0x101000)).toBe(EPERM); // ring 3
    expect(trap(0x82, 3, FLAT_RING1_CS, 0x101000)).toBe(EPERM);
    expect(h.hc(HC.set_trap_table, 0xa0000000)).toBe(EFAULT);
    expect(idtGate(3)).toEqual(before);
  });
  it('exception gates other than #BP/#OF stay DPL 0; the VMM\'s IRQ vectors are refused', () => {
    expect(trap(14, 3, FLAT_RING1_CS, 0x101000)).toBe(0);
    expect((idtGate(14)[1] >>> 13) & 3).toBe(0); // int 14 from the guest: #GP
    expect(trap(3, 3, FLAT_RING1_CS, 0x101000)).toBe(0);
    expect((idtGate(3)[1] >>> 13) & 3).toBe(3); // int3 from ring 3 reaches the handler
    expect(trap(0x40, 0, FLAT_RING1_CS, 0x101000)).toBe(0);
    expect((idtGate(0x40)[1] >>> 13) & 3).toBe(1); // the guest kernel's own int 0x40
    expect(trap(0xf0, 3, FLAT_RING1_CS, 0x101000)).toBe(EPERM); // the timer's IRQ 0
    expect(trap(0xff, 3, FLAT_RING1_CS, 0x101000)).toBe(EPERM);
    expect((idtGate(0xf0)[1] >>> 13) & 3).toBe(0);
  });
  it('set_callbacks: refused in the VMM\'s region, accepted below it', () => {
    expect(h.hc(HC.set_callbacks, FLAT_RING1_CS, 0xffc11000, FLAT_RING1_CS, 0x100000))
      .toBe(EPERM);
    expect(h.domain.eventCallback).toBeUndefined();
    expect(h.hc(HC.set_callbacks, FLAT_RING1_CS, 0x100010, FLAT_RING1_CS, 0x100000)).toBe(0);
    expect(h.domain.eventCallback).toEqual({ cs: FLAT_RING1_CS, eip: 0x100010 });
  });
  it('stack_switch: a ring-1 stack only', () => {
    expect(h.hc(HC.stack_switch, FLAT_RING3_SS, 0x200000)).toBe(EPERM);
    expect(h.hc(HC.stack_switch, FLAT_RING1_SS, 0x200000)).toBe(0);
    expect(h.get32(h.region.tss + 4 + 8)).toBe(0x200000); // TSS.ESP1
  });
  it('descriptors: DPL 0 becomes DPL 1, limits end below the region, gates refused', () => {
    const g = 0x603;
    expect(h.hc(HC.update_descriptor, g * 4096 + 8, 0, 0x0000ffff, 0x00cf9a00)).toBe(EINVAL);
    h.put32(SCRATCH + 0x400, g);
    expect(h.hc(HC.set_gdt, SCRATCH + 0x400, 16)).toBe(0);
    // flat ring-0 code, 4 GiB: DPL 0, G = 1, limit 0xFFFFF
    expect(h.hc(HC.update_descriptor, g * 4096 + 8, 0, 0x0000ffff, 0x00cf9a00)).toBe(0);
    const [lo, hi] = h.region.guestDescriptor(1);
    expect((hi >>> 13) & 3).toBe(1);
    expect(((hi & 0xf0000) | (lo & 0xffff)) >>> 0).toBe(0xfbfff);
    // a call gate (S = 0, type 0xC) and a segment based in the region
    expect(h.hc(HC.update_descriptor, g * 4096 + 16, 0, 0x00081000, 0x0000ec00)).toBe(EINVAL);
    expect(h.hc(HC.update_descriptor, g * 4096 + 16, 0, 0x0000ffff, 0xfccf9200)).toBe(EINVAL);
    expect(h.region.guestDescriptor(2)).toEqual([0, 0]);
    expect(h.hc(HC.update_descriptor, g * 4096 + 12, 0, 0, 0)).toBe(EINVAL); // misaligned
    // a ring-1 code selector of the guest's own table is then usable for traps
    expect(trap(6, 0, 0x09, 0x101000)).toBe(0);
  });
});

describe('events, scheduling, console, timers, grants, multicall', () => {
  const evt = (cmd: number, ...words: number[]) => {
    h.put32(SCRATCH + 0x500, ...words, 0, 0, 0);
    return h.hc(HC.event_channel_op, cmd, SCRATCH + 0x500);
  };
  it('binds VIRQ_TIMER once, unmasks, sends, closes', () => {
    expect(evt(EVTCHNOP.bind_virq, 0, 0)).toBe(0);
    const port = h.get32(SCRATCH + 0x508);
    expect(port).toBe(1);
    expect(evt(EVTCHNOP.bind_virq, 0, 0)).toBe(EEXIST);
    expect(evt(EVTCHNOP.bind_virq, 24, 0)).toBe(EINVAL); // NR_VIRQS
    expect(evt(EVTCHNOP.bind_virq, 1, 1)).toBe(ENOENT); // vCPU 1
    expect(evt(EVTCHNOP.send, port)).toBe(EINVAL); // a VIRQ port is not for sending
    expect(evt(EVTCHNOP.unmask, port)).toBe(0);
    h.domain.events.sendVirq(0);
    expect(h.domain.events.isPending(port)).toBe(true);
    expect(h.domain.events.upcallPending).toBe(true);
    expect(evt(EVTCHNOP.close, port)).toBe(0);
    expect(evt(EVTCHNOP.close, port)).toBe(EINVAL);
    expect(evt(EVTCHNOP.unmask, 0)).toBe(EINVAL);
    expect(evt(EVTCHNOP.send, 63)).toBe(EINVAL);
    expect(evt(99)).toBe(ENOSYS);
    expect(h.hc(HC.event_channel_op, EVTCHNOP.bind_virq, 0xa0000000)).toBe(EFAULT);
  });
  it('a masked port keeps its event pending without an upcall until unmasked', () => {
    expect(evt(EVTCHNOP.bind_virq, 0, 0)).toBe(0);
    h.put32(h.domain.sharedInfo + 2048 + 128, 2); // evtchn_mask bit of port 1
    h.domain.events.sendVirq(0);
    expect(h.domain.events.upcallPending).toBe(false);
    expect(evt(EVTCHNOP.unmask, 1)).toBe(0);
    expect(h.domain.events.upcallPending).toBe(true);
  });
  it('interdomain: only to the management domain\'s offered ports', () => {
    expect(evt(EVTCHNOP.bind_interdomain, 3, 5)).toBe(ESRCH);
    expect(evt(EVTCHNOP.bind_interdomain, 0, 5)).toBe(EINVAL);
    let notified = 0;
    h.domain.dom0Ports.set(5, { onNotify: () => notified++ });
    expect(evt(EVTCHNOP.bind_interdomain, 0, 5)).toBe(0);
    const local = h.get32(SCRATCH + 0x508);
    expect(evt(EVTCHNOP.send, local)).toBe(0);
    expect(notified).toBe(1);
    expect(evt(EVTCHNOP.alloc_unbound, 7 | (0 << 16))).toBe(EPERM); // dom 7 is not us
    expect(evt(EVTCHNOP.alloc_unbound, DOMID_SELF | (0 << 16))).toBe(0);
  });
  it('sched_op: block, shutdown with a reason, refusals', () => {
    expect(h.hc(HC.sched_op, 0, 0)).toBe(0);
    expect(h.hc(HC.sched_op, 1, 0)).toBe(0);
    expect(h.domain.blocked).toBe(true);
    h.put32(SCRATCH, 9);
    expect(h.hc(HC.sched_op, 2, SCRATCH)).toBe(EINVAL);
    expect(h.domain.shutdown).toBeUndefined();
    expect(h.hc(HC.sched_op, 2, 0xa0000000)).toBe(EFAULT);
    expect(h.hc(HC.sched_op, 77, 0)).toBe(ENOSYS);
    h.put32(SCRATCH, 3);
    expect(h.hc(HC.sched_op, 2, SCRATCH)).toBe(0);
    expect(h.domain.shutdown).toBe('crash');
  });
  it('console_io writes what the guest gives, refuses bad buffers', () => {
    h.core.writePhys(SCRATCH, new TextEncoder().encode('hello'));
    expect(h.hc(HC.console_io, 0, 5, SCRATCH)).toBe(0);
    expect(h.console).toEqual(['hello']);
    expect(h.hc(HC.console_io, 0, 5, REGION_START)).toBe(EFAULT);
    expect(h.hc(HC.console_io, 0, 5000, SCRATCH)).toBe(EINVAL);
    expect(h.hc(HC.console_io, 9, 5, SCRATCH)).toBe(ENOSYS);
    expect(h.console).toEqual(['hello']);
  });
  it('vcpu_op timers and set_timer_op', () => {
    h.put32(SCRATCH, 500_000, 0);
    expect(h.hc(HC.vcpu_op, 6, 0, SCRATCH)).toBe(EINVAL); // below 1 ms
    expect(h.hc(HC.vcpu_op, 6, 1, SCRATCH)).toBe(ENOENT);
    h.put32(SCRATCH, 20_000_000, 0);
    expect(h.hc(HC.vcpu_op, 6, 0, SCRATCH)).toBe(0);
    expect(h.domain.periodNs).toBe(20_000_000);
    expect(h.hc(HC.set_timer_op, 1234, 1)).toBe(0);
    expect(h.domain.timerDeadline).toBe(2 ** 32 + 1234);
  });
  it('grant tables: setup_table gives the frame; only a granted entry opens a frame', () => {
    h.put32(SCRATCH, DOMID_SELF, 1, 0, SCRATCH + 0x40);
    expect(h.hc(HC.grant_table_op, GNTTABOP.setup_table, SCRATCH, 1)).toBe(0);
    expect(h.get32(SCRATCH + 8) & 0xffff).toBe(0); // GNTST_okay
    const gframe = h.get32(SCRATCH + 0x40);
    expect(h.frames.owner[gframe]).toBe(h.domain.domid);
    h.put32(SCRATCH, 9, 1, 0, SCRATCH + 0x40);
    expect(h.hc(HC.grant_table_op, GNTTABOP.setup_table, SCRATCH, 1)).toBe(0);
    expect((h.get32(SCRATCH + 8) << 16) >> 16).toBe(GNTST_bad_domain);
    // entry 3: GTF_permit_access to domain 0, frame 0x700, read-only
    expect(h.domain.grantedFrame(3, 0, false)).toBeUndefined();
    h.put32(gframe * 4096 + 3 * 8, 1 | 4, 0x700);
    expect(h.domain.grantedFrame(3, 0, false)).toBe(0x700);
    expect(h.domain.grantedFrame(3, 0, true)).toBeUndefined(); // GTF_readonly
    expect(h.domain.grantedFrame(3, 2, false)).toBeUndefined(); // another domain
    h.put32(gframe * 4096 + 3 * 8, 0, 0x700); // revoked
    expect(h.domain.grantedFrame(3, 0, false)).toBeUndefined();
    h.put32(gframe * 4096 + 4 * 8, 1, h.region.stubs / 4096); // a frame not its own
    expect(h.domain.grantedFrame(4, 0, false)).toBeUndefined();
    expect(h.domain.grantedFrame(-1, 0, false)).toBeUndefined();
    expect(h.domain.grantedFrame(1 << 20, 0, false)).toBeUndefined();
    expect(h.hc(HC.grant_table_op, 77, SCRATCH, 1)).toBe(ENOSYS);
  });
  it('multicall: each result in its entry; no multicall inside a multicall', () => {
    h.core.writePhys(SCRATCH + 0x100, new TextEncoder().encode('ab'));
    h.put32(SCRATCH, HC.console_io, 0, 0, 2, SCRATCH + 0x100, 0, 0, 0,
      HC.multicall, 0, SCRATCH, 1, 0, 0, 0, 0,
      HC.update_va_mapping, 0, REGION_START, 1, 0, 0, 0, 0);
    expect(h.hc(HC.multicall, SCRATCH, 3)).toBe(0);
    expect(h.get32(SCRATCH + 4)).toBe(0);
    expect(h.get32(SCRATCH + 32 + 4) | 0).toBe(EINVAL);
    expect(h.get32(SCRATCH + 64 + 4) | 0).toBe(EINVAL);
    expect(h.hc(HC.multicall, SCRATCH, 5000)).toBe(EINVAL);
    expect(h.hc(99)).toBe(ENOSYS);
  });
});

describe('physdev_op', () => {
  // physdev.h: PHYSDEVOP_set_iopl 6, struct physdev_set_iopl { uint32_t iopl; }
  const PHYSDEVOP_set_iopl = 6;
  it('sets the virtual I/O privilege level 0-3', () => {
    h.put32(SCRATCH, 1);
    expect(h.hc(HC.physdev_op, PHYSDEVOP_set_iopl, SCRATCH)).toBe(0);
    expect(h.domain.iopl).toBe(1);
  });
  it('refuses a level above 3 (-EINVAL), an unmapped argument (-EFAULT), other commands', () => {
    h.put32(SCRATCH, 4);
    refused(EINVAL, () => h.hc(HC.physdev_op, PHYSDEVOP_set_iopl, SCRATCH));
    refused(EFAULT, () => h.hc(HC.physdev_op, PHYSDEVOP_set_iopl, 0xa0000000));
    refused(ENOSYS, () => h.hc(HC.physdev_op, 99, SCRATCH));
    expect(h.domain.iopl).toBe(0);
  });
});

describe('port access after set_iopl (guest_io_okay)', () => {
  it('lets ring <= iopl reach the machine\'s ports but never the PIC, PIT or ELCR', async () => {
    const { ioAllowed } = await import('../../bindings/vmm/pv/xen.js');
    expect(ioAllowed(1, 1, 0x3f8, 1)).toBe(true);  // COM1
    expect(ioAllowed(1, 1, 0x1f0, 2)).toBe(true);  // the IDE data port
    expect(ioAllowed(1, 1, 0xcf8, 4)).toBe(true);  // PCI configuration address
    expect(ioAllowed(0, 1, 0x3f8, 1)).toBe(false); // no set_iopl
    expect(ioAllowed(1, 3, 0x3f8, 1)).toBe(false); // ring 3 above the level
    for (const p of [0x20, 0x21, 0xa0, 0xa1, 0x40, 0x43, 0x4d0, 0x4d1]) {
      expect(ioAllowed(3, 1, p, 1)).toBe(false);
    }
    expect(ioAllowed(1, 1, 0x1e, 4)).toBe(false);  // a dword reaching into 0x20-0x21
  });
});
