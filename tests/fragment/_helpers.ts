// Shared helpers for the fragmentation tests.
import {
  Fragmenter,
  type FragmentMeta,
  type FragmentStrategy,
  MuxFragmentStrategy,
  Reassembler,
} from "../../src/fragment/mod.ts";

/** `n` bytes of a recognisable pattern starting at `seed`. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return out;
}

/** Every fragment `split` emits, copied. */
export function fragmentsOf(fragmenter: Fragmenter, message: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  fragmenter.split(message, (f) => out.push(f.slice()));
  return out;
}

/** Push every fragment at time `now`; returns the messages emitted (copied). */
export function pushAll(
  reassembler: Reassembler,
  fragments: readonly Uint8Array[],
  now = 0,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of fragments) reassembler.push(f, now, (m) => out.push(m.slice()));
  return out;
}

/** A mux fragment body built by hand (lets tests send any header). */
export function muxFragment(
  meta: FragmentMeta,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const mux = new MuxFragmentStrategy();
  const full = { ...meta, payloadLen: payload.length };
  const frame = new Uint8Array(0);
  const header = mux.headerLength(full, frame);
  const out = new Uint8Array(header + payload.length);
  mux.encodeHeaderInto(full, frame, out, 0);
  out.set(payload, header);
  return out;
}

/** Raw mux bytes: msgId u32, seq u32, flags u8, payloadLen u32, [totalLen u32], payload. */
export function rawMux(
  msgId: number,
  seq: number,
  flags: number,
  payloadLen: number,
  payload: Uint8Array,
  totalLen?: number,
): Uint8Array {
  const header = totalLen === undefined ? 13 : 17;
  const out = new Uint8Array(header + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, msgId);
  view.setUint32(4, seq);
  view.setUint8(8, flags);
  view.setUint32(9, payloadLen);
  if (totalLen !== undefined) view.setUint32(13, totalLen);
  out.set(payload, header);
  return out;
}

/** Run `fn`, return what it threw (fails if it did not throw). */
export function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

/** A strategy wrapper counting calls, to check context-awareness. */
export function spyStrategy(
  inner: FragmentStrategy,
  seen: Uint8Array[],
): FragmentStrategy {
  return {
    multiplexed: inner.multiplexed,
    maxMsgId: inner.maxMsgId,
    decodeHeader: (bytes) => inner.decodeHeader(bytes),
    headerLength: (meta, frame) => inner.headerLength(meta, frame),
    encodeHeaderInto: (meta, frame, target, offset) => {
      seen.push(frame);
      return inner.encodeHeaderInto(meta, frame, target, offset);
    },
    maxFragmentPayload: (frame) => inner.maxFragmentPayload(frame),
  };
}

export { Fragmenter, MuxFragmentStrategy, Reassembler };
