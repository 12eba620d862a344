/**
 * Descriptor reading rules beyond the samples: DSP0004 programmatic units, the leniency
 * real producers need, and clear errors (element path and line) for bad XML and lying
 * sizes.
 */
import { describe, expect, it } from 'vitest';
import { readOvf } from '../../bindings/ovf/reader.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { toVmConfig } from '../../bindings/ovf/to-config.js';
import { parseUnit, sizeInBytes, MAX_DISK_CAPACITY_BYTES } from '../../bindings/ovf/units.js';
import { findSection, prop, virtualSystems } from '../../bindings/ovf/model.js';
import { OvfError } from '../../bindings/ovf/errors.js';
import { ovfError, sample } from './helpers.js';

const OVF_NS = 'http://schemas.dmtf.org/ovf/envelope/1';
const RASD_NS =
  'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData';

/** An <Item> with the given RASD properties, in the order given. */
function item(props: Record<string, string | number>): string {
  const fields = Object.entries(props).map(([k, v]) => `<rasd:${k}>${v}</rasd:${k}>`);
  return `<Item>${fields.join('')}</Item>`;
}

/** A small 1.x descriptor with one disk of the given capacity and memory item. */
function descriptor(
  opts: {
    capacity?: string;
    units?: string;
    memUnits?: string;
    mem?: string;
    ns?: string;
    prefix?: boolean;
  } = {},
): string {
  const ns = opts.ns ?? OVF_NS;
  const p = opts.prefix === false ? '' : 'ovf:';
  const units = opts.units ? ` ${p}capacityAllocationUnits="${opts.units}"` : '';
  const memUnits = opts.memUnits ? { AllocationUnits: opts.memUnits } : {};
  const mem = opts.mem ?? '256';
  const memory = { ...memUnits, InstanceID: 2, ResourceType: 4, VirtualQuantity: mem };
  const drive = {
    AddressOnParent: 0,
    HostResource: 'ovf:/disk/d1',
    InstanceID: 4,
    Parent: 3,
    ResourceType: 17,
  };
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="${ns}" xmlns:ovf="${ns}" xmlns:rasd="${RASD_NS}">
  <References><File ${p}id="f1" ${p}href="disk.vmdk"/></References>
  <DiskSection><Info>disks</Info>
    <Disk ${p}diskId="d1" ${p}fileRef="f1" ${p}capacity="${opts.capacity ?? '1'}"${units}/>
  </DiskSection>
  <VirtualSystem ${p}id="vm"><Info>vm</Info>
    <VirtualHardwareSection><Info>hw</Info>
      ${item({ InstanceID: 1, ResourceType: 3, VirtualQuantity: 1 })}
      ${item(memory)}
      ${item({ Address: 0, InstanceID: 3, ResourceType: 5 })}
      ${item(drive)}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;
}

describe('DSP0004 programmatic units', () => {
  it('reads the spellings producers write', () => {
    // DSP0004 ANNEX C.1: base unit times factors; "byte * 2^30" is 2^30 bytes.
    expect(parseUnit('byte * 2^30')).toEqual({ base: 'byte', multiplier: 2n ** 30n });
    expect(parseUnit('byte*2^20')).toEqual({ base: 'byte', multiplier: 2n ** 20n });
    expect(parseUnit('byte * 10^3')).toEqual({ base: 'byte', multiplier: 1000n });
    expect(parseUnit('byte * 2^10 * 2^10')).toEqual({ base: 'byte', multiplier: 2n ** 20n });
    expect(parseUnit('hertz * 10^6')).toEqual({ base: 'hertz', multiplier: 10n ** 6n });
    expect(parseUnit('Hertz*10^9')).toEqual({ base: 'hertz', multiplier: 10n ** 9n });
    expect(parseUnit('MegaBytes')).toEqual({ base: 'byte', multiplier: 2n ** 20n });
    expect(parseUnit('GigaBytes')).toEqual({ base: 'byte', multiplier: 2n ** 30n });
    expect(parseUnit('KiloBytes')).toEqual({ base: 'byte', multiplier: 2n ** 10n });
    expect(parseUnit('Processor Cores')).toBeNull();
    expect(parseUnit('byte * 2^x')).toBeNull();
  });

  it('computes capacities exactly and rejects lying ' +
      'ones (2^60 bytes) beyond the 64 TiB limit', () => {
    expect(sizeInBytes('16', 'byte * 2^30', 'capacity', MAX_DISK_CAPACITY_BYTES, {})).toBe(
      17179869184,
    );
    expect(MAX_DISK_CAPACITY_BYTES).toBe(2 ** 46);
    const e = (() => {
      try {
        sizeInBytes('1', 'byte * 2^60', 'capacity', MAX_DISK_CAPACITY_BYTES, {});
      } catch (x) {
        return x as OvfError;
      }
    })();
    expect(e?.code).toBe('capacity');
    expect(e?.message).toMatch(
      /1152921504606846976 bytes is beyond the limit of 70368744177664 bytes/,
    );
    const v = validateOvf(readOvf(descriptor({ capacity: '1', units: 'byte * 2^60' })));
    expect(v.ok).toBe(false);
    expect(v.issues[0]).toMatchObject({ severity: 'error', where: 'DiskSection/Disk[d1]' });
    expect(() => toVmConfig(readOvf(descriptor({ capacity: '1152921504606846976' })))).toThrow(
      /beyond the limit/,
    );
    expect(validateOvf(readOvf(descriptor({ capacity: '-5' }))).issues[0].message).toMatch(
      /not a non-negative integer/,
    );
  });

  it('maps memory in every unit spelling to the same MiB', () => {
    for (const [mem, units] of [
      ['256', 'byte * 2^20'],
      ['256', 'MegaBytes'],
      ['268435456', 'byte'],
      ['256', undefined],
    ] as const) {
      expect(
        toVmConfig(readOvf(descriptor({ mem, memUnits: units }))).config.memoryMiB,
        `${mem} ${units}`,
      ).toBe(256);
    }
  });
});

