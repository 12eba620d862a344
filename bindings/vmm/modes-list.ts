/**
 * The virtualization modes this build offers, in one list: the web page's pickers, and any
 * program that offers a choice, read it. Each mode adds itself here when it lands (its
 * name as `Machine.create` takes it in `mode`, the paging it offers and the switches it
 * honours), so a user interface shows it without changing.
 */

/** A boolean option a mode honours in `Machine.create` (tagged TLB, page-walk cache...). */
export interface ModeSwitch {
  /** The option's name in `Machine.create` (`tags`, `pwc`, `ntlb`). */
  readonly name: string;
  readonly label: string;
  readonly default: boolean;
  /** Offered only with this paging (e.g. the nested TLB with nested paging). */
  readonly paging?: string;
}

export interface ModeInfo {
  /** The mode's name (`Machine.create({ mode })`; native is the default and may be left out). */
  readonly name: string;
  /** A short label for people. */
  readonly label: string;
  /** One sentence: what runs the guest in this mode. */
  readonly description: string;
  /** The paging choices (`Machine.create({ paging })`), the default first; empty: none. */
  readonly paging: readonly string[];
  readonly switches: readonly ModeSwitch[];
  /** The column of Adams & Agesen's figure 4 it compares with ('pv': none, the paper has
   *  no paravirtual column). */
  readonly published: 'native' | 'bt' | 'vtx' | 'pv';
}

/** Every mode of this build, the default first. */
export const MODES: readonly ModeInfo[] = [
  {
    name: 'native',
    label: 'native',
    description: 'The guest runs directly on the emulated CPU, with no hypervisor between; ' +
      'port and MMIO accesses go to the device model.',
    paging: [],
    switches: [],
    published: 'native',
  },
  // pv: paravirtualization (Xen's 32-bit PV interface; the kernel must be a PV kernel).
  {
    name: 'pv',
    label: 'PV (Xen-style)',
    description: 'A paravirtual kernel runs in ring 1 under the TypeScript VMM and asks it for ' +
      'privileged work through Xen\'s hypercalls; its page tables are validated, not shadowed.',
    paging: [],
    switches: [],
    published: 'pv',
  },
  {
    name: 'vtx',
    label: 'VT-x',
    description: 'The guest runs in VMX non-root operation under the TypeScript VMM, its ' +
      'exits chosen by VMCS controls; guest memory through EPT, or shadow page tables.',
    // Shadow paging (issue 10): the second paging, so the bench column is vtx-shadow.
    paging: ['nested', 'shadow'],
    switches: [
      { name: 'tags', label: 'VPID (tagged TLB)', default: true },
      { name: 'pwc', label: 'page-walk cache', default: true, paging: 'nested' },
      { name: 'ntlb', label: 'nested TLB', default: true, paging: 'nested' },
    ],
    published: 'vtx',
  },
  {
    name: 'svm',
    label: 'AMD-V',
    description: 'The guest runs in SVM guest mode under the TypeScript VMM, its exits ' +
      'chosen by VMCB intercepts; guest memory through nested page tables, or shadow page ' +
      'tables.',
    // Shadow paging (issue 10): the second paging, so the bench column is svm-shadow.
    paging: ['nested', 'shadow'],
    switches: [
      { name: 'tags', label: 'ASID (tagged TLB)', default: true },
      { name: 'pwc', label: 'page-walk cache', default: true, paging: 'nested' },
      { name: 'ntlb', label: 'nested TLB', default: true, paging: 'nested' },
    ],
    published: 'vtx',
  },
];

/** What a user picked for a mode: a paging choice and the switches' values. */
export interface ModeChoice {
  paging?: string;
  switches?: Record<string, boolean>;
}

/**
 * The options of `Machine.create` for `mode` with `choice` (native: none). Unknown modes,
 * pagings and switches are refused with the list of those this build offers.
 */
export function modeOptions(mode: string, choice: ModeChoice = {}): Record<string, unknown> {
  const m = MODES.find((x) => x.name === mode);
  if (!m) {
    throw new RangeError(`unknown mode "${mode}" (this build offers: ` +
      `${MODES.map((x) => x.name).join(', ')})`);
  }
  if (m.name === 'native') return {};
  const paging = choice.paging ?? m.paging[0];
  if (m.paging.length && !m.paging.includes(paging as string)) {
    throw new RangeError(`mode ${mode} offers paging ${m.paging.join(', ')}, not "${paging}"`);
  }
  const out: Record<string, unknown> = { mode: m.name };
  if (paging !== undefined) out.paging = paging;
  for (const s of m.switches) {
    if (s.paging && s.paging !== paging) continue;
    out[s.name] = choice.switches?.[s.name] ?? s.default;
  }
  for (const k of Object.keys(choice.switches ?? {})) {
    if (!m.switches.some((s) => s.name === k)) {
      throw new RangeError(`mode ${mode} has no switch "${k}"`);
    }
  }
  return out;
}
