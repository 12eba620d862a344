#!/usr/bin/env node
// Records QEMU's boot of tools/linux/cache's kernel and initramfs (the reference the
// Linux test compares its milestones with): qemu-system-i386 -cpu pentium2, 128 MiB, the
// kernel with -kernel/-initrd/-append, COM1 on a pipe; the commands of session.mjs typed
// once the shell prompt is there. Writes cache/qemu.log.
// QEMU's UART can drop a character when the host side is slow (the kernel's console
// driver gives up waiting for THRE after 10 ms and writes on), so a log missing one of
// the milestones is recorded again, up to three times.
// Usage: node tools/linux/qemu-boot.mjs
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPEND, COMMANDS, PROMPT, milestones } from './session.mjs';

const cache = join(dirname(fileURLToPath(import.meta.url)), 'cache');
function record() {
  return new Promise((done) => {
    const qemu = spawn('qemu-system-i386', ['-cpu', 'pentium2', '-m', '128', '-display', 'none',
      '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
      '-kernel', join(cache, 'vmlinuz'), '-initrd', join(cache, 'initrd.cpio'),
      '-append', APPEND], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let typed = false;
    const t0 = Date.now();
    const timeout = setTimeout(() => qemu.kill(), 600_000);
    qemu.stdout.on('data', (d) => {
      out += d.toString('latin1');
      if (!typed && out.includes(PROMPT)) {
        typed = true;
        console.error(`qemu: shell prompt after ${Date.now() - t0} ms`);
        // One command at a time, each once the previous prompt is back.
        let i = 0;
        const next = () => {
          if (i >= COMMANDS.length) return;
          qemu.stdin.write(COMMANDS[i++] + '\n');
        };
        const prompts = () => out.split(PROMPT).length - 1;
        let seen = prompts();
        next();
        qemu.stdout.on('data', () => {
          const n = prompts();
          if (n > seen) { seen = n; next(); }
        });
      }
    });
    qemu.on('exit', (code) => {
      clearTimeout(timeout);
      console.error(`qemu: exited ${code} after ${Date.now() - t0} ms`);
      done(out);
    });

  });
}

for (let attempt = 1; ; attempt++) {
  const log = await record();
  const missing = milestones(log).filter((m) => m === undefined).length;
  if (!missing || attempt === 3) {
    writeFileSync(join(cache, 'qemu.log'), log);
    console.error(`qemu: cache/qemu.log written (${missing} milestones missing)`);
    if (missing) process.exitCode = 1;
    break;
  }
  console.error(`qemu: ${missing} milestones missing (a dropped character?): again`);
}
