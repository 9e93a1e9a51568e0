/**
 * `FrameEncoder`: a TransformStream from frames to their wire bytes.
 *
 * @module
 */
import { ConfigError } from "../error.ts";
import { Slab } from "../_internal/slab.ts";
import { type FrameCodecOrOptions, toFrameCodec } from "./to_frame_codec.ts";
import { LengthDelimitedCodec } from "./length_delimited.ts";
import type { FrameCodec } from "./types.ts";

// Small frames are carved out of 64 KiB slabs shared by every FrameEncoder.
const POOLED_MAX = 16 * 1024; // so a slab holds at least four pooled chunks
const pool = new Slab(64 * 1024);

/**
 * Prefixes each frame with its header; one output chunk per frame. A frame
 * that cannot be encoded (`FrameTooLargeError`, `InvalidFrameLengthError`)
 * errors the stream. To coalesce many frames into one write, call
 * `codec.encodeInto` directly.
 *
 * Output chunks of up to 16 KiB are views into a shared 64 KiB buffer: use
 * each chunk through its own `byteOffset`/`byteLength`, and do not transfer
 * its `.buffer`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameEncoder } from "@wireframe/wireframe/codec";
 *
 * const frames = ReadableStream.from([new Uint8Array([104, 105])]);
 * const wire = await Array.fromAsync(frames.pipeThrough(new FrameEncoder()));
 * assert.deepEqual(wire, [Uint8Array.of(0, 0, 0, 2, 104, 105)]);
 * ```
 */
export class FrameEncoder extends TransformStream<Uint8Array, Uint8Array> {
  /** The codec this stream encodes with. */
  readonly codec: FrameCodec;

  /**
   * Create a stream encoding with `codec`.
   *
   * @param codec a {@link FrameCodec}, or options for a {@link LengthDelimitedCodec}
   *   (default: 4-byte big-endian length, 1 MiB max frame)
   * @param writableStrategy queuing strategy for incoming frames
   * @param readableStrategy queuing strategy for outgoing chunks
   * @throws {ConfigError} if options are invalid, or `lengthFieldOffset` is not 0
   *   (a length-delimited codec with leading header bytes can only decode)
   */
  constructor(
    codec?: FrameCodecOrOptions,
    writableStrategy?: QueuingStrategy<Uint8Array>,
    readableStrategy?: QueuingStrategy<Uint8Array>,
  ) {
    const frameCodec = toFrameCodec(codec);
    if (frameCodec instanceof LengthDelimitedCodec && frameCodec.lengthFieldOffset !== 0) {
      throw new ConfigError(
        "lengthFieldOffset",
        `FrameEncoder: option "lengthFieldOffset" must be 0 to encode ` +
          `(got ${frameCodec.lengthFieldOffset})`,
      );
    }
    super(
      {
        transform(frame, controller) {
          const length = frameCodec.encodedLength(frame);
          if (length > POOLED_MAX) return controller.enqueue(frameCodec.encode(frame));
          const out = pool.take(length);
          frameCodec.encodeInto(frame, out, 0);
          controller.enqueue(out);
        },
      },
      writableStrategy,
      readableStrategy,
    );
    this.codec = frameCodec;
  }
}
