/**
 * The host's scale benchmark (`wasmvisor host bench`): the aggregate guest MIPS of N busy
 * VMs (guests/host/spin.bin, a two-instruction loop) on one host thread and on two, and
 * what an idle JeOS VM costs the host (resident memory and CPU while it waits at its
 * prompt).
 */
import { Host } from './host.js';
import { packaged } from '../cli/paths.js';

export interface HostBenchResult {
  busyVms: number;
  instructionsPerVm: number;
  /** Aggregate guest MIPS by host threads. */
  mips: { threads: number; mips: number; seconds: number; fairness: number }[];
  idleVms: number;
  /** Resident set growth per idle VM (MiB) and its guest RAM (MiB). */
  rssPerIdleVmMiB: number;
  guestRamMiB: number;
  /** Host CPU per idle VM, percent of one core, over `idleSeconds`. */
  cpuPerIdleVmPercent: number;
  idleSeconds: number;
}

const spin = packaged('guests/host/spin.bin');

async function busy(threads: number, vms: number, each: number) {
  const host = new Host({ threads });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: vms }, (_, i) =>
    host.start({ name: `busy${i}`, kernel: spin, memMiB: 4, maxInstructions: each })));
  const list = await host.waitAll();
  const seconds = (performance.now() - t0) / 1000;
  const total = list.reduce((n, v) => n + v.instructions, 0);
  const fairness = host.schedulerStats().fairness;
  await host.close();
  return { threads, mips: total / seconds / 1e6, seconds, fairness };
}

export async function hostBench(o: { busy: number; idle: number; instructions?: number }):
  Promise<HostBenchResult> {
  const each = o.instructions ?? 300_000_000;
  const mips = [await busy(1, o.busy, each), await busy(2, o.busy, each)];
  // Idle VMs: JeOS at its prompt, waiting for input (its timer ticks go on).
  const ramMiB = 16;
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const host = new Host({ threads: 2 });
  const ids = await Promise.all(Array.from({ length: o.idle }, (_, i) => host.start({
    name: `idle${i}`, cmdline: 'shell=1 only=syscall iters=10', memMiB: ramMiB,
    interactive: true,
  })));
  const text = (id: number) => new TextDecoder().decode(host.console(id));
  for (let i = 0; i < 600 && !ids.every((id) => text(id).includes('jeos> ')); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  const rss1 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const idleSeconds = 2;
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  await host.close();
  return {
    busyVms: o.busy, instructionsPerVm: each, mips, idleVms: o.idle,
    rssPerIdleVmMiB: (rss1 - rss0) / o.idle / 2 ** 20, guestRamMiB: ramMiB,
    cpuPerIdleVmPercent: (cpu.user + cpu.system) / 1e6 / idleSeconds / o.idle * 100,
    idleSeconds,
  };
}

export function formatHostBench(r: HostBenchResult): string {
  const lines = [`${r.busyVms} busy VMs, ${r.instructionsPerVm.toLocaleString('en-US')} ` +
    'instructions each:'];
  for (const m of r.mips) {
    lines.push(`  ${m.threads} thread${m.threads > 1 ? 's' : ''}: ${m.mips.toFixed(1)} MIPS ` +
      `aggregate (${m.seconds.toFixed(2)} s, fairness ${m.fairness.toFixed(3)})`);
  }
  lines.push(`  speed-up on 2 threads: ${(r.mips[1].mips / r.mips[0].mips).toFixed(2)}x`);
  lines.push(`${r.idleVms} idle JeOS VMs (${r.guestRamMiB} MiB of guest RAM each): ` +
    `${r.rssPerIdleVmMiB.toFixed(1)} MiB resident each, ` +
    `${r.cpuPerIdleVmPercent.toFixed(2)}% of a core each`);
  return lines.join('\n') + '\n';
}
