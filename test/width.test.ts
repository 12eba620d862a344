/**
 * Lines of the core and the bindings stay within 100 columns (scripts/check-width.mjs
 * over the git-tracked .ts files of assembly/ and bindings/).
 */
import { describe, it, expect } from 'vitest';
import { longLines, MAX_WIDTH } from '../scripts/check-width.mjs';

describe('line width', () => {
  it(`keeps every line of assembly/ and bindings/ within ${MAX_WIDTH} columns`, () => {
    const long = longLines() as { file: string; line: number; width: number }[];
    expect(long.map((l) => `${l.file}:${l.line}: ${l.width} columns`)).toEqual([]);
  });
});
