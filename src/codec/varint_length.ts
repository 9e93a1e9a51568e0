/**
 * Framing by a variable-length (base-128, little-endian groups of 7 bits)
 * length field after a fixed header: MQTT's fixed header and "remaining
 * length", protobuf's length-delimited streams (`fixedHeaderLength: 0`).
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { DEFAULT_MAX_FRAME_LENGTH } from "./length_delimited.ts";
import { FrameTooLargeError, InvalidFrameHeaderError, MalformedLengthError } from "./errors.ts";
import { VarintLengthDecoder } from "./varint_length_decoder.ts";
import type { FrameCodec, FrameDecoderState } from "./types.ts";

/**
 * Looks at a frame's fixed header (`fixedHeaderLength` bytes) and its declared
 * body length before any body byte is buffered; returns why the frame is
 * refused, or `undefined` to accept it. Called once per frame, on decode and
 * on encode.
 */
export type HeaderCheck = (header: Uint8Array, bodyLength: number) => string | undefined;

/** Options of {@link VarintLengthCodec}; all optional. */
export interface VarintLengthOptions {
  /** Bytes of fixed header before the length field, 0 to 16. Default 1 (MQTT). */
  fixedHeaderLength?: number;
  /** Most bytes of the length field, 1 to 5. Default 4 (MQTT: at most 268,435,455). */
  maxLengthBytes?: number;
  /**
   * Largest body (the bytes after the length field), 0 to 2^31-1 and at most
   * what `maxLengthBytes` can declare. Default 1 MiB, or that if it is smaller.
   */
  maxFrameLength?: number;
  /** Refuse frames by their header (see {@link HeaderCheck}). Default: accept all. */
  checkHeader?: HeaderCheck;
}

const schema = z.strictObject({
  fixedHeaderLength: intInRange(0, 16).default(1),
  maxLengthBytes: intInRange(1, 5).default(4),
  maxFrameLength: intInRange(0, 2 ** 31 - 1).optional(),
  checkHeader: z.custom<HeaderCheck>((v) => typeof v === "function", {
    error: "must be a function",
  }).optional(),
}).superRefine((o, ctx) => {
  const largest = varintMax(o.maxLengthBytes);
  if (o.maxFrameLength !== undefined && o.maxFrameLength > largest) {
    ctx.addIssue({
      code: "custom",
      path: ["maxFrameLength"],
      message:
        `must be at most ${largest}, the largest body ${o.maxLengthBytes} length bytes can declare`,
    });
  }
});

/** The largest value `bytes` base-128 bytes can hold. */
function varintMax(bytes: number): number {
  return 2 ** (7 * bytes) - 1;
}

/**
 * Bytes of the base-128 encoding of `value` (1 for 0 to 127, 2 up to
 * 16,383, and so on).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { varintLength } from "@wireframe/wireframe/codec";
 *
 * assert.deepEqual([0, 127, 128, 16_383, 16_384, 268_435_455].map(varintLength), [1, 1, 2, 2, 3, 4]);
 * ```
 */
export function varintLength(value: number): number {
  let bytes = 1;
  while (value > 127) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

/**
 * Write `value` in base-128 (low 7 bits first, the high bit set on every byte
 * but the last) into `target` at `offset`; returns the bytes written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeVarint } from "@wireframe/wireframe/codec";
 *
 * const out = new Uint8Array(2);
 * assert.equal(writeVarint(321, out, 0), 2);
 * assert.deepEqual(out, Uint8Array.of(0xc1, 0x02));
 * ```
 */
export function writeVarint(value: number, target: Uint8Array, offset: number): number {
  let at = offset;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    target[at++] = byte;
  } while (value > 0);
  return at - offset;
}

