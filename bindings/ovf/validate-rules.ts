/**
 * The DSP0243 "shall" rules validate() checks beyond references and hardware, each
 * beside the section that states it (DSP0243 1.1.0 numbering; 2.x keeps the same
 * sections under the same names). Every finding is an error unless it says otherwise.
 *
 * | rule | section |
 * |---|---|
 * | every Content (VirtualSystem, VirtualSystemCollection) has an Info | 7.2, schema Content_Type |
 * | every section has an Info | 9 (schema Section_Type: Info minOccurs 1) |
 * | an extension with ovf:required="true" that is not understood fails the consumer | 7.3 |
 * | DiskSection and NetworkSection only at the envelope level | 9.1, 9.2 |
 * | disk capacity above zero | 9.1 |
 * | network names unique | 9.2 |
 * | Annotation and License present in their sections | 9.4, 9.6 |
 * | Property has ovf:type; keys unique in a ProductSection | 9.5 |
 * | ovf:class + ovf:instance unique among a system's ProductSections | 9.5 |
 * | StartupSection only in a VirtualSystemCollection | 9.7 |
 * | its items name the collection's children, ovf:order a non-negative integer | 9.7 |
 * | Configuration ids unique, at most one ovf:default="true" | 9.8 |
 * | OperatingSystemSection ovf:id an integer (CIM_OperatingSystem.OsType) | 9.9 |
 */
import type { Content, Envelope, Section } from './model.js';
import { findSections } from './model.js';
import { intOf } from './interpret.js';
import { NS_WASMVISOR, ovfFamily } from './namespaces.js';
import type { XmlAttr, XmlElement } from './xml-tree.js';
import { sizeInBytes, MAX_DISK_CAPACITY_BYTES } from './units.js';

type Report = (where: string, message: string) => void;

/** Vendor sections wasmvisor understands: its own boot options. */
const UNDERSTOOD = new Set([`${NS_WASMVISOR} BootSection`]);

/** ovf:required of an element as written (an attribute in an OVF namespace, or unqualified). */
function requiredAttr(attrs: readonly XmlAttr[] | undefined): string | undefined {
  const a = (attrs ?? []).find(
    (x) => x.name === 'required' && (x.ns === null || ovfFamily(x.ns) !== null),
  );
  return a?.value.trim();
}

const isTrue = (v: string | undefined) => v === 'true' || v === '1';

