/** The wasmvisor VM configuration: type, limits and validator. */
export * from './types.js';
export * from './validate.js';
