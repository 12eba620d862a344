/** Node-only: files shipped in the package (bundled guests, firmware), found from here. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package's root folder, whether running from the sources or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'wasmvisor')
      return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the wasmvisor package root');
    dir = up;
  }
}

/** A file shipped with the package, by its path inside it. */
export function packaged(rel: string): string {
  return join(packageRoot(), rel);
}
