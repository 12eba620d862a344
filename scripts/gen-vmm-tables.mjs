// Generates the VT-x and AMD-V architectural tables for both sides of the wasm boundary from
// their one source each (scripts/vmx-fields.mjs, scripts/svm-vmcb.mjs), checking them first:
// a VMCS encoding must agree with the width and type it is declared under, a VMCB field must
// lie inside its area, be naturally aligned and overlap no other. Writes
// assembly/generated/{vmx,svm}.ts and bindings/generated/{vmx,svm}.ts.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vmx from './vmx-fields.mjs';
import * as svm from './svm-vmcb.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hex = (v, digits = 4) => '0x' + (v >>> 0).toString(16).padStart(digits, '0');

/** Splits a VMCS encoding into its fields (SDM vol. 3C, 25.11.2, table 25-21). */
export function decodeVmcsEncoding(enc) {
  return {
    access: enc & 1,
    index: (enc >>> 1) & 0x1ff,
    type: (enc >>> 10) & 3,
    reserved12: (enc >>> 12) & 1,
    width: (enc >>> 13) & 3,
    reservedHigh: enc >>> 15,
  };
}

/** The VMCS field list: every declared field, then the HIGH half of each 64-bit one. */
export function buildVmcsFields(groups = vmx.vmcsGroups) {
  const fields = [];
  const names = new Set();
  const encodings = new Set();
  const add = (f) => {
    if (names.has(f.name)) throw new Error(`VMCS field ${f.name} is declared twice`);
    if (encodings.has(f.encoding)) {
      throw new Error(`VMCS encoding ${hex(f.encoding)} (${f.name}) is used twice`);
    }
    names.add(f.name);
    encodings.add(f.encoding);
    fields.push(f);
  };
  for (const [width, type, table, list] of groups) {
    if (!(width in vmx.VMCS_WIDTH)) throw new Error(`unknown VMCS width ${width} (table ${table})`);
    if (!(type in vmx.VMCS_TYPE)) throw new Error(`unknown VMCS type ${type} (table ${table})`);
    for (const [name, encoding] of list) {
      const d = decodeVmcsEncoding(encoding);
      const where = `VMCS field ${name} (${hex(encoding)}, SDM vol. 3C table ${table})`;
      if (d.reserved12 || d.reservedHigh) throw new Error(`${where}: reserved encoding bits set`);
      if (d.access !== 0) {
        throw new Error(`${where}: declared by its HIGH encoding; declare the full one`);
      }
      if (d.width !== vmx.VMCS_WIDTH[width]) {
        const want = vmx.VMCS_WIDTH[width];
        throw new Error(`${where}: encoding width ${d.width} is not ${width}-bit (${want})`);
      }
      if (d.type !== vmx.VMCS_TYPE[type]) {
        const want = vmx.VMCS_TYPE[type];
        throw new Error(`${where}: encoding type ${d.type} is not ${type} (${want})`);
      }
      const sdm = `SDM vol. 3C, table ${table.split(' ')[0]}`;
      add({ name, encoding, width, type, access: 'full', index: d.index, sdm });
      if (width === '64') {
        const high = { name: `${name}_HIGH`, encoding: encoding | 1, access: 'high' };
        add({ ...high, width, type, index: d.index, sdm });
      }
    }
  }
  return fields.sort((a, b) => a.encoding - b.encoding);
}

function checkUnique(what, table, lo, hi) {
  const seen = new Map();
  for (const [name, v] of Object.entries(table)) {
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`${what} ${name} = ${v} is outside ${lo}..${hi}`);
    }
    if (seen.has(v)) throw new Error(`${what} ${name} and ${seen.get(v)} are both ${v}`);
    seen.set(v, name);
  }
}

