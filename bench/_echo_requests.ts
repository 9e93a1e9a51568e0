// Echo requests as bench/echo/load.mjs sends them, for in-process benchmarks.

/** Payload bytes per request. */
export const PAYLOAD = 64;

/**
 * `count` id-1 echo requests with correlation ids 1…count and PAYLOAD-byte
 * payloads, each one length-prefixed frame (4-byte big-endian length);
 * `fragmented` puts a LenFlag32K header (one final fragment) before each
 * envelope. An echo answer is byte-for-byte the size of its request.
 */
export function echoRequests(count: number, fragmented: boolean): Uint8Array {
  const envelope = 13 + PAYLOAD;
  const body = envelope + (fragmented ? 2 : 0);
  const frame = 4 + body;
  const out = new Uint8Array(frame * count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    let at = i * frame;
    view.setUint32(at, body);
    at += 4;
    if (fragmented) {
      view.setUint16(at, 0x8000 | envelope);
      at += 2;
    }
    view.setUint32(at, 1); // id
    out[at + 4] = 1; // flags: correlated
    view.setBigUint64(at + 5, BigInt(i + 1));
    out.fill(0x61, at + 13, at + 13 + PAYLOAD);
  }
  return out;
}
