/**
 * The OVF/OVA format code runs in browsers: bundled for the browser platform (esbuild,
 * which refuses Node built-ins there) and run in a bare JavaScript context that has only
 * web APIs (no process, require, Buffer, fs), it reads a descriptor, maps it, writes a
 * package and reads the package back with its manifest verified.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SAMPLES } from './helpers.js';

describe('OVF/OVA code in a browser-like context', () => {
  it('bundles without Node built-ins and works with web APIs only', async () => {
    const r = await build({
      stdin: {
        contents: `
          import {
            readOvf, writeOvf, toVmConfig, writeOva, readOva,
          } from './bindings/ovf/index.ts';
          globalThis.run = async (text) => {
            const env = readOvf(text);
            const cfg = toVmConfig(env).config;
            const desc = new TextEncoder().encode(writeOvf(env));
            const disk = new Uint8Array(1000).fill(7);
            const parts = [];
            const open = async function* () { yield disk; };
            const src = [{ name: 'ubuntu.2.0-disk1.vmdk', size: 1000, open }];
            const ova = writeOva('a.ovf', desc, src, { mtime: new Date(0) });
            for await (const c of ova) parts.push(c);
            const all = new Uint8Array(parts.reduce((a, c) => a + c.length, 0));
            let o = 0;
            for (const p of parts) { all.set(p, o); o += p.length; }
            const back = await readOva((async function* () { yield all; })());
            return {
              cfg, size: all.length, members: back.members, warnings: back.warnings,
              hasBuffer: typeof Buffer, hasProcess: typeof process,
            };
          };`,
        resolveDir: REPO,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const ctx: Record<string, unknown> = {
      TextEncoder,
      TextDecoder,
      console,
      setTimeout,
      clearTimeout,
      queueMicrotask,
    };
    vm.createContext(ctx);
    vm.runInContext(r.outputFiles[0].text, ctx);
    const out = await (ctx.run as (t: string) => Promise<any>)(
      readFileSync(join(SAMPLES, 'cot/ubuntu.2.0.ovf'), 'utf8'),
    );
    expect(out.hasBuffer).toBe('undefined');
    expect(out.hasProcess).toBe('undefined');
    expect(out.cfg).toMatchObject({ name: 'ubuntu', cpus: 1, memoryMiB: 512 });
    // descriptor + manifest + 1000-byte file: three
    // 512-byte headers, data rounded to 512, two end blocks.
    expect(out.size % 512).toBe(0);
    expect(out.members).toEqual([
      {
        name: 'ubuntu.2.0-disk1.vmdk',
        size: 1000,
        storedSize: 1000,
        compressed: false,
        verified: 'SHA256',
      },
    ]);
    expect(out.warnings).toEqual([]);
  });
});
