/**
 * `wasmvisor ovf`: inspect, validate, import and export virtual appliances (OVF
 * descriptors and OVA packages). Bad input ends with a message naming the file and the
 * place, and exit status 2.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { UsageError, setExitStatus } from './main.js';
import type { Envelope } from '../ovf/model.js';
import { findSection, virtualSystems } from '../ovf/model.js';
import { validateOvf, type ValidationResult } from '../ovf/validate.js';
import { toVmConfig, type ToConfigResult } from '../ovf/to-config.js';
import { sizeInBytes, MAX_DISK_CAPACITY_BYTES } from '../ovf/units.js';
import type { OvaReadResult } from '../ovf/ova-read.js';
import {
  checkOvfDirectory,
  importOva,
  inspectOvaFile,
  packageKind,
  packageSignature,
  readOvfFile,
  type OvfDirCheck,
  GUESTINFO_TRANSPORT,
  type EnvironmentTransport,
} from '../ovf/node/files.js';
import { exportOva, exportVmConfig } from '../ovf/node/export.js';
import { convertAppliance } from '../ovf/node/convert.js';
import type { OvfVersion } from '../ovf/convert.js';
import type { DigestAlgorithm } from '../ovf/manifest.js';
import type { DiskConfig, NicConfig, VmConfig } from '../config/types.js';
import { VM_CONFIG_VERSION } from '../config/types.js';
import { formatSize } from '../disk/size.js';
import { terminalProgress } from './progress.js';
import { parseAssignments, propertyValues } from '../ovf/environment.js';
import { describeSignature } from '../ovf/node/signature.js';

interface Inspection {
  file: string;
  type: 'ova' | 'ovf';
  envelope: Envelope;
  validation: ValidationResult;
  mappings: (ToConfigResult | { virtualSystem: string; error: string })[];
  pkg?: OvaReadResult;
  dir?: OvfDirCheck;
}

async function inspectFile(file: string, configuration?: string): Promise<Inspection> {
  if ((await packageKind(file)) === 'ova') {
    const pkg = await inspectOvaFile(file);
    return {
      file,
      type: 'ova',
      envelope: pkg.envelope,
      validation: validateOvf(pkg.envelope),
      mappings: mapAll(pkg.envelope, configuration),
      pkg,
    };
  }
  const { envelope } = await readOvfFile(file);
  const dir = await checkOvfDirectory(file, envelope);
  return {
    file,
    type: 'ovf',
    envelope,
    validation: validateOvf(envelope),
    mappings: mapAll(envelope, configuration),
    dir,
  };
}

function mapAll(env: Envelope, configuration?: string): Inspection['mappings'] {
  return virtualSystems(env.content).map((vs) => {
    try {
      return toVmConfig(env, { virtualSystem: vs.id, configuration });
    } catch (e) {
      return { virtualSystem: vs.id, error: (e as Error).message };
    }
  });
}

function capacity(d: { capacity: string; capacityAllocationUnits?: string }): string {
  try {
    const n = sizeInBytes(
      d.capacity,
      d.capacityAllocationUnits,
      'capacity',
      MAX_DISK_CAPACITY_BYTES,
      {},
    );
    return `${n} bytes (${formatSize(n)})`;
  } catch (e) {
    return `"${d.capacity}" ${d.capacityAllocationUnits ?? ''} (${(e as Error).message})`;
  }
}

function printInspection(r: Inspection): void {
  const env = r.envelope;
  const lines: string[] = [];
  const kind = r.type === 'ova' ? `package, descriptor ${r.pkg!.descriptorName}` : 'descriptor';
  lines.push(`${r.file}: OVF ${env.version ?? env.family + '.x'} ${kind}`);
  if (r.pkg) {
    const m = r.pkg.manifest;
    const verified = r.pkg.members.filter((x) => x.verified).length;
    lines.push(
      m
        ? `  manifest ${m.name}: ${m.entries.length} entries ` +
          `(${[...new Set(m.entries.map((e) => e.algorithm))].join(', ')}), ` +
          `each matches; ${verified} of ${r.pkg.members.length} file(s) covered`
        : '  manifest: none',
    );
    const cert = r.pkg.certificate;
    const sig = packageSignature(r.pkg);
    lines.push(`  certificate: ${cert ? `${cert.name}: ${sig ? describeSignature(sig)
      : 'no manifest to check it against'}` : 'none'}`);
    for (const o of r.pkg.outside)
      lines.push(`  outside the package (not read): ${o.href} (${o.problem})`);
  } else if (r.dir) {
    lines.push(
      r.dir.manifest
        ? `  manifest ${r.dir.manifest.name}: ${r.dir.manifest.verified.length} files verified`
        : '  manifest: none',
    );
    if (r.dir.certificate)
      lines.push(`  certificate: ${r.dir.certificate}: ${r.dir.signature
        ? describeSignature(r.dir.signature) : 'no manifest to check it against'}`);
    if (r.dir.missing.length)
      lines.push(`  missing beside the descriptor: ${r.dir.missing.join(', ')}`);
    for (const o of r.dir.outside)
      lines.push(`  outside the package (not read): ${o.href} (${o.problem})`);
  }
  lines.push('Files:');
  for (const f of env.references) {
    const size = f.size ? `  ${f.size} bytes` : '';
    const compression = f.compression ? `  (${f.compression})` : '';
    lines.push(`  ${f.id}  ${f.href}${size}${compression}`);
  }
  const disks = findSection(env.sections, 'DiskSection')?.disks ?? [];
  if (disks.length) {
    lines.push('Disks:');
    for (const d of disks) {
      const file = d.fileRef ? `  file ${d.fileRef}` : '  (empty)';
      const format = d.format ? `  ${d.format}` : '';
      lines.push(`  ${d.diskId}  ${capacity(d)}${file}${format}`);
    }
  }
  const nets = findSection(env.sections, 'NetworkSection')?.networks ?? [];
  if (nets.length) lines.push(`Networks: ${nets.map((n) => n.name).join(', ')}`);
  const dos = findSection(env.sections, 'DeploymentOptionSection')?.configurations ?? [];
  if (dos.length) {
    const options = dos.map((c) => c.id + (c.default === 'true' ? ' (default)' : ''));
    lines.push(`Deployment options: ${options.join(', ')}`);
  }
  for (const m of r.mappings) {
    if ('error' in m) {
      lines.push(`Virtual system "${m.virtualSystem}": cannot be mapped: ${m.error}`);
      continue;
    }
    const c = m.config;
    const configuration = m.configuration ? ` (configuration ${m.configuration})` : '';
    lines.push(
      `Virtual system "${m.virtualSystem}"${configuration}: ` +
        `${c.name}, ${c.cpus} vCPU, ${c.memoryMiB} MiB, ${c.disks.length} drive(s), ` +
        `${c.nics.length} NIC(s), ${c.serial.length} serial port(s)`,
    );
    for (const n of m.notes)
      if (n.kind !== 'mapped') lines.push(`  ${n.kind}: ${n.subject}: ${n.message}`);
    const vs = virtualSystems(env.content).find((v) => v.id === m.virtualSystem);
    for (const p of vs ? propertyValues(vs, m.configuration) : []) {
      const shown = p.property.password === 'true' ? '(password)' : JSON.stringify(p.value);
      const settable = p.property.userConfigurable === 'true' ? ', settable' : '';
      lines.push(`  property ${p.key} (${p.property.type}${settable}) = ${shown}`);
    }
  }
  lines.push(r.validation.ok ? 'Validation: ok' : 'Validation: INVALID');
  for (const i of r.validation.issues) lines.push(`  ${i.severity}: ${i.where}: ${i.message}`);
  for (const w of r.pkg?.warnings ?? []) lines.push(`  warning: ${w}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function inspectionJson(r: Inspection): unknown {
  const disks = findSection(r.envelope.sections, 'DiskSection')?.disks ?? [];
  return {
    file: r.file,
    type: r.type,
    family: r.envelope.family,
    version: r.envelope.version,
    references: r.envelope.references,
    disks: disks.map((d) => {
      let capacityBytes: number | null = null;
      try {
        capacityBytes = sizeInBytes(
          d.capacity,
          d.capacityAllocationUnits,
          'capacity',
          MAX_DISK_CAPACITY_BYTES,
          {},
        );
      } catch {
        /* reported by validation */
      }
      return { ...d, capacityBytes };
    }),
    virtualSystems: r.mappings,
    validation: r.validation,
    package: r.pkg
      ? {
          descriptor: r.pkg.descriptorName,
          manifest: r.pkg.manifest
            ? { name: r.pkg.manifest.name, entries: r.pkg.manifest.entries }
            : null,
          certificate: r.pkg.certificate ? r.pkg.certificate.name : null,
          members: r.pkg.members,
          warnings: r.pkg.warnings,
        }
      : undefined,
    directory: r.dir,
    envelope: r.envelope,
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Quotes an argument for a POSIX shell when it needs it. */
function shellQuote(a: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a positive integer, not "${v}"`);
  return Number(v);
}

/** Builds a configuration from `ovf export` options (paths relative to the current folder). */
function configFromOptions(o: Record<string, unknown>): VmConfig {
  const disks: DiskConfig[] = [];
  const slots: [0 | 1, 0 | 1][] = [[0, 0], [0, 1], [1, 0], [1, 1]];
  const next = () => {
    const s = slots.shift();
    if (!s) throw new UsageError('at most four IDE drives (--disk and --cdrom together)');
    return { type: 'ide' as const, channel: s[0], unit: s[1] };
  };
  for (const p of (o.disk as string[] | undefined) ?? [])
    disks.push({ controller: next(), media: 'disk', path: p });
  for (const p of (o.cdrom as string[] | undefined) ?? [])
    disks.push({ controller: next(), media: 'cdrom', path: p, format: 'iso', readOnly: true });
  const nics: NicConfig[] = ((o.nic as string[] | undefined) ?? []).map((n) => ({
    model: 'ne2k',
    network: n,
  }));
  const kernel = o.kernel as string | undefined;
  return {
    version: VM_CONFIG_VERSION,
    name: (o.name as string | undefined) ?? 'wasmvisor-vm',
    cpus: intOption(o.cpus as string | undefined, 'cpus') ?? 1,
    memoryMiB: intOption(o.memory as string | undefined, 'memory') ?? 64,
    boot: kernel
      ? {
          firmware: 'multiboot',
          kernel,
          ...(o.cmdline !== undefined ? { cmdline: o.cmdline as string } : {}),
        }
      : { firmware: 'bios' },
    disks,
    nics,
    serial: o.serial ? [{ port: 1, backend: 'stdio' }] : [],
  };
}

/** Registers `wasmvisor ovf`. */
export function registerOvf(program: Command): void {
  const ovf = program
    .command('ovf')
    .description(
      'Virtual appliances: inspect, validate, import and export OVF descriptors and OVA packages',
    );

  ovf.command('inspect')
    .description('Show what an .ovf or .ova describes and how it maps to a wasmvisor VM')
    .argument('<file>', '.ovf descriptor or .ova package')
    .option('--configuration <id>', "deployment configuration (default: the descriptor's default)")
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { json?: boolean; configuration?: string }, cmd: Command) => {
      const r = await inspectFile(file, o.configuration);
      if (o.json) process.stdout.write(JSON.stringify(inspectionJson(r), null, 2) + '\n');
      else printInspection(r);
      setExitStatus(cmd, 0);
    });

  ovf
    .command('validate')
    .description(
      'Check an .ovf or .ova against DSP0243 rules (and its manifest); exit status 2 if invalid',
    )
    .argument('<file>', '.ovf descriptor or .ova package')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const r = await inspectFile(file);
      // Reading a file from outside the package is refused (DSP0243 7.1 hrefs are relative
      // to the package); the descriptor itself parsed, so each one is named.
      const outside = [...(r.dir?.outside ?? []), ...(r.pkg?.outside ?? [])].map((o) => ({
        severity: 'error' as const,
        where: 'References',
        message: `File href "${o.href}" leaves the package (${o.problem}); not read`,
      }));
      r.validation.issues.push(...outside);
      if (outside.length) r.validation.ok = false;
      const sig = r.pkg ? packageSignature(r.pkg) : r.dir?.signature;
      if (sig && (!sig.verified || sig.expired))
        r.validation.issues.push({
          severity: sig.verified ? 'warning' : 'error',
          where: 'certificate', message: describeSignature(sig),
        });
      if (sig && !sig.verified) r.validation.ok = false;
      const errors = r.validation.issues.filter((i) => i.severity === 'error');
      const missing = r.dir?.missing ?? [];
      for (const i of r.validation.issues)
        process.stderr.write(`${file}: ${i.severity}: ${i.where}: ${i.message}\n`);
      // A descriptor on its own may be checked before its files are beside it: missing
      // files are a warning here, and an error when a package is imported.
      for (const m of missing)
        process.stderr.write(
          `${file}: warning: referenced file "${m}" is not beside the descriptor\n`,
        );
      for (const w of r.pkg?.warnings ?? []) process.stderr.write(`${file}: warning: ${w}\n`);
      const warnings =
        r.validation.issues.length - errors.length + missing.length + (r.pkg?.warnings.length ?? 0);
      if (errors.length) {
        process.stderr.write(`${file}: invalid (${errors.length} error(s))\n`);
        setExitStatus(cmd, 2);
      } else {
        process.stdout.write(`${file}: valid${warnings ? ` (${warnings} warning(s))` : ''}\n`);
        setExitStatus(cmd, 0);
      }
    });

  ovf
    .command('import')
    .description(
      'Unpack an .ova (or an .ovf with its files) into a ' +
        'new folder with a wasmvisor VM configuration (vm.json)',
    )
    .argument('<package>', '.ova package, or .ovf descriptor with its files beside it')
    .argument('<dir>', 'target folder (must not exist or be empty)')
    .option('--vs <id>', 'which VirtualSystem of a collection (default: the first)')
    .option('--configuration <id>', "deployment configuration (default: the descriptor's default)")
    .option(
      '--keep-stream-vmdk',
      'keep streamOptimized VMDKs as they are (read-only) ' +
        'instead of converting them to qcow2 working copies',
    )
    .option(
      '--property <key=value>',
      'set a ProductSection property (user-configurable; type and qualifiers checked), ' +
        'repeatable; the values reach the guest as an OVF environment (ovf-env.iso)',
      collect,
    )
    .option(
      '--transport <list>',
      'how the OVF environment reaches the guest: iso, guestinfo or iso,guestinfo ' +
        '(ovftool\'s ovf:transport "iso" / "com.vmware.guestInfo"; default: the descriptor\'s)',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        pkg: string,
        dir: string,
        o: {
          vs?: string; configuration?: string; keepStreamVmdk?: boolean; json?: boolean;
          property?: string[]; transport?: string;
        },
        cmd: Command,
      ) => {
        const meter = terminalProgress(process.stderr);
        let r;
        try {
          r = await importOva(pkg, dir, {
            virtualSystem: o.vs,
            configuration: o.configuration,
            keepStreamOptimized: o.keepStreamVmdk,
            properties: parseAssignments(o.property ?? []),
            transport: o.transport === undefined ? undefined : parseTransport(o.transport),
            progress: meter?.update,
          });
        } finally {
          meter?.end();
        }
        if (o.json) {
          process.stdout.write(
            JSON.stringify(
              {
                dir: r.dir,
                config: r.config,
                notes: r.notes,
                environment: r.environment,
                warnings: r.package.warnings,
                members: r.package.members,
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          const lines = [
            `imported ${pkg} into ${r.dir}: ${r.config.name}, ` +
              `${r.config.cpus} vCPU, ${r.config.memoryMiB} MiB, ` +
              `${r.config.disks.length} drive(s); configuration in ${r.configPath}`,
          ];
          for (const n of r.notes)
            if (n.kind !== 'mapped') lines.push(`  ${n.kind}: ${n.subject}: ${n.message}`);
          for (const w of r.package.warnings) lines.push(`  warning: ${w}`);
          lines.push(`boot it with: wasmvisor run --config ${shellQuote(r.configPath)}`);
          process.stdout.write(lines.join('\n') + '\n');
        }
        setExitStatus(cmd, 0);
      },
    );

  // --- ovf convert (issue 14): between forms and OVF versions, as ovftool SRC DST ---
  ovf
    .command('convert')
    .description('Convert an appliance as ovftool does: OVF <-> OVA, a VMware .vmx (with its ' +
      'disks) to OVF/OVA, OVF/OVA <-> a VM folder (vm.json), between OVF 0.9, 1.x and 2.x')
    .argument('<source>', '.ova, .ovf, .vmx, vm.json or a VM folder')
    .argument('<target>', '.ova, .ovf, or a new folder for a VM (vm.json and disks)')
    .option('--ovf-version <v>', 'OVF version of the result: 0.9, 1 or 2 (default: the ' +
      "source's; 1 for a .vmx or a VM folder)")
    .option('--sha-algorithm <alg>', 'manifest digest: SHA1, SHA256 or SHA512 (default SHA256, ' +
      "as ovftool's --shaAlgorithm)")
    .option('--json', 'print the result as JSON')
    .action(async (source: string, target: string,
      o: { ovfVersion?: string; shaAlgorithm?: string; json?: boolean }, cmd: Command) => {
      const v = o.ovfVersion === undefined ? undefined : o.ovfVersion.replace(/\.0$/, '');
      if (v !== undefined && v !== '0.9' && v !== '1' && v !== '2')
        throw new UsageError(`--ovf-version must be 0.9, 1 or 2, not "${o.ovfVersion}"`);
      const alg = o.shaAlgorithm?.toUpperCase().replace('-', '');
      if (alg !== undefined && alg !== 'SHA1' && alg !== 'SHA256' && alg !== 'SHA512')
        throw new UsageError(
          `--sha-algorithm must be SHA1, SHA256 or SHA512, not "${o.shaAlgorithm}"`);
      const meter = terminalProgress(process.stderr);
      let r;
      try {
        r = await convertAppliance(source, target, {
          ovfVersion: v as OvfVersion | undefined, algorithm: alg as DigestAlgorithm | undefined,
          progress: meter?.update,
        });
      } finally {
        meter?.end();
      }
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        const version = r.ovfVersion === '0.9' ? '0.9' : r.ovfVersion + '.x';
        const lines = [`converted ${r.from} ${source} -> ${r.to} ${target} (OVF ${version})`,
          ...r.files.map((f) => `  ${f}`)];
        for (const w of r.warnings) lines.push(`  warning: ${w}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      setExitStatus(cmd, 0);
    });

  ovf
    .command('export')
    .description(
      'Package a VM as an .ova: from a configuration file (export CONFIG.json OUT.ova) ' +
        'or from options (export OUT.ova --disk ...)',
    )
    .argument('<args...>', 'CONFIG.json OUT.ova, or OUT.ova with options')
    .option(
      '--ovf-version <v>',
      "OVF version to write: 1 (DSP0243 1.x) or 2; default: the original descriptor's, else 1",
    )
    .option(
      '--vmdk',
      'hard disks as streamOptimized VMDK, what VMware and VirtualBox import (the default)',
    )
    .option('--no-vmdk', 'keep hard disks in their own format (e.g. qcow2)')
    .option('--sign <key.pem>', 'sign the manifest with this private key (PEM); needs --cert')
    .option('--cert <cert.pem>', 'the X.509 certificate (PEM) of the signing key')
    .option(
      '--rebuild',
      'write a new descriptor from vm.json even when the one it was imported from is beside it',
    )
    .option('--name <name>', 'VM name (options form)')
    .option('--cpus <n>', 'vCPUs (options form)')
    .option('--memory <MiB>', 'RAM in MiB (options form)')
    .option('--disk <image>', 'hard disk image, repeatable (options form)', collect)
    .option('--cdrom <iso>', 'CD-ROM image, repeatable (options form)', collect)
    .option('--nic <network>', 'an NE2000 NIC on this network, repeatable (options form)', collect)
    .option('--kernel <file>', 'multiboot kernel (options form)')
    .option('--cmdline <text>', 'kernel command line (options form)')
    .option('--serial', 'COM1 to the console (options form)')
    .action(async (args: string[], o: Record<string, unknown>, cmd: Command) => {
      const family = o.ovfVersion === '2' ? '2' : o.ovfVersion === '1' ? '1' : undefined;
      if (!family && o.ovfVersion !== undefined)
        throw new UsageError(`--ovf-version must be 1 or 2, not "${String(o.ovfVersion)}"`);
      const out = args[args.length - 1];
      if (args.length !== 1 && args.length !== 2) {
        throw new UsageError(
          'usage: wasmvisor ovf export CONFIG.json OUT.ova | ' +
            'wasmvisor ovf export OUT.ova [options]',
        );
      }
      if (!/\.ova$/i.test(out)) throw new UsageError(`the output "${out}" must end in .ova`);
      const config = args.length === 1 ? configFromOptions(o) : undefined;
      const meter = terminalProgress(process.stderr);
      if ((o.sign === undefined) !== (o.cert === undefined))
        throw new UsageError('--sign and --cert go together');
      const sign = o.sign === undefined ? undefined : {
        keyPem: await readFile(String(o.sign), 'utf8'),
        certPem: await readFile(String(o.cert), 'utf8'),
      };
      const opts = {
        family, convertToVmdk: o.vmdk !== false, rebuild: Boolean(o.rebuild),
        progress: meter?.update, sign,
      } as const;
      let result;
      try {
        result = config
          ? await exportVmConfig(config, resolve('.'), out, opts)
          : await exportOva(args[0], out, opts);
      } finally {
        meter?.end();
      }
      for (const n of result.notes) {
        process.stderr.write(`${n.startsWith('nothing') ? 'warning' : 'note'}: ${n}\n`);
      }
      process.stdout.write(`wrote ${args[args.length - 1]}: ${result.files.join(', ')}\n`);
      setExitStatus(cmd, 0);
    });
}

/** `--transport iso,guestinfo` (ovftool's names `com.vmware.guestInfo` accepted too). */
function parseTransport(v: string): EnvironmentTransport[] {
  const out: EnvironmentTransport[] = [];
  for (const t of v.split(/[\s,]+/).filter(Boolean)) {
    const n = t === GUESTINFO_TRANSPORT ? 'guestinfo' : t;
    if (n !== 'iso' && n !== 'guestinfo')
      throw new UsageError(`--transport: "${t}" is not iso or guestinfo (${GUESTINFO_TRANSPORT})`);
    if (!out.includes(n)) out.push(n);
  }
  if (!out.length) throw new UsageError('--transport: give iso, guestinfo or both');
  return out;
}
