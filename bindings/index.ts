/**
 * wasmvisor's public API. Everything a user of the npm package imports comes from here.
 */
export const VERSION = '0.1.0';
