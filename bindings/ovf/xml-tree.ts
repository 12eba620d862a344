/**
 * A plain, JSON-serialisable XML element tree. The OVF model keeps every section,
 * element and attribute it does not understand in this form, and the writer puts it back
 * unchanged (same namespaces, names, attributes, text), so vendor extensions survive a
 * round trip. Prefixes are hints only: identity is the namespace URI and the local name.
 */
import { NS_XMLNS } from './namespaces.js';

export interface XmlAttr {
  /** Namespace URI, or null for an unqualified attribute. */
  ns: string | null;
  name: string;
  prefix?: string;
  value: string;
}

export interface XmlText {
  text: string;
}

export interface XmlElement {
  ns: string | null;
  name: string;
  prefix?: string;
  attrs: XmlAttr[];
  children: XmlNode[];
}

export type XmlNode = XmlElement | XmlText;

export function isElementNode(n: XmlNode): n is XmlElement {
  return (n as XmlElement).name !== undefined;
}

/** Minimal structural view of a DOM node, so this file needs no DOM library types. */
export interface DomLike {
  nodeType: number;
  namespaceURI?: string | null;
  localName?: string | null;
  prefix?: string | null;
  nodeValue?: string | null;
  attributes?: ArrayLike<DomLike> | null;
  childNodes?: ArrayLike<DomLike> | null;
  value?: string;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

/** Copies a DOM element into an XmlElement (comments and processing instructions dropped). */
export function fromDom(el: DomLike): XmlElement {
  const attrs: XmlAttr[] = [];
  const a = el.attributes;
  if (a) {
    for (let i = 0; i < a.length; i++) {
      const at = a[i];
      if (at.namespaceURI === NS_XMLNS) continue; // declarations are regenerated
      const attr: XmlAttr = {
        ns: at.namespaceURI || null,
        name: at.localName ?? '',
        value: at.value ?? at.nodeValue ?? '',
      };
      if (at.prefix) attr.prefix = at.prefix;
      attrs.push(attr);
    }
  }
  const children: XmlNode[] = [];
  const c = el.childNodes;
  if (c) {
    for (let i = 0; i < c.length; i++) {
      const n = c[i];
      if (n.nodeType === ELEMENT_NODE) children.push(fromDom(n));
      else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
        const last = children[children.length - 1];
        if (last && !isElementNode(last)) last.text += n.nodeValue ?? '';
        else children.push({ text: n.nodeValue ?? '' });
      }
    }
  }
  const out: XmlElement = {
    ns: el.namespaceURI || null,
    name: el.localName ?? '',
    attrs,
    children,
  };
  if (el.prefix) out.prefix = el.prefix;
  return out;
}

/** Escapes text content (XML 1.0 section 2.4). */
export function escapeText(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/**
 * Escapes an attribute value. Tabs and line breaks become character references, since a
 * parser normalises literal ones to spaces (XML 1.0 section 3.3.3).
 */
export function escapeAttr(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
