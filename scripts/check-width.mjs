// Lists the lines wider than 100 columns in the git-tracked TypeScript of assembly/ and
// bindings/ (the generated layout modules are not tracked). `node scripts/check-width.mjs`
// prints them as file:line: width and exits 1 when there is any.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MAX_WIDTH = 100;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** [{ file, line, width }] for every tracked .ts file under `dirs` (repo-relative). */
export function longLines(dirs = ['assembly', 'bindings']) {
  const files = execFileSync('git', ['ls-files', '-z', '--', ...dirs.map((d) => `${d}/*.ts`)],
    { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  const out = [];
  for (const file of files) {
    readFileSync(join(root, file), 'utf8').split('\n').forEach((text, i) => {
      // Columns as an editor counts them: code points, not UTF-16 units.
      const width = [...text].length;
      if (width > MAX_WIDTH) out.push({ file, line: i + 1, width });
    });
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const long = longLines();
  for (const l of long) console.log(`${l.file}:${l.line}: ${l.width} columns`);
  if (long.length) {
    console.error(`${long.length} lines wider than ${MAX_WIDTH} columns`);
    process.exit(1);
  }
}
