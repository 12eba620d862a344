/**
 * instructionLength (the --trace bytes) against the assembler and the disassembler: nasm
 * assembles each list below, and objdump (`-D -b binary -m i8086|i386`) splits the result
 * into instructions; every instruction's length must be the one objdump found, with
 * 16-bit and 32-bit default sizes, 0x66/0x67, ModRM/SIB/displacement forms, immediates of
 * every width, moffs, far pointers, the 0F map, x87, and prefixes.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';
import { instructionLength } from '../../bindings/machine/insn-length.js';

/** Forms both modes assemble (nasm adds 0x66/0x67 where the mode needs them). */
const COMMON = `
  nop
  xor ax, ax
  xor eax, eax
  mov ax, 0x1234
  mov eax, 0x12345678
  mov al, 0x12
  add ax, 0x1234
  add eax, 0x12345678
  add al, 5
  add word [bx+si], 0x1234
  add dword [bx+si+0x12], 0x12345678
  add byte [bp+di+0x1234], 7
  add word [bx], byte 3
  mov word [0x1234], 0x5678
  mov dword [ebx+ecx*4+0x12345678], 0x11223344
  mov eax, [ebp+8]
  mov eax, [esp]
  mov eax, [ecx*2+5]
  mov eax, [0x12345678]
  mov al, [0x1234]
  mov [0x1234], ax
  mov al, [dword 0x12345678]
  mov eax, [dword 0x12345678]
  lea esi, [ebp+ebx*8-0x80]
  lea si, [bp+0x7f]
  test byte [bx], 0x80
  test word [bx+2], 0x8000
  test dword [eax], 0x80000000
  not word [di]
  neg dword [esi+4]
  test al, 1
  test eax, 1
  imul ax, bx, 0x1234
  imul eax, ebx, 0x12345678
  imul eax, ebx, 3
  push 0x1234
  push dword 0x12345678
  push byte 5
  jmp short $
  jmp near $
  call near $
  jz near $
  jz short $
  jmp 0x1234:0x5678
  jmp dword 0x1234:0x12345678
  call 0x1234:0x5678
  ret 8
  retf 4
  enter 0x10, 1
  int 0x30
  in al, 0x60
  out 0xf4, al
  movzx eax, byte [bx+si]
  movsx eax, word [ebx+4]
  bt dword [eax], 3
  shld eax, ebx, 4
  shld [ebx], eax, cl
  imul eax, [ecx]
  setz al
  cmovz eax, [edx+0x1000]
  mov eax, cr0
  mov cr3, eax
  lgdt [cs:0x1234]
  lidt [ebx]
  cpuid
  rdtsc
  wrmsr
  bswap eax
  cmpxchg [ebx], ecx
  lock add dword [eax], 1
  rep movsb
  rep stosd
  es mov ax, [si]
  fs mov eax, [ebx]
  gs lodsb
  fld dword [ebx]
  fstp qword [bp+si+8]
  fadd st0, st1
  fnstsw ax
  rol eax, 5
  shr word [bx], 1
  sar byte [ecx], cl
  mov ss, ax
  pushf
  iret
  loop $
  jecxz $
  cmpsw
  xchg eax, ecx
  aam 10
  mov byte [ebp+0x1000], 1
  inc word [esi+eax*2]
  invlpg [eax]
  wbinvd
  hlt
`;

/** The length of each instruction objdump splits `bin` into. */
function objdumpLengths(bin: string, machine: string): number[] {
  const r = spawnSync('objdump', ['-D', '-b', 'binary', '-m', machine, '--insn-width=15', bin],
    { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const lengths: number[] = [];
  for (const m of r.stdout.matchAll(/^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t(.*)$/gm)) {
    expect(m[2], 'objdump decodes every instruction').not.toContain('(bad)');
    lengths.push(m[1].trim().split(' ').length);
  }
  return lengths;
}

describe.skipIf(!hasTool('nasm') || !hasTool('objdump'))('instruction lengths', () => {
  for (const [bits, machine] of [[16, 'i8086'], [32, 'i386']] as const) {
    it(`equal objdump's for nasm's encodings, ${bits}-bit code`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'wv-len-'));
      try {
        const src = join(dir, 'l.asm'), bin = join(dir, 'l.bin');
        writeFileSync(src, `bits ${bits}\n${COMMON}`);
        const asm = spawnSync('nasm', ['-f', 'bin', '-o', bin, src], { encoding: 'utf8' });
        expect(asm.status, asm.stderr).toBe(0);
        const code = new Uint8Array(readFileSync(bin));
        const want = objdumpLengths(bin, machine);
        expect(want.length).toBe(COMMON.trim().split('\n').length);
        const got: number[] = [];
        for (let at = 0, k = 0; k < want.length; at += want[k++]) {
          got.push(instructionLength(code.subarray(at), bits === 32));
        }
        expect(got).toEqual(want);
        // Cut short, the decoder answers no more than it has read.
        expect(instructionLength(Uint8Array.of(0x8b), bits === 32)).toBe(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
