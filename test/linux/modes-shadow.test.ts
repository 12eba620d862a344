/**
 * Debian's kernel boots to the shell prompt under vtx and svm with shadow paging, printing
 * QEMU's kernel-log milestones (test/linux/modes.ts).
 */
import { bootsUnder } from './modes.js';

bootsUnder([
  ['vtx, shadow paging', { mode: 'vtx', paging: 'shadow' }],
  ['svm, shadow paging', { mode: 'svm', paging: 'shadow' }],
]);
