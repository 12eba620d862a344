// Port I/O: the permission check (CPL vs IOPL, then the TSS bitmap) and the exit to the
// host through the replay log.
import { hostAccess, KIND_IO } from '../iolog';
import { ioAllowed } from '../system/iopm';
import { guestMode } from '../../vmm/guest';
import { icptIo } from '../../vmm/intercept';

/** IN of `bytes` (1, 2, 4) from `port`; exits to the host the first time. `imm`: the port
 *  is an immediate operand; `str`: an element of INS (its I/O exit was decided by
 *  stringOp). In non-root operation the I/O exit follows the permission checks (SDM vol.
 *  3C, 26.1.1). */
export function portIn(port: u32, bytes: u32, imm: bool = false, str: bool = false): u32 {
  if (!ioAllowed(port, bytes)) return 0;
  if (guestMode != 0 && !str && icptIo(port, bytes, true, false, false, 0, imm)) return 0;
  return hostAccess(KIND_IO, port, bytes, false, 0);
}

export function portOut(port: u32, bytes: u32, v: u32, imm: bool = false, str: bool = false): void {
  if (!ioAllowed(port, bytes)) return;
  if (guestMode != 0 && !str && icptIo(port, bytes, false, false, false, 0, imm)) return;
  hostAccess(KIND_IO, port, bytes, true, v);
}
