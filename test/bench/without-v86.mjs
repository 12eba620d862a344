// Node loader hooks that make the package `v86` unresolvable, as in an install of
// wasmvisor without its development dependencies: `node --import ./without-v86.mjs ...`.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === 'v86' || specifier.startsWith('v86/')) {
    const err = new Error("Cannot find package 'v86' imported from " + context.parentURL);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));
