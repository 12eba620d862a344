#!/usr/bin/env node
// Boots tools/linux/cache's kernel and initramfs on wasmvisor (the built dist/), types
// commands into COM1 once the shell's prompt is there, and reports the guest
// instructions, virtual time and wall time to each milestone.
// Usage: node tools/linux/boot.mjs [--append "..."] [--mem MiB] [--cmds "a;b"] [--log FILE]
//   [--mode native|vtx|svm] [--paging nested|shadow] [--stop-at-prompt]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const { Machine } = await import(join(here, '../../dist/bindings/machine/machine.js'));
const cache = join(here, 'cache');
let out = '';
const marks = [];
const t0 = performance.now();
const m = await Machine.create({
  ramBytes: Number(opt('--mem', '128')) * 1024 * 1024,
  kernel: new Uint8Array(readFileSync(join(cache, 'vmlinuz'))),
  initrd: new Uint8Array(readFileSync(join(cache, 'initrd.cpio'))),
  cmdline: opt('--append', 'console=ttyS0'),
  ...(opt('--mode') ? { mode: opt('--mode') } : {}),
  ...(opt('--paging') ? { paging: opt('--paging') } : {}),
  serialOut: (b) => { out += String.fromCharCode(b); },
});
const cmds = opt('--cmds', 'uname -a;poweroff -f').split(';');
const mark = (what) => {
  const s = m.stats();
  marks.push({ what, instructions: s.instructions, virtualMs: s.virtualNs / 1e6,
    wallMs: Math.round(performance.now() - t0) });
  console.error(JSON.stringify(marks[marks.length - 1]));
};
let prompted = false, reason;
const limit = Number(opt('--max', '40000000000'));
for (;;) {
  reason = m.run(50_000_000, m.clock.now + 100e6);
  if (reason.kind !== 'limit') break;
  if (!marks.length && out.includes('Run /init')) mark('Run /init');
  if (!prompted && out.includes('/ # ')) {
    prompted = true;
    mark('shell prompt');
    if (args.includes('--stop-at-prompt')) break;
    m.inputOpen = true;
    m.input(new TextEncoder().encode(cmds.join('\n') + '\n'));
  }
  if (m.stats().instructions > limit) break;
}
mark('end: ' + JSON.stringify(reason));
const s = m.stats();
console.error(JSON.stringify({ exits: s.exits, interrupts: s.interruptsInjected,
  haltedMs: s.haltedNs / 1e6, ...(s.vmm ? { vmExits: s.vmm.vmExits } : {}) }));
const log = opt('--log', '/dev/stdout');
writeFileSync(log, out);
