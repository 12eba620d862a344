/**
 * Disk images for the block devices: raw, qcow2 (v2/v3) and VMDK (monolithicSparse,
 * streamOptimized, and descriptor files with separate extents).
 * Browser-safe: file access lives in node-file.ts and node.ts.
 */
export * from './types.js';
export * from './errors.js';
export * from './source.js';
export * from './raw.js';
export * from './open.js';
export * from './convert.js';
export * from './check.js';
export * from './size.js';
export { Qcow2Image, type Qcow2OpenOptions, type ClusterKind } from './qcow2/image.js';
export { createQcow2, type Qcow2CreateOptions } from './qcow2/create.js';
export { checkQcow2, repairQcow2, type RepairResult } from './qcow2/check.js';
export { VmdkImage, type VmdkOpenOptions } from './vmdk/image.js';
export { createMonolithicSparse, type VmdkCreateOptions } from './vmdk/create.js';
export { StreamOptimizedWriter } from './vmdk/stream.js';
export { checkVmdk } from './vmdk/check.js';
export {
  VmdkExtentsImage,
  createVmdkExtents,
  extentLayout,
  type ExtentResolver,
  type VmdkExtentsOpenOptions,
} from './vmdk/extents.js';
export * from './compare.js';
export * from './map.js';
export { codec, useCodec, type Codec } from './codec.js';
export { growQcow2 } from './qcow2/resize.js';
export { createSnapshot, deleteSnapshot, applySnapshot } from './qcow2/snapshot-ops.js';
