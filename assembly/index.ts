// The core's only export surface.
import { STATE_BASE } from './generated/layout';

export function stateBase(): u32 {
  return STATE_BASE;
}