/** The VMCB field list with its checks. */
export function buildVmcbLayout(
  control = svm.vmcbControl, save = svm.vmcbSave, bitFields = svm.vmcbBits,
) {
  const fields = [];
  for (const [name, offset, size] of control) fields.push({ name, offset, size, area: 'control' });
  for (const [seg, base] of svm.vmcbSegments) {
    for (const [part, off, size] of svm.vmcbSegment) {
      // GDTR and IDTR have no selector or attributes (APM vol. 2, table B-2).
      const table = seg === 'GDTR' || seg === 'IDTR';
      if (table && (part === 'SELECTOR' || part === 'ATTRIB')) continue;
      fields.push({ name: `${seg}_${part}`, offset: base + off, size, area: 'save' });
    }
  }
  for (const [name, offset, size] of save) fields.push({ name, offset, size, area: 'save' });
  const names = new Set();
  for (const f of fields) {
    const where = `VMCB field ${f.name} at ${hex(f.offset, 3)}`;
    if (names.has(f.name)) throw new Error(`${where}: declared twice`);
    names.add(f.name);
    const [lo, hi] = f.area === 'control'
      ? [0, svm.VMCB_SAVE_BASE] : [svm.VMCB_SAVE_BASE, svm.VMCB_SIZE];
    if (f.offset < lo || f.offset + f.size > hi) {
      throw new Error(`${where}: outside the ${f.area} area`);
    }
    const align = [1, 2, 4, 8].includes(f.size) ? f.size : 1;
    if (f.offset % align !== 0) throw new Error(`${where}: not aligned to its size ${f.size}`);
  }
  fields.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < fields.length; i++) {
    const p = fields[i - 1], f = fields[i];
    if (p.offset + p.size > f.offset) {
      throw new Error(`VMCB fields ${p.name} and ${f.name} overlap`);
    }
  }
  const bits = bitFields.map(([name, field, lsb, width]) => {
    const f = fields.find((x) => x.name === field);
    if (!f) throw new Error(`VMCB bit field ${name}: no field ${field}`);
    if (lsb < 0 || width < 1 || lsb + width > f.size * 8) {
      throw new Error(`VMCB bit field ${name}: outside ${field}`);
    }
    return { name, field, lsb, width };
  });
  for (const a of bits) {
    for (const b of bits) {
      if (a !== b && a.field === b.field && a.lsb < b.lsb + b.width && b.lsb < a.lsb + a.width) {
        throw new Error(`VMCB bit fields ${a.name} and ${b.name} overlap`);
      }
    }
  }
  return { fields, bits };
}

