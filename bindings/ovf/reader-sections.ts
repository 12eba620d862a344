/**
 * Reads the OVF sections (DSP0243 sections 8 and 9) into the model. Each reader takes what the
 * specification names and keeps every other child and attribute unchanged.
 */
import { STARTUP_ITEM_ATTRS } from './model.js';
import type {
  AnnotationSection, Category, CimProperty, Configuration, DeploymentOptionSection, Disk,
  DiskSection, EulaSection, HardwareItem, Msg, Network, NetworkSection, OperatingSystemSection,
  ProductSection, Property, Section, StartupItem, StartupSection, VirtualHardwareSection,
} from './model.js';
import type { XmlAttr, XmlElement } from './xml-tree.js';
import {
  NS_EPASD, NS_RASD, NS_SASD, NS_VSSD, canonicalNamespace, cimClass,
} from './namespaces.js';
import {
  assignDefined, childElements, effectiveName, fail, inOvfNamespace, isOvf, keep, readMsg,
  splitAttrs, withExtras, type ReadContext,
} from './reader-util.js';

/** Section kinds this model reads; anything else is kept whole as an unknown section. */
const READERS: Record<string, (el: Element, ctx: ReadContext) => Section> = {
  DiskSection: readDiskSection,
  NetworkSection: readNetworkSection,
  VirtualHardwareSection: readVirtualHardwareSection,
  ProductSection: readProductSection,
  EulaSection: (el, ctx) => readTextSection(el, ctx, 'EulaSection', 'License'),
  AnnotationSection: (el, ctx) => readTextSection(el, ctx, 'AnnotationSection', 'Annotation'),
  OperatingSystemSection: readOperatingSystemSection,
  StartupSection: readStartupSection,
  DeploymentOptionSection: readDeploymentOptionSection,
};

/** Reads one section element (1.x/2.x element or 0.9 `Section xsi:type`). */
export function readSection(el: Element, ctx: ReadContext): Section {
  const name = effectiveName(el);
  const reader = inOvfNamespace(el) ? READERS[name] : undefined;
  return reader ? reader(el, ctx) : { kind: 'unknown', xml: keep(el) };
}

/**
 * Reads the children common to sections (Info) and hands the others to `each`;
 * whatever `each` does not take is kept in `extra`.
 */
function walk(
  el: Element,
  each: (c: Element, name: string) => boolean,
): { info?: Msg; extra: XmlElement[] } {
  let info: Msg | undefined;
  const extra: XmlElement[] = [];
  for (const c of childElements(el)) {
    const name = inOvfNamespace(c) ? (c.localName ?? '') : '';
    if (name === 'Info' && info === undefined) info = readMsg(c);
    else if (!(name && each(c, name))) extra.push(keep(c));
  }
  return info ? { info, extra } : { extra };
}

function base<T extends object>(
  obj: T,
  info: Msg | undefined,
  required: string | undefined,
  extraAttrs?: XmlAttr[],
  extra?: XmlElement[],
): T {
  const o = obj as T & { info?: Msg; required?: string };
  if (info) o.info = info;
  if (required !== undefined) o.required = required;
  return withExtras(o, extraAttrs, extra);
}

function readDiskSection(el: Element, ctx: ReadContext): DiskSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required']);
  const disks: Disk[] = [];
  const { info, extra } = walk(el, (c, name) => {
    if (name !== 'Disk') return false;
    const keys = [
      'diskId',
      'capacity',
      'capacityAllocationUnits',
      'fileRef',
      'format',
      'populatedSize',
      'parentRef',
    ] as const;
    const a = splitAttrs(c, keys);
    if (!a.named.diskId) fail(ctx, c, 'invalid', 'Disk has no ovf:diskId (DSP0243 9.1)');
    if (a.named.capacity === undefined)
      fail(ctx, c, 'invalid', `Disk "${a.named.diskId}" has no ovf:capacity (DSP0243 9.1)`);
    const d = assignDefined(
      { diskId: a.named.diskId, capacity: a.named.capacity } as Disk,
      a.named,
      keys,
    );
    disks.push(withExtras(d, a.extra, childElements(c).map(keep)));
    return true;
  });
  return base(
    { kind: 'DiskSection', disks } as DiskSection,
    info,
    named.required,
    extraAttrs,
    extra,
  );
}