describe('leniency where producers differ', () => {
  it('accepts attributes without the ovf: prefix', () => {
    const env = readOvf(descriptor({ prefix: false }));
    expect(env.references).toEqual([{ id: 'f1', href: 'disk.vmdk' }]);
    expect(toVmConfig(env).config.disks[0].path).toBe('disk.vmdk');
  });

  it('reads item properties written without the rasd: prefix (no namespace)', () => {
    const text = descriptor()
      .replace('xmlns:ovf=', 'xmlns:x=')
      .replace(/ xmlns="[^"]*"/, ' xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"')
      .replace(/<(\/?)(?!ovf:|rasd:|\?|\/)([A-Za-z]+)/g, '<$1ovf:$2')
      .replace(/<(\/?)rasd:/g, '<$1');
    const env = readOvf(text);
    expect(toVmConfig(env).config).toMatchObject({ cpus: 1, memoryMiB: 256 });
    expect(toVmConfig(env).config.disks[0].path).toBe('disk.vmdk');
  });

  it('accepts envelope namespaces with a trailing slash or .xsd, and https', () => {
    for (const ns of [
      'http://schemas.dmtf.org/ovf/envelope/1/',
      'http://schemas.dmtf.org/ovf/envelope/1.xsd',
      'https://schemas.dmtf.org/ovf/envelope/1',
    ]) {
      const env = readOvf(descriptor({ ns }));
      expect(env.family).toBe('1');
      expect(virtualSystems(env.content)).toHaveLength(1);
    }
  });

  it('reads UTF-16 descriptors (with a byte order mark) and latin-1 ones that say so', () => {
    const text = descriptor().replace('encoding="UTF-8"', 'encoding="UTF-16"');
    const le = new Uint8Array([0xff, 0xfe, ...Buffer.from(text, 'utf16le')]);
    expect(readOvf(le).references[0].href).toBe('disk.vmdk');
    const latin = Buffer.from(
      descriptor()
        .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        .replace('<Info>vm</Info>', '<Info>caf\u00e9</Info>'),
      'latin1',
    );
    expect(virtualSystems(readOvf(new Uint8Array(latin)).content)[0].info?.text).toBe('caf\u00e9');
  });

  it('reads the RASD properties of a 2.x EthernetPortItem whose namespace URI has a typo', () => {
    const env = readOvf(sample('govmomi/virtualsystemcollection.ovf'));
    const hw = findSection(virtualSystems(env.content)[0].sections, 'VirtualHardwareSection')!;
    const nic = hw.items.find((i) => i.element === 'EthernetPortItem')!;
    expect(prop(nic, 'Connection')).toBe('VS Network');
  });
});

