/** A fresh core for the system tests: 32 MiB of RAM, as the Bochs reference runs had. */
import { createCore, type Core } from '../../../bindings/core/index.js';

export async function newCore(ramBytes = 32 << 20): Promise<Core> {
  return createCore({ ramBytes });
}
