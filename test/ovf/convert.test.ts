/**
 * `ovf convert`: descriptors between OVF 0.9, 1.x and 2.x, and packages between OVA, OVF,
 * a VMware .vmx with its disks, and a VM folder.
 * References: the corpus of real descriptors (test/fixtures/ovf, other tools' output),
 * compared structurally (XML infosets: every element, attribute and text in its
 * namespace, the three OVF envelope namespaces and the 0.9 forms taken as one); the .vmx
 * files VMware products wrote (test/fixtures/ovf/vmx, from libvirt's tests); what
 * ovftool's documentation says a conversion gives (VMware OVF Tool User's Guide:
 * `ovftool vm.vmx vm.ova` packs the disks as streamOptimized VMDK named `NAME-disk1.vmdk`
 * after the descriptor and manifest; SHA256 manifests since ovftool 4.2, SHA1 with
 * `--shaAlgorithm=SHA1`); qemu-img for the disks (`qemu-img compare` with the .vmx's own
 * VMDK, `qemu-img info` naming the subformat).
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readOvf } from '../../bindings/ovf/reader.js';
import { convertDescriptor, type OvfVersion } from '../../bindings/ovf/convert.js';
import { describeVmx, parseVmx } from '../../bindings/ovf/vmx.js';
import { parseXml } from '../../bindings/ovf/xml-parse.js';
import { fromDom, isElementNode, type DomLike, type XmlElement } from '../../bindings/ovf/xml-tree.js';
import { ovfFamily } from '../../bindings/ovf/namespaces.js';
import { virtualSystems } from '../../bindings/ovf/model.js';
import { missing, normalize } from './xml-compare.js';
import { REPO, cli, hasGnuTar, hasQemuImg, tempDir } from './helpers.js';

const OVF = 'urn:ovf-any-version';

/** The corpus: every .ovf of the fixtures (real samples and producer-shaped forms). */
function corpus(): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string, label: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${label}/${e.name}`);
      else if (e.name.endsWith('.ovf')) out.push([`${label}/${e.name}`, join(dir, e.name)]);
    }
  };
  walk(join(REPO, 'test/fixtures/ovf'), 'fixtures');
  return out.sort();
}

/**
 * One namespace for the three OVF envelopes, InstanceId read as InstanceID (the 0.9 CIM
 * spelling), ovf:version left out (it is the version): what stays when only the version
 * changes.
 */
function versionFree(e: XmlElement): XmlElement {
  const inOvf = ovfFamily(e.ns) !== null;
  const ns = inOvf ? OVF : e.ns;
  // An unqualified attribute of an OVF element is the ovf: attribute (as xml-compare.ts).
  const attrNs = (a: string | null) =>
    (a === null ? (inOvf ? OVF : null) : ovfFamily(a) !== null ? OVF : a);
  return {
    ns,
    name: e.name === 'InstanceId' ? 'InstanceID' : e.name,
    attrs: e.attrs.filter((a) => !(a.name === 'version' && e.name === 'Envelope'))
      .map((a) => ({ ...a, ns: attrNs(a.ns) })),
    children: e.children.map((c) => (isElementNode(c) ? versionFree(c) : c)),
  };
}

const tree = (text: string | Uint8Array): XmlElement =>
  versionFree(normalize(fromDom(parseXml(text).root as unknown as DomLike), null));

const VERSIONS: OvfVersion[] = ['0.9', '1', '2'];
const rank = (v: OvfVersion) => VERSIONS.indexOf(v);

describe('descriptors between OVF versions (structural, over the corpus)', () => {
  const all = corpus();
  it('has the corpus', () => expect(all.length).toBeGreaterThanOrEqual(18));
  for (const [name, path] of all) {
    const bytes = new Uint8Array(readFileSync(path));
    const env = readOvf(bytes);
    const before = tree(bytes);
    for (const to of VERSIONS) {
      it(`${name}: ${env.family} -> ${to}${rank(to) >= rank(env.family) ? ' loses nothing'
        : ' loses only what it names'}`, () => {
        const r = convertDescriptor(env, to);
        const back = readOvf(new TextEncoder().encode(r.xml));
        expect(back.family).toBe(to);
        const after = tree(r.xml);
        const lost = missing(before, after);
        if (rank(to) >= rank(env.family) || r.warnings.length === 0) {
          // Up, or down with nothing the target cannot carry: all of it is there. Going
          // from 2.x to 1.x/0.9 a StorageItem/EthernetPortItem becomes an Item (RASD).
          const renamed = lost.filter((m) => !/\/(StorageItem|EthernetPortItem) \{/.test(m));
          expect(renamed).toEqual([]);
          if (rank(to) >= rank(env.family)) expect(r.warnings).toEqual([]);
        } else {
          // Each loss is one the warnings name.
          for (const m of lost) {
            const what = /\/([A-Za-z]+)(?: \{|$)/.exec(m)?.[1] ?? m;
            expect(r.warnings.join('\n'), m).toContain(what);
          }
        }
        // And back to where it came from, when nothing was dropped: the same infoset.
        if (r.warnings.length === 0 && env.family !== '0.9') {
          const again = convertDescriptor(back, env.family);
          expect(missing(before, tree(again.xml))).toEqual([]);
          expect(missing(tree(again.xml), before).filter((m) => !/References/.test(m)))
            .toEqual([]);
        }
      });
    }
  }

  it('0.9 is written in its own form: Section/Content with xsi:type, InstanceId', () => {
    const env = readOvf(readFileSync(join(REPO, 'test/fixtures/ovf/samples/cot/v0.9.ovf')));
    const xml = convertDescriptor(env, '0.9').xml;
    expect(xml).toContain('<Section xsi:type="ovf:DiskSection_Type">');
    expect(xml).toContain('<Content xsi:type="ovf:VirtualSystem_Type" ovf:id="v0.9">');
    expect(xml).toContain('<rasd:InstanceId>1</rasd:InstanceId>');
    expect(xml).toContain('xmlns:ovf="http://www.vmware.com/schema/ovf/1/envelope"');
    expect(xml).toContain('ovf:version="0.9"');
    // The 0.9 original and this: one infoset.
    const before = tree(readFileSync(join(REPO, 'test/fixtures/ovf/samples/cot/v0.9.ovf')));
    expect(missing(before, tree(xml))).toEqual([]);
  });

  it('2.x -> 1.x: a StorageItem becomes an Item; SASD-only properties and 2.x-only ' +
    'sections are named as dropped', () => {
    const xml = `<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/2" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:sasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_StorageAllocationSettingData"
  ovf:version="2.0">
  <References/>
  <SharedDiskSection ovf:required="false"><Info>shared</Info></SharedDiskSection>
  <VirtualSystem ovf:id="vm">
    <Info>A VM</Info>
    <VirtualHardwareSection>
      <Info>hw</Info>
      <Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <StorageItem><sasd:AccessMode>3</sasd:AccessMode><sasd:ElementName>disk</sasd:ElementName>
        <sasd:InstanceID>2</sasd:InstanceID><sasd:ResourceType>17</sasd:ResourceType></StorageItem>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;
    const r = convertDescriptor(readOvf(new TextEncoder().encode(xml)), '1');
    expect(r.warnings).toEqual([
      'SharedDiskSection in the envelope is OVF 2.x only (DSP0243 2.x ANNEX B); dropped',
      'VirtualSystem "vm": StorageItem 2: property sasd:AccessMode="3" has no ' +
        'CIM_ResourceAllocationSettingData equivalent in OVF 1.x; dropped',
      'VirtualSystem "vm": StorageItem 2 written as a RASD Item (OVF 1.x has only Item; ' +
        'its other properties are kept)',
    ]);
    expect(r.xml).toContain('<rasd:ElementName>disk</rasd:ElementName>');
    expect(r.xml).not.toContain('StorageItem');
    expect(r.xml).toContain('xmlns="http://schemas.dmtf.org/ovf/envelope/1"');
  });
});

