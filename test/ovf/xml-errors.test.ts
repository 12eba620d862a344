/**
 * Errors for files that are not XML or not well-formed: short (the file is never echoed
 * whole), naming the file, with the 1-based line that Expat (Python's XML parser, a
 * parser nobody here wrote) reports for the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from '../../bindings/ovf/xml-parse.js';
import { REPO, ovfError, tempDir } from './helpers.js';
import { runCliInProcess } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';

const hasPython = hasTool('python3');

/**
 * The line Expat gives for the first well-formedness error in `file`, or undefined when it parses.
 */
function expatLine(file: string): number | undefined {
  const script = [
    'import sys, xml.parsers.expat as E',
    'p = E.ParserCreate()',
    'try:',
    '  p.Parse(open(sys.argv[1], "rb").read(), True)',
    'except E.ExpatError as e:',
    '  print(e.lineno)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim() ? Number(r.stdout.trim()) : undefined;
}

async function validate(file: string): Promise<{ status: number; err: string }> {
  const r = await runCliInProcess(['ovf', 'validate', file]);
  return { status: r.status, err: r.err };
}

/** Not well-formed inputs: stray text before, after, inside; a tag mismatch. */
const BAD: Record<string, string> = {
  'text-first.xml': 'hello\n<a>\n<b></a>\n',
  'comment-then-text.xml': '<!-- c -->\n\nhello <a/>',
  'declaration-then-text.xml': '<?xml version="1.0"?>\n\n  some words here\n<a/>\n',
  'text-after.xml': '<a>\n</a>\n\nhello there\n',
  'mismatch.xml': '<?xml version="1.0"?>\n\n<a>\n<b>\n</a>\n',
};

describe('XML errors', () => {
  it('validate README.md: says it is not XML, names the file, quotes little of it', async () => {
    // Named as it was given (here relative to the folder the command runs in).
    const r = await runCliInProcess(['ovf', 'validate', 'README.md'], REPO);
    expect(r.status).toBe(2);
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(r.err).toMatch(/^wasmvisor: README\.md, line 1: not an XML document/);
    expect(r.err).toContain(JSON.stringify(readme.split('\n')[0].trim().slice(0, 60)).slice(0, -1));
    // One line, the file name and at most ~80 characters of its text.
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err.length).toBeLessThan(160);
    expect(r.err).not.toMatch(/line 0/);
  });

  it('cuts a long stray text to a short excerpt', async () => {
    const long = 'x'.repeat(5000) + '\n<a/>';
    const e = await ovfError(() => parseXml(long, { file: 'long.txt' }));
    expect(e.code).toBe('xml');
    expect(e.message.length).toBeLessThan(160);
    expect(e.message).toMatch(/^long\.txt, line 1: not an XML document/);
  });

  it('never reports a line 0, and keeps xmldom messages short', async () => {
    for (const s of ['<a/>\n' + 'y'.repeat(3000), '<a>' + 'z'.repeat(3000), '<a/><b/>']) {
      const e = await ovfError(() => parseXml(s, { file: 'f.xml' }));
      expect(e.message).not.toMatch(/line 0/);
      expect(e.message.length).toBeLessThan(300);
      expect(e.where.line === undefined || e.where.line >= 1).toBe(true);
    }
  });

  it.skipIf(!hasPython)('gives the line Expat gives', async () => {
    const dir = tempDir();
    const files = [join(REPO, 'README.md')];
    for (const [name, text] of Object.entries(BAD)) {
      writeFileSync(join(dir, name), text);
      files.push(join(dir, name));
    }
    for (const f of files) {
      const want = expatLine(f);
      expect(want, f).toBeGreaterThanOrEqual(1);
      const e = await ovfError(() => parseXml(new Uint8Array(readFileSync(f)), { file: f }));
      expect(e.code, f).toBe('xml');
      expect(e.where.line, f).toBe(want);
    }
  });
});
