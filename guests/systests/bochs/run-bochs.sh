#!/bin/sh
# Runs one a.out-kludge system test guest under Bochs (through romloader.asm) and prints
# its COM1 output; a triple fault (Bochs' "3rd exception with no resolution", which ends
# it with reset_on_triple_fault=0) is reported on stderr as "shutdown: ...". Needs nasm and bochs (Debian's build: the RFB display, its debugger on
# stdin, no VGA BIOS file: vgastub.asm stands in). Bochs has no isa-debug-exit; the
# guests end it through its BIOS shutdown port 0x8900 (see lib.inc EXIT).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
guest=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(mktemp -d)
nasm -f bin -DGUEST="\"$guest\"" -o "$dir/rom.bin" "$here/romloader.asm"
nasm -f bin -o "$dir/vga.bin" "$here/vgastub.asm"
cat > "$dir/bochsrc" <<RC
megs: 128
romimage: file=$dir/rom.bin, address=0xffff0000
vgaromimage: file=$dir/vga.bin
cpu: model=${BOCHS_CPU:-core2_penryn_t9600}, count=1, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=0
display_library: rfb, options="timeout=0"
com1: enabled=1, mode=file, dev=$dir/com1.txt
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
mouse: enabled=0
log: $dir/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
clock: sync=none
RC
echo c | timeout "${BOCHS_TIMEOUT:-60}" bochs -q -f "$dir/bochsrc" >/dev/null 2>&1 || true
cat "$dir/com1.txt" 2>/dev/null || true
grep -o 'exception(): 3rd.*' "$dir/bochs.log" | head -n 1 | sed 's/^/shutdown: /' >&2 || true
if [ -n "${KEEP:-}" ]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
