// SPDX-License-Identifier: MIT
// Keeps a job's CPU side at most one node ahead of the GPU without ever blocking its thread. GL calls only
// queue work: without pacing a tile queues every layer at once, and the readback that follows blocks the
// thread until all of them ran (27 s for `natural` on a 160×120 picture on SwiftShader), with no turn for
// an abort in between. Here each node gets a fence, and the fence of the node before it is polled between
// event-loop turns, so the GPU always has the next node queued while the thread is free; `check` (abort,
// disposal, context loss) runs at every poll. After an abort the GPU finishes at most the node it is
// running and the one queued behind it.

/** Longest sleep between two polls of a fence: how late an abort may be seen while a long node runs. */
const MAX_POLL_MS = 16;

export class GpuPacer {
  /** The fence after the last node issued: what drain() waits for. */
  private last: WebGLSync | null = null;

  constructor(private readonly gl: WebGL2RenderingContext, private readonly check: () => void) {}

  /** Call after a node was issued: fences it, then waits until the node before it has run. */
  async afterNode(): Promise<void> {
    const before = this.last;
    this.last = this.fence();
    await this.waitFor(before);
  }

  /** Waits until everything issued so far has run, so that a readback after it does not block. */
  async drain(): Promise<void> {
    const last = this.last ?? this.fence();
    this.last = null;
    await this.waitFor(last);
  }

  /** Deletes the fence still held (after a failure or abort). */
  dispose(): void {
    if (this.last) this.gl.deleteSync(this.last);
    this.last = null;
  }

  private fence(): WebGLSync | null {
    const sync = this.gl.fenceSync(this.gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    this.gl.flush(); // a fence only signals once the commands before it were submitted
    return sync;
  }

  // WebGL updates a fence's status only between event-loop turns, and never waits in clientWaitSync
  // (MAX_CLIENT_WAIT_TIMEOUT_WEBGL is 0), so this polls with sleeps that double up to MAX_POLL_MS.
  private async waitFor(sync: WebGLSync | null): Promise<void> {
    try {
      for (let sleep = 0; ; sleep = Math.min(MAX_POLL_MS, 2 * sleep || 1)) {
        this.check();
        // No fence (a lost context gives none), or WAIT_FAILED (lost meanwhile): the check says which.
        if (!sync || this.gl.clientWaitSync(sync, 0, 0) !== this.gl.TIMEOUT_EXPIRED) break;
        await new Promise((resolve) => setTimeout(resolve, sleep));
      }
      this.check();
    } finally {
      if (sync) this.gl.deleteSync(sync);
    }
  }
}
