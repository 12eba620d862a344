/**
 * The one error type of the OVF/OVA code. Every failure a descriptor, a manifest or a
 * package can cause ends up here, with a stable code for programs and a message for
 * people that says what is wrong and where (file, element path, line).
 */

/** What kind of problem it is; stable, for programs that branch on it. */
export type OvfErrorCode =
  | 'xml' // not well-formed XML
  | 'too-large' // a size limit was hit (descriptor, manifest, expanded file)
  | 'not-ovf' // well-formed XML, but not an OVF envelope
  | 'invalid' // an OVF rule is broken (missing attribute, bad number, bad reference)
  | 'capacity' // a capacity or quantity beyond what can exist
  | 'manifest' // malformed manifest line
  | 'checksum' // a digest does not match
  | 'missing-file' // a referenced file is absent from the package
  | 'unsafe-path' // absolute path, "..", link, device node in a package
  | 'duplicate' // the same name twice
  | 'tar' // malformed tar stream
  | 'compression' // a compressed file is corrupt or expands too far
  | 'config' // a VM configuration is invalid
  | 'io'; // reading or writing files failed

export interface OvfErrorWhere {
  /** The file inside the package or on disk. */
  file?: string;
  /** Element path such as `/Envelope/VirtualSystem[1]/VirtualHardwareSection/Item[3]`. */
  path?: string;
  /** 1-based line in the descriptor. */
  line?: number;
}

export class OvfError extends Error {
  readonly code: OvfErrorCode;
  readonly where: OvfErrorWhere;
  constructor(code: OvfErrorCode, message: string, where: OvfErrorWhere = {}) {
    super(OvfError.format(message, where));
    this.name = 'OvfError';
    this.code = code;
    this.where = where;
  }

  private static format(message: string, where: OvfErrorWhere): string {
    const parts: string[] = [];
    if (where.file) parts.push(where.file);
    if (where.line !== undefined) parts.push(`line ${where.line}`);
    if (where.path) parts.push(where.path);
    return parts.length ? `${parts.join(', ')}: ${message}` : message;
  }
}
