/**
 * The web page in a real browser (Debian's chromium driven by playwright-core): it builds
 * the site (`npm run build:web`), serves it with `npm run web`'s server and checks what a
 * person does: the page loads, JeOS boots and prints its workloads, a command typed at
 * its prompt gets its answer, the charts receive data, two VMs run side by side, and a
 * dropped file that cannot boot says what it is. References: the console must equal, byte
 * for byte, what the package prints for the same kernel and command line in Node (the
 * machine is deterministic); the published figures are Adams & Agesen's (ASPLOS 2006,
 * figure 4); ELF identification follows the System V ABI (e_ident, e_machine 62 = x86-64).
 * A screenshot of the page after the run goes to test/web/screenshots/ (not committed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';
import { CHROMIUM } from '../helpers/tools-probe.js';
import { Machine } from '../../bindings/index.js';
import { jeos } from '../../bindings/node.js';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error plain ESM helper without types
import { makeDisk } from '../../guests/firmware/tests/mkdisk.mjs';

const REPO = join(__dirname, '..', '..');
const SHOTS = join(__dirname, 'screenshots');
const CMDLINE = 'shell=1 iters=200 forkwait=20 forkexec=10 compute=20';

/** What JeOS prints on COM1 in Node through the package, up to its first prompt. */
async function nodeConsole(cmdline: string): Promise<string> {
  const { kernel, disk } = jeos();
  let out = '';
  const m = await Machine.create({ ramBytes: 64 << 20, kernel, cmdline, disks: [disk],
    serialOut: (b) => { out += String.fromCharCode(b); } });
  while (!out.includes('jeos> ')) {
    const stop = m.run(50_000_000);
    if (stop.kind !== 'limit') break;
  }
  return out;
}

