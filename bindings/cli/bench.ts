import type { Command } from 'commander';

/** Registers `wasmvisor bench`. */
export function registerBench(program: Command): void {
  program.command('bench').description('(bench: not available in this build yet)').action(() => {
    throw new Error('bench is not available in this build yet');
  });
}
