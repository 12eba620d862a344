// The shell session the Linux tests type into the guest's serial port, and the kernel-log
// milestones compared between wasmvisor and QEMU. Shared by tools/linux/qemu-boot.mjs
// (QEMU's record) and test/linux/debian.test.ts.

/** Typed once the busybox prompt is there; each output is checked by the test. */
export const COMMANDS = [
  'uname -a',
  'cat /proc/cpuinfo',
  'cat /proc/interrupts',
  'echo tmpfs-$((6*7)) > /tmp/f && cat /tmp/f',
  'for i in 1 2 3; do dd if=/dev/zero of=/tmp/z bs=1k count=256 2>&1 | head -1; done',
  'ls -l /tmp/z',
  'echo wasmvisor-initramfs: done',
  'poweroff -f',
];

/** The kernel command line both machines boot with. */
export const APPEND = 'console=ttyS0';

/** The prompt of busybox's ash as root. */
export const PROMPT = '/ # ';

/**
 * Milestones: kernel log lines that depend neither on timing nor on the machine's
 * firmware, as regular expressions matched against lines without their timestamps. Each
 * must appear in both logs and be the same line, in this order.
 */
export const MILESTONES = [
  /^Linux version /,
  /^BIOS-e820: \[mem 0x0000000000000000-/,
  /^BIOS-e820: \[mem 0x000000000009fc00-/,
  /^BIOS-e820: \[mem 0x00000000000f0000-/,
  /^Notice: NX /,
  /^Kernel command line: /,
  /^ {2}DMA +\[mem /,
  /^Console: /,
  /^printk: console \[ttyS0\] enabled/,
  /^x86\/fpu: /,
  /^pci 0000:00:00\.0: \[/,
  /^pci 0000:00:01\.0: \[/,
  /^pci 0000:00:01\.1: \[/,
  /^pci 0000:00:01\.3: \[/,
  /^Trying to unpack rootfs image as initramfs/,
  /^Freeing initrd memory: /,
  /^Serial: 8250\/16550 driver/,
  /^Freeing unused kernel image \(initmem\) memory: /,
  /^Write protecting kernel text and read-only data: /,
  /^Run \/init as init process/,
  /^wasmvisor-initramfs: init running/,
  /^Linux \(none\) /,
  /^tmpfs-42/,
  /^wasmvisor-initramfs: done/,
];

/** Lines of a serial log, timestamps ("[    1.234567] ") and escapes dropped. */
export function logLines(log) {
  return log.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').split('\n')
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, '').replace(/^\/ # /, ''));
}

/** The first line matching each milestone (undefined where none does). */
export function milestones(log) {
  const lines = logLines(log);
  return MILESTONES.map((re) => lines.find((l) => re.test(l)));
}
