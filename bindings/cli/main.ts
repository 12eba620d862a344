/**
 * The `wasmvisor` command line. Each subsystem registers its own subcommands;
 * this file only wires them and turns errors into exit status 2 with a message.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';
import { UsageError } from './errors.js';

export { UsageError, errCode, setExitStatus } from './errors.js';

/** The version in the installed package.json (the one npm shows), read at run time. */
export function packageVersion(): string {
  const text = readFileSync(join(packageRoot(), 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The program with its subcommands. Each subsystem's module is loaded only when needed:
 * `only` names the one subcommand the arguments ask for (`img` then loads the disk code
 * alone, not the emulator, which keeps a conversion's memory down).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('wasmvisor')
    .description('An x86 PC in WebAssembly with a hypervisor on top: run guests, measure '
      + 'virtualization, handle appliances and disk images.')
    .version(packageVersion(), '-V, --version', 'print the version of wasmvisor')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const want = (name: string) => only === undefined || only === name;
  if (want('run')) (await import('./run.js')).registerRun(program);
  if (want('bench')) (await import('./bench.js')).registerBench(program);
  if (want('ovf')) (await import('./ovf.js')).registerOvf(program);
  if (want('img')) (await import('./img.js')).registerImg(program);
  // xl: the PV management domain's toolstack.
  if (want('xl')) (await import('./xl.js')).registerXl(program);
  if (want('restore') || want('snapshot')) {
    (await import('./snapshot.js')).registerSnapshot(program);
  }
  if (want('host')) (await import('./host.js')).registerHost(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI and returns the process exit status. */
export async function main(argv: string[]): Promise<number> {
  // Subcommands other than these (and options, help) need the whole program.
  const first = argv[0];
  const program = await buildProgram(
    ['run', 'bench', 'ovf', 'img', 'xl', 'host'].includes(first) ? first
      : first === 'restore' || first === 'snapshot' ? 'restore' : undefined,
  );
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
