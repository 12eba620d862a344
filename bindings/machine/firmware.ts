/**
 * Where a firmware image goes in the physical address space, as QEMU's `-bios` places it
 * on the PC (hw/i386/x86.c, x86_bios_rom_init): the whole image ends at 4 GiB, and its last
 * 128 KiB (or all of it, if smaller) is also mapped to end at 1 MiB (the "isa-bios" alias),
 * so that the reset vector (Intel SDM vol. 3A, 9.1.4: the first fetch is at 0xFFFFFFF0 with
 * CS base 0xFFFF0000) and the real-mode F000 segment see the same bytes.
 */

/** A ROM image is made of 64 KiB blocks, as PC option and system ROMs are. */
export const ROM_BLOCK = 0x10000;
/** The largest firmware image accepted (QEMU's PC flash window is 16 MiB below 4 GiB). */
export const ROM_MAX = 16 << 20;
/** The isa-bios alias below 1 MiB covers at most 128 KiB (0xE0000-0xFFFFF). */
export const ISA_BIOS_MAX = 0x20000;

export class FirmwareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FirmwareError';
  }
}

export interface RomMapping { address: number; data: Uint8Array }

/** The two mappings of a firmware image, or a clear error for an unusable one. */
export function planFirmware(image: Uint8Array, name = 'firmware'): RomMapping[] {
  if (image.length === 0) throw new FirmwareError(`${name}: the image is empty`);
  if (image.length % ROM_BLOCK !== 0) {
    throw new FirmwareError(`${name}: ${image.length} bytes is not a multiple of 64 KiB`);
  }
  if (image.length > ROM_MAX) {
    throw new FirmwareError(
      `${name}: ${image.length} bytes is larger than the 16 MiB flash window`);
  }
  const isa = image.subarray(image.length - Math.min(image.length, ISA_BIOS_MAX));
  return [
    { address: 2 ** 32 - image.length, data: image },
    { address: 0x100000 - isa.length, data: isa },
  ];
}
