/** ATA register bits and command codes (ATA/ATAPI-6, T13/1410D: 7.x registers, 8.x commands). */

// Status register (7.15).
export const ST_BSY = 0x80;
export const ST_DRDY = 0x40;
export const ST_DF = 0x20;
export const ST_DSC = 0x10; // obsolete "seek complete"; drives and QEMU still set it when ready
export const ST_DRQ = 0x08;
export const ST_ERR = 0x01;
// Error register (7.9).
export const ER_ABRT = 0x04;
export const ER_IDNF = 0x10;
export const ER_UNC = 0x40;
// Device/Head register (7.7).
export const DEV_LBA = 0x40;
export const DEV_DEV = 0x10;
// Device Control register (7.8).
export const CTL_NIEN = 0x02;
export const CTL_SRST = 0x04;
export const CTL_HOB = 0x80;

// Commands (8.x, with their opcodes from Table E.2).
export const CMD_READ_SECTORS = 0x20;
export const CMD_READ_SECTORS_NORETRY = 0x21;
export const CMD_READ_SECTORS_EXT = 0x24;
export const CMD_READ_DMA_EXT = 0x25;
export const CMD_READ_NATIVE_MAX_EXT = 0x27;
export const CMD_READ_MULTIPLE_EXT = 0x29;
export const CMD_WRITE_SECTORS = 0x30;
export const CMD_WRITE_SECTORS_NORETRY = 0x31;
export const CMD_WRITE_SECTORS_EXT = 0x34;
export const CMD_WRITE_DMA_EXT = 0x35;
export const CMD_WRITE_MULTIPLE_EXT = 0x39;
export const CMD_READ_VERIFY = 0x40;
export const CMD_READ_VERIFY_NORETRY = 0x41;
export const CMD_READ_VERIFY_EXT = 0x42;
export const CMD_SEEK = 0x70;
export const CMD_EXECUTE_DIAGNOSTIC = 0x90;
export const CMD_INITIALIZE_PARAMS = 0x91;
export const CMD_IDENTIFY_PACKET = 0xa1;
export const CMD_READ_MULTIPLE = 0xc4;
export const CMD_WRITE_MULTIPLE = 0xc5;
export const CMD_SET_MULTIPLE = 0xc6;
export const CMD_READ_DMA = 0xc8;
export const CMD_READ_DMA_NORETRY = 0xc9;
export const CMD_WRITE_DMA = 0xca;
export const CMD_WRITE_DMA_NORETRY = 0xcb;
export const CMD_STANDBY_IMMEDIATE = 0xe0;
export const CMD_IDLE_IMMEDIATE = 0xe1;
export const CMD_STANDBY = 0xe2;
export const CMD_IDLE = 0xe3;
export const CMD_CHECK_POWER = 0xe5;
export const CMD_SLEEP = 0xe6;
export const CMD_FLUSH_CACHE = 0xe7;
export const CMD_FLUSH_CACHE_EXT = 0xea;
export const CMD_IDENTIFY = 0xec;
export const CMD_SET_FEATURES = 0xef;
export const CMD_READ_NATIVE_MAX = 0xf8;
