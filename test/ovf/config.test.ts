/**
 * The VM configuration: its validator names every problem by JSON path, and a
 * configuration survives the trip to an OVF descriptor and back (OVF 1.x and 2.x).
 */
import { describe, expect, it } from 'vitest';
import { checkVmConfig, validateVmConfig, VmConfigError } from '../../bindings/config/validate.js';
import { MAX_MEMORY_MIB, MAX_VCPUS, type VmConfig } from '../../bindings/config/types.js';
import { fromVmConfig } from '../../bindings/ovf/from-config.js';
import { toVmConfig } from '../../bindings/ovf/to-config.js';
import { readOvf } from '../../bindings/ovf/reader.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { findSection, virtualSystems } from '../../bindings/ovf/model.js';

const full: VmConfig = {
  version: 1,
  name: 'jeos demo',
  cpus: 2,
  memoryMiB: 96,
  description: 'A small appliance',
  boot: {
    firmware: 'multiboot',
    kernel: 'kernel.elf',
    cmdline: 'console=ttyS0 quiet',
    modules: ['initrd.img'],
  },
  disks: [
    {
      controller: { type: 'ide', channel: 0, unit: 0 },
      media: 'disk',
      path: 'root.qcow2',
      format: 'qcow2',
      capacityBytes: 1 << 30,
    },
    {
      controller: { type: 'ide', channel: 1, unit: 0 },
      media: 'cdrom',
      path: 'tools.iso',
      format: 'iso',
      readOnly: true,
    },
    { controller: { type: 'virtio', index: 0 }, media: 'disk', capacityBytes: 4 << 20 },
  ],
  nics: [
    { model: 'ne2k', network: 'lan', mac: '52:54:00:12:34:56' },
    { model: 'virtio-net', network: 'lan' },
  ],
  serial: [
    { port: 1, backend: 'stdio' },
    { port: 2, backend: 'file', path: 'com2.log' },
  ],
};

describe('VM configuration validator', () => {
  it('accepts a full configuration, and a JSON copy of it', () => {
    expect(checkVmConfig(full)).toEqual([]);
    expect(validateVmConfig(JSON.parse(JSON.stringify(full)))).toEqual(full);
  });

  const cases: [string, (c: Record<string, any>) => void, string, RegExp][] = [
    [
      'a misspelt key',
      (c) => {
        c.memoryMb = 64;
      },
      '$.memoryMb',
      /unknown key/,
    ],
    [
      'zero vCPUs',
      (c) => {
        c.cpus = 0;
      },
      '$.cpus',
      new RegExp(`1 to ${MAX_VCPUS}`),
    ],
    [
      'too many vCPUs',
      (c) => {
        c.cpus = MAX_VCPUS + 1;
      },
      '$.cpus',
      /integer/,
    ],
    [
      'too much memory',
      (c) => {
        c.memoryMiB = MAX_MEMORY_MIB + 1;
      },
      '$.memoryMiB',
      /2 to 3072/,
    ],
    [
      'too little memory',
      (c) => {
        c.memoryMiB = 1;
      },
      '$.memoryMiB',
      /2 to 3072/,
    ],
    [
      'fractional memory',
      (c) => {
        c.memoryMiB = 64.5;
      },
      '$.memoryMiB',
      /integer/,
    ],
    [
      'an IDE slot used twice',
      (c) => {
        c.disks[1].controller = { type: 'ide', channel: 0, unit: 0 };
      },
      '$.disks[1].controller',
      /used twice/,
    ],
    [
      'IDE channel 2',
      (c) => {
        c.disks[0].controller.channel = 2;
      },
      '$.disks[0].controller.channel',
      /0 to 1/,
    ],
    [
      'a virtio CD-ROM',
      (c) => {
        c.disks[1].controller = { type: 'virtio', index: 1 };
      },
      '$.disks[1].media',
      /needs the IDE controller/,
    ],
    [
      'an empty disk without a size',
      (c) => {
        delete c.disks[2].capacityBytes;
      },
      '$.disks[2]',
      /needs capacityBytes/,
    ],
    [
      'an unknown format',
      (c) => {
        c.disks[0].format = 'qed';
      },
      '$.disks[0].format',
      /raw, qcow2/,
    ],
    [
      'a multicast MAC',
      (c) => {
        c.nics[0].mac = '01:00:5e:00:00:01';
      },
      '$.nics[0].mac',
      /multicast/,
    ],
    [
      'a malformed MAC',
      (c) => {
        c.nics[0].mac = '52-54-00-12-34-56';
      },
      '$.nics[0].mac',
      /52:54:00/,
    ],
    [
      'COM5',
      (c) => {
        c.serial[0].port = 5;
      },
      '$.serial[0].port',
      /1 to 4/,
    ],
    [
      'COM1 twice',
      (c) => {
        c.serial[1].port = 1;
      },
      '$.serial[1].port',
      /used twice/,
    ],
    [
      'a file backend without a path',
      (c) => {
        delete c.serial[1].path;
      },
      '$.serial[1].path',
      /non-empty string/,
    ],
    [
      'multiboot without a kernel',
      (c) => {
        delete c.boot.kernel;
      },
      '$.boot.kernel',
      /non-empty string/,
    ],
    [
      'an unknown firmware',
      (c) => {
        c.boot = { firmware: 'efi' };
      },
      '$.boot.firmware',
      /"bios" or "multiboot"/,
    ],
    [
      'a wrong version',
      (c) => {
        c.version = 2;
      },
      '$.version',
      /must be 1/,
    ],
  ];
  for (const [what, change, path, message] of cases) {
    it(`names ${what}`, () => {
      const c = JSON.parse(JSON.stringify(full));
      change(c);
      const problems = checkVmConfig(c);
      expect(problems.map((p) => p.path)).toContain(path);
      expect(problems.find((p) => p.path === path)!.message).toMatch(message);
      expect(() => validateVmConfig(c, 'vm.json')).toThrow(VmConfigError);
    });
  }

  it('rejects what is not an object at all', () => {
    expect(checkVmConfig(null)).toEqual([{ path: '$', message: 'must be a JSON object' }]);
    expect(checkVmConfig([])).toEqual([{ path: '$', message: 'must be a JSON object' }]);
  });
});