describe('bad descriptors', () => {
  it('names the line and the open element of malformed XML', async () => {
    const broken = descriptor().replace('</VirtualHardwareSection>', '</VirtualHardwareSectio>');
    const e = await ovfError(() => readOvf(broken, { file: 'x.ovf' }));
    expect(e.code).toBe('xml');
    expect(e.where.line).toBe(13);
    expect(e.where.path).toBe('/Envelope/VirtualSystem/VirtualHardwareSection');
    expect(e.message).toMatch(
      /^x\.ovf, line 13, \/Envelope\/VirtualSystem\/VirtualHardwareSection: malformed XML/,
    );
  });

  it('rejects truncated descriptors', async () => {
    const text = descriptor();
    for (const cut of [10, 100, 700, text.length - 12]) {
      const e = await ovfError(() => readOvf(text.slice(0, cut)));
      expect(['xml', 'not-ovf'], `cut at ${cut}`).toContain(e.code);
    }
  });

  it('rejects DTDs, so no entity can expand', async () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY a ' +
        '"aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><Envelope ' +
        'xmlns="http://schemas.dmtf.org/ovf/envelope/1"><References/>&b;</Envelope>';
    const e = await ovfError(() => readOvf(bomb));
    expect(e.message).toMatch(/DOCTYPE is not allowed/);
  });

  it('refuses descriptors beyond the size limit before parsing them', async () => {
    const huge = descriptor().replace(
      '<Info>vm</Info>',
      `<Info>${'x'.repeat(9 * 1024 * 1024)}</Info>`,
    );
    const e = await ovfError(() => readOvf(huge));
    expect(e.code).toBe('too-large');
    expect((await ovfError(() => readOvf(descriptor(), { maxBytes: 100 }))).code).toBe('too-large');
  });

  it('says what is wrong with a document that is not an OVF envelope', async () => {
    expect((await ovfError(() => readOvf('<html/>'))).message).toMatch(
      /root element is <html>, not an OVF <Envelope>/,
    );
    expect((await ovfError(() => readOvf('<Envelope xmlns="urn:other"/>'))).code).toBe('not-ovf');
  });

  it('requires the attributes DSP0243 makes mandatory, naming where they are missing', async () => {
    const e = await ovfError(() => readOvf(descriptor().replace('ovf:diskId="d1" ', '')));
    expect(e.message).toMatch(/\/Envelope\/DiskSection\/Disk: Disk has no ovf:diskId/);
    expect(e.where.line).toBe(5);
    const noHref = await ovfError(() => readOvf(descriptor().replace('ovf:href="disk.vmdk"', '')));
    expect(noHref.message).toMatch(/File "f1" has no ovf:href/);
  });

  it('writes what it reads for both OVF 1.x and 2.x', () => {
    const env = readOvf(descriptor());
    const v2 = readOvf(writeOvf(env, { family: '2' }));
    expect(v2.family).toBe('2');
    expect(toVmConfig(v2).config).toEqual(toVmConfig(env).config);
  });
});

