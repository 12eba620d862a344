/**
 * The OVF descriptor writer: model in, OVF 1.x or 2.x XML text out (DSP0243 ANNEX B
 * schemas: element order Info first, then the section's own elements, then extensions),
 * or OVF 0.9 (VMware's 2007 schema: every section a `<Section xsi:type="ovf:X_Type">`,
 * the content a `<Content xsi:type="ovf:VirtualSystem_Type">`, the CIM spelling
 * `InstanceId`); convert.ts changes a model from one version to another first.
 * Everything the model kept unchanged (unknown sections, vendor elements and attributes)
 * is written back as it was read.
 */
import { STARTUP_ITEM_ATTRS } from './model.js';
import type {
  CimProperty, Content, Envelope, Extensible, HardwareItem, Msg, Section, SectionBase,
} from './model.js';
import {
  NS_CIM_COMMON,
  NS_EPASD,
  NS_RASD,
  NS_SASD,
  NS_VSSD,
  NS_WASMVISOR,
  NS_XML,
  NS_XSI,
  envelopeNamespace,
  type OvfFamily,
} from './namespaces.js';
import type { XmlAttr, XmlElement } from './xml-tree.js';
import { serializeXml } from './xml-write.js';

export interface WriteOptions {
  /**
   * Envelope family to write: '1' (DSP0243 1.x), '2' (2.x) or '0.9' (the pre-standard
   * form). Default: the model's 1 or 2, or '1' for a 0.9 model (ovftool's default).
   */
  family?: OvfFamily;
}

/** Writes an envelope as OVF XML text. */
export function writeOvf(env: Envelope, opts: WriteOptions = {}): string {
  const family = opts.family ?? (env.family === '2' ? '2' : '1');
  const w = new TreeBuilder(envelopeNamespace(family), family);
  return serializeXml(w.envelope(env), {
    [w.ns]: 'ovf',
    [NS_RASD]: 'rasd',
    [NS_VSSD]: 'vssd',
    [NS_SASD]: 'sasd',
    [NS_EPASD]: 'epasd',
    [NS_XSI]: 'xsi',
    [NS_CIM_COMMON]: 'cim',
    [NS_WASMVISOR]: 'wasmvisor',
    'http://www.vmware.com/schema/ovf': 'vmw',
    'http://www.virtualbox.org/ovf/machine': 'vbox',
  }, w.pretty);
}

class TreeBuilder {
  readonly pretty = new WeakSet<XmlElement>();
  constructor(
    readonly ns: string,
    readonly family: OvfFamily,
  ) {}

  /** The 0.9 form of a section or content element: `<Section xsi:type="ovf:X_Type">`. */
  typed(element: 'Section' | 'Content', name: string, attrs: XmlAttr[]): [string, XmlAttr[]] {
    if (this.family !== '0.9') return [name, attrs];
    return [element, [{ ns: NS_XSI, name: 'type', value: `ovf:${name}_Type` }, ...attrs]];
  }

  /** A writer-built element in the envelope namespace (or `ns`). */
  el(
    name: string,
    attrs: XmlAttr[] = [],
    children: (XmlElement | string)[] = [],
    ns: string = this.ns,
  ): XmlElement {
    const e: XmlElement = {
      ns,
      name,
      attrs,
      children: children.map((c) => (typeof c === 'string' ? { text: c } : c)),
    };
    this.pretty.add(e);
    return e;
  }

  /** ovf:name="value" attributes for the defined entries of `obj`, in `keys` order. */
  attrs(obj: object, keys: readonly string[]): XmlAttr[] {
    const rec = obj as Record<string, unknown>;
    const out: XmlAttr[] = [];
    for (const k of keys) {
      const v = rec[k];
      if (typeof v === 'string') out.push({ ns: this.ns, name: k, value: v });
    }
    return out;
  }

