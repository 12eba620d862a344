/**
 * Signed packages checked with WebCrypto (`crypto.subtle`), for browsers and any runtime
 * without Node's crypto. The certificate file is the one node/signature.ts reads (DSP0243
 * 5.2: `ALGORITHM(name.mf)= hex` on the first line, then the signer's X.509 certificate in
 * PEM); the report has the same fields and the same text for names and dates as Node's
 * X509Certificate gives (OpenSSL's one-line forms), so both paths describe a package alike.
 *
 * WebCrypto has no X.509 parser: the certificate is read here as DER (ITU-T X.690) far
 * enough to find, in TBSCertificate (RFC 5280 4.1), the issuer, the validity, the subject
 * and the SubjectPublicKeyInfo, which `importKey('spki')` takes as it is. Keys: RSA
 * (RSASSA-PKCS1-v1_5, what `openssl dgst -sign` makes with an RSA key) and EC P-256/384/521
 * (ECDSA; OpenSSL writes the signature as a DER ECDSA-Sig-Value, RFC 3279 2.2.3, which is
 * turned into WebCrypto's r || s).
 */
import { OvfError } from './errors.js';

/** What a certificate file says about its package (the same shape on every runtime). */
export interface SignatureReport {
  algorithm: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Now is outside validFrom..validTo. */
  expired: boolean;
  selfSigned: boolean;
  verified: boolean;
  problem?: string;
}

/** The WebCrypto calls used (globalThis.crypto.subtle in browsers and Node 19+). */
export type Subtle = Pick<SubtleCrypto, 'importKey' | 'verify'>;

const HASHES: Record<string, string> = { SHA1: 'SHA-1', SHA256: 'SHA-256', SHA512: 'SHA-512' };

interface Der { tag: number; start: number; end: number; header: number }

/** One DER element at `pos` (X.690 8.1: identifier, definite length, contents). */
function der(b: Uint8Array, pos: number, limit = b.length): Der {
  if (pos + 2 > limit) throw new RangeError('truncated');
  const tag = b[pos];
  if ((tag & 0x1f) === 0x1f) throw new RangeError('high tag numbers are not used in X.509');
  let len = b[pos + 1], p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new RangeError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++];
  }
  if (p + len > limit) throw new RangeError('element runs past its parent');
  return { tag, start: p, end: p + len, header: p - pos };
}

/** The children of a constructed element. */
function children(b: Uint8Array, e: Der): Der[] {
  const out: Der[] = [];
  for (let p = e.start; p < e.end;) {
    const c = der(b, p, e.end);
    out.push(c);
    p = c.end;
    if (out.length > 10000) throw new RangeError('too many elements');
  }
  return out;
}

/** The short names OpenSSL prints for the usual attribute types (X.520, PKCS #9). */
const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O',
  '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.12': 'title',
  '2.5.4.17': 'postalCode', '2.5.4.42': 'GN', '2.5.4.4': 'SN', '2.5.4.46': 'dnQualifier',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

function oid(b: Uint8Array, e: Der): string {
  const parts: number[] = [];
  let v = 0;
  for (let p = e.start; p < e.end; p++) {
    v = v * 128 + (b[p] & 0x7f);
    if (!(b[p] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** A string value of a name attribute (UTF8String, PrintableString, IA5String, BMPString...). */
function text(b: Uint8Array, e: Der): string {
  const bytes = b.subarray(e.start, e.end);
  if (e.tag === 0x1e) {
    let s = '';
    for (let i = 0; i + 1 < bytes.length; i += 2)
      s += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
    return s;
  }
  return new TextDecoder().decode(bytes);
}

/** A Name (RFC 5280 4.1.2.4) as Node's X509Certificate shows it, with ', ' between RDNs. */
function name(b: Uint8Array, e: Der): string {
  const out: string[] = [];
  for (const rdn of children(b, e)) {
    for (const atv of children(b, rdn)) {
      const [t, v] = children(b, atv);
      const id = oid(b, t);
      out.push(`${ATTR_NAMES[id] ?? id}=${text(b, v)}`);
    }
  }
  return out.join(', ');
}

const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/** UTCTime or GeneralizedTime (RFC 5280 4.1.2.5: Zulu, with seconds) as a Date. */
function time(b: Uint8Array, e: Der): Date {
  const s = new TextDecoder().decode(b.subarray(e.start, e.end));
  const m = e.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  if (!m) throw new RangeError(`bad time "${s}"`);
  let y = Number(m[1]);
  if (e.tag === 0x17) y += y < 50 ? 2000 : 1900; // RFC 5280 4.1.2.5.1
  return new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]),
    Number(m[6])));
}

