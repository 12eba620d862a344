/**
 * The DSP0243 "shall" rules (listed in bindings/ovf/validate-rules.ts), one test each:
 * a descriptor in VMware's shape that breaks exactly that rule is refused, naming the
 * rule's section; the same descriptor without the break is valid.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOvf } from '../../bindings/ovf/reader.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { importOva } from '../../bindings/ovf/node/files.js';
import { cli, cpu, mem, ovfError, tempDir, vmdk, vmware } from './helpers.js';

const HW = cpu(1) + mem('<rasd:VirtualQuantity>64</rasd:VirtualQuantity>');
const errors = (text: string) =>
  validateOvf(readOvf(text)).issues.filter((i) => i.severity === 'error').map((i) => i.message);
const warnings = (text: string) =>
  validateOvf(readOvf(text)).issues.filter((i) => i.severity === 'warning').map((i) => i.message);
const VMW = 'xmlns:vmw="http://www.vmware.com/schema/ovf"';

describe('DSP0243 rules', () => {
  it('the base descriptor is valid', () => {
    expect(errors(vmware(HW))).toEqual([]);
  });

  describe('7.3: a required extension not understood fails the consumer', () => {
    const section = (req: string) =>
      vmware(HW, { inVs: `<vmw:FooSection ${VMW} ${req}><Info>x</Info></vmw:FooSection>` });
    it('an unknown section marked ovf:required="true" is an error', () => {
      expect(errors(section('ovf:required="true"')).join()).toMatch(
        /<vmw:FooSection> .* ovf:required="true" .*DSP0243 7\.3/,
      );
    });
    it('one with no ovf:required (default true) is a warning; "false" is silent', () => {
      expect(errors(section(''))).toEqual([]);
      expect(warnings(section('')).join()).toMatch(/defaults to true \(DSP0243 7\.3\); ignored/);
      expect(warnings(section('ovf:required="false"'))).toEqual([]);
    });
    it('a known section holding a required foreign element is not understood either', () => {
      const text = vmware(HW + `<vmw:Config ${VMW} ovf:required="true" vmw:key="x" vmw:value="1"/>`);
      expect(errors(text).join()).toMatch(/holds <vmw:Config> .* ovf:required="true"/);
      expect(errors(text.replace('ovf:required="true"', 'ovf:required="false"'))).toEqual([]);
    });
    it('import refuses it (exit 2)', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'a.ovf'), section('ovf:required="true"'));
      const r = await cli('import', join(dir, 'a.ovf'), join(dir, 'vm'));
      expect(r.status).toBe(2);
      expect(r.err).toMatch(/vmw:FooSection.*DSP0243 7\.3/);
    });
  });

  it('7.2: a VirtualSystem needs an Info', () => {
    expect(errors(vmware(HW).replace('<Info>A virtual machine</Info>', ''))).toContain(
      'VirtualSystem has no Info (DSP0243 7.2)',
    );
  });

  it('9: every section needs an Info', () => {
    expect(errors(vmware(HW).replace('<Info>Virtual disk information</Info>', ''))).toContain(
      'DiskSection has no Info (DSP0243 9: every section has one)',
    );
  });

  it('9.1: a DiskSection only at the envelope level', () => {
    const text = vmware(HW, { inVs: '<DiskSection><Info>d</Info></DiskSection>' });
    expect(errors(text).join()).toMatch(/valid at the envelope level only \(DSP0243 9\.1\)/);
  });

  it('9.2: a NetworkSection only at the envelope level', () => {
    const text = vmware(HW, { inVs: '<NetworkSection><Info>n</Info></NetworkSection>' });
    expect(errors(text).join()).toMatch(/valid at the envelope level only \(DSP0243 9\.2\)/);
  });

  it('9.1: a capacity of zero is refused', () => {
    const text = vmware(HW, { disks: '<Disk ovf:diskId="d" ovf:capacity="0"/>' });
    expect(errors(text).join()).toMatch(/capacity 0/);
  });

  it('9.1: a negative capacity is refused', () => {
    const text = vmware(HW, { disks: '<Disk ovf:diskId="d" ovf:capacity="-1"/>' });
    expect(errors(text).join()).toMatch(/capacity "-1" is not a non-negative integer/);
  });

  it('9.2: network names are unique', () => {
    const net = '<Network ovf:name="lan"><Description>x</Description></Network>';
    const text = vmware(HW, { head: `<NetworkSection><Info>n</Info>${net}${net}</NetworkSection>` });
    expect(errors(text)).toContain('duplicate network name "lan" (DSP0243 9.2)');
  });

  it('9.4: an AnnotationSection holds an Annotation', () => {
    const text = vmware(HW, { inVs: '<AnnotationSection><Info>a</Info></AnnotationSection>' });
    expect(errors(text)).toContain('AnnotationSection has no Annotation (DSP0243 9.4)');
  });

  it('9.6: an EulaSection holds a License', () => {
    const text = vmware(HW, { inVs: '<EulaSection><Info>e</Info></EulaSection>' });
    expect(errors(text)).toContain('EulaSection has no License (DSP0243 9.6)');
  });

  const product = (body: string, attrs = 'ovf:class="app"') =>
    `<ProductSection ${attrs}><Info>p</Info>${body}</ProductSection>`;
  it('9.5: a Property has an ovf:type', () => {
    const text = vmware(HW, { inVs: product('<Property ovf:key="a" ovf:value="1"/>') });
    expect(errors(text)).toContain('Property has no ovf:type (DSP0243 9.5)');
  });
  it('9.5: property keys are unique in a ProductSection', () => {
    const p = '<Property ovf:key="a" ovf:type="string"/>';
    expect(errors(vmware(HW, { inVs: product(p + p) }))).toContain(
      'duplicate property key "a" (DSP0243 9.5)',
    );
  });
  it('9.5: ovf:class and ovf:instance tell the ProductSections of a system apart', () => {
    const text = vmware(HW, { inVs: product('') + product('') });
    expect(errors(text).join()).toMatch(/two ProductSections with the same ovf:class "app"/);
    expect(errors(vmware(HW, { inVs: product('') + product('', 'ovf:class="other"') })))
      .toEqual([]);
  });

  it('9.7: a StartupSection only in a VirtualSystemCollection', () => {
    const text = vmware(HW, {
      inVs: '<StartupSection><Info>s</Info><Item ovf:id="vm" ovf:order="0"/></StartupSection>',
    });
    expect(errors(text)).toContain(
      'a StartupSection is valid in a VirtualSystemCollection only (DSP0243 9.7)',
    );
  });

  const collection = (items: string) => vmware(HW)
    .replace('<VirtualSystem ovf:id="vm">',
      '<VirtualSystemCollection ovf:id="c"><Info>c</Info>' +
        `<StartupSection><Info>s</Info>${items}</StartupSection>` +
        '<VirtualSystem ovf:id="vm">')
    .replace('</VirtualSystem>', '</VirtualSystem></VirtualSystemCollection>');
  it('9.7: startup items name the collection\'s children, with a non-negative order', () => {
    expect(errors(collection('<Item ovf:id="vm" ovf:order="0"/>'))).toEqual([]);
    expect(errors(collection('<Item ovf:id="nope" ovf:order="0"/>'))).toContain(
      'ovf:id "nope" names no direct child of the collection (DSP0243 9.7)',
    );
    expect(errors(collection('<Item ovf:id="vm" ovf:order="-1"/>'))).toContain(
      'ovf:order "-1" is not a non-negative integer (DSP0243 9.7)',
    );
  });

  const options = (confs: string) => vmware(HW, {
    head: `<DeploymentOptionSection><Info>o</Info>${confs}</DeploymentOptionSection>`,
  });
  const conf = (id: string, def = '') =>
    `<Configuration ovf:id="${id}" ${def}><Label>${id}</Label><Description>x</Description>` +
    '</Configuration>';
  it('9.8: configuration ids are unique', () => {
    expect(errors(options(conf('a') + conf('a')))).toContain(
      'duplicate configuration id "a" (DSP0243 9.8)',
    );
  });
  it('9.8: at most one default configuration', () => {
    const d = 'ovf:default="true"';
    expect(errors(options(conf('a', d) + conf('b', d))).join()).toMatch(
      /2 configurations are ovf:default="true"/,
    );
    expect(errors(options(conf('a', d) + conf('b')))).toEqual([]);
  });

  it('9.9: the OperatingSystemSection id is a CIM OsType code', () => {
    const os = (id: string) =>
      vmware(HW, { inVs: `<OperatingSystemSection ovf:id="${id}"><Info>o</Info></OperatingSystemSection>` });
    expect(errors(os('36'))).toEqual([]);
    expect(errors(os('linux')).join()).toMatch(/not a CIM_OperatingSystem\.OsType code/);
  });

  it('8.3: a memory item of zero bytes is refused', () => {
    const text = vmware(cpu(1) + mem('<rasd:VirtualQuantity>0</rasd:VirtualQuantity>'));
    expect(errors(text)).toContain('memory VirtualQuantity of 0 bytes');
  });

  it('8.3: a processor count of zero is refused', () => {
    const text = vmware(cpu(0) + mem('<rasd:VirtualQuantity>64</rasd:VirtualQuantity>'));
    expect(errors(text).join()).toMatch(/VirtualQuantity "0" is not a processor count/);
  });

  it('9.1: a raw file labelled VMDK is refused at import', async () => {
    const dir = tempDir();
    const disks = '<Disk ovf:diskId="d" ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^20"' +
      ' ovf:fileRef="f" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html' +
      '#streamOptimized"/>';
    const drive = '<Item><rasd:ElementName>disk</rasd:ElementName>' +
      '<rasd:HostResource>ovf:/disk/d</rasd:HostResource><rasd:InstanceID>9</rasd:InstanceID>' +
      '<rasd:ResourceType>17</rasd:ResourceType></Item>';
    writeFileSync(join(dir, 'a.ovf'), vmware(HW + drive, {
      refs: '<File ovf:href="disk.vmdk" ovf:id="f"/>', disks,
    }));
    writeFileSync(join(dir, 'disk.vmdk'), new Uint8Array(2 ** 20));
    const e = await ovfError(() => importOva(join(dir, 'a.ovf'), join(dir, 'vm')));
    expect(e.message).toMatch(
      /disk image "disk\.vmdk" is a raw image .*ovf:format says vmdk \(DSP0243 9\.1\)/,
    );
    // The same package with a real VMDK imports.
    vmdk(join(dir, 'disk.vmdk'));
    const r = await importOva(join(dir, 'a.ovf'), join(dir, 'vm2'));
    expect(r.config.disks).toHaveLength(1);
  });
});
