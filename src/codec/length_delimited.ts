/**
 * Length-delimited framing with the option set of Netty's
 * `LengthFieldBasedFrameDecoder`; `docs/codec.md` has the wire semantics.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../error.ts";
import { intInRange, oneOf, parseOptions } from "../_internal/options.ts";
import {
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  InvalidFrameLengthError,
} from "./errors.ts";
import type { FrameCodec, FrameDecoderState } from "./types.ts";

/** Default `maxFrameLength`: 1 MiB, counted over the whole frame (header included). */
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
   * Largest whole frame, as Netty counts it: `lengthFieldOffset + lengthFieldLength
   * + field value + lengthAdjustment` (before stripping). 1 to 2^31-1 and at most
   * what the length field can declare. Default 1 MiB, or that if it is smaller.
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
  const smallest = header + Math.max(0, o.lengthAdjustment);
  const largest = header + fieldMax + o.lengthAdjustment;
  const max = o.maxFrameLength;
  const fail = (option: string, rule: string) =>
    ctx.addIssue({ code: "custom", path: [option], message: `must be ${rule}` });
  const stripRule = `an integer from 0 to ${header} (lengthFieldOffset + lengthFieldLength)`;
  if ((o.initialBytesToStrip ?? 0) > header) fail("initialBytesToStrip", stripRule);
  const bits = `a ${o.lengthFieldLength}-byte length field`;
  if (largest < smallest) fail("lengthAdjustment", `at least ${-fieldMax} with ${bits}`);
  else if (max !== undefined && max < smallest) {
    fail("maxFrameLength", `at least ${smallest} (offset + length field + max(0, adjustment))`);
  } else if (max !== undefined && max > largest) {
    fail("maxFrameLength", `at most ${largest}, the largest frame ${bits} can declare`);
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
 * import { LengthDelimitedCodec } from "@wireframe/wireframe";
 *
 * const codec = new LengthDelimitedCodec({ maxFrameLength: 64 * 1024 });
 * const wire = codec.encode(new TextEncoder().encode("hi")); // 00 00 00 02 68 69
 * const decoder = codec.createDecoder();
 * decoder.decode(wire, (body) => console.log(new TextDecoder().decode(body))); // "hi"
 * decoder.finish();
 * ```
 */
export class LengthDelimitedCodec implements FrameCodec {
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
  /** Largest whole frame accepted (header included, before stripping). */
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
    const largest = header + 2 ** (8 * o.lengthFieldLength) - 1 + o.lengthAdjustment;
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

  /** `lengthFieldLength + frame.length`. */
  encodedLength(frame: Uint8Array): number {
    this.#assertCanEncode();
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
    const field = this.#fieldFor(frame);
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
    const field = this.#fieldFor(frame);
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

  #fieldFor(frame: Uint8Array): number {
    this.#assertCanEncode();
    const total = this.lengthFieldLength + frame.length;
    if (total > this.maxFrameLength) throw new FrameTooLargeError(total, this.maxFrameLength);
    const field = frame.length - this.lengthAdjustment;
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

type LengthReader = (view: DataView, at: number) => number;

// Reads the 8-byte field as two words rather than getBigUint64: no BigInt per
// frame, and the float result still orders correctly against maxFrameLength.
function lengthReader(size: 1 | 2 | 3 | 4 | 8, little: boolean): LengthReader {
  if (size === 1) return (v, at) => v.getUint8(at);
  if (size === 2) return (v, at) => v.getUint16(at, little);
  if (size === 4) return (v, at) => v.getUint32(at, little);
  if (size === 3) {
    return little
      ? (v, at) => v.getUint16(at, true) + v.getUint8(at + 2) * 0x10000
      : (v, at) => v.getUint16(at) * 0x100 + v.getUint8(at + 2);
  }
  return little
    ? (v, at) => v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true)
    : (v, at) => v.getUint32(at) * 2 ** 32 + v.getUint32(at + 4);
}

/** Copy `dst.length - at` bytes starting `skip` bytes into `parts ++ tail`. */
function gather(parts: readonly Uint8Array[], tail: Uint8Array, skip: number, dst: Uint8Array) {
  let at = 0;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    const n = Math.min(part.length - skip, dst.length - at);
    dst.set(part.subarray(skip, skip + n), at);
    at += n;
    skip = 0;
    if (at === dst.length) return;
  }
  dst.set(tail.subarray(skip, skip + dst.length - at), at);
}

class LengthDelimitedDecoder implements FrameDecoderState {
  readonly #c: LengthDelimitedCodec;
  readonly #read: LengthReader;
  readonly #header: number;
  readonly #strip: number;
  readonly #fieldMax: number; // largest field value within maxFrameLength
  readonly #field: Uint8Array; // a straddling length field is gathered here
  readonly #fieldView: DataView;
  // Views of the chunks holding the current partial frame: copied once, on completion.
  #parts: Uint8Array[] = [];
  #held = 0;
  #frameLength = -1; // of the partial frame, once its length field has been read
  #failed = false;
  #error: unknown;

  constructor(c: LengthDelimitedCodec) {
    this.#c = c;
    this.#read = lengthReader(c.lengthFieldLength, c.byteOrder === "little");
    this.#header = c.lengthFieldOffset + c.lengthFieldLength;
    this.#strip = c.initialBytesToStrip;
    this.#fieldMax = c.maxFrameLength - this.#header - c.lengthAdjustment;
    this.#field = new Uint8Array(c.lengthFieldLength);
    this.#fieldView = new DataView(this.#field.buffer);
  }

  get buffered(): number {
    return this.#held;
  }

  decode(chunk: Uint8Array, emit: (frame: Uint8Array) => void): void {
    if (this.#failed) throw this.#error;
    if (chunk.length === 0) return;
    try {
      const pos = this.#held === 0 ? 0 : this.#resume(chunk, emit);
      if (pos >= 0) this.#scan(chunk, pos, emit);
    } catch (err) {
      throw this.#poison(err);
    }
  }

  finish(): void {
    if (this.#failed) throw this.#error;
    if (this.#held === 0) return;
    const err = this.#frameLength < 0
      ? new IncompleteHeaderError(this.#held, this.#header)
      : new IncompleteFrameError(this.#held, this.#frameLength);
    throw this.#poison(err);
  }

  // Every whole frame in chunk[pos..] is emitted as a view; the remainder is held.
  #scan(chunk: Uint8Array, pos: number, emit: (frame: Uint8Array) => void): void {
    const len = chunk.length;
    if (len - pos >= this.#header) {
      const { buffer, byteOffset } = chunk;
      const view = new DataView(buffer, byteOffset, len);
      do {
        const frameLength = this.#frameLengthAt(view, pos + this.#c.lengthFieldOffset);
        if (len - pos < frameLength) return this.#hold(chunk.subarray(pos), frameLength);
        // The constructor is markedly cheaper than subarray() on V8 (no species lookup).
        emit(new Uint8Array(buffer, byteOffset + pos + this.#strip, frameLength - this.#strip));
        pos += frameLength;
      } while (len - pos >= this.#header);
    }
    if (pos < len) this.#hold(chunk.subarray(pos), -1);
  }

  // Continue the held partial frame; returns where the rest of chunk starts, or -1.
  #resume(chunk: Uint8Array, emit: (frame: Uint8Array) => void): number {
    let frameLength = this.#frameLength;
    if (frameLength < 0) {
      if (this.#held + chunk.length < this.#header) return this.#absorb(chunk);
      gather(this.#parts, chunk, this.#c.lengthFieldOffset, this.#field);
      frameLength = this.#frameLength = this.#frameLengthAt(this.#fieldView, 0);
    }
    const need = frameLength - this.#held;
    if (chunk.length < need) return this.#absorb(chunk);
    const frame = new Uint8Array(frameLength - this.#strip);
    gather(this.#parts, chunk, this.#strip, frame);
    this.#parts = [];
    this.#held = 0;
    this.#frameLength = -1;
    emit(frame);
    return need;
  }

  #absorb(chunk: Uint8Array): -1 {
    this.#parts.push(chunk);
    this.#held += chunk.length;
    return -1;
  }

  #hold(rest: Uint8Array, frameLength: number): void {
    this.#parts.push(rest);
    this.#held = rest.length;
    this.#frameLength = frameLength;
  }

  // Checks the declared length before any body byte is buffered.
  #frameLengthAt(view: DataView, at: number): number {
    const field = this.#read(view, at);
    const { lengthAdjustment: adjust, maxFrameLength: max, byteOrder } = this.#c;
    if (field > this.#fieldMax) {
      const frameLength = this.#header + adjust + field;
      const exact = Number.isSafeInteger(frameLength)
        ? undefined
        : String(view.getBigUint64(at, byteOrder === "little") + BigInt(this.#header + adjust));
      throw new FrameTooLargeError(frameLength, max, exact);
    }
    if (field < -adjust) throw new InvalidFrameLengthError(field, adjust);
    return this.#header + adjust + field;
  }

  #poison(err: unknown): unknown {
    this.#failed = true;
    this.#error = err;
    this.#parts = [];
    return err;
  }
}
