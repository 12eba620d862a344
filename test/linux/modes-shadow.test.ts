/**
 * Debian's kernel boots to the shell prompt under vtx and svm with shadow paging, printing
 * QEMU's kernel-log milestones (test/linux/modes.ts).
 */
import { bootsUnder } from './modes.js';

// See modes-nested.test.ts: npm test boots svm with shadow paging here.
const all = process.env.WASMVISOR_LINUX_ALL_MODES === '1';
const modes: Parameters<typeof bootsUnder>[0] = [];
if (all) modes.push(['vtx, shadow paging', { mode: 'vtx', paging: 'shadow' }]);
modes.push(['svm, shadow paging', { mode: 'svm', paging: 'shadow' }]);
bootsUnder(modes);
