/**
 * wasmvisor's public API. Everything a user of the npm package imports comes from here.
 */
export const VERSION = '0.1.0';
/** Virtual appliances (OVF/OVA) and the VM configuration they map to; browser-safe. */
export * as ovf from './ovf/index.js';
export * as vmConfig from './config/index.js';
