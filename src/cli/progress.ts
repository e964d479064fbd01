// SPDX-License-Identifier: MIT
// The progress bar on stderr. Drawn only on a terminal and only once the work has run for a second,
// so quick jobs and redirected output stay clean. Elapsed time is checked on each update rather than
// by a timer: an inline (threads 0) job can keep the event loop busy until it finishes.

export interface ProgressBar {
  update(fraction: number, detail?: string): void;
  /** Erases the bar (if drawn); the next output starts on a clean line. */
  done(): void;
}

export function progressBar(label: string, enabled: boolean, stream: Pick<NodeJS.WriteStream, "write" | "columns"> = process.stderr, delayMs = 1000): ProgressBar {
  const start = performance.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(fraction, detail = "") {
      if (!enabled) return;
      const now = performance.now();
      if (now - start < delayMs || (now - lastDraw < 100 && fraction < 1)) return;
      lastDraw = now;
      const f = Math.min(1, Math.max(0, fraction));
      const elapsed = (now - start) / 1000;
      const eta = f > 0 ? Math.round((elapsed * (1 - f)) / f) : 0;
      const cols = stream.columns || 80;
      const text = ` ${String(Math.floor(f * 100)).padStart(3)}% ${detail}${f < 1 ? ` ETA ${eta}s` : ""}`;
      const width = Math.max(10, Math.min(40, cols - label.length - 40)); // fixed, so the bar does not jitter as the text changes
      const fill = Math.round(f * width);
      const line = `${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}]${text}`;
      stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write("\r\x1b[K");
      drawn = false;
    },
  };
}