function readNetworkSection(el: Element, ctx: ReadContext): NetworkSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required']);
  const networks: Network[] = [];
  const { info, extra } = walk(el, (c, name) => {
    if (name !== 'Network') return false;
    const a = splitAttrs(c, ['name']);
    if (a.named.name === undefined)
      fail(ctx, c, 'invalid', 'Network has no ovf:name (DSP0243 9.2)');
    const n: Network = { name: a.named.name };
    const more: XmlElement[] = [];
    for (const cc of childElements(c)) {
      if (isOvf(cc, 'Description') && !n.description) n.description = readMsg(cc);
      else more.push(keep(cc));
    }
    networks.push(withExtras(n, a.extra, more));
    return true;
  });
  return base(
    { kind: 'NetworkSection', networks } as NetworkSection,
    info,
    named.required,
    extraAttrs,
    extra,
  );
}

/**
 * CIM properties of an Item/System: children in a CIM schema namespace, or in no
 * namespace at all (lenient: producers that forget the rasd: prefix); others are extras.
 */
function readCim(
  el: Element, ctx: ReadContext, own: string,
): { props: CimProperty[]; extra: XmlElement[] } {
  const props: CimProperty[] = [];
  const extra: XmlElement[] = [];
  for (const c of childElements(el)) {
    if (c.namespaceURI && cimClass(c.namespaceURI) === null) {
      extra.push(keep(c));
      continue;
    }
    let name = c.localName ?? '';
    // OVF 0.9 used the older CIM spelling InstanceId; 1.x/2.x (and the CIM schema) use InstanceID.
    if (ctx.v09 && name === 'InstanceId') name = 'InstanceID';
    const p: CimProperty = { name, value: c.textContent ?? '' };
    const a = splitAttrs(c, []);
    if (a.extra) p.attrs = a.extra;
    // Kept in its own namespace: none (oVirt's Type, Device, SpecParams), or a spelling
    // that is not the class's (the DSP0243 2.1.1 example's "cim2608 schema").
    if (c.namespaceURI === null || c.namespaceURI === '') p.ns = null;
    else if (canonicalNamespace(c.namespaceURI) !== canonicalNamespace(own)) p.ns = c.namespaceURI;
    if (childElements(c).length) p.xml = keep(c);
    props.push(p);
  }
  return { props, extra };
}

function readVirtualHardwareSection(el: Element, ctx: ReadContext): VirtualHardwareSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required', 'id', 'transport']);
  const items: HardwareItem[] = [];
  const vhs: VirtualHardwareSection = { kind: 'VirtualHardwareSection', items };
  assignDefined(vhs, named, ['id', 'transport']);
  const { info, extra } = walk(el, (c, name) => {
    if (name === 'System' && !vhs.system) {
      const cim = readCim(c, ctx, NS_VSSD);
      vhs.system = withExtras({ props: cim.props }, splitAttrs(c, []).extra, cim.extra);
      return true;
    }
    if (name === 'Item' || name === 'StorageItem' || name === 'EthernetPortItem') {
      const a = splitAttrs(c, ['required', 'configuration', 'bound']);
      const cim = readCim(
        c, ctx, name === 'StorageItem' ? NS_SASD : name === 'EthernetPortItem' ? NS_EPASD : NS_RASD,
      );
      const item: HardwareItem = { element: name, props: cim.props };
      assignDefined(item, a.named, ['required', 'configuration', 'bound']);
      items.push(withExtras(item, a.extra, cim.extra));
      return true;
    }
    return false;
  });
  return base(vhs, info, named.required, extraAttrs, extra);
}

const PRODUCT_FIELDS = [
  'Product',
  'Vendor',
  'Version',
  'FullVersion',
  'ProductUrl',
  'VendorUrl',
  'AppUrl',
] as const;

function lowerFirst(s: string): string {
  return s[0].toLowerCase() + s.slice(1);
}

function readProductSection(el: Element, ctx: ReadContext): ProductSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required', 'class', 'instance']);
  const ps: ProductSection = { kind: 'ProductSection', entries: [] };
  assignDefined(ps, named, ['class', 'instance']);
  const icons: XmlElement[] = [];
  const { info, extra } = walk(el, (c, name) => {
    const field = PRODUCT_FIELDS.find((f) => f === name);
    const rec = ps as unknown as Record<string, Msg | undefined>;
    if (field && rec[lowerFirst(field)] === undefined) {
      rec[lowerFirst(field)] = readMsg(c);
      return true;
    }
    if (name === 'Icon') {
      icons.push(keep(c));
      return true;
    }
    if (name === 'Category') {
      ps.entries.push({ kind: 'Category', text: readMsg(c) } as Category);
      return true;
    }
    if (name === 'Property') {
      ps.entries.push(readProperty(c, ctx));
      return true;
    }
    return false;
  });
  if (icons.length) ps.icons = icons;
  return base(ps, info, named.required, extraAttrs, extra);
}

