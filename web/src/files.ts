/**
 * What a dropped file is, and how to boot it: a Multiboot kernel (booted directly), a disk
 * image with a boot sector (raw, qcow2, VMDK: booted by the bundled firmware) or an OVA
 * package (its first disk, by the firmware). Anything else is refused with what the file
 * is and why it cannot boot. Everything happens here, in the browser: nothing is uploaded.
 */
import { disk, ovf, isLinuxKernel } from 'wasmvisor';

type BlockDevice = disk.BlockDevice;

export interface BootPlan {
  /** What the file is, for the status line. */
  what: string;
  kernel?: Uint8Array;
  /** Boot through the bundled firmware from the first disk. */
  firmware?: boolean;
  disks?: BlockDevice[];
  ramMiB?: number;
  cmdline?: string;
}

/** A file that cannot boot: the message says what it is and why. */
export class UnbootableFile extends Error {
  constructor(message: string) { super(message); this.name = 'UnbootableFile'; }
}

/** Multiboot v1 header magic; the header lies in the first 8192 bytes, 4-byte aligned
 *  (Multiboot Specification 0.6.96, 3.1.1 and 3.1.2). */
const MULTIBOOT_MAGIC = 0x1badb002;
const MULTIBOOT_SEARCH = 8192;

const ELF_MACHINES: Record<number, string> = {
  3: 'x86 (IA-32)', 62: 'x86-64', 40: 'ARM', 183: 'AArch64', 243: 'RISC-V', 8: 'MIPS',
  20: 'PowerPC', 21: 'PowerPC 64',
};

function multibootHeader(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = Math.min(b.length, MULTIBOOT_SEARCH) - 12;
  for (let o = 0; o <= end; o += 4) {
    if (dv.getUint32(o, true) !== MULTIBOOT_MAGIC) continue;
    const flags = dv.getUint32(o + 4, true);
    const sum = dv.getUint32(o + 8, true);
    if (((MULTIBOOT_MAGIC + flags + sum) >>> 0) === 0) return o;
  }
  return -1;
}

const ascii = (b: Uint8Array, at: number, n: number): string =>
  String.fromCharCode(...b.subarray(at, at + n));

const hex = (b: Uint8Array, n = 8): string =>
  [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, '0')).join(' ');

/** Formats we recognize only to say what they are. */
function knownOther(b: Uint8Array): string | undefined {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'a gzip-compressed file (decompress it first)';
  if (ascii(b, 0, 4) === 'PK\x03\x04') return 'a ZIP archive (extract the image from it first)';
  if (ascii(b, 1, 3) === 'PNG') return 'a PNG picture';
  if (b[0] === 0xff && b[1] === 0xd8) return 'a JPEG picture';
  if (ascii(b, 0, 5) === '%PDF-') return 'a PDF document';
  if (ascii(b, 0, 2) === 'MZ') return 'a Windows/DOS executable (MZ)';
  if (b.length > 0x8005 && ascii(b, 0x8001, 5) === 'CD001') {
    return 'a CD-ROM image (ISO 9660); booting from CD (El Torito) is not supported yet';
  }
  return undefined;
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 0x80) printable++;
  }
  return n > 0 && printable / n > 0.97;
}

/** Largest disk copied into memory when the image cannot be written in place. */
const MAX_COPY_BYTES = 1 << 30;

/**
 * A disk the guest can write: the image itself, or for a read-only one (a streamOptimized
 * VMDK, as OVA packages carry) a raw copy in memory, as `wasmvisor ovf import` converts it
 * to a working copy.
 */
function writable(image: BlockDevice, name: string): BlockDevice {
  if (!image.readOnly) return image;
  if (image.size > MAX_COPY_BYTES) {
    throw new UnbootableFile(`${name} is a read-only disk image of ${image.size} bytes, more ` +
      `than the ${MAX_COPY_BYTES} bytes a page copies into memory to make it writable`);
  }
  const bytes = new Uint8Array(image.size);
  const chunk = 1 << 20;
  for (let o = 0; o < bytes.length; o += chunk) {
    image.read(o, bytes.subarray(o, Math.min(bytes.length, o + chunk)));
  }
  return disk.openImage(new disk.MemorySource(bytes), { format: 'raw' });
}

