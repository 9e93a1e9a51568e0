/**
 * `FrameDecoder`: a TransformStream from raw byte chunks to frames.
 *
 * @module
 */
import type { FrameCodec, FrameDecoderState } from "./types.ts";
import { type FrameCodecOrOptions, toFrameCodec } from "./to_frame_codec.ts";

/**
 * Splits a byte stream into frames. Every complete frame in a chunk is
 * emitted as a view of that chunk (no copy); frames that straddle chunks are
 * copied once. Framing errors (`FrameTooLargeError`, `InvalidFrameLengthError`)
 * error the stream at once; if the input ends inside a frame the stream errors
 * with `IncompleteHeaderError` or `IncompleteFrameError`. A clean end closes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameDecoder, IncompleteHeaderError } from "@wireframe/wireframe/codec";
 *
 * // One whole frame ("hi"), then the input ends two bytes into the next header.
 * const bytes = ReadableStream.from([new Uint8Array([0, 0, 0, 2, 104, 105, 0, 0])]);
 * const frames = bytes.pipeThrough(new FrameDecoder({ maxFrameLength: 8192 }));
 * const received: Uint8Array[] = [];
 * await assert.rejects(async () => {
 *   for await (const frame of frames) received.push(frame);
 * }, IncompleteHeaderError);
 * assert.deepEqual(received, [Uint8Array.of(104, 105)]);
 * ```
 */
export class FrameDecoder extends TransformStream<Uint8Array, Uint8Array> {
  /** The codec this stream decodes with. */
  readonly codec: FrameCodec;

  /**
   * Create a stream decoding with `codec`.
   *
   * @param codec a {@link FrameCodec}, or options for a {@link LengthDelimitedCodec}
   *   (default: 4-byte big-endian length, 1 MiB max frame)
   * @param writableStrategy queuing strategy for incoming chunks
   * @param readableStrategy queuing strategy for outgoing frames
   * @throws {ConfigError} if options are invalid
   */
  constructor(
    codec?: FrameCodecOrOptions,
    writableStrategy?: QueuingStrategy<Uint8Array>,
    readableStrategy?: QueuingStrategy<Uint8Array>,
  ) {
    const frameCodec = toFrameCodec(codec);
    let decoder: FrameDecoderState;
    // One emit callback per stream, not per chunk or frame.
    let emit: (frame: Uint8Array) => void;
    super(
      {
        start(controller) {
          decoder = frameCodec.createDecoder();
          emit = (frame) => controller.enqueue(frame);
        },
        transform(chunk) {
          decoder.decode(chunk, emit);
        },
        flush() {
          decoder.finish();
        },
      },
      writableStrategy,
      readableStrategy,
    );
    this.codec = frameCodec;
  }
}
