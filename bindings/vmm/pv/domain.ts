/**
 * A paravirtual domain and its hypercalls, with Xen's numbers, argument registers (EBX,
 * ECX, EDX, ESI, EDI, EBP; the result in EAX) and error codes (xen/include/public/xen.h,
 * errno.h and the headers named beside each). Every hypercall either succeeds or returns
 * -errno having changed nothing (batches stop at the first bad element, the ones before it
 * done, as Xen's do). The trap path (bouncing faults and events into the guest) is in
 * ../modes/pv.ts; this file holds the state it bounces with.
 */
import type { Core } from '../../core/types.js';
import { GuestFault, type GuestMemory } from '../depriv/guestmem.js';
import type { Region } from '../depriv/region.js';
import { EventTable } from './events.js';
import { FrameTable, MmError, T_L1, T_L2 } from './mm.js';
import * as X from './xen.js';

export interface TrapEntry { cs: number; eip: number; dpl: number; maskEvents: boolean }

/** PV counters for --stats (VmmStats.pv). */
export interface PvStats {
  /** Hypercalls by Xen name (xen.h __HYPERVISOR_*), multicall elements included. */
  hypercalls: Record<string, number>;
  /** Of those, the elements run inside a multicall (no pass through the VMM of their own). */
  multicallElements: number;
  /** Hypercalls refused with an error, by Xen errno name. */
  errors: Record<string, number>;
  /** mmu_update requests and the calls that carried them (updates per batch = ratio). */
  mmuUpdates: number;
  mmuBatches: number;
  /** mmuUpdates / mmuBatches (0 before the first batch). */
  updatesPerBatch: number;
  /** mmuext_op operations by name (pin_l1_table, new_baseptr, invlpg_local ...). */
  mmuext: Record<string, number>;
  /** update_va_mapping calls. */
  vaMappings: number;
  /** Faults and traps bounced to the guest's handlers, by vector. */
  traps: Record<string, number>;
  /** Events set pending, and upcalls to the guest's event callback. */
  eventsSent: number;
  upcalls: number;
  /** VIRQ_TIMER events. */
  timerEvents: number;
  grantOps: number;
  /** Notifications a frontend sent its backend (EVTCHNOP_send on an interdomain port). */
  frontNotifications: number;
  /** Block requests the backend consumed, and its notifications to the frontend sent and
   *  suppressed by the frontend's rsp_event (ring.h hold-off). */
  ringRequests: number;
  notificationsSent: number;
  notificationsSuppressed: number;
}

const ERRNO_NAMES: Record<number, string> = {
  [X.EPERM]: 'EPERM', [X.ENOENT]: 'ENOENT', [X.ESRCH]: 'ESRCH', [X.EFAULT]: 'EFAULT',
  [X.EINVAL]: 'EINVAL', [X.ENOSYS]: 'ENOSYS', [X.EEXIST]: 'EEXIST', [X.ENOSPC]: 'ENOSPC',
  [X.E2BIG]: 'E2BIG', [X.EBUSY]: 'EBUSY', [X.ENOMEM]: 'ENOMEM', [X.EAGAIN]: 'EAGAIN',
};

export interface DomainConfig {
  domid: number;
  /** Machine address of the shared_info frame (owned by the domain). */
  sharedInfo: number;
  /** Frames for the grant table (owned by the domain). */
  grantFrames: number[];
  /** console_io writes. */
  consoleOut: (bytes: Uint8Array) => void;
  /** The other DomUs, by id, for interdomain event channels (the management domain's). */
  peers?: (domid: number) => PvDomain | undefined;
}

