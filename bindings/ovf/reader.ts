/**
 * The OVF descriptor reader: bytes or text in, typed model out. Namespace-aware, reads
 * OVF 0.9, 1.x and 2.x envelopes into one model; lenient where real producers differ
 * (namespace spellings, missing `ovf:` prefixes, declared encodings), strict where the
 * specification and safety require (well-formed XML, size limits, mandatory
 * attributes), with errors naming the element path and line.
 */
import { OvfError } from './errors.js';
import type {
  Content,
  Envelope,
  FileRef,
  Section,
  VirtualSystem,
  VirtualSystemCollection,
} from './model.js';
import { ovfFamily, type OvfFamily } from './namespaces.js';
import { parseXml } from './xml-parse.js';
import type { XmlElement } from './xml-tree.js';
import {
  assignDefined, childElements, effectiveName, fail, inOvfNamespace, isOvf, keep, readMsg,
  splitAttrs, withExtras, type ReadContext,
} from './reader-util.js';
import { readSection } from './reader-sections.js';

export interface ReadOptions {
  /** Name of the descriptor, for error messages. */
  file?: string;
  /** Size limit in bytes (default MAX_DESCRIPTOR_BYTES, 8 MiB). */
  maxBytes?: number;
}

/** Reads an OVF descriptor. Throws OvfError on anything that is not a readable envelope. */
export function readOvf(input: string | Uint8Array, opts: ReadOptions = {}): Envelope {
  const { root } = parseXml(input, { file: opts.file, maxBytes: opts.maxBytes });
  if (root.localName !== 'Envelope') {
    throw new OvfError(
      'not-ovf',
      `the root element is <${root.nodeName}>, not an OVF <Envelope> (DSP0243 7)`,
      { file: opts.file, path: '/' + root.nodeName },
    );
  }
  let family: OvfFamily | null = ovfFamily(root.namespaceURI);
  if (family === null) {
    if (root.namespaceURI) {
      throw new OvfError(
        'not-ovf',
        `the Envelope is in namespace "${root.namespaceURI}", ` +
          'which is not an OVF envelope namespace',
        { file: opts.file, path: '/Envelope' },
      );
    }
    family = guessFamily(root);
  }
  const ctx: ReadContext = { file: opts.file, v09: family === '0.9' };
  return readEnvelope(root, family, ctx);
}

/** An Envelope in no namespace: the ovf: prefix on its attributes, or ovf:version, tells. */
function guessFamily(root: Element): OvfFamily {
  const attrs = root.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const f = ovfFamily(attrs[i].value);
    if (f && attrs[i].name.startsWith('xmlns')) return f;
  }
  const v = root.getAttribute('ovf:version') ?? root.getAttribute('version') ?? '';
  if (v.startsWith('2')) return '2';
  if (v.startsWith('0.9')) return '0.9';
  return '1';
}

function readEnvelope(root: Element, family: OvfFamily, ctx: ReadContext): Envelope {
  const { named, extra: extraAttrs } = splitAttrs(root, ['version', 'xml:lang']);
  const env: Envelope = { family, references: [], sections: [] };
  if (named.version !== undefined) env.version = named.version;
  if (named['xml:lang'] !== undefined) env.lang = named['xml:lang'];
  let sawReferences = false;
  const strings: XmlElement[] = [];
  for (const c of childElements(root)) {
    const name = inOvfNamespace(c) ? effectiveName(c) : '';
    if (name === 'References' && !sawReferences) {
      sawReferences = true;
      env.references = readReferences(c, ctx);
    } else if (name === 'VirtualSystem' || name === 'VirtualSystemCollection') {
      if (env.content)
        fail(
          ctx,
          c,
          'invalid',
          'an Envelope holds exactly one VirtualSystem or VirtualSystemCollection (DSP0243 7.2)',
        );
      env.content = readContent(c, name, ctx);
    } else if (name === 'Strings') {
      strings.push(keep(c));
    } else {
      env.sections.push(readSection(c, ctx));
    }
  }
  // A missing References element is read as an empty one (govmomi's empty envelope has
  // none); validate() reports what such an envelope lacks.
  if (strings.length) env.strings = strings;
  return withExtras(env, extraAttrs);
}

function readReferences(el: Element, ctx: ReadContext): FileRef[] {
  const files: FileRef[] = [];
  const keys = ['id', 'href', 'size', 'compression', 'chunkSize'] as const;
  for (const c of childElements(el)) {
    if (!isOvf(c, 'File')) {
      fail(
        ctx,
        c,
        'invalid',
        `unexpected <${c.nodeName}> in References (only File is allowed, DSP0243 7.1)`,
      );
    }
    const a = splitAttrs(c, keys);
    if (!a.named.id) fail(ctx, c, 'invalid', 'File has no ovf:id (DSP0243 7.1)');
    if (!a.named.href)
      fail(ctx, c, 'invalid', `File "${a.named.id}" has no ovf:href (DSP0243 7.1)`);
    const f = assignDefined({ id: a.named.id, href: a.named.href } as FileRef, a.named, keys);
    files.push(withExtras(f, a.extra, childElements(c).map(keep)));
  }
  return files;
}

function readContent(
  el: Element,
  kind: 'VirtualSystem' | 'VirtualSystemCollection',
  ctx: ReadContext,
): Content {
  const { named, extra: extraAttrs } = splitAttrs(el, ['id']);
  if (!named.id) fail(ctx, el, 'invalid', `${kind} has no ovf:id (DSP0243 7.2)`);
  const sections: Section[] = [];
  const content: Content[] = [];
  const node = { kind, id: named.id, sections } as VirtualSystem | VirtualSystemCollection;
  for (const c of childElements(el)) {
    const name = inOvfNamespace(c) ? effectiveName(c) : '';
    if (name === 'Info' && node.info === undefined) node.info = readMsg(c);
    else if (name === 'Name' && node.name === undefined) node.name = readMsg(c);
    else if (
      kind === 'VirtualSystemCollection' &&
      (name === 'VirtualSystem' || name === 'VirtualSystemCollection')
    ) {
      content.push(readContent(c, name, ctx));
    } else if (
      kind === 'VirtualSystem' &&
      (name === 'VirtualSystem' || name === 'VirtualSystemCollection')
    ) {
      fail(ctx, c, 'invalid', `a VirtualSystem cannot contain a ${name} (DSP0243 7.2)`);
    } else sections.push(readSection(c, ctx));
  }
  if (node.kind === 'VirtualSystemCollection') node.content = content;
  return withExtras(node, extraAttrs);
}
