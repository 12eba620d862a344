#!/bin/sh
# Builds JeOS from its sources: jeos.elf (the multiboot kernel with its user programs
# embedded) and disk.img (the raw disk the `disk` workload uses). Needs gcc with 32-bit
# support (Debian: gcc, gcc-multilib), nasm and GNU ld. The output is byte-for-byte
# reproducible with the same tool versions (README.md lists the ones used).
set -eu
cd "$(dirname "$0")"

CC=${CC:-gcc}
CFLAGS="-m32 -march=i686 -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie -nostdlib
  -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables
  -mno-sse -mno-mmx -mno-80387 -msoft-float -mgeneral-regs-only
  -Wall -Wextra -Werror"
LDFLAGS="-m elf_i386 -nostdlib --build-id=none -z noexecstack"

rm -rf build
mkdir -p build/user build/kernel

cc() { $CC $CFLAGS -c "$1" -o "$2"; }
asm() { nasm -f elf32 -Werror "$1" -o "$2"; }

# User programs.
for f in common/fmt.c common/wl.c user/*.c; do
  cc "$f" "build/user/$(basename "$f" .c).o"
done
asm user/crt0.asm build/user/crt0.o
asm user/usys.asm build/user/usys.o
ULIB="build/user/crt0.o build/user/usys.o build/user/ulib.o build/user/fmt.o build/user/wl.o"
ld $LDFLAGS -T user.ld -o build/user/init.elf $ULIB build/user/init.o build/user/checks.o \
  build/user/workloads.o build/user/shell.o
ld $LDFLAGS -T user.ld -o build/user/echo.elf $ULIB build/user/echo.o
ld $LDFLAGS -T user.ld -o build/user/true.elf $ULIB build/user/true.o

# The kernel.
KOBJ=""
# The Xen-only files last: the native kernel's hot paths keep their pages.
for f in $(ls kernel/*.c | grep -v -e kernel/xen.c -e kernel/blkfront.c) common/fmt.c \
  common/wl.c kernel/xen.c kernel/blkfront.c; do
  o="build/kernel/$(basename "$f" .c).o"
  cc "$f" "$o"
  KOBJ="$KOBJ $o"
done
for f in kernel/boot.asm kernel/entry.asm kernel/initrd.asm; do
  o="build/kernel/$(basename "$f" .asm)-asm.o"
  asm "$f" "$o"
  KOBJ="$KOBJ $o"
done
# boot-asm.o first: the multiboot header must be in the first 8 KiB.
ld $LDFLAGS -T linker.ld -o jeos.elf build/kernel/boot-asm.o $(echo $KOBJ | tr ' ' '\n' | grep -v boot-asm.o)

# No x87, MMX or SSE instruction may appear (the core has no FPU yet).
for f in jeos.elf build/user/*.elf; do
  bad=$(objdump -d --no-show-raw-insn "$f" |
    awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ {
      split($2, w, " "); m = w[1]
      if (m ~ /^(f[a-z0-9]+|emms|ldmxcsr|stmxcsr|fxsave|fxrstor)$/ || $2 ~ /%(x|y)?mm[0-9]|%st/) print
    }')
  if [ -n "$bad" ]; then
    echo "build.sh: floating-point or SIMD instructions in $f:" >&2
    echo "$bad" >&2
    exit 1
  fi
done

# The disk: 1024 sectors (512 KiB) of zeros with a label in sector 0.
rm -f disk.img
dd if=/dev/zero of=disk.img bs=512 count=1024 status=none
printf 'JEOSDISK' | dd of=disk.img conv=notrunc status=none

echo "built jeos.elf ($(wc -c < jeos.elf) bytes) and disk.img"
