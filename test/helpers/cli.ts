import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../bindings/cli/main.js';

export const repoRoot = join(__dirname, '..', '..');

export interface CliResult { status: number | null; stdout: string; stderr: string }

/** Runs `wasmvisor ARGS` from the sources in a child process. */
export function runCli(args: string[], opts: { input?: string | Uint8Array; cwd?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/cli-entry.ts'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface InProcessResult { status: number; out: string; err: string }

/** Runs `wasmvisor ARGS` in this process (in folder `cwd` when given), capturing stdout and
 *  stderr: faster than a child process for the many short commands of the format tests. */
export async function runCliInProcess(args: string[], cwd?: string): Promise<InProcessResult> {
  const out: string[] = [], err: string[] = [];
  const o = process.stdout.write.bind(process.stdout), e = process.stderr.write.bind(process.stderr);
  const prev = process.cwd();
  (process.stdout as any).write = (s: string) => { out.push(String(s)); return true; };
  (process.stderr as any).write = (s: string) => { err.push(String(s)); return true; };
  if (cwd !== undefined) process.chdir(cwd);
  try {
    const status = await main(args);
    return { status, out: out.join(''), err: err.join('') };
  } finally {
    if (cwd !== undefined) process.chdir(prev);
    (process.stdout as any).write = o;
    (process.stderr as any).write = e;
  }
}