  msg(name: string, m: Msg | undefined): XmlElement[] {
    if (!m) return [];
    const attrs: XmlAttr[] =
      m.msgid !== undefined ? [{ ns: this.ns, name: 'msgid', value: m.msgid }] : [];
    attrs.push(...(m.extraAttrs ?? []));
    return [this.el(name, attrs, m.text === '' ? [] : [m.text])];
  }

  ext(o: Extensible): { attrs: XmlAttr[]; children: XmlElement[] } {
    return { attrs: o.extraAttrs ?? [], children: o.extra ?? [] };
  }

  envelope(env: Envelope): XmlElement {
    let version = env.version;
    // The version as written when the family is kept (oVirt writes its own, "4.4.0.0").
    if (version !== undefined && env.family !== this.family && !version.startsWith(this.family))
      version = this.family === '2' ? '2.0' : this.family === '0.9' ? '0.9' : '1.0';
    if (version === undefined && this.family === '0.9') version = '0.9';
    const attrs: XmlAttr[] = [];
    if (version !== undefined) attrs.push({ ns: this.ns, name: 'version', value: version });
    if (env.lang !== undefined) attrs.push({ ns: NS_XML, name: 'lang', value: env.lang });
    attrs.push(...(env.extraAttrs ?? []));
    const children: XmlElement[] = [
      this.el(
        'References',
        [],
        env.references.map((f) =>
          this.el(
            'File',
            [
              ...this.attrs(f, ['href', 'id', 'size', 'compression', 'chunkSize']),
              ...(f.extraAttrs ?? []),
            ],
            f.extra ?? [],
          ),
        ),
      ),
      ...env.sections.map((s) => this.section(s)),
    ];
    if (env.content) children.push(this.content(env.content));
    children.push(...(env.strings ?? []), ...(env.extra ?? []));
    return this.el('Envelope', attrs, children);
  }

  content(c: Content): XmlElement {
    const children: XmlElement[] = [
      ...this.msg('Info', c.info),
      ...this.msg('Name', c.name),
      ...c.sections.map((s) => this.section(s)),
    ];
    if (c.kind === 'VirtualSystemCollection')
      children.push(...c.content.map((x) => this.content(x)));
    children.push(...(c.extra ?? []));
    const [name, attrs] = this.typed('Content', c.kind,
      [{ ns: this.ns, name: 'id', value: c.id }, ...(c.extraAttrs ?? [])]);
    return this.el(name, attrs, children);
  }

  /** A section element: own attributes, Info, body, then kept extensions. */
  sec(name: string, s: SectionBase, ownAttrs: XmlAttr[], body: XmlElement[]): XmlElement {
    const attrs = [...ownAttrs];
    if (s.required !== undefined) attrs.push({ ns: this.ns, name: 'required', value: s.required });
    attrs.push(...(s.extraAttrs ?? []));
    const [element, all] = this.typed('Section', name, attrs);
    return this.el(element, all, [...this.msg('Info', s.info), ...body, ...(s.extra ?? [])]);
  }

