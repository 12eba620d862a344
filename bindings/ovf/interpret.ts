/**
 * Interpretation helpers shared by validation and the mapping to a VM configuration:
 * host-resource references, deployment configurations, integers.
 */
import type { DeploymentOptionSection, Envelope, HardwareItem, Section } from './model.js';
import { findSection } from './model.js';

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
