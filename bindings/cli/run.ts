import type { Command } from 'commander';

/** Registers `wasmvisor run`. */
export function registerRun(program: Command): void {
  program.command('run').description('(run: not available in this build yet)').action(() => {
    throw new Error('run is not available in this build yet');
  });
}
