// Assertions shared by the network-file reader tests (test/unit/formats-*.test.ts).
import * as assert from "uvu/assert";
import { ModelFormatError } from "../src/errors.js";

function fail(message: string): never {
  assert.unreachable(message);
  throw new Error(message); // not reached: unreachable throws
}

/** `run` throws a ModelFormatError whose message matches `re` (anything else fails, naming it). */
export function throwsFormatError(run: () => unknown, re: RegExp, label = ""): ModelFormatError {
  try {
    run();
  } catch (e) {
    if (!(e instanceof ModelFormatError)) return fail(`${label}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, re, `${label}: ${e.message}`);
    return e;
  }
  return fail(`${label}: no error`);
}

/**
 * Decodes every prefix of `bytes` shorter than the whole: each must throw a
 * ModelFormatError (or, where `mayDecode` says a prefix is still a valid file, decode); any other
 * error fails the test. Returns how many were refused.
 */
export function everyPrefixRefused(bytes: Uint8Array, decode: (b: Uint8Array) => unknown, label: string, mayDecode = (_: number) => false): number {
  let refused = 0;
  for (let n = 0; n < bytes.length; n++) {
    try {
      decode(bytes.slice(0, n));
      if (!mayDecode(n)) assert.unreachable(`${label}: the ${n}-byte prefix of ${bytes.length} decoded`);
    } catch (e) {
      if (!(e instanceof ModelFormatError)) assert.unreachable(`${label}: the ${n}-byte prefix threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      refused++;
    }
  }
  return refused;
}
