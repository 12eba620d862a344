// Runs the CLI from the sources, as bin/wasmvisor.js runs it from dist/.
import { main } from '../../bindings/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`wasmvisor: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 2; },
);