/** OpenSSL's ASN1_TIME_print form (Node's validFrom/validTo): `Jan  2 03:04:05 2026 GMT`. */
export function opensslTime(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ` +
    `${d.getUTCFullYear()} GMT`;
}

export interface ParsedCertificate {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** The SubjectPublicKeyInfo, DER, as importKey('spki') takes it. */
  spki: Uint8Array;
  /** rsaEncryption or id-ecPublicKey with its curve (RFC 3279 2.3). */
  key: { kind: 'rsa' } | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' } | { kind: string };
}

const CURVES: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384', '1.3.132.0.35': 'P-521',
};

/** Reads the parts of an X.509 certificate (DER) a signature check needs. */
export function parseCertificate(b: Uint8Array): ParsedCertificate {
  const cert = der(b, 0);
  const [tbs] = children(b, cert);
  const f = children(b, tbs);
  // version [0] is optional (absent means v1).
  const i = f[0].tag === 0xa0 ? 1 : 0;
  const [, , issuer, validity, subject, spkiEl] = f.slice(i);
  if (!spkiEl) throw new RangeError('TBSCertificate has too few fields');
  const [nb, na] = children(b, validity);
  const spki = b.subarray(spkiEl.start - spkiEl.header, spkiEl.end);
  const [alg] = children(b, spkiEl);
  const [algOid, param] = children(b, alg);
  const a = oid(b, algOid);
  let key: ParsedCertificate['key'] = { kind: a };
  if (a === '1.2.840.113549.1.1.1') key = { kind: 'rsa' };
  else if (a === '1.2.840.10045.2.1' && param?.tag === 0x06) {
    const c = CURVES[oid(b, param)];
    key = c ? { kind: 'ec', curve: c } : { kind: `EC curve ${oid(b, param)}` };
  }
  return {
    subject: name(b, subject), issuer: name(b, issuer), notBefore: time(b, nb),
    notAfter: time(b, na), spki, key,
  };
}

/** An ECDSA-Sig-Value (DER SEQUENCE of r, s) as WebCrypto's fixed-size r || s. */
function ecdsaRaw(sig: Uint8Array, curve: string): Uint8Array {
  const size = curve === 'P-256' ? 32 : curve === 'P-384' ? 48 : 66;
  const seq = der(sig, 0);
  const [r, s] = children(sig, seq);
  const out = new Uint8Array(2 * size);
  for (const [k, e] of [[0, r], [1, s]] as const) {
    let v = sig.subarray(e.start, e.end);
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new RangeError('ECDSA integer too long');
    out.set(v, k * size + size - v.length);
  }
  return out;
}

function base64(s: string): Uint8Array {
  const bin = atob(s.replace(/[^A-Za-z0-9+/=]/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}

/** A copy in an ArrayBuffer of its own (WebCrypto refuses views of shared memory). */
function own(u: Uint8Array): ArrayBuffer {
  return u.slice().buffer as ArrayBuffer;
}

/** The signature line and the first PEM certificate of a certificate file. */
export function parseCertificateFile(
  certText: string, certName: string,
): { algorithm: string; signs: string; signature: string; der: Uint8Array } {
  const first = certText.split(/\r?\n/, 1)[0].trim();
  const m = /^(SHA1|SHA256|SHA512)\s*\(([^)]+)\)\s*=\s*([0-9a-fA-F]+)$/.exec(first);
  if (!m)
    throw new OvfError('manifest',
      'the first line is not "ALGORITHM(name.mf)= signature" (DSP0243 5.2)', { file: certName });
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(certText);
  if (!pem) throw new OvfError('manifest', 'no PEM certificate in it', { file: certName });
  return { algorithm: m[1], signs: m[2].trim(), signature: m[3], der: base64(pem[1]) };
}

/**
 * Checks a certificate file against the manifest it signs with WebCrypto. Throws only on
 * a malformed file; a signature that does not match is `verified: false` with a problem.
 */
export async function verifyCertificateFileWeb(
  certText: string, manifest: Uint8Array, manifestName: string, certName: string,
  now = new Date(), subtle: Subtle | undefined = globalThis.crypto?.subtle,
): Promise<SignatureReport> {
  const f = parseCertificateFile(certText, certName);
  let c: ParsedCertificate;
  try {
    c = parseCertificate(f.der);
  } catch (e) {
    throw new OvfError('manifest', `the certificate does not parse: ${(e as Error).message}`,
      { file: certName });
  }
  const report: SignatureReport = {
    algorithm: f.algorithm,
    subject: c.subject,
    issuer: c.issuer,
    validFrom: opensslTime(c.notBefore),
    validTo: opensslTime(c.notAfter),
    expired: now < c.notBefore || now > c.notAfter,
    selfSigned: c.subject === c.issuer,
    verified: false,
  };
  if (f.signs !== manifestName) {
    report.problem = `it signs "${f.signs}", not the manifest "${manifestName}"`;
    return report;
  }
  if (!subtle) {
    report.problem = 'this runtime has no WebCrypto (crypto.subtle) to check it with';
    return report;
  }
  const hash = HASHES[f.algorithm];
  const sig = hexBytes(f.signature);
  const data = own(manifest);
  try {
    if (c.key.kind === 'rsa') {
      const alg = { name: 'RSASSA-PKCS1-v1_5', hash };
      const k = await subtle.importKey('spki', own(c.spki), alg, false, ['verify']);
      report.verified = await subtle.verify(alg, k, own(sig), data);
    } else if (c.key.kind === 'ec' && 'curve' in c.key) {
      const k = await subtle.importKey('spki', own(c.spki),
        { name: 'ECDSA', namedCurve: c.key.curve }, false, ['verify']);
      report.verified = await subtle.verify({ name: 'ECDSA', hash }, k,
        own(ecdsaRaw(sig, c.key.curve)), data);
    } else {
      report.problem = `the certificate's key (${c.key.kind}) is not RSA or EC P-256/384/521`;
      return report;
    }
  } catch (e) {
    report.problem = `the signature cannot be checked: ${(e as Error).message}`;
    return report;
  }
  if (!report.verified) report.problem = 'the signature does not match the manifest';
  return report;
}

/** One line for people: who signed, when valid, verified or not. */
export function describeSignature(r: SignatureReport): string {
  const validity = `valid ${r.validFrom} to ${r.validTo}${r.expired ? ', EXPIRED' : ''}`;
  const who = r.selfSigned ? `${r.subject} (self-signed)` : `${r.subject}, issued by ${r.issuer}`;
  return r.verified
    ? `${r.algorithm} signature verified, signed by ${who}; ${validity}; chain of trust not checked`
    : `signature NOT verified: ${r.problem}; certificate of ${who}; ${validity}`;
}