describe('VM configuration to OVF and back', () => {
  for (const family of ['1', '2'] as const) {
    it(`survives OVF ${family}.x: configuration → descriptor → configuration`, () => {
      const { envelope, files } = fromVmConfig(full, { family, fileInfo: () => ({ size: 4096 }) });
      expect(files.map((f) => f.href)).toEqual([
        'root.qcow2', 'tools.iso', 'kernel.elf', 'initrd.img',
      ]);
      const text = writeOvf(envelope);
      const back = readOvf(text);
      expect(back.family).toBe(family);
      expect(validateOvf(back)).toEqual({ ok: true, issues: [] });
      const r = toVmConfig(back);
      expect(r.config).toEqual(full);
      expect(r.notes.filter((n) => n.kind !== 'mapped')).toEqual([]);
      expect(r.bootFiles.map((f) => f.href)).toEqual(['kernel.elf', 'initrd.img']);
    });
  }

  it.each(['/home/user/.profile', '../outside.log', 'logs/../../x'])(
    'refuses a package whose serial file %s would leave its folder',
    (path) => {
      const c: VmConfig = { ...full, serial: [{ port: 2, backend: 'file', path }] };
      const text = writeOvf(fromVmConfig(c, { fileInfo: () => ({ size: 4096 }) }).envelope);
      expect(() => toVmConfig(readOvf(text))).toThrow(`sends COM2 to file "${path}"`);
    },
  );

  it('writes RASD properties in the alphabetical order of the CIM schema sequence', () => {
    const hw = findSection(
      virtualSystems(fromVmConfig(full).envelope.content)[0].sections,
      'VirtualHardwareSection',
    )!;
    for (const item of hw.items) {
      const names = item.props.map((p) => p.name);
      expect(names).toEqual([...names].sort());
    }
  });

  it('reports unknown capacity of an image-backed disk instead of inventing one', () => {
    const c: VmConfig = {
      ...full,
      disks: [{ controller: { type: 'ide', channel: 0, unit: 0 }, media: 'disk', path: 'x.img' }],
    };
    expect(() => fromVmConfig(c)).toThrow(/capacity is unknown/);
  });
});