describe.skipIf(!hasTool('chromium'))('the web page in chromium', () => {
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

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
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  const vm = (n: number) => page.locator(`#vm${n}`);
  const consoleOf = (n: number) => page.evaluate((i) =>
    (globalThis as any).wasmvisorPage.panels[i - 1].consoleText() as string, n);
  const terminalText = (n: number) => vm(n).locator('.xterm-rows').innerText();
  /** Drops a file on VM n as a person drags one there (the bytes travel as base64). */
  const dropFile = (n: number, name: string, bytes: Uint8Array) => page.evaluate(
    ([sel, file, b64]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], file));
      document.querySelector(sel)!.dispatchEvent(new DragEvent('drop',
        { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [`#vm${n}`, name, Buffer.from(bytes).toString('base64')] as const);

  it('loads, offering the package\'s modes and cost profiles', async () => {
    await page.goto(url);
    await expect(page.title()).resolves.toMatch(/wasmvisor/);
    const { MODES, cost } = await import('../../bindings/index.js');
    await expect(vm(1).locator('select[name=mode] option').evaluateAll(
      (os) => os.map((o) => (o as HTMLOptionElement).value))).resolves
      .toEqual(MODES.map((m) => m.name));
    await expect(vm(1).locator('select[name=profile] option').evaluateAll(
      (os) => os.map((o) => (o as HTMLOptionElement).value))).resolves
      .toEqual(cost.PROFILES.map((p) => p.name));
  });

  it('boots JeOS, whose console equals the package\'s in Node, and shows its prompt', async () => {
    await vm(1).locator('input[name=cmdline]').fill(CMDLINE);
    await vm(1).locator('button[name=boot]').click();
    await page.waitForFunction(() => (globalThis as any).wasmvisorPage.panels[0]
      .consoleText().includes('jeos> '), undefined, { timeout: 30_000 });
    const expected = await nodeConsole(CMDLINE);
    expect(expected).toMatch(/wl syscall iters=200 /);
    expect(await consoleOf(1)).toBe(expected);
    expect(await terminalText(1)).toContain('jeos>');
    // The table beside it: one row per workload, the paper's native syscall figure.
    const rows = page.locator('#compare-table tbody tr');
    await expect(rows.first().locator('th').innerText()).resolves.toBe('syscall');
    const syscall = await rows.first().locator('td').allInnerTexts();
    expect(syscall.slice(-3)).toEqual(['242', '2,308', '246']);
    expect(syscall[0]).toMatch(/^[\d,]+ \(\d+\.\d\d\)$/);
  });

  it('sends what is typed in the terminal to the guest, which answers', async () => {
    await vm(1).locator('.term').click();
    await page.keyboard.type('syscall 100');
    await page.keyboard.press('Enter');
    await expect.poll(() => consoleOf(1), { timeout: 15_000 })
      .toMatch(/jeos> wl syscall iters=100 .*\r\njeos> $/);
    await expect.poll(() => terminalText(1)).toMatch(/wl syscall iters=100 /);
    // Tab leaves the terminal for the next control (keyboard users are not trapped).
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('.term') === null))
      .toBe(true);
  });

  it('charts the counters', async () => {
    for (const c of ['ips', 'exits', 'tlb', 'irq']) {
      await expect.poll(() => vm(1).locator(`canvas[data-chart=${c}]`)
        .getAttribute('data-points').then(Number), { timeout: 10_000 }).toBeGreaterThan(0);
    }
    const numbers = await vm(1).getByRole('table', { name: 'Counters since boot' }).innerText();
    expect(numbers).toMatch(/Guest instructions\s+[\d,]+ instructions/);
    expect(numbers).toMatch(/Simulated cycles\s+[\d,]+ cycles \(p4-prescott\)/);
    await vm(1).locator('details.all summary').click();
    await expect.poll(() => vm(1).locator('details.all table').innerText())
      .toMatch(/core\.tlbHits\s+[\d,]+/);
    await vm(1).locator('details.all summary').click();
    await expect(page.locator('#compare-chart').getAttribute('data-points').then(Number))
      .resolves.toBeGreaterThan(0);
  });

  it('pauses, resumes, resets and downloads the counters and the console', async () => {
    const instructions = () => page.evaluate(() =>
      (globalThis as any).wasmvisorPage.panels[0].samples.at(-1).instructions as number);
    await vm(1).locator('button[name=pause]').click();
    await expect.poll(() => vm(1).getAttribute('data-state')).toBe('paused');
    const at = await instructions();
    await page.waitForTimeout(400);
    expect(await instructions()).toBe(at);
    await vm(1).locator('button[name=resume]').click();
    await expect.poll(() => vm(1).getAttribute('data-state')).toMatch(/running|waiting/);
    const [csv] = await Promise.all([page.waitForEvent('download'),
      vm(1).locator('button[name=csv]').click()]);
    expect(csv.suggestedFilename()).toBe('vm1-counters.csv');
    const text = await csv.createReadStream().then(async (s) => {
      let t = '';
      for await (const c of s) t += String(c);
      return t;
    });
    expect(text.split('\n')[0]).toMatch(/^wall_s,virtual_s,instructions,exits,/);
    expect(text).toMatch(/\nworkload,iterations,exits_per_iter,simulated_cycles_per_iter/);
    const [log] = await Promise.all([page.waitForEvent('download'),
      vm(1).locator('button[name=log]').click()]);
    expect(log.suggestedFilename()).toBe('vm1-console.txt');
    await vm(1).locator('button[name=reset]').click();
    await page.waitForFunction(() => (globalThis as any).wasmvisorPage.panels[0]
      .consoleText().includes('jeos> '), undefined, { timeout: 30_000 });
    expect(await consoleOf(1)).toBe(await nodeConsole(CMDLINE));
  });

  it('runs two VMs side by side with their own cost profiles', async () => {
    await page.locator('#add-vm').click();
    // The second VM takes the last mode the package offers (native until others land).
    const { MODES } = await import('../../bindings/index.js');
    const last = MODES[MODES.length - 1].name;
    await vm(2).locator('select[name=mode]').selectOption(last);
    await vm(2).locator('select[name=profile]').selectOption('modern');
    await vm(2).locator('input[name=cmdline]').fill(CMDLINE);
    await page.locator('#run-all').click();
    for (const i of [0, 1]) {
      await page.waitForFunction((n) => (globalThis as any).wasmvisorPage.panels[n]
        .consoleText().includes('jeos> '), i, { timeout: 30_000 });
    }
    const [a, b] = [await vm(1).boundingBox(), await vm(2).boundingBox()];
    expect(a!.y).toBe(b!.y);
    expect(b!.x).toBeGreaterThan(a!.x + a!.width - 1);
    // Natively, the same counts in both, priced by two profiles.
    if (last === 'native') expect(await consoleOf(2)).toBe(await consoleOf(1));
    const head = await page.locator('#compare-table thead th').allInnerTexts();
    expect(head.slice(1, 3)).toEqual(['VM 1 (native, p4-prescott)', `VM 2 (${last}, modern)`]);
    const row = await page.locator('#compare-table tbody tr').first().locator('td')
      .allInnerTexts();
    expect(row[0]).not.toBe(row[1]);
    await expect.poll(() => vm(2).locator('canvas[data-chart=tlb]').getAttribute('data-points')
      .then(Number)).toBeGreaterThan(0);
    mkdirSync(SHOTS, { recursive: true });
    // The terminals, counters and charts of both VMs, at a laptop's width.
    await page.setViewportSize({ width: 1100, height: 1000 });
    await page.waitForTimeout(300);
    const top = await page.evaluate(() =>
      document.querySelector('#vm1 .term')!.getBoundingClientRect().top + window.scrollY);
    await page.screenshot({ path: join(SHOTS, 'side-by-side.png'), fullPage: true,
      clip: { x: 0, y: top - 8, width: 1100, height: 900 } });
    await page.setViewportSize({ width: 1400, height: 1000 });
  });

  it('says what a dropped file is and why it cannot boot', async () => {
    // A 64-bit x86-64 ELF header (System V ABI: ELFCLASS64 = 2, e_machine EM_X86_64 = 62).
    const b = new Uint8Array(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    b[16] = 2; b[18] = 62;
    await dropFile(2, 'vmlinux', b);
    const alert = vm(2).locator('[role=alert]');
    await expect.poll(() => alert.innerText(), { timeout: 15_000 }).toMatch(
      /vmlinux is a 64-bit ELF file for x86-64 with no Multiboot header/);
    await expect(vm(2).getAttribute('data-state')).resolves.toBe('error');
  });

  it('boots a dropped OVA package: its kernel, command line and disk', async () => {
    await dropFile(2, 'jeos.ova', readFileSync(join(REPO, 'appliances/jeos/jeos.ova')));
    await expect.poll(() => vm(2).locator('.status').first().innerText(), { timeout: 30_000 })
      .toMatch(/powered off.*jeos\.ova: OVA package "jeos", Multiboot kernel jeos\.elf/);
    // The appliance's command line (appliances/jeos/vm.json) chose these workloads; the disk
    // workload reads back what it wrote to the package's disk.
    const out = await consoleOf(2);
    expect(out).toMatch(/\nwl syscall iters=200 /);
    expect(out).toMatch(/\nwl disk iters=8 .*verify=ok/);
    expect(out).not.toMatch(/\nwl callret /);
  });

  // Signed appliances (DSP0243 5.2), checked in the page with WebCrypto: jeos.ova with a
  // certificate file made by OpenSSL over its manifest, then the same with one digit of
  // the signature changed.
  it.skipIf(!hasTool('openssl'))('shows who signed a dropped OVA; refuses a bad signature',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-web-sign-'));
      try {
        const run = (cmd: string, args: string[]) =>
          execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        run('tar', ['xf', join(REPO, 'appliances/jeos/jeos.ova')]);
        run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
          '-subj', '/O=Example/CN=Web Signer', '-keyout', 'key.pem', '-out', 'cert.pem']);
        const hex = run('openssl', ['dgst', '-sha256', '-sign', 'key.pem', '-hex', 'jeos.mf'])
          .trim().replace(/^.*= /, '');
        const pack = (sig: string, ova: string) => {
          writeFileSync(join(dir, 'jeos.cert'),
            `SHA256(jeos.mf)= ${sig}\n${readFileSync(join(dir, 'cert.pem'), 'utf8')}`);
          run('tar', ['cf', ova, '--format=ustar', 'jeos.ovf', 'jeos.mf', 'jeos.cert',
            'disk.vmdk', 'jeos.elf']);
          return readFileSync(join(dir, ova));
        };
        await dropFile(2, 'signed.ova', pack(hex, 'signed.ova'));
        await expect.poll(() => vm(2).locator('.status').first().innerText(),
          { timeout: 30_000 }).toMatch(
          /signed\.ova: OVA package "jeos", .*signature verified, signed by O=Example, CN=Web Signer \(self-signed\)/);
        const bad = (hex[0] === '0' ? '1' : '0') + hex.slice(1);
        await dropFile(2, 'bad.ova', pack(bad, 'bad.ova'));
        const alert = vm(2).locator('[role=alert]');
        await expect.poll(() => alert.innerText(), { timeout: 15_000 }).toMatch(
          /bad\.ova: certificate jeos\.cert: signature NOT verified: the signature does not match the manifest/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

  it('boots a dropped disk image through the firmware, printing what SeaBIOS printed', async () => {
    const fw = join(REPO, 'guests/firmware/tests');
    const image: Uint8Array = makeDisk(readFileSync(join(fw, 'diskboot.bin')));
    await dropFile(2, 'disk.img', image);
    await expect.poll(() => vm(2).locator('.status').first().innerText(), { timeout: 30_000 })
      .toMatch(/exited with status 1: .*disk\.img: a raw disk image, booted by the bundled/);
    // Recorded under QEMU with SeaBIOS (guests/firmware/tests/diskboot.expected.txt).
    const expected = readFileSync(join(fw, 'diskboot.expected.txt'), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#'));
    expect((await consoleOf(2)).split(/\r?\n/).filter(Boolean)).toEqual(expected);
    await expect(vm(2).locator('[role=alert]').innerText()).resolves.toBe('');
  });

  it('shows why a dropped guest died, its console as under QEMU', async () => {
    await dropFile(2, 'triplefault.bin',
      readFileSync(join(REPO, 'guests/systests/triplefault.bin')));
    const alert = vm(2).locator('[role=alert]');
    await expect.poll(() => alert.innerText(), { timeout: 15_000 })
      .toMatch(/^The guest shut down: the CPU shut down: /);
    // QEMU's output for the same kernel (guests/systests/expected/, recorded under QEMU 7.2).
    const expected = readFileSync(join(REPO, 'guests/systests/expected/triplefault.txt'), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#'));
    expect((await consoleOf(2)).split(/\r?\n/).filter(Boolean)).toEqual(expected);
  });

  it('boots a dropped kernel with a local APIC when its box is checked', async () => {
    await vm(2).locator('select[name=mode]').selectOption('native');
    await vm(2).locator('input[name=apic]').check();
    await dropFile(2, 'apic.bin', readFileSync(join(REPO, 'guests/systests/apic.bin')));
    await expect.poll(() => vm(2).locator('.status').first().innerText(), { timeout: 30_000 })
      .toMatch(/exited with status 1/);
    // QEMU's output with the SDM's lines where QEMU departs (guests/systests/expected/apic.sdm).
    const expected = readFileSync(join(REPO, 'guests/systests/expected/apic.txt'), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#'));
    expect((await consoleOf(2)).split(/\r?\n/).filter(Boolean)).toEqual(expected);
    await vm(2).locator('input[name=apic]').uncheck();
  });

  it('fits a phone\'s width, and leaves a screenshot', async () => {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'page.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const wide = await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      const out = [`scrollWidth ${document.documentElement.scrollWidth} of ${w}`];
      for (const e of document.querySelectorAll('body *')) {
        if (e.closest('.table-wrap')) continue;
        const r = e.getBoundingClientRect();
        if (r.right > w + 1) out.push(`${e.tagName}.${e.className} ${Math.round(r.right)}`);
      }
      return out;
    });
    expect(wide).toEqual([`scrollWidth 390 of 390`]);
    await page.screenshot({ path: join(SHOTS, 'phone.png') });
    expect(errors).toEqual([]);
  });
});
