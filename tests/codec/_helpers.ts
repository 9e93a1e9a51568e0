// Shared test helpers for the codec suite. The reference framer here is
// written independently of src/ so tests do not check the codec against itself.
import { concatBytes as concat } from "../../src/_internal/bytes.ts";
import type { FrameCodec } from "../../src/codec/mod.ts";

export type Size = 1 | 2 | 3 | 4 | 8;
export type Order = "big" | "little";

/** Layout of a frame on the wire, as the reference framer builds it. */
export interface Layout {
  lengthFieldLength: Size;
  byteOrder: Order;
  lengthFieldOffset: number;
  lengthAdjustment: number;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export { concat };

/** Unsigned `value` as `size` bytes in `order`, via BigInt (any 64-bit value). */
export function uint(value: number | bigint, size: Size, order: Order): Uint8Array {
  let v = BigInt(value);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    out[order === "big" ? size - 1 - i : i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** One frame on the wire: prefix, length field (body.length - adjustment), body. */
export function wire(layout: Layout, body: Uint8Array, prefix?: Uint8Array): Uint8Array {
  const pre = prefix ?? new Uint8Array(layout.lengthFieldOffset).fill(0xee);
  const field = uint(
    body.length - layout.lengthAdjustment,
    layout.lengthFieldLength,
    layout.byteOrder,
  );
  return concat([pre, field, body]);
}

/** Split `data` at the given cut points (any order, duplicates and out-of-range ignored). */
export function cut(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, data.length]) {
    chunks.push(data.subarray(from, point));
    from = point;
  }
  return chunks.filter((c) => c.length > 0);
}

/** Fixed-size chunks. */
export function chunksOf(data: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return chunks;
}

/**
 * Decode `chunks` with a fresh decoder; frames are copied out as plain arrays.
 * `spans`: through `decodeSpans` instead of `decode`.
 */
export function decodeAll(
  codec: FrameCodec,
  chunks: readonly Uint8Array[],
  { spans = false } = {},
): { frames: number[][]; error?: unknown } {
  const decoder = codec.createDecoder();
  const frames: number[][] = [];
  const emit = (frame: Uint8Array) => frames.push(Array.from(frame));
  const emitSpan = (bytes: Uint8Array, start: number, end: number) =>
    frames.push(Array.from(bytes.subarray(start, end)));
  try {
    for (const chunk of chunks) {
      if (spans) decoder.decodeSpans!(chunk, emitSpan);
      else decoder.decode(chunk, emit);
    }
    decoder.finish();
    return { frames };
  } catch (error) {
    return { frames, error };
  }
}

/** Read a stream to the end, returning the chunks and the error it ended with, if any. */
export async function collect(
  readable: ReadableStream<Uint8Array>,
): Promise<{ chunks: Uint8Array[]; error?: unknown }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of readable) chunks.push(chunk);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

export function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}
