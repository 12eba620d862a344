/**
 * Signed packages (DSP0243 5.2 "Certificate file"): the `.cert` member holds the signature
 * of the manifest file, `ALGORITHM(name.mf)= hex` on its first line (the digest algorithm
 * and the manifest's name, as ovftool and `openssl dgst -sign -hex` write it), then the
 * signer's X.509 certificate in PEM, optionally followed by the rest of its chain.
 * Verified with Node's crypto: the signature over the manifest's bytes with the public key
 * of the first certificate. The chain of trust is not judged (no trust store): the report
 * names the signer, the issuer and the validity dates for the user to judge.
 */
import { X509Certificate, createPrivateKey, sign, verify } from 'node:crypto';
import { OvfError } from '../errors.js';
import type { SignatureReport } from '../signature-web.js';

export type { SignatureReport } from '../signature-web.js';
export { describeSignature } from '../signature-web.js';

const ALGS: Record<string, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

/** Checks a certificate file against the manifest it signs. Throws only on a malformed file. */
export function verifyCertificateFile(
  certText: string, manifest: Uint8Array, manifestName: string, certName: string, now = new Date(),
): SignatureReport {
  const first = certText.split(/\r?\n/, 1)[0].trim();
  const m = /^(SHA1|SHA256|SHA512)\s*\(([^)]+)\)\s*=\s*([0-9a-fA-F]+)$/.exec(first);
  if (!m)
    throw new OvfError('manifest',
      'the first line is not "ALGORITHM(name.mf)= signature" (DSP0243 5.2)', { file: certName });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(certText);
  if (!pem) throw new OvfError('manifest', 'no PEM certificate in it', { file: certName });
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pem[0]);
  } catch (e) {
    throw new OvfError('manifest', `the certificate does not parse: ${(e as Error).message}`,
      { file: certName });
  }
  const report: SignatureReport = {
    algorithm: m[1],
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    validFrom: x509.validFrom,
    validTo: x509.validTo,
    expired: now < new Date(x509.validFrom) || now > new Date(x509.validTo),
    selfSigned: x509.subject === x509.issuer,
    verified: false,
  };
  if (m[2].trim() !== manifestName) {
    report.problem = `it signs "${m[2].trim()}", not the manifest "${manifestName}"`;
    return report;
  }
  try {
    report.verified = verify(ALGS[m[1]], manifest, x509.publicKey, Buffer.from(m[3], 'hex'));
  } catch (e) {
    report.problem = `the signature cannot be checked: ${(e as Error).message}`;
    return report;
  }
  if (!report.verified) report.problem = 'the signature does not match the manifest';
  return report;
}

/** A certificate file signing `manifest` with `keyPem`, carrying `certPem` (DSP0243 5.2). */
export function signManifest(
  manifest: Uint8Array, manifestName: string, keyPem: string, certPem: string,
): string {
  const x509 = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (!x509.checkPrivateKey(key))
    throw new OvfError('invalid', 'the private key does not belong to the certificate');
  const sig = sign('sha256', manifest, key).toString('hex');
  return `SHA256(${manifestName})= ${sig}\n${x509.toString().trim()}\n`;
}