/** The four generated files, by path relative to the repository root. */
export function generateFiles() {
  const vmcs = buildVmcsFields();
  checkUnique('VMX exit reason', vmx.vmxExitReasons, 0, 0xffff);
  checkUnique('VM-instruction error', vmx.vmxInstructionErrors, 1, 0xffff);
  checkUnique('VMX MSR', vmx.vmxMsrs, 0, 0xffffffff);
  const vmcb = buildVmcbLayout();
  checkUnique('SVM exit code', svm.svmExitCodes, -1, 0xffffffff);

  const note = (src) =>
    `// Generated by scripts/gen-vmm-tables.mjs from scripts/${src}. Do not edit.\n`;
  /** One AssemblyScript constant per entry of a table. */
  const asConsts = (out, table, type, name, fmt = String) => {
    for (const [n, v] of Object.entries(table)) {
      out.push(`export const ${name(n)}: ${type} = ${fmt(v)};`);
    }
  };

  // ---- VT-x ----
  const as = [note('vmx-fields.mjs')];
  const ts = [note('vmx-fields.mjs')];
  as.push('// VMCS field encodings (Intel SDM vol. 3C, appendix B).');
  for (const f of vmcs) as.push(`export const VMCS_${f.name}: u32 = ${hex(f.encoding)};`);
  as.push('/** Every encoding above, ascending: a field\'s index here is its slot in a VMCS. */');
  as.push(`export const VMCS_FIELD_COUNT: i32 = ${vmcs.length};`);
  as.push('export const VMCS_ENCODINGS: StaticArray<u32> = [');
  for (let i = 0; i < vmcs.length; i += 10) {
    as.push('  ' + vmcs.slice(i, i + 10).map((f) => hex(f.encoding) + ',').join(' '));
  }
  as.push('];');
  as.push('// Basic exit reasons (SDM vol. 3C, appendix C).');
  asConsts(as, vmx.vmxExitReasons, 'u32', (n) => `EXIT_REASON_${n}`);
  asConsts(as, vmx.vmxExitReasonBits, 'u32', (n) => n, (v) => hex(v, 8));
  as.push('// VM-instruction error numbers (SDM vol. 3C, 31.4).');
  asConsts(as, vmx.vmxInstructionErrors, 'u32', (n) => `VMXERR_${n}`);
  as.push('// MSRs (SDM vol. 4, table 2-2) and IA32_FEATURE_CONTROL bits (vol. 3C, 24.7).');
  asConsts(as, vmx.vmxMsrs, 'u32', (n) => `MSR_${n}`, hex);
  asConsts(as, vmx.featureControlBits, 'u32', (n) => n);

  ts.push('/** Every VMCS field (Intel SDM vol. 3C, appendix B), by ascending encoding. */');
  ts.push('export const vmcsFields = [');
  for (const f of vmcs) {
    ts.push(`  { name: '${f.name}', encoding: ${hex(f.encoding)}, width: '${f.width}', ` +
      `type: '${f.type}', access: '${f.access}', index: ${f.index}, sdm: '${f.sdm}' },`);
  }
  ts.push('] as const;');
  ts.push('/** VMCS field encodings by name. */');
  ts.push('export const vmcs = {');
  for (const f of vmcs) ts.push(`  ${f.name}: ${hex(f.encoding)},`);
  ts.push('} as const;');
  const obj = (name, doc, table, fmt = (v) => String(v)) => {
    ts.push(`/** ${doc} */`);
    ts.push(`export const ${name} = {`);
    for (const [n, v] of Object.entries(table)) ts.push(`  ${n}: ${fmt(v)},`);
    ts.push('} as const;');
  };
  obj('vmxExitReasons', 'Basic exit reasons (SDM vol. 3C, appendix C, table C-1).',
    vmx.vmxExitReasons);
  obj('vmxExitReasonBits', 'Exit-reason bits above the basic reason (SDM vol. 3C, 25.9.1).',
    vmx.vmxExitReasonBits, (v) => hex(v, 8));
  obj('vmxInstructionErrors', 'VM-instruction error numbers (SDM vol. 3C, 31.4, table 31-1).',
    vmx.vmxInstructionErrors);
  obj('vmxMsrs', 'IA32_FEATURE_CONTROL and the IA32_VMX_* capability MSRs (SDM vol. 4, table 2-2).',
    vmx.vmxMsrs, (v) => hex(v));
  obj('featureControlBits', 'IA32_FEATURE_CONTROL bits (SDM vol. 3C, 24.7).',
    vmx.featureControlBits);

  // ---- AMD-V ----
  const sa = [note('svm-vmcb.mjs')];
  const st = [note('svm-vmcb.mjs')];
  sa.push('// VMCB byte offsets and sizes (AMD APM vol. 2, appendix B).');
  sa.push(`export const VMCB_SAVE_BASE: u32 = ${hex(svm.VMCB_SAVE_BASE, 3)};`);
  sa.push(`export const VMCB_SIZE: u32 = ${hex(svm.VMCB_SIZE, 3)};`);
  for (const f of vmcb.fields) {
    const bytes = `${f.size} byte${f.size > 1 ? 's' : ''}`;
    sa.push(`export const VMCB_${f.name}: u32 = ${hex(f.offset, 3)}; // ${bytes}`);
  }
  sa.push('// Bit fields: lowest bit and width.');
  for (const b of vmcb.bits) {
    sa.push(`export const VMCB_${b.name}_SHIFT: u32 = ${b.lsb}; // in VMCB_${b.field}`);
    const mask = (2 ** b.width - 1) * 2 ** b.lsb;
    sa.push(`export const VMCB_${b.name}_MASK: u64 = ${hex(mask, 1)};`);
  }
  asConsts(sa, { ...svm.tlbControl, ...svm.eventTypes, ...svm.vmcbCleanBits }, 'u32',
    (n) => `VMCB_${n}`);
  sa.push('// Exit codes (AMD APM vol. 2, appendix C); EXITCODE is 64 bits wide.');
  asConsts(sa, svm.svmExitCodes, 'i64', (n) => `SVM_EXIT_${n}`,
    (v) => (v < 0 ? String(v) : hex(v, 3)));
  sa.push('// MSRs and bits (AMD APM vol. 2, 15.30 and 3.1.7).');
  asConsts(sa, svm.svmMsrs, 'u32', (n) => n, (v) => hex(v, 8));
  asConsts(sa, svm.svmMsrBits, 'u32', (n) => n);

  st.push('/** The VMCB layout (AMD APM vol. 2, appendix B): fields by ascending offset. */');
  st.push('export const vmcbFields = [');
  for (const f of vmcb.fields) {
    st.push(`  { name: '${f.name}', offset: ${hex(f.offset, 3)}, size: ${f.size}, ` +
      `area: '${f.area}' },`);
  }
  st.push('] as const;');
  st.push('/** Bit fields inside VMCB fields (AMD APM vol. 2, table B-1). */');
  st.push('export const vmcbBitFields = [');
  for (const b of vmcb.bits) {
    st.push(`  { name: '${b.name}', field: '${b.field}', lsb: ${b.lsb}, width: ${b.width} },`);
  }
  st.push('] as const;');
  const sobj = (name, doc, table, fmt = (v) => String(v)) => {
    st.push(`/** ${doc} */`);
    st.push(`export const ${name} = {`);
    for (const [n, v] of Object.entries(table)) st.push(`  ${n}: ${fmt(v)},`);
    st.push('} as const;');
  };
  sobj('vmcbConstants', 'VMCB size and start of its state save area (AMD APM vol. 2, app. B).',
    { VMCB_SAVE_BASE: svm.VMCB_SAVE_BASE, VMCB_SIZE: svm.VMCB_SIZE }, (v) => hex(v, 3));
  sobj('tlbControl', 'TLB_CONTROL values (AMD APM vol. 2, 15.16.1).', svm.tlbControl);
  sobj('svmEventTypes', 'EVENTINJ / EXITINTINFO types (AMD APM vol. 2, 15.20).', svm.eventTypes);
  sobj('vmcbCleanBits', 'VMCB clean bits (AMD APM vol. 2, 15.15.3).', svm.vmcbCleanBits);
  sobj('svmExitCodes', 'Exit codes (AMD APM vol. 2, appendix C, table C-1).', svm.svmExitCodes,
    (v) => (v < 0 ? String(v) : hex(v, 3)));
  sobj('svmMsrs', 'SVM MSRs (AMD APM vol. 2, 15.30).', svm.svmMsrs, (v) => hex(v, 8));
  sobj('svmMsrBits', 'EFER.SVME and VM_CR bits (AMD APM vol. 2, 3.1.7 and 15.30.1).',
    svm.svmMsrBits);

  return {
    'assembly/generated/vmx.ts': as.join('\n') + '\n',
    'bindings/generated/vmx.ts': ts.join('\n') + '\n',
    'assembly/generated/svm.ts': sa.join('\n') + '\n',
    'bindings/generated/svm.ts': st.join('\n') + '\n',
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(join(root, 'assembly/generated'), { recursive: true });
  mkdirSync(join(root, 'bindings/generated'), { recursive: true });
  for (const [path, text] of Object.entries(generateFiles())) writeFileSync(join(root, path), text);
}
