/**
 * The example appliance (appliances/jeos/jeos.ova, built by appliances/jeos/build.ts):
 * imported like any OVA, its VM configuration boots on the platform and JeOS runs the
 * workloads its command line names, writing to the imported disk (the package's
 * streamOptimized VMDK turned into a qcow2 working copy, which qemu-img checks when it is
 * installed).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { importOva } from '../../bindings/ovf/node/files.js';
import { prepareMachine } from '../../bindings/config/node-machine.js';
import { Machine } from '../../bindings/machine/machine.js';
import { parseWorkloadLines } from '../../bindings/machine/workloads.js';
import { REPO, hasQemuImg, run, tempDir } from './helpers.js';

describe('the JeOS example appliance', () => {
  it('imports, boots from its VM configuration and runs its workloads', async () => {
    const dir = join(tempDir(), 'jeos');
    const r = await importOva(join(REPO, 'appliances/jeos/jeos.ova'), dir);
    expect(r.package.members.every((m) => m.verified === 'SHA256')).toBe(true);
    expect(r.config.boot).toEqual({
      firmware: 'multiboot',
      kernel: 'jeos.elf',
      cmdline: 'iters=200 disk=8 only=syscall,pgfault,disk',
    });
    // The package's streamOptimized VMDK became a writable qcow2 working copy.
    expect(r.config.disks).toEqual([
      {
        controller: { type: 'ide', channel: 0, unit: 0 },
        media: 'disk',
        path: 'disk.qcow2',
        format: 'qcow2',
        capacityBytes: 524288,
      },
    ]);

    let text = '';
    const prepared = prepareMachine(r.config, dir, {
      serialOut: (b) => {
        text += String.fromCharCode(b);
      },
    });
    expect(prepared.unsupported).toEqual([]);
    try {
      const m = await Machine.create(prepared.machine);
      const stop = m.run(400_000_000);
      expect(stop, text).toEqual({ kind: 'poweroff' }); // all passed: JeOS powers off
    } finally {
      prepared.close();
    }
    expect(text).toContain('jeos exit code=0');
    const rows = parseWorkloadLines(text);
    expect(rows.map((w) => w.name)).toEqual(['syscall', 'pgfault', 'disk']);
    for (const w of rows) expect(w.status, w.name).toBe('ok');
    expect(rows.map((w) => w.iters)).toEqual([200, 200, 8]);
    // The disk workload wrote to the working copy; qemu-img finds it consistent.
    if (hasQemuImg) run('qemu-img', ['check', '-f', 'qcow2', join(dir, 'disk.qcow2')]);
  });
});

describe('the JeOS example appliance from the command line', () => {
  it('ovf import prints the wasmvisor run command that boots it, ' +
      'and that command does', async () => {
    const { main } = await import('../../bindings/cli/main.js');
    const dir = join(tempDir(), 'jeos');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    (process.stdout as any).write = (s: string | Uint8Array) => {
      out.push(typeof s === 'string' ? s : Buffer.from(s).toString());
      return true;
    };
    let importStatus: number;
    let runStatus: number;
    try {
      importStatus = await main(['ovf', 'import', join(REPO, 'appliances/jeos/jeos.ova'), dir]);
      const printed = out.join('');
      expect(printed).toContain(`boot it with: wasmvisor run --config ${join(dir, 'vm.json')}`);
      out.length = 0;
      runStatus = await main(['run', '--config', join(dir, 'vm.json')]);
    } finally {
      (process.stdout as any).write = write;
    }
    expect(importStatus).toBe(0);
    // All passed: JeOS powers off (ACPI S5), and the process exits 0, as QEMU's does.
    expect(runStatus).toBe(0);
    expect(out.join('')).toMatch(/wl disk iters=8 .*verify=ok/);
    expect(out.join('')).toContain('jeos exit code=0');
  });
});
