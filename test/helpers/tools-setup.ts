/**
 * vitest globalSetup: probes the reference tools once for the whole run, says once which
 * are missing (and when qemu-img is not the 7.x the disk fixtures came from), and hands
 * the result to the test files (tools.ts).
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { TOOLS, probeTools, underCi, type Tool } from './tools-probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    tools: Record<Tool, boolean>;
  }
}

export default function setup(project: TestProject): void {
  const tools = probeTools();
  const missing = (Object.keys(tools) as Tool[]).filter((t) => !tools[t]);
  if (missing.length) {
    const list = missing.map((t) => `${t} (Debian: ${TOOLS[t].pkg})`).join(', ');
    console.warn(underCi()
      ? `reference tools missing: ${list}; with CI=true the tests that need them fail`
      : `reference tools missing: ${list}; the tests that need them are skipped`);
  }
  const qemuImg = tools['qemu-img']
    ? /version (\d+)\./.exec(spawnSync('qemu-img', ['--version'], { encoding: 'utf8' }).stdout)
    : null;
  if (qemuImg && qemuImg[1] !== '7') {
    console.warn(`qemu-img ${qemuImg[1]}.x: the disk tests compare its outputs without the ` +
      'sections and keys newer than 7.2 (e.g. "Child node" blocks, "children")');
  }
  project.provide('tools', tools);
}
