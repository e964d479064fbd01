// SPDX-License-Identifier: MIT
// Reads exact byte counts from a stream of chunks (a child process's stdout, a fetch body), pulling
// the next chunk only when the bytes asked for are not there yet: the producer is held back by the
// consumer, so no more than one chunk beyond the current read is ever buffered.

export class StreamReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  private ended = false;
  /** Bytes consumed so far (read or skipped): positions for messages about damaged input. */
  position = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Whether the stream has no byte left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  /**
   * Exactly `n` bytes in a new array (the caller may keep it), or fewer when the stream ends first;
   * `into` receives them instead of a new array when given.
   */
  async read(n: number, into = new Uint8Array(n)): Promise<Uint8Array> {
    let filled = 0;
    while (filled < n && (await this.fill())) {
      const take = Math.min(n - filled, this.chunk.length - this.at);
      into.set(this.chunk.subarray(this.at, this.at + take), filled);
      filled += take;
      this.at += take;
    }
    this.position += filled;
    return filled === n ? into : into.subarray(0, filled);
  }

  /** Skips `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.fill())) {
      const take = Math.min(n - skipped, this.chunk.length - this.at);
      skipped += take;
      this.at += take;
    }
    this.position += skipped;
    return skipped;
  }

  /** The next byte without consuming it, or -1 at the end. */
  async peek(): Promise<number> {
    return (await this.fill()) ? this.chunk[this.at] : -1;
  }

  /** Stops the source (a generator's return(): its cleanup runs). */
  async close(): Promise<void> {
    this.ended = true;
    await this.source.return?.();
  }

  private async fill(): Promise<boolean> {
    while (this.at >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.source.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.chunk = r.value;
      this.at = 0;
    }
    return true;
  }
}
