#!/bin/sh
# Rebuilds pvtest.elf (committed: the tests need no toolchain). Usage: build.sh [OUT]
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/pvtest.elf}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nasm -f elf32 "$here/pvtest.asm" -o "$tmp/pvtest.o"
ld -m elf_i386 -T "$here/pvtest.ld" --no-warn-rwx-segments "$tmp/pvtest.o" -o "$out"