/**
 * Frames made of a fixed header, a base-128 length field and the body it
 * declares; MQTT's framing with the defaults. Frames are whole both ways: a
 * decoded frame holds its header, length field and body (a view into the
 * chunk when it arrived in one, one copy when it straddled chunks), and
 * `encode` takes a whole frame, checks that its length field says its body's
 * length, and writes it as it is (`writeVarint` and `varintLength` build one).
 *
 * A length field that continues past `maxLengthBytes` (`MalformedLengthError`),
 * a body longer than `maxFrameLength` (`FrameTooLargeError`), or a header that
 * `checkHeader` refuses (`InvalidFrameHeaderError`) fails as soon as the
 * length field has arrived, before any body byte is buffered.
 *
 * @example MQTT's fixed header: a PINGREQ and a PUBLISH in one chunk
 * ```ts
 * import assert from "node:assert/strict";
 * import { VarintLengthCodec } from "@wireframe/wireframe/codec";
 *
 * const codec = new VarintLengthCodec({ fixedHeaderLength: 1, maxLengthBytes: 4 });
 * const frames: number[][] = [];
 * const decoder = codec.createDecoder();
 * decoder.decode(Uint8Array.of(0xc0, 0, 0x30, 3, 0, 1, 0x61), (f) => frames.push([...f]));
 * decoder.finish(); // throws if the input ended inside a frame
 * assert.deepEqual(frames, [[0xc0, 0], [0x30, 3, 0, 1, 0x61]]);
 * assert.deepEqual(codec.encode(Uint8Array.of(0xd0, 0)), Uint8Array.of(0xd0, 0));
 * ```
 */
export class VarintLengthCodec implements FrameCodec {
  /** Bytes of fixed header before the length field. */
  readonly fixedHeaderLength: number;
  /** Most bytes of the length field. */
  readonly maxLengthBytes: number;
  /** Largest body accepted or written (header and length field not counted). */
  readonly maxFrameLength: number;
  /** The header check, if any. */
  readonly checkHeader: HeaderCheck | undefined;

  /**
   * Validate `options` and apply defaults.
   *
   * @param options see {@link VarintLengthOptions}
   * @throws {ConfigError} if an option is out of range
   */
  constructor(options?: VarintLengthOptions) {
    const o = parseOptions("VarintLengthCodec", schema, options);
    this.fixedHeaderLength = o.fixedHeaderLength;
    this.maxLengthBytes = o.maxLengthBytes;
    this.maxFrameLength = o.maxFrameLength ??
      Math.min(DEFAULT_MAX_FRAME_LENGTH, varintMax(o.maxLengthBytes));
    this.checkHeader = o.checkHeader;
  }

  /** Fresh decoding state for one byte stream. */
  createDecoder(): FrameDecoderState {
    return new VarintLengthDecoder(this);
  }

  /** `frame.length`, once the frame is checked as {@link VarintLengthCodec.encodeInto} does. */
  encodedLength(frame: Uint8Array): number {
    this.#check(frame);
    return frame.length;
  }

  /**
   * Check `frame` and copy it into `target` at `offset`; returns the bytes written.
   *
   * @throws {MalformedLengthError} if the length field is cut short, too long,
   *   or does not say the body's length
   * @throws {FrameTooLargeError} if the body is longer than `maxFrameLength`
   * @throws {InvalidFrameHeaderError} if `checkHeader` refuses the header
   * @throws {RangeError} if `target` has no room; nothing is written
   */
  encodeInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    this.#check(frame);
    if (!(offset >= 0 && offset + frame.length <= target.length)) {
      throw new RangeError(`encodeInto: ${frame.length} bytes do not fit at offset ${offset}`);
    }
    target.set(frame, offset);
    return frame.length;
  }

  /**
   * {@link VarintLengthCodec.encodeInto} without its checks, for a frame that
   * `encodedLength` accepted and that has not changed since: a frame writer
   * sizes each frame when it queues it, so the frame is checked once.
   */
  encodeCheckedInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    target.set(frame, offset);
    return frame.length;
  }

  /** A checked copy of `frame`. Throws as {@link VarintLengthCodec.encodeInto}. */
  encode(frame: Uint8Array): Uint8Array {
    this.#check(frame);
    return frame.slice();
  }

  #check(frame: Uint8Array): void {
    const h = this.fixedHeaderLength;
    let value = 0;
    let scale = 1;
    let at = h;
    for (;;) {
      if (at >= frame.length) {
        throw new MalformedLengthError(this.maxLengthBytes, "frame ends inside its length field");
      }
      if (at - h >= this.maxLengthBytes) throw new MalformedLengthError(this.maxLengthBytes);
      const byte = frame[at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) break;
    }
    if (value > this.maxFrameLength) throw new FrameTooLargeError(value, this.maxFrameLength);
    if (value !== frame.length - at) {
      throw new MalformedLengthError(
        this.maxLengthBytes,
        `length field says ${value} body bytes, the frame has ${frame.length - at}`,
      );
    }
    const reason = this.checkHeader?.(frame.subarray(0, h), value);
    if (reason !== undefined) throw new InvalidFrameHeaderError(frame.subarray(0, h), reason);
  }
}
