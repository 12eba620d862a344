/**
 * The reference tools the tests compare against, and how each is found. Probed once per
 * test run by tools-setup.ts (vitest's globalSetup); tests ask through tools.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = (cmd: string, args: string[]): boolean =>
  spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/** A 32-bit C program compiled and run on this machine (what the host-CPU references need). */
function gccM32(): boolean {
  if (process.platform !== 'linux' || !['x64', 'ia32'].includes(process.arch)) return false;
  const dir = mkdtempSync(join(tmpdir(), 'gcc-m32-'));
  try {
    execFileSync('gcc', ['-m32', '-static', '-x', 'c', '-o', join(dir, 't'), '-'],
      { input: 'int main(void){return 0;}', stdio: ['pipe', 'ignore', 'ignore'] });
    execFileSync(join(dir, 't'));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where Debian's chromium package puts the browser (WASMVISOR_CHROMIUM overrides it). */
export const CHROMIUM = process.env.WASMVISOR_CHROMIUM ?? '/usr/bin/chromium';

export const TOOLS = {
  'qemu-img': { probe: () => runs('qemu-img', ['--version']), pkg: 'qemu-utils' },
  'qemu-io': { probe: () => runs('qemu-io', ['--version']), pkg: 'qemu-utils' },
  'qemu-system-i386': {
    probe: () => runs('qemu-system-i386', ['--version']), pkg: 'qemu-system-x86',
  },
  seabios: { probe: () => existsSync('/usr/share/seabios/bios.bin'), pkg: 'seabios' },
  bochs: { probe: () => runs('sh', ['-c', 'command -v bochs']), pkg: 'bochs' },
  nasm: { probe: () => runs('nasm', ['-v']), pkg: 'nasm' },
  'gcc -m32': { probe: gccM32, pkg: 'gcc-multilib' },
  ld: { probe: () => runs('ld', ['--version']), pkg: 'binutils' },
  objdump: { probe: () => runs('objdump', ['--version']), pkg: 'binutils' },
  python3: { probe: () => runs('python3', ['--version']), pkg: 'python3' },
  'GNU tar': {
    probe: () => /GNU tar/.test(String(spawnSync('tar', ['--version']).stdout)), pkg: 'tar',
  },
  sha256sum: { probe: () => runs('sha256sum', ['--version']), pkg: 'coreutils' },
  // Debian's chromium, driven by playwright-core for the web page's tests.
  chromium: { probe: () => existsSync(CHROMIUM), pkg: 'chromium' },
  isoinfo: { probe: () => runs('sh', ['-c', 'command -v isoinfo']), pkg: 'genisoimage' },
  openssl: { probe: () => runs('openssl', ['version']), pkg: 'openssl' },
  // Debian's gdb, attached to the GDB stub (--gdb).
  gdb: { probe: () => runs('gdb', ['--version']), pkg: 'gdb' },
  // Debian 12's own i386 kernel and a busybox initramfs, fetched by tools/linux/fetch.sh.
  'debian-linux': {
    probe: () => ['vmlinuz', 'initrd.cpio'].every((f) => existsSync(join(LINUX_CACHE, f))),
    pkg: 'linux-image-686:i386 and busybox-static:i386, fetched by tools/linux/fetch.sh',
  },
} as const;

/** Where tools/linux/fetch.sh leaves the kernel and the initramfs (gitignored). */
export const LINUX_CACHE = join(__dirname, '../../tools/linux/cache');

export type Tool = keyof typeof TOOLS;

export function probeTools(): Record<Tool, boolean> {
  return Object.fromEntries(Object.entries(TOOLS).map(([name, t]) => [name, t.probe()])) as
    Record<Tool, boolean>;
}

/** CI=true (or 1): a missing tool fails the run instead of skipping what needs it. */
export function underCi(): boolean {
  return ['true', '1'].includes(String(process.env.CI ?? '').toLowerCase());
}
