/**
 * Export of a VM that came from an appliance keeps the original descriptor (issue: the
 * export rebuilt it from vm.json and lost ProductSection, deployment options, vendor
 * sections). Compared structurally with the original; the disk is checked with qemu-img
 * (the format VMware and VirtualBox import: a streamOptimized VMDK).
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readOvf } from '../../bindings/ovf/reader.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { findSection, virtualSystems } from '../../bindings/ovf/model.js';
import { importOva, inspectOvaFile } from '../../bindings/ovf/node/files.js';
import { parseXml } from '../../bindings/ovf/xml-parse.js';
import { fromDom, isElementNode, type DomLike } from '../../bindings/ovf/xml-tree.js';
import { canonical } from './xml-compare.js';
import { REPO, cli, hasQemuImg, tempDir, vmdk } from './helpers.js';

const CSR = join(REPO, 'test/fixtures/ovf/forms/csr-style.ovf');

/** The canonical string of the first element `name` anywhere under the root. */
function section(xml: string | Uint8Array, name: string): string {
  const root = fromDom(parseXml(xml).root as unknown as DomLike);
  const find = (e: typeof root): typeof root | undefined => {
    if (e.name === name) return e;
    for (const c of e.children) if (isElementNode(c)) {
      const f = find(c);
      if (f) return f;
    }
    return undefined;
  };
  const found = find(root);
  if (!found) throw new Error(`no ${name}`);
  return canonical(found, null);
}

async function imported(): Promise<string> {
  const dir = tempDir();
  copyFileSync(CSR, join(dir, 'r.ovf'));
  // The capacity the descriptor states (1 GiB), so that the disk is unchanged too.
  vmdk(join(dir, 'router.vmdk'), 2 ** 30);
  const r = await cli('import', '--configuration', '2CPU-2GB', '--property', 'hostname=edge',
    join(dir, 'r.ovf'), join(dir, 'vm'));
  expect(r.status).toBe(0);
  return dir;
}

describe('export keeps what it read', () => {
  it('an unchanged VM: every section of the original, the disk as streamOptimized VMDK', async () => {
    const dir = await imported();
    const out = await cli('export', join(dir, 'vm', 'vm.json'), join(dir, 'again.ova'));
    expect(out.status).toBe(0);
    expect(out.err).toMatch(/kept the original descriptor's sections; hardware unchanged \(configuration "2CPU-2GB"\)/);
    expect(out.err).toMatch(/ovf-env\.iso .* is not exported/);
    const pkg = await inspectOvaFile(join(dir, 'again.ova'));
    const original = readFileSync(CSR);
    for (const name of ['VirtualHardwareSection', 'ProductSection', 'DeploymentOptionSection',
      'NetworkSection', 'OperatingSystemSection'])
      expect(section(pkg.descriptor, name), name).toBe(section(original, name));
    const env = pkg.envelope;
    expect(validateOvf(env).ok).toBe(true);
    const disk = findSection(env.sections, 'DiskSection')!.disks[0];
    expect(disk).toMatchObject({
      diskId: 'vmdisk1', fileRef: 'file1', capacity: '1', capacityAllocationUnits: 'byte * 2^30',
      format: 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized',
    });
    expect(env.references.map((f) => f.href)).toEqual(['router.vmdk']);
    expect(pkg.members.map((m) => m.name)).not.toContain('ovf-env.iso');
    if (hasQemuImg) {
      const dir2 = tempDir();
      await importOva(join(dir, 'again.ova'), join(dir2, 'x'), { keepStreamOptimized: true });
      const info = JSON.parse(execFileSync('qemu-img',
        ['info', '--output=json', join(dir2, 'x', 'router.vmdk')], { encoding: 'utf8' }));
      expect(info.format).toBe('vmdk');
      expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
      expect(info['virtual-size']).toBe(2 ** 30);
    }
  });

  it('a changed VM: its hardware rebuilt, everything else kept, the losses named', async () => {
    const dir = await imported();
    const cfgPath = join(dir, 'vm', 'vm.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.cpus = 3;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const out = await cli('export', cfgPath, join(dir, 'changed.ova'));
    expect(out.status).toBe(0);
    expect(out.err).toMatch(/the hardware changed: the VirtualHardwareSection of "com\.example\.router" is rebuilt/);
    expect(out.err).toMatch(/not carried: 5 configuration-specific item\(s\), 3 vendor element\(s\)/);
    const pkg = await inspectOvaFile(join(dir, 'changed.ova'));
    const original = readFileSync(CSR);
    expect(section(pkg.descriptor, 'ProductSection')).toBe(section(original, 'ProductSection'));
    expect(validateOvf(pkg.envelope).ok).toBe(true);
    const back = await importOva(join(dir, 'changed.ova'), join(dir, 'back'));
    expect(back.config.cpus).toBe(3);
    expect(back.config.memoryMiB).toBe(2048);
    // The transport the appliance asked for is kept on the rebuilt section.
    const vs = virtualSystems(pkg.envelope.content)[0];
    expect(findSection(vs.sections, 'VirtualHardwareSection')!.transport).toBe('iso');
  });

  it('--rebuild writes a descriptor from vm.json alone, as before', async () => {
    const dir = await imported();
    const out = await cli('export', '--rebuild', join(dir, 'vm', 'vm.json'), join(dir, 'r.ova'));
    expect(out.status).toBe(0);
    const env = readOvf((await inspectOvaFile(join(dir, 'r.ova'))).descriptor);
    expect(findSection(virtualSystems(env.content)[0].sections, 'ProductSection')).toBeUndefined();
  });

  it('a multiboot appliance (the JeOS example): kernel and modules keep their Files', async () => {
    const dir = tempDir();
    const r = await importOva(join(REPO, 'appliances/jeos/jeos.ova'), join(dir, 'vm'));
    const out = await cli('export', r.configPath, join(dir, 'jeos-again.ova'));
    expect(out.status).toBe(0);
    expect(out.err).toMatch(/hardware unchanged/);
    const pkg = await inspectOvaFile(join(dir, 'jeos-again.ova'));
    expect(validateOvf(pkg.envelope).ok).toBe(true);
    const back = await importOva(join(dir, 'jeos-again.ova'), join(dir, 'back'));
    expect(back.config.boot).toEqual(r.config.boot);
    expect(back.config.cpus).toBe(r.config.cpus);
    expect(back.config.memoryMiB).toBe(r.config.memoryMiB);
  });
});