describe('mapping policy', () => {
  /** A VirtualSystem with the given RASD items (each a map of properties). */
  function withItems(items: Record<string, string>[]): string {
    const sorted = (p: Record<string, string>) =>
      Object.fromEntries(Object.keys(p).sort().map((k) => [k, p[k]]));
    const body = items.map((p) => item(sorted(p))).join('\n');
    const units = 'ovf:capacityAllocationUnits="byte * 2^20"';
    const disks = [1, 2, 3, 4, 5].map(
      (i) => `<Disk ovf:diskId="d${i}" ovf:capacity="${i}" ${units}/>`,
    );
    return `<Envelope xmlns="${OVF_NS}" xmlns:ovf="${OVF_NS}" xmlns:rasd="${RASD_NS}">
<References/><DiskSection><Info/>${disks.join('')}</DiskSection>
<VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection><Info/>
${body}
</VirtualHardwareSection></VirtualSystem></Envelope>`;
  }
  const cpu = { InstanceID: '1', ResourceType: '3', VirtualQuantity: '1' };
  const mem = {
    InstanceID: '2',
    ResourceType: '4',
    VirtualQuantity: '64',
    AllocationUnits: 'byte * 2^20',
  };
  const scsi = { InstanceID: '10', ResourceType: '6', ResourceSubType: 'lsilogic', Address: '0' };
  const disk = (i: number) => ({
    InstanceID: String(20 + i),
    ResourceType: '17',
    Parent: '10',
    AddressOnParent: String(i),
    HostResource: `ovf:/disk/d${i}`,
  });

  it('attaches a fifth drive nowhere, and says so', () => {
    const r = toVmConfig(
      readOvf(withItems([cpu, mem, scsi, disk(1), disk(2), disk(3), disk(4), disk(5)])),
    );
    expect(r.config.disks.map((d) => d.capacityBytes)).toEqual(
      [1, 2, 3, 4].map((i) => i * 2 ** 20),
    );
    expect(r.notes.find((n) => n.subject.startsWith('Item 25'))).toMatchObject({
      kind: 'unsupported',
      message: 'no free IDE slot (the PC has four); left out',
    });
  });

  it('maps serial ports to COM1..COM4 and reports floppies, USB and sound as left out', () => {
    const r = toVmConfig(readOvf(withItems([cpu, mem,
      { InstanceID: '3', ResourceType: '21', ElementName: 'serial1' },
      { InstanceID: '4', ResourceType: '21', ElementName: 'serial0' },
      { InstanceID: '5', ResourceType: '14', ElementName: 'floppy0' },
      { InstanceID: '6', ResourceType: '23' },
      { InstanceID: '7', ResourceType: '35' },
    ])));
    expect(r.config.serial).toEqual([{ port: 2, backend: 'null' }, { port: 1, backend: 'stdio' }]);
    expect(r.notes.filter((n) => n.kind === 'unsupported').map((n) => n.subject)).toEqual([
      'Item 5 "floppy0" (Floppy Drive)', 'Item 6 (USB Controller)', 'Item 7 (Sound Card)',
    ]);
  });

  it('keeps IDE drives where the descriptor puts them and moves a clashing one', () => {
    const ide1 = { InstanceID: '11', ResourceType: '5', Address: '1' };
    const onIde = (i: number, unit: string) => ({
      ...disk(i),
      Parent: '11',
      AddressOnParent: unit,
    });
    const r = toVmConfig(
      readOvf(withItems([cpu, mem, ide1, onIde(1, '1'), onIde(2, '1'), onIde(3, '7')])),
    );
    expect(r.config.disks.map((d) => d.controller)).toEqual([
      { type: 'ide', channel: 1, unit: 1 },
      { type: 'ide', channel: 0, unit: 0 },
      { type: 'ide', channel: 0, unit: 1 },
    ]);
    expect(r.notes.find((n) => n.subject.startsWith('Item 23'))?.message).toMatch(
      /AddressOnParent 7 of IDE controller 11/,
    );
  });
});

describe('ProductSection properties (DSP0243 9.5)', () => {
  it('warns about values that do not fit their type and unknown types', () => {
    const text = descriptor().replace(
      '<VirtualHardwareSection>',
      `<ProductSection ovf:class="app"><Info/>
      <Property ovf:key="port" ovf:type="uint16" ovf:value="70000"/>
      <Property ovf:key="ssh" ovf:type="boolean" ovf:value="yes"/>
      <Property ovf:key="ratio" ovf:type="real32" ovf:value="0.5"/>
      <Property ovf:key="n" ovf:type="int" ovf:value="  42  "/>
      <Property ovf:key="x" ovf:type="uint99"/>
    </ProductSection><VirtualHardwareSection>`,
    );
    const v = validateOvf(readOvf(text));
    expect(v.ok).toBe(true);
    expect(v.issues.map((i) => `${i.severity} ${i.where}: ${i.message}`)).toEqual([
      'warning VirtualSystem[vm]/ProductSection[app]/Property[port]: ' +
        '70000 is outside uint16 (0..65535)',
      'warning VirtualSystem[vm]/ProductSection[app]/Property[ssh]: ' +
        '"yes" is not a boolean (true, false, 1, 0)',
      'warning VirtualSystem[vm]/ProductSection[app]/Property[x]: unknown property type "uint99"',
    ]);
  });

  it('refuses two DiskSections in one envelope', () => {
    const text = descriptor().replace(
      '<VirtualSystem',
      '<DiskSection><Info/></DiskSection><VirtualSystem',
    );
    expect(validateOvf(readOvf(text)).issues).toContainEqual({
      severity: 'error',
      where: 'Envelope',
      message: 'more than one DiskSection',
    });
  });
});

describe('differencing disks', () => {
  it('leaves a disk with ovf:parentRef out of the VM, and says why', () => {
    const text = descriptor().replace(
      '<Disk ovf:diskId="d1"',
      '<Disk ovf:diskId="base" ovf:capacity="1"/><Disk ovf:parentRef="base" ovf:diskId="d1"',
    );
    const r = toVmConfig(readOvf(text));
    expect(r.config.disks).toEqual([]);
    expect(r.notes.find((n) => n.kind === 'unsupported')?.message).toMatch(
      /differencing disk \(ovf:parentRef "base"\)/,
    );
  });
});
