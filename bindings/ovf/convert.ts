/**
 * Conversion of a descriptor between OVF versions: 0.9 (VMware's pre-standard schema),
 * 1.x (DSP0243 1.0/1.1, envelope namespace .../envelope/1) and 2.x (DSP0243 2.0/2.1,
 * .../envelope/2), as `ovftool` converts packages. The model is version-neutral, so the
 * work is in what differs between the versions:
 * - the envelope namespace, on every element and attribute of the document that is in it
 *   (vendor sections carry `ovf:required`, properties carry `ovf:configuration`): moved
 *   to the target's;
 * - the element forms (0.9 `<Section xsi:type="ovf:DiskSection_Type">` and
 *   `<Content xsi:type="ovf:VirtualSystem_Type">`, the CIM spelling `InstanceId`): the
 *   writer writes the target's form (writer.ts);
 * - what only 2.x has: StorageItem (CIM_StorageAllocationSettingData) and EthernetPortItem
 *   (CIM_EthernetPortAllocationSettingData) become RASD Items, their properties that
 *   CIM_ResourceAllocationSettingData also defines kept and the others dropped with a
 *   warning naming each; the sections DSP0243 2.x added (ANNEX B schema: SharedDiskSection,
 *   ScaleOutSection, PlacementGroupSection, PlacementSection, EncryptionSection,
 *   EnvironmentFilesSection, BootDeviceSection) are dropped with a warning, or with an
 *   error-level warning when they were `ovf:required` (a consumer of the target would not
 *   be bound by them any more).
 * Nothing is lost going up (0.9 -> 1.x -> 2.x). Every warning names what it drops.
 */
import type {
  CimProperty, Content, Envelope, HardwareItem, Section, VirtualHardwareSection,
} from './model.js';
import { virtualSystems } from './model.js';
import {
  NS_OVF_09, NS_OVF_1, NS_OVF_2, canonicalNamespace, envelopeNamespace, type OvfFamily,
} from './namespaces.js';
import { writeOvf } from './writer.js';

export type OvfVersion = OvfFamily;

export interface ConvertDescriptorResult {
  /** The model as the target version has it. */
  envelope: Envelope;
  /** The descriptor text in the target version. */
  xml: string;
  /** What the target version cannot carry, each naming the element or property dropped. */
  warnings: string[];
}

/**
 * The properties of CIM_ResourceAllocationSettingData that OVF 1.x Items use (DSP0243 1.1
 * ANNEX B, the CIM 2.22 RASD schema it imports; the same names in SASD and EPASD, which
 * derive from the same CIM_ResourceAllocationSettingData superclass).
 */
export const RASD_PROPERTIES: readonly string[] = [
  'Address', 'AddressOnParent', 'AllocationUnits', 'AutomaticAllocation',
  'AutomaticDeallocation', 'Caption', 'ChangeableType', 'ConfigurationName', 'Connection',
  'ConsumerVisibility', 'Description', 'ElementName', 'Generation', 'HostResource',
  'InstanceID', 'Limit', 'MappingBehavior', 'OtherResourceType', 'Parent', 'PoolID',
  'Reservation', 'ResourceSubType', 'ResourceType', 'VirtualQuantity', 'VirtualQuantityUnits',
  'Weight',
];

/** Sections DSP0243 2.x added (its ANNEX B schema); 1.x and 0.9 have no element for them. */
export const SECTIONS_2X_ONLY: readonly string[] = [
  'SharedDiskSection', 'ScaleOutSection', 'PlacementGroupSection', 'PlacementSection',
  'EncryptionSection', 'EnvironmentFilesSection', 'BootDeviceSection',
];

const ENVELOPES = [NS_OVF_09, NS_OVF_1, NS_OVF_2];

/** Converts a descriptor model to another OVF version (a copy; the input is unchanged). */
export function convertDescriptor(input: Envelope, to: OvfVersion): ConvertDescriptorResult {
  const env = structuredClone(input) as Envelope;
  const warnings: string[] = [];
  const from = env.family;
  const dst = envelopeNamespace(to);
  // Every element and attribute in an OVF envelope namespace moves to the target's.
  renameNamespaces(env, dst);
  if (to !== '2') {
    env.sections = dropSections(env.sections, 'the envelope', warnings);
    if (env.content) downgradeContent(env.content, warnings, to);
  }
  if (from !== to) {
    env.family = to;
    env.version = to === '2' ? '2.0' : to === '0.9' ? '0.9' : '1.0';
  }
  return { envelope: env, xml: writeOvf(env, { family: to }), warnings };
}

/** Sets `ns` on every node of the model whose namespace is an OVF envelope namespace. */
function renameNamespaces(node: unknown, dst: string): void {
  if (Array.isArray(node)) {
    for (const x of node) renameNamespaces(x, dst);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (typeof o.ns === 'string' && ENVELOPES.includes(canonicalNamespace(o.ns))) o.ns = dst;
  for (const v of Object.values(o)) if (typeof v === 'object') renameNamespaces(v, dst);
}

function dropSections(sections: Section[], where: string, warnings: string[]): Section[] {
  return sections.filter((s) => {
    if (s.kind !== 'unknown') return true;
    const name = s.xml.name;
    if (!ENVELOPES.includes(canonicalNamespace(s.xml.ns)) || !SECTIONS_2X_ONLY.includes(name))
      return true;
    const required = s.xml.attrs.find((a) => a.name === 'required')?.value !== 'false';
    warnings.push(`${name} in ${where} is OVF 2.x only (DSP0243 2.x ANNEX B); dropped` +
      (required ? ' although it is ovf:required: a consumer of the result is not bound by it'
        : ''));
    return false;
  });
}

function downgradeContent(c: Content, warnings: string[], to: OvfVersion): void {
  const where = `${c.kind} "${c.id}"`;
  c.sections = dropSections(c.sections, where, warnings);
  for (const s of c.sections)
    if (s.kind === 'VirtualHardwareSection') downgradeHardware(s, where, warnings, to);
  if (c.kind === 'VirtualSystemCollection')
    for (const x of c.content) downgradeContent(x, warnings, to);
}

function downgradeHardware(
  hw: VirtualHardwareSection, where: string, warnings: string[], to: OvfVersion,
): void {
  for (const item of hw.items) {
    if (item.element === 'Item') continue;
    const id = instanceId(item);
    const cls = item.element === 'StorageItem' ? 'sasd' : 'epasd';
    const kept: CimProperty[] = [];
    for (const p of item.props) {
      if (p.ns !== undefined || RASD_PROPERTIES.includes(p.name)) kept.push(p);
      else
        warnings.push(`${where}: ${item.element} ${id}: property ${cls}:${p.name}="${p.value}" ` +
          `has no CIM_ResourceAllocationSettingData equivalent in OVF ${label(to)}; dropped`);
    }
    item.props = kept;
    warnings.push(`${where}: ${item.element} ${id} written as a RASD Item (OVF ${label(to)} ` +
      'has only Item; its other properties are kept)');
    item.element = 'Item';
  }
}

const label = (v: OvfVersion) => (v === '0.9' ? '0.9' : `${v}.x`);

function instanceId(item: HardwareItem): string {
  return item.props.find((p) => p.name === 'InstanceID' || p.name === 'InstanceId')?.value
    ?? '(no InstanceID)';
}

/** How many VirtualSystems a model describes (for reports). */
export function systemCount(env: Envelope): number {
  return env.content ? virtualSystems(env.content).length : 0;
}
