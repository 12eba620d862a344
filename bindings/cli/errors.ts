/**
 * What every subcommand shares with the CLI driver (main.ts), in a module of its own so a
 * subcommand loads without the others (`wasmvisor img` starts without the emulator).
 */
import type { Command } from 'commander';

/** An error whose message is meant for the user as it is (no stack trace). */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An error's code (ENOENT...) or message. */
export function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Sets the exit status a subcommand's action wants the process to end with. */
export function setExitStatus(cmd: Command, status: number): void {
  (cmd as Command & { exitStatus?: number }).exitStatus = status;
}
