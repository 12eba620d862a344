/**
 * Descriptors that are well-formed but built to exhaust the reader: millions of empty
 * elements within the size limit (a DOM node costs ~1 KiB), and nesting deep enough to
 * overflow a recursive walk. Both are refused before a tree is built, with a message
 * naming the file and the line. The node and depth counts the limits apply to are checked
 * against Expat's (Python's XML parser) on a document that mixes every kind of node.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MAX_DESCRIPTOR_BYTES,
  MAX_XML_DEPTH,
  MAX_XML_NODES,
  parseXml,
} from '../../bindings/ovf/xml-parse.js';
import { readOva } from '../../bindings/ovf/ova-read.js';
import { writeOva } from '../../bindings/ovf/ova-write.js';
import { runCliInProcess } from '../helpers/cli.js';
import { chunks, collect, ovfError, tempDir } from './helpers.js';
import { hasTool } from '../helpers/tools.js';

const withPython = hasTool('python3');

const ENVELOPE =
  '<?xml version="1.0"?>\n<Envelope ' +
    'xmlns="http://schemas.dmtf.org/ovf/envelope/1">\n<References/>\n';

/**
 * Expat's count of nodes (elements, attributes, comments, PIs, CDATA sections) and deepest nesting.
 */
function expatShape(file: string): { nodes: number; depth: number } {
  const r = spawnSync(
    'python3',
    [
      '-c',
      [
        'import sys, json, xml.parsers.expat as E',
        'p = E.ParserCreate()',
        's = {"nodes": 0, "depth": 0}; d = [0]',
        'def start(name, attrs):',
        '  s["nodes"] += 1 + len(attrs); d[0] += 1; s["depth"] = max(s["depth"], d[0])',
        'def end(name): d[0] -= 1',
        'def other(*a): s["nodes"] += 1',
        'p.StartElementHandler = start; p.EndElementHandler = end',
        'p.CommentHandler = other; p.ProcessingInstructionHandler ' +
          '= other; p.StartCdataSectionHandler = other',
        'p.Parse(open(sys.argv[1], "rb").read(), True)',
        'print(json.dumps(s))',
      ].join('\n'),
      file,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('descriptor shape limits', () => {
  it('refuses 2 million empty elements within the 8 MiB limit, ' +
      'naming the file and line', async () => {
    const text = ENVELOPE + '<a/>'.repeat(2_000_000) + '\n</Envelope>\n';
    expect(text.length).toBeLessThanOrEqual(MAX_DESCRIPTOR_BYTES);
    const heap = process.memoryUsage().heapUsed;
    const e = await ovfError(() => parseXml(new TextEncoder().encode(text), { file: 'many.ovf' }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(
      new RegExp(`^many\\.ovf, line 4: the descriptor has more than ${MAX_XML_NODES} XML nodes`),
    );
    // Refused without building the tree (which took 2.4 GB before the limit).
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(200 * 2 ** 20);
  });

  it('refuses deep nesting with a clear error, not a stack overflow', async () => {
    const text = ENVELOPE + '<a>\n'.repeat(20_000) + '</a>'.repeat(20_000) + '</Envelope>\n';
    const e = await ovfError(() => parseXml(text, { file: 'deep.ovf' }));
    expect(e.code).toBe('xml');
    // The Envelope is level 1; the 100th <a> is level 101, on line 4 + 99.
    expect(e.message).toBe(
      'deep.ovf, line 103: elements nested more than ' +
        `${MAX_XML_DEPTH} deep; an OVF descriptor nests fewer than 20`,
    );
  });

  it('says so inside an OVA too, instead of "not a readable tar archive"', async () => {
    const text = ENVELOPE + '<a>'.repeat(20_000) + '</a>'.repeat(20_000) + '</Envelope>\n';
    const ova = await collect(writeOva('deep.ovf', new TextEncoder().encode(text), []));
    const e = await ovfError(() => readOva(chunks(ova)));
    expect(e.message).toMatch(/^deep\.ovf, line 4: elements nested more than 100 deep/);
    const dir = tempDir();
    writeFileSync(join(dir, 'deep.ova'), ova);
    const r = await runCliInProcess(['ovf', 'validate', join(dir, 'deep.ova')]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/deep\.ovf, line 4: elements nested more than 100 deep/);
    expect(r.err).not.toMatch(/tar|call stack/);
  });

  it.skipIf(!withPython)('counts nodes and depth as Expat does, on every kind of node', () => {
    // Markup characters inside attribute values, comments, CDATA and PIs must not count.
    const body = [
      '<?pi some <data> here?>',
      '<!-- a comment with <b> and <c/> inside -->',
      '<x a="1" b=\'2 > 1\' c="x=y"><y d="/>"><![CDATA[<not-an-element/> = ]]></y></x>',
      '<z/><z e="&lt;"/>',
      '<p><q><r><s t="u"/></r></q></p>',
      '<ovf:Info xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">text = more</ovf:Info>',
    ].join('\n');
    const text = ENVELOPE + body + '\n</Envelope>\n';
    const dir = tempDir();
    const file = join(dir, 'mixed.ovf');
    writeFileSync(file, text);
    const { nodes, depth } = expatShape(file);
    expect(() => parseXml(text, { maxNodes: nodes, maxDepth: depth })).not.toThrow();
    expect(() => parseXml(text, { maxNodes: nodes - 1 })).toThrow(/more than \d+ XML nodes/);
    expect(() => parseXml(text, { maxDepth: depth - 1 })).toThrow(/nested more than/);
  });
});
