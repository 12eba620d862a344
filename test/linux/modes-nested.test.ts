/**
 * Debian's kernel boots to the shell prompt under vtx and svm with nested paging, printing
 * QEMU's kernel-log milestones (test/linux/modes.ts).
 */
import { bootsUnder } from './modes.js';

// npm test boots vtx with nested paging here and svm with shadow paging in
// modes-shadow.test.ts (both vendors, both pagings); WASMVISOR_LINUX_ALL_MODES=1
// (scripts/long-tests.sh) adds the other two.
const all = process.env.WASMVISOR_LINUX_ALL_MODES === '1';
const modes: Parameters<typeof bootsUnder>[0] = [['vtx, nested paging', { mode: 'vtx', paging: 'nested' }]];
if (all) modes.push(['svm, nested paging', { mode: 'svm', paging: 'nested' }]);
bootsUnder(modes);
