#!/usr/bin/env bash
# Fetches Debian 12's own i386 kernel (the 686 flavour, non-PAE) and busybox-static:i386
# with apt, builds the tiny initramfs the Linux tests boot, and records QEMU's boot of
# them when qemu-system-i386 is installed. Everything goes to tools/linux/cache/ inside
# the clone (gitignored):
#   cache/vmlinuz       the kernel's bzImage, unmodified, from linux-image-*-686
#   cache/busybox       /bin/busybox of busybox-static
#   cache/initrd.cpio   a newc cpio: busybox, /dev/console and init.sh as /init
#   cache/VERSION       the package names and versions
#   cache/qemu.log      QEMU's serial log of the boot and session (qemu-boot.mjs)
# The download needs root the first time (dpkg --add-architecture i386); --force fetches
# again (a newer kernel ABI, say).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/cache"
mkdir -p "$cache"
if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/busybox" ] || [ "${1:-}" = --force ]; then
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    dpkg --add-architecture i386
    apt-get update -qq
  fi
  depends() {
    apt-cache depends linux-image-686:i386 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1
  }
  # The flavour's metapackage names the current ABI's image package.
  kpkg=$(depends)
  if [ -z "$kpkg" ]; then apt-get update -qq; kpkg=$(depends); fi
  [ -n "$kpkg" ] || { echo "fetch: no linux-image-686:i386 in apt's lists" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work"
  (cd "$work" && apt-get download -q "$kpkg:i386" busybox-static:i386 >/dev/null 2>&1)
  mkdir -p "$work/k" "$work/b"
  dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/b"
  cp "$work"/k/boot/vmlinuz-* "$cache/vmlinuz"
  cp "$work/b/bin/busybox" "$cache/busybox"
  {
    dpkg-deb -f "$work"/linux-image-*.deb Package Version
    dpkg-deb -f "$work"/busybox-static_*.deb Package Version
  } > "$cache/VERSION"
  rm -f "$cache/qemu.log"
fi
# The initramfs, rebuilt every time (cheap): a change to init.sh takes effect.
node "$here/mkinitramfs.mjs" "$cache/busybox" "$here/init.sh" "$cache/initrd.cpio.new"
if ! cmp -s "$cache/initrd.cpio.new" "$cache/initrd.cpio"; then
  mv "$cache/initrd.cpio.new" "$cache/initrd.cpio"
  rm -f "$cache/qemu.log"
else
  rm -f "$cache/initrd.cpio.new"
fi
# QEMU's record, again when the kernel, the initramfs or the session changed.
if command -v qemu-system-i386 >/dev/null 2>&1; then
  if [ ! -s "$cache/qemu.log" ] || [ "$here/session.mjs" -nt "$cache/qemu.log" ]; then
    node "$here/qemu-boot.mjs"
  fi
fi
cat "$cache/VERSION"
