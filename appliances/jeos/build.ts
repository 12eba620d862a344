/**
 * Builds jeos.ova, the example appliance, from vm.json: the bundled JeOS kernel
 * (guests/jeos/jeos.elf) booted by multiboot, and its disk (guests/jeos/disk.img)
 * converted to a streamOptimized VMDK. Run from the repository root:
 *
 *   npx tsx appliances/jeos/build.ts
 *
 * The package's member times are fixed, so a rebuild from the same inputs differs only in
 * the VMDK's content ID (CID), which the VMDK writer draws at random as VMware does.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportOva } from '../../bindings/ovf/node/export.js';

const here = dirname(fileURLToPath(import.meta.url));
const r = await exportOva(join(here, 'vm.json'), join(here, 'jeos.ova'), {
  convertToVmdk: true,
  mtime: new Date(Date.UTC(2026, 0, 1)),
});
process.stdout.write(`wrote appliances/jeos/jeos.ova: ${r.files.join(', ')}\n`);