/** A disk image's first sector ends with 55 AA when the firmware may boot it. */
function checkBootSector(image: BlockDevice, what: string, name: string): void {
  if (image.size < 512) {
    throw new UnbootableFile(`${name} is ${what} of ${image.size} bytes, smaller than one ` +
      'sector: the firmware cannot boot it');
  }
  const s = new Uint8Array(512);
  image.read(0, s);
  if (s[510] !== 0x55 || s[511] !== 0xaa) {
    throw new UnbootableFile(`${name} is ${what}, but its first sector has no boot ` +
      `signature (55 AA at byte 510, found ${hex(s.subarray(510), 2)}): the firmware ` +
      'cannot boot it');
  }
}

export async function planFile(name: string, buf: ArrayBuffer, ramMiB: number):
  Promise<BootPlan> {
  const b = new Uint8Array(buf);
  if (b.length === 0) throw new UnbootableFile(`${name} is empty (0 bytes): nothing to boot`);
  const mb = multibootHeader(b);
  const isElf = ascii(b, 0, 4) === '\x7fELF';
  if (mb >= 0) {
    return { what: `${name}: a Multiboot kernel${isElf ? ' (ELF)' : ''}`, kernel: b };
  }
  // A Linux bzImage ("HdrS" at 0x202): the Linux boot protocol, its console on the serial
  // port; Debian's kernel decompresses at 16 MiB and needs 32 MiB (no initrd: the page
  // takes one file, so the kernel stops where it looks for its root file system).
  if (isLinuxKernel(b)) {
    return { what: `${name}: a Linux kernel (bzImage)`, kernel: b, cmdline: 'console=ttyS0',
      ramMiB: Math.max(ramMiB, 128) };
  }
  if (isElf) {
    const bits = b[4] === 2 ? '64-bit' : b[4] === 1 ? '32-bit' : 'unknown-class';
    const mach = b.length > 19 ? (b[18] | (b[19] << 8)) : -1;
    const arch = ELF_MACHINES[mach] ?? `machine ${mach}`;
    const why = mach === 3
      ? 'wasmvisor boots a kernel directly through a Multiboot v1 header or as a Linux ' +
        'bzImage (a plain ELF is neither: a Multiboot v1 header is missing)'
      : `wasmvisor emulates an IA-32 PC, which cannot run ${arch} code`;
    throw new UnbootableFile(`${name} is a ${bits} ELF file for ${arch} with no Multiboot ` +
      `header in its first 8 KiB: ${why}`);
  }
  if (b.length > 262 && ascii(b, 257, 5) === 'ustar') return planOva(name, b, ramMiB);
  const head = new TextDecoder().decode(b.subarray(0, 4096));
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<([\w-]+:)?Envelope[\s>]/.test(head)) {
    throw new UnbootableFile(`${name} is an OVF descriptor on its own: the disks it names ` +
      'are separate files a page cannot reach; drop the .ova package instead');
  }
  const other = knownOther(b);
  if (other) throw new UnbootableFile(`${name} is ${other}: it cannot boot`);
  let image: disk.DiskImage;
  let format: string;
  try {
    const src = new disk.MemorySource(b);
    format = disk.detectFormat(src);
    image = disk.openImage(src, { format: format as disk.ImageFormat, name });
  } catch (e) {
    throw new UnbootableFile(`${name} cannot be read as a disk image: ${(e as Error).message}`);
  }
  if (format === 'raw') {
    if (looksLikeText(b) && (b[510] !== 0x55 || b[511] !== 0xaa)) {
      throw new UnbootableFile(`${name} is a text file, not a kernel, disk image or OVA ` +
        'package: nothing in it can boot');
    }
    if (b.length < 512 || b[510] !== 0x55 || b[511] !== 0xaa) {
      throw new UnbootableFile(`${name} is not a Multiboot kernel, a disk image or an OVA ` +
        `package (${b.length} bytes starting ${hex(b)}); read as a raw disk, its first ` +
        'sector has no boot signature (55 AA at byte 510), so the firmware cannot boot it');
    }
  }
  const what = `a ${format} disk image`;
  checkBootSector(image, what, name);
  return { what: `${name}: ${what}, booted by the bundled firmware`, firmware: true,
    disks: [writable(image, name)] };
}

