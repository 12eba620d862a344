/**
 * Whether a reference tool is here, for `describe.skipIf(!hasTool(...))`. Locally a missing
 * tool skips the tests that need it (the run says once which tools are missing); with
 * CI=true it is an error, so CI cannot pass by skipping them.
 */
import { inject } from 'vitest';
import { TOOLS, probeTools, underCi, type Tool } from './tools-probe.js';

export type { Tool } from './tools-probe.js';

let probed: Record<Tool, boolean> | undefined;

export function hasTool(tool: Tool): boolean {
  // Provided by tools-setup.ts; probed here when a file runs without that setup.
  probed ??= inject('tools') ?? probeTools();
  if (probed[tool]) return true;
  if (underCi()) {
    throw new Error(`${tool} is not installed, and CI=true needs it ` +
      `(Debian package ${TOOLS[tool].pkg}; .ci/run installs it)`);
  }
  return false;
}
