import { ImageError } from './errors.js';

/** The result of `img check`, with qemu-img's JSON names. */
export interface CheckResult {
  format: string;
  /** Errors that make data wrong (refcounts too low, pointers outside the file...). */
  corruptions: number;
  /** Clusters with a refcount but no reference: space lost, data intact. */
  leaks: number;
  /** Problems that stopped the check itself. */
  'check-errors': number;
  'image-end-offset'?: number;
  'total-clusters'?: number;
  'allocated-clusters'?: number;
  'fragmented-clusters'?: number;
  'compressed-clusters'?: number;
  /** One line per finding, in qemu-img's wording. */
  messages: string[];
}

/** A check result with nothing found yet. */
export function emptyCheck(format: string): CheckResult {
  return { format, corruptions: 0, leaks: 0, 'check-errors': 0, messages: [] };
}

/**
 * Runs a check; an ImageError that stops it (a header that cannot be read...) becomes one
 * corruption and one check error, with the error's message as the finding.
 */
export function checkOrFail(format: string, check: () => CheckResult): CheckResult {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    const messages = [`ERROR ${e.message}`];
    return { ...emptyCheck(format), corruptions: 1, 'check-errors': 1, messages };
  }
}

/** qemu-img's exit status for a check: 0 clean, 1 check failed, 2 corruptions, 3 leaks only. */
export function checkExitStatus(r: CheckResult): number {
  if (r['check-errors'] > 0) return 1;
  if (r.corruptions > 0) return 2;
  if (r.leaks > 0) return 3;
  return 0;
}

/** The text report qemu-img prints on stdout (the findings, `messages`, go to stderr). */
export function formatCheck(r: CheckResult): string {
  const out: string[] = [];
  if (r.corruptions === 0 && r.leaks === 0 && r['check-errors'] === 0)
    out.push('No errors were found on the image.');
  else {
    if (r.corruptions > 0)
      out.push(
        `\n${r.corruptions} errors were found on the image.\nData may ` +
          'be corrupted, or further writes to the image may corrupt it.',
      );
    if (r.leaks > 0)
      out.push(
        `\n${r.leaks} leaked clusters were found on the image.\nThis ` +
          'means waste of disk space, but no harm to data.',
      );
    if (r['check-errors'] > 0)
      out.push(`\n${r['check-errors']} internal errors have occurred during the check.`);
  }
  const total = r['total-clusters'];
  // qemu-img.c dump_human_image_check: the line needs total and allocated both non-zero.
  if (total !== undefined && total > 0 && r['allocated-clusters']) {
    const pct = (n: number | undefined) => ((100 * (n ?? 0)) / total).toFixed(2);
    const alloc = r['allocated-clusters'];
    const frag = alloc ? ((100 * (r['fragmented-clusters'] ?? 0)) / alloc).toFixed(2) : '0.00';
    const comp = alloc ? ((100 * (r['compressed-clusters'] ?? 0)) / alloc).toFixed(2) : '0.00';
    out.push(
      `${alloc}/${total} = ${pct(alloc)}% allocated, ` +
        `${frag}% fragmented, ${comp}% compressed clusters`,
    );
  }
  if (r['image-end-offset']) out.push(`Image end offset: ${r['image-end-offset']}`);
  return out.join('\n') + '\n';
}

/**
 * The JSON qemu-img check prints: its key order, zero counts left out (qemu-img.c
 * collect_image_check sets has_total_clusters, has_allocated_clusters and
 * has_image_end_offset only for non-zero values).
 */
export function checkJson(
  r: CheckResult,
  filename: string,
  fixed?: { leaks: number; corruptions: number },
): Record<string, unknown> {
  const j: Record<string, unknown> = {};
  const opt = (k: keyof CheckResult) => {
    const v = r[k];
    if (typeof v === 'number' && v !== 0) j[k] = v;
  };
  opt('image-end-offset');
  opt('compressed-clusters');
  opt('total-clusters');
  opt('corruptions');
  if (fixed?.leaks) j['leaks-fixed'] = fixed.leaks;
  j['check-errors'] = r['check-errors'];
  opt('leaks');
  if (fixed?.corruptions) j['corruptions-fixed'] = fixed.corruptions;
  opt('allocated-clusters');
  j.filename = filename;
  j.format = r.format;
  opt('fragmented-clusters');
  return j;
}