describe('.vmx files as VMware products write them', () => {
  const vmx = (n: string) => describeVmx(parseVmx(readFileSync(
    join(REPO, 'test/fixtures/ovf/vmx', n), 'utf8'), n));
  it('Fusion: memsize, numvcpus, BusLogic SCSI disk, two bridged NICs, ATAPI CD-ROM', () => {
    const m = vmx('fusion-in-the-wild-1.vmx');
    expect(m).toMatchObject({ name: 'ATTM_VM', memoryMiB: 3572, cpus: 2, guestOS: 'winxppro',
      hwVersion: 9, usb: true, sound: true });
    expect(m.devices.map((d) => [d.key, d.kind, d.fileName])).toEqual([
      ['scsi0:0', 'disk', 'ATTM_VM.vmdk'], ['ide0:0', 'cdrom', 'auto detect']]);
    expect(m.controllers.find((c) => c.kind === 'scsi')?.virtualDev).toBe('buslogic');
    expect(m.nics.map((n) => [n.network, n.virtualDev, n.mac])).toEqual([
      ['VMnet0', 'vlance', '00:0c:29:3b:64:ea'], ['VMnet0', 'vlance', '00:0c:29:3b:64:f4']]);
  });
  it('ESXi: memSize (keys are case-insensitive), 16 vCPUs of 4 cores, SATA CD-ROM', () => {
    const m = vmx('esx-in-the-wild-9.vmx');
    expect(m).toMatchObject({ memoryMiB: 16384, cpus: 16, coresPerSocket: 4, hwVersion: 10,
      annotation: 'MIQ GUID=b55c806d-99b9-4fa5-bbcc-a4de04f822e5' });
    expect(m.devices.map((d) => [d.key, d.kind])).toEqual([['scsi0:0', 'disk'],
      ['sata0:0', 'cdrom']]);
    expect(m.nics).toEqual([{ index: 0, virtualDev: 'vmxnet3', network: 'VM Network',
      mac: '00:50:56:80:b3:81', startConnected: true }]);
  });
  it('GSX: an IDE disk, a CD-ROM not present, custom networks named net1/net2', () => {
    const m = vmx('gsx-in-the-wild-3.vmx');
    expect(m).toMatchObject({ name: 'Router', memoryMiB: 32, cpus: 1, hwVersion: 4 });
    expect(m.devices.map((d) => d.key)).toEqual(['ide0:0']);
    expect(m.nics.map((n) => n.network)).toEqual(['net1', 'net2']);
  });
  it('a line that is not key = value is named', () => {
    expect(() => parseVmx('a = "1"\nnonsense\n')).toThrow(/line 2 is not key = "value"/);
  });

  it('10,000 mutated .vmx files: a description or an OvfError, never anything else', () => {
    const base = readFileSync(join(REPO, 'test/fixtures/ovf/vmx/fusion-in-the-wild-1.vmx'),
      'utf8');
    let x = 12345;
    const rnd = (n: number) => {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      return (x >>> 0) % n;
    };
    const pieces = ['"', '=', '\n', '|22', '|zz', ':', '.present = "TRUE"', 'scsi9:99',
      'memsize = "-1"', 'numvcpus = "1e9"', 'ethernet0.present = "TRUE"', '\u0000', '#'];
    let ok = 0, refused = 0;
    for (let i = 0; i < 10_000; i++) {
      let t = base;
      for (let k = 0; k < 1 + rnd(4); k++) {
        const at = rnd(t.length);
        t = rnd(2) ? t.slice(0, at) + pieces[rnd(pieces.length)] + t.slice(at)
          : t.slice(0, at) + t.slice(at + 1 + rnd(20));
      }
      try {
        const m = describeVmx(parseVmx(t));
        expect(m.memoryMiB).toBeGreaterThan(0);
        ok++;
      } catch (e) {
        expect((e as Error).name, String(e)).toBe('OvfError');
        refused++;
      }
    }
    expect(ok).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});

describe.skipIf(!hasQemuImg || !hasGnuTar)('ovf convert (CLI)', () => {
  /** A copy of a fixture .vmx with its disk made by qemu-img as VMware would lay it out. */
  function vmxFolder(name: string, disk: string, split = false): string {
    const dir = tempDir();
    copyFileSync(join(REPO, 'test/fixtures/ovf/vmx', name), join(dir, name));
    execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', ...(split
      ? ['-o', 'subformat=twoGbMaxExtentSparse'] : []), join(dir, disk), '32M']);
    execFileSync('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x5a 1M 3M', '-c',
      'write -P 0xa5 20M 64k', join(dir, disk)], { stdio: 'ignore' });
    return dir;
  }

  it('vmx -> ova as ovftool: descriptor, SHA256 manifest, NAME-disk1.vmdk streamOptimized, ' +
    'equal to the .vmx\'s disk for qemu-img', async () => {
    const dir = vmxFolder('esx-in-the-wild-9.vmx', 'v2v-windows-kkulkarn.vmdk', true);
    const r = await cli('convert', join(dir, 'esx-in-the-wild-9.vmx'), join(dir, 'appl.ova'));
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/warning: ethernet0: MAC address 00:50:56:80:b3:81 not carried/);
    const names = execFileSync('tar', ['tf', join(dir, 'appl.ova')], { encoding: 'utf8' })
      .trim().split('\n');
    expect(names).toEqual(['appl.ovf', 'appl.mf', 'appl-disk1.vmdk']);
    execFileSync('tar', ['xf', join(dir, 'appl.ova'), '-C', dir]);
    const mf = readFileSync(join(dir, 'appl.mf'), 'utf8');
    expect(mf).toMatch(/^SHA256\(appl\.ovf\)= [0-9a-f]{64}\nSHA256\(appl-disk1\.vmdk\)= /);
    const sha = execFileSync('sha256sum', [join(dir, 'appl-disk1.vmdk')], { encoding: 'utf8' })
      .slice(0, 64);
    expect(mf).toContain(`SHA256(appl-disk1.vmdk)= ${sha}`);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json',
      join(dir, 'appl-disk1.vmdk')], { encoding: 'utf8' }));
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
    expect(execFileSync('qemu-img', ['compare', join(dir, 'v2v-windows-kkulkarn.vmdk'),
      join(dir, 'appl-disk1.vmdk')], { encoding: 'utf8' })).toMatch(/Images are identical/);
    const v = await cli('validate', join(dir, 'appl.ova'));
    expect(v.status).toBe(0);
    const env = readOvf(readFileSync(join(dir, 'appl.ovf')));
    expect(env.family).toBe('1');
    const vs = virtualSystems(env.content)[0];
    expect(vs.id).toBe('v2v-windows-kkulkarn');
    const i = await cli('inspect', '--json', join(dir, 'appl.ova'));
    const mapped = JSON.parse(i.out);
    expect(JSON.stringify(mapped)).toContain('"cpus":16');
  });

  it('--sha-algorithm SHA1 (ovftool --shaAlgorithm=SHA1), --ovf-version 2', async () => {
    const dir = vmxFolder('gsx-in-the-wild-3.vmx', 'Debian-System1-0-cl1.vmdk');
    const r = await cli('convert', '--sha-algorithm', 'SHA1', '--ovf-version', '2',
      join(dir, 'gsx-in-the-wild-3.vmx'), join(dir, 'out', 'router.ovf'));
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'out', 'router.mf'), 'utf8'))
      .toMatch(/^SHA1\(router\.ovf\)= [0-9a-f]{40}\nSHA1\(router-disk1\.vmdk\)= [0-9a-f]{40}\n$/);
    expect(readOvf(readFileSync(join(dir, 'out', 'router.ovf'))).family).toBe('2');
    expect(execFileSync('qemu-img', ['compare', join(dir, 'Debian-System1-0-cl1.vmdk'),
      join(dir, 'out', 'router-disk1.vmdk')], { encoding: 'utf8' })).toMatch(/identical/);
  });

  it('ovf -> ova -> ovf: the same descriptor infoset and the same files', async () => {
    const dir = tempDir();
    const src = join(REPO, 'test/fixtures/ovf/samples/cot');
    for (const f of ['ubuntu.2.0.ovf', 'ubuntu.2.0.mf', 'ubuntu.2.0-disk1.vmdk'])
      copyFileSync(join(src, f), join(dir, f));
    const a = await cli('convert', join(dir, 'ubuntu.2.0.ovf'), join(dir, 'u.ova'));
    expect(a.status).toBe(0);
    const b = await cli('convert', join(dir, 'u.ova'), join(dir, 'x', 'u.ovf'));
    expect(b.status).toBe(0);
    expect(missing(tree(readFileSync(join(dir, 'ubuntu.2.0.ovf'))),
      tree(readFileSync(join(dir, 'x', 'u.ovf'))))).toEqual([]);
    expect(readFileSync(join(dir, 'x', 'ubuntu.2.0-disk1.vmdk')))
      .toEqual(readFileSync(join(dir, 'ubuntu.2.0-disk1.vmdk')));
    // The source's manifest was SHA256 over the original names; the new one verifies.
    const v = await cli('validate', join(dir, 'x', 'u.ovf'));
    expect(v.status).toBe(0);
  });

  it('ova -> VM folder -> ova', async () => {
    const dir = tempDir();
    const src = join(REPO, 'test/fixtures/ovf/samples/cot');
    for (const f of ['ubuntu.2.0.ovf', 'ubuntu.2.0.mf', 'ubuntu.2.0-disk1.vmdk'])
      copyFileSync(join(src, f), join(dir, f));
    const a = await cli('convert', join(dir, 'ubuntu.2.0.ovf'), join(dir, 'vm'));
    expect(a.status).toBe(0);
    expect(existsSync(join(dir, 'vm', 'vm.json'))).toBe(true);
    const b = await cli('convert', join(dir, 'vm'), join(dir, 'again.ova'));
    expect(b.status).toBe(0);
    const v = await cli('validate', join(dir, 'again.ova'));
    expect(v.status).toBe(0);
    execFileSync('tar', ['xf', join(dir, 'again.ova'), '-C', join(dir, 'vm'), 'again.ovf']);
    // The export keeps the original descriptor's sections (ProductSection, vbox:Machine).
    const out = readFileSync(join(dir, 'vm', 'again.ovf'), 'utf8');
    expect(out).toContain('vbox:Machine');
  });

  it('refuses an existing target and a .vmx target', async () => {
    const dir = tempDir();
    const src = join(REPO, 'test/fixtures/ovf/samples/cot/minimal.ovf');
    const r = await cli('convert', src, join(dir, 'x.vmx'));
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/writing a \.vmx is not offered/);
  });
});
