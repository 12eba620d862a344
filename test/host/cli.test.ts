/**
 * `wasmvisor host`: start VMs from files and `--vm` specs, JSON output with each VM's end
 * reason; a host serving its management API, driven by `host list/pause/resume/stop/console`
 * from another process while the VMs run.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runCli, repoRoot } from '../helpers/cli.js';

const guest = (n: string) => join(repoRoot, 'guests/host', `${n}.bin`);

describe('wasmvisor host', () => {
  it('start: runs the VMs to their ends and prints them as JSON', () => {
    const r = runCli(['host', 'start', '--threads', '2', '--json', '--quiet', guest('triple'),
      '--vm', `file=${guest('memhog')},name=hog,mem=8`,
      '--vm', `file=${guest('spin')},name=spinner,max=20000000,weight=512`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { vms, scheduler } = JSON.parse(r.stdout);
    const by = (n: string) => vms.find((v: { name: string }) => v.name === n);
    expect(by('vm1').reason).toEqual({ kind: 'shutdown', why: 'triple fault' });
    expect(by('hog').reason).toEqual({ kind: 'exit', status: 1 });
    expect(by('spinner')).toMatchObject({ reason: { kind: 'limit' }, weight: 512 });
    expect(by('spinner').instructions).toBeGreaterThanOrEqual(20_000_000);
    expect(scheduler.threads).toBe(2);
  }, 60_000);

  it('starts an OVF appliance, whose console is that of `run --config` on its vm.json', () => {
    const ova = join(repoRoot, 'appliances/jeos/jeos.ova');
    const r = runCli(['host', 'start', '--json', '--quiet', ova]);
    expect(r.status).toBe(0);
    const [vm] = JSON.parse(r.stdout).vms;
    // The appliance's JeOS runs its checks and powers off (appliances/jeos/vm.json).
    expect(vm).toMatchObject({ name: 'jeos', state: 'ended', reason: { kind: 'poweroff' } });
    // On copies: the appliance's disk workload writes to its disk.
    const dir = mkdtempSync(join(tmpdir(), 'wv-host-'));
    mkdirSync(join(dir, 'appliances/jeos'), { recursive: true });
    mkdirSync(join(dir, 'guests/jeos'), { recursive: true });
    for (const f of ['appliances/jeos/vm.json', 'guests/jeos/jeos.elf', 'guests/jeos/disk.img']) {
      copyFileSync(join(repoRoot, f), join(dir, f));
    }
    const alone = runCli(['run', '--config', join(dir, 'appliances/jeos/vm.json')]);
    expect(vm.consoleBytes).toBe(Buffer.byteLength(alone.stdout, 'latin1'));
  }, 60_000);

  it('serves its API: list, pause, resume, console and stop from another process', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx',
      join(repoRoot, 'test/helpers/cli-entry.ts'), 'host', 'start', '--listen', '0',
      '--vm', `file=${guest('spin')},name=s1`, '--vm', `file=${guest('spin')},name=s2`],
    { cwd: repoRoot });
    let err = '';
    const url = await new Promise<string>((ok, fail) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /management API on (http:\S+)/.exec(err);
        if (m) ok(m[1]);
      });
      child.on('exit', () => fail(new Error(err)));
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const c = (...a: string[]) => runCli(['host', ...a, '--connect', url]);
    // Both started: wait for the second.
    for (let i = 0; i < 100 && !/started s2/.test(err); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const list = JSON.parse(c('list', '--json').stdout);
    expect(list.map((v: { name: string }) => v.name)).toEqual(['s1', 's2']);
    expect(c('pause', 's1').stdout).toBe('s1: paused\n');
    expect(c('list').stdout).toMatch(/s1\s+paused/);
    expect(c('resume', 's1').stdout).toBe('s1: running\n');
    expect(c('console', 's2').stdout).toBe('spin: spinning\n');
    expect(c('stop', 'nope').stderr).toContain('no VM nope');
    // A snapshot of a running VM, taken through the API, is a valid snapshot file.
    const snap = join(mkdtempSync(join(tmpdir(), 'wv-host-')), 's2.wvsnap');
    expect(c('snapshot', 's2', snap).stdout).toBe(`s2: snapshot written to ${snap}\n`);
    expect(runCli(['snapshot', 'info', snap]).stdout).toContain('label: wasmvisor host');
    expect(c('stop', 's1').stdout).toBe('s1: ended\n');
    expect(c('stop', 's2').stdout).toBe('s2: ended\n');
    const status = await new Promise((ok) => child.on('exit', ok));
    expect(status).toBe(0);
    expect(out).toMatch(/s1\s+ended.*stopped: stopped by the host/);
  }, 60_000);
});
