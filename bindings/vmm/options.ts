/**
 * The options that choose how a VM is virtualized: its mode, its memory virtualization, and
 * the TLB and walk caches of nested paging. One checker serves Machine.create, the library,
 * vm.json and the CLI, so every entry point refuses the same things with the same words.
 */

/** How the guest's CPU is virtualized (DESIGN.md, "The virtualization modes"). */
export type VmMode = 'native' | 'vtx' | 'svm' | 'pv';
/** How guest memory is virtualized under vtx/svm: shadow page tables, or EPT/NPT. */
export type PagingMode = 'shadow' | 'nested';

export const VM_MODES: readonly VmMode[] = ['native', 'vtx', 'svm', 'pv'];
export const PAGING_MODES: readonly PagingMode[] = ['shadow', 'nested'];

/** The virtualization options of one VM (all optional: native by default). */
export interface VmmOptions {
  /** 'native' (default): the guest runs directly on the emulated CPU. 'vtx': under the
   *  TypeScript VMM through VT-x (a VMCS, VM entries and exits). 'svm': through AMD-V. */
  mode?: VmMode;
  /** vtx/svm only: 'nested' (default) EPT/NPT; 'shadow' shadow page tables the VMM keeps
   *  (bindings/vmm/shadow), EPT/NPT off. */
  paging?: PagingMode;
  /** vtx/svm only: tagged TLB (VPID/ASID), default true; false flushes on every entry
   *  and exit. */
  tags?: boolean;
  /** vtx/svm with nested paging: the page-walk cache, default true. */
  pwc?: boolean;
  /** vtx/svm with nested paging: the nested TLB (guest-physical to host-physical),
   *  default true. */
  ntlb?: boolean;
}

/** The options with every default filled in. */
export interface ResolvedVmmOptions {
  mode: VmMode;
  /** undefined in native mode (the guest's own tables are the only ones). */
  paging: PagingMode | undefined;
  tags: boolean;
  pwc: boolean;
  ntlb: boolean;
}

/** What was wrong with the options (stable codes for programs; the message is for people). */
export type VmmOptionErrorCode =
  | 'bad-mode' | 'bad-paging' | 'bad-flag' | 'not-in-native' | 'shadow-not-available'
  | 'nested-virtualization' | 'mode-not-available';

/** A virtualization option refused: a bad value, a combination that means nothing, or a
 *  mode this build of the core cannot run. */
export class VmmOptionError extends Error {
  constructor(readonly code: VmmOptionErrorCode, message: string) {
    super(message);
    this.name = 'VmmOptionError';
  }
}

const FLAGS = ['tags', 'pwc', 'ntlb'] as const;

/**
 * Checks the options and fills in the defaults. `cpuVirt` is true when the machine's
 * cpu.vmx or cpu.svm gives the guest VMX or SVM (a guest hypervisor, in native mode).
 */
export function resolveVmmOptions(o: VmmOptions, cpuVirt = false): ResolvedVmmOptions {
  const mode = o.mode ?? 'native';
  if (!VM_MODES.includes(mode)) {
    throw new VmmOptionError('bad-mode',
      `mode ${JSON.stringify(mode)}: must be "native", "vtx", "svm" or "pv"`);
  }
  if (o.paging !== undefined && !PAGING_MODES.includes(o.paging)) {
    throw new VmmOptionError('bad-paging',
      `paging ${JSON.stringify(o.paging)}: must be "shadow" or "nested"`);
  }
  for (const f of FLAGS) {
    if (o[f] !== undefined && typeof o[f] !== 'boolean') {
      throw new VmmOptionError('bad-flag', `${f} must be true or false, got ${String(o[f])}`);
    }
  }
  if (mode === 'native') {
    const given = [...(o.paging !== undefined ? ['paging'] : []),
      ...FLAGS.filter((f) => o[f] !== undefined)];
    if (given.length) {
      throw new VmmOptionError('not-in-native', `${given.join(', ')}: ${given.length > 1
        ? 'apply' : 'applies'} to mode "vtx" or "svm" (a native guest has no second level of `
        + 'paging and no VPID/ASID)');
    }
    return { mode, paging: undefined, tags: true, pwc: true, ntlb: true };
  }
  // pv: paravirtualization (Xen's direct paging: the guest's tables are the real ones).
  if (mode === 'pv') {
    const given = [...(o.paging !== undefined ? ['paging'] : []),
      ...FLAGS.filter((f) => o[f] !== undefined)];
    if (given.length) {
      throw new VmmOptionError('not-in-native', `${given.join(', ')}: not for mode "pv" (a `
        + 'PV guest writes its own page tables through validated hypercalls: direct paging)');
    }
    if (cpuVirt) {
      throw new VmmOptionError('nested-virtualization',
        'cpu.vmx/cpu.svm with mode "pv": a PV guest gets no VMX or SVM');
    }
    return { mode, paging: undefined, tags: false, pwc: false, ntlb: false };
  }
  const paging = o.paging ?? 'nested';
  if (cpuVirt) {
    throw new VmmOptionError('nested-virtualization', `cpu.vmx/cpu.svm with mode "${mode}": `
      + 'a guest hypervisor under the TypeScript VMM (nested virtualization) is not built; '
      + 'cpu.vmx and cpu.svm give VMX or SVM to a guest in mode "native"');
  }
  return { mode, paging, tags: o.tags ?? true, pwc: o.pwc ?? true, ntlb: o.ntlb ?? true };
}