async function planOva(name: string, b: Uint8Array, ramMiB: number): Promise<BootPlan> {
  const sink = ovf.memorySink();
  let pkg: ovf.OvaReadResult;
  try {
    pkg = await ovf.readOva((async function* () { yield b; })(), { sink, packageName: name });
  } catch (e) {
    throw new UnbootableFile(`${name} is a tar archive but not a readable OVA package: ` +
      (e as Error).message);
  }
  // A signed package (DSP0243 5.2) is checked with WebCrypto; one whose signature does not
  // match its manifest is refused, as `wasmvisor ovf import` refuses it.
  let signedBy = '';
  if (pkg.certificate && pkg.manifest) {
    let sig: ovf.SignatureReport;
    try {
      sig = await ovf.verifyCertificateFileWeb(pkg.certificate.text,
        new TextEncoder().encode(pkg.manifest.text), pkg.manifest.name, pkg.certificate.name);
    } catch (e) {
      throw new UnbootableFile(`${name}: certificate ${pkg.certificate.name}: ` +
        (e as Error).message);
    }
    if (!sig.verified) {
      throw new UnbootableFile(`${name}: certificate ${pkg.certificate.name}: ` +
        ovf.describeSignature(sig));
    }
    signedBy = `; signature verified, signed by ${sig.subject}` +
      `${sig.selfSigned ? ' (self-signed)' : `, issued by ${sig.issuer}`}` +
      `${sig.expired ? ', certificate EXPIRED' : ''}`;
  }
  let mapped: ovf.ToConfigResult;
  try {
    mapped = ovf.toVmConfig(pkg.envelope);
  } catch (e) {
    throw new UnbootableFile(`${name}: its OVF descriptor describes no VM this machine ` +
      `can run: ${(e as Error).message}`);
  }
  const cfg = mapped.config;
  const disks: BlockDevice[] = [];
  for (const link of mapped.diskFiles) {
    const file = link.file?.href;
    const bytes = file === undefined ? undefined : sink.files.get(file);
    if (!bytes) continue;
    try {
      disks.push(writable(disk.openImage(new disk.MemorySource(bytes), { name: file }),
        `${name}: ${file}`));
    } catch (e) {
      throw new UnbootableFile(`${name}: disk ${file} cannot be read: ${(e as Error).message}`);
    }
  }
  const mem = Math.min(cfg.memoryMiB, ramMiB);
  if (cfg.boot.firmware === 'multiboot') {
    const kernel = sink.files.get(cfg.boot.kernel);
    if (!kernel) throw new UnbootableFile(`${name}: the kernel ${cfg.boot.kernel} is missing`);
    return { what: `${name}: OVA package "${cfg.name}", Multiboot kernel ${cfg.boot.kernel}` +
      signedBy,
      kernel, disks, ramMiB: mem, cmdline: cfg.boot.cmdline };
  }
  if (!disks.length) {
    throw new UnbootableFile(`${name}: the OVA package "${cfg.name}" carries no disk to boot`);
  }
  checkBootSector(disks[0], `the first disk of the OVA package "${cfg.name}"`, name);
  return { what: `${name}: OVA package "${cfg.name}" (${disks.length} disk(s), ` +
    `${mem} MiB), booted by the bundled firmware${signedBy}`, firmware: true, disks,
    ramMiB: mem };
}
