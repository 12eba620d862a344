/**
 * The mode plumbing: the options `mode`, `paging`, `tags`, `pwc`, `ntlb` with their
 * defaults and their refusals, the same in Machine.create, vm.json and `wasmvisor run`;
 * native mode is today's machine; vtx and svm need a core with the host-side exports.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Machine, VmmOptionError, resolveVmmOptions, createCore, vmConfig,
} from '../../bindings/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';
import { runCliInProcess } from '../helpers/cli.js';
import { guestImage } from '../system/guests.js';

const root = join(__dirname, '..', '..');
const hello = guestImage('hello');

async function available(mode: 'vtx' | 'svm'): Promise<boolean> {
  return modeAvailable(await createCore({ ramBytes: 2 << 20 }), mode);
}

function optionError(f: () => unknown): VmmOptionError {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(VmmOptionError);
    return e as VmmOptionError;
  }
  throw new Error('no error');
}

describe('virtualization options', () => {
  it('default to native, and to nested paging with every cache and tags on in vtx/svm', () => {
    expect(resolveVmmOptions({})).toEqual(
      { mode: 'native', paging: undefined, tags: true, pwc: true, ntlb: true });
    for (const mode of ['vtx', 'svm'] as const) {
      expect(resolveVmmOptions({ mode })).toEqual(
        { mode, paging: 'nested', tags: true, pwc: true, ntlb: true });
      expect(resolveVmmOptions({ mode, paging: 'nested', tags: false, pwc: false, ntlb: false }))
        .toEqual({ mode, paging: 'nested', tags: false, pwc: false, ntlb: false });
    }
  });

  it('take shadow paging for vtx and svm (issue 10)', () => {
    for (const mode of ['vtx', 'svm'] as const) {
      expect(resolveVmmOptions({ mode, paging: 'shadow' })).toEqual(
        { mode, paging: 'shadow', tags: true, pwc: true, ntlb: true });
    }
  });

  it('refuse bad values and options that mean nothing in native mode', () => {
    const cases: [object, string, RegExp][] = [
      [{ mode: 'kvm' }, 'bad-mode', /mode "kvm": must be "native", "vtx", "svm" or "pv"/],
      [{ mode: 'vtx', paging: 'ept' }, 'bad-paging', /paging "ept": must be "shadow" or "nested"/],
      [{ mode: 'svm', tags: 'no' }, 'bad-flag', /tags must be true or false/],
      [{ paging: 'nested' }, 'not-in-native', /^paging: applies to mode "vtx" or "svm"/],
      [{ mode: 'native', tags: false, ntlb: true }, 'not-in-native', /^tags, ntlb: apply to/],
    ];
    for (const [o, code, msg] of cases) {
      const e = optionError(() => resolveVmmOptions(o));
      expect(e.code, JSON.stringify(o)).toBe(code);
      expect(e.message).toMatch(msg);
    }
    const nested = optionError(() => resolveVmmOptions({ mode: 'vtx' }, true));
    expect(nested.code).toBe('nested-virtualization');
  });

  it('are checked by Machine.create with the same typed error', async () => {
    const base = { ramBytes: 4 << 20, kernel: hello };
    await expect(Machine.create({ ...base, mode: 'vtx', paging: 'ept' as 'shadow' }))
      .rejects.toMatchObject({ name: 'VmmOptionError', code: 'bad-paging' });
    await expect(Machine.create({ ...base, tags: false }))
      .rejects.toMatchObject({ code: 'not-in-native' });
    const m = await Machine.create(base);
    expect(m.vmmOptions.mode).toBe('native');
    expect(m.vcpu.ops.mode).toBe('native');
    expect(m.stats().mode).toBe('native');
    expect(m.stats().vmm).toBeUndefined();
  });

  for (const mode of ['vtx', 'svm'] as const) {
    it(`${mode}: a core without its host side says the mode is not available in this build`,
      async () => {
        const has = await available(mode);
        const p = Machine.create({ ramBytes: 4 << 20, kernel: hello, mode });
        if (has) {
          const m = await p;
          expect(m.vcpu.ops.mode).toBe(mode);
          return;
        }
        await expect(p).rejects.toMatchObject({
          name: 'VmmOptionError', code: 'mode-not-available',
          message: expect.stringMatching(new RegExp(`^mode "${mode}" is not available in this build`)),
        });
      });
  }
});

describe('virtualization in vm.json', () => {
  const base = {
    version: 1, name: 'g', cpus: 1, memoryMiB: 16,
    boot: { firmware: 'multiboot', kernel: 'k.elf' }, disks: [], nics: [], serial: [],
  };
  it('accepts the options and names each problem at its JSON path', () => {
    expect(vmConfig.checkVmConfig({ ...base, virtualization: { mode: 'svm', pwc: false } }))
      .toEqual([]);
    const problems = (virtualization: unknown) =>
      vmConfig.checkVmConfig({ ...base, virtualization }).map((p) => p.path);
    expect(problems('vtx')).toEqual(['$.virtualization']);
    expect(problems({ mode: 'hvm' })).toEqual(['$.virtualization.mode']);
    expect(problems({ mode: 'vtx', paging: 'shadow' })).toEqual([]);
    expect(problems({ mode: 'vtx', paging: 'ept' })).toEqual(['$.virtualization.paging']);
    expect(problems({ mode: 'vtx', ntlb: 1 })).toEqual(['$.virtualization.ntlb']);
    expect(problems({ mode: 'vtx', vpid: true })).toEqual(['$.virtualization.vpid']);
    const msg = vmConfig.checkVmConfig({ ...base, virtualization: { mode: 'svm', paging: 'ept' } });
    expect(msg[0].message).toMatch(/must be "shadow" or "nested"/);
  });
});

describe('wasmvisor run --mode --paging --no-tags --no-pwc --no-ntlb', () => {
  const kernel = join(root, 'guests/systests/hello.bin');
  const run = (args: string[]) => runCliInProcess(['run', '--kernel', kernel, ...args]);

  it('refuses bad values and combinations with exit status 2 and a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['--mode', 'kvm'], /--mode kvm: must be native, vtx, svm or pv/],
      [['--mode', 'vtx', '--paging', 'ept'], /--paging ept: must be nested or shadow/],
      [['--no-tags'], /--no-tags: applies to --mode vtx or svm/],
      [['--paging', 'nested', '--no-pwc'], /--paging, --no-pwc: apply to --mode vtx or svm/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });

  it('runs native mode as before, with the mode in --stats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-'));
    const stats = join(dir, 's.json');
    const r = await run(['--mode', 'native', '--stats', stats]);
    // QEMU's exit status for this guest (its fixture): isa-debug-exit (0 << 1) | 1.
    expect(r.status).toBe(1);
    const json = JSON.parse(readFileSync(stats, 'utf8'));
    expect(json.stop).toEqual({ kind: 'exit', status: 1 });
    expect(json.mode).toBe('native');
    expect(json.vmm).toBeUndefined();
  });
});
