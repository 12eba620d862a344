/**
 * DOM helpers shared by the descriptor reader: element matching across OVF namespace
 * variants, attribute splitting into named and kept-unchanged ones, and errors that
 * carry the element path and line.
 */
import { OvfError, type OvfErrorCode } from './errors.js';
import { NS_XML, NS_XMLNS, NS_XSI, canonicalNamespace, ovfFamily } from './namespaces.js';
import { fromDom, type DomLike, type XmlAttr, type XmlElement } from './xml-tree.js';
import { elementPath, lineOf } from './xml-parse.js';
import type { Msg } from './model.js';

export interface ReadContext {
  file?: string;
  /** True for OVF 0.9, whose sections are `<Section xsi:type="ovf:..._Type">`. */
  v09: boolean;
}

export function fail(ctx: ReadContext, el: Element, code: OvfErrorCode, message: string): never {
  throw new OvfError(code, message, { file: ctx.file, path: elementPath(el), line: lineOf(el) });
}

/** Child elements of `el`, in order. */
export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as Element);
  return out;
}

/**
 * True if `el` is the OVF element `name`: in an OVF envelope namespace (any family and
 * spelling), or in no namespace at all (lenient: some producers forget the default one).
 */
export function isOvf(el: Element, name: string): boolean {
  return el.localName === name && (el.namespaceURI === null || ovfFamily(el.namespaceURI) !== null);
}

/** True if the element is in an OVF namespace or none (so it is "ours", not a vendor's). */
export function inOvfNamespace(el: Element): boolean {
  return el.namespaceURI === null || ovfFamily(el.namespaceURI) !== null;
}

/**
 * For OVF 0.9 `<Section xsi:type="ovf:DiskSection_Type">` and `<Content
 * xsi:type="ovf:VirtualSystem_Type">`: the type's name without `_Type`; otherwise the
 * element's local name.
 */
export function effectiveName(el: Element): string {
  if ((el.localName === 'Section' || el.localName === 'Content') && inOvfNamespace(el)) {
    const t = el.getAttributeNS(NS_XSI, 'type');
    if (t) return t.replace(/^.*:/, '').replace(/_Type$/, '');
  }
  return el.localName ?? '';
}

/**
 * Splits the attributes of an OVF element into the named ones (`ovf:name`, or a bare
 * `name` as lenient producers write it) and the rest, which are kept unchanged.
 */
export function splitAttrs(
  el: Element,
  names: readonly string[],
): { named: Record<string, string>; extra?: XmlAttr[] } {
  const named: Record<string, string> = {};
  const extra: XmlAttr[] = [];
  const attrs = el.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i];
    const ns = a.namespaceURI;
    const local = a.localName ?? a.name;
    if (ns === NS_XMLNS || a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
    if (
      ns === NS_XSI &&
      local === 'type' &&
      (el.localName === 'Section' || el.localName === 'Content')
    )
      continue;
    const ovfNs = ns === null || ns === '' || ovfFamily(ns) !== null;
    if (ovfNs && names.includes(local)) {
      // A qualified attribute wins over an unqualified duplicate.
      if (!(local in named) || ns) named[local] = a.value;
      continue;
    }
    if (ns === NS_XML && local === 'lang' && names.includes('xml:lang')) {
      named['xml:lang'] = a.value;
      continue;
    }
    const x: XmlAttr = { ns: ns || null, name: local, value: a.value };
    if (a.prefix) x.prefix = a.prefix;
    extra.push(x);
  }
  return extra.length ? { named, extra } : { named };
}

/** A localisable text element (`ovf:msgid` kept). */
export function readMsg(el: Element): Msg {
  const m: Msg = { text: el.textContent ?? '' };
  const { named, extra } = splitAttrs(el, ['msgid']);
  if (named.msgid !== undefined) m.msgid = named.msgid;
  if (extra) m.extraAttrs = extra;
  return m;
}

export function keep(el: Element): XmlElement {
  return fromDom(el as unknown as DomLike);
}

/** Same namespace, for comparing namespace URIs as producers spell them. */
export function sameNamespace(a: string | null, b: string | null): boolean {
  return canonicalNamespace(a) === canonicalNamespace(b);
}

/** Sets the optional `extra`/`extraAttrs` fields only when non-empty, so models stay small. */
export function withExtras<T extends object>(
  obj: T,
  extraAttrs?: XmlAttr[],
  extra?: XmlElement[],
): T {
  const o = obj as T & { extraAttrs?: XmlAttr[]; extra?: XmlElement[] };
  if (extraAttrs && extraAttrs.length) o.extraAttrs = extraAttrs;
  if (extra && extra.length) o.extra = extra;
  return o;
}

/** Copies the named attributes that are present into `target` under the same names. */
export function assignDefined<T extends object>(
  target: T,
  named: Record<string, string>,
  keys: readonly string[],
): T {
  const t = target as Record<string, unknown>;
  for (const k of keys) if (named[k] !== undefined) t[k] = named[k];
  return target;
}
