/**
 * Length-delimited framing with the option set of Netty's
 * `LengthFieldBasedFrameDecoder`; `docs/codec.md` has the wire semantics.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../error.ts";
import { intInRange, oneOf, parseOptions } from "../_internal/options.ts";
import { FrameTooLargeError, InvalidFrameLengthError } from "./errors.ts";
import { LengthDelimitedDecoder, type LengthFieldLayout } from "./length_delimited_decoder.ts";
import type { FrameCodec, FrameDecoderState } from "./types.ts";

/**
 * Default `maxFrameLength`: 1 MiB of frame body — the bytes after the length
 * field, i.e. the declared length with `lengthAdjustment` applied (DESIGN.md
 * §5; tokio's `max_frame_length`).
 */
export const DEFAULT_MAX_FRAME_LENGTH = 1_048_576;

const MAX_FRAME_LIMIT = 2 ** 31 - 1;
const MAX_SHIFT = 65_535; // bounds lengthFieldOffset and |lengthAdjustment|

/**
 * Options of {@link LengthDelimitedCodec}; all optional. A frame on the wire is
 * `[lengthFieldOffset bytes][length field][field value + lengthAdjustment bytes]`.
 */
export interface LengthDelimitedOptions {
  /** Size of the length field in bytes: 1, 2, 3, 4 or 8. Default 4. */
  lengthFieldLength?: 1 | 2 | 3 | 4 | 8;
  /** Byte order of the length field. Default `"big"`. */
  byteOrder?: "big" | "little";
  /** Bytes before the length field, 0 to 65535 (encoding requires 0). Default 0. */
  lengthFieldOffset?: number;
  /**
   * Added to the length field value to get the number of bytes after the length
   * field, -65535 to 65535 (`-4` if a 4-byte length counts itself). Default 0.
   */
  lengthAdjustment?: number;
  /**
   * Bytes stripped from the start of each decoded frame, 0 to the header length
   * `lengthFieldOffset + lengthFieldLength`, which is the default (0 keeps all).
   */
  initialBytesToStrip?: number;
  /**
   * Largest frame body: the bytes after the length field, `field value +
   * lengthAdjustment` (DESIGN.md §5's declared length; tokio's
   * `max_frame_length`). 1 to 2^31-1 and at most what the length field can
   * declare. Default 1 MiB, or that if it is smaller.
   */
  maxFrameLength?: number;
}

const schema = z.strictObject({
  lengthFieldLength: oneOf([1, 2, 3, 4, 8]).default(4),
  byteOrder: oneOf(["big", "little"]).default("big"),
  lengthFieldOffset: intInRange(0, MAX_SHIFT).default(0),
  lengthAdjustment: intInRange(-MAX_SHIFT, MAX_SHIFT).default(0),
  initialBytesToStrip: intInRange(0, MAX_SHIFT + 8).optional(),
  maxFrameLength: intInRange(1, MAX_FRAME_LIMIT).optional(),
}).superRefine((o, ctx) => {
  const header = o.lengthFieldOffset + o.lengthFieldLength;
  const fieldMax = 2 ** (8 * o.lengthFieldLength) - 1;
  const smallest = Math.max(0, o.lengthAdjustment);
  const largest = fieldMax + o.lengthAdjustment;
  const max = o.maxFrameLength;
  const fail = (option: string, rule: string) =>
    ctx.addIssue({ code: "custom", path: [option], message: `must be ${rule}` });
  const stripRule = `an integer from 0 to ${header} (lengthFieldOffset + lengthFieldLength)`;
  if ((o.initialBytesToStrip ?? 0) > header) fail("initialBytesToStrip", stripRule);
  const bits = `a ${o.lengthFieldLength}-byte length field`;
  if (largest < smallest) fail("lengthAdjustment", `at least ${-fieldMax} with ${bits}`);
  else if (max !== undefined && max < smallest) {
    fail("maxFrameLength", `at least ${smallest} (lengthAdjustment)`);
  } else if (max !== undefined && max > largest) {
    fail("maxFrameLength", `at most ${largest}, the largest body ${bits} can declare`);
  }
});

const OWNER = "LengthDelimitedCodec";

/**
 * Length-prefixed framing, Netty/tokio style. Frames within one chunk decode
 * as views (no copy); frames that straddle chunks are copied once, when they
 * complete. Bad declared lengths fail as soon as the length field is readable.
 *
 * @example Default: 4-byte big-endian length, then the body
 * ```ts
 * import assert from "node:assert/strict";
 * import { LengthDelimitedCodec } from "@wireframe/wireframe/codec";
 *
 * const codec = new LengthDelimitedCodec({ maxFrameLength: 64 * 1024 });
 * const wire = codec.encode(new TextEncoder().encode("hi"));
 * assert.deepEqual(wire, Uint8Array.of(0, 0, 0, 2, 0x68, 0x69));
 *
 * const decoder = codec.createDecoder();
 * const bodies: string[] = [];
 * decoder.decode(wire, (body) => bodies.push(new TextDecoder().decode(body)));
 * decoder.finish(); // throws if input ended inside a frame
 * assert.deepEqual(bodies, ["hi"]);
 * ```
 */