export function checkRules(env: Envelope, err: Report, warn: Report): void {
  const top = new Set(env.sections);
  const visitSections = (sections: Section[], where: string) => {
    for (const s of sections) {
      const name = s.kind === 'unknown' ? s.xml.name : s.kind;
      const at = `${where}${name}`;
      if (s.kind === 'unknown') {
        checkUnknown(s.xml, at, err, warn);
        continue;
      }
      // DSP0243 9 (schema Section_Type): Info is mandatory in every section.
      if (!s.info) err(at, `${s.kind} has no Info (DSP0243 9: every section has one)`);
      // DSP0243 7.3: a known section with a required child it does not understand is a
      // section not understood; if the section is required too, the consumer fails.
      const unknownRequired = (s.extra ?? []).find(
        (x) => x.ns !== null && ovfFamily(x.ns) === null && isTrue(requiredAttr(x.attrs)),
      );
      if (unknownRequired && (s.required === undefined || isTrue(s.required)))
        err(at, `holds <${unknownRequired.prefix ? unknownRequired.prefix + ':' : ''}` +
          `${unknownRequired.name}> (${unknownRequired.ns}) with ovf:required="true", ` +
          'which wasmvisor does not understand (DSP0243 7.3: the consumer shall fail)');
      if ((s.kind === 'DiskSection' || s.kind === 'NetworkSection') && !top.has(s))
        err(at, `a ${s.kind} is valid at the envelope level only ` +
          `(DSP0243 ${s.kind === 'DiskSection' ? '9.1' : '9.2'})`);
      if (s.kind === 'DiskSection') {
        for (const d of s.disks) {
          if (/^\$\{.+\}$/.test(d.capacity.trim())) continue;
          try {
            const n = sizeInBytes(
              d.capacity, d.capacityAllocationUnits, 'capacity', MAX_DISK_CAPACITY_BYTES, {},
            );
            if (n === 0) err(`${at}/Disk[${d.diskId}]`, 'capacity 0: a disk holds at least ' +
              'one byte (DSP0243 9.1)');
          } catch {
            /* reported by validate() */
          }
        }
      }
      if (s.kind === 'NetworkSection') {
        const seen = new Set<string>();
        for (const n of s.networks) {
          if (seen.has(n.name)) err(`${at}/Network[${n.name}]`,
            `duplicate network name "${n.name}" (DSP0243 9.2)`);
          seen.add(n.name);
        }
      }
      if (s.kind === 'AnnotationSection' && !s.annotation)
        err(at, 'AnnotationSection has no Annotation (DSP0243 9.4)');
      if (s.kind === 'EulaSection' && !s.license)
        err(at, 'EulaSection has no License (DSP0243 9.6)');
      if (s.kind === 'ProductSection') {
        const keys = new Set<string>();
        for (const e of s.entries) {
          if (e.kind !== 'Property') continue;
          if (e.type === '')
            err(`${at}/Property[${e.key}]`, 'Property has no ovf:type (DSP0243 9.5)');
          if (keys.has(e.key))
            err(`${at}/Property[${e.key}]`, `duplicate property key "${e.key}" (DSP0243 9.5)`);
          keys.add(e.key);
        }
      }
      if (s.kind === 'DeploymentOptionSection') {
        const ids = new Set<string>();
        for (const c of s.configurations) {
          if (ids.has(c.id)) err(`${at}/Configuration[${c.id}]`,
            `duplicate configuration id "${c.id}" (DSP0243 9.8)`);
          ids.add(c.id);
        }
        const defaults = s.configurations.filter((c) => isTrue(c.default?.trim()));
        if (defaults.length > 1)
          err(at, `${defaults.length} configurations are ovf:default="true" ` +
            '(DSP0243 9.8: more than one default is invalid)');
      }
      if (s.kind === 'OperatingSystemSection') {
        const id = intOf(s.id);
        if (id === undefined || id < 0)
          err(at, `ovf:id "${s.id}" is not a CIM_OperatingSystem.OsType code (DSP0243 9.9)`);
      }
    }
  };
  visitSections(env.sections, '');
  const visit = (c: Content, path: string) => {
    const where = `${path}${c.kind}[${c.id}]`;
    if (!c.info) err(where, `${c.kind} has no Info (DSP0243 7.2)`);
    visitSections(c.sections, where + '/');
    // DSP0243 9.5: ProductSections of one system are told apart by ovf:class and ovf:instance.
    const seen = new Set<string>();
    for (const ps of findSections(c.sections, 'ProductSection')) {
      const key = `${ps.class ?? ''}\u0000${ps.instance ?? ''}`;
      if (seen.has(key))
        err(`${where}/ProductSection`, 'two ProductSections with the same ovf:class ' +
          `"${ps.class ?? ''}" and ovf:instance "${ps.instance ?? ''}" (DSP0243 9.5)`);
      seen.add(key);
    }
    for (const st of findSections(c.sections, 'StartupSection')) {
      if (c.kind !== 'VirtualSystemCollection') {
        err(`${where}/StartupSection`,
          'a StartupSection is valid in a VirtualSystemCollection only (DSP0243 9.7)');
        continue;
      }
      const children = new Set(c.content.map((x) => x.id));
      for (const i of st.items) {
        if (!children.has(i.id))
          err(`${where}/StartupSection/Item[${i.id}]`,
            `ovf:id "${i.id}" names no direct child of the collection (DSP0243 9.7)`);
        const order = intOf(i.order);
        if (order === undefined || order < 0)
          err(`${where}/StartupSection/Item[${i.id}]`,
            `ovf:order "${i.order}" is not a non-negative integer (DSP0243 9.7)`);
      }
    }
    if (c.kind === 'VirtualSystemCollection') c.content.forEach((x) => visit(x, where + '/'));
  };
  if (env.content) visit(env.content, '');
}

/**
 * DSP0243 7.3: "If not specified, the ovf:required attribute defaults to TRUE. A consumer
 * of an OVF package that detects an extension that is required and that it does not
 * understand shall fail." An unknown section marked ovf:required="true" is an error. One
 * with no ovf:required is required by that default; real exports write such sections
 * for other consumers (vmw:StorageSection), so, as VirtualBox does, wasmvisor goes on
 * and says it ignored a section the descriptor did not mark optional.
 */
function checkUnknown(x: XmlElement, at: string, err: Report, warn: Report): void {
  if (UNDERSTOOD.has(`${x.ns} ${x.name}`)) return;
  const req = requiredAttr(x.attrs);
  const what = `<${x.prefix ? x.prefix + ':' : ''}${x.name}>${x.ns ? ` (${x.ns})` : ''}`;
  if (isTrue(req))
    err(at, `${what} is marked ovf:required="true" and wasmvisor does not understand it ` +
      '(DSP0243 7.3: the consumer shall fail)');
  else if (req === undefined)
    warn(at, `${what} is not understood and has no ovf:required, which defaults to true ` +
      '(DSP0243 7.3); ignored');
}
