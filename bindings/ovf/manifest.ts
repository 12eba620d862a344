/**
 * The OVF manifest (`.mf`, DSP0243 1.1 section 5.1 / 2.1 section 5.1): one line per
 * file, `SHA256(name)= hexdigest` (DSP0243 2.x, ovftool's default) or `SHA1(name)= ...`
 * (DSP0243 1.x); SHA512 is read too, as ovftool can write it. Lines are read leniently
 * (spaces around `=`, CRLF) and checked strictly (known algorithm, digest length, no
 * duplicates).
 */
import { OvfError } from './errors.js';

export type DigestAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** Hex digits of each algorithm's digest (FIPS 180-4: 160, 256 and 512 bits). */
export const DIGEST_HEX_LENGTH: Record<DigestAlgorithm, number> = {
  SHA1: 40,
  SHA256: 64,
  SHA512: 128,
};

export interface ManifestEntry {
  algorithm: DigestAlgorithm;
  name: string;
  /** Lower-case hex. */
  digest: string;
}

/** Largest manifest accepted: 1 MiB (a line per file; real ones are a few hundred bytes). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export function parseManifest(text: string, file = 'manifest'): ManifestEntry[] {
  if (text.length > MAX_MANIFEST_BYTES)
    throw new OvfError('too-large', `the manifest is beyond ${MAX_MANIFEST_BYTES} bytes`, { file });
  const out: ManifestEntry[] = [];
  const seen = new Set<string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^([A-Za-z0-9-]+)\s*\((.*)\)\s*=\s*([0-9A-Fa-f]+)$/.exec(line);
    if (!m)
      throw new OvfError(
        'manifest',
        `line is not "ALGORITHM(name)= digest": ${JSON.stringify(line.slice(0, 120))}`,
        { file, line: i + 1 },
      );
    const alg = m[1].toUpperCase().replace('-', '') as DigestAlgorithm;
    if (!(alg in DIGEST_HEX_LENGTH))
      throw new OvfError(
        'manifest',
        `unsupported digest algorithm "${m[1]}" (SHA1, SHA256, SHA512 are)`,
        { file, line: i + 1 },
      );
    if (m[3].length !== DIGEST_HEX_LENGTH[alg]) {
      throw new OvfError(
        'manifest',
        `${alg} digest of "${m[2]}" has ${m[3].length} hex digits, not ${DIGEST_HEX_LENGTH[alg]}`,
        { file, line: i + 1 },
      );
    }
    if (seen.has(m[2]))
      throw new OvfError('duplicate', `"${m[2]}" is listed twice`, { file, line: i + 1 });
    seen.add(m[2]);
    out.push({ algorithm: alg, name: m[2], digest: m[3].toLowerCase() });
  });
  return out;
}

/** Formats manifest lines exactly as DSP0243 shows them: `SHA256(name)= hex`. */
export function formatManifest(entries: readonly ManifestEntry[]): string {
  return entries.map((e) => `${e.algorithm}(${e.name})= ${e.digest}\n`).join('');
}
