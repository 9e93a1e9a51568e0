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
 * {@link IncompleteHeaderError}, {@link IncompleteFrameError} (and its
 * {@link UnterminatedFrameError}), {@link DelimiterInFrameError}.
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
 * the limit is known to be broken: for length framing when the length field
 * is readable, before any body byte is buffered; for delimiter framing
 * (`LineCodec`, `DelimiterCodec`) once `maxFrameLength` plus the longest
 * delimiter's bytes have arrived without a delimiter. On encode it is raised
 * before anything is written.
 *
 * @example A line that never ends fails at the limit, not at the end of input
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameTooLargeError, LineCodec } from "@wireframe/wireframe/codec";
 *
 * const decoder = new LineCodec({ maxFrameLength: 8 }).createDecoder();
 * assert.throws(() => decoder.decode(new Uint8Array(100).fill(0x61), () => {}), (err) => {
 *   assert.ok(err instanceof FrameTooLargeError);
 *   assert.equal(err.message, "line of at least 9 bytes exceeds maxFrameLength 8");
 *   assert.equal(err.atLeast, true);
 *   return true;
 * });
 * ```
 */
export class FrameTooLargeError extends CodecError {
  /**
   * Length of the frame body: for length framing the bytes after the length
   * field (the declared length with `lengthAdjustment` applied), for
   * delimiter framing the bytes before the delimiter. A lower bound when
   * {@link FrameTooLargeError.atLeast} is true. Above
   * `Number.MAX_SAFE_INTEGER` (only possible with an 8-byte length field)
   * this is rounded; `message` has the exact value.
   */
  readonly frameLength: number;
  /** The configured `maxFrameLength`. */
  readonly maxFrameLength: number;
  /**
   * True when the decoder stopped at the limit without seeing the frame's end
   * (delimiter framing): the frame is at least `frameLength` bytes long.
   */
  readonly atLeast: boolean;

  /**
   * Create the error; `frameLength` and `maxFrameLength` set the fields of
   * those names.
   *
   * @param exact exact decimal text of `frameLength` when it is not a safe integer
   * @param options `frame`: what the message calls the frame (default
   *   `"frame body"`; the delimiter codecs say `"line"` or `"frame"`);
   *   `atLeast`: sets {@link FrameTooLargeError.atLeast}
   */
  constructor(
    frameLength: number,
    maxFrameLength: number,
    exact?: string,
    options?: { readonly frame?: string; readonly atLeast?: boolean },
  ) {
    const atLeast = options?.atLeast ?? false;
    super(
      "ERR_FRAME_TOO_LARGE",
      `${options?.frame ?? "frame body"} of ${atLeast ? "at least " : ""}${exact ?? frameLength} ` +
        `bytes exceeds maxFrameLength ${maxFrameLength}`,
    );
    this.frameLength = frameLength;
    this.maxFrameLength = maxFrameLength;
    this.atLeast = atLeast;
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

/**
 * The input ended after a frame's header but before the end of its body; for
 * delimiter framing, the subclass {@link UnterminatedFrameError}.
 */
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

/**
 * Delimiter framing (`LineCodec`, `DelimiterCodec`): the input ended after
 * some bytes of a frame but before its delimiter. An
 * {@link IncompleteFrameError} (same `code`, `ERR_INCOMPLETE_FRAME`), so code
 * that handles a peer hanging up mid-frame handles this too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IncompleteFrameError, LineCodec, UnterminatedFrameError } from "@wireframe/wireframe/codec";
 *
 * const decoder = new LineCodec().createDecoder();
 * decoder.decode(new TextEncoder().encode("QUIT"), () => {});
 * assert.throws(() => decoder.finish(), (err) => {
 *   assert.ok(err instanceof UnterminatedFrameError && err instanceof IncompleteFrameError);
 *   assert.equal(err.received, 4);
 *   assert.equal(err.message, 'input ended inside a line: got 4 bytes and no "\\r\\n" or "\\n"');
 *   return true;
 * });
 * ```
 */
export class UnterminatedFrameError extends IncompleteFrameError {
  /** The delimiters any of which would have ended the frame. */
  readonly delimiters: readonly Uint8Array[];

  /**
   * Create the error. No length is declared by delimiter framing, so the
   * inherited `frameLength` is the least the whole frame can be:
   * `received + 1` (at least the delimiter's last byte is missing).
   *
   * @param received bytes of the frame that arrived
   * @param delimiters sets the field of that name
   * @param frame what the message calls the frame, e.g. `"line"`
   */
  constructor(received: number, delimiters: readonly Uint8Array[], frame = "frame") {
    super(received, received + 1);
    this.message = `input ended inside a ${frame}: got ${received} bytes and no ` +
      delimiters.map(showBytes).join(" or ");
    this.delimiters = delimiters.map((d) => d.slice());
  }
}

