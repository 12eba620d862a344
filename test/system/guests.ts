/**
 * The system test guests (guests/systests, see its README), their fixtures, and one runner
 * that starts a guest under each engine the same way: wasmvisor (the test harness), QEMU
 * and Bochs (the references: their fixtures are recorded with these same commands by
 * scripts/build-systests.sh --record) and v86.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Core, CoreOptions } from '../../bindings/core/types.js';
import { runGuest, type GuestRun, type HarnessOptions } from '../../bindings/testing/harness.js';
import { runV86, type V86Run } from '../../bindings/testing/v86.js';

/** Recorded under Bochs: QEMU TCG does not check segment limits, #AC and some error codes. */
export const BOCHS_GUESTS = [
  'limits', 'strict', 'tss',
  'segload', 'gates', 'faults', 'bigreal', 'sysregs', 'tasks', 'v86', 'vmxinsns',
  'vmx-exits', 'vmx-entry', 'vmx-events', 'vmx-ept', 'vmx-irq', 'vmx-state', 'vmx-real',
  'vmx-nmi',
] as const;

/** Guests that need a CPU feature off by default: VMX (wasmvisor's Core.setVmx, Bochs' cpu
 *  model corei7_sandy_bridge_2600k, the model its fixture names). */
export const VMX_GUESTS: readonly string[] = [
  'vmxinsns', 'vmx-exits', 'vmx-entry', 'vmx-events', 'vmx-ept', 'vmx-irq', 'vmx-state',
  'vmx-real', 'vmx-nmi',
];
const BOCHS_VMX_CPU = 'corei7_sandy_bridge_2600k';

/**
 * AMD-V guests (guests/systests/svm-*.asm, svm.inc): L1 hypervisors that run an L2 guest
 * through a list of #VMEXITs. They need SVM: wasmvisor's Core.setSvm, Bochs' cpu model
 * phenom_8650_toliman, QEMU's `-cpu phenom` (both offer SVM with nested paging, neither
 * NRIPS nor decode assists; the guests print CPUID's SVM, NP and NRIPS bits first).
 * Each is recorded under both references: expected/NAME.txt holds the one that follows
 * the AMD APM where they differ (SVM_REFERENCE), expected/NAME.bochs.txt or
 * NAME.qemu.txt the other; test/system/references.test.ts lists the lines that differ
 * and why (SVM_DIFFERENCES).
 */
export const SVM_GUESTS = [
  'svm-exits', 'svm-events', 'svm-npt', 'svm-vmrun', 'svm-intr', 'svm-state',
] as const;

/** The reference each SVM guest's expected/NAME.txt was recorded under: the one that
 *  follows the APM on the lines where the two differ (see SVM_DIFFERENCES). */
export const SVM_REFERENCE: Record<(typeof SVM_GUESTS)[number], 'bochs' | 'qemu'> = {
  'svm-exits': 'bochs',
  'svm-events': 'qemu',
  'svm-npt': 'bochs',
  'svm-vmrun': 'bochs',
  'svm-intr': 'bochs',
  'svm-state': 'bochs',
};
const BOCHS_SVM_CPU = 'phenom_8650_toliman';
const QEMU_SVM_CPU = 'phenom';
const isSvm = (name: string): boolean => (SVM_GUESTS as readonly string[]).includes(name);

/** A line where Bochs departs from the manual: the fixture holds `sdm` (one line or several),
 *  Bochs prints `bochs`. */
export interface BochsDeparture { bochs: string; sdm: string }

/**
 * Where Bochs 2.7 departs from the Intel SDM in a Bochs-recorded guest, the fixture holds the
 * SDM's line (wasmvisor must print it) and guests/systests/expected/NAME.sdm lists each pair
 * with the SDM section that decides it ("- " Bochs' line, "+ " the SDM's; build-systests.sh
 * --record applies it). Today: vmx-exits, the operand-size bit 11 of the instruction
 * information of SGDT and LIDT (SDM vol. 3C 27.2.4, table 27-10: 1 for 32-bit code; Bochs
 * 2.7 leaves it 0); vmx-events, the monitor trap flag, which no Bochs 2.7 cpu model offers:
 * the fixture holds the MTF exits the SDM prescribes (25.5.2) where Bochs prints "not
 * offered" (wasmvisor offers MTF, issue 9).
 */
