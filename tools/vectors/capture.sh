#!/bin/sh
# Captures the instruction test vectors on this machine's CPU (x86-64 or IA-32 Linux with
# gcc -m32) and writes them to test/fixtures/vectors/ (or DIR); GROUPS (comma-separated,
# e.g. seg) captures only those groups: tools/vectors/capture.sh [DIR [GROUPS]].
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/test/fixtures/vectors}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -m32 -O2 -Wall -Wextra -static -o "$tmp/runner" "$here/runner.c"
cd "$root"
node --import tsx "$here/generate.ts" "$tmp/runner" "$out" ${2:+"$2"}