  section(s: Section): XmlElement {
    switch (s.kind) {
      case 'unknown':
        return s.xml;
      case 'DiskSection':
        return this.sec(
          'DiskSection',
          s,
          [],
          s.disks.map((d) =>
            this.el(
              'Disk',
              [
                ...this.attrs(d, [
                  'capacity',
                  'capacityAllocationUnits',
                  'diskId',
                  'fileRef',
                  'format',
                  'populatedSize',
                  'parentRef',
                ]),
                ...(d.extraAttrs ?? []),
              ],
              d.extra ?? [],
            ),
          ),
        );
      case 'NetworkSection':
        return this.sec(
          'NetworkSection',
          s,
          [],
          s.networks.map((n) =>
            this.el(
              'Network',
              [...this.attrs(n, ['name']), ...(n.extraAttrs ?? [])],
              [...this.msg('Description', n.description), ...(n.extra ?? [])],
            ),
          ),
        );
      case 'VirtualHardwareSection': {
        const body: XmlElement[] = [];
        if (s.system)
          body.push(
            this.el('System', s.system.extraAttrs ?? [], [
              ...this.cim(s.system.props, NS_VSSD),
              ...(s.system.extra ?? []),
            ]),
          );
        body.push(...s.items.map((i) => this.item(i)));
        return this.sec('VirtualHardwareSection', s, this.attrs(s, ['id', 'transport']), body);
      }
      case 'ProductSection': {
        const body: XmlElement[] = [
          ...this.msg('Product', s.product),
          ...this.msg('Vendor', s.vendor),
          ...this.msg('Version', s.version),
          ...this.msg('FullVersion', s.fullVersion),
          ...this.msg('ProductUrl', s.productUrl),
          ...this.msg('VendorUrl', s.vendorUrl),
          ...this.msg('AppUrl', s.appUrl),
          ...(s.icons ?? []),
        ];
        for (const e of s.entries) {
          if (e.kind === 'Category') body.push(...this.msg('Category', e.text));
          else {
            const kids = [...this.msg('Label', e.label), ...this.msg('Description', e.description)];
            for (const v of e.values ?? []) {
              kids.push(
                this.el('Value', [
                  ...this.attrs(v, ['value', 'configuration']),
                  ...(v.extraAttrs ?? []),
                ]),
              );
            }
            kids.push(...(e.extra ?? []));
            body.push(
              this.el(
                'Property',
                [
                  ...this.attrs(e, [
                    'key',
                    'type',
                    'value',
                    'qualifiers',
                    'userConfigurable',
                    'password',
                  ]),
                  ...(e.extraAttrs ?? []),
                ],
                kids,
              ),
            );
          }
        }
        return this.sec('ProductSection', s, this.attrs(s, ['class', 'instance']), body);
      }
      case 'EulaSection':
        return this.sec('EulaSection', s, [], this.msg('License', s.license));
      case 'AnnotationSection':
        return this.sec('AnnotationSection', s, [], this.msg('Annotation', s.annotation));
      case 'OperatingSystemSection':
        return this.sec(
          'OperatingSystemSection',
          s,
          this.attrs(s, ['id', 'version']),
          this.msg('Description', s.description),
        );
      case 'StartupSection':
        return this.sec(
          'StartupSection',
          s,
          [],
          s.items.map((i) =>
            this.el(
              'Item',
              [
                ...this.attrs(i, STARTUP_ITEM_ATTRS),
                ...(i.extraAttrs ?? []),
              ],
              i.extra ?? [],
            ),
          ),
        );
      case 'DeploymentOptionSection':
        return this.sec(
          'DeploymentOptionSection',
          s,
          [],
          s.configurations.map((c) =>
            this.el(
              'Configuration',
              [...this.attrs(c, ['id', 'default']), ...(c.extraAttrs ?? [])],
              [
                ...this.msg('Label', c.label),
                ...this.msg('Description', c.description),
                ...(c.extra ?? []),
              ],
            ),
          ),
        );
    }
  }

  item(i: HardwareItem): XmlElement {
    // OVF 1.x has only Item (RASD); StorageItem/EthernetPortItem are 2.x (DSP0243 2.1 section 8.1).
    const element = this.family !== '2' ? 'Item' : i.element;
    const ns =
      element === 'StorageItem' ? NS_SASD : element === 'EthernetPortItem' ? NS_EPASD : NS_RASD;
    const attrs = [
      ...this.attrs(i, ['required', 'configuration', 'bound']),
      ...(i.extraAttrs ?? []),
    ];
    return this.el(element, attrs, [...this.cim(i.props, ns), ...(i.extra ?? [])]);
  }

  cim(props: CimProperty[], ns: string): XmlElement[] {
    // OVF 0.9 wrote the CIM property InstanceID as InstanceId (its schema's spelling).
    const v09 = this.family === '0.9';
    return props.map((p) =>
      p.xml ?? this.el(v09 && p.name === 'InstanceID' && p.ns === undefined ? 'InstanceId' : p.name,
        p.attrs ?? [], p.value === '' ? [] : [p.value],
        (p.ns === undefined ? ns : p.ns) as string));
  }
}
