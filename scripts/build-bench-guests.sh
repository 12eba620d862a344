#!/bin/sh
# Builds the benchmark guests (guests/bench/*.asm -> *.bin, flat Multiboot kernels). Needs
# nasm; the sieve guest also needs gcc -m32, objcopy and valgrind: its C function is compiled
# to position-independent bytes (checked to need no relocation) that sieve.asm includes, and the
# instructions it executes are counted on this machine's CPU by valgrind's callgrind
# (sieve.count), so the bench's count check of that guest rests on a count we did not make.
set -eu
cd "$(dirname "$0")/../guests/bench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

CFLAGS="-m32 -O2 -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -fno-pic
  -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables"
# shellcheck disable=SC2086
gcc $CFLAGS -c -o "$tmp/sieve.o" sieve.c
if objdump -r "$tmp/sieve.o" | grep -q '^[0-9a-f]\{8\} '; then
  echo "sieve.o needs relocations: it cannot be included as bytes" >&2
  exit 1
fi
objcopy -O binary -j .text "$tmp/sieve.o" "$tmp/sieve.text.bin"
iterations=$(sed -n 's/^ITERATIONS equ \([0-9]*\)$/\1/p' sieve.asm)
gcc -m32 -O2 -DITERATIONS="$iterations" -o "$tmp/sieve-host" sieve-host.c "$tmp/sieve.o"
valgrind --tool=callgrind --toggle-collect=sieve --callgrind-out-file="$tmp/cg.out" \
  "$tmp/sieve-host" 2>/dev/null
# callgrind's "summary:" line is the Ir (instructions executed) collected inside sieve().
sed -n 's/^summary: \([0-9]*\)$/\1/p' "$tmp/cg.out" > sieve.count
echo "sieve(flags, 8190, $iterations) executes $(cat sieve.count) instructions (callgrind)"

for src in *.asm; do
  name=${src%.asm}
  nasm -f bin -I./ -I../systests/ -I"$tmp/" -o "$name.bin" "$src"
  echo "built guests/bench/$name.bin"
done