export function bochsDepartures(name: string): BochsDeparture[] {
  const file = new URL(`expected/${name}.sdm`, root);
  if (!existsSync(file)) return [];
  const out: BochsDeparture[] = [];
  let bochs: string | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('- ')) bochs = line.slice(2);
    else if (line.startsWith('+ ') && bochs !== null) {
      // several "+ " lines after one "- " line replace it together
      const last = out[out.length - 1];
      if (last && last.bochs === bochs) last.sdm += `\n${line.slice(2)}`;
      else out.push({ bochs, sdm: line.slice(2) });
    }
  }
  return out;
}

/** Bochs' output with its known departures replaced by the SDM's lines (each must occur). */
export function withSdmLines(name: string, bochsOutput: string): string {
  const lines = bochsOutput.split('\n');
  for (const d of bochsDepartures(name)) {
    const at = lines.indexOf(d.bochs);
    if (at < 0) throw new Error(`${name}: Bochs no longer prints ${JSON.stringify(d.bochs)}`);
    lines[at] = d.sdm;
  }
  return lines.join('\n');
}

/** Recorded under QEMU (v86 is compared with these and with the first three Bochs ones). */
export const QEMU_GUESTS = [
  'hello', 'pmode', 'mbinfo', 'segments', 'descriptors', 'exceptions', 'paging', 'rings',
  'holes', 'sysenter', 'realmode', 'realirq', 'pm16', 'modules', 'sysinsns', 'debug', 'irq',
  'triplefault', 'checkpoints', 'elf/elfkernel', 'elf/higherhalf', 'irqwin',
  // Shadow paging (issue 10): page tables written in every way.
  'ptables',
] as const;

/**
 * Guests whose reference output wasmvisor does not reach yet, with the reason and the
 * lines it must already print (the reference's output before the missing piece matters):
 * the test checks those lines and that the rest still differs, so a fix shows up as a
 * failure asking to move the guest back into SYSTEST_GUESTS.
 */
export const PENDING_GUESTS: Readonly<Record<string, { why: string; lines: number }>> = {
};

// ---- APIC (issue 13): guests that need the PC's interrupt controllers ----
/**
 * Recorded under QEMU, run on wasmvisor's Machine with `apic: true` (the local APIC, the
 * I/O APIC, the PIT and the MP/ACPI tables are the subject): where QEMU departs from the
 * specification (apic) or its machine from wasmvisor's (apic-tables), the fixture holds
 * the other line, listed with its reason in expected/NAME.sdm. apic-msi runs with QEMU's
 * `edu` test device (`-device edu`; wasmvisor's `edu: true`).
 */
export const PC_GUESTS = ['apic', 'apic-tables', 'apic-msi'] as const;
/** Guests that run on the Machine with its local APIC rather than on the bare harness. */
export const APIC_GUESTS: readonly string[] = [...PC_GUESTS, 'vmx-nmi'];

// Issue 9 (vmx-irq): guests whose interrupts must come when the PC's own timer fires run on
// a Machine (its PIT and 8259A pair, as under Bochs: IRQ 0 while L2 spins in `jmp $`), not
// on the test harness, whose scripted IRQ comes at the first open window instead.
// irqwin: STI's one-instruction window with IRQ0 pending (also under vtx and svm:
// test/vmm/irq-window.test.ts).
export const PIT_GUESTS: readonly string[] = ['vmx-irq', 'irqwin'];

export const SYSTEST_GUESTS: readonly string[] =
  [...QEMU_GUESTS, ...BOCHS_GUESTS, ...SVM_GUESTS, ...PC_GUESTS]
    .filter((g) => !(g in PENDING_GUESTS));

