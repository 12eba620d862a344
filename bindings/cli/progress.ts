/**
 * Progress of long work: `img convert -p` as qemu-img prints it, and a one-line meter for
 * `ovf import` / `ovf export` that only a terminal gets (a pipe or a log file gets nothing).
 */
import type { ProgressFn } from '../ovf/node/files.js';

/** Where progress goes: a stream that may be a terminal (process.stderr, or a test's). */
export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

/**
 * qemu-img's `-p` meter (util/qemu-progress.c, the "simple" printer): the line
 * "    (%3.2f/100%)\r" at 0, at 100 and whenever the value moved by more than `minSkip`
 * points since the last line (img_convert passes 1.0), and "\n" at the end. qemu-img
 * prints it on stdout whether or not that is a terminal.
 */
export class QemuProgress {
  private current = 0;
  private lastPrint = 0;

  constructor(
    private readonly out: ProgressStream,
    private readonly minSkip = 1,
  ) {}

  /** qemu_progress_print(value, 0): sets the value in percent (0..100). */
  print(percent: number): void {
    const current = Math.min(100, percent);
    this.current = current;
    if (
      current > this.lastPrint + this.minSkip ||
      current < this.lastPrint - this.minSkip ||
      current === 0 ||
      current === 100
    ) {
      this.lastPrint = current;
      this.out.write(`    (${current.toFixed(2)}/100%)\r`);
    }
  }

  /** qemu_progress_end(). */
  end(): void {
    this.out.write('\n');
  }

  /** A callback for convertImage that feeds this meter. */
  get onBytes(): (done: number, total: number) => void {
    return (done, total) => this.print(total > 0 ? (100 * done) / total : 100);
  }
}

/** A ProgressFn for a terminal, and the call that clears its line when the work is over. */
export interface TerminalProgress {
  update: ProgressFn;
  end(): void;
}

/** Formats a byte count as the meter shows it (binary units, one decimal). */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/**
 * A one-line meter ("importing p.ova: 42% (1.1 GiB of 2.6 GiB)") redrawn in place on
 * `stream` when it is a terminal, at most once per percent; undefined when it is not,
 * so that pipes and logs stay clean.
 */
export function terminalProgress(stream: ProgressStream): TerminalProgress | undefined {
  if (!stream.isTTY) return undefined;
  let last = '';
  let shown = false;
  return {
    update(phase, done, total) {
      const pct = total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 100;
      const key = `${phase}\0${pct}`;
      if (key === last) return;
      last = key;
      shown = true;
      stream.write(
        `\r${phase}: ${pct}% (${bytes(Math.min(done, total))} of ${bytes(total)})\x1b[K`,
      );
    },
    end() {
      // Erase the meter so that what the command prints next starts on a clean line.
      if (shown) stream.write('\r\x1b[K');
      shown = false;
      last = '';
    },
  };
}
