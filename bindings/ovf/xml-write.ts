/**
 * Serialises an XmlElement tree to XML text. Every namespace used anywhere in the tree is
 * declared once on the root, with the prefix the tree suggests when it is free; the
 * root's own namespace becomes the default namespace, so OVF elements carry no prefix,
 * as VMware, VirtualBox and ovftool write them. Elements that contain text are written
 * exactly as they are; element-only content is indented.
 */
import { NS_XML } from './namespaces.js';
import {
  escapeAttr,
  escapeText,
  isElementNode,
  type XmlElement,
  type XmlNode,
} from './xml-tree.js';

/** Preferred prefixes for namespaces; others use the tree's hint or ns1, ns2... */
export type PrefixHints = Record<string, string>;

/**
 * `pretty` holds the elements the writer built itself (indented); every other element is
 * kept content and is written exactly as it is, white space included, so that reading it
 * back gives the same tree.
 */
export function serializeXml(
  root: XmlElement,
  hints: PrefixHints,
  pretty: WeakSet<XmlElement>,
  indent = '  ',
): string {
  const prefixes = new Map<string, string>(); // uri -> prefix
  const taken = new Set<string>(['xml', 'xmlns']);
  const defaultNs = root.ns;
  const want = (uri: string, hint?: string) => {
    if (uri === NS_XML || prefixes.has(uri)) return;
    let p = hints[uri] ?? hint ?? 'ns';
    if (!/^[A-Za-z_][\w.-]*$/.test(p) || /^xml/i.test(p)) p = 'ns';
    let candidate = p;
    for (let i = 1; taken.has(candidate); i++) candidate = `${p}${i}`;
    taken.add(candidate);
    prefixes.set(uri, candidate);
  };
  // Well-known hints first so that they win their prefixes.
  const used = new Set<string>();
  const collect = (e: XmlElement) => {
    if (e.ns) used.add(e.ns);
    for (const a of e.attrs) if (a.ns) used.add(a.ns);
    for (const c of e.children) if (isElementNode(c)) collect(c);
  };
  collect(root);
  for (const uri of Object.keys(hints)) if (used.has(uri)) want(uri);
  const visit = (e: XmlElement) => {
    if (e.ns && (e.ns !== defaultNs || e.children.some((c) => isElementNode(c) && c.ns === null)))
      want(e.ns, e.prefix);
    if (e.ns === null && defaultNs) want(defaultNs, 'ovf');
    for (const a of e.attrs) if (a.ns) want(a.ns, a.prefix);
    for (const c of e.children) if (isElementNode(c)) visit(c);
  };
  visit(root);

  // The default namespace in scope while writing: the root's, or none inside an element
  // in no namespace (which is written with xmlns="", Namespaces in XML 1.0 section 6.2).
  let inScope = defaultNs;
  const qname = (ns: string | null, name: string, isAttr: boolean, hint?: string): string => {
    if (!ns) return name;
    if (ns === NS_XML) return `xml:${name}`;
    // An element of the default namespace keeps the prefix it was read with, if that
    // prefix is bound to the same namespace here (so kept content reads back the same).
    if (!isAttr && ns === inScope && !(hint && prefixes.get(ns) === hint)) return name;
    return `${prefixes.get(ns)}:${name}`;
  };
  /** ` xmlns=""` when an element in no namespace sits where a default one is in scope. */
  const undeclare = (e: XmlElement) => (e.ns === null && inScope ? ' xmlns=""' : '');

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const write = (e: XmlElement, depth: number, isRoot: boolean) => {
    const pad = indent.repeat(depth);
    if (!isRoot && !pretty.has(e)) {
      out.push(pad);
      writeInline(e);
      out.push('\n');
      return;
    }
    const outer = inScope;
    let open = `<${qname(e.ns, e.name, false)}${undeclare(e)}`;
    if (e.ns === null) inScope = null;
    if (isRoot) {
      if (defaultNs) open += ` xmlns="${escapeAttr(defaultNs)}"`;
      for (const [uri, p] of prefixes) open += ` xmlns:${p}="${escapeAttr(uri)}"`;
    }
    for (const a of e.attrs) open += ` ${qname(a.ns, a.name, true)}="${escapeAttr(a.value)}"`;
    if (e.children.length === 0) {
      out.push(`${pad}${open}/>\n`);
      inScope = outer;
      return;
    }
    const hasText = e.children.some((c) => !isElementNode(c));
    if (hasText) {
      out.push(`${pad}${open}>`);
      for (const c of e.children) writeInline(c);
    } else {
      out.push(`${pad}${open}>\n`);
      for (const c of e.children) write(c as XmlElement, depth + 1, false);
      out.push(pad);
    }
    inScope = outer;
    out.push(`</${qname(e.ns, e.name, false)}>\n`);
  };
  const writeInline = (n: XmlNode) => {
    if (!isElementNode(n)) {
      out.push(escapeText(n.text));
      return;
    }
    const q = qname(n.ns, n.name, false, n.prefix);
    const outer = inScope;
    let open = `<${q}${undeclare(n)}`;
    if (n.ns === null) inScope = null;
    for (const a of n.attrs) open += ` ${qname(a.ns, a.name, true)}="${escapeAttr(a.value)}"`;
    if (n.children.length === 0) {
      out.push(`${open}/>`);
      inScope = outer;
      return;
    }
    out.push(`${open}>`);
    for (const c of n.children) writeInline(c);
    inScope = outer;
    out.push(`</${q}>`);
  };
  write(root, 0, true);
  return out.join('');
}
