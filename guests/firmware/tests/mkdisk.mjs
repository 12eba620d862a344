// Makes the 1 MiB test disk: diskboot.bin in sectors 0-7, then the pattern the boot
// program checks (byte i of sector s is (s * 7 + i) & 0xFF) in sectors 8-71.
import { readFileSync, writeFileSync } from 'node:fs';

export function makeDisk(boot) {
  const disk = new Uint8Array(1 << 20);
  disk.set(boot, 0);
  for (let s = 8; s < 72; s++) {
    for (let i = 0; i < 512; i++) disk[s * 512 + i] = (s * 7 + i) & 0xff;
  }
  return disk;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [boot, out] = process.argv.slice(2);
  writeFileSync(out, makeDisk(readFileSync(boot)));
}
