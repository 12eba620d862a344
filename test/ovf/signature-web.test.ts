/**
 * Signature checks with WebCrypto, the browser path: run here on Node's
 * `globalThis.crypto.subtle` (the same WebCrypto API browsers have), with certificates and
 * signatures made by OpenSSL (`openssl req -x509`, `openssl dgst -sign`: the reference
 * signer). The report must be what Node's X509Certificate (OpenSSL itself) reads from the
 * same certificate: subject, issuer and dates in OpenSSL's forms.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { verifyCertificateFileWeb } from '../../bindings/ovf/signature-web.js';
import { verifyCertificateFile } from '../../bindings/ovf/node/signature.js';
import { hasTool } from '../helpers/tools.js';
import { tempDir } from './helpers.js';

const openssl = (args: string[], cwd?: string) =>
  execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const KEYS: Record<string, string[]> = {
  'RSA 2048': ['-newkey', 'rsa:2048'],
  'EC P-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
  'EC P-384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1'],
};

/** A certificate file as DSP0243 5.2 has it, made by OpenSSL over `mf`. */
function signed(dir: string, key: string[], mf: string, alg = 'sha256'): string {
  openssl(['req', '-x509', ...key, '-nodes', '-days', '30', '-subj',
    '/C=DE/ST=Berlin/O=Example Appliances/OU=Release/CN=Example Signer',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  writeFileSync(join(dir, 'a.mf'), mf);
  const hex = openssl(['dgst', `-${alg}`, '-sign', join(dir, 'key.pem'), '-hex',
    join(dir, 'a.mf')]).trim().replace(/^.*= /, '');
  return `${alg.toUpperCase()}(a.mf)= ${hex}\n${readFileSync(join(dir, 'cert.pem'), 'utf8')}`;
}

const MF = 'SHA256(a.ovf)= ' + 'ab'.repeat(32) + '\nSHA256(a-disk1.vmdk)= ' +
  'cd'.repeat(32) + '\n';
const enc = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!hasTool('openssl'))('signatures with WebCrypto', () => {
  it('has WebCrypto here (Node\'s globalThis.crypto.subtle)', () => {
    expect(typeof globalThis.crypto?.subtle?.verify).toBe('function');
  });

  for (const [label, key] of Object.entries(KEYS)) {
    it(`${label}: verified, and read as OpenSSL reads the certificate`, async () => {
      const dir = tempDir();
      const text = signed(dir, key, MF);
      const web = await verifyCertificateFileWeb(text, enc(MF), 'a.mf', 'a.cert');
      const ref = verifyCertificateFile(text, enc(MF), 'a.mf', 'a.cert');
      expect(ref.verified).toBe(true);
      expect(web).toEqual(ref);
      expect(web.subject).toBe('C=DE, ST=Berlin, O=Example Appliances, OU=Release, ' +
        'CN=Example Signer');
      const bad = await verifyCertificateFileWeb(text, enc(MF + '\n'), 'a.mf', 'a.cert');
      expect(bad.verified).toBe(false);
      expect(bad.problem).toMatch(/does not match the manifest/);
    });
  }

  it('SHA512 and SHA1 signature lines (ovftool writes SHA1 for OVF 1.0 packages)', async () => {
    const dir = tempDir();
    for (const alg of ['sha512', 'sha1']) {
      const text = signed(dir, KEYS['RSA 2048'], MF, alg);
      const web = await verifyCertificateFileWeb(text, enc(MF), 'a.mf', 'a.cert');
      expect(web.verified).toBe(true);
      expect(web.algorithm).toBe(alg.toUpperCase());
    }
  });

  it('a certificate issued by a CA: issuer and subject differ; expiry judged by date', async () => {
    const dir = tempDir();
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj',
      '/CN=Example CA', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem')]);
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Leaf Signer',
      '-keyout', join(dir, 'leaf.key'), '-out', join(dir, 'leaf.csr')]);
    openssl(['x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', join(dir, 'ca.pem'),
      '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '10',
      '-out', join(dir, 'leaf.pem')]);
    writeFileSync(join(dir, 'a.mf'), MF);
    const hex = openssl(['dgst', '-sha256', '-sign', join(dir, 'leaf.key'), '-hex',
      join(dir, 'a.mf')]).trim().replace(/^.*= /, '');
    const text = `SHA256(a.mf)= ${hex}\n${readFileSync(join(dir, 'leaf.pem'), 'utf8')}` +
      readFileSync(join(dir, 'ca.pem'), 'utf8');
    const later = new Date(Date.now() + 20 * 86400e3);
    const web = await verifyCertificateFileWeb(text, enc(MF), 'a.mf', 'a.cert', later);
    const ref = verifyCertificateFile(text, enc(MF), 'a.mf', 'a.cert', later);
    expect(web).toEqual(ref);
    expect(web).toMatchObject({ verified: true, expired: true, selfSigned: false,
      subject: 'CN=Leaf Signer', issuer: 'CN=Example CA' });
  });

  it('names the manifest it signs when that is not this one', async () => {
    const dir = tempDir();
    const text = signed(dir, KEYS['EC P-256'], MF).replace('(a.mf)', '(b.mf)');
    const web = await verifyCertificateFileWeb(text, enc(MF), 'a.mf', 'a.cert');
    expect(web.problem).toBe('it signs "b.mf", not the manifest "a.mf"');
  });

  it('bundles for a browser with no Node module (esbuild, platform browser)', async () => {
    const r = await build({
      entryPoints: [join(__dirname, '../../bindings/ovf/index.ts')],
      bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent',
    });
    const js = r.outputFiles[0].text;
    expect(js).toContain('RSASSA-PKCS1-v1_5');
    expect(js).not.toMatch(/from\s*["']node:|require\(["'](node:)?(crypto|fs|zlib)["']\)/);
  });
});
