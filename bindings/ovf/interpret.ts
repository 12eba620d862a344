/**
 * Interpretation helpers shared by validation and the mapping to a VM configuration:
 * host-resource references, deployment configurations, integers.
 */
import type { DeploymentOptionSection, Envelope, HardwareItem, Section } from './model.js';
import { findSection, prop } from './model.js';

/**
 * A HostResource reference (DSP0243 1.1 and 2.1 section 8.3 "Virtual hardware
 * elements": `ovf:/disk/<diskId>` or `ovf:/file/<fileId>`). VirtualBox writes
 * `/disk/<id>` without the scheme; accepted.
 */
export function parseHostResource(s: string): { kind: 'disk' | 'file'; id: string } | null {
  const m = /^(?:ovf:)?\/(disk|file)\/(.+)$/.exec(s.trim());
  return m ? { kind: m[1] as 'disk' | 'file', id: m[2] } : null;
}

/**
 * The deployment configuration in force: the one asked for, else the one marked
 * ovf:default="true", else the first (DSP0243 section 9.8). Undefined when the envelope
 * declares none.
 */
export function selectedConfiguration(env: Envelope, wanted?: string): string | undefined {
  const dos = findSection(env.sections, 'DeploymentOptionSection') as
    DeploymentOptionSection | undefined;
  if (!dos || dos.configurations.length === 0) return wanted;
  if (wanted !== undefined) return wanted;
  const def = dos.configurations.find((c) => c.default === 'true' || c.default === '1');
  return (def ?? dos.configurations[0]).id;
}

/** Whether an item applies to a configuration (ovf:configuration lists ids; absent: all). */
export function itemApplies(item: HardwareItem, configuration: string | undefined): boolean {
  if (item.configuration === undefined || item.configuration.trim() === '') return true;
  if (configuration === undefined) return false;
  return item.configuration.trim().split(/\s+/).includes(configuration);
}

/** Parses a decimal integer, returning undefined for anything else. */
export function intOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^[+-]?\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}

/** Deployment configuration ids declared in an envelope. */
export function configurationIds(env: Envelope): string[] {
  const dos = findSection(env.sections, 'DeploymentOptionSection');
  return dos ? dos.configurations.map((c) => c.id) : [];
}

/** Sections of a kind in an envelope and every content node. */
export function allSections(env: Envelope): Section[] {
  const out: Section[] = [...env.sections];
  const walk = (c: Envelope['content']) => {
    if (!c) return;
    out.push(...c.sections);
    if (c.kind === 'VirtualSystemCollection') c.content.forEach(walk);
  };
  walk(env.content);
  return out;
}

/** The ovf:bound of an item: `min`, `max` or `normal` (the default), DSP0243 8.4. */
export function boundOf(item: HardwareItem): string {
  return (item.bound ?? '').trim() || 'normal';
}

/** True if an item names deployment configurations (ovf:configuration, DSP0243 9.8). */
export function isConfigurationSpecific(item: HardwareItem): boolean {
  return (item.configuration ?? '').trim() !== '';
}

/** One resource in force: the item that describes it and its range markers. */
export interface EffectiveItem {
  item: HardwareItem;
  /** ovf:bound="min" / "max" range markers for the same InstanceID (DSP0243 8.4). */
  min?: HardwareItem;
  max?: HardwareItem;
  /** The item for all configurations that a configuration-specific one replaced. */
  replaced?: HardwareItem;
}

/**
 * The hardware in force for a deployment configuration, one entry per resource, in the
 * order the resources first appear.
 *
 * - DSP0243 9.8: an item with ovf:configuration is used only when one of the listed
 *   configurations is selected; one without is used for every configuration. Items with
 *   the same InstanceID describe the same resource, so for a selected configuration the
 *   item naming it replaces the item for all configurations (Cisco's CSR1000v and IOSv
 *   descriptors give a base CPU item and per-configuration ones with the same InstanceID;
 *   ovftool and COT read them this way).
 * - DSP0243 8.4: items with ovf:bound="min"/"max" are range markers for the item with the
 *   same InstanceID and no bound (or "normal"), which gives the value used.
 */
export function effectiveItems(
  items: readonly HardwareItem[],
  configuration: string | undefined,
): EffectiveItem[] {
  interface Group { base?: HardwareItem; specific?: HardwareItem; min?: HardwareItem;
    max?: HardwareItem; minSpecific?: boolean; maxSpecific?: boolean }
  const groups = new Map<string, Group>();
  const order: (Group | HardwareItem)[] = [];
  for (const item of items) {
    if (!itemApplies(item, configuration)) continue;
    const id = prop(item, 'InstanceID');
    if (id === undefined) {
      order.push(item);
      continue;
    }
    let g = groups.get(id);
    if (!g) {
      g = {};
      groups.set(id, g);
      order.push(g);
    }
    const specific = isConfigurationSpecific(item);
    const bound = boundOf(item);
    if (bound === 'min' || bound === 'max') {
      const flag = bound === 'min' ? 'minSpecific' : 'maxSpecific';
      if (g[bound] === undefined || (specific && !g[flag])) {
        g[bound] = item;
        g[flag] = specific;
      }
    } else if (specific) g.specific ??= item;
    else g.base ??= item;
  }
  const out: EffectiveItem[] = [];
  for (const o of order) {
    if ('props' in o) {
      out.push({ item: o as HardwareItem });
      continue;
    }
    const g = o as Group;
    const item = g.specific ?? g.base ?? g.min ?? g.max;
    if (!item) continue;
    const e: EffectiveItem = { item };
    if (g.min && g.min !== item) e.min = g.min;
    if (g.max && g.max !== item) e.max = g.max;
    if (g.specific && g.base) e.replaced = g.base;
    out.push(e);
  }
  return out;
}

/** The memory quantity of an item: VirtualQuantity, else Reservation, else Limit. */
export function memoryQuantity(item: HardwareItem): {
  value: string | undefined;
  from: 'VirtualQuantity' | 'Reservation' | 'Limit';
} {
  for (const from of ['VirtualQuantity', 'Reservation', 'Limit'] as const) {
    const v = prop(item, from);
    if (v !== undefined && v !== '') return { value: v, from };
  }
  return { value: undefined, from: 'VirtualQuantity' };
}
