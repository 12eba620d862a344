#!/usr/bin/env bash
# Fetches Debian 12's own i386 kernel (the 686 flavour, non-PAE) and busybox-static:i386
# with apt, and builds the tiny initramfs the Linux tests boot. Everything goes to
# tools/linux/cache/ inside the clone (gitignored):
#   cache/vmlinuz       the kernel's bzImage, unmodified, from linux-image-*-686
#   cache/initrd.cpio   a newc cpio: busybox and the /init of tools/linux/init.sh
#   cache/VERSION       the package names and versions
# Needs root (dpkg --add-architecture) the first time; afterwards runs as any user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/cache"
mkdir -p "$cache"
if [ -s "$cache/vmlinuz" ] && [ -s "$cache/initrd.cpio" ] && [ "${1:-}" != --force ]; then
  exit 0
fi
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  dpkg --add-architecture i386
  apt-get update -qq
fi
# The flavour's metapackage names the current ABI's image package.
kpkg=$(apt-cache depends linux-image-686:i386 | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
if [ -z "$kpkg" ]; then
  apt-get update -qq
  kpkg=$(apt-cache depends linux-image-686:i386 | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
fi
[ -n "$kpkg" ] || { echo "fetch: no linux-image-686:i386 in apt's lists" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$kpkg:i386" busybox-static:i386 >/dev/null)
mkdir -p "$work/k" "$work/b"
dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
dpkg-deb -x "$work"/busybox-static_*.deb "$work/b"
cp "$work"/k/boot/vmlinuz-* "$cache/vmlinuz"
# The initramfs: /bin/busybox (its applet links made by /init), /dev/console and /init.
node "$here/mkinitramfs.mjs" "$work/b/bin/busybox" "$here/init.sh" "$cache/initrd.cpio"
{
  dpkg-deb -f "$work"/linux-image-*.deb Package Version
  dpkg-deb -f "$work"/busybox-static_*.deb Package Version
} > "$cache/VERSION"
cat "$cache/VERSION"
