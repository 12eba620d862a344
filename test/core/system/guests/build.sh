#!/bin/sh
# Builds the system test guests (NAME.asm -> NAME.bin) and, with --fixtures, records their
# serial output under the reference emulators:
#   NAME.bochs.txt  Bochs 2.7 (the expected output the tests compare against)
#   NAME.qemu.txt   QEMU TCG (kept for comparison; QEMU's TCG skips segment-limit checks and does
#                   not set the accessed bit of CS, so it differs from Bochs in those lines)
# Needs nasm; --fixtures also needs bochs and qemu-system-i386.
set -eu
cd "$(dirname "$0")"
for src in *.asm; do
  case "$src" in bochs-rom.asm) continue;; esac
  nasm -f bin -o "${src%.asm}.bin" "$src"
done
[ "${1:-}" = "--fixtures" ] || exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in *.asm; do
  case "$src" in bochs-rom.asm) continue;; esac
  name=${src%.asm}
  # Bochs: no BIOS, the kernel boots from bochs-rom.asm; no display; COM1 to a file.
  nasm -f bin -DKERNEL="\"$PWD/$name.bin\"" -o "$tmp/rom.bin" bochs-rom.asm
  cat > "$tmp/bochsrc" <<RC
megs: 32
romimage: file=$tmp/rom.bin
vgaromimage: file=/usr/share/seabios/vgabios-isavga.bin
cpu: reset_on_triple_fault=0, ignore_bad_msrs=0
display_library: rfb, options="timeout=0"
com1: enabled=1, mode=file, dev=$tmp/out.txt
log: $tmp/bochs.log
panic: action=fatal
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
  rm -f "$tmp/out.txt"
  (cd "$tmp" && echo c | timeout 60 bochs -q -f "$tmp/bochsrc" > "$tmp/stdout.txt" 2>&1) || true
  {
    echo "# reference: $(bochs --help 2>&1 | grep -o 'Bochs x86 Emulator [0-9.]*' | head -1 || echo Bochs)," \
      "booted by bochs-rom.asm; serial output of $name.bin"
    cat "$tmp/out.txt"
    grep -o 'exception(): 3rd.*' "$tmp/bochs.log" | sed 's/^/# shutdown: /' | head -1 || true
  } > "$name.bochs.txt"
  {
    echo "# reference: $(qemu-system-i386 --version | head -1) -accel tcg -kernel $name.bin (multiboot);" \
      "serial output"
    timeout 60 qemu-system-i386 -accel tcg -display none -serial stdio -nic none -no-reboot \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$name.bin" || true
  } > "$name.qemu.txt"
  echo "$name: $(wc -l < "$name.bochs.txt") lines"
done
