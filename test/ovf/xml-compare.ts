/**
 * Structural comparison of XML trees for the OVF tests: a canonical string per element
 * (namespace, name, sorted attributes, trimmed text, sorted children) and the list of what
 * one tree has that another lacks.
 */
import { isElementNode, type XmlElement } from '../../bindings/ovf/xml-tree.js';
import { NS_XSI, canonicalNamespace, ovfFamily } from '../../bindings/ovf/namespaces.js';

/**
 * A canonical string of an element: namespace and name, attributes sorted, text trimmed,
 * children's canonical strings sorted. An unqualified attribute of an OVF element is read
 * as the ovf: attribute (DSP0243 writers qualify them; lenient readers take both).
 */
export function canonical(e: XmlElement, ovfNs: string | null = null): string {
  return canonicalString(normalize(e, ovfNs));
}

export function canonicalString(e: XmlElement): string {
  const ns = canonicalNamespace(e.ns);
  const ovf = ovfFamily(e.ns) !== null;
  const attrs = e.attrs
    .map((a) => `@${a.ns === null && ovf ? ns : canonicalNamespace(a.ns)}|${a.name}=${a.value}`)
    .sort();
  const text = e.children.filter((c) => !isElementNode(c)).map((c) => (c as { text: string }).text)
    .join('').trim();
  const kids = e.children.filter(isElementNode).map(canonicalString).sort();
  return `<${ns}|${e.name} ${attrs.join(' ')}>${text}${kids.join('')}</>`;
}

const CIM_HOLDERS = new Set(['Item', 'System', 'StorageItem', 'EthernetPortItem']);
/**
 * The equivalences the reader documents (bindings/ovf/README.md "lenient where producers
 * differ"), applied to both sides: an element in no namespace among OVF elements (oVirt
 * writes `<ovf:Envelope>` with unprefixed `References`, `Section`) is the OVF element, and
 * the 0.9 spelling `<Section xsi:type="ovf:DiskSection_Type">` is `<DiskSection>`; the
 * writer uses the 1.x/2.x form. Children of items (CIM properties and foreign elements)
 * are compared as they are.
 */
export function normalize(e: XmlElement, ovfNs: string | null): XmlElement {
  let { ns, name, attrs } = e;
  if (ns === null && ovfNs !== null) ns = ovfNs;
  const inOvf = ovfFamily(ns) !== null;
  if (inOvf && (name === 'Section' || name === 'Content')) {
    const t = attrs.find((a) => a.name === 'type' && a.ns === NS_XSI);
    if (t) {
      name = t.value.replace(/^.*:/, '').replace(/_Type$/, '');
      attrs = attrs.filter((a) => a !== t);
    }
  }
  const childOvf = inOvf && !CIM_HOLDERS.has(name) ? ns : null;
  return {
    ns, name, attrs,
    children: e.children.map((c) => (isElementNode(c) ? normalize(c, childOvf) : c)),
  };
}

/** What `a` has that `b` lacks, as a short list of canonical paths (for the message). */
export function missing(a: XmlElement, b: XmlElement, path = ''): string[] {
  const out: string[] = [];
  const here = `${path}/${a.name}`;
  const ca = canonicalString(a);
  if (ca === canonicalString(b)) return out;
  const bAttrs = new Set(b.attrs.map((x) => `${canonicalNamespace(x.ns)}|${x.name}=${x.value}`));
  for (const x of a.attrs)
    if (!bAttrs.has(`${canonicalNamespace(x.ns)}|${x.name}=${x.value}`) &&
      !(x.ns === null && bAttrs.has(`${canonicalNamespace(a.ns)}|${x.name}=${x.value}`)))
      out.push(`${here}/@${x.name}`);
  const bKids = b.children.filter(isElementNode);
  const used = new Set<XmlElement>();
  for (const k of a.children.filter(isElementNode)) {
    const same = bKids.find((x) => !used.has(x) && canonicalString(x) === canonicalString(k));
    if (same) {
      used.add(same);
      continue;
    }
    const like = bKids.find((x) => !used.has(x) && x.name === k.name &&
      canonicalNamespace(x.ns) === canonicalNamespace(k.ns));
    if (like) {
      used.add(like);
      out.push(...missing(k, like, here));
    } else out.push(`${here}/${k.name} {${k.ns}}`);
  }
  const own = (x: XmlElement) => canonicalString({ ...x, children: x.children.filter(
    (c) => !isElementNode(c)) });
  if (out.length === 0 && own(a) !== own(b)) out.push(`${here} (text or attributes differ)`);
  return out;
}

