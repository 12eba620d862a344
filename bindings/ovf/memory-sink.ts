/**
 * An OVA sink that keeps the package's files in memory, for web pages and tests, with a
 * ceiling on the total so that a package cannot exhaust the page's memory.
 */
import { OvfError } from './errors.js';
import type { OvaSink } from './ova-read.js';

/** Default ceiling: 1 GiB in total. */
export const MAX_MEMORY_SINK_BYTES = 2 ** 30;

export interface MemorySink extends OvaSink {
  /** Files written so far, by package name. */
  readonly files: Map<string, Uint8Array>;
}

export function memorySink(maxBytes = MAX_MEMORY_SINK_BYTES): MemorySink {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  return {
    files,
    async create(name) {
      const parts: Uint8Array[] = [];
      let size = 0;
      return {
        async write(chunk) {
          total += chunk.length;
          if (total > maxBytes)
            throw new OvfError(
              'too-large',
              `the package's files exceed ${maxBytes} bytes in memory`,
              { file: name },
            );
          parts.push(chunk.slice());
          size += chunk.length;
        },
        async close() {
          const out = new Uint8Array(size);
          let o = 0;
          for (const p of parts) { out.set(p, o); o += p.length; }
          files.set(name, out);
        },
        async abort() {
          parts.length = 0;
        },
      };
    },
  };
}
