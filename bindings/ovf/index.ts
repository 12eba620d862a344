/**
 * Virtual appliances: OVF descriptors (DMTF DSP0243 0.9/1.x/2.x) and OVA packages, and
 * their mapping to and from a wasmvisor VM configuration. Runs in browsers and Node;
 * file access lives in `./node/files.js` and `./node/export.js` (Node only).
 */
export * from './errors.js';
export * from './model.js';
export type { XmlAttr, XmlElement, XmlNode, XmlText } from './xml-tree.js';
export { readOvf, type ReadOptions } from './reader.js';
export { writeOvf, type WriteOptions } from './writer.js';
export {
  validateOvf,
  type ValidationIssue,
  type ValidationResult,
  type ValidateOptions,
} from './validate.js';
export {
  toVmConfig,
  toVmConfigs,
  type MappingNote,
  type ToConfigOptions,
  type ToConfigResult,
  type DiskFileLink,
} from './to-config.js';
export {
  fromVmConfig,
  type ExportFileInfo,
  type FromConfigOptions,
  type FromConfigResult,
  type PackagedFile,
} from './from-config.js';
export {
  readOva,
  type OvaSink,
  type OvaSinkFile,
  type OvaReadResult,
  type OvaMemberInfo,
  type ReadOvaOptions,
} from './ova-read.js';
export { writeOva, tarStream, type OvaFileSource, type WriteOvaOptions } from './ova-write.js';
export { memorySink, MAX_MEMORY_SINK_BYTES, type MemorySink } from './memory-sink.js';
export {
  parseManifest,
  formatManifest,
  type ManifestEntry,
  type DigestAlgorithm,
} from './manifest.js';
export { nobleHasher, type Hasher, type HasherFactory } from './hash.js';
export { ResourceType, resourceTypeName } from './resource-types.js';
export { parseUnit, sizeInBytes, MAX_DISK_CAPACITY_BYTES, MAX_MEMORY_BYTES } from './units.js';
export { MAX_DESCRIPTOR_BYTES } from './xml-parse.js';
export { MAX_EXPANDED_BYTES } from './gzip.js';
export {
  propertyValues,
  assignProperties,
  parseAssignments,
  qualifierProblem,
  environmentXml,
  transports,
  type PropertyValue,
  type EnvironmentOptions,
} from './environment.js';
export { iso9660, type IsoFile } from './iso9660.js';
export { mergeWithOriginal, type MergeResult } from './preserve.js';
export { effectiveItems, selectedConfiguration, type EffectiveItem } from './interpret.js';
export { resolveHref, type HrefTarget } from './paths.js';
export {
  verifyCertificateFileWeb,
  parseCertificate,
  parseCertificateFile,
  describeSignature,
  opensslTime,
  type SignatureReport,
  type ParsedCertificate,
  type Subtle,
} from './signature-web.js';
export {
  convertDescriptor,
  RASD_PROPERTIES,
  SECTIONS_2X_ONLY,
  type OvfVersion,
  type ConvertDescriptorResult,
} from './convert.js';
export {
  parseVmx,
  describeVmx,
  vmxToEnvelope,
  GUEST_OS,
  STREAM_VMDK_FORMAT,
  type VmxFile,
  type VmxMachine,
  type VmxDevice,
  type VmxNic,
  type VmxController,
  type VmxPackagedDisk,
  type VmxToOvfResult,
} from './vmx.js';
