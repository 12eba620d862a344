/**
 * Debian's gdb attached to `wasmvisor run --gdb` with the bundled JeOS (guests/jeos/jeos.elf
 * has its symbols): a breakpoint at a kernel function, variables read there, a single step,
 * a hardware breakpoint, a write watchpoint, then a continue to the end. References: the
 * disk image's size (ide.c's `sectors` is IDENTIFY words 60-61, the LBA28 sector count),
 * gdb's own disassembler for the step, JeOS's source for the watched variable (proc.c:
 * `p->pid = next_pid++` in alloc_proc), and the console of the same run without gdb.
 */
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const ELF = join(repoRoot, 'guests/jeos/jeos.elf');

describe.skipIf(!hasTool('gdb'))('gdb attached to a JeOS run', () => {
  it('breaks, reads variables, steps, watches and continues to the end', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx',
      join(repoRoot, 'test/helpers/cli-entry.ts'), 'run', '--gdb', '0'], { cwd: repoRoot });
    let err = '', out = '';
    child.stdout.on('data', (d) => { out += d; });
    const port = await new Promise<string>((ok, fail) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /waiting for gdb on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) ok(m[1]);
      });
      child.on('exit', () => fail(new Error(err)));
    });
    const script = [
      'set pagination off', 'set confirm off', `target remote 127.0.0.1:${port}`,
      'info registers eip', 'break ide_read', 'continue',
      'print *(unsigned int *)&sectors', 'print *(int *)&present',
      'x/2i $pc', 'stepi', 'print/x $pc',
      'delete 1', 'hbreak do_fork', 'continue', 'print/x $pc', 'delete 2',
      'watch *(int *)&next_pid', 'continue', 'delete', 'continue',
    ];
    const g = spawnSync('gdb', ['-q', '-batch', '-nx', ...script.flatMap((c) => ['-ex', c]),
      ELF], { encoding: 'utf8', timeout: 120_000 });
    const status = await new Promise((ok) => child.on('exit', ok));
    const text = g.stdout;
    // Multiboot enters the kernel at its ELF entry point, _start.
    expect(text).toMatch(/eip\s+0x100010\s+0x100010 <_start>/);
    expect(text).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in ide_read \(\)/);
    const sectors = statSync(join(repoRoot, 'guests/jeos/disk.img')).size / 512;
    expect(text).toContain(`$1 = ${sectors}`);
    expect(text).toContain('$2 = 1');
    // The step lands on the second instruction gdb disassembled.
    const second = /=> 0x[0-9a-f]+ <ide_read>:.*\n\s+(0x[0-9a-f]+) <ide_read\+\d+>:/.exec(text);
    expect(second).not.toBeNull();
    expect(text).toContain(`$3 = ${second![1]}`);
    const hb = /Hardware assisted breakpoint 2 at (0x[0-9a-f]+)/.exec(text);
    expect(hb).not.toBeNull();
    expect(text).toMatch(/Breakpoint 2, 0x[0-9a-f]+ in do_fork \(\)/);
    expect(text).toContain(`$4 = ${hb![1]}`);
    // next_pid++ in alloc_proc: one more, stopped in that function just after the write.
    const w = /Old value = (\d+)\nNew value = (\d+)\n0x[0-9a-f]+ in alloc_proc \(\)/.exec(text);
    expect(w, text).not.toBeNull();
    expect(Number(w![2])).toBe(Number(w![1]) + 1);
    expect(text).toContain('[Inferior 1 (Remote target) exited normally]');
    expect(status).toBe(0);
    // The guest's console is that of the same run without a debugger.
    const plain = runCli(['run']);
    const timing = (t: string) => t.replace(/in \d+\.\d+ s \([\d.]+ MIPS\)/, 'in (time)');
    expect(timing(out)).toBe(timing(plain.stdout));
  }, 180_000);
});
