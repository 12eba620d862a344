/**
 * Checks that a parsed JSON value is a valid VmConfig, naming every problem by its JSON
 * path. Unknown keys are errors too, so a misspelt option is never silently ignored.
 */
import { profile as findProfile } from '../vmm/cost/index.js';
import { resolveVmmOptions, VmmOptionError, type VmmOptions } from '../vmm/options.js';
import {
  MAX_MEMORY_MIB,
  MAX_VCPUS,
  MIN_MEMORY_MIB,
  VM_CONFIG_VERSION,
  type VmConfig,
} from './types.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export class VmConfigError extends Error {
  constructor(readonly problems: ConfigProblem[], file?: string) {
    super(
      `${file ? file + ': ' : ''}invalid VM configuration: ` +
        `${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
    this.name = 'VmConfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Returns the problems of a candidate configuration (empty when valid). */
export function checkVmConfig(v: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const bad = (path: string, message: string) => out.push({ path, message });
  const keys = (o: Obj, path: string, allowed: string[]) => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${path}.${k}`, 'unknown key');
  };
  const int = (x: unknown, path: string, min: number, max: number) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max)
      bad(path, `must be an integer from ${min} to ${max}`);
  };
  const relPath = (x: unknown, path: string) => {
    if (typeof x !== 'string' || x === '') bad(path, 'must be a non-empty string');
    else if (x.includes('\0')) bad(path, 'must not contain NUL');
  };
  if (!isObj(v)) return [{ path: '$', message: 'must be a JSON object' }];
  keys(v, '$', [
    'version',
    'name',
    'cpus',
    'memoryMiB',
    'boot',
    'disks',
    'nics',
    'serial',
    'description',
    'virtualization',
    'guestinfo',
    'apic',
  ]);
  if (v.version !== VM_CONFIG_VERSION) bad('$.version', `must be ${VM_CONFIG_VERSION}`);
  if (typeof v.name !== 'string' || v.name.trim() === '')
    bad('$.name', 'must be a non-empty string');
  int(v.cpus, '$.cpus', 1, MAX_VCPUS);
  int(v.memoryMiB, '$.memoryMiB', MIN_MEMORY_MIB, MAX_MEMORY_MIB);
  if (v.description !== undefined && typeof v.description !== 'string')
    bad('$.description', 'must be a string');
  if (v.apic !== undefined && typeof v.apic !== 'boolean') bad('$.apic', 'must be a boolean');

  const boot = v.boot;
  if (!isObj(boot)) bad('$.boot', 'must be an object');
  else if (boot.firmware === 'bios') {
    keys(boot, '$.boot', ['firmware', 'order']);
    if (boot.order !== undefined) {
      if (!Array.isArray(boot.order)) bad('$.boot.order', 'must be an array');
      else
        boot.order.forEach((d, i) => {
          if (d !== 'disk' && d !== 'cdrom') bad(`$.boot.order[${i}]`, 'must be "disk" or "cdrom"');
        });
    }
  } else if (boot.firmware === 'multiboot') {
    keys(boot, '$.boot', ['firmware', 'kernel', 'cmdline', 'modules', 'initrd']);
    relPath(boot.kernel, '$.boot.kernel');
    if (boot.initrd !== undefined) relPath(boot.initrd, '$.boot.initrd');
    if (boot.cmdline !== undefined && typeof boot.cmdline !== 'string')
      bad('$.boot.cmdline', 'must be a string');
    if (boot.modules !== undefined) {
      if (!Array.isArray(boot.modules)) bad('$.boot.modules', 'must be an array');
      else boot.modules.forEach((m, i) => relPath(m, `$.boot.modules[${i}]`));
    }
  } else bad('$.boot.firmware', 'must be "bios" or "multiboot"');

  const slots = new Set<string>();
  if (!Array.isArray(v.disks)) bad('$.disks', 'must be an array');
  else v.disks.forEach((d, i) => {
    const p = `$.disks[${i}]`;
    if (!isObj(d)) return bad(p, 'must be an object');
    keys(d, p, ['controller', 'media', 'path', 'format', 'capacityBytes', 'readOnly']);
    const c = d.controller;
    if (!isObj(c)) bad(`${p}.controller`, 'must be an object');
    else if (c.type === 'ide') {
      keys(c, `${p}.controller`, ['type', 'channel', 'unit']);
      int(c.channel, `${p}.controller.channel`, 0, 1);
      int(c.unit, `${p}.controller.unit`, 0, 1);
      const slot = `ide:${String(c.channel)}:${String(c.unit)}`;
      if (slots.has(slot))
        bad(
          `${p}.controller`,
          `IDE channel ${String(c.channel)} unit ${String(c.unit)} is used twice`,
        );
      slots.add(slot);
    } else if (c.type === 'virtio') {
      keys(c, `${p}.controller`, ['type', 'index']);
      int(c.index, `${p}.controller.index`, 0, 31);
      const slot = `virtio:${String(c.index)}`;
      if (slots.has(slot)) bad(`${p}.controller`, `virtio index ${String(c.index)} is used twice`);
      slots.add(slot);
      if (d.media === 'cdrom') bad(`${p}.media`, 'a CD-ROM drive needs the IDE controller');
    } else bad(`${p}.controller.type`, 'must be "ide" or "virtio"');
    if (d.media !== 'disk' && d.media !== 'cdrom') bad(`${p}.media`, 'must be "disk" or "cdrom"');
    if (d.path !== undefined) relPath(d.path, `${p}.path`);
    if (
      d.format !== undefined &&
      !['raw', 'qcow2', 'vmdk', 'vhd', 'vpc', 'vhdx', 'vdi', 'iso'].includes(d.format as string)
    )
      bad(`${p}.format`, 'must be raw, qcow2, vmdk, vhd, vpc, vhdx, vdi or iso');
    if (d.capacityBytes !== undefined)
      int(d.capacityBytes, `${p}.capacityBytes`, 0, Number.MAX_SAFE_INTEGER);
    if (d.path === undefined && d.media === 'disk' && d.capacityBytes === undefined)
      bad(p, 'an empty disk (no path) needs capacityBytes');
    if (d.readOnly !== undefined && typeof d.readOnly !== 'boolean')
      bad(`${p}.readOnly`, 'must be true or false');
  });

  if (!Array.isArray(v.nics)) bad('$.nics', 'must be an array');
  else v.nics.forEach((n, i) => {
    const p = `$.nics[${i}]`;
    if (!isObj(n)) return bad(p, 'must be an object');
    keys(n, p, ['model', 'network', 'mac']);
    if (n.model !== 'ne2k' && n.model !== 'virtio-net')
      bad(`${p}.model`, 'must be "ne2k" or "virtio-net"');
    if (typeof n.network !== 'string') bad(`${p}.network`, 'must be a string');
    if (n.mac !== undefined && (typeof n.mac !== 'string' || !MAC.test(n.mac)))
      bad(`${p}.mac`, 'must look like 52:54:00:12:34:56');
    else if (typeof n.mac === 'string' && parseInt(n.mac.slice(0, 2), 16) & 1)
      bad(`${p}.mac`, 'is a multicast address (low bit of the first octet set, IEEE 802-2014 8.2)');
  });

  const virt = v.virtualization;
  if (virt !== undefined) {
    if (!isObj(virt)) bad('$.virtualization', 'must be an object');
    else {
      keys(virt, '$.virtualization', ['mode', 'paging', 'tags', 'pwc', 'ntlb', 'profile']);
      if (virt.profile !== undefined) {
        try {
          if (typeof virt.profile !== 'string') throw new Error('must be a profile name');
          findProfile(virt.profile);
        } catch (e) {
          bad('$.virtualization.profile', (e as Error).message);
        }
      }
      // The same checks as Machine.create and the CLI, each problem at its key.
      try {
        resolveVmmOptions(virt as VmmOptions);
      } catch (e) {
        if (!(e instanceof VmmOptionError)) throw e;
        const at: Partial<Record<VmmOptionError['code'], string>> = {
          'bad-mode': 'mode', 'bad-paging': 'paging', 'shadow-not-available': 'paging',
        };
        const flag = /^(tags|pwc|ntlb) /.exec(e.message)?.[1];
        const key = at[e.code] ?? (e.code === 'bad-flag' ? flag : undefined);
        bad(`$.virtualization${key ? '.' + key : ''}`, e.message);
      }
    }
  }

  if (v.guestinfo !== undefined) {
    if (!isObj(v.guestinfo)) bad('$.guestinfo', 'must be an object');
    else for (const [k, x] of Object.entries(v.guestinfo)) {
      const p = `$.guestinfo.${k}`;
      if (!/^[A-Za-z0-9_.-]+$/.test(k)) bad(p, 'a name is letters, digits, "_", "." and "-"');
      if (isObj(x)) {
        keys(x, p, ['file']);
        relPath(x.file, `${p}.file`);
      } else if (typeof x !== 'string') bad(p, 'must be a string or { "file": path }');
    }
  }

  const ports = new Set<number>();
  if (!Array.isArray(v.serial)) bad('$.serial', 'must be an array');
  else v.serial.forEach((s, i) => {
    const p = `$.serial[${i}]`;
    if (!isObj(s)) return bad(p, 'must be an object');
    keys(s, p, ['port', 'backend', 'path']);
    int(s.port, `${p}.port`, 1, 4);
    if (typeof s.port === 'number') {
      if (ports.has(s.port)) bad(`${p}.port`, `COM${s.port} is used twice`);
      ports.add(s.port);
    }
    if (s.backend !== 'stdio' && s.backend !== 'null' && s.backend !== 'file')
      bad(`${p}.backend`, 'must be "stdio", "null" or "file"');
    if (s.backend === 'file') relPath(s.path, `${p}.path`);
    else if (s.path !== undefined) bad(`${p}.path`, 'only a "file" backend takes a path');
  });
  return out;
}

/** Returns the value typed as VmConfig, or throws VmConfigError listing every problem. */
export function validateVmConfig(v: unknown, file?: string): VmConfig {
  const problems = checkVmConfig(v);
  if (problems.length) throw new VmConfigError(problems, file);
  return v as VmConfig;
}
