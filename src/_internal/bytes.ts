/**
 * Byte-array helpers shared by the library, its tests and benchmarks.
 *
 * @module
 */

/** Concatenate `parts` into one new array (one allocation, one copy each). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
