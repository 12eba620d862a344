/**
 * Turns descriptor bytes into a namespace-aware DOM (@xmldom/xmldom), with the checks a
 * descriptor from an untrusted package needs: a size limit, no DTD (so no entity
 * expansion), and errors that name the line and the open element.
 *
 * Character encoding (XML 1.0 appendix F): a byte order mark or the `<?xml` pattern in
 * UTF-16 decides; otherwise the bytes are read as UTF-8. A declared encoding that does
 * not match the bytes (XenServer writes `encoding="utf-16"` on UTF-8 files) is ignored in
 * favour of what the bytes are; a declared single-byte encoding is honoured when the
 * bytes are not valid UTF-8.
 */
import { DOMParser } from '@xmldom/xmldom';
import { OvfError } from './errors.js';

/** Default limit on a descriptor's size: 8 MiB (real descriptors are a few tens of KiB). */
export const MAX_DESCRIPTOR_BYTES = 8 * 1024 * 1024;

/**
 * Most XML nodes (elements, attributes, comments, processing instructions, CDATA
 * sections) a descriptor may have: 50,000. A DOM node costs about 1 KiB here (measured
 * with xmldom: 200,000 empty elements take 240 MB), so a descriptor of empty elements
 * within the size limit would take gigabytes; this keeps the tree under ~60 MB whatever
 * the file. Real descriptors have a few hundred nodes (one per 30-100 bytes).
 */
export const MAX_XML_NODES = 50_000;

/**
 * Deepest element nesting a descriptor may have: 100. OVF nests 6 or 7 levels
 * (Envelope, VirtualSystemCollection, VirtualSystem, VirtualHardwareSection, Item, a RASD
 * property) plus nested collections and vendor extensions; the readers walk the tree
 * recursively, so depth is bounded before they see it.
 */
export const MAX_XML_DEPTH = 100;

/**
 * Counts the nodes and measures the nesting of XML text in one pass over it, without
 * building anything, and refuses a document past MAX_XML_NODES or MAX_XML_DEPTH with
 * the line where the limit was crossed. Malformed markup is left to the parser: this
 * only has to be right for text that is well-formed (XML 1.0 section 2: "<" never
 * appears raw in attribute values, comments end at "-->", CDATA at "]]>").
 */
function checkXmlShape(
  text: string, file: string | undefined, maxNodes: number, maxDepth: number,
): void {
  let nodes = 0;
  let depth = 0;
  const lineAt = (i: number) => {
    let n = 1;
    for (let k = text.indexOf('\n'); k >= 0 && k < i; k = text.indexOf('\n', k + 1)) n++;
    return n;
  };
  const tooMany = (i: number) => new OvfError('too-large',
    `the descriptor has more than ${maxNodes} XML nodes (elements, attributes, comments); `
    + 'real descriptors have a few hundred', { file, line: lineAt(i) });
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i)) {
    const skip = (close: string, from: number) => {
      const end = text.indexOf(close, from);
      return end < 0 ? text.length : end + close.length;
    };
    if (text.startsWith('<!--', i)) { i = skip('-->', i + 4); nodes++; }
    else if (text.startsWith('<![CDATA[', i)) { i = skip(']]>', i + 9); nodes++; }
    else if (text.startsWith('<?', i)) {
      // The XML declaration is not a node (XML 1.0 section 2.8); other PIs are.
      if (!/^<\?xml\s/i.test(text.slice(i, i + 6))) nodes++;
      i = skip('?>', i + 2);
    }
    else if (text.startsWith('</', i)) { i = skip('>', i + 2); depth--; }
    else if (text.startsWith('<!', i)) { i = skip('>', i + 2); }
    else {
      // A start tag: count it and its attributes (an "=" outside quoted values each).
      nodes++;
      let k = i + 1;
      let quote = '';
      for (; k < text.length; k++) {
        const c = text[k];
        if (quote) { if (c === quote) quote = ''; }
        else if (c === '"' || c === "'") quote = c;
        else if (c === '=') nodes++;
        else if (c === '>') break;
      }
      if (depth + 1 > maxDepth) {
        const why = `elements nested more than ${maxDepth} deep; ` +
          'an OVF descriptor nests fewer than 20';
        throw new OvfError('xml', why, { file, line: lineAt(i) });
      }
      if (text[k - 1] !== '/') depth++;
      i = k + 1;
    }
    if (nodes > maxNodes) throw tooMany(i);
  }
}

/**
 * The first qualified name whose prefix no enclosing element declares (Namespaces in XML
 * 1.0 section 5, "Namespace constraint: Prefix Declared"), with its line; `xml` is bound
 * by definition. A scan of the tags with a stack of the prefixes each one declares, run
 * only when the parser has refused the document, to name the prefix and the line.
 */
