export {
  PROFILES, COST_KEYS, profile, UnknownProfileError, type CpuProfile, type Cited, type CostKey,
} from './profiles.js';
export { simulate, cyclesPerIteration, type CostCounters, type SimulatedCycles } from './model.js';
