/**
 * The fixtures themselves, checked against the references: the committed QEMU (and Bochs)
 * outputs are re-recorded when the emulator is installed, Bochs prints what QEMU printed
 * for the guests both can run, and v86 (npm) prints the same lines except where it is
 * known to be wrong (listed in guests/systests/README.md).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hasTool } from '../helpers/tools.js';
import {
  BOCHS_GUESTS, PC_GUESTS, QEMU_GUESTS, SVM_GUESTS, SVM_REFERENCE, fixture, lineDiff,
  runOnBochs, runOnQemu, runOnV86, withSdmLines,
} from './guests.js';

const hasQemu = hasTool('qemu-system-i386');
const hasBochs = hasTool('bochs') && hasTool('nasm');

describe.skipIf(!hasBochs)('Bochs', () => {
  // Regenerated here, not read: each Bochs fixture is what Bochs prints today, except the
  // lines where Bochs departs from the SDM (guests.ts BOCHS_DEPARTURES: the fixture holds
  // the SDM's line there).
  for (const name of BOCHS_GUESTS) {
    it(`still prints the committed fixture: ${name}`, () => {
      const want = fixture(name);
      const got = runOnBochs(name);
      expect(lineDiff(want.output, withSdmLines(name, got.output))).toEqual([]);
      expect(got.status).toBe(want.exitStatus);
    });
  }
  // Bochs as a second reference for QEMU's fixtures (its ROM loader gives other boot
  // information, so the guests that print it are left out).
  for (const name of ['segments', 'descriptors', 'exceptions', 'paging', 'rings', 'holes',
    'sysenter', 'realmode', 'realirq', 'pm16', 'sysinsns', 'debug', 'irq', 'checkpoints']) {
    it(`prints what QEMU printed: ${name}`, () => {
      expect(lineDiff(fixture(name).output, runOnBochs(name).output)).toEqual([]);
    });
  }
});

/**
 * The AMD-V guests under their two references (Bochs 2.7 phenom_8650_toliman, QEMU 7.2
 * -cpu phenom). Where the two differ, the fixture the system test compares wasmvisor with
 * (expected/NAME.txt, SVM_REFERENCE) is the one that follows the AMD APM (vol. 2, chapter
 * 15; appendix C for exit codes); the other stays recorded beside it (NAME.bochs.txt /
 * NAME.qemu.txt) and the lines they differ on are listed here, each with the reason:
 * `apm` are the lines only the APM-following fixture has, `other` the other's.
 * A line is named by its text before " i1=" (an exit: its name and exit code) or whole
 * (the guest's own lines), with the image's code addresses as RIP and EIP.
 */