export class PvDomain {
  readonly domid: number;
  readonly trapTable: (TrapEntry | undefined)[] = new Array(256).fill(undefined);
  kernelSs = X.FLAT_RING1_SS;
  kernelSp = 0;
  eventCallback: { cs: number; eip: number } | undefined;
  failsafeCallback: { cs: number; eip: number } | undefined;
  readonly events: EventTable;
  /** SCHEDOP_block: waits for an event. */
  blocked = false;
  /** SCHEDOP_shutdown: the reason's name once the domain asked to stop. */
  shutdown: string | undefined;
  /** Single-shot timer deadline (ns of system time), 0 = none; periodic period (ns). */
  timerDeadline = 0;
  periodNs = 10_000_000;
  /** The virtual I/O privilege level (PHYSDEVOP_set_iopl): the ring that may reach ports,
   *  through the VMM's emulation of IN/OUT/INS/OUTS on #GP (Xen's emulate_privileged_op
   *  with guest_io_okay); 0 = none. */
  iopl = 0;
  /** The frames registered by set_gdt (one page: entries 0-511). */
  gdtFrame: number | undefined;
  /** Interdomain ports whose other end is the management domain (a TypeScript backend). */
  readonly dom0Ports = new Map<number, { onNotify: () => void;
    onBind?: (localPort: number) => void }>();
  readonly stats: PvStats = {
    hypercalls: {}, multicallElements: 0, errors: {}, mmuUpdates: 0, mmuBatches: 0,
    updatesPerBatch: 0,
    mmuext: {}, vaMappings: 0,
    traps: {}, eventsSent: 0, upcalls: 0, timerEvents: 0, grantOps: 0, frontNotifications: 0,
    ringRequests: 0,
    notificationsSent: 0, notificationsSuppressed: 0,
  };
  private flushNeeded = false;

  constructor(private readonly core: Core, readonly mem: GuestMemory,
    readonly frames: FrameTable, readonly region: Region, private readonly cfg: DomainConfig,
    readonly now: () => number) {
    this.domid = cfg.domid;
    this.events = new EventTable(core, cfg.domid, cfg.sharedInfo);
  }

  get sharedInfo(): number { return this.cfg.sharedInfo; }

  /** One hypercall: `nr` from EAX, `a` = EBX, ECX, EDX, ESI, EDI, EBP. Returns EAX. */
  hypercall(nr: number, a: number[], nested = false): number {
    const name = X.HYPERCALL_NAMES[nr] ?? `#${nr}`;
    this.stats.hypercalls[name] = (this.stats.hypercalls[name] ?? 0) + 1;
    let rc: number;
    try {
      rc = this.dispatch(nr >>> 0, a.map((v) => v >>> 0), nested);
    } catch (e) {
      if (e instanceof GuestFault) rc = -X.EFAULT;
      else if (e instanceof MmError) rc = -e.errno;
      else throw e;
    }
    if (rc < 0 && rc >= -64) {
      const en = ERRNO_NAMES[-rc] ?? `E${-rc}`;
      this.stats.errors[en] = (this.stats.errors[en] ?? 0) + 1;
    }
    if (this.flushNeeded) { this.flushTlb(); this.flushNeeded = false; }
    return rc | 0;
  }

  /** Drops every cached translation (the core's TLB), as a CR3 reload does. */
  flushTlb(): void { this.core.setRegs({}); }

  private dispatch(nr: number, a: number[], nested: boolean): number {
    switch (nr) {
      case X.HC.set_trap_table: return this.setTrapTable(a[0]);
      case X.HC.mmu_update: return this.mmuUpdate(a[0], a[1], a[2], a[3]);
      case X.HC.set_gdt: return this.setGdt(a[0], a[1]);
      case X.HC.stack_switch: return this.stackSwitch(a[0], a[1]);
      case X.HC.set_callbacks: return this.setCallbacks(a[0], a[1], a[2], a[3]);
      case X.HC.fpu_taskswitch: {
        const cr0 = this.core.getRegs().cr0;
        this.core.setRegs({ cr0: a[0] ? cr0 | 8 : cr0 & ~8 });
        return 0;
      }
      case X.HC.update_descriptor: return this.updateDescriptor(a[0], a[1], a[2], a[3]);
      case X.HC.multicall:
        return nested ? -X.EINVAL : this.multicall(a[0], a[1]);
      case X.HC.update_va_mapping: return this.updateVaMapping(a[0], a[1], a[2], a[3]);
      case X.HC.set_timer_op: {
        const t = a[0] + a[1] * 2 ** 32;
        this.timerDeadline = t;
        return 0;
      }
      case X.HC.xen_version: return a[0] === 0 ? (3 << 16) : 0; // XENVER_version: 3.0
      case X.HC.console_io: return this.consoleIo(a[0], a[1], a[2]);
      case X.HC.grant_table_op: return this.grantTableOp(a[0], a[1], a[2]);
      case X.HC.vcpu_op: return this.vcpuOp(a[0], a[1], a[2]);
      case X.HC.mmuext_op: return this.mmuextOp(a[0], a[1], a[2], a[3]);
      case X.HC.sched_op: return this.schedOp(a[0], a[1]);
      case X.HC.event_channel_op: return this.eventChannelOp(a[0], a[1]);
      case X.HC.physdev_op: {
        if (a[0] !== X.PHYSDEVOP_set_iopl) return -X.ENOSYS;
        const iopl = this.mem.u32(a[1]);
        if (iopl > 3) return -X.EINVAL;
        this.iopl = iopl;
        return 0;
      }
      default: return -X.ENOSYS;
    }
  }

