/**
 * The target description the stub sends (qXfer:features:read:target.xml): GDB's i386 core
 * feature (gdb/features/i386/32bit-core.xml, "org.gnu.gdb.i386.core"), whose register
 * order is the `g` packet's: eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs,
 * st0-st7 (80 bits each), fctrl fstat ftag fiseg fioff foseg fooff fop.
 */
const GPR = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const SEG = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'];
const FPU_CTRL = ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'];

/** Register names in `g` order, with their sizes in bytes. */
export const REGISTERS: { name: string; size: number }[] = [
  ...GPR.map((name) => ({ name, size: 4 })),
  { name: 'eip', size: 4 }, { name: 'eflags', size: 4 },
  ...SEG.map((name) => ({ name, size: 4 })),
  ...Array.from({ length: 8 }, (_, i) => ({ name: `st${i}`, size: 10 })),
  ...FPU_CTRL.map((name) => ({ name, size: 4 })),
];

export const TARGET_XML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386</architecture>
<feature name="org.gnu.gdb.i386.core">
<flags id="i386_eflags" size="4">
<field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
<field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
<field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
<field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
<field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
<field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
<field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
<field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
<field name="ID" start="21" end="21"/>
</flags>
${GPR.map((r, i) => `<reg name="${r}" bitsize="32" type="${
    r === 'esp' || r === 'ebp' ? 'data_ptr' : 'int32'}" regnum="${i}"/>`).join('\n')}
<reg name="eip" bitsize="32" type="code_ptr" regnum="8"/>
<reg name="eflags" bitsize="32" type="i386_eflags" regnum="9"/>
${SEG.map((r, i) => `<reg name="${r}" bitsize="32" type="int32" regnum="${10 + i}"/>`)
    .join('\n')}
${Array.from({ length: 8 }, (_, i) =>
    `<reg name="st${i}" bitsize="80" type="i387_ext" regnum="${16 + i}"/>`).join('\n')}
${FPU_CTRL.map((r, i) => `<reg name="${r}" bitsize="32" type="int" group="float" regnum="${
    24 + i}"/>`).join('\n')}
</feature>
</target>
`;
