/**
 * The decoding state of {@link LengthDelimitedCodec}: zero-copy for frames
 * inside one chunk, one copy for frames that straddle chunks.
 *
 * @module
 */
import {
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  InvalidFrameLengthError,
} from "./errors.ts";
import type { FrameDecoderState, FrameSpanSink } from "./types.ts";
import { concatBytes } from "../_internal/bytes.ts";

/**
 * Where a frame's length is and what it counts: the settings of a
 * `LengthDelimitedCodec`, which implements this (declared here so the
 * decoder does not import its codec back).
 */
export interface LengthFieldLayout {
  /** Size of the length field in bytes. */
  readonly lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  /** Byte order of the length field. */
  readonly byteOrder: "big" | "little";
  /** Bytes before the length field. */
  readonly lengthFieldOffset: number;
  /** Added to the length field value to get the bytes after it. */
  readonly lengthAdjustment: number;
  /** Bytes stripped from the start of each decoded frame. */
  readonly initialBytesToStrip: number;
  /** Largest frame body accepted. */
  readonly maxFrameLength: number;
}

type FrameSink = (frame: Uint8Array) => void;

type LengthReader = (view: DataView, at: number) => number;

// Reads the 8-byte field as two words rather than getBigUint64: no BigInt per
// frame, and the float result still orders correctly against maxFrameLength.
// One function per layout, shared by every decoder (a decoder is made per
// connection).
const BIG_ENDIAN: Readonly<Record<1 | 2 | 3 | 4 | 8, LengthReader>> = {
  1: (v, at) => v.getUint8(at),
  2: (v, at) => v.getUint16(at),
  3: (v, at) => v.getUint16(at) * 0x100 + v.getUint8(at + 2),
  4: (v, at) => v.getUint32(at),
  8: (v, at) => v.getUint32(at) * 2 ** 32 + v.getUint32(at + 4),
};
const LITTLE_ENDIAN: Readonly<Record<1 | 2 | 3 | 4 | 8, LengthReader>> = {
  1: (v, at) => v.getUint8(at),
  2: (v, at) => v.getUint16(at, true),
  3: (v, at) => v.getUint16(at, true) + v.getUint8(at + 2) * 0x10000,
  4: (v, at) => v.getUint32(at, true),
  8: (v, at) => v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true),
};

/**
 * Where a length field that straddles chunks is gathered, and read at once:
 * it is never held across calls, so one buffer serves every decoder.
 */
const straddling = new ArrayBuffer(8);
const straddlingView = new DataView(straddling);
const straddlingField: Readonly<Record<1 | 2 | 3 | 4 | 8, Uint8Array>> = {
  1: new Uint8Array(straddling, 0, 1),
  2: new Uint8Array(straddling, 0, 2),
  3: new Uint8Array(straddling, 0, 3),
  4: new Uint8Array(straddling, 0, 4),
  8: new Uint8Array(straddling, 0, 8),
};

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

/** Per-stream decoding state; create with `LengthDelimitedCodec.createDecoder()`. */
export class LengthDelimitedDecoder implements FrameDecoderState {
  readonly #c: LengthFieldLayout;
  readonly #read: LengthReader;
  readonly #header: number;
  readonly #strip: number;
  readonly #fieldMax: number; // largest field value within maxFrameLength
  // Views of the chunks holding the current partial frame: copied once, on completion.
  #parts: Uint8Array[] = [];
  #held = 0;
  #frameLength = -1; // of the partial frame, once its length field has been read
  #failed = false;
  #error: unknown;
  /** stop() was called from emit: the decode call returns after this frame. */
  #stopping = false;
  /** What #parts holds is the undecoded rest of a chunk after a stop, not a partial frame. */
  #stopped = false;

  constructor(c: LengthFieldLayout) {
    this.#c = c;
    this.#read = (c.byteOrder === "little" ? LITTLE_ENDIAN : BIG_ENDIAN)[c.lengthFieldLength];
    this.#header = c.lengthFieldOffset + c.lengthFieldLength;
    this.#strip = c.initialBytesToStrip;
    this.#fieldMax = c.maxFrameLength - c.lengthAdjustment;
  }

