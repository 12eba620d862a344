#!/bin/sh
# Rebuilds pvtest.elf (committed: the tests need no toolchain). Usage: build.sh [OUT]
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/pvtest.elf}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"
nasm -f elf32 pvtest.asm -o "$tmp/pvtest.o"
nasm -f elf32 pvdisk.asm -o "$tmp/pvdisk.o"
ld -m elf_i386 -T pvtest.ld --no-warn-rwx-segments "$tmp/pvtest.o" -o "$out"
# pvdisk.elf next to the given pvtest.elf
ld -m elf_i386 -T pvtest.ld --no-warn-rwx-segments "$tmp/pvdisk.o" -o "$(dirname "$out")/pvdisk.elf"
