/**
 * The `wasmvisor` command line. Each subsystem registers its own subcommands;
 * this file only wires them and turns errors into exit status 2 with a message.
 */
import { Command, CommanderError } from 'commander';
import { registerRun } from './run.js';
import { registerBench } from './bench.js';
import { registerOvf } from './ovf.js';
import { registerImg } from './img.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

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

/** The version in the installed package.json (the one npm shows), read at run time. */
export function packageVersion(): string {
  const text = readFileSync(join(packageRoot(), 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('wasmvisor')
    .description('An x86 PC in WebAssembly with a hypervisor on top: run guests, measure '
      + 'virtualization, handle appliances and disk images.')
    .version(packageVersion(), '-V, --version', 'print the version of wasmvisor')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRun(program);
  registerBench(program);
  registerOvf(program);
  registerImg(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI and returns the process exit status. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let status = 0;
  program.hook('postAction', (_this, action) => {
    const s = (action as Command & { exitStatus?: number }).exitStatus;
    if (typeof s === 'number') status = s;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; everything else is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`wasmvisor: ${err.message}\n`);
      return err.exitCode;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`wasmvisor: ${msg}\n`);
    return 2;
  }
}

/** Sets the exit status a subcommand's action wants the process to end with. */
export function setExitStatus(cmd: Command, status: number): void {
  (cmd as Command & { exitStatus?: number }).exitStatus = status;
}
