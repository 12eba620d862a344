/**
 * blkback: the management domain's block backend over Xen's blkif ring
 * (xen/include/public/io/blkif.h, io/ring.h), serving a disk image the project reads (raw,
 * qcow2, VMDK... any BlockDevice) to a PV guest's blkfront.
 *
 * Layouts for a 32-bit guest: the shared ring page starts with req_prod @0, req_event @4,
 * rsp_prod @8, rsp_event @12 and 48 bytes of padding; entries from byte 64, each the size of
 * the larger of blkif_request (operation u8 @0, nr_segments u8 @1, handle u16 @2, id u64 @4,
 * sector_number u64 @12, seg[11] {gref u32, first_sect u8, last_sect u8} @20: 108 bytes)
 * and blkif_response (id u64 @0, operation u8 @8, status i16 @10: 12 bytes); the ring holds
 * the largest power of two that fits: 32 entries.
 *
 * Connection: this VMM has no xenstore. Where Xen's frontend writes `ring-ref` and
 * `event-channel` under its device's xenstore directory, a frontend here grants its ring
 * page as grant reference 0 (GTF_permit_access to domain 0) and binds an interdomain
 * channel to the backend's port BLKBACK_PORT of domain 0; the backend maps the ring at the
 * first notification. Every access goes through a grant: the ring and each segment's frame
 * must be granted to domain 0 (writable where the backend writes), else the request fails.
 */
import { readPhys32, writePhys32 } from '../../core/phys32.js';
import type { Core } from '../../core/types.js';
import type { BlockDevice } from '../../disk/types.js';
import type { PvDomain } from './domain.js';

export const BLKBACK_PORT = 1;
export const BLKIF_OP_READ = 0, BLKIF_OP_WRITE = 1, BLKIF_OP_FLUSH_DISKCACHE = 3;
export const BLKIF_RSP_OKAY = 0, BLKIF_RSP_ERROR = -1, BLKIF_RSP_EOPNOTSUPP = -2;
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const RING_HEADER = 64, REQ_SIZE = 108, RING_SIZE = 32;
const SECTOR = 512;

export interface BlkStats {
  requests: number;
  sectorsRead: number;
  sectorsWritten: number;
  errors: number;
  /** Responses after which the frontend was notified, and those whose notification the
   *  rsp_event hold-off suppressed (ring.h RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). */
  notificationsSent: number;
  notificationsSuppressed: number;
  /** Set when the frontend's producer index lied (more requests than the ring holds):
   *  processing stops, as Xen's blkback halts such a ring. */
  halted?: string;
}

export class BlkBack {
  private ring: number | undefined;
  private frontPort: number | undefined;
  private reqCons = 0;
  private rspProdPvt = 0;
  readonly stats: BlkStats = { requests: 0, sectorsRead: 0, sectorsWritten: 0, errors: 0,
    notificationsSent: 0, notificationsSuppressed: 0 };

  constructor(private readonly core: Core, private readonly domain: PvDomain,
    private readonly disk: BlockDevice, readonly port = BLKBACK_PORT) {
    domain.dom0Ports.set(port, {
      onBind: (local) => { this.frontPort = local; },
      onNotify: () => this.kick(),
    });
  }

  private r32(pa: number): number {
    return readPhys32(this.core, pa);
  }
  private w32(pa: number, v: number): void {
    writePhys32(this.core, pa, v);
  }

  /** A notification from the frontend: consume every request, push the responses. */
  kick(): void {
    if (this.stats.halted) return;
    if (this.ring === undefined) {
      const f = this.domain.grantedFrame(0, 0, true);
      if (f === undefined) { this.stats.errors++; return; }
      this.ring = f * 4096;
    }
    const ring = this.ring;
    for (;;) {
      const prod = this.r32(ring);
      if (((prod - this.reqCons) >>> 0) > RING_SIZE) {
        this.stats.halted = `req_prod ${prod} is more than ${RING_SIZE} ahead of req_cons `
          + `${this.reqCons}`;
        return;
      }
      while (this.reqCons !== prod) {
        const at = ring + RING_HEADER + (this.reqCons & (RING_SIZE - 1)) * REQ_SIZE;
        const req = this.core.readPhys(at, REQ_SIZE);
        this.reqCons = (this.reqCons + 1) >>> 0;
        this.respond(req);
      }
      // RING_FINAL_CHECK_FOR_REQUESTS: ask for a notification at the next request.
      this.w32(ring + 4, this.reqCons + 1);
      if (this.r32(ring) === this.reqCons) break;
    }
    const old = this.r32(ring + 8), now = this.rspProdPvt;
    this.w32(ring + 8, now);
    const event = this.r32(ring + 12);
    if (((now - event) >>> 0) < ((now - old) >>> 0)) {
      this.stats.notificationsSent++;
      if (this.frontPort !== undefined) this.domain.notifyFromDom0(this.frontPort);
    } else if (now !== old) {
      this.stats.notificationsSuppressed++;
    }
  }

  private respond(req: Uint8Array): void {
    const dv = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const op = req[0];
    this.stats.requests++;
    const status = this.perform(op, dv);
    if (status !== BLKIF_RSP_OKAY) this.stats.errors++;
    const rsp = new Uint8Array(12);
    rsp.set(req.subarray(4, 12), 0); // id, copied from the request
    rsp[8] = op;
    new DataView(rsp.buffer).setInt16(10, status, true);
    const at = this.ring! + RING_HEADER + (this.rspProdPvt & (RING_SIZE - 1)) * REQ_SIZE;
    this.core.writePhys(at, rsp);
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  private perform(op: number, dv: DataView): number {
    if (op === BLKIF_OP_FLUSH_DISKCACHE) { this.disk.flush(); return BLKIF_RSP_OKAY; }
    if (op !== BLKIF_OP_READ && op !== BLKIF_OP_WRITE) return BLKIF_RSP_EOPNOTSUPP;
    const n = dv.getUint8(1);
    if (n < 1 || n > BLKIF_MAX_SEGMENTS_PER_REQUEST) return BLKIF_RSP_ERROR;
    if (op === BLKIF_OP_WRITE && this.disk.readOnly) return BLKIF_RSP_ERROR;
    let offset = (dv.getUint32(12, true) + dv.getUint32(16, true) * 2 ** 32) * SECTOR;
    // Check every segment before moving any data: a bad request changes nothing.
    const segs: { pa: number; bytes: number }[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const gref = dv.getUint32(20 + i * 8, true);
      const first = dv.getUint8(24 + i * 8), last = dv.getUint8(25 + i * 8);
      if (first > last || last >= 4096 / SECTOR) return BLKIF_RSP_ERROR;
      // A read writes into the guest's frame: it must be granted writable.
      const f = this.domain.grantedFrame(gref, 0, op === BLKIF_OP_READ);
      if (f === undefined) return BLKIF_RSP_ERROR;
      const bytes = (last - first + 1) * SECTOR;
      segs.push({ pa: f * 4096 + first * SECTOR, bytes });
      total += bytes;
    }
    if (offset + total > this.disk.size) return BLKIF_RSP_ERROR;
    for (const s of segs) {
      if (op === BLKIF_OP_READ) {
        const buf = new Uint8Array(s.bytes);
        this.disk.read(offset, buf);
        this.core.writePhys(s.pa, buf);
        this.stats.sectorsRead += s.bytes / SECTOR;
      } else {
        this.disk.write(offset, this.core.readPhys(s.pa, s.bytes));
        this.stats.sectorsWritten += s.bytes / SECTOR;
      }
      offset += s.bytes;
    }
    return BLKIF_RSP_OKAY;
  }
}