const SVM_DIFFERENCES: Record<(typeof SVM_GUESTS)[number], { apm: string[]; other: string[] }> = {
  // Bochs follows the APM, QEMU 7.2 does not:
  // - INVD exits with VMEXIT_INVD 0x76, RDTSCP with 0x87, ICEBP with 0x88 (appendix C);
  //   QEMU reports 0x89 (WBINVD), 0x6e (RDTSC) and an intercepted #UD (0x46);
  // - IOIO EXITINFO1 has the address size in bits 9:7 (A16 bit 7, A32 bit 8: "IOIO
  //   Intercepts"); QEMU leaves them 0;
  // - an intercepted #BP exits with 0x43 ("Exception Intercepts"); QEMU delivers it to
  //   the guest, and the next exit's EXITINTINFO keeps that #BP's type and vector (0x403,
  //   V clear) where Bochs writes 0;
  // - the #NP met while delivering an injected #GP has EXT = 1 in its error code (0x6b):
  //   an injected event is taken "as though it had occurred normally in the guest" (APM
  //   15.20), and a fault met while delivering an exception sets EXT (vol. 2, 8.4.1
  //   "Selector Error Code"; SDM vol. 3A, 6.13); QEMU gives 0x6a;
  // - a far JMP or CALL to a TSS exits with TASK_SWITCH 0x7d, EXITINFO1 the selector,
  //   EXITINFO2 bit 38 for the JMP ("Miscellaneous Intercepts"); QEMU switches tasks
  //   (into the scratch TSS) and ends in a #PF exit, the guest's last line.
  // (MONITOR is left out of the guest: Bochs 2.7 does not intercept it, QEMU does.)
  'svm-exits': {
    apm: [
      'invd: code=00000076', 'rdtscp: code=00000087', 'icebp: code=00000088',
      'in al, 0x80: code=0000007b', 'out 0x80, al: code=0000007b', 'in eax, 0x80: code=0000007b',
      'in ax, dx: code=0000007b', 'out dx, eax: code=0000007b',
      'in ax, dx (port 0x106, 0x107 intercepted): code=0000007b',
      'in ax, dx (port 0xffff, the bit after it set): code=0000007b', 'rep insb: code=0000007b',
      'outsw: code=0000007b', 'rep outsd: code=0000007b', 'a16 rep insw: code=0000007b',
      'a16 outsb: code=0000007b', '#bp: code=00000043', '#ud: code=00000046',
      'exit at RIP: code=0000004b', 'jmp far to a tss: code=0000007d',
      'call far to a tss: code=0000007d',
    ],
    other: [
      'invd: code=00000089', 'rdtscp: code=0000006e', 'icebp: code=00000046',
      'in al, 0x80: code=0000007b', 'out 0x80, al: code=0000007b', 'in eax, 0x80: code=0000007b',
      'in ax, dx: code=0000007b', 'out dx, eax: code=0000007b',
      'in ax, dx (port 0x106, 0x107 intercepted): code=0000007b',
      'in ax, dx (port 0xffff, the bit after it set): code=0000007b', 'rep insb: code=0000007b',
      'outsw: code=0000007b', 'rep outsd: code=0000007b', 'a16 rep insw: code=0000007b',
      'a16 outsb: code=0000007b', '  l2: vector 03 err=- eip=EIP', '#ud: code=00000046',
      'exit at RIP: code=0000004b', 'exit at RIP: code=0000004e',
    ],
  },
  // QEMU follows the APM, Bochs 2.7 does not:
  // - VMRUN loads CR2 from the VMCB (15.5.1 and VMRUN in vol. 3); Bochs keeps the host's;
  // - a virtual interrupt pending when VMRUN enters a guest with IF = 1 is taken before
  //   the first guest instruction (15.21); Bochs takes V_IRQ only once the guest sets IF;
  // - an L2 triple fault with the SHUTDOWN intercept set is a #VMEXIT 0x7f
  //   ("Miscellaneous Intercepts"); Bochs 2.7 shuts down the whole machine (its last
  //   line is cut short by the shutdown, hence also the empty line: QEMU's output ends
  //   with a newline, Bochs' does not). Which event EXITINTINFO names on a shutdown
  //   exit is QEMU's choice (the #UD whose delivery failed); the APM does not say.
  'svm-events': {
    apm: [
      '  l2: after #pf injected, cr2=00dead00', '  l2: vector 41 err=- eip=EIP',
      '  l2: after v_tpr 0', 'exit at RIP: code=0000007f', 'DONE', '',
    ],
    other: [
      '  l2: after #pf injected, cr2=00000000', '  l2: after v_tpr ',
    ],
  },
  // Bochs follows the APM: QEMU 7.2 (qemu-system-i386) raises no #NPF with legacy nested
  // tables (15.25: the nested walk uses the host's 2-level format) and, translating
  // guest-physical as host-physical, never sees the remapped page.
  'svm-npt': {
    apm: [
      'read, not present: code=00000400', 'write, read-only: code=00000400',
      'exit at RIP: code=00000400', 'exit at RIP: code=00000400',
      'write, read-only, at linear 0xe06000: code=00000400',
      '  l2: [0x602000 after the remap and tlb_control 1]=bbbbbbbb',
    ],
    other: [
      '  l2: [0x602000 after the remap and tlb_control 1]=aaaaaaaa',
    ],
  },
  // Bochs follows the APM: EXITCODE is 64 bits and VMEXIT_INVALID is -1 (appendix C;
  // QEMU 7.2's i386 build writes 0x00000000ffffffff); the high halves of CR4, DR6, DR7
  // and EFER must be zero (15.5.1; QEMU's 32-bit build never looks at them and enters
  // the guest); after a failed VMRUN QEMU leaves the rejected EVENTINJ in EXITINTINFO.
  'svm-vmrun': {
    apm: [
      'efer.svme=0: code=ffffffffffffffff', 'cr0.cd=0 cr0.nw=1: code=ffffffffffffffff',
      'cr0[63:32]: code=ffffffffffffffff', 'cr4[63:32]: code=ffffffffffffffff',
      'cr4 bit 31 (reserved): code=ffffffffffffffff', 'dr6[63:32]: code=ffffffffffffffff',
      'dr7[63:32]: code=ffffffffffffffff', 'efer[63:32]: code=ffffffffffffffff',
      'efer bit 31 (reserved): code=ffffffffffffffff',
      'efer.lme=1 cr0.pg=1 cr4.pae=0: code=ffffffffffffffff',
      'efer.lme=1 cr0.pg=1 cr4.pae=1 cs.l=1 cs.d=1: code=ffffffffffffffff',
      'vmrun intercept clear: code=ffffffffffffffff', 'asid 0: code=ffffffffffffffff',
      'msrpm_base_pa beyond physical memory: code=ffffffffffffffff',
      'iopm_base_pa beyond physical memory: code=ffffffffffffffff',
      'eventinj type 1 (reserved): code=ffffffffffffffff',
      'eventinj exception vector 2: code=ffffffffffffffff',
      'eventinj exception vector 32: code=ffffffffffffffff',
    ],
    other: [
      'efer.svme=0: code=ffffffff', 'cr0.cd=0 cr0.nw=1: code=ffffffff',
      'cr0[63:32]: code=ffffffff', 'cr4[63:32]: code=00000081',
      'cr4 bit 31 (reserved): code=ffffffff', 'dr6[63:32]: code=00000081',
      'dr7[63:32]: code=00000081', 'efer[63:32]: code=00000081',
      'efer bit 31 (reserved): code=ffffffff', 'efer.lme=1 cr0.pg=1 cr4.pae=0: code=ffffffff',
      'efer.lme=1 cr0.pg=1 cr4.pae=1 cs.l=1 cs.d=1: code=ffffffff',
      'vmrun intercept clear: code=ffffffff', 'asid 0: code=ffffffff',
      'msrpm_base_pa beyond physical memory: code=ffffffff',
      'iopm_base_pa beyond physical memory: code=ffffffff',
      'eventinj type 1 (reserved): code=ffffffff', 'eventinj exception vector 2: code=ffffffff',
      'eventinj exception vector 32: code=ffffffff',
    ],
  },
  // the two agree
  'svm-intr': { apm: [], other: [] },
  // Bochs: TR's hidden part has the busy type (0xb) after LTR, which marks the TSS busy
  // (APM vol. 3, LTR), and VMSAVE stores it so; that is what CPUs keep there (a VMX
  // guest's TR must be busy: SDM vol. 3C, "Checks on Guest Segment Registers"). QEMU
  // 7.2 keeps the available type (9) it read before setting the busy bit.
  'svm-state': {
    apm: ['  tr: sel=0028 attr=008b limit=00002068 base=0000000000113800'],
    other: ['  tr: sel=0028 attr=0089 limit=00002068 base=0000000000113800'],
  },
};

