// Builds the WebAssembly core: generates the layout constants (scripts/gen-layout.mjs), the
// opcode dispatch (scripts/gen-opcodes.mjs) and the VT-x/AMD-V tables (scripts/gen-vmm-tables.mjs),
// then compiles each asconfig.json target. The static data's start, DATA_BASE, comes from
// the layout (asc --memoryBase), so it is written in one place only.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeLayout } from './layout.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(process.execPath, [join(root, 'scripts/gen-layout.mjs')]);
run(process.execPath, [join(root, 'scripts/gen-opcodes.mjs')]);
run(process.execPath, [join(root, 'scripts/gen-vmm-tables.mjs')]);
const dataBase = computeLayout().values.get('DATA_BASE');
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
/** Entry file of each target. */
const targets = [
  ['assembly/index.ts', 'release'],
  ['assembly/index.ts', 'debug'],
  // The release core plus the fuzz driver, for test/core/fuzz.test.ts only.
  ['assembly/fuzz-entry.ts', 'fuzz'],
];
for (const [entry, target] of targets) {
  run(process.execPath, [asc, entry, '--target', target, '--memoryBase', String(dataBase)]);
}