  // ---- code selectors and addresses a guest may give ----

  /** A ring-1 code selector (RPL 0 is taken as 1, as Xen's fixup_guest_code_selector). */
  private codeSelector(cs: number): number | undefined {
    cs &= 0xffff;
    if ((cs & 3) === 0) cs |= 1;
    if ((cs & 3) !== 1 || (cs & 4)) return undefined;
    if (cs === X.FLAT_RING1_CS) return cs;
    const i = cs >>> 3;
    if (i < 1 || i >= 512 || this.gdtFrame === undefined) return undefined;
    const [, hi] = this.region.guestDescriptor(i);
    // present, S = 1, code, DPL 1 in the shadow table
    if ((hi & 0x9800) !== 0x9800 || ((hi >>> 13) & 3) !== 1) return undefined;
    return cs;
  }
  private guestAddress(va: number): boolean { return va >>> 0 < X.HYPERVISOR_VIRT_START; }

  private setTrapTable(ptr: number): number {
    if (ptr === 0) {
      this.trapTable.fill(undefined);
      for (let v = 0; v < 256; v++) if (v !== X.HYPERCALL_VECTOR) this.region.setVmmGate(v);
      return 0;
    }
    const entries: [number, TrapEntry][] = [];
    let chunk: Uint8Array = new Uint8Array(0), chunkAt = 0;
    for (let i = 0; i < 256; i++) {
      const at = (ptr + i * X.TRAP_INFO_SIZE) >>> 0;
      if (at - chunkAt + X.TRAP_INFO_SIZE > chunk.length) {
        // Read on to the end of the page (or the table's end) at once.
        const n = Math.min((256 - i) * X.TRAP_INFO_SIZE, 4096 - (at & 0xfff));
        chunk = this.mem.read(at, Math.max(n, X.TRAP_INFO_SIZE));
        chunkAt = at;
      }
      const b = chunk.subarray(at - chunkAt, at - chunkAt + X.TRAP_INFO_SIZE);
      const dv = new DataView(b.buffer, b.byteOffset, 8);
      const address = dv.getUint32(4, true);
      if (address === 0) break;
      const vector = b[0], flags = b[1];
      const cs = this.codeSelector(dv.getUint16(2, true));
      if (vector === X.HYPERCALL_VECTOR || vector >= X.VMM_IRQ_BASE) return -X.EPERM;
      if (cs === undefined) return -X.EPERM;
      if (!this.guestAddress(address)) return -X.EPERM;
      entries.push([vector, { cs, eip: address, dpl: flags & X.TI_DPL_MASK,
        maskEvents: (flags & X.TI_IF) !== 0 }]);
    }
    for (const [v, e] of entries) {
      this.trapTable[v] = e;
      if (v === 0x80 && e.dpl === 3 && !e.maskEvents) {
        this.region.setDirectGate(v, e.cs, e.eip, 3);
      } else {
        // Exceptions other than #BP and #OF cannot be raised by `int n` (gate DPL 0: a
        // #GP instead, as Xen's exception gates are), so a stub that expects an error
        // code never sees a frame without one.
        const soft = v >= 32 || v === 3 || v === 4;
        this.region.setVmmGate(v, soft ? Math.max(e.dpl, 1) : 0);
      }
    }
    return 0;
  }

  private stackSwitch(ss: number, esp: number): number {
    ss &= 0xffff;
    if ((ss & 3) === 0) ss |= 1;
    if (ss !== X.FLAT_RING1_SS) {
      const i = ss >>> 3;
      if ((ss & 7) !== 1 || i < 1 || i >= 512 || this.gdtFrame === undefined) return -X.EPERM;
      const [, hi] = this.region.guestDescriptor(i);
      if ((hi & 0x9a00) !== 0x9200 || ((hi >>> 13) & 3) !== 1) return -X.EPERM;
    }
    this.kernelSs = ss;
    this.kernelSp = esp;
    this.region.setKernelStack(ss, esp);
    return 0;
  }

