/**
 * Node-only: reads the packaged core.wasm from disk. Loaded with a dynamic import by the
 * loader so that browsers never see `node:fs`. Works from the sources (bindings/core/, as
 * vitest runs them) and from the compiled package (dist/bindings/core/).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const candidates = ['../../build/core.wasm', '../../../build/core.wasm'];

export async function readPackagedWasm(): Promise<Uint8Array<ArrayBuffer>> {
  const tried: string[] = [];
  for (const rel of candidates) {
    const url = new URL(rel, import.meta.url);
    try {
      return new Uint8Array(await readFile(url)) as Uint8Array<ArrayBuffer>;
    } catch {
      tried.push(fileURLToPath(url));
    }
  }
  throw new Error(
    `wasmvisor: core.wasm not found (tried ${tried.join(', ')}); run "npm run build:wasm"`);
}

export async function readWasmFile(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await readFile(url)) as Uint8Array<ArrayBuffer>;
}
