/**
 * VMware's "backdoor" I/O port, far enough for the guest RPC channel that carries
 * `guestinfo` variables: the OVF environment reaches a guest as `guestinfo.ovfEnv`, which
 * open-vm-tools reads with `vmware-rpctool "info-get guestinfo.ovfEnv"` (ovftool's
 * `ovf:transport="com.vmware.guestInfo"`).
 *
 * The protocol, from open-vm-tools' sources (lib/include/backdoor_def.h,
 * lib/include/guest_msg_def.h, lib/message/message.c, lib/rpcOut/rpcout.c,
 * lib/vmCheck/vmcheck.c): the guest loads EAX with BDOOR_MAGIC ('VMXh'), ECX with a
 * command in its low half (and a message type in its high half), DX with BDOOR_PORT, and
 * executes `in eax, dx`; the answer comes back in EAX, EBX, ECX, EDX, ESI and EDI.
 * - BDOOR_CMD_GETVERSION (10): EAX = version, EBX = BDOOR_MAGIC (what
 *   VmCheck_IsVirtualWorld checks before any RPC), ECX = the product type. QEMU's vmport
 *   answers 6 and 2 (hw/i386/vmport.c defaults `vmware-vmx-version` 6, `vmware-vmx-type`
 *   2), and so do we.
 * - BDOOR_CMD_MESSAGE (30), ECX high = message type (guest_msg_def.h MessageType):
 *   OPEN 0 (EBX = protocol | GUESTMSG_FLAG_COOKIE; answers the channel id in EDX high
 *   and a cookie in ESI/EDI), SENDSIZE 1 (EBX = size), SENDPAYLOAD 2 (EBX = 4 bytes),
 *   RECVSIZE 3 (ECX high SUCCESS | DORECV when a reply waits; EDX high = SENDSIZE; EBX =
 *   size), RECVPAYLOAD 4 (EBX = 4 bytes; EDX high = SENDPAYLOAD), RECVSTATUS 5, CLOSE 6.
 *   Each answer's status is in ECX high: MESSAGE_STATUS_SUCCESS 0x0001, DORECV 0x0002;
 *   HB (0x0080, the high-bandwidth port 0x5659) is never offered, so a guest moves the
 *   payload 4 bytes per IN, as message.c does without it.
 * - The RPCI protocol ('RPCI', 0x49435052) carries commands as text: `info-get KEY`
 *   answers `1 VALUE`, or `0 No value found` (what VMware answers for a key it does not
 *   have); `info-set KEY VALUE` stores a guestinfo value and answers `1 `; anything else
 *   `0 Unknown command`.
 * A guest can do anything: sizes are bounded (MAX_MESSAGE), channel ids and cookies are
 * checked, and a bad request answers status 0 rather than throwing.
 */
import type { Bus } from './bus.js';

/** lib/include/backdoor_def.h */
export const BDOOR_MAGIC = 0x564d5868;
export const BDOOR_PORT = 0x5658;
export const BDOOR_CMD_GETVERSION = 10;
export const BDOOR_CMD_MESSAGE = 30;
/** lib/include/guest_msg_def.h */
export const MESSAGE_TYPE = {
  OPEN: 0, SENDSIZE: 1, SENDPAYLOAD: 2, RECVSIZE: 3, RECVPAYLOAD: 4, RECVSTATUS: 5, CLOSE: 6,
} as const;
export const MESSAGE_STATUS_SUCCESS = 0x0001;
export const MESSAGE_STATUS_DORECV = 0x0002;
export const GUESTMSG_FLAG_COOKIE = 0x80000000;
/** GUESTMSG_MAX_CHANNEL in guest_msg_def.h. */
export const GUESTMSG_MAX_CHANNEL = 8;
/** lib/rpcOut/rpcout.c: RPCI_PROTOCOL_NUM. */
export const RPCI_PROTOCOL = 0x49435052;
/** What GETVERSION answers (QEMU's vmport defaults). */
export const VMX_VERSION = 6;
export const VMX_TYPE = 2;
/** Largest message either way (the OVF environment of a large appliance fits). */
export const MAX_MESSAGE = 1 << 20;

/** The general registers the backdoor reads and writes. */
export interface BackdoorRegs {
  eax: number; ebx: number; ecx: number; edx: number; esi: number; edi: number;
}

/** How the device reaches the registers of the CPU executing the IN. */
export interface RegisterAccess {
  get(): BackdoorRegs;
  set(r: Partial<BackdoorRegs>): void;
}

interface Channel {
  cookieHigh: number;
  cookieLow: number;
  send?: Uint8Array;
  sent: number;
  reply?: Uint8Array;
  replied: number;
}

export interface BackdoorCounters {
  calls: number;
  rpcs: number;
  refused: number;
}

export class VmwareBackdoor {
  /** guestinfo variables by name without the `guestinfo.` prefix (`ovfEnv`...). */
  readonly guestinfo: Map<string, string>;
  readonly counters: BackdoorCounters = { calls: 0, rpcs: 0, refused: 0 };
  /** Each RPC command the guest sent and the reply, for a log (--stats). */
  onRpc?: (command: string, reply: string) => void;
  private readonly channels: (Channel | undefined)[] = new Array(GUESTMSG_MAX_CHANNEL);
  private nextCookie = 0x1000;

  constructor(guestinfo: Record<string, string> | Map<string, string> = {}) {
    this.guestinfo = new Map(guestinfo instanceof Map ? guestinfo : Object.entries(guestinfo));
  }

