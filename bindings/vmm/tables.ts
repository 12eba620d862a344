/**
 * The VT-x and AMD-V architectural tables on the host side: VMCS field encodings, VMX exit
 * reasons, VM-instruction errors and MSRs (Intel SDM vol. 3C, appendices B and C, 31.4), the
 * VMCB layout, SVM exit codes and MSRs (AMD APM vol. 2, appendices B and C). The numbers are
 * written once, in scripts/vmx-fields.mjs and scripts/svm-vmcb.mjs, and generated for both
 * the core and this file's imports by scripts/gen-vmm-tables.mjs.
 */
import { vmcsFields } from '../generated/vmx.js';
import { vmcbFields } from '../generated/svm.js';

export {
  vmcsFields, vmcs, vmxExitReasons, vmxExitReasonBits, vmxInstructionErrors, vmxMsrs,
  featureControlBits,
} from '../generated/vmx.js';
export {
  vmcbFields, vmcbBitFields, vmcbConstants, tlbControl, svmEventTypes, vmcbCleanBits,
  svmExitCodes, svmMsrs, svmMsrBits,
} from '../generated/svm.js';

/** One VMCS field (SDM vol. 3C, appendix B). */
export type VmcsField = (typeof vmcsFields)[number];
/** A VMCS field's width: bits 14:13 of its encoding. */
export type VmcsWidth = VmcsField['width'];
/** A VMCS field's type: bits 11:10 of its encoding (exitInfo = read-only data). */
export type VmcsType = VmcsField['type'];
/** One field of the VMCB (AMD APM vol. 2, appendix B). */
export type VmcbField = (typeof vmcbFields)[number];

/** An encoding that names no VMCS field this table knows, or has reserved bits set. */
export class VmcsEncodingError extends Error {
  constructor(readonly encoding: number, why: string) {
    super(`VMCS encoding 0x${(encoding >>> 0).toString(16)}: ${why}`);
    this.name = 'VmcsEncodingError';
  }
}

const WIDTHS: readonly VmcsWidth[] = ['16', '64', '32', 'natural'];
const TYPES: readonly VmcsType[] = ['control', 'exitInfo', 'guest', 'host'];

/** The parts of a VMCS field encoding (SDM vol. 3C, 25.11.2, table 25-21). */
export interface VmcsEncodingParts {
  /** Bit 0: 0 full, 1 high 32 bits of a 64-bit field. */
  access: 'full' | 'high';
  /** Bits 9:1. */
  index: number;
  /** Bits 11:10. */
  type: VmcsType;
  /** Bits 14:13. */
  width: VmcsWidth;
}

/** Splits an encoding into its parts; throws VmcsEncodingError if a reserved bit (12, 31:15)
 *  is set, or bit 0 is set on a field that is not 64 bits wide. */
export function decodeVmcsEncoding(encoding: number): VmcsEncodingParts {
  if (!Number.isInteger(encoding) || encoding < 0 || encoding > 0xffffffff) {
    throw new VmcsEncodingError(encoding, 'not a 32-bit unsigned integer');
  }
  if ((encoding & 0xffff9000) !== 0) {
    throw new VmcsEncodingError(encoding, 'reserved bits set (12, 31:15)');
  }
  const width = WIDTHS[(encoding >>> 13) & 3];
  const access = encoding & 1 ? 'high' : 'full';
  if (access === 'high' && width !== '64') {
    throw new VmcsEncodingError(encoding, `access type high on a ${width}-bit field`);
  }
  return { access, index: (encoding >>> 1) & 0x1ff, type: TYPES[(encoding >>> 10) & 3], width };
}

const byEncoding = new Map<number, VmcsField>(vmcsFields.map((f) => [f.encoding, f]));

/** The VMCS field with this encoding; throws VmcsEncodingError for an unknown one. */
export function vmcsField(encoding: number): VmcsField {
  decodeVmcsEncoding(encoding);
  const f = byEncoding.get(encoding);
  if (!f) throw new VmcsEncodingError(encoding, 'no such field in the VMCS field table');
  return f;
}
