import type { Command } from 'commander';

/** Registers `wasmvisor ovf`. */
export function registerOvf(program: Command): void {
  program.command('ovf').description('(ovf: not available in this build yet)').action(() => {
    throw new Error('ovf is not available in this build yet');
  });
}
