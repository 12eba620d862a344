/**
 * The length of an IA-32 instruction from its bytes, for the trace's instruction bytes:
 * legacy prefixes, the opcode (one-byte map and 0F map), ModRM, SIB and displacement
 * (SDM vol. 2A, 2.1 and tables 2-1, 2-2, 2-3) and the immediate, from the generated
 * opcode table (its `modrm` and `imm` columns, which count immediates at 32-bit operand
 * and address size; see scripts/opcodes.mjs).
 */
import { OPCODES, type Opcode } from '../generated/opcodes.js';

/** The longest instruction (SDM vol. 2A, 2.3.11). */
export const MAX_INSTRUCTION_LENGTH = 15;

/** The table's rows by map and opcode byte (the ModRM groups have one row per member). */
const ROWS = new Map<number, Opcode[]>();
for (const o of OPCODES) {
  const key = (o.map === 0x0f ? 0x100 : 0) | o.op;
  const list = ROWS.get(key) ?? [];
  list.push(o);
  ROWS.set(key, list);
}

/** Operand types sized by the operand-size attribute: 4 bytes in the table's count. */
const BY_OPERAND_SIZE = /^(Iz|Iv|Jz|Ap)$/;
/** moffs operands (A0-A3): sized by the address-size attribute. */
const BY_ADDRESS_SIZE = /^O[bvw]?$/;

/**
 * The length in bytes of the instruction at the start of `bytes`, which the code segment
 * runs with default operand and address size 32 (`default32`: CS.D set in protected mode)
 * or 16 (real and virtual-8086 mode, CS.D clear). 0x66 and 0x67 switch the operand and the
 * address size. An opcode the table does not have counts as its opcode bytes alone. When
 * `bytes` ends before the length is known (a ModRM or SIB byte missing), the number of
 * bytes read is the answer; otherwise the result may exceed `bytes.length` (a cut read).
 */
export function instructionLength(bytes: Uint8Array, default32: boolean): number {
  let i = 0, opsize32 = default32, addr32 = default32;
  const next = () => (i < bytes.length ? bytes[i++] : undefined);
  let b = next();
  for (; b !== undefined; b = next()) {
    const row = ROWS.get(b)?.[0];
    if (!row?.prefixByte || b === 0x0f) break;
    if (b === 0x66) opsize32 = !default32;
    if (b === 0x67) addr32 = !default32;
    if (i >= MAX_INSTRUCTION_LENGTH) return i;
  }
  if (b === undefined) return i;
  let key = b;
  if (b === 0x0f) {
    const b2 = next();
    if (b2 === undefined) return i;
    key = 0x100 | b2;
  }
  const rows = ROWS.get(key);
  if (!rows) return i;
  let row = rows[0];
  if (row.modrm) {
    const modrm = next();
    if (modrm === undefined) return i;
    const mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    row = rows.find((r) => r.reg === undefined || r.reg === reg) ?? row;
    if (mod !== 3) {
      if (addr32) {
        let base = rm;
        if (rm === 4) {
          const sib = next();
          if (sib === undefined) return i;
          base = sib & 7;
        }
        i += mod === 1 ? 1 : mod === 2 || (mod === 0 && base === 5) ? 4 : 0;
      } else {
        i += mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 6) ? 2 : 0;
      }
    }
  }
  let imm = row.imm ?? 0;
  for (const operand of row.operands.split(',')) {
    if (BY_OPERAND_SIZE.test(operand) && !opsize32) imm -= 2;
    if (BY_ADDRESS_SIZE.test(operand) && !addr32) imm -= 2;
  }
  return i + imm;
}