export function undeclaredPrefix(
  text: string,
): { prefix: string; name: string; line: number } | undefined {
  const stack: Set<string>[] = [];
  const declared = (p: string) => p === 'xml' || p === 'xmlns' || stack.some((s) => s.has(p));
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  const attr = /([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')/g;
  const lineAt = (i: number) => text.slice(0, i).split('\n').length;
  const skip = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g;
  const clean = text.replace(skip, (m) => m.replace(/[^\n]/g, ' '));
  for (let m = tag.exec(clean); m; m = tag.exec(clean)) {
    if (m[1]) {
      stack.pop();
      continue;
    }
    const mine = new Set<string>();
    const names: string[] = [m[2]];
    for (let a = attr.exec(m[3]); a; a = attr.exec(m[3])) {
      if (a[1].startsWith('xmlns:')) mine.add(a[1].slice(6));
      else names.push(a[1]);
    }
    stack.push(mine);
    for (const n of names) {
      const i = n.indexOf(':');
      if (i > 0 && !declared(n.slice(0, i)))
        return { prefix: n.slice(0, i), name: n, line: lineAt(m.index) };
    }
    if (m[4]) stack.pop();
  }
  return undefined;
}

/** What the parser hands on: the root element and the decoded text. */
export interface ParsedXml {
  root: Element;
  text: string;
}

/** Decodes descriptor bytes to a string following XML 1.0 appendix F. */
export function decodeXmlBytes(bytes: Uint8Array, file?: string): string {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)
    return utf8(b.subarray(3), file);
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe)
    return new TextDecoder('utf-16le').decode(b.subarray(2));
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff)
    return new TextDecoder('utf-16be').decode(b.subarray(2));
  if (b.length >= 4 && b[0] === 0x3c && b[1] === 0 && b[2] === 0x3f && b[3] === 0)
    return new TextDecoder('utf-16le').decode(b);
  if (b.length >= 4 && b[0] === 0 && b[1] === 0x3c && b[2] === 0 && b[3] === 0x3f)
    return new TextDecoder('utf-16be').decode(b);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    const head = new TextDecoder('latin1').decode(b.subarray(0, 200));
    const m = /^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
    const enc = m?.[1].toLowerCase();
    if (enc && !enc.startsWith('utf')) {
      try {
        return new TextDecoder(enc).decode(b);
      } catch {
        /* unknown label: fall through to the error below */
      }
    }
    return utf8(b, file);
  }
}

function utf8(b: Uint8Array, file?: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    // Find the line of the first bad byte for the message.
    let line = 1;
    let i = 0;
    for (; i < b.length; i++) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, i + 1), { stream: true });
      } catch {
        break;
      }
      if (b[i] === 0x0a) line++;
    }
    throw new OvfError('xml', 'the descriptor is not valid UTF-8 and declares no other encoding', {
      file,
      line,
    });
  }
}

/**
 * xmldom's locator points at the start of the token it was reading, which for a bad tag
 * is often the white space before it; the line of the next non-blank character is the
 * one a reader wants to see.
 */
function errorLine(
  text: string,
  line: number | undefined,
  column: number | undefined,
): number | undefined {
  // xmldom gives line 0 when it has no position (text outside the root): say nothing then.
  if (line === undefined || line < 1) return undefined;
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return line;
    offset = nl + 1;
  }
  offset += Math.max(0, (column ?? 1) - 1);
  let n = line;
  while (offset < text.length && /\s/.test(text[offset])) {
    if (text[offset] === '\n') n++;
    offset++;
  }
  return offset < text.length ? n : line;
}

/** Longest excerpt of the input an error message quotes, so a wrong file is not echoed whole. */
const QUOTE_CHARS = 60;

/** The first line of `s`, cut to QUOTE_CHARS, in double quotes. */
function quote(s: string): string {
  const first = s.split(/\r?\n/, 1)[0].trim();
  return JSON.stringify(first.length > QUOTE_CHARS ? `${first.slice(0, QUOTE_CHARS)}...` : first);
}

/**
 * xmldom quotes the offending text in its messages (the whole text node, white space
 * removed): keep the message but cut any quoted part to QUOTE_CHARS.
 */
function shorten(message: string): string {
  return message
    .replace(
      new RegExp(`'([^']{${QUOTE_CHARS + 1},})'`, 'g'),
      (_m, q: string) => `'${q.slice(0, QUOTE_CHARS)}...'`,
    )
    .replace(/\s+/g, ' ')
    .slice(0, 200);
}

/**
 * Text before the root element (XML 1.0 section 2.1, production [22] prolog: only the XML
 * declaration, comments, processing instructions and white space may come first). This is
 * what a file that is not XML at all (Markdown, a VMDK, a manifest) looks like, and xmldom
 * reports it without a position, so it is found here with its 1-based line.
 */
function textBeforeRoot(text: string): { text: string; line: number } | undefined {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) return undefined;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return undefined;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return undefined;
      i = end + 3;
    } else if (text[i] === '<') {
      return undefined;
    } else {
      return { text: text.slice(i, i + 200), line: text.slice(0, i).split('\n').length };
    }
  }
}

/**
 * The 1-based line of text after the document's last tag, for xmldom's "Extra content at
 * the end of the document", whose locator points at the root's end tag instead.
 */
