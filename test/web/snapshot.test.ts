/**
 * Snapshots in the web page (Debian's chromium driven by playwright-core): a snapshot made
 * in Node loads in the page and continues byte for byte as the uninterrupted run in Node
 * (the reference: the machine is deterministic); a snapshot saved by the page's button
 * restores in Node and back in the page, and the guest answers a command there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';
import { CHROMIUM } from '../helpers/tools-probe.js';
import { Machine, saveSnapshot, restoreSnapshot } from '../../bindings/index.js';
import { jeos } from '../../bindings/node.js';
import type { Browser, Page } from 'playwright-core';

const REPO = join(__dirname, '..', '..');
const CMDLINE = 'shell=1 iters=200 forkwait=20 forkexec=10 compute=20';

describe.skipIf(!hasTool('chromium'))('snapshots in the web page', () => {
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(REPO, 'web/build.mjs'), '--quiet'], { stdio: 'inherit' });
    server = spawn(process.execPath, [join(REPO, 'web/serve.mjs'), '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => {
        const m = /http:\/\/\S+/.exec(String(d));
        if (m) resolve(m[0]);
      });
      server.on('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  const vm = (n: number) => page.locator(`#vm${n}`);
  const consoleOf = (n: number) => page.evaluate((i) =>
    (globalThis as any).wasmvisorPage.panels[i - 1].consoleText() as string, n);
  const load = (n: number, name: string, bytes: Uint8Array) =>
    vm(n).locator('input[name=snapshot]').setInputFiles({
      name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });

  it('loads a snapshot made in Node: the rest of the run, byte for byte', async () => {
    const ref = jeos();
    let full = '';
    const r = await Machine.create({ ramBytes: 64 << 20, kernel: ref.kernel, disks: [ref.disk],
      serialOut: (b) => { full += String.fromCharCode(b); } });
    expect(r.run(400_000_000)).toEqual({ kind: 'poweroff' });
    const { kernel, disk } = jeos();
    let before = '';
    const m = await Machine.create({ ramBytes: 64 << 20, kernel, disks: [disk],
      serialOut: (b) => { before += String.fromCharCode(b); } });
    m.run(31_415_926);
    const file = saveSnapshot(m);
    await load(1, 'node.wvsnap', file);
    await page.waitForFunction(() => (globalThis as any).wasmvisorPage.panels[0]
      .consoleText().includes('jeos exit code=0'), undefined, { timeout: 60_000 });
    await expect.poll(() => vm(1).getAttribute('data-state')).toBe('stopped');
    expect(before + await consoleOf(1)).toBe(full);
    await expect(vm(1).innerText()).resolves
      .toContain('the snapshot node.wvsnap');
  }, 120_000);

  it('saves a snapshot to a download; it restores in Node and back in the page', async () => {
    await vm(1).locator('input[name=cmdline]').fill(CMDLINE);
    await vm(1).locator('button[name=boot]').click();
    await page.waitForFunction(() => (globalThis as any).wasmvisorPage.panels[0]
      .consoleText().includes('jeos> '), undefined, { timeout: 30_000 });
    await vm(1).locator('button[name=pause]').click();
    const [dl] = await Promise.all([page.waitForEvent('download'),
      vm(1).locator('button[name=save]').click()]);
    expect(dl.suggestedFilename()).toBe('vm1.wvsnap');
    const chunks: Buffer[] = [];
    for await (const c of await dl.createReadStream()) chunks.push(c as Buffer);
    const bytes = new Uint8Array(Buffer.concat(chunks));
    // In Node: the guest at its prompt answers a command.
    let out = '';
    const n = await restoreSnapshot(bytes, { serialOut: (b) => { out += String.fromCharCode(b); } });
    n.input(new TextEncoder().encode('syscall 100\r'));
    for (let i = 0; i < 200 && !/jeos> $/.test(out); i++) n.run(2_000_000);
    expect(out).toMatch(/wl syscall iters=100 .*\r\njeos> $/);
    // Back in the page, in a second VM.
    await page.locator('#add-vm').click();
    await load(2, 'vm1.wvsnap', bytes);
    await expect.poll(() => vm(2).getAttribute('data-state')).toMatch(/running|waiting/);
    await vm(2).locator('.term').click();
    await page.keyboard.type('syscall 100');
    await page.keyboard.press('Enter');
    await expect.poll(() => consoleOf(2), { timeout: 15_000 })
      .toMatch(/wl syscall iters=100 .*\r\njeos> $/);
  }, 120_000);

  it('a damaged snapshot says why it cannot load', async () => {
    await load(2, 'broken.wvsnap', new TextEncoder().encode('WVSNAP but not really'));
    await expect.poll(() => vm(2).locator('.error').innerText())
      .toContain('broken.wvsnap: not a wasmvisor snapshot');
  });
});