  private setCallbacks(ecs: number, eeip: number, fcs: number, feip: number): number {
    const e = this.codeSelector(ecs), f = this.codeSelector(fcs);
    if (e === undefined || f === undefined) return -X.EPERM;
    if (!this.guestAddress(eeip) || !this.guestAddress(feip)) return -X.EPERM;
    this.eventCallback = { cs: e, eip: eeip };
    this.failsafeCallback = { cs: f, eip: feip };
    return 0;
  }

  /** set_gdt(frame_list, entries): one frame of at most 512 entries is offered here. */
  private setGdt(list: number, entries: number): number {
    if (entries > 512) return -X.EINVAL;
    if (entries === 0) { this.gdtFrame = undefined; return 0; }
    const mfn = this.mem.u32(list);
    if (!this.frames.owns(this.domid, mfn)) return -X.EPERM;
    const raw = this.core.readPhys(mfn * 4096, entries * 8);
    const dv = new DataView(raw.buffer);
    const saved: [number, number][] = [];
    for (let i = 1; i < entries; i++) saved.push(this.region.guestDescriptor(i));
    for (let i = 1; i < entries; i++) {
      if (!this.region.setGuestDescriptor(i, dv.getUint32(i * 8, true),
        dv.getUint32(i * 8 + 4, true))) {
        saved.forEach(([lo, hi], j) => this.region.restoreGuestDescriptor(j + 1, lo, hi));
        return -X.EINVAL;
      }
    }
    for (let i = entries; i < 512; i++) this.region.restoreGuestDescriptor(i, 0, 0);
    this.gdtFrame = mfn;
    return 0;
  }

