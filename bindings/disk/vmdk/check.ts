/**
 * `img check` for VMDK sparse extents: every grain directory and grain table entry must
 * point inside the file and outside the metadata, no two grain table entries may share a
 * grain, the redundant tables must agree with the primary ones, and every compressed grain
 * must carry a matching marker and inflate to at most one grain.
 */
import type { ByteSource } from '../source.js';
import { ceilDiv } from '../bytes.js';
import { hex, ImageError } from '../errors.js';
import { checkOrFail, emptyCheck, type CheckResult } from '../check.js';
import { VmdkImage } from './image.js';
import { VmdkExtentsImage, isDescriptorText, type ExtentResolver } from './extents.js';
import * as C from './constants.js';

/**
 * Checks a VMDK: a sparse extent file, or a descriptor file whose sparse extents are each
 * checked (opened through `resolve`; flat and zero extents have no metadata to check).
 */
export function checkVmdk(src: ByteSource, resolve?: ExtentResolver): CheckResult {
  const head = new Uint8Array(512);
  if (isDescriptorText(head.subarray(0, src.read(0, head)))) return checkExtents(src, resolve);
  return checkOrFail('vmdk', () => checkVmdkUnsafe(src));
}

function checkExtents(src: ByteSource, resolve?: ExtentResolver): CheckResult {
  const r = emptyCheck('vmdk');
  let img: VmdkExtentsImage;
  try {
    img = new VmdkExtentsImage(src, { readOnly: true, resolve });
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    r.corruptions++;
    r.messages.push(`ERROR ${e.message}`);
    return r;
  }
  for (const x of img.extents) {
    if (x.kind !== 'sparse') continue;
    const one = checkVmdk(x.src!);
    r.corruptions += one.corruptions;
    r.leaks += one.leaks;
    r['check-errors'] += one['check-errors'];
    // Each finding names the extent file it was found in.
    r.messages.push(...one.messages.map((m) => `${x.desc.file}: ${m}`));
  }
  for (const x of img.extents) x.src?.close();
  return r;
}

function checkVmdkUnsafe(src: ByteSource): CheckResult {
  const r = emptyCheck('vmdk');
  let img: VmdkImage;
  try {
    img = new VmdkImage(src, { readOnly: true });
  } catch (e) {
    r.corruptions++;
    r.messages.push(`ERROR ${(e as Error).message}`);
    return r;
  }
  const h = img.header;
  const per = h.numGTEsPerGT;
  const grains = ceilDiv(h.capacity, h.grainSize);
  const seen = new Map<number, number>();
  let allocated = 0, end = 0;
  const corrupt = (m: string) => { r.corruptions++; r.messages.push(m); };
  for (let gi = 0; gi < grains; gi++) {
    if (gi % per === 0 && img.gd[gi / per] === 0) { gi += per - 1; continue; }
    let gte: number;
    try {
      gte = img.gte(gi);
    } catch (e) {
      corrupt(`ERROR ${(e as Error).message}`);
      gi += per - 1;
      continue;
    }
    if (img.grainKind(gte) !== 'normal') continue;
    const at = gte * C.SECTOR;
    if (at >= src.size) {
      corrupt(
        `ERROR: cluster offset for sector ${gi * h.grainSize} ` +
          `points after EOF (grain at ${hex(at)})`,
      );
      continue;
    }
    if (!img.hasFooter && gte < h.overHead) {
      corrupt(
        `ERROR: grain ${gi} at ${hex(at)} lies inside ` +
          `the metadata (overhead ${h.overHead} sectors)`,
      );
      continue;
    }
    const other = seen.get(gte);
    if (other !== undefined) {
      corrupt(`ERROR: grains ${other} and ${gi} share the sector ${gte}`);
      continue;
    }
    seen.set(gte, gi);
    allocated++;
    if (img.compressed) {
      try {
        img.inflateGrain(gi, gte, true);
      } catch (e) {
        corrupt(`ERROR ${(e as Error).message}`);
        continue;
      }
    } else if (at + img.grainBytes > src.size) {
      corrupt(`ERROR: grain ${gi} at ${hex(at)} runs past the end of the file`);
    }
    end = Math.max(end, at + img.grainBytes);
  }
  if (img.rgd) {
    for (let i = 0; i < img.gd.length; i++) {
      const a = img.gd[i], b = img.rgd[i];
      if ((a === 0) !== (b === 0)) {
        corrupt(
          `ERROR: grain directory entry ${i} and its redundant ` +
            'copy disagree on whether the grain table exists',
        );
        continue;
      }
      if (a === 0) continue;
      const ta = new Uint8Array(per * 4), tb = new Uint8Array(per * 4);
      src.read(a * C.SECTOR, ta); src.read(b * C.SECTOR, tb);
      if (ta.some((v, k) => v !== tb[k]))
        corrupt(
          `ERROR: grain table ${i} at ${hex(a * C.SECTOR)} ` +
            `differs from its redundant copy at ${hex(b * C.SECTOR)}`,
        );
    }
  }
  // Like qemu-img, a VMDK check reports findings only (no allocation statistics).
  void allocated; void end;
  return r;
}
