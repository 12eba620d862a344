/**
 * The core path runs in browsers: the package entry point bundled for the browser platform
 * (esbuild refuses Node built-ins there), then run in a bare JavaScript context with web
 * APIs only (no process, require, Buffer, fs), where a Machine boots a Multiboot guest from
 * the wasm bytes it is given and prints what QEMU printed (guests/systests/expected).
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

describe('the package in a browser-like context', () => {
  it('bundles bindings/index.ts without Node built-ins and boots a guest with web APIs only', async () => {
    const r = await build({
      stdin: {
        contents: `
          import { Machine } from './bindings/index.ts';
          globalThis.boot = async (wasm, kernel) => {
            let out = '';
            const m = await Machine.create({ ramBytes: 16 << 20, wasm, kernel, serialOut: (b) => { out += String.fromCharCode(b); } });
            const stop = m.run(10_000_000);
            return { out, stop, hasBuffer: typeof Buffer, hasProcess: typeof process };
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
    const text = r.outputFiles[0].text;
    expect(text).not.toMatch(/["']node:/);
    const ctx: Record<string, unknown> = {
      WebAssembly, TextEncoder, TextDecoder, console, setTimeout, clearTimeout, queueMicrotask, URL, performance, atob, btoa,
    };
    vm.createContext(ctx);
    vm.runInContext(text, ctx);
    const wasm = new Uint8Array(readFileSync(join(REPO, 'build/core.wasm')));
    const kernel = new Uint8Array(readFileSync(join(REPO, 'guests/systests/hello.bin')));
    const res = await (ctx.boot as (w: Uint8Array, k: Uint8Array) => Promise<any>)(wasm, kernel);
    const expected = readFileSync(join(REPO, 'guests/systests/expected/hello.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(res.hasBuffer).toBe('undefined');
    expect(res.hasProcess).toBe('undefined');
    expect(res.out.split(/\r?\n/).filter(Boolean)).toEqual(expected);
    expect(res.stop).toEqual({ kind: 'exit', status: 1 });
  });
});
