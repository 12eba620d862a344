/**
 * ProductSection properties for a deployment (DSP0243 9.5) and the OVF environment
 * document that carries their values to the guest (DSP0243 11).
 *
 * - A property's value for the configuration in force is its Value element naming that
 *   configuration (ovf:configuration), else its ovf:value (DSP0243 9.5, 9.8).
 * - A deployer may set only properties with ovf:userConfigurable="true" (absent means
 *   false: "the ovf:value attribute specifies the value to be used", 9.5); each value is
 *   checked against ovf:type and ovf:qualifiers (MinLen, MaxLen, MinValue, MaxValue,
 *   ValueMap; 9.5 "Property qualifiers"), as ovftool's --prop: does.
 * - The environment (11.1) names each property by its fully qualified key,
 *   `[class.]key[.instance]` (9.5), inside an Environment element in
 *   http://schemas.dmtf.org/ovf/environment/1.
 */
import { OvfError } from './errors.js';
import type { Envelope, ProductSection, Property, VirtualSystem } from './model.js';
import { findSections, virtualSystems } from './model.js';
import { NS_OVFENV_1 } from './namespaces.js';
import { propertyValueProblem } from './validate-product.js';
import { escapeAttr, escapeText } from './xml-tree.js';

export interface PropertyValue {
  /** Fully qualified key, `[class.]key[.instance]` (DSP0243 9.5). */
  key: string;
  property: Property;
  section: ProductSection;
  value: string;
  /** Set by the deployer (--property) rather than taken from the descriptor. */
  assigned?: boolean;
}

export function qualifiedKey(ps: ProductSection, p: Property): string {
  return [ps.class, p.key, ps.instance].filter((x) => x !== undefined && x !== '').join('.');
}

/** The properties of a virtual system with their values for `configuration`. */
export function propertyValues(vs: VirtualSystem, configuration?: string): PropertyValue[] {
  const out: PropertyValue[] = [];
  for (const ps of findSections(vs.sections, 'ProductSection')) {
    for (const e of ps.entries) {
      if (e.kind !== 'Property') continue;
      const forConfig = configuration === undefined ? undefined : e.values?.find(
        (v) => (v.configuration ?? '').trim().split(/\s+/).includes(configuration),
      );
      out.push({
        key: qualifiedKey(ps, e), property: e, section: ps,
        value: forConfig?.value ?? e.value ?? '',
      });
    }
  }
  return out;
}

/** Why `value` breaks a qualifier of the property, or null (DSP0243 9.5 qualifiers). */
export function qualifierProblem(qualifiers: string | undefined, value: string): string | null {
  if (!qualifiers) return null;
  for (const m of qualifiers.matchAll(/(MinLen|MaxLen|MinValue|MaxValue)\(\s*(-?\d+)\s*\)/g)) {
    const n = Number(m[2]);
    const len = [...value].length;
    if (m[1] === 'MinLen' && len < n) return `shorter than ${n} characters (MinLen)`;
    if (m[1] === 'MaxLen' && len > n) return `longer than ${n} characters (MaxLen)`;
    const v = Number(value.trim());
    if (m[1] === 'MinValue' && !(v >= n)) return `below ${n} (MinValue)`;
    if (m[1] === 'MaxValue' && !(v <= n)) return `above ${n} (MaxValue)`;
  }
  const vm = /ValueMap\s*\{([^}]*)\}/.exec(qualifiers);
  if (vm) {
    const allowed = [...vm[1].matchAll(/"([^"]*)"|([^,\s]+)/g)].map((x) => x[1] ?? x[2]);
    if (allowed.length && !allowed.includes(value))
      return `not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (ValueMap)`;
  }
  return null;
}

/**
 * Sets deployer values (`key=value`, key plain or fully qualified) on `values`, checking
 * each against its property; throws an OvfError naming the key otherwise.
 */
export function assignProperties(
  values: PropertyValue[], assignments: Record<string, string>,
): void {
  for (const [key, value] of Object.entries(assignments)) {
    const matches = values.filter((v) => v.key === key || v.property.key === key);
    if (matches.length === 0)
      throw new OvfError('invalid', `no property "${key}"; there are: ` +
        (values.map((v) => v.key).join(', ') || 'none'));
    if (matches.length > 1)
      throw new OvfError('invalid', `"${key}" names ${matches.length} properties; use the ` +
        `fully qualified key: ${matches.map((v) => v.key).join(', ')}`);
    const pv = matches[0];
    const p = pv.property;
    const shown = p.password === 'true' ? 'the value given' : JSON.stringify(value);
    if (p.userConfigurable !== 'true' && p.userConfigurable !== '1')
      throw new OvfError('invalid', `property "${pv.key}" is not user-configurable ` +
        '(ovf:userConfigurable is not "true", DSP0243 9.5)');
    const typeProblem = propertyValueProblem(p.type, value);
    if (typeProblem)
      throw new OvfError('invalid', `property "${pv.key}" (${p.type}): ` +
        (p.password === 'true' ? 'the value given does not fit the type' : typeProblem));
    const q = qualifierProblem(p.qualifiers, value);
    if (q) throw new OvfError('invalid', `property "${pv.key}": ${shown} is ${q}`);
    pv.value = value;
    pv.assigned = true;
  }
}

/** Parses `key=value` command-line assignments (the first "=" splits). */
export function parseAssignments(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const i = a.indexOf('=');
    if (i <= 0) throw new OvfError('invalid', `property "${a}" is not KEY=VALUE`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

export interface EnvironmentOptions {
  /** Platform version for PlatformSection. */
  version?: string;
  locale?: string;
}

/** The OVF environment document (DSP0243 11.1) of virtual system `vsId`. */
export function environmentXml(
  vsId: string, values: PropertyValue[], opts: EnvironmentOptions = {},
): string {
  const a = escapeAttr;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Environment xmlns="${NS_OVFENV_1}" xmlns:oe="${NS_OVFENV_1}"`,
    `    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" oe:id="${a(vsId)}">`,
    '  <PlatformSection>',
    '    <Kind>wasmvisor</Kind>',
    `    <Version>${escapeText(opts.version ?? '0')}</Version>`,
    '    <Vendor>wasmvisor</Vendor>',
    `    <Locale>${escapeText(opts.locale ?? 'en')}</Locale>`,
    '  </PlatformSection>',
    '  <PropertySection>',
    ...values.map((v) => `    <Property oe:key="${a(v.key)}" oe:value="${a(v.value)}"/>`),
    '  </PropertySection>',
    '</Environment>',
    '',
  ];
  return lines.join('\n');
}

/** The transports a VirtualHardwareSection lists (DSP0243 8.1 ovf:transport, 11.2). */
export function transports(env: Envelope, vsId: string): string[] {
  const vs = virtualSystems(env.content).find((v) => v.id === vsId);
  const hw = vs ? findSections(vs.sections, 'VirtualHardwareSection')[0] : undefined;
  return (hw?.transport ?? '').split(/[\s,]+/).filter(Boolean);
}
