#!/bin/sh
# Writes the disk-image test fixtures with QEMU's own tools (qemu-img, qemu-io), so the
# tests read images that another implementation wrote. Each image holds known patterns
# (qemu-io "write -P"); manifest.json records, per image, qemu-img's own view of it
# (info and map, --output json) and the SHA-256 of its contents as `qemu-img convert -O raw`
# produces them. Images are stored gzip-compressed (they are mostly zeros).
#
# Usage: scripts/make-disk-fixtures.sh     (run from the repository root)
set -eu
command -v qemu-img >/dev/null || { echo "qemu-img is required" >&2; exit 1; }
command -v qemu-io >/dev/null || { echo "qemu-io is required (Debian: qemu-utils)" >&2; exit 1; }

OUT=test/fixtures/disk
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"

# The pattern every image carries (offsets chosen to straddle cluster and grain edges).
PATTERN="-c 'write -P 0xab 0 64k' -c 'write -P 0x5c 1049088 100000' -c 'write -P 0x11 4190208 4096'"
SIZE=4M

pattern() { # fmt file
  eval qemu-io -f "$1" $PATTERN "$2" >/dev/null
}

# qcow2 version 2 (compat=0.10), 4 KiB clusters.
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 "$W/qcow2-v2.qcow2" $SIZE
pattern qcow2 "$W/qcow2-v2.qcow2"

# qcow2 version 3, default 64 KiB clusters, with a zero cluster (write -z over data).
qemu-img create -q -f qcow2 "$W/qcow2-v3.qcow2" $SIZE
pattern qcow2 "$W/qcow2-v3.qcow2"
qemu-io -f qcow2 -c 'write -P 0x77 2M 128k' -c 'write -z 2M 64k' "$W/qcow2-v3.qcow2" >/dev/null

# qcow2 version 3 with 512-byte clusters and 1-bit refcounts (sub-byte refcount entries).
qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=1 "$W/qcow2-c512-r1.qcow2" $SIZE
pattern qcow2 "$W/qcow2-c512-r1.qcow2"

# Compressed clusters: qemu-img convert -c from a raw image with the pattern.
qemu-img create -q -f raw "$W/pattern.raw" $SIZE
pattern raw "$W/pattern.raw"
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 "$W/pattern.raw" "$W/qcow2-compressed.qcow2"

# A backing chain: base (qcow2) and an overlay naming it by a relative path.
qemu-img create -q -f qcow2 -o cluster_size=4096 "$W/backing-base.qcow2" $SIZE
pattern qcow2 "$W/backing-base.qcow2"
qemu-img create -q -f qcow2 -o cluster_size=4096 -b backing-base.qcow2 -F qcow2 "$W/backing-overlay.qcow2"
qemu-io -f qcow2 -c 'write -P 0xee 1050000 3000' -c 'write -z 4190208 2048' "$W/backing-overlay.qcow2" >/dev/null

# Extensions this code does not interpret: a persistent dirty bitmap (bitmaps extension,
# autoclear bit 0) and an internal snapshot taken before more writes.
qemu-img create -q -f qcow2 -o cluster_size=4096 "$W/qcow2-bitmap-snapshot.qcow2" $SIZE
pattern qcow2 "$W/qcow2-bitmap-snapshot.qcow2"
qemu-img bitmap --add "$W/qcow2-bitmap-snapshot.qcow2" b0
qemu-img snapshot -c snap1 "$W/qcow2-bitmap-snapshot.qcow2"
qemu-io -f qcow2 -c 'write -P 0x42 0 4096' "$W/qcow2-bitmap-snapshot.qcow2" >/dev/null

# VMDK: monolithicSparse, and qemu-img's streamOptimized (GD in the header, no footer).
qemu-img convert -f raw -O vmdk "$W/pattern.raw" "$W/vmdk-sparse.vmdk"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$W/pattern.raw" "$W/vmdk-stream-qemu.vmdk"

# The VirtualBox streamOptimized VMDK (GD at the end, footer) and a blank stream VMDK from
# glennmatthews/cot (MIT), COT/tests/, copied unchanged; see README.md in this folder.
for f in ubuntu.2.0-disk1.vmdk blank.vmdk; do
  if [ -f "../shared/ovf-samples/cot/$f" ]; then cp "../shared/ovf-samples/cot/$f" "$OUT/cot-$f"; chmod 644 "$OUT/cot-$f"; fi
done
for f in cot-ubuntu.2.0-disk1.vmdk cot-blank.vmdk; do cp "$OUT/$f" "$W/$f"; done

# Manifest: qemu-img's info and the SHA-256 of each image's contents.
{
  echo '{'
  first=1
  for f in qcow2-v2.qcow2 qcow2-v3.qcow2 qcow2-c512-r1.qcow2 qcow2-compressed.qcow2 backing-base.qcow2 \
           backing-overlay.qcow2 qcow2-bitmap-snapshot.qcow2 vmdk-sparse.vmdk vmdk-stream-qemu.vmdk \
           cot-ubuntu.2.0-disk1.vmdk cot-blank.vmdk; do
    qemu-img convert -O raw "$W/$f" "$W/contents.raw"
    sha=$(sha256sum "$W/contents.raw" | cut -d' ' -f1)
    info=$(cd "$W" && qemu-img info --output json "$f" | tr -d '\n')
    map=$(cd "$W" && qemu-img map --output json "$f" | tr -d '\n')
    [ $first = 1 ] || echo ','
    first=0
    printf '  "%s": { "sha256": "%s", "info": %s, "map": %s }' "$f" "$sha" "$info" "$map"
    case $f in cot-*) ;; *) gzip -9 -n -c "$W/$f" > "$OUT/$f.gz" ;; esac
  done
  echo
  echo '}'
} > "$OUT/manifest.json"

echo "fixtures written to $OUT"
