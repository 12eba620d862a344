// Instruction prefixes (SDM vol. 2A, 2.1.1): operand and address size, segment override,
// REP/REPNE and LOCK, in any order, and the LOCK rule. A prefixed instruction takes two
// steps of the run loop: the prefixes, then the opcode with them (prefixPending).
import { ES, CS, SS, DS, FS, GS } from './state';
import { ip, setIp, startIp, code32, fetch8, setPrefixDirty } from './access';
import { clampFetch } from '../mem/tlb';
import { lock, setOsz, setAsz, setSegOvr, setRep, setLock } from './decode';
import { faulted, raiseGP, raiseUD } from './fault';
import { needAttention } from './events';

/** LOCK is allowed only on these read-modify-write instructions with a memory destination
 *  (SDM vol. 2A, LOCK). `b` is the opcode (0x0Fxx for two-byte), `m` the ModRM byte. */
function lockAllowed(b: u32, m: u32): bool {
  if (m >= 0xc0) return false;
  const r = (m >> 3) & 7;
  if (b < 0x40) return (b & 7) < 2 && (b >> 3) != 7;          // ALU Eb,Gb / Ev,Gv except CMP
  if (b >= 0x80 && b <= 0x83) return r != 7;                 // group 1 except CMP
  if (b == 0x86 || b == 0x87) return true;                   // XCHG
  if (b == 0xf6 || b == 0xf7) return r == 2 || r == 3;      // NOT, NEG
  if (b == 0xfe || b == 0xff) return r < 2;                  // INC, DEC
  if (b == 0x0fab || b == 0x0fb3 || b == 0x0fbb) return true; // BTS BTR BTC
  if (b == 0x0fba) return r >= 5;
  if (b == 0x0fb0 || b == 0x0fb1 || b == 0x0fc0 || b == 0x0fc1) return true;
  if (b == 0x0fc7) return r == 1;                            // CMPXCHG8B
  return false;
}

/** Set when step() consumed only an instruction's prefixes (its opcode byte is next at
 *  `ip`); it also raises `attention`, so the run loop neither counts the step nor takes
 *  events before the opcode runs. A prefixed instruction thus costs two steps, and the
 *  dispatch has no inner loop. */
export let prefixPending: bool = false;
@inline export function clearPrefixPending(): void { prefixPending = false; }

/** Consumes the prefixes starting with `b` and leaves `ip` on the opcode byte, which the
 *  next step() dispatches with them (prefixPending, and `attention` so the run loop comes
 *  back for it). */
export function prefixes(b: u32): void {
  setPrefixDirty(true);
  const d: u32 = code32 ? 32 : 16;
  let n: u32 = 0;
  while (true) {
    switch (b) {
      case 0x66: setOsz(d ^ 48); break;
      case 0x67: setAsz(d ^ 48); break;
      case 0x26: setSegOvr(ES); break;
      case 0x2e: setSegOvr(CS); break;
      case 0x36: setSegOvr(SS); break;
      case 0x3e: setSegOvr(DS); break;
      case 0x64: setSegOvr(FS); break;
      case 0x65: setSegOvr(GS); break;
      case 0xf0: setLock(true); break;
      case 0xf2: case 0xf3: setRep(b); break;
      default: {
        if (lock) {
          let op = b;
          if (b == 0x0f) op = 0x0f00 | fetch8();
          const m = fetch8();
          if (faulted) return;
          if (!lockAllowed(op, m)) { raiseUD(); return; }
          setIp(ip - (b == 0x0f ? 2 : 1));
        }
        setIp(ip - 1); // back on the opcode byte
        prefixPending = true;
        needAttention();
        return;
      }
    }
    // An instruction longer than 15 bytes raises #GP(0) (SDM vol. 2A, 2.3.11). Only a
    // prefixed one can be: from the fourth prefix on, fetches past the 15th byte are checked.
    if (++n == 3) clampFetch(startIp + 15);
    if (n >= 15) { raiseGP(0); return; }
    b = fetch8();
    if (faulted) return;
  }
}
