/** The modes behind one interface, and the one place that picks a mode's operations. */
import type { Core } from '../../core/types.js';
import { VmmOptionError, type ResolvedVmmOptions } from '../options.js';
import type { ModeOps } from './ops.js';
import { NativeOps } from './native.js';
import { VtxOps } from './vtx.js';
import { SvmOps } from './svm.js';

export type { ModeOps, VmmStats } from './ops.js';

/** True when this build of the core can run `mode`. */
export function modeAvailable(core: Core, mode: ResolvedVmmOptions['mode']): boolean {
  if (mode === 'native' || mode === 'pv') return true;
  const vmm = core.vmm;
  return !!vmm && (mode === 'vtx' ? vmm.vmx : vmm.svm);
}

/** The operations of `options.mode` for `core`, whose CPU state is the guest's first. */
export function createModeOps(core: Core, options: ResolvedVmmOptions): ModeOps {
  if (options.mode === 'native') return new NativeOps(core);
  return createHardwareOps(core, options);
}

/** vtx or svm; a core built without that vendor's host entry refuses the mode. */
export function createHardwareOps(core: Core, options: ResolvedVmmOptions): ModeOps {
  const vmm = core.vmm;
  if (!vmm || !modeAvailable(core, options.mode)) {
    const what = options.mode === 'vtx' ? 'VT-x (vmxHostEnter, vmcsRead/vmcsWrite, '
      + 'hostEmulate, addVmmRam)' : 'AMD-V (svmHostEnter, hostEmulate, addVmmRam)';
    throw new VmmOptionError('mode-not-available', `mode "${options.mode}" is not available `
      + `in this build: its core has no host-side ${what}`);
  }
  return options.mode === 'vtx' ? new VtxOps(core, vmm, options) : new SvmOps(core, vmm, options);
}
