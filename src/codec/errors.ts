/**
 * Typed errors raised while framing bytes. All extend {@link CodecError}, so a
 * connection can tell "the peer sent bad framing" apart from I/O failures.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * Base class of every framing error. Switch on `code` or use `instanceof` on a
 * subclass: {@link FrameTooLargeError}, {@link InvalidFrameLengthError},
 * {@link IncompleteHeaderError}, {@link IncompleteFrameError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CodecError, LengthDelimitedCodec } from "@wireframe/wireframe/codec";
 *
 * const decoder = new LengthDelimitedCodec().createDecoder();
 * decoder.decode(new Uint8Array([0, 0, 0, 9, 1]), () => {}); // says 9 bytes, has 1
 * assert.throws(
 *   () => decoder.finish(),
 *   (err) => err instanceof CodecError && err.code === "ERR_INCOMPLETE_FRAME",
 * );
 * ```
 */
export class CodecError extends WireframeBaseError {}

/**
 * A frame is longer than `maxFrameLength`. On decode it is raised as soon as
 * the length field is readable, before any body byte is buffered; on encode it
 * is raised before anything is written.
 */
export class FrameTooLargeError extends CodecError {
  /**
   * Length of the frame body: the bytes after the length field (the declared
   * length with `lengthAdjustment` applied). Above `Number.MAX_SAFE_INTEGER`
   * (only possible with an 8-byte length field) this is rounded; `message`
   * has the exact value.
   */
  readonly frameLength: number;
  /** The configured `maxFrameLength`. */
  readonly maxFrameLength: number;

  /**
   * Create the error; `frameLength` and `maxFrameLength` set the fields of
   * those names.
   *
   * @param exact exact decimal text of `frameLength` when it is not a safe integer
   */
  constructor(frameLength: number, maxFrameLength: number, exact?: string) {
    super(
      "ERR_FRAME_TOO_LARGE",
      `frame body of ${exact ?? frameLength} bytes exceeds maxFrameLength ${maxFrameLength}`,
    );
    this.frameLength = frameLength;
    this.maxFrameLength = maxFrameLength;
  }
}

/**
 * The length field plus `lengthAdjustment` gives a negative number of bytes
 * after the length field: the peer's framing is corrupt. On encode: the body is
 * shorter than a positive `lengthAdjustment`, so no length field value fits.
 */
export class InvalidFrameLengthError extends CodecError {
  /** Value of the length field as read (decode) or as it would be written (encode). */
  readonly lengthFieldValue: number;
  /** The configured `lengthAdjustment`. */
  readonly lengthAdjustment: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(lengthFieldValue: number, lengthAdjustment: number) {
    super(
      "ERR_INVALID_FRAME_LENGTH",
      `length field ${lengthFieldValue} with lengthAdjustment ${lengthAdjustment} gives ` +
        `${lengthFieldValue + lengthAdjustment} bytes after the length field (must be >= 0)`,
    );
    this.lengthFieldValue = lengthFieldValue;
    this.lengthAdjustment = lengthAdjustment;
  }
}

/** The input ended inside a frame header (before the length field was complete). */
export class IncompleteHeaderError extends CodecError {
  /** Bytes of the header that arrived. */
  readonly received: number;
  /** Bytes needed to read the length field (`lengthFieldOffset + lengthFieldLength`). */
  readonly headerLength: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(received: number, headerLength: number) {
    super(
      "ERR_INCOMPLETE_HEADER",
      `input ended inside a frame header: got ${received} of ${headerLength} header bytes`,
    );
    this.received = received;
    this.headerLength = headerLength;
  }
}

/** The input ended after a frame's header but before the end of its body. */
export class IncompleteFrameError extends CodecError {
  /** Bytes of the frame (header included) that arrived. */
  readonly received: number;
  /** Whole-frame length declared by the header. */
  readonly frameLength: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(received: number, frameLength: number) {
    super(
      "ERR_INCOMPLETE_FRAME",
      `input ended inside a frame: got ${received} of ${frameLength} bytes`,
    );
    this.received = received;
    this.frameLength = frameLength;
  }
}