function readProperty(el: Element, ctx: ReadContext): Property {
  const keys = ['key', 'type', 'value', 'qualifiers', 'userConfigurable', 'password'] as const;
  const a = splitAttrs(el, keys);
  if (!a.named.key) fail(ctx, el, 'invalid', 'Property has no ovf:key (DSP0243 9.5)');
  const p = assignDefined(
    { kind: 'Property', key: a.named.key, type: a.named.type ?? '' } as Property,
    a.named,
    keys,
  );
  const more: XmlElement[] = [];
  for (const c of childElements(el)) {
    const n = inOvfNamespace(c) ? c.localName : '';
    if (n === 'Label' && !p.label) p.label = readMsg(c);
    else if (n === 'Description' && !p.description) p.description = readMsg(c);
    else if (n === 'Value') {
      const v = splitAttrs(c, ['value', 'configuration']);
      const val: NonNullable<Property['values']>[number] = { value: v.named.value ?? '' };
      if (v.named.configuration !== undefined) val.configuration = v.named.configuration;
      if (v.extra) val.extraAttrs = v.extra;
      (p.values ??= []).push(val);
    } else more.push(keep(c));
  }
  return withExtras(p, a.extra, more);
}

function readTextSection<K extends 'EulaSection' | 'AnnotationSection'>(
  el: Element,
  _ctx: ReadContext,
  kind: K,
  field: 'License' | 'Annotation',
): EulaSection | AnnotationSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required']);
  const s = { kind } as { kind: K; license?: Msg; annotation?: Msg };
  const key = field === 'License' ? 'license' : 'annotation';
  const { info, extra } = walk(el, (c, name) => {
    if (name !== field || s[key] !== undefined) return false;
    s[key] = readMsg(c);
    return true;
  });
  return base(s as EulaSection | AnnotationSection, info, named.required, extraAttrs, extra);
}

function readOperatingSystemSection(el: Element, ctx: ReadContext): OperatingSystemSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required', 'id', 'version']);
  if (named.id === undefined)
    fail(ctx, el, 'invalid', 'OperatingSystemSection has no ovf:id (DSP0243 9.9)');
  const os: OperatingSystemSection = { kind: 'OperatingSystemSection', id: named.id };
  if (named.version !== undefined) os.version = named.version;
  const { info, extra } = walk(el, (c, name) => {
    if (name !== 'Description' || os.description) return false;
    os.description = readMsg(c);
    return true;
  });
  return base(os, info, named.required, extraAttrs, extra);
}

function readStartupSection(el: Element, ctx: ReadContext): StartupSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required']);
  const items: StartupItem[] = [];
  const { info, extra } = walk(el, (c, name) => {
    if (name !== 'Item') return false;
    const a = splitAttrs(c, STARTUP_ITEM_ATTRS);
    if (a.named.id === undefined || a.named.order === undefined) {
      fail(ctx, c, 'invalid', 'StartupSection Item needs ovf:id and ovf:order (DSP0243 9.7)');
    }
    items.push(
      withExtras(
        assignDefined(
          { id: a.named.id, order: a.named.order } as StartupItem, a.named, STARTUP_ITEM_ATTRS,
        ),
        a.extra,
        childElements(c).map(keep),
      ),
    );
    return true;
  });
  return base(
    { kind: 'StartupSection', items } as StartupSection,
    info,
    named.required,
    extraAttrs,
    extra,
  );
}

function readDeploymentOptionSection(el: Element, ctx: ReadContext): DeploymentOptionSection {
  const { named, extra: extraAttrs } = splitAttrs(el, ['required']);
  const configurations: Configuration[] = [];
  const { info, extra } = walk(el, (c, name) => {
    if (name !== 'Configuration') return false;
    const a = splitAttrs(c, ['id', 'default']);
    if (!a.named.id) fail(ctx, c, 'invalid', 'Configuration has no ovf:id (DSP0243 9.8)');
    const conf: Configuration = { id: a.named.id };
    if (a.named.default !== undefined) conf.default = a.named.default;
    const more: XmlElement[] = [];
    for (const cc of childElements(c)) {
      const n = inOvfNamespace(cc) ? cc.localName : '';
      if (n === 'Label' && !conf.label) conf.label = readMsg(cc);
      else if (n === 'Description' && !conf.description) conf.description = readMsg(cc);
      else more.push(keep(cc));
    }
    configurations.push(withExtras(conf, a.extra, more));
    return true;
  });
  return base(
    { kind: 'DeploymentOptionSection', configurations } as DeploymentOptionSection,
    info,
    named.required,
    extraAttrs,
    extra,
  );
}