/** Same RAM as the references' runs (`qemu-system-i386 -m 128`, Bochs `megs: 128`). */
export const GUEST_RAM = 128 << 20;

const root = new URL('../../guests/systests/', import.meta.url);
const rootDir = fileURLToPath(root);

const imageFile = (name: string): string =>
  (name.startsWith('elf/') ? `${name}.elf` : `${name}.bin`);

export function guestImage(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(imageFile(name), root)));
}

/**
 * Boot arguments (and, for irq, the interrupt a PIC would raise) of the guests that take
 * some: the same as their QEMU command line in the fixture header. QEMU prefixes the
 * command line with the kernel's file name and passes each -initrd entry ("file args")
 * whole as the module string; these are given as such.
 */
export function guestBootOptions(name: string): HarnessOptions {
  // irq: the PIT's IRQ0 through the PIC, remapped by the guest to vector 0x20: first at
  // its HLT, then pending when it executes STI (taken after the next instruction).
  if (name === 'irq') {
    return { interrupts: [{ when: 'hlt', vector: 0x20 }, { when: 'window', vector: 0x20 }] };
  }
  if (name === 'realirq') return { interrupts: [{ when: 'hlt', vector: 0x20 }] };
  // svm-intr: IRQ0 (the PIT, through the PIC at 0x20) while the L2 guest halts; the L1
  // intercepts it (#VMEXIT INTR) and injects vector 0x20 itself.
  if (name === 'svm-intr') return { interrupts: [{ when: 'hlt', vector: 0x20 }] };
  if (name !== 'modules') return {};
  const file = (p: string) => new Uint8Array(readFileSync(new URL(p, root)));
  return {
    cmdline: 'modules.bin one two=2',
    modules: [
      { data: file('modules/a.txt'), string: 'modules/a.txt first module' },
      { data: file('modules/b.txt'), string: 'modules/b.txt' },
    ],
  };
}

/** The same boot arguments on QEMU's command line. */
function qemuBootArgs(name: string): string[] {
  if (isSvm(name)) return ['-cpu', QEMU_SVM_CPU];
  if (name === 'apic-msi') return ['-device', 'edu']; // QEMU's MSI test device
  return name === 'modules'
    ? ['-append', 'one two=2', '-initrd', 'modules/a.txt first module,modules/b.txt']
    : [];
}

export interface Fixture {
  /** The header lines ("# reference: QEMU ..."). */
  header: string[];
  output: string;
  /** QEMU's exit status; 0 when the reference shut down (a triple fault). */
  exitStatus: number;
}

/**
 * A guest's fixture: expected/NAME.txt, or with `reference` (SVM guests) the fixture that
 * reference printed: NAME.txt when it is SVM_REFERENCE's, else NAME.bochs.txt or
 * NAME.qemu.txt.
 */
export function fixture(name: string, reference?: 'bochs' | 'qemu'): Fixture {
  const base = name.replace(/^elf\//, '');
  const own = reference === undefined ||
    SVM_REFERENCE[name as keyof typeof SVM_REFERENCE] === reference;
  const file = new URL(`expected/${base}${own ? '' : `.${reference}`}.txt`, root);
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = lines.filter((l) => l.startsWith('# '));
  const output = lines.filter((l) => !l.startsWith('# ')).join('\n');
  const statusLine = header.find((l) => l.startsWith('# exit status')) ?? '';
  const status = /^# exit status: (\d+)/.exec(statusLine);
  if (!status) throw new Error(`fixture ${name} has no "# exit status" line`);
  return { header, output, exitStatus: Number(status[1]) };
}

/** Lines that differ, as "line N: expected | actual". */
export function lineDiff(expected: string, actual: string): string[] {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) out.push(`line ${i + 1}: ${JSON.stringify(a[i])} | ${JSON.stringify(b[i])}`);
  }
  return out;
}

/** The guest on a fresh wasmvisor core (RAM zeroed, as the references start), with its
 *  boot arguments. */
