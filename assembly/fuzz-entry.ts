// The fuzz build (build/fuzz.wasm): the core's exports plus the fuzz driver of ./fuzz.ts.
// The release core (assembly/index.ts, build/core.wasm) does not contain the driver.
export * from './index';
export {
  fuzz, fuzzArmGuards, guardsIntact, fuzzFirstCode, fuzzFirstAt,
  fuzzSetX87, fuzzX87Streams,
} from './fuzz';
export { fuzzSvm, svmFuzzExitCount, svmFuzzInvalidCount } from './svm/fuzz';
export {
  fuzzVmx, fuzzVmxFirst, fuzzVmxFirstCase, fuzzVmxEntered, fuzzVmxExits, fuzzVmxFailed,
  fuzzVmxPeek,
} from './fuzz-vmx';
