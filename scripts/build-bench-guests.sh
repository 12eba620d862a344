#!/bin/sh
# Builds the benchmark guests (guests/bench/*.asm -> *.bin, flat Multiboot kernels). Needs nasm.
set -eu
cd "$(dirname "$0")/../guests/bench"
for src in *.asm; do
  name=${src%.asm}
  nasm -f bin -I./ -I../systests/ -o "$name.bin" "$src"
  echo "built guests/bench/$name.bin"
done
