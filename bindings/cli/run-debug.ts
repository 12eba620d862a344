/**
 * The debugging aids of `wasmvisor run`: an instruction trace (as QEMU's `-d exec,cpu`
 * with `-D FILE`, or Bochs' trace mode) and a log of port accesses (as QEMU's
 * `-trace cpu_in -trace cpu_out`). Both write through a buffer to a file; the trace stops
 * after its limit, and the machine then runs at full speed again.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import type { Machine, IoAccess } from '../machine/machine.js';
import type { Core, Regs, Segment } from '../core/index.js';
import { UsageError, errCode } from './main.js';
import { instructionLength, MAX_INSTRUCTION_LENGTH } from '../machine/insn-length.js';

/** Lines kept before a write to the file. */
const FLUSH_LINES = 4096;

const hex = (v: number, digits: number) => (v >>> 0).toString(16).padStart(digits, '0');

/** A text file written line by line through a buffer. */
class LineFile {
  private readonly fd: number;
  private lines: string[] = [];
  constructor(readonly path: string, what: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new UsageError(`cannot write ${what} ${path}: ${errCode(e)}`);
    }
  }
  line(text: string): void {
    this.lines.push(text);
    if (this.lines.length >= FLUSH_LINES) this.flush();
  }
  flush(): void {
    if (!this.lines.length) return;
    writeSync(this.fd, this.lines.join('\n') + '\n');
    this.lines = [];
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * `--trace FILE`: one line per instruction, before it executes, for the first `limit`:
 *   N CS:EIP (linear address) EAX ECX EDX EBX ESP EBP ESI EDI EFLAGS | BYTES
 * BYTES are the instruction's, in hex as QEMU's `-d in_asm` shows them: read from the
 * linear address without side effects, as long as the instruction's decoded length; an
 * unmapped byte ends them early.
 * An instruction that faults has its line, and the handler's first instruction the next
 * one, as QEMU logs them; an interrupt taken at a boundary shows as the handler's line.
 */
export class InstructionTrace {
  private readonly file: LineFile;
  private count = 0;
  constructor(path: string, private readonly limit: number) {
    this.file = new LineFile(path, '--trace');
  }
  attach(machine: Machine): void {
    if (this.limit <= 0) return;
    const core = machine.core;
    machine.onInstruction = () => {
      const r = core.getRegs(), cs = core.getSegment('cs');
      this.file.line(`${++this.count} ${hex(cs.selector, 4)}:${hex(r.eip, 8)}`
        + ` (${hex(cs.base + r.eip, 8)})`
        + ` EAX=${hex(r.eax, 8)} ECX=${hex(r.ecx, 8)} EDX=${hex(r.edx, 8)} EBX=${hex(r.ebx, 8)}`
        + ` ESP=${hex(r.esp, 8)} EBP=${hex(r.ebp, 8)} ESI=${hex(r.esi, 8)} EDI=${hex(r.edi, 8)}`
        + ` EFL=${hex(r.eflags, 8)} |${instructionBytes(core, r, cs)}`);
      if (this.count >= this.limit) machine.onInstruction = undefined;
    };
  }
  close(): void { this.file.close(); }
}

/** The bytes of the instruction at CS:EIP, each with a space before it. */
function instructionBytes(core: Core, r: Regs, cs: Segment): string {
  const bytes = core.readLinear((cs.base + r.eip) >>> 0, MAX_INSTRUCTION_LENGTH);
  // Real mode and virtual-8086 mode run 16-bit code; protected mode as CS.D says.
  const default32 = (r.cr0 & 1) !== 0 && !(r.eflags & 0x20000) && (cs.access & 0x4000) !== 0;
  const n = Math.min(bytes.length, instructionLength(bytes, default32));
  let text = '';
  for (let k = 0; k < n; k++) text += ' ' + hex(bytes[k], 2);
  return text;
}

/**
 * `--io-log FILE`: each port access as the device completed it, in order:
 *   in|out PORT b|w|l VALUE     (sizes as QEMU's cpu_in/cpu_out trace events name them)
 */
export class IoLog {
  private readonly file: LineFile;
  constructor(path: string) {
    this.file = new LineFile(path, '--io-log');
  }
  readonly record = (a: IoAccess): void => {
    const size = a.size === 1 ? 'b' : a.size === 2 ? 'w' : 'l';
    const dir = a.write ? 'out' : 'in';
    this.file.line(`${dir} 0x${hex(a.port, 4)} ${size} 0x${hex(a.value, a.size * 2)}`);
  };
  close(): void { this.file.close(); }
}