  get buffered(): number {
    return this.#held;
  }

  decode(chunk: Uint8Array, emit: FrameSink): void {
    this.#decode(chunk, emit, undefined);
  }

  decodeSpans(chunk: Uint8Array, emit: FrameSpanSink): void {
    this.#decode(chunk, undefined, emit);
  }

  stop(): void {
    this.#stopping = true;
  }

  takeBuffered(): Uint8Array {
    if (this.#failed) throw this.#error;
    const parts = this.#parts;
    const bytes = parts.length === 1 ? parts[0]! : concatBytes(parts);
    this.#parts = [];
    this.#held = 0;
    this.#frameLength = -1;
    this.#stopped = this.#stopping = false;
    return bytes;
  }

  // Exactly one of `emit` (views) and `emitSpan` (spans) is given.
  #decode(chunk: Uint8Array, emit: FrameSink | undefined, emitSpan: FrameSpanSink | undefined) {
    if (this.#failed) throw this.#error;
    // The rest a stop left is decoded first, as the start of this chunk.
    if (this.#stopped) chunk = concatBytes([this.takeBuffered(), chunk]);
    if (chunk.length === 0) return;
    try {
      const pos = this.#held === 0 ? 0 : this.#resume(chunk, emit, emitSpan);
      if (pos >= 0) this.#scan(chunk, pos, emit, emitSpan);
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
  #scan(
    chunk: Uint8Array,
    pos: number,
    emit: FrameSink | undefined,
    emitSpan: FrameSpanSink | undefined,
  ): void {
    const len = chunk.length;
    if (len - pos >= this.#header) {
      const { buffer, byteOffset } = chunk;
      const view = new DataView(buffer, byteOffset, len);
      do {
        const frameLength = this.#frameLengthAt(view, pos + this.#c.lengthFieldOffset);
        if (len - pos < frameLength) return this.#hold(chunk.subarray(pos), frameLength);
        if (emitSpan !== undefined) {
          emitSpan(chunk, pos + this.#strip, pos + frameLength);
        } else {
          // The constructor is markedly cheaper than subarray() on V8 (no species lookup).
          emit!(new Uint8Array(buffer, byteOffset + pos + this.#strip, frameLength - this.#strip));
        }
        pos += frameLength;
        if (this.#stopping) return this.#stopAt(chunk, pos);
      } while (len - pos >= this.#header);
    }
    if (pos < len) this.#hold(chunk.subarray(pos), -1);
  }

  // Continue the held partial frame; returns where the rest of chunk starts, or -1.
  #resume(
    chunk: Uint8Array,
    emit: FrameSink | undefined,
    emitSpan: FrameSpanSink | undefined,
  ): number {
    let frameLength = this.#frameLength;
    if (frameLength < 0) {
      if (this.#held + chunk.length < this.#header) return this.#absorb(chunk);
      gather(
        this.#parts,
        chunk,
        this.#c.lengthFieldOffset,
        straddlingField[this.#c.lengthFieldLength],
      );
      frameLength = this.#frameLength = this.#frameLengthAt(straddlingView, 0);
    }
    const need = frameLength - this.#held;
    if (chunk.length < need) return this.#absorb(chunk);
    const frame = new Uint8Array(frameLength - this.#strip);
    gather(this.#parts, chunk, this.#strip, frame);
    this.#parts = [];
    this.#held = 0;
    this.#frameLength = -1;
    if (emitSpan !== undefined) emitSpan(frame, 0, frame.length);
    else emit!(frame);
    if (this.#stopping) return this.#stopAt(chunk, need), -1;
    return need;
  }

  // After a stop: hold chunk[pos..] undecoded.
  #stopAt(chunk: Uint8Array, pos: number): void {
    this.#stopping = false;
    if (pos === chunk.length) return;
    this.#parts = [chunk.subarray(pos)];
    this.#held = chunk.length - pos;
    this.#stopped = true;
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
      const bodyLength = adjust + field;
      const exact = Number.isSafeInteger(bodyLength)
        ? undefined
        : String(view.getBigUint64(at, byteOrder === "little") + BigInt(adjust));
      throw new FrameTooLargeError(bodyLength, max, exact);
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