  attach(bus: Bus, regs: RegisterAccess): void {
    bus.register({ space: 'pio', base: BDOOR_PORT, length: 1, width: 4, device: {
      name: 'vmware-backdoor',
      read: (_o, size) => (size === 4 ? this.call(regs) : size === 2 ? 0xffff : 0xff),
      write: () => {},
    } });
  }

  /** One `in eax, dx` at the backdoor port: the new EAX (the other registers are set). */
  private call(regs: RegisterAccess): number {
    const r = regs.get();
    if (r.eax >>> 0 !== BDOOR_MAGIC) return 0xffffffff;
    this.counters.calls++;
    const cmd = r.ecx & 0xffff;
    if (cmd === BDOOR_CMD_GETVERSION) {
      regs.set({ ebx: BDOOR_MAGIC, ecx: VMX_TYPE });
      return VMX_VERSION;
    }
    if (cmd !== BDOOR_CMD_MESSAGE) {
      this.counters.refused++;
      return r.eax >>> 0;
    }
    const out = this.message(r.ecx >>> 16, r);
    if ((out.ecx ?? 0) >>> 16 === 0) this.counters.refused++;
    regs.set(out);
    return r.eax >>> 0;
  }

  private message(type: number, r: BackdoorRegs): Partial<BackdoorRegs> {
    const ok = (extra: Partial<BackdoorRegs> = {}, status = MESSAGE_STATUS_SUCCESS) =>
      ({ ecx: (status << 16) >>> 0, ...extra });
    const fail = { ecx: 0 };
    if (type === MESSAGE_TYPE.OPEN) {
      if (((r.ebx & ~GUESTMSG_FLAG_COOKIE) >>> 0) !== RPCI_PROTOCOL) return fail;
      const id = this.channels.findIndex((c) => c === undefined);
      if (id < 0) return fail;
      const c: Channel = {
        cookieHigh: this.nextCookie++ >>> 0, cookieLow: (this.nextCookie++ * 0x9e3779b1) >>> 0,
        sent: 0, replied: 0,
      };
      this.channels[id] = c;
      const cookie = (r.ebx & GUESTMSG_FLAG_COOKIE) !== 0;
      return ok({ edx: ((id << 16) | (r.edx & 0xffff)) >>> 0,
        esi: cookie ? c.cookieHigh : r.esi, edi: cookie ? c.cookieLow : r.edi });
    }
    const id = r.edx >>> 16;
    const c = id < GUESTMSG_MAX_CHANNEL ? this.channels[id] : undefined;
    if (!c || r.esi >>> 0 !== c.cookieHigh || r.edi >>> 0 !== c.cookieLow) return fail;
    switch (type) {
      case MESSAGE_TYPE.SENDSIZE: {
        const n = r.ebx >>> 0;
        if (n > MAX_MESSAGE) return fail;
        c.send = new Uint8Array(n);
        c.sent = 0;
        c.reply = undefined;
        if (n === 0) this.rpc(c);
        return ok();
      }
      case MESSAGE_TYPE.SENDPAYLOAD: {
        if (!c.send || c.sent >= c.send.length) return fail;
        for (let i = 0; i < 4 && c.sent < c.send.length; i++)
          c.send[c.sent++] = (r.ebx >>> (8 * i)) & 0xff;
        if (c.sent === c.send.length) this.rpc(c);
        return ok();
      }
      case MESSAGE_TYPE.RECVSIZE:
        if (!c.reply) return ok();
        return ok({ ebx: c.reply.length,
          edx: ((MESSAGE_TYPE.SENDSIZE << 16) | (r.edx & 0xffff)) >>> 0 },
        MESSAGE_STATUS_SUCCESS | MESSAGE_STATUS_DORECV);
      case MESSAGE_TYPE.RECVPAYLOAD: {
        if (!c.reply || c.replied >= c.reply.length) return fail;
        let v = 0;
        for (let i = 0; i < 4 && c.replied < c.reply.length; i++)
          v |= c.reply[c.replied++] << (8 * i);
        return ok({ ebx: v >>> 0,
          edx: ((MESSAGE_TYPE.SENDPAYLOAD << 16) | (r.edx & 0xffff)) >>> 0 });
      }
      case MESSAGE_TYPE.RECVSTATUS:
        if (!c.reply) return fail;
        c.reply = undefined;
        c.replied = 0;
        return ok();
      case MESSAGE_TYPE.CLOSE:
        this.channels[id] = undefined;
        return ok();
      default:
        return fail;
    }
  }

  /** Runs the RPCI command the guest finished sending; its reply waits for RECVSIZE. */
  private rpc(c: Channel): void {
    this.counters.rpcs++;
    const command = new TextDecoder().decode(c.send);
    c.send = undefined;
    const reply = this.answer(command.replace(/\0+$/, ''));
    this.onRpc?.(command, reply);
    c.reply = new TextEncoder().encode(reply);
    c.replied = 0;
  }

  /** The text answer of an RPCI command (VMware's replies: "1 ..." success, "0 ..." not). */
  answer(command: string): string {
    const get = /^info-get\s+guestinfo\.(\S+)\s*$/.exec(command);
    if (get) {
      const v = this.guestinfo.get(get[1]);
      return v === undefined ? '0 No value found' : `1 ${v}`;
    }
    const set = /^info-set\s+guestinfo\.(\S+)\s(.*)$/s.exec(command);
    if (set) {
      if (set[2].length > MAX_MESSAGE) return '0 Value too long';
      this.guestinfo.set(set[1], set[2]);
      return '1 ';
    }
    return '0 Unknown command';
  }
}