export async function runOnWasmvisor(name: string): Promise<GuestRun> {
  if (APIC_GUESTS.includes(name) || PIT_GUESTS.includes(name)) return runOnMachine(name);
  const mod = (await import('../../bindings/core/index.js')) as {
    createCore(o: CoreOptions): Promise<Core>;
  };
  const core = await mod.createCore({ ramBytes: GUEST_RAM });
  if (VMX_GUESTS.includes(name)) core.setVmx(true);
  if (isSvm(name)) {
    // Core.setSvm arrives with the AMD-V core (CPUID 8000_0001h ECX.SVM, 8000_000Ah).
    const svm = (core as Core & { setSvm?: (on: boolean) => void }).setSvm;
    if (typeof svm !== 'function') throw new Error(`${name} needs Core.setSvm (AMD-V)`);
    svm.call(core, true);
  }
  return runGuest(core, guestImage(name),
    { ...guestBootOptions(name), maxInstructions: 20_000_000 });
}

/** The guest booted by wasmvisor's Machine with its APICs (QEMU's -kernel on a `pc`),
 *  COM1's bytes as output, ended by isa-debug-exit. */
async function runOnMachine(name: string): Promise<GuestRun> {
  const { Machine } = await import('../../bindings/machine/machine.js');
  const chars: string[] = [];
  const m = await Machine.create({
    ramBytes: GUEST_RAM, kernel: guestImage(name), apic: APIC_GUESTS.includes(name),
    edu: name === 'apic-msi',
    cpu: VMX_GUESTS.includes(name) ? { vmx: true } : isSvm(name) ? { svm: true } : undefined,
    serialOut: (b) => { chars.push(String.fromCharCode(b)); },
  });
  const r = m.run(50_000_000);
  const ends: Record<string, GuestRun['end']> = {
    exit: 'exit', shutdown: 'shutdown', limit: 'budget', halted: 'hlt', invalid: 'invalid',
  };
  return {
    output: chars.join(''), exitStatus: r.kind === 'exit' ? r.status : null,
    end: ends[r.kind] ?? 'invalid', detail: JSON.stringify(r),
    instructions: m.stats().instructions, checkpoints: [],
  };
}

export interface ReferenceRun {
  output: string;
  /** QEMU's exit status; 0 when it shut down (a triple fault: -no-reboot). */
  status: number | null;
}

/** The guest under QEMU, as its fixture was recorded (guests/systests/run-qemu.sh). */
export function runOnQemu(name: string): ReferenceRun {
  const r = spawnSync('sh', ['run-qemu.sh', imageFile(name), ...qemuBootArgs(name)],
    { cwd: rootDir, timeout: 30_000, encoding: 'utf8' });
  return { output: r.stdout, status: r.status };
}

/**
 * The guest under Bochs (guests/systests/bochs/run-bochs.sh: its ROM loader stands in for
 * a Multiboot loader). Status as QEMU would give it: 0 for a triple fault, else 1 (the
 * guests exit with 0 after DONE; Bochs has no isa-debug-exit port).
 */
export function runOnBochs(name: string): ReferenceRun {
  const r = spawnSync('sh', ['bochs/run-bochs.sh', imageFile(name)],
    {
      cwd: rootDir, timeout: 120_000, encoding: 'utf8',
      env: {
        ...process.env, BOCHS_TIMEOUT: '100',
        ...(VMX_GUESTS.includes(name) ? { BOCHS_CPU: BOCHS_VMX_CPU } : {}),
        ...(isSvm(name) ? { BOCHS_CPU: BOCHS_SVM_CPU } : {}),
      },
    });
  if (r.status !== 0) throw new Error(`bochs/run-bochs.sh ${name}: ${r.stderr || r.error}`);
  return { output: r.stdout, status: /^shutdown: /m.test(r.stderr) ? 0 : 1 };
}

/** The guest in v86 (npm), without boot arguments (v86 takes one initrd, not modules). */
export function runOnV86(name: string): Promise<V86Run> {
  return runV86(guestImage(name), { timeoutMs: 30_000 });
}
