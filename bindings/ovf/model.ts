/**
 * The typed OVF model (DMTF DSP0243 1.x/2.x, and OVF 0.9 read into the same shape).
 * Plain data, JSON-serialisable: sections keep their document order, and everything the
 * model does not name (unknown sections, vendor elements and attributes) is kept as
 * XmlElement/XmlAttr and written back unchanged.
 *
 * Values are kept as the descriptor spells them (strings); the interpretation (sizes,
 * counts, references) lives in `interpret.ts`, `validate.ts` and `to-config.ts`.
 */
import type { XmlAttr, XmlElement } from './xml-tree.js';
import type { OvfFamily } from './namespaces.js';

/** A localisable message (DSP0243 section 10: `ovf:msgid` points into Strings). */
export interface Msg {
  text: string;
  msgid?: string;
  /** Other attributes of the element (e.g. `xml:lang`, vendor ones), kept. */
  extraAttrs?: XmlAttr[];
}

/** What every model node may carry besides its named fields. */
export interface Extensible {
  /** Attributes the model does not name (e.g. `vmw:osType`, `vbox:uuid`). */
  extraAttrs?: XmlAttr[];
  /** Child elements the model does not name, in document order. */
  extra?: XmlElement[];
}

/** References/File (DSP0243 section 7.1). */
export interface FileRef extends Extensible {
  id: string;
  href: string;
  /** Bytes, as written (xs:unsignedLong). */
  size?: string;
  /** `gzip` or absent (DSP0243 7.1: ovf:compression). */
  compression?: string;
  chunkSize?: string;
}

/** Fields common to every section (DSP0243 sections 8 and 9: Info, ovf:required). */
export interface SectionBase extends Extensible {
  info?: Msg;
  /** ovf:required as written ("true"/"false"); absent means the default, true. */
  required?: string;
}

/** DiskSection/Disk (DSP0243 section 9.1). */
export interface Disk extends Extensible {
  diskId: string;
  capacity: string;
  capacityAllocationUnits?: string;
  fileRef?: string;
  format?: string;
  populatedSize?: string;
  parentRef?: string;
}

export interface DiskSection extends SectionBase {
  kind: 'DiskSection';
  disks: Disk[];
}

/** NetworkSection/Network (DSP0243 section 9.2). */
export interface Network extends Extensible {
  name: string;
  description?: Msg;
}

export interface NetworkSection extends SectionBase {
  kind: 'NetworkSection';
  networks: Network[];
}

/** One CIM property of an item, in order (a property may repeat, e.g. HostResource). */
export interface CimProperty {
  name: string;
  value: string;
  /** Attributes on the property element (e.g. `ovf:configuration`, `xsi:nil`). */
  attrs?: XmlAttr[];
  /**
   * The element's namespace when it is not the item's own CIM class (no namespace at all,
   * as oVirt writes its own elements, or another spelling); absent: the item's class.
   */
  ns?: string | null;
  /** The whole element when it has child elements (oVirt's SpecParams), written as read. */
  xml?: XmlElement;
}

/** Item (RASD), StorageItem (SASD, 2.x) or EthernetPortItem (EPASD, 2.x). */
export interface HardwareItem extends Extensible {
  element: 'Item' | 'StorageItem' | 'EthernetPortItem';
  props: CimProperty[];
  /** ovf:required, ovf:configuration (space-separated ids), ovf:bound (DSP0243 8.3, 8.4, 9.8). */
  required?: string;
  configuration?: string;
  bound?: string;
}

/** VirtualHardwareSection (DSP0243 section 8.1). */
export interface VirtualHardwareSection extends SectionBase {
  kind: 'VirtualHardwareSection';
  id?: string;
  transport?: string;
  /** The System element (VSSD properties), if present. */
  system?: { props: CimProperty[] } & Extensible;
  items: HardwareItem[];
}

/** ProductSection/Property (DSP0243 section 9.5). */
export interface Property extends Extensible {
  kind: 'Property';
  key: string;
  type: string;
  value?: string;
  qualifiers?: string;
  userConfigurable?: string;
  password?: string;
  label?: Msg;
  description?: Msg;
  /** Value elements: values per deployment configuration. */
  values?: { value: string; configuration?: string; extraAttrs?: XmlAttr[] }[];
}

export interface Category {
  kind: 'Category';
  /** The text and, in `text.extraAttrs`, attributes such as `vmw:uioptional`. */
  text: Msg;
}

/** ProductSection (DSP0243 section 9.5). */
export interface ProductSection extends SectionBase {
  kind: 'ProductSection';
  class?: string;
  instance?: string;
  product?: Msg;
  vendor?: Msg;
  version?: Msg;
  fullVersion?: Msg;
  productUrl?: Msg;
  vendorUrl?: Msg;
  appUrl?: Msg;
  /** Icon elements, kept whole (they come before the entries). */
  icons?: XmlElement[];
  /** Category and Property elements in document order. */
  entries: (Property | Category)[];
}