/** The lines of `a` that `b` lacks (as multisets), named as in SVM_DIFFERENCES. */
function onlyIn(a: string, b: string): string[] {
  const left = new Map<string, number>();
  for (const l of b.split('\n')) left.set(l, (left.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of a.split('\n')) {
    const n = left.get(l) ?? 0;
    if (n > 0) left.set(l, n - 1);
    else {
      out.push(l.split(' i1=')[0].replace(/^exit at [0-9a-f]{8}/, 'exit at RIP')
        .replace(/eip=[0-9a-f]{8}/, 'eip=EIP'));
    }
  }
  return out;
}

describe('the SVM fixtures: two references, the APM-following one first', () => {
  for (const name of SVM_GUESTS) {
    const other = SVM_REFERENCE[name] === 'bochs' ? 'qemu' : 'bochs';
    it(`${name}: ${SVM_REFERENCE[name]} and ${other} differ only where listed`, () => {
      const apm = fixture(name).output;
      const alt = fixture(name, other).output;
      expect(onlyIn(apm, alt)).toEqual(SVM_DIFFERENCES[name].apm);
      expect(onlyIn(alt, apm)).toEqual(SVM_DIFFERENCES[name].other);
    });
    it.skipIf(!hasBochs)(`${name}: Bochs still prints its fixture`, () => {
      const want = fixture(name, 'bochs');
      const got = runOnBochs(name);
      expect(lineDiff(want.output, got.output)).toEqual([]);
      expect(got.status).toBe(want.exitStatus);
    });
    it.skipIf(!hasQemu)(`${name}: QEMU still prints its fixture`, () => {
      const want = fixture(name, 'qemu');
      const got = runOnQemu(name);
      if (sameQemu) expect(lineDiff(want.output, got.output)).toEqual([]);
      expect(got.status).toBe(want.exitStatus);
    });
  }
});

const qemuVersion = hasQemu
  ? execFileSync('qemu-system-i386', ['--version'], { encoding: 'utf8' }).split('\n')[0]
  : '';
const recordedWith = fixture('hello').header[0];
const sameQemu = hasQemu && recordedWith.includes(qemuVersion);
if (hasQemu && !sameQemu) {
  console.warn(`installed ${qemuVersion}, fixtures recorded with ` +
    `${recordedWith.replace('# reference: ', '')}: lines that differ are reported, not ` +
    'failed (re-record with scripts/build-systests.sh --record)');
}

describe.skipIf(!hasQemu)('QEMU still prints the committed fixtures', () => {
  for (const name of QEMU_GUESTS) {
    it(name, () => {
      const r = runOnQemu(name);
      const want = fixture(name);
      if (sameQemu) {
        expect(r.output).toBe(want.output);
      } else {
        const diff = lineDiff(want.output, r.output);
        if (diff.length) console.warn(`${name} under ${qemuVersion}:\n  ${diff.join('\n  ')}`);
      }
      expect(r.status).toBe(want.exitStatus);
    });
  }
});

// APIC guests: QEMU's output with the lines of expected/NAME.sdm replaced (where QEMU
// departs from the SDM and the 82093AA datasheet, or its machine from wasmvisor's).
describe.skipIf(!hasQemu)('QEMU still prints the APIC fixtures, departures as listed', () => {
  for (const name of PC_GUESTS) {
    it(name, () => {
      const r = runOnQemu(name);
      const want = fixture(name);
      const diff = lineDiff(want.output, withSdmLines(name, r.output));
      if (sameQemu) expect(diff).toEqual([]);
      else if (diff.length) console.warn(`${name} under ${qemuVersion}:\n  ${diff.join('\n  ')}`);
      expect(r.status).toBe(want.exitStatus);
    });
  }
});

/**
 * apic under Bochs 2.7, a second reference for its fixture (QEMU's output with the SDM's
 * lines where QEMU departs). Bochs agrees with the SDM and the 82093AA datasheet where
 * QEMU does not on two lines (the LVT stays masked while the APIC is software-disabled,
 * 10.4.7.2; IOAPICVER 0x11), and prints every interrupt line the same. It differs in:
 * - the state "after the firmware": no firmware runs before the guest (bochs/romloader.asm),
 *   so the APIC is as reset leaves it (SVR 0xFF, LINT0/LINT1 masked: 10.4.7.1);
 * - its I/O APIC's ID, 1 (Bochs numbers it after the CPUs; the MP table and MADT say which);
 * - Bochs departs from the SDM: an LVT entry keeps bit 12 (delivery status, read-only in
 *   figure 10-8) as written, and a redirection entry keeps its reserved bits 31:17 (as QEMU).
 */
const APIC_BOCHS_DIFFERENCES = {
  fixture: [
    '  svr=000001ff', '  lvt lint0=00008700', '  lvt lint1=00008400',
    'lvt error <- 0001f7ff=000100ff', 'lvt timer <- 0001f7ff=000100ff',
    'ioapic id=00000000 version=00170011 arb=00000000', 'pin 05 <- ffffffff: 0001afff',
  ],
  bochs: [
    '  svr=000000ff', '  lvt lint0=00010000', '  lvt lint1=00010000',
    'lvt error <- 0001f7ff=000110ff', 'lvt timer <- 0001f7ff=000110ff',
    'ioapic id=01000000 version=00170011 arb=00000000', 'pin 05 <- ffffffff: ffffafff',
  ],
};

describe.skipIf(!hasBochs)('Bochs as a second reference for the apic fixture', () => {
  it('differs only on the lines listed, each with its reason', () => {
    const want = fixture('apic').output;
    const got = runOnBochs('apic').output;
    expect(onlyIn(want, got)).toEqual(APIC_BOCHS_DIFFERENCES.fixture);
    expect(onlyIn(got, want)).toEqual(APIC_BOCHS_DIFFERENCES.bochs);
  });
});

/**
 * v86's known departures from the SDM (see guests/systests/README.md): lines whose text
 * (up to the colon) differs, the line from which v86 goes its own way (`stopsAt`; with
 * `crash` it stops there with that panic of its own), or a guest whose subject v86 does
 * not implement at all (`any`: it must still run to its end).
 */
interface V86Departure { differ?: string[]; stopsAt?: string; crash?: string; any?: true }
const V86_KNOWN: Record<string, V86Departure> = {
  mbinfo: { any: true }, // v86 puts the boot information elsewhere (EBX=0x7c00), other flags
  modules: { any: true }, // run without modules here (v86 takes one initrd, not a module list)
  exceptions: {
    differ: ['bound out of range', 'single step'],
    stopsAt: 'int 0x40 beyond idt limit',
    crash: 'Unimplemented: #GP handler',
  },
  descriptors: { stopsAt: 'lldt a data selector', crash: '#GP | lldt: not a system entry' },
  limits: { any: true }, // v86 checks no segment limits (the Bochs fixture's subject)
  strict: { stopsAt: 'mov cr0 with pg=1 pe=0', crash: 'cannot load PG without PE' },
  debug: { any: true }, // v86 has no debug traps: no breakpoints, no single-step
  sysinsns: { stopsAt: 'invd, wbinvd' }, // v86 raises #UD for INVD
  tss: { stopsAt: 'tss.ss0 = 0 (null)', crash: 'Unimplemented: #TS handler' },
  // v86 panics instead of shutting down
  triplefault: { crash: 'Unimplemented: #GP handler' },
  // ignores the real-mode IDTR base (an IVT moved by LIDT), then panics
  realmode: { stopsAt: 'int frame ip=70cf', crash: 'Unimplemented: #GP handler' },
};

describe('v86 agrees with the QEMU fixtures', () => {
  for (const name of [...QEMU_GUESTS, 'limits', 'strict', 'tss']) {
    it(name, async () => {
      const want = fixture(name);
      const got = await runOnV86(name);
      const known = V86_KNOWN[name] ?? {};
      if (known.any) {
        expect(got.exitStatus).toBe(want.exitStatus);
        return;
      }
      let expected = want.output.split('\n');
      let actual = got.output.split('\n');
      if (known.stopsAt) {
        if (known.crash) {
          expect(got.crash, 'v86 was expected to stop with a panic').toContain(known.crash);
        }
        const stop = expected.findIndex((l) => l.startsWith(known.stopsAt!));
        expect(stop).toBeGreaterThanOrEqual(0);
        expected = expected.slice(0, stop);
        actual = actual.slice(0, stop);
      } else if (known.crash) {
        expect(got.crash, 'v86 was expected to stop with a panic').toContain(known.crash);
      } else {
        expect(got.exitStatus).toBe(want.exitStatus);
      }
      const differing = actual
        .map((l, i) => (l === expected[i] ? null : (expected[i] ?? l).split(':')[0]))
        .filter((x) => x !== null);
      expect(differing).toEqual(known.differ ?? []);
      expect(actual.length).toBe(expected.length);
    });
  }
});
