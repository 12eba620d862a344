#!/bin/sh
# Runs one system test guest under QEMU the way its fixture was recorded and prints its
# COM1 output. The serial port goes to a file (a pipe on stdio can lose bytes when QEMU
# exits through isa-debug-exit while the reader lags); the exit status is QEMU's.
# Arguments after the image go to QEMU (-append, -initrd).
out=$(mktemp)
qemu-system-i386 -accel tcg -display none -serial "file:$out" -nic none -no-reboot -m 128 \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$@"
status=$?
cat "$out"
rm -f "$out"
exit $status
