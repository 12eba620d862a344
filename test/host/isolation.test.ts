/**
 * Many VMs on one host, each in its own worker thread: a VM that triple-faults, one that
 * spins, one that floods its console and one that takes all of its memory each end (or are
 * contained) with their reason, while two JeOS VMs beside them print exactly what JeOS
 * prints alone in this process (the reference: the same kernel and command line on a
 * Machine of its own). The guests are guests/host/*.asm.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { Machine } from '../../bindings/machine/machine.js';
import { jeos } from '../../bindings/node.js';
import { Host } from '../../bindings/host/host.js';

const root = join(__dirname, '..', '..');
const guest = (n: string) => join(root, 'guests/host', `${n}.bin`);
const CMDLINE = 'iters=200 forkwait=20 forkexec=10 compute=20';

async function alone(cmdline: string): Promise<string> {
  const { kernel, disk } = jeos();
  let out = '';
  const m = await Machine.create({ ramBytes: 64 << 20, kernel, cmdline, disks: [disk],
    serialOut: (b) => { out += String.fromCharCode(b); } });
  expect(m.run(400_000_000)).toEqual({ kind: 'poweroff' });
  return out;
}

describe('isolation between the VMs of a host', () => {
  const host = new Host({ threads: 2, memoryBudget: 512 << 20 });
  afterAll(() => host.close());

  it('each bad guest ends with its reason; the others print their normal output', async () => {
    const reference = await alone(CMDLINE);
    const ids = await Promise.all([
      host.start({ name: 'triple', kernel: guest('triple'), memMiB: 4 }),
      host.start({ name: 'spin', kernel: guest('spin'), memMiB: 4, maxInstructions: 300e6 }),
      host.start({ name: 'flood', kernel: guest('flood'), memMiB: 4, consoleLimit: 4 << 20 }),
      host.start({ name: 'memhog', kernel: guest('memhog'), memMiB: 8 }),
      host.start({ name: 'jeos1', cmdline: CMDLINE }),
      host.start({ name: 'jeos2', cmdline: CMDLINE }),
    ]);
    expect(ids).toHaveLength(6);
    // Beyond the budget: refused with the reason, nothing started.
    await expect(host.start({ name: 'greedy', memMiB: 1024 })).rejects
      .toThrow(/greedy: 1024 MiB of RAM exceeds the host's memory budget/);
    const text = (n: string) => new TextDecoder('latin1').decode(host.console(n));
    const [j1, j2] = await Promise.all([host.wait('jeos1'), host.wait('jeos2')]);
    for (const j of [j1, j2]) {
      expect(j.state).toBe('ended');
      expect(j.reason).toEqual({ kind: 'poweroff' });
    }
    expect(text('jeos1')).toBe(reference);
    expect(text('jeos2')).toBe(reference);
    const all = await host.waitAll();
    const by = (n: string) => all.find((v) => v.name === n)!;
    // Triple fault (SDM vol. 3A, 6.15): its VM shuts down, alone.
    expect(by('triple').reason).toMatchObject({ kind: 'shutdown' });
    expect(text('triple')).toBe('triple: faulting now\n');
    // The spinner is stopped by its instruction limit, having had only its share.
    expect(by('spin').reason).toEqual({ kind: 'limit' });
    expect(by('spin').instructions).toBeGreaterThanOrEqual(300e6);
    // The flood ends at its console limit; the host kept only its last MiB.
    expect(by('flood').reason).toMatchObject({ kind: 'console-flood' });
    expect(by('flood').consoleBytes).toBeGreaterThanOrEqual(4 << 20);
    expect(host.console('flood').length).toBeLessThanOrEqual(1 << 20);
    expect(by('flood').consoleDropped).toBe(by('flood').consoleBytes - (1 << 20));
    // The memory hog finds the end of its own 8 MiB and nothing beyond.
    expect(text('memhog')).toBe('memhog: RAM ends at 0x00800000\n');
    expect(by('memhog').reason).toEqual({ kind: 'exit', status: 1 });
    const s = host.schedulerStats();
    expect(s.threads).toBe(2);
  }, 180_000);

  it('pauses, resumes and stops a VM while the others run', async () => {
    const id = await host.start({ name: 'spin2', kernel: guest('spin'), memMiB: 4 });
    await new Promise((r) => setTimeout(r, 200));
    host.pause(id);
    await new Promise((r) => setTimeout(r, 50));
    const at = host.info(id).instructions;
    expect(at).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(host.info(id).state).toBe('paused');
    expect(host.info(id).instructions).toBe(at);
    host.resume(id);
    await new Promise((r) => setTimeout(r, 200));
    expect(host.info(id).instructions).toBeGreaterThan(at);
    host.stop(id);
    const end = await host.wait(id);
    expect(end.reason).toEqual({ kind: 'stopped', why: 'stopped by the host' });
  }, 30_000);
});