  /** update_descriptor(ma, desc) as x86_32 passes two u64: EBX:ECX, EDX:ESI. */
  private updateDescriptor(maLo: number, maHi: number, lo: number, hi: number): number {
    if (maHi !== 0 || (maLo & 7) || this.gdtFrame === undefined) return -X.EINVAL;
    if (maLo >>> 12 !== this.gdtFrame) return -X.EINVAL;
    const i = (maLo & 0xfff) >>> 3;
    if (!this.region.setGuestDescriptor(i, lo, hi)) return -X.EINVAL;
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, lo, true);
    new DataView(b.buffer).setUint32(4, hi, true);
    this.core.writePhys(maLo, b);
    return 0;
  }

  private foreign(dom: number): boolean {
    return dom !== X.DOMID_SELF && dom !== this.domid;
  }

  private mmuUpdate(reqs: number, count: number, pdone: number, dom: number): number {
    if (this.foreign(dom & 0xffff)) return -X.EPERM;
    if (count > X.MAX_BATCH) return -X.EINVAL;
    this.stats.mmuBatches++;
    let done = 0, rc = 0;
    for (; done < count; done++) {
      let b: Uint8Array;
      try { b = this.mem.read(reqs + done * X.MMU_UPDATE_SIZE, X.MMU_UPDATE_SIZE); } catch {
        rc = -X.EFAULT; break;
      }
      const dv = new DataView(b.buffer);
      const ptr = dv.getUint32(0, true), ptrHi = dv.getUint32(4, true);
      const val = dv.getUint32(8, true), valHi = dv.getUint32(12, true);
      const cmd = ptr & 3;
      if (ptrHi !== 0 || valHi !== 0) { rc = -X.EINVAL; break; }
      if (cmd === X.MMU_NORMAL_PT_UPDATE || cmd === X.MMU_PT_UPDATE_PRESERVE_AD) {
        try { this.frames.updateEntry(this.domid, (ptr & ~3) >>> 0, val); } catch (e) {
          if (!(e instanceof MmError)) throw e;
          rc = -e.errno; break;
        }
        this.flushNeeded = true;
      } else if (cmd === X.MMU_MACHPHYS_UPDATE) {
        // The M2P here is the identity and not exposed: the frame must be the domain's.
        if (!this.frames.owns(this.domid, ptr >>> 12)) { rc = -X.EPERM; break; }
      } else { rc = -X.ENOSYS; break; }
      this.stats.mmuUpdates++;
    }
    if (pdone) this.mem.setU32(pdone, done);
    return rc;
  }

  private updateVaMapping(va: number, lo: number, hi: number, flags: number): number {
    if (!this.guestAddress(va) || hi !== 0 || flags > 7) return -X.EINVAL;
    const ptr = this.frames.l1eAddress(this.domid, va);
    this.frames.updateEntry(this.domid, ptr, lo);
    this.stats.vaMappings++;
    this.flushNeeded = true;
    return 0;
  }

  private mmuextOp(ops: number, count: number, pdone: number, dom: number): number {
    if (this.foreign(dom & 0xffff)) return -X.EPERM;
    if (count > X.MAX_BATCH) return -X.EINVAL;
    let done = 0, rc = 0;
    for (; done < count; done++) {
      let b: Uint8Array;
      try { b = this.mem.read(ops + done * X.MMUEXT_OP_SIZE, X.MMUEXT_OP_SIZE); } catch {
        rc = -X.EFAULT; break;
      }
      const dv = new DataView(b.buffer);
      const cmd = dv.getUint32(0, true), arg1 = dv.getUint32(4, true);
      const arg2 = dv.getUint32(8, true);
      rc = this.mmuext1(cmd, arg1, arg2);
      if (rc < 0) break;
      const n = X.MMUEXT_NAMES[cmd];
      this.stats.mmuext[n] = (this.stats.mmuext[n] ?? 0) + 1;
    }
    if (pdone) this.mem.setU32(pdone, done);
    return rc;
  }

  private mmuext1(cmd: number, arg1: number, arg2: number): number {
    const M = X.MMUEXT;
    try {
      switch (cmd) {
        case M.PIN_L1_TABLE: this.frames.pin(this.domid, arg1, T_L1); return 0;
        case M.PIN_L2_TABLE: this.frames.pin(this.domid, arg1, T_L2); return 0;
        case M.PIN_L3_TABLE: case M.PIN_L4_TABLE: return -X.EINVAL; // 2-level paging here
        case M.UNPIN_TABLE: this.frames.unpin(this.domid, arg1); return 0;
        case M.NEW_BASEPTR:
          this.frames.newBaseptr(this.domid, arg1);
          this.core.setRegs({ cr3: arg1 * 4096 });
          return 0;
        case M.TLB_FLUSH_LOCAL: case M.TLB_FLUSH_MULTI: case M.TLB_FLUSH_ALL:
        case M.INVLPG_LOCAL: case M.INVLPG_MULTI: case M.INVLPG_ALL:
          this.flushNeeded = true;
          return 0;
        case M.FLUSH_CACHE: return -X.EPERM; // needs physical device access (xen.h)
        case M.SET_LDT: return arg1 === 0 && arg2 === 0 ? 0 : -X.EINVAL; // no LDT offered
        default: return -X.ENOSYS;
      }
    } catch (e) {
      if (e instanceof MmError) return -e.errno;
      throw e;
    }
  }

  private multicall(list: number, count: number): number {
    if (count > X.MAX_BATCH) return -X.EINVAL;
    for (let i = 0; i < count; i++) {
      const at = list + i * X.MULTICALL_ENTRY_SIZE;
      const b = this.mem.read(at, X.MULTICALL_ENTRY_SIZE);
      const dv = new DataView(b.buffer);
      const op = dv.getUint32(0, true);
      const args = [0, 1, 2, 3, 4, 5].map((k) => dv.getUint32(8 + k * 4, true));
      this.stats.multicallElements++;
      const r = op === X.HC.iret ? -X.EINVAL : this.hypercall(op, args, true);
      this.mem.setU32(at + 4, r);
    }
    return 0;
  }

  private consoleIo(cmd: number, count: number, buf: number): number {
    if (cmd === X.CONSOLEIO_write) {
      if (count > 4096) return -X.EINVAL;
      this.cfg.consoleOut(this.mem.read(buf, count));
      return 0;
    }
    if (cmd === X.CONSOLEIO_read) return 0; // no input for a DomU console here
    return -X.ENOSYS;
  }

  private schedOp(cmd: number, arg: number): number {
    switch (cmd) {
      case X.SCHEDOP_yield: return 0;
      case X.SCHEDOP_block:
        // Xen: events are enabled, then the vCPU sleeps until one is pending.
        this.events.upcallMask = false;
        if (!this.events.upcallPending) this.blocked = true;
        return 0;
      case X.SCHEDOP_shutdown: {
        const reason = this.mem.u32(arg);
        if (reason >= X.SHUTDOWN_NAMES.length) return -X.EINVAL;
        this.shutdown = X.SHUTDOWN_NAMES[reason];
        return 0;
      }
      default: return -X.ENOSYS;
    }
  }

  private vcpuOp(cmd: number, vcpu: number, arg: number): number {
    if (vcpu !== 0) return -X.ENOENT;
    const u64 = (va: number) => this.mem.u32(va) + this.mem.u32(va + 4) * 2 ** 32;
    switch (cmd) {
      case X.VCPUOP_is_up: return 1;
      case X.VCPUOP_set_periodic_timer: {
        const p = u64(arg);
        if (p < 1_000_000) return -X.EINVAL; // Xen: at least 1 ms
        this.periodNs = p; return 0;
      }
      case X.VCPUOP_stop_periodic_timer: this.periodNs = 0; return 0;
      case X.VCPUOP_set_singleshot_timer: this.timerDeadline = u64(arg); return 0;
      case X.VCPUOP_stop_singleshot_timer: this.timerDeadline = 0; return 0;
      default: return -X.ENOSYS;
    }
  }

  private eventChannelOp(cmd: number, arg: number): number {
    const E = X.EVTCHNOP, ev = this.events;
    switch (cmd) {
      case E.bind_virq: {
        const virq = this.mem.u32(arg), vcpu = this.mem.u32(arg + 4);
        this.mem.u32(arg + 8); // the result's place must be writable before anything changes
        this.mem.translate(arg + 8, true);
        if (virq >= X.NR_VIRQS) return -X.EINVAL;
        if (vcpu !== 0) return -X.ENOENT;
        if (ev.virqPort.has(virq)) return -X.EEXIST;
        const p = ev.bindVirq(virq);
        if (p < 0) return -X.ENOSPC;
        this.mem.setU32(arg + 8, p);
        return 0;
      }
      case E.alloc_unbound: {
        const b = this.mem.read(arg, 8);
        this.mem.translate(arg + 4, true);
        const dom = b[0] | (b[1] << 8), remote = b[2] | (b[3] << 8);
        if (this.foreign(dom)) return -X.EPERM;
        const p = ev.alloc();
        if (p < 0) return -X.ENOSPC;
        ev.ports[p].remoteDom = remote;
        this.mem.setU32(arg + 4, p);
        return 0;
      }
      case E.bind_interdomain: {
        const b = this.mem.read(arg, 12);
        this.mem.translate(arg + 8, true);
        const dv = new DataView(b.buffer);
        const remote = dv.getUint16(0, true), rport = dv.getUint32(4, true);
        if (remote !== 0) return this.bindToDomU(remote, rport, arg + 8);
        const back = this.dom0Ports.get(rport);
        if (!back) return -X.EINVAL;
        const p = ev.alloc();
        if (p < 0) return -X.ENOSPC;
        ev.ports[p] = { state: X.EVTCHNSTAT_interdomain, remoteDom: 0, peerPort: rport };
        this.mem.setU32(arg + 8, p);
        back.onBind?.(p);
        return 0;
      }
      case E.send: {
        const port = this.mem.u32(arg);
        if (!ev.valid(port)) return -X.EINVAL;
        const s = ev.ports[port];
        if (s.state === X.EVTCHNSTAT_interdomain && s.remoteDom === 0 && !s.peer) {
          this.stats.frontNotifications++;
          this.dom0Ports.get(s.peerPort!)?.onNotify();
          return 0;
        }
        if (s.state === X.EVTCHNSTAT_virq) return -X.EINVAL;
        ev.send(port);
        return 0;
      }
      case E.close: {
        const port = this.mem.u32(arg);
        if (!ev.valid(port)) return -X.EINVAL;
        ev.close(port);
        return 0;
      }
      case E.unmask: {
        const port = this.mem.u32(arg);
        if (!Number.isInteger(port) || port <= 0 || port >= X.NR_EVENT_CHANNELS) return -X.EINVAL;
        ev.unmask(port);
        return 0;
      }
      case E.status: return -X.ENOSYS;
      default: return -X.ENOSYS;
    }
  }

  /**
   * EVTCHNOP_bind_interdomain to another DomU (its port must be unbound and offered to this
   * domain by its alloc_unbound): both ends become interdomain, each naming the other.
   */
  private bindToDomU(remote: number, rport: number, out: number): number {
    const peer = remote === this.domid ? this : this.cfg.peers?.(remote);
    if (!peer) return -X.ESRCH;
    const theirs = peer.events.ports[rport];
    if (!peer.events.valid(rport) || theirs.state !== X.EVTCHNSTAT_unbound
      || theirs.remoteDom !== this.domid) {
      return -X.EINVAL;
    }
    const p = this.events.alloc();
    if (p < 0) return -X.ENOSPC;
    this.events.ports[p] = { state: X.EVTCHNSTAT_interdomain, remoteDom: remote,
      peer: peer.events, peerPort: rport };
    peer.events.ports[rport] = { state: X.EVTCHNSTAT_interdomain, remoteDom: this.domid,
      peer: this.events, peerPort: p };
    this.mem.setU32(out, p);
    return 0;
  }

  /** The management domain notifies the guest on `port` (an interdomain channel). */
  notifyFromDom0(port: number): void {
    if (this.events.valid(port)) this.events.setPending(port);
  }

  /** grant_table_op(cmd, uop, count): setup_table and query_size for a v1 table. */
  private grantTableOp(cmd: number, uop: number, count: number): number {
    if (count > X.MAX_BATCH) return -X.EINVAL;
    this.stats.grantOps += count;
    const G = X.GNTTABOP;
    switch (cmd) {
      case G.setup_table: {
        // struct gnttab_setup_table { domid_t dom; uint32_t nr_frames; int16_t status;
        // XEN_GUEST_HANDLE(xen_pfn_t) frame_list; }: dom @0, nr @4, status @8, list @12.
        for (let i = 0; i < count; i++) {
          const at = uop + i * 16;
          const b = this.mem.read(at, 16);
          const dv = new DataView(b.buffer);
          const dom = dv.getUint16(0, true), nr = dv.getUint32(4, true);
          const list = dv.getUint32(12, true);
          let status: number = X.GNTST_okay;
          if (this.foreign(dom)) status = X.GNTST_bad_domain;
          else if (nr > this.cfg.grantFrames.length) status = X.GNTST_general_error;
          else {
            for (let k = 0; k < nr; k++) this.mem.setU32(list + k * 4, this.cfg.grantFrames[k]);
          }
          const s = new Uint8Array(2);
          new DataView(s.buffer).setInt16(0, status, true);
          this.mem.write(at + 8, s);
        }
        return 0;
      }
      case G.query_size: {
        for (let i = 0; i < count; i++) {
          const at = uop + i * 16;
          const dom = this.mem.read(at, 2);
          const foreign = this.foreign(dom[0] | (dom[1] << 8));
          this.mem.setU32(at + 4, this.cfg.grantFrames.length);
          this.mem.setU32(at + 8, this.cfg.grantFrames.length);
          const s = new Uint8Array(2);
          new DataView(s.buffer).setInt16(0, foreign ? X.GNTST_bad_domain : X.GNTST_okay, true);
          this.mem.write(at + 12, s);
        }
        return 0;
      }
      default: return -X.ENOSYS;
    }
  }

  /**
   * The management domain's side of a grant (Xen's map_grant_ref as a backend does it):
   * the frame that grant `ref` of this domain gives domain `to`, or undefined when the
   * entry does not grant it (GTF_permit_access, its domid, and GTF_readonly for writes).
   */
  grantedFrame(ref: number, to: number, write: boolean): number | undefined {
    const per = 4096 / 8;
    if (!Number.isInteger(ref) || ref < 0 || ref >= per * this.cfg.grantFrames.length) {
      return undefined;
    }
    const at = this.cfg.grantFrames[Math.floor(ref / per)] * 4096 + (ref % per) * 8;
    const dv = new DataView(this.core.readPhys(at, 8).buffer);
    const flags = dv.getUint16(0, true), domid = dv.getUint16(2, true);
    const frame = dv.getUint32(4, true);
    if ((flags & X.GTF_type_mask) !== X.GTF_permit_access || domid !== to) return undefined;
    if (write && (flags & X.GTF_readonly)) return undefined;
    if (!this.frames.owns(this.domid, frame)) return undefined;
    return frame;
  }
}
