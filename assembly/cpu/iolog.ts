// Exits in the middle of an instruction, KVM_RUN style. A port or MMIO access the host
// must perform abandons the instruction with an exit; the host performs it (and, for a
// read, gives the value with completeIo) and runs the core again, which re-executes the
// instruction from its start. Accesses already completed are replayed from this log in
// order, so an instruction with several such accesses (a read-modify-write on MMIO, a
// string instruction) progresses by one access per exit. The log empties when the
// instruction retires or takes an exception.
import {
  STATE_BASE, IOLOG_TABLE, IOLOG_ENTRY_SIZE, IOL_KIND, IOL_ADDR, IOL_SIZE, IOL_VALUE, IOLOG_MAX,
  S_EXIT_REASON, S_EXIT_ADDR, S_EXIT_SIZE, S_EXIT_WRITE,
  S_EXIT_VALUE, S_EXIT_COUNT, S_CNT_IO, S_CNT_MMIO, EXIT_IO, EXIT_MMIO,
} from '../generated/layout';
import { requestExit, raiseGP } from './fault';

export let logLen: u32 = 0;
export let logPos: u32 = 0;
/** Index of the logged read waiting for completeIo, or -1. */
export let awaiting: i32 = -1;

@inline export function logRewind(): void { logPos = 0; }
@inline export function logClear(): void { logLen = 0; logPos = 0; awaiting = -1; }

/**
 * A port (kind EXIT_IO) or MMIO (EXIT_MMIO) access of `size` bytes. Returns the value read
 * (or 0 for writes). When the access is not in the log, records it, requests the exit and
 * returns 0: the caller sees `faulted` and abandons the instruction.
 */
export function hostAccess(kind: u32, addr: u32, size: u32, write: bool, value: u32): u32 {
  if (logPos < logLen) {
    const p = IOLOG_TABLE + logPos * IOLOG_ENTRY_SIZE;
    logPos++;
    return write ? 0 : load<u32>(p + IOL_VALUE);
  }
  const mask: u32 = size == 4 ? 0xffffffff : ((<u32>1 << (size << 3)) - 1);
  if (!write && logLen < <u32>IOLOG_MAX) awaiting = <i32>logLen;
  logAndExit(kind, addr, size, 1, write, write ? (value & mask) : mask, write ? (value & mask) : 0);
  return 0;
}

/**
 * Appends an access to the log and requests its exit: IOL_SIZE is the size with the
 * element count in bits 8 and up when it is above 1 (a string I/O batch).
 */
function logAndExit(
  kind: u32, addr: u32, size: u32, count: u32, write: bool, logged: u32, exitValue: u32,
): void {
  if (logLen >= <u32>IOLOG_MAX) {
    // An instruction never needs this many host accesses; treat as a protection error.
    raiseGP(0);
    return;
  }
  const p = IOLOG_TABLE + logLen * IOLOG_ENTRY_SIZE;
  store<u32>(p + IOL_KIND, kind);
  store<u32>(p + IOL_ADDR, addr);
  store<u32>(p + IOL_SIZE, count > 1 ? size | (count << 8) : size);
  store<u32>(p + IOL_VALUE, logged);
  logLen++;
  logPos = logLen;
  store<u32>(STATE_BASE + S_EXIT_REASON, kind);
  store<u32>(STATE_BASE + S_EXIT_ADDR, addr);
  store<u32>(STATE_BASE + S_EXIT_SIZE, size);
  store<u32>(STATE_BASE + S_EXIT_WRITE, write ? 1 : 0);
  store<u32>(STATE_BASE + S_EXIT_VALUE, exitValue);
  store<u32>(STATE_BASE + S_EXIT_COUNT, count);
  const c = kind == EXIT_IO ? S_CNT_IO : S_CNT_MMIO;
  store<u64>(STATE_BASE + c, load<u64>(STATE_BASE + c) + 1);
  requestExit();
}

/** True when the next access to replay is an ordinary (one-element) one: a string
 *  instruction must then replay it element by element. */
export function replayingSingle(): bool {
  return logPos < logLen &&
    (load<u32>(IOLOG_TABLE + logPos * IOLOG_ENTRY_SIZE + IOL_SIZE) >> 8) == 0;
}

/**
 * String I/O (REP INS/OUTS, ops/string.ts): `count` elements of `size` bytes at port `port`
 * in one exit, their data in PIO_DATA_BASE (written by the core for OUTS, by the host for
 * INS). Returns true when the log already holds this access (the host performed it: the
 * caller completes it from the data), false after logging it and requesting the exit. A
 * batch entry keeps the count in bits 8 and up of its size word.
 */
export function hostBatch(port: u32, size: u32, count: u32, write: bool, first: u32): bool {
  if (logPos < logLen) {
    const p = IOLOG_TABLE + logPos * IOLOG_ENTRY_SIZE;
    if (load<u32>(p + IOL_KIND) == EXIT_IO && load<u32>(p + IOL_ADDR) == port &&
        load<u32>(p + IOL_SIZE) == (size | (count << 8)) &&
        load<u32>(p + IOL_VALUE) == (write ? 1 : 0)) {
      logPos++;
      return true;
    }
    // Not the access this instruction logged (the host changed its state): start over.
    logClear();
  }
  logAndExit(EXIT_IO, port, size, count, write, write ? 1 : 0, first);
  return false;
}

/** The host's answer to the pending read. */
export function completeRead(value: u32): void {
  if (awaiting < 0) return;
  const p = IOLOG_TABLE + (<u32>awaiting) * IOLOG_ENTRY_SIZE;
  const size = load<u32>(p + IOL_SIZE);
  const mask: u32 = size == 4 ? 0xffffffff : ((<u32>1 << (size << 3)) - 1);
  store<u32>(p + IOL_VALUE, value & mask);
  awaiting = -1;
}

// Re-exported so the exit kinds are visible to callers without the layout import.
export const KIND_IO: u32 = EXIT_IO;
export const KIND_MMIO: u32 = EXIT_MMIO;
