/**
 * Debian's kernel boots to the shell prompt under vtx and svm with nested paging, printing
 * QEMU's kernel-log milestones (test/linux/modes.ts).
 */
import { bootsUnder } from './modes.js';

bootsUnder([
  ['vtx, nested paging', { mode: 'vtx', paging: 'nested' }],
  ['svm, nested paging', { mode: 'svm', paging: 'nested' }],
]);
