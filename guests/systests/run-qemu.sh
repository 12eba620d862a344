#!/bin/sh
# Runs one system test guest under QEMU the way its fixture was recorded.
exec qemu-system-i386 -accel tcg -display none -serial stdio -nic none -no-reboot -m 128 \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$1"
