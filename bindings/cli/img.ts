import type { Command } from 'commander';

/** Registers `wasmvisor img`. */
export function registerImg(program: Command): void {
  program.command('img').description('(img: not available in this build yet)').action(() => {
    throw new Error('img is not available in this build yet');
  });
}
