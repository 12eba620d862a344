/** node:crypto digests behind the same Hasher interface (several times faster than pure JS). */
import { createHash } from 'node:crypto';
import type { HasherFactory } from '../hash.js';

export const nodeHasher: HasherFactory = (algorithm) => {
  const h = createHash(
    algorithm === 'SHA1' ? 'sha1' : algorithm === 'SHA256' ? 'sha256' : 'sha512',
  );
  return {
    update: (d) => void h.update(d),
    hex: () => h.digest('hex'),
  };
};
