#!/bin/sh
# The long runs kept out of `npm test` (about 10.5 minutes on 2 cores), run by
# hand; the README ("Tests and CI") notes their last results. Each step prints its time.
# Sizes can be changed through the same variables.
set -eu
cd "$(dirname "$0")/.."
step() {
  echo "== $*"
  start=$(date +%s)
  env "$@" --testTimeout=7200000
  echo "== $(( $(date +%s) - start )) s"
}
# Random instruction streams through the core (npm test: 1,000,000).
step WASMVISOR_FUZZ_STREAMS="${WASMVISOR_FUZZ_STREAMS:-50000000}" \
  WASMVISOR_FUZZ_SEED="${WASMVISOR_FUZZ_SEED:-7}" npx vitest run test/core/fuzz.test.ts
# Mutated disk images (npm test: 60 rounds per fixture).
step DISK_FUZZ_ROUNDS="${DISK_FUZZ_ROUNDS:-1000}" DISK_FUZZ_SEED="${DISK_FUZZ_SEED:-1}" \
  npx vitest run test/disk/bad-input.test.ts
# Mutated OVF descriptors and OVA packages (npm test: 120 rounds).
step WASMVISOR_FUZZ_ROUNDS="${WASMVISOR_FUZZ_ROUNDS:-2000}" npx vitest run test/ovf/fuzz.test.ts
# Every captured instruction vector re-run on this host CPU (npm test: a sample).
step VECTORS_FULL=1 npx vitest run test/vectors/fixtures.test.ts
# Debian's kernel under all four hardware configurations (npm test: vtx nested, svm shadow).
step WASMVISOR_LINUX_ALL_MODES=1 npx vitest run test/linux/modes-nested.test.ts \
  test/linux/modes-shadow.test.ts
# A 9 GiB OVA member through writer and reader (needs 9 GiB of free disk).
step WASMVISOR_BIG_TESTS=1 npx vitest run test/ovf/big.test.ts
