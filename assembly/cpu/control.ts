// Near control transfers: Jcc, JMP, CALL, RET, LOOPcc, JCXZ (SDM vol. 2A/2B). A target
// beyond the CS limit raises #GP(0) at the transfer, before anything changes.
import { ip, setIp } from './access';
import { segLimit, CS } from './state';
import { raiseGP, faulted } from './fault';
import { osz } from './decode';
import { pushSz } from './stack';

/** Jumps to `target` (truncated to 16 bits for a 16-bit operand size). */
@inline export function jumpTo(target: u32): void {
  if (osz == 16) target &= 0xffff;
  if (target > segLimit(CS)) { raiseGP(0); return; }
  setIp(target);
}

@inline export function jumpRel(disp: u32): void { jumpTo(ip + disp); }

@inline export function callTo(target: u32): void {
  if (osz == 16) target &= 0xffff;
  if (target > segLimit(CS)) { raiseGP(0); return; }
  pushSz(osz, ip);
  if (faulted) return;
  setIp(target);
}
