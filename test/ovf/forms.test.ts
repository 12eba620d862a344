/**
 * Descriptor forms DSP0243 and DSP0004 allow, which real producers write, each read,
 * validated and mapped as the standard says (DSP0243 1.1/2.x sections named per test).
 * Expected values come from the descriptors' own words (a Configuration's Description
 * "4 vCPUs, 2 GB RAM, 3 NICs"), from the standards' arithmetic, or from the rules quoted.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOvf } from '../../bindings/ovf/reader.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { toVmConfig } from '../../bindings/ovf/to-config.js';
import { parseUnit, sizeInBytes } from '../../bindings/ovf/units.js';
import { resolveHref } from '../../bindings/ovf/paths.js';
import { findSection } from '../../bindings/ovf/model.js';
import { importOva } from '../../bindings/ovf/node/files.js';
import { writeOva } from '../../bindings/ovf/ova-write.js';
import { REPO, cli, cpu, mem, ovfError, tempDir, vmdk, vmware } from './helpers.js';

const FORMS = join(REPO, 'test/fixtures/ovf/forms');
const form = (n: string) => readFileSync(join(FORMS, n), 'utf8');

describe('configuration-specific items sharing an InstanceID (DSP0243 9.8), Cisco shape', () => {
  const env = readOvf(form('csr-style.ovf'));

  it('validates: one item per configuration is not a duplicate', () => {
    const v = validateOvf(env);
    expect(v.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('the default configuration (ovf:default) gets its own items: 4 vCPUs, 2 GB, 3 NICs', () => {
    const r = toVmConfig(env);
    expect(r.configuration).toBe('4CPU-2GB');
    expect([r.config.cpus, r.config.memoryMiB, r.config.nics.length]).toEqual([4, 2048, 3]);
  });

  for (const [id, cpus, mib, nics] of [
    ['1CPU-1GB', 1, 1024, 1],
    ['2CPU-2GB', 2, 2048, 3],
  ] as const) {
    it(`--configuration ${id} gives what its Description says`, () => {
      const conf = findSection(env.sections, 'DeploymentOptionSection')!.configurations
        .find((c) => c.id === id)!;
      expect(conf.description!.text).toContain(`${cpus} vCPU`);
      const r = toVmConfig(env, { configuration: id });
      expect([r.config.cpus, r.config.memoryMiB, r.config.nics.length]).toEqual([cpus, mib, nics]);
      // No "second processor item" note: the replaced item is not a second resource.
      expect(r.notes.some((n) => /second/.test(n.message))).toBe(false);
    });
  }

  it('two items naming the same configuration with one InstanceID are a duplicate', () => {
    const text = form('csr-style.ovf').replace(
      '<ovf:Item ovf:configuration="4CPU-2GB">',
      '<ovf:Item ovf:configuration="4CPU-2GB 2CPU-2GB">',
    );
    const v = validateOvf(readOvf(text));
    expect(v.ok).toBe(false);
    expect(v.issues.map((i) => i.message).join('\n')).toMatch(
      /duplicate InstanceID "1" in configuration "2CPU-2GB"/,
    );
  });

  it('import --configuration applies it (CLI)', async () => {
    const dir = tempDir();
    copyFileSync(join(FORMS, 'csr-style.ovf'), join(dir, 'r.ovf'));
    vmdk(join(dir, 'router.vmdk'));
    const r = await cli('import', '--configuration', '2CPU-2GB', join(dir, 'r.ovf'), join(dir, 'vm'));
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'vm', 'vm.json'), 'utf8'));
    expect([cfg.cpus, cfg.memoryMiB, cfg.nics.length]).toEqual([2, 2048, 3]);
  });
});

describe('ovf:bound ranges (DSP0243 8.4)', () => {
  it('min/normal/max items for one InstanceID validate; the normal value is used', () => {
    const env = readOvf(form('bound.ovf'));
    const v = validateOvf(env);
    expect(v.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const r = toVmConfig(env);
    expect(r.config.cpus).toBe(2);
    expect(r.notes.some((n) => /range 1\.\.8/.test(n.message))).toBe(true);
  });

  const rule = (items: string) =>
    validateOvf(readOvf(vmware(items))).issues.filter((i) => i.severity === 'error')
      .map((i) => i.message).join('\n');
  it('a second min marker for one InstanceID is refused', () => {
    expect(rule(cpu(2) + cpu(1, 'ovf:bound="min"') + cpu(1, 'ovf:bound="min"'))).toMatch(
      /more than one ovf:bound="min"/,
    );
  });
  it('a marker with no normal item is refused', () => {
    expect(rule(cpu(1, 'ovf:bound="max"'))).toMatch(/no normal item/);
  });
  it('a normal value outside its range is refused', () => {
    expect(rule(cpu(9) + cpu(8, 'ovf:bound="max"'))).toMatch(/outside its range/);
  });
  it('a bound other than min, max, normal is refused', () => {
    expect(rule(cpu(2, 'ovf:bound="maximum"'))).toMatch(/none of min, max, normal/);
  });
  it('a marker of another ResourceType is refused', () => {
    const wrong = cpu(4, 'ovf:bound="max"').replace(
      '<rasd:ResourceType>3<', '<rasd:ResourceType>4<');
    expect(rule(cpu(2) + wrong)).toMatch(/ResourceType differs/);
  });
});

describe('File hrefs (DSP0243 7.1: relative URLs)', () => {
  it('resolves dot segments and backslashes; only a reference above the package is outside', () => {
    expect(resolveHref('disks/../d.vmdk')).toEqual({ kind: 'member', name: 'd.vmdk', backslash: false });
    expect(resolveHref('disks\\d.vmdk')).toEqual({ kind: 'member', name: 'disks/d.vmdk', backslash: true });
    expect(resolveHref('./a/./b.iso')).toMatchObject({ kind: 'member', name: 'a/b.iso' });
    expect(resolveHref('../shared/base.vmdk')).toMatchObject({ kind: 'outside' });
    expect(resolveHref('a/../../b')).toMatchObject({ kind: 'outside' });
    expect(resolveHref('..\\b')).toMatchObject({ kind: 'outside' });
    expect(resolveHref('/etc/passwd')).toMatchObject({ kind: 'outside' });
    expect(resolveHref('C:\\x.vmdk')).toMatchObject({ kind: 'outside' });
  });

  const shared = vmware(cpu(1), {
    refs: '<File ovf:href="..\\shared\\base.vmdk" ovf:id="f1"/>' +
      '<File ovf:href="disks\\own.vmdk" ovf:id="f2"/>',
    disks: '<Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^20" ' +
      'ovf:diskId="d1" ovf:fileRef="f1"/>',
  });

  it('a descriptor naming a shared disk outside the package parses, inspects and maps', async () => {
    const env = readOvf(shared);
    expect(env.references.map((f) => f.href)).toEqual(['..\\shared\\base.vmdk', 'disks\\own.vmdk']);
    const v = validateOvf(env);
    expect(v.ok).toBe(true);
    expect(v.issues.map((i) => i.message).join('\n')).toMatch(/leaves the package/);
    const dir = tempDir();
    writeFileSync(join(dir, 'shared.ovf'), shared);
    const r = await cli('inspect', join(dir, 'shared.ovf'));
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/outside the package \(not read\): \.\.\\shared\\base\.vmdk/);
  });

  it('validate (file checks) and import refuse only the access that leaves the package', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'shared.ovf'), shared);
    mkdirSync(join(dir, 'disks'));
    vmdk(join(dir, 'disks', 'own.vmdk'));
    const v = await cli('validate', join(dir, 'shared.ovf'));
    expect(v.status).toBe(2);
    expect(v.err).toMatch(/File href "\.\.\\shared\\base\.vmdk" leaves the package/);
    expect(v.err).not.toMatch(/disks\\own\.vmdk.*missing|not beside/);
    const e = await ovfError(() => importOva(join(dir, 'shared.ovf'), join(dir, 'out')));
    expect(e.code).toBe('unsafe-path');
    expect(e.message).toMatch(/"\.\.\\shared\\base\.vmdk" leaves the package/);
  });

  it('in an OVA: inspect reports the outside file, validate and import refuse it', async () => {
    const dir = tempDir();
    vmdk(join(dir, 'own.vmdk'));
    const own = new Uint8Array(readFileSync(join(dir, 'own.vmdk')));
    const chunks: Uint8Array[] = [];
    for await (const c of writeOva('shared.ovf', new TextEncoder().encode(shared), [
      { name: 'disks/own.vmdk', size: own.length, open: async function* () { yield own; } },
    ])) chunks.push(c);
    writeFileSync(join(dir, 'shared.ova'), Buffer.concat(chunks));
    const i = await cli('inspect', join(dir, 'shared.ova'));
    expect(i.status).toBe(0);
    expect(i.out).toMatch(/outside the package \(not read\): \.\.\\shared\\base\.vmdk/);
    const v = await cli('validate', join(dir, 'shared.ova'));
    expect(v.status).toBe(2);
    expect(v.err).toMatch(/File href "\.\.\\shared\\base\.vmdk" leaves the package/);
    const e = await ovfError(() => importOva(join(dir, 'shared.ova'), join(dir, 'out')));
    expect(e.code).toBe('unsafe-path');
  });

  it('an href with ".." that stays inside imports from the member it names', async () => {
    const dir = tempDir();
    copyFileSync(join(FORMS, 'bound.ovf'), join(dir, 'app.ovf'));
    vmdk(join(dir, 'app-disk1.vmdk'));
    const r = await importOva(join(dir, 'app.ovf'), join(dir, 'vm'));
    // Disk 1 from disks/../app-disk1.vmdk; disk 2 (ovf:fileRef="") created blank.
    expect(r.config.disks.map((d) => d.capacityBytes)).toEqual([2 ** 20, 2 * 2 ** 20]);
    expect(r.config.memoryMiB).toBe(256);
  });
});

describe('programmatic units with blanks (DSP0004 ANNEX C.1)', () => {
  for (const u of ['byte * 2 ^ 30', 'byte * 2^ 30', 'byte*2 ^30', ' byte  *  2^30 ', 'byte*2^30'])
    it(`"${u}" is 2^30 bytes`, () => {
      expect(parseUnit(u)).toEqual({ base: 'byte', multiplier: 2n ** 30n });
      expect(sizeInBytes('3', u, 'capacity', 2 ** 46, {})).toBe(3 * 2 ** 30);
    });
  it('"byte * 10 ^ 3" is 1000 bytes', () => {
    expect(parseUnit('byte * 10 ^ 3')).toEqual({ base: 'byte', multiplier: 1000n });
  });
});

describe('blank disks: ovf:fileRef="" (DSP0243 9.1), as VMware writes them', () => {
  it('validates and maps to an empty disk of its capacity', () => {
    const env = readOvf(form('bound.ovf'));
    expect(validateOvf(env).ok).toBe(true);
    const r = toVmConfig(env);
    expect(r.config.disks[1]).toMatchObject({ capacityBytes: 2 * 2 ** 20 });
    expect(r.config.disks[1].path).toBeUndefined();
  });
});

describe('Reservation or Limit without VirtualQuantity (CIM RASD)', () => {
  it('memory from the Reservation, else the Limit', () => {
    for (const [body, mib] of [
      ['<rasd:Reservation>512</rasd:Reservation>', 512],
      ['<rasd:Limit>768</rasd:Limit>', 768],
      ['<rasd:Reservation>256</rasd:Reservation><rasd:Limit>1024</rasd:Limit>', 256],
    ] as const) {
      const env = readOvf(vmware(cpu(1) + mem(body)));
      expect(validateOvf(env).ok).toBe(true);
      expect(toVmConfig(env).config.memoryMiB).toBe(mib);
    }
  });
  it('a processor with only a speed reservation is one vCPU', () => {
    const item = `<Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
      <rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>
      <rasd:Reservation>1000</rasd:Reservation><rasd:ResourceType>3</rasd:ResourceType></Item>`;
    const env = readOvf(vmware(item));
    expect(validateOvf(env).ok).toBe(true);
    expect(toVmConfig(env).config.cpus).toBe(1);
  });
});

describe('detection by content, not by file name', () => {
  it('a descriptor named .xml or with no extension is read as one, not as a manifest', async () => {
    const dir = tempDir();
    for (const name of ['appliance.xml', 'descriptor']) {
      copyFileSync(join(FORMS, 'csr-style.ovf'), join(dir, name));
      const r = await cli('inspect', join(dir, name));
      expect(r.err).toBe('');
      expect(r.out).toMatch(/OVF 1\.x descriptor/);
      const v = await cli('validate', join(dir, name));
      expect(v.out).toMatch(/valid/);
    }
  });
  it('an OVA named otherwise is read as a tar', async () => {
    const dir = tempDir();
    copyFileSync(join(REPO, 'appliances/jeos/jeos.ova'), join(dir, 'jeos.bin'));
    const r = await cli('inspect', join(dir, 'jeos.bin'));
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/package, descriptor/);
  });
  it('imports a descriptor named .xml with its files', async () => {
    const dir = tempDir();
    copyFileSync(join(FORMS, 'csr-style.ovf'), join(dir, 'router.xml'));
    vmdk(join(dir, 'router.vmdk'));
    const r = await importOva(join(dir, 'router.xml'), join(dir, 'vm'));
    expect(r.config.cpus).toBe(4);
  });
});

describe('rasd:InstanceId (the pre-2.x CIM spelling many producers write)', () => {
  it('is read as InstanceID with a warning, as ovftool does', () => {
    const env = readOvf(vmware(cpu(2, '', 'InstanceId') + mem(
      '<rasd:VirtualQuantity>64</rasd:VirtualQuantity>')));
    const v = validateOvf(env);
    expect(v.ok).toBe(true);
    expect(v.issues).toContainEqual(expect.objectContaining({
      severity: 'warning', message: expect.stringMatching(/InstanceId.*read as InstanceID/),
    }));
    expect(toVmConfig(env).config.cpus).toBe(2);
  });
});

describe('undeclared namespace prefixes (Namespaces in XML 1.0 section 5)', () => {
  it('names the prefix and its line', async () => {
    const text = vmware(cpu(1)).replace('<Info>A virtual machine</Info>',
      '<Info>A virtual machine</Info>\n    <vmw:BootOrderSection ovf:required="false"/>');
    const e = await ovfError(() => readOvf(text, { file: 'x.ovf' }));
    const line = text.split('\n').findIndex((l) => l.includes('vmw:BootOrder')) + 1;
    expect(e.message).toBe(
      `x.ovf, line ${line}: the namespace prefix "vmw" (in vmw:BootOrderSection) is not ` +
        'declared (no xmlns:vmw="..." on it or an enclosing element)',
    );
  });
  it('on an attribute too', async () => {
    const text = vmware(cpu(1)).replace('<VirtualHardwareSection>',
      '<VirtualHardwareSection vbox:x="1">');
    const e = await ovfError(() => readOvf(text));
    expect(e.message).toMatch(/prefix "vbox" \(in vbox:x\) is not declared/);
  });
});
