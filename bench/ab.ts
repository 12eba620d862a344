/**
 * A/B of two or more builds of the core in one process: the loop guests (guests/bench) run
 * on each core.wasm in turn, each on a new `Machine` as `wasmvisor bench` runs them,
 * alternating the order every round (A B, then B A) so that a change in the machine's
 * other load falls on both alike. Reports each build's best and median guest MIPS (CPU
 * time, as the bench) and the ratio of each to the first; every run's instruction count
 * is checked against the guest's source.
 *
 * Usage: node --import tsx bench/ab.ts OLD.wasm NEW.wasm [--only alu,callret] [--repeat N]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BENCH_GUESTS, CHECKPOINT_OUT, countFilePath, loopImagePath,
} from '../bindings/bench/loops.js';
import { runOnMachine } from '../bindings/bench/machine.js';

const argv = process.argv.slice(2);
const opt = (k: string) => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv.splice(i, 2)[1] : undefined;
};
const only = opt('--only')?.split(',');
const repeat = Math.max(1, Number(opt('--repeat') ?? 5) || 5);
const files = argv;
if (files.length < 2) {
  console.error('usage: bench/ab.ts A.wasm B.wasm [...] [--only alu,callret] [--repeat N]');
  process.exit(2);
}

const wasm = files.map((f) => pathToFileURL(resolve(f)));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

const rows: Record<string, string>[] = [];
const readCount = (name: string) => readFileSync(countFilePath(name), 'utf8');
for (const w of BENCH_GUESTS.filter((x) => !only || only.includes(x.name))) {
  const img = new Uint8Array(readFileSync(loopImagePath(w.name)));
  const instructions = w.instructions(readCount);
  const mips: number[][] = files.map(() => []);
  for (let r = 0; r < repeat; r++) {
    const order = files.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const m = await runOnMachine(img, instructions, wasm[i]);
      if (m.mips === null || m.error) throw new Error(`${w.name} on ${files[i]}: ${m.error}`);
      if (instructions !== null && m.counted !== instructions + CHECKPOINT_OUT) {
        throw new Error(`${w.name} on ${files[i]}: counted ${m.counted}, ` +
          `the source says ${instructions} (+${CHECKPOINT_OUT})`);
      }
      mips[i].push(m.mips);
    }
  }
  const row: Record<string, string> = { guest: w.name };
  files.forEach((f, i) => {
    row[`${f} best`] = Math.max(...mips[i]).toFixed(1);
    row[`${f} median`] = median(mips[i]).toFixed(1);
    if (i > 0) row[`median/first`] = (median(mips[i]) / median(mips[0])).toFixed(3);
  });
  rows.push(row);
  const runs = files.map((f, i) => `${f}: ${mips[i].map((x) => x.toFixed(0)).join(' ')}`);
  console.log(w.name, runs.join(' | '));
}
console.table(rows);