export class LengthDelimitedCodec implements FrameCodec, LengthFieldLayout {
  /** Size of the length field in bytes. */
  readonly lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  /** Byte order of the length field. */
  readonly byteOrder: "big" | "little";
  /** Bytes before the length field (0 for a codec that can encode). */
  readonly lengthFieldOffset: number;
  /** Added to the length field value to get the bytes after it. */
  readonly lengthAdjustment: number;
  /** Bytes stripped from the start of each decoded frame. */
  readonly initialBytesToStrip: number;
  /** Largest frame body accepted or written (the header not counted). */
  readonly maxFrameLength: number;

  /**
   * Validate `options` and apply defaults.
   *
   * @param options framing options; see {@link LengthDelimitedOptions}
   * @throws {ConfigError} if an option is out of range or options conflict
   */
  constructor(options?: LengthDelimitedOptions) {
    const o = parseOptions(OWNER, schema, options);
    const header = o.lengthFieldOffset + o.lengthFieldLength;
    const largest = 2 ** (8 * o.lengthFieldLength) - 1 + o.lengthAdjustment;
    this.lengthFieldLength = o.lengthFieldLength;
    this.byteOrder = o.byteOrder;
    this.lengthFieldOffset = o.lengthFieldOffset;
    this.lengthAdjustment = o.lengthAdjustment;
    this.initialBytesToStrip = o.initialBytesToStrip ?? header;
    this.maxFrameLength = o.maxFrameLength ?? Math.min(DEFAULT_MAX_FRAME_LENGTH, largest);
  }

  /** Fresh decoding state for one byte stream. */
  createDecoder(): FrameDecoderState {
    return new LengthDelimitedDecoder(this);
  }

  /**
   * `lengthFieldLength + frame.length`. Throws as {@link encodeInto} for a
   * frame that cannot be sent.
   */
  encodedLength(frame: Uint8Array): number {
    this.#fieldFor(frame.length);
    return this.lengthFieldLength + frame.length;
  }

  /**
   * Write the length field (`frame.length - lengthAdjustment`) and `frame` into
   * `target` at `offset`; returns the bytes written.
   *
   * @throws {FrameTooLargeError} if the encoded frame would exceed `maxFrameLength`
   * @throws {InvalidFrameLengthError} if `frame` is shorter than a positive `lengthAdjustment`
   * @throws {RangeError} if `target` has no room; nothing is written
   */
  encodeInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    const field = this.#fieldFor(frame.length);
    const total = this.lengthFieldLength + frame.length;
    if (!(offset >= 0 && offset + total <= target.length)) {
      throw new RangeError(`encodeInto: ${total} bytes do not fit at offset ${offset}`);
    }
    writeUint(target, offset, field, this.lengthFieldLength, this.byteOrder === "little");
    target.set(frame, offset + this.lengthFieldLength);
    return total;
  }

  /** Encode `frame` into a new buffer: length field, then body. Throws as {@link encodeInto}. */
  encode(frame: Uint8Array): Uint8Array {
    const field = this.#fieldFor(frame.length);
    const out = new Uint8Array(this.lengthFieldLength + frame.length);
    writeUint(out, 0, field, this.lengthFieldLength, this.byteOrder === "little");
    out.set(frame, this.lengthFieldLength);
    return out;
  }

  #assertCanEncode(): void {
    if (this.lengthFieldOffset === 0) return;
    const rule = `must be 0 to encode (got ${this.lengthFieldOffset})`;
    throw new ConfigError("lengthFieldOffset", `${OWNER}: option "lengthFieldOffset" ${rule}`);
  }

  /**
   * Header bytes for a body of `bodyLength` bytes, for writers that encode
   * bodies in place. Throws as {@link encodeInto} for a body that cannot be sent.
   */
  headerLength(bodyLength: number): number {
    this.#fieldFor(bodyLength);
    return this.lengthFieldLength;
  }

  /** Write only the length field for a body of `bodyLength` bytes; returns bytes written. */
  encodeHeaderInto(bodyLength: number, target: Uint8Array, offset: number): number {
    const field = this.#fieldFor(bodyLength);
    writeUint(target, offset, field, this.lengthFieldLength, this.byteOrder === "little");
    return this.lengthFieldLength;
  }

  #fieldFor(bodyLength: number): number {
    this.#assertCanEncode();
    if (bodyLength > this.maxFrameLength) {
      throw new FrameTooLargeError(bodyLength, this.maxFrameLength);
    }
    const field = bodyLength - this.lengthAdjustment;
    if (field < 0) throw new InvalidFrameLengthError(field, this.lengthAdjustment);
    return field;
  }
}

// value <= maxFrameLength < 2^31, so hi is 0 today; computing it keeps 8-byte writes honest.
function writeUint(t: Uint8Array, at: number, value: number, size: number, little: boolean) {
  const hi = size === 8 ? Math.floor(value / 2 ** 32) : 0;
  for (let i = 0; i < size; i++) {
    const byte = i < 4 ? value >>> (8 * i) : hi >>> (8 * (i - 4));
    t[little ? at + i : at + size - 1 - i] = byte; // Uint8Array stores the low 8 bits
  }
}
