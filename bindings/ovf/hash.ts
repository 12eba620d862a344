/**
 * Incremental digests for manifests, so multi-gigabyte files are hashed as they stream.
 * The default implementation (@noble/hashes) runs in browsers and Node; the Node file
 * module passes node:crypto's faster one through the same interface.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { DigestAlgorithm } from './manifest.js';

export interface Hasher {
  update(data: Uint8Array): void;
  /** Lower-case hex digest; the hasher is finished afterwards. */
  hex(): string;
}

export type HasherFactory = (algorithm: DigestAlgorithm) => Hasher;

export const nobleHasher: HasherFactory = (algorithm) => {
  const h = (algorithm === 'SHA1' ? sha1 : algorithm === 'SHA256' ? sha256 : sha512).create();
  return {
    update: (d) => void h.update(d),
    hex: () => bytesToHex(h.digest()),
  };
};
