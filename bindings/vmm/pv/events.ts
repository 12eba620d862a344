/**
 * Event channels over the shared_info page (xen/include/public/event_channel.h, xen.h):
 * the 2-level ABI's pending and mask bitmaps, the per-vCPU pending selector, upcall-pending
 * flag and upcall mask. Production is decoupled from delivery as in Xen: sending sets the
 * pending bit (and, when the port is unmasked, the selector bit and upcall-pending); the
 * upcall itself happens when the guest's mask allows it (modes/pv.ts).
 */
import { readPhys32, writePhys32 } from '../../core/phys32.js';
import type { Core } from '../../core/types.js';
import {
  EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_virq,
  NR_EVENT_CHANNELS, SHARED_INFO, VCPU_INFO,
} from './xen.js';

export interface Port {
  state: number;
  virq?: number;
  /** interdomain: the other end (a port of the peer's table). */
  peer?: EventTable;
  peerPort?: number;
  /** unbound: the domain allowed to bind. */
  remoteDom?: number;
}

export class EventTable {
  readonly ports: Port[] = [];
  readonly virqPort = new Map<number, number>();
  sent = 0;
  delivered = 0;

  constructor(private readonly core: Core, readonly domid: number,
    private readonly sharedInfo: number) {
    // Port 0 is reserved (event_channel.h: "port 0 is never used").
    this.ports.push({ state: EVTCHNSTAT_closed });
  }

  private bit(offset: number, port: number): [number, number] {
    return [this.sharedInfo + offset + (port >>> 5) * 4, 1 << (port & 31)];
  }
  private r32(pa: number): number {
    return readPhys32(this.core, pa);
  }
  private w32(pa: number, v: number): void {
    writePhys32(this.core, pa, v);
  }
  private testAndSet(pa: number, m: number): boolean {
    const v = this.r32(pa);
    if (v & m) return true;
    this.w32(pa, v | m);
    return false;
  }
  u8(off: number): number { return this.core.readPhys(this.sharedInfo + off, 1)[0]; }
  setU8(off: number, v: number): void {
    this.core.writePhys(this.sharedInfo + off, Uint8Array.of(v));
  }

  get upcallPending(): boolean { return this.u8(VCPU_INFO.evtchn_upcall_pending) !== 0; }
  get upcallMask(): boolean { return this.u8(VCPU_INFO.evtchn_upcall_mask) !== 0; }
  set upcallMask(on: boolean) { this.setU8(VCPU_INFO.evtchn_upcall_mask, on ? 1 : 0); }

  /** A free port number, or -1 (ENOSPC). */
  alloc(): number {
    for (let p = 1; p < NR_EVENT_CHANNELS; p++) {
      if (!this.ports[p] || this.ports[p].state === EVTCHNSTAT_closed) {
        this.ports[p] = { state: EVTCHNSTAT_unbound };
        return p;
      }
    }
    return -1;
  }
  valid(port: number): boolean {
    return Number.isInteger(port) && port > 0 && port < NR_EVENT_CHANNELS
      && this.ports[port] !== undefined && this.ports[port].state !== EVTCHNSTAT_closed;
  }

  /** evtchn_set_pending: the pending bit; selector and upcall-pending when unmasked. */
  setPending(port: number): void {
    this.sent++;
    const [pa, m] = this.bit(SHARED_INFO.evtchn_pending, port);
    if (this.testAndSet(pa, m)) return;
    const [ma, mm] = this.bit(SHARED_INFO.evtchn_mask, port);
    if (this.r32(ma) & mm) return;
    if (!this.testAndSet(this.sharedInfo + VCPU_INFO.evtchn_pending_sel, 1 << (port >>> 5))) {
      this.setU8(VCPU_INFO.evtchn_upcall_pending, 1);
    }
  }
  /** EVTCHNOP_unmask: clears the mask; a pending event then raises the upcall. */
  unmask(port: number): void {
    const [ma, mm] = this.bit(SHARED_INFO.evtchn_mask, port);
    this.w32(ma, this.r32(ma) & ~mm);
    const [pa, m] = this.bit(SHARED_INFO.evtchn_pending, port);
    if ((this.r32(pa) & m)
      && !this.testAndSet(this.sharedInfo + VCPU_INFO.evtchn_pending_sel, 1 << (port >>> 5))) {
      this.setU8(VCPU_INFO.evtchn_upcall_pending, 1);
    }
  }
  isPending(port: number): boolean {
    const [pa, m] = this.bit(SHARED_INFO.evtchn_pending, port);
    return (this.r32(pa) & m) !== 0;
  }
  isMasked(port: number): boolean {
    const [pa, m] = this.bit(SHARED_INFO.evtchn_mask, port);
    return (this.r32(pa) & m) !== 0;
  }

  bindVirq(virq: number): number {
    const p = this.alloc();
    if (p < 0) return p;
    this.ports[p] = { state: EVTCHNSTAT_virq, virq };
    this.virqPort.set(virq, p);
    return p;
  }
  sendVirq(virq: number): boolean {
    const p = this.virqPort.get(virq);
    if (p === undefined) return false;
    this.setPending(p);
    return true;
  }
  /** EVTCHNOP_send on a local port: to the peer's port (interdomain). */
  send(port: number): void {
    const s = this.ports[port];
    if (s.state === EVTCHNSTAT_interdomain && s.peer && s.peerPort !== undefined) {
      s.peer.setPending(s.peerPort);
    }
  }
  close(port: number): void {
    const s = this.ports[port];
    if (s.state === EVTCHNSTAT_virq && s.virq !== undefined) this.virqPort.delete(s.virq);
    if (s.state === EVTCHNSTAT_interdomain && s.peer && s.peerPort !== undefined) {
      const other = s.peer.ports[s.peerPort];
      // The other end goes back to unbound, offered to this domain again (Xen's close).
      if (other) s.peer.ports[s.peerPort] = { state: EVTCHNSTAT_unbound, remoteDom: this.domid };
    }
    this.ports[port] = { state: EVTCHNSTAT_closed };
  }
}
