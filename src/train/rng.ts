// SPDX-License-Identifier: MIT
// The trainer's one source of randomness: a seeded 32-bit generator whose whole state is one integer,
// so a checkpoint stores it and a resumed run draws exactly the numbers the uninterrupted run would.
// Mulberry32 (public domain, by Tommy Ettinger): fast, passes PractRand to 2^32 outputs, ample here.

export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** The full state (store it; `new Rng(0).setState(s)` continues the sequence). */
  get state(): number {
    return this.a;
  }

  setState(s: number): this {
    this.a = s >>> 0;
    return this;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A derived seed for an independent stream (initialisation vs data), so adding draws to one never shifts the other. */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
