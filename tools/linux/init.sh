#!/bin/sh
# /init of the test initramfs: busybox's applets, /proc, /sys, a tmpfs, a marker line,
# then a shell on the console. The tests type commands into the serial port and end
# with `poweroff -f`.
/bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "wasmvisor-initramfs: init running"
exec /bin/sh
