/**
 * Signed packages (DSP0243 5.2): export --sign writes a certificate file whose signature
 * OpenSSL verifies (`openssl dgst -sha256 -verify`), and a package signed by OpenSSL
 * (the reference signer) is verified here; a signature that does not match the manifest
 * fails validate and import.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importOva, inspectOvaFile } from '../../bindings/ovf/node/files.js';
import { verifyCertificateFile } from '../../bindings/ovf/node/signature.js';
import { hasTool } from '../helpers/tools.js';
import { cli, ovfError, tempDir, vmdk } from './helpers.js';

const openssl = (args: string[], cwd?: string) =>
  execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A self-signed RSA certificate and key made by OpenSSL. */
function keyPair(dir: string): { key: string; cert: string } {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj',
    '/CN=Example Appliance Signer/O=Example', '-keyout', join(dir, 'key.pem'),
    '-out', join(dir, 'cert.pem')]);
  return { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
}

describe.skipIf(!hasTool('openssl'))('signed packages', () => {
  it('export --sign: OpenSSL verifies the signature; inspect names the signer', async () => {
    const dir = tempDir();
    const { key, cert } = keyPair(dir);
    vmdk(join(dir, 'd.vmdk'));
    const r = await cli('export', join(dir, 'p.ova'), '--disk', join(dir, 'd.vmdk'),
      '--sign', key, '--cert', cert);
    expect(r.status).toBe(0);
    const pkg = await inspectOvaFile(join(dir, 'p.ova'));
    const certText = pkg.certificate!.text;
    const m = /^SHA256\((.+)\)= ([0-9a-f]+)\n/.exec(certText)!;
    expect(m[1]).toBe(pkg.manifest!.name);
    writeFileSync(join(dir, 'p.mf'), pkg.manifest!.text);
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(m[2], 'hex'));
    openssl(['x509', '-in', cert, '-pubkey', '-noout', '-out', join(dir, 'pub.pem')]);
    expect(openssl(['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature',
      join(dir, 'sig.bin'), join(dir, 'p.mf')])).toMatch(/Verified OK/);
    // DSP0243 5.3 order: descriptor, manifest, certificate, files.
    const names = execFileSync('tar', ['tf', join(dir, 'p.ova')], { encoding: 'utf8' })
      .trim().split('\n');
    expect(names.slice(0, 3).map((n) => n.replace(/^.*\./, ''))).toEqual(['ovf', 'mf', 'cert']);
    const i = await cli('inspect', join(dir, 'p.ova'));
    expect(i.out).toMatch(/SHA256 signature verified, signed by CN=Example Appliance Signer/);
    expect(i.out).toMatch(/self-signed/);
    const v = await cli('validate', join(dir, 'p.ova'));
    expect(v.status).toBe(0);
  });

  it('verifies a manifest signed by openssl dgst -sign (the reference signer)', () => {
    const dir = tempDir();
    const { key, cert } = keyPair(dir);
    const mf = 'SHA256(a.ovf)= ' + '0'.repeat(64) + '\n';
    writeFileSync(join(dir, 'a.mf'), mf);
    const hex = openssl(['dgst', '-sha256', '-sign', key, '-hex', join(dir, 'a.mf')])
      .trim().replace(/^.*= /, '');
    const text = `SHA256(a.mf)= ${hex}\n${readFileSync(cert, 'utf8')}`;
    const r = verifyCertificateFile(text, new TextEncoder().encode(mf), 'a.mf', 'a.cert');
    expect(r.verified).toBe(true);
    expect(r.subject).toMatch(/CN=Example Appliance Signer/);
    const other = verifyCertificateFile(text, new TextEncoder().encode(mf + ' '), 'a.mf', 'a.cert');
    expect(other.verified).toBe(false);
    expect(other.problem).toMatch(/does not match the manifest/);
  });

  it('a signature that does not match: validate exits 2, import refuses', async () => {
    const dir = tempDir();
    const { key, cert } = keyPair(dir);
    vmdk(join(dir, 'd.vmdk'));
    await cli('export', join(dir, 'p.ova'), '--disk', join(dir, 'd.vmdk'),
      '--sign', key, '--cert', cert);
    // Flip one hex digit of the signature inside the tar (same length, same checksums).
    const bytes = readFileSync(join(dir, 'p.ova'));
    const at = bytes.indexOf(Buffer.from('.mf)= ')) + 6;
    bytes[at] = bytes[at] === 0x30 ? 0x31 : 0x30;
    writeFileSync(join(dir, 'bad.ova'), bytes);
    const v = await cli('validate', join(dir, 'bad.ova'));
    expect(v.status).toBe(2);
    expect(v.err).toMatch(/signature NOT verified: the signature does not match the manifest/);
    const e = await ovfError(() => importOva(join(dir, 'bad.ova'), join(dir, 'out')));
    expect(e.message).toMatch(/certificate .*\.cert: the signature does not match/);
  });
});
