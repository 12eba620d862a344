// Instruction prefixes (SDM vol. 2A, 2.1.1): operand and address size, segment override,
// REP/REPNE and LOCK, in any order, and the LOCK rule (lockAllowed, generated from the
// opcode table's lock column). A prefixed instruction takes two steps of the run loop: the
// prefixes, then the opcode with them (prefixPending).
import { ES, CS, SS, DS, FS, GS } from './state';
import { ip, setIp, startIp, code32, fetch8, setPrefixDirty } from './access';
import { clampFetch } from '../mem/tlb';
import { lock, setOsz, setAsz, setSegOvr, setRep, setLock } from './decode';
import { faulted, raiseGP, raiseUD } from './fault';
import { needAttention } from './events';
import { lockAllowed } from '../generated/dispatch';

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