/**
 * Encode with delimiter framing (`LineCodec`, `DelimiterCodec`): the frame
 * holds a delimiter, so the peer would read it as more than one frame (or,
 * for a frame ending in `\r` sent with a `"\n"` line ending, lose the `\r`).
 * Raised before anything is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DelimiterInFrameError, LineCodec } from "@wireframe/wireframe/codec";
 *
 * const codec = new LineCodec();
 * assert.throws(() => codec.encode(new TextEncoder().encode("two\nlines")), (err) => {
 *   assert.ok(err instanceof DelimiterInFrameError);
 *   assert.equal(err.code, "ERR_DELIMITER_IN_FRAME");
 *   assert.equal(err.index, 3);
 *   assert.equal(err.message, 'frame of 9 bytes holds the delimiter "\\n" at byte 3');
 *   return true;
 * });
 * ```
 */
export class DelimiterInFrameError extends CodecError {
  /** Where the delimiter starts, counted from the frame's first byte. */
  readonly index: number;
  /** The delimiter found. */
  readonly delimiter: Uint8Array;
  /** Length of the frame that was to be encoded (the delimiter not counted). */
  readonly frameLength: number;

  /**
   * Create the error; each argument sets the field of the same name.
   *
   * @param appended the delimiter encode appends, when `delimiter` overlaps it
   */
  constructor(index: number, delimiter: Uint8Array, frameLength: number, appended?: Uint8Array) {
    const at = `the delimiter ${showBytes(delimiter)} at byte ${index}`;
    super(
      "ERR_DELIMITER_IN_FRAME",
      index + delimiter.length <= frameLength || appended === undefined
        ? `frame of ${frameLength} bytes holds ${at}`
        : `frame of ${frameLength} bytes followed by ${showBytes(appended)} reads as ${at}`,
    );
    this.index = index;
    this.delimiter = delimiter;
    this.frameLength = frameLength;
  }
}

/** A delimiter as a message shows it: JSON string text if ASCII, else hex bytes. */
function showBytes(bytes: Uint8Array): string {
  if (bytes.every((b) => b < 0x80)) return JSON.stringify(String.fromCharCode(...bytes));
  return `<${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ")}>`;
}

/**
 * A variable-length (base-128) length field is corrupt: it is still
 * continuing after the most bytes the codec allows (MQTT: a fifth byte with
 * the continuation bit), or, on encode, a frame's length field does not say
 * its body's length. Raised by `VarintLengthCodec` before any body byte
 * is buffered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MalformedLengthError, VarintLengthCodec } from "@wireframe/wireframe/codec";
 *
 * const decoder = new VarintLengthCodec({ fixedHeaderLength: 1, maxLengthBytes: 4 }).createDecoder();
 * assert.throws(() => decoder.decode(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 1), () => {}), (err) => {
 *   assert.ok(err instanceof MalformedLengthError);
 *   assert.equal(err.code, "ERR_MALFORMED_LENGTH");
 *   assert.equal(err.message, "length field continues past 4 bytes");
 *   return true;
 * });
 * ```
 */
export class MalformedLengthError extends CodecError {
  /** The most length-field bytes allowed. */
  readonly maxLengthBytes: number;

  /**
   * Create the error; `maxLengthBytes` sets the field of that name.
   *
   * @param message what is wrong (default: the field continues past the limit)
   */
  constructor(maxLengthBytes: number, message?: string) {
    super("ERR_MALFORMED_LENGTH", message ?? `length field continues past ${maxLengthBytes} bytes`);
    this.maxLengthBytes = maxLengthBytes;
  }
}

/**
 * A frame's fixed header was refused by the codec's `checkHeader` (MQTT: a
 * reserved packet type, or flags its type does not allow), before any body
 * byte was buffered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidFrameHeaderError, VarintLengthCodec } from "@wireframe/wireframe/codec";
 *
 * const codec = new VarintLengthCodec({
 *   fixedHeaderLength: 1,
 *   checkHeader: (header) => header[0] === 0 ? "type 0 is reserved" : undefined,
 * });
 * assert.throws(() => codec.createDecoder().decode(Uint8Array.of(0, 0), () => {}), (err) => {
 *   assert.ok(err instanceof InvalidFrameHeaderError);
 *   assert.equal(err.message, "invalid frame header <00>: type 0 is reserved");
 *   return true;
 * });
 * ```
 */
export class InvalidFrameHeaderError extends CodecError {
  /** The header bytes (a copy). */
  readonly header: Uint8Array;
  /** Why `checkHeader` refused them. */
  readonly reason: string;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(header: Uint8Array, reason: string) {
    super("ERR_INVALID_FRAME_HEADER", `invalid frame header ${showHex(header)}: ${reason}`);
    this.header = header.slice();
    this.reason = reason;
  }
}

function showHex(bytes: Uint8Array): string {
  return `<${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ")}>`;
}
