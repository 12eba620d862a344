// Port I/O: the permission check (CPL vs IOPL, then the TSS bitmap) and the exit to the
// host through the replay log.
import { hostAccess, KIND_IO } from '../iolog';
import { ioAllowed } from '../system/iopm';

/** IN of `bytes` (1, 2, 4) from `port`; exits to the host the first time. */
export function portIn(port: u32, bytes: u32): u32 {
  if (!ioAllowed(port, bytes)) return 0;
  return hostAccess(KIND_IO, port, bytes, false, 0);
}

export function portOut(port: u32, bytes: u32, v: u32): void {
  if (!ioAllowed(port, bytes)) return;
  hostAccess(KIND_IO, port, bytes, true, v);
}
