#!/usr/bin/env node
// Writes a newc cpio archive (the initramfs format of the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst) holding busybox, /init and
// /dev/console, without root and without the cpio tool.
// Usage: node mkinitramfs.mjs BUSYBOX INIT OUT
import { readFileSync, writeFileSync } from 'node:fs';

const [busyboxPath, initPath, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: mkinitramfs.mjs BUSYBOX INIT OUT');
  process.exit(2);
}
const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;
const entries = [
  { name: 'bin', mode: S_IFDIR | 0o755 },
  { name: 'dev', mode: S_IFDIR | 0o755 },
  { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
  { name: 'proc', mode: S_IFDIR | 0o755 },
  { name: 'sys', mode: S_IFDIR | 0o755 },
  { name: 'tmp', mode: S_IFDIR | 0o1777 },
  { name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(busyboxPath) },
  { name: 'bin/sh', mode: S_IFLNK | 0o777, data: Buffer.from('busybox') },
  { name: 'init', mode: S_IFREG | 0o755, data: readFileSync(initPath) },
];
const parts = [];
let size = 0;
const push = (b) => { parts.push(b); size += b.length; };
const pad4 = () => { if (size % 4) push(Buffer.alloc(4 - (size % 4))); };
const hex8 = (n) => n.toString(16).padStart(8, '0');
let ino = 1;
for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
  const data = e.data ?? Buffer.alloc(0);
  const name = Buffer.from(e.name + '\0');
  const fields = [ino++, e.mode, 0, 0, e.mode & S_IFDIR ? 2 : 1, 0, data.length,
    0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
  push(Buffer.from('070701' + fields.map(hex8).join('')));
  push(name);
  pad4();
  push(data);
  pad4();
}
writeFileSync(out, Buffer.concat(parts));
