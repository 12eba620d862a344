#!/usr/bin/env bash
# Builds the firmware and its test disk, and records the reference output of the test disk
# under QEMU's own firmware (SeaBIOS). Needs nasm, node and (for the reference) qemu-system-i386.
set -euo pipefail
cd "$(dirname "$0")"
nasm -f bin -o bios.bin bios.asm
nasm -f bin -o tests/diskboot.bin tests/diskboot.asm
nasm -f bin -o tests/vgatext.bin tests/vgatext.asm
if command -v qemu-system-i386 >/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  node tests/mkdisk.mjs tests/diskboot.bin "$tmp/disk.img"
  {
    echo "# reference: $(qemu-system-i386 --version | head -1), its default firmware (SeaBIOS)"
    timeout 60 qemu-system-i386 -accel tcg -display none -serial stdio -nic none \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m 32 \
      -drive file="$tmp/disk.img",format=raw,if=ide || true
  } > tests/diskboot.expected.txt
fi
