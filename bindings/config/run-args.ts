/**
 * The `wasmvisor run` command line that boots a VM configuration, for as long as `run`
 * takes its machine from options (--kernel, --append, --initrd, --disk, --mem): what the
 * options cannot say (a second disk, CD-ROM drives, NICs, COM2-4) is named instead.
 */
import { join } from 'node:path';
import type { VmConfig } from './types.js';

export interface RunArgs {
  /** Arguments after `wasmvisor run`, with paths joined to `dir`. */
  args: string[];
  /** What the configuration has that these options cannot carry. */
  missing: string[];
}

export function runArgsFor(vm: VmConfig, dir: string): RunArgs {
  const args: string[] = [];
  const missing: string[] = [];
  const path = (p: string) => join(dir, p);
  if (vm.boot.firmware === 'multiboot') {
    args.push('--kernel', path(vm.boot.kernel));
    if (vm.boot.cmdline !== undefined) args.push('--append', vm.boot.cmdline);
    if (vm.boot.modules?.length) args.push('--initrd', vm.boot.modules.map(path).join(','));
  }
  for (const [i, d] of vm.disks.entries()) {
    const primaryMaster = d.controller.type === 'ide' && d.controller.channel === 0 && d.controller.unit === 0;
    if (primaryMaster && d.media === 'disk' && d.path) args.push('--disk', path(d.path));
    else missing.push(`disks[${i}] (${d.media}${d.path ? ` ${d.path}` : ''})`);
  }
  args.push('--mem', String(vm.memoryMiB));
  for (const [i, n] of vm.nics.entries()) missing.push(`nics[${i}] (${n.model})`);
  for (const s of vm.serial) if (s.port !== 1) missing.push(`COM${s.port}`);
  return { args, missing };
}
