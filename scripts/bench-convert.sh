#!/bin/sh
# Times `wasmvisor img convert` beside `qemu-img convert` on the same source, one run each:
# a 4 GiB qcow2 holding 1 GiB of data (16 runs of 64 MiB: half random bytes, half source
# text), converted to raw and to streamOptimized VMDK (on one thread, the default, and with
# WASMVISOR_DEFLATE_THREADS=2). Prints wall time, CPU time and peak RSS
# (GNU time). Needs qemu-img and /usr/bin/time; writes about 6 GiB under $DIR.
#   scripts/bench-convert.sh [DIR]        (DIR defaults to a new temporary folder)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
src=$dir/src.qcow2
if [ ! -f "$src" ]; then
  raw=$dir/src.raw
  truncate -s 4G "$raw"
  # The text: the repository's own TypeScript, repeated to 64 MiB.
  find "$here/bindings" -name '*.ts' -exec cat {} + > "$dir/text.1"
  : > "$dir/text"
  while [ "$(stat -c %s "$dir/text")" -lt 67108864 ]; do cat "$dir/text.1" >> "$dir/text"; done
  i=0
  while [ $i -lt 16 ]; do
    if [ $((i % 2)) -eq 0 ]; then
      head -c 64M /dev/urandom | dd of="$raw" bs=1M seek=$((i * 256)) conv=notrunc status=none
    else
      head -c 64M "$dir/text" | dd of="$raw" bs=1M seek=$((i * 256)) conv=notrunc status=none
    fi
    i=$((i + 1))
  done
  qemu-img convert -f raw -O qcow2 "$raw" "$src"
  rm -f "$raw" "$dir/text" "$dir/text.1"
fi
wv="node $here/bin/wasmvisor.js"
run() { # label, command...
  label=$1; shift
  sync
  /usr/bin/time -f "$label %e s wall, %U+%S s CPU, %M KiB peak RSS" "$@"
}
echo "source: $(qemu-img info "$src" | grep -E 'virtual size|disk size' | tr '\n' ' ')"
run "qemu-img  raw   " qemu-img convert -O raw "$src" "$dir/q.raw"
run "wasmvisor raw   " $wv img convert -O raw "$src" "$dir/w.raw"
cmp "$dir/q.raw" "$dir/w.raw" && echo "raw outputs identical"
rm -f "$dir/q.raw" "$dir/w.raw"
run "qemu-img  stream" qemu-img convert -O vmdk -o subformat=streamOptimized "$src" "$dir/q.vmdk"
run "wasmvisor stream" $wv img convert -O vmdk -o subformat=streamOptimized "$src" "$dir/w.vmdk"
qemu-img compare -f vmdk -F vmdk "$dir/q.vmdk" "$dir/w.vmdk"
# The same with two deflate worker threads (opt-in: about 8-10 MiB each).
run "wasmvisor stream, 2 workers" env WASMVISOR_DEFLATE_THREADS=2 \
  $wv img convert -O vmdk -o subformat=streamOptimized "$src" "$dir/w1.vmdk"
cmp "$dir/w.vmdk" "$dir/w1.vmdk" >/dev/null 2>&1 || qemu-img compare "$dir/w.vmdk" "$dir/w1.vmdk"
ls -l "$dir/q.vmdk" "$dir/w.vmdk" "$dir/w1.vmdk" | awk '{print $5, $9}'
rm -f "$dir/q.vmdk" "$dir/w.vmdk" "$dir/w1.vmdk"