/** EulaSection (DSP0243 section 9.6). */
export interface EulaSection extends SectionBase {
  kind: 'EulaSection';
  license?: Msg;
}

/** AnnotationSection (DSP0243 section 9.4). */
export interface AnnotationSection extends SectionBase {
  kind: 'AnnotationSection';
  annotation?: Msg;
}

/** OperatingSystemSection (DSP0243 section 9.9): ovf:id is a CIM_OperatingSystem.OsType code. */
export interface OperatingSystemSection extends SectionBase {
  kind: 'OperatingSystemSection';
  id: string;
  version?: string;
  description?: Msg;
}

/** StartupSection/Item (DSP0243 section 9.7). */
export interface StartupItem extends Extensible {
  id: string;
  order: string;
  startDelay?: string;
  waitingForGuest?: string;
  stopDelay?: string;
  startAction?: string;
  stopAction?: string;
}

/** The attributes of a StartupSection Item, in the schema's order (DSP0243 9.7). */
export const STARTUP_ITEM_ATTRS = [
  'id', 'order', 'startDelay', 'waitingForGuest', 'stopDelay', 'startAction', 'stopAction',
] as const satisfies readonly (keyof StartupItem)[];

export interface StartupSection extends SectionBase {
  kind: 'StartupSection';
  items: StartupItem[];
}

/** DeploymentOptionSection/Configuration (DSP0243 section 9.8). */
export interface Configuration extends Extensible {
  id: string;
  default?: string;
  label?: Msg;
  description?: Msg;
}

export interface DeploymentOptionSection extends SectionBase {
  kind: 'DeploymentOptionSection';
  configurations: Configuration[];
}

/** A section the model does not know: kept whole. */
export interface UnknownSection {
  kind: 'unknown';
  xml: XmlElement;
}

export type Section =
  | DiskSection
  | NetworkSection
  | VirtualHardwareSection
  | ProductSection
  | EulaSection
  | AnnotationSection
  | OperatingSystemSection
  | StartupSection
  | DeploymentOptionSection
  | UnknownSection;

/** VirtualSystem (DSP0243 section 7.2). */
export interface VirtualSystem extends Extensible {
  kind: 'VirtualSystem';
  id: string;
  info?: Msg;
  name?: Msg;
  sections: Section[];
}

/** VirtualSystemCollection (DSP0243 section 7.2): nested content. */
export interface VirtualSystemCollection extends Extensible {
  kind: 'VirtualSystemCollection';
  id: string;
  info?: Msg;
  name?: Msg;
  sections: Section[];
  content: Content[];
}

export type Content = VirtualSystem | VirtualSystemCollection;

/** The Envelope (DSP0243 section 7). */
export interface Envelope extends Extensible {
  /** The envelope namespace family the descriptor was read from (the writer's default). */
  family: OvfFamily;
  /** ovf:version as written, if any. */
  version?: string;
  lang?: string;
  references: FileRef[];
  /** Envelope-level sections, in order. */
  sections: Section[];
  content?: Content;
  /** Strings elements (localised messages), kept whole. */
  strings?: XmlElement[];
}

/** Narrowing helper: the first section of a kind in a list. */
export function findSection<K extends Section['kind']>(
  sections: readonly Section[],
  kind: K,
): Extract<Section, { kind: K }> | undefined {
  return sections.find((s) => s.kind === kind) as Extract<Section, { kind: K }> | undefined;
}

/** All sections of a kind in a list. */
export function findSections<K extends Section['kind']>(
  sections: readonly Section[],
  kind: K,
): Extract<Section, { kind: K }>[] {
  return sections.filter((s) => s.kind === kind) as Extract<Section, { kind: K }>[];
}

/** The first value of a CIM property of an item or System, trimmed; undefined if absent. */
export function prop(item: { props: CimProperty[] }, name: string): string | undefined {
  let p = item.props.find((x) => x.name === name);
  // `InstanceId` (the CIM spelling before 2.x, which many producers still write) is read
  // as InstanceID, as ovftool reads it; validate() warns. The model keeps the spelling.
  if (!p && name === 'InstanceID') p = item.props.find((x) => x.name === 'InstanceId');
  return p ? p.value.trim() : undefined;
}

/** All values of a (repeatable) CIM property, trimmed. */
export function props(item: { props: CimProperty[] }, name: string): string[] {
  return item.props.filter((x) => x.name === name).map((x) => x.value.trim());
}

/** Every VirtualSystem in the content tree, depth first. */
export function virtualSystems(content: Content | undefined): VirtualSystem[] {
  if (!content) return [];
  if (content.kind === 'VirtualSystem') return [content];
  return content.content.flatMap((c) => virtualSystems(c));
}