function textAfterRoot(text: string): number | undefined {
  const end = text.trimEnd();
  if (end.endsWith('>')) return undefined;
  let i = text.lastIndexOf('>', end.length - 1) + 1;
  while (i < end.length && /\s/.test(text[i])) i++;
  return text.slice(0, i).split('\n').length;
}

/** The element path of a DOM element: `/Envelope/VirtualSystem/Item[3]`. */
export function elementPath(el: Node | null | undefined): string {
  const parts: string[] = [];
  let n: Node | null | undefined = el;
  while (n && n.nodeType === 1) {
    const e = n as Element;
    const name = e.localName ?? e.nodeName;
    let index = 0;
    let count = 0;
    const parent = e.parentNode;
    if (parent) {
      for (let c = parent.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 1 && (c as Element).localName === name) {
          count++;
          if (c === e) index = count;
        }
      }
    }
    parts.unshift(count > 1 ? `${name}[${index}]` : name);
    n = e.parentNode;
  }
  return '/' + parts.join('/');
}

/** The 1-based line of a DOM node (xmldom's locator), if known. */
export function lineOf(n: Node | null | undefined): number | undefined {
  const l = (n as unknown as { lineNumber?: number } | null | undefined)?.lineNumber;
  return typeof l === 'number' ? l : undefined;
}

/**
 * Parses descriptor text or bytes into a DOM. Any XML error (not well-formed, DTD, size)
 * becomes an OvfError of code `xml` or `too-large` with the line and open element.
 */
export function parseXml(
  input: string | Uint8Array,
  opts: { file?: string; maxBytes?: number; maxNodes?: number; maxDepth?: number } = {},
): ParsedXml {
  const max = opts.maxBytes ?? MAX_DESCRIPTOR_BYTES;
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > max) {
    throw new OvfError(
      'too-large',
      `the descriptor is ${size} bytes, beyond the limit of ${max} bytes`,
      { file: opts.file },
    );
  }
  const text = typeof input === 'string' ? input : decodeXmlBytes(input, opts.file);
  const dtd = /<!DOCTYPE/i.exec(text);
  if (dtd) {
    const line = text.slice(0, dtd.index).split('\n').length;
    throw new OvfError(
      'xml',
      'a DOCTYPE is not allowed in an OVF descriptor (no DTD, no entities)',
      { file: opts.file, line },
    );
  }
  if (text.trim() === '') {
    throw new OvfError('xml', 'the file is empty (an OVF descriptor is an XML document)', {
      file: opts.file,
    });
  }
  checkXmlShape(text, opts.file, opts.maxNodes ?? MAX_XML_NODES, opts.maxDepth ?? MAX_XML_DEPTH);
  const stray = textBeforeRoot(text);
  if (stray) {
    throw new OvfError(
      'xml',
      `not an XML document: it has text before the root element: ${quote(stray.text)}`,
      {
        file: opts.file,
        line: stray.line,
      },
    );
  }
  let doc: Document;
  // xmldom wraps what onError throws in its own ParseError without the cause: keep ours.
  let ours: OvfError | undefined;
  try {
    doc = new DOMParser({
      onError: (level, message, ctx) => {
        if (level === 'warning') return;
        if (/namespace|prefix/i.test(message)) {
          const u = undeclaredPrefix(text);
          if (u)
            throw (ours = new OvfError(
              'xml',
              `the namespace prefix "${u.prefix}" (in ${u.name}) is not declared ` +
                `(no xmlns:${u.prefix}="..." on it or an enclosing element)`,
              { file: opts.file, line: u.line },
            ));
        }
        const c = ctx as unknown as
          | { locator?: { lineNumber?: number; columnNumber?: number }; currentElement?: Node }
          | undefined;
        throw (ours = new OvfError('xml', `malformed XML: ${shorten(message)}`, {
          file: opts.file,
          line: /^Extra content/.test(message)
            ? (textAfterRoot(text) ??
              errorLine(text, c?.locator?.lineNumber, c?.locator?.columnNumber))
            : errorLine(text, c?.locator?.lineNumber, c?.locator?.columnNumber),
          path: c?.currentElement ? elementPath(c.currentElement) : undefined,
        }));
      },
    }).parseFromString(text, 'text/xml') as unknown as Document;
  } catch (e) {
    if (ours) throw ours;
    if (e instanceof OvfError) throw e;
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof OvfError) throw cause;
    const u = /namespace|prefix/i.test((e as Error).message) ? undeclaredPrefix(text) : undefined;
    if (u)
      throw new OvfError('xml', `the namespace prefix "${u.prefix}" (in ${u.name}) is not declared`,
        { file: opts.file, line: u.line });
    const loc = (e as { locator?: { lineNumber?: number } }).locator;
    const line = loc?.lineNumber !== undefined && loc.lineNumber >= 1 ? loc.lineNumber : undefined;
    throw new OvfError('xml', `malformed XML: ${shorten((e as Error).message)}`, {
      file: opts.file,
      line,
    });
  }
  const root = doc.documentElement;
  if (!root) throw new OvfError('xml', 'malformed XML: no root element', { file: opts.file });
  return { root: root as unknown as Element, text };
}
