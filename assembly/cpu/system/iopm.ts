// I/O permission (SDM vol. 1, 19.5): when CPL > IOPL or in V86 mode, every port of the
// access must be allowed by the TSS I/O permission bitmap (a 0 bit), else #GP(0).
import { STATE_BASE, S_CPL, S_CR0 } from '../../generated/layout';
import { segBase, segLimit, segAccess, TR, CR0_PE } from '../state';
import { flags, IOPL, VM } from '../flags';
import { sysRd16 } from './sysmem';
import { faulted, raiseGP } from '../fault';

/** True when port access `port`..`port+size-1` is allowed; otherwise raises #GP(0). */
export function ioAllowed(port: u32, size: u32): bool {
  if ((load<u32>(STATE_BASE + S_CR0) & CR0_PE) == 0) return true;
  const vm = (flags & VM) != 0;
  if (!vm && load<u32>(STATE_BASE + S_CPL) <= ((flags & IOPL) >> 12)) return true;
  // Only a 32-bit TSS (type 9/11) has the bitmap; its base is the word at offset 0x66.
  const type = segAccess(TR) & 0xf;
  if (type != 9 && type != 11) { raiseGP(0); return false; }
  const limit = segLimit(TR);
  if (limit < 0x67) { raiseGP(0); return false; }
  const mapBase = sysRd16(segBase(TR) + 0x66);
  if (faulted) return false;
  const byteOff = mapBase + (port >> 3);
  if (byteOff + 1 > limit) { raiseGP(0); return false; }
  const bits = sysRd16(segBase(TR) + byteOff);
  if (faulted) return false;
  const mask: u32 = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) != 0) { raiseGP(0); return false; }
  return true;
}
