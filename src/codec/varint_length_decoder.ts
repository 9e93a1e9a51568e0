/**
 * The decoding state of `VarintLengthCodec`: zero-copy for frames inside one
 * chunk, one copy for frames that straddle chunks.
 *
 * @module
 */
import {
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  InvalidFrameHeaderError,
  MalformedLengthError,
} from "./errors.ts";
import type { FrameDecoderState } from "./types.ts";
import { concatBytes } from "../_internal/bytes.ts";

/** The settings of a `VarintLengthCodec`, which implements this (declared here to avoid an import loop). */
export interface VarintFraming {
  /** Bytes of fixed header before the length field. */
  readonly fixedHeaderLength: number;
  /** Most bytes of the length field. */
  readonly maxLengthBytes: number;
  /** Largest body accepted. */
  readonly maxFrameLength: number;
  /** Refuses a header: returns why, or `undefined`. */
  readonly checkHeader:
    | ((header: Uint8Array, bodyLength: number) => string | undefined)
    | undefined;
}

type FrameSink = (frame: Uint8Array) => void;

const NEED_MORE = -1;

/** Per-stream decoding state; create with `VarintLengthCodec.createDecoder()`. */
export class VarintLengthDecoder implements FrameDecoderState {
  readonly #c: VarintFraming;
  // A partial frame: views of the chunks holding it, copied once on completion.
  #parts: Uint8Array[] = [];
  #held = 0;
  #frameLength = NEED_MORE; // of the partial frame, once its length field is read
  #error: unknown = undefined;
  #failed = false;
  /** stop() was called from emit: the decode call returns after this frame. */
  #stopping = false;
  /** What #parts holds is the undecoded rest of a chunk after a stop, not a partial frame. */
  #stopped = false;

  constructor(c: VarintFraming) {
    this.#c = c;
  }

  get buffered(): number {
    return this.#held;
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
    this.#frameLength = NEED_MORE;
    this.#stopped = this.#stopping = false;
    return bytes;
  }

  decode(chunk: Uint8Array, emit: FrameSink): void {
    if (this.#failed) throw this.#error;
    // The rest a stop left is decoded first, as the start of this chunk.
    if (this.#stopped) chunk = concatBytes([this.takeBuffered(), chunk]);
    if (chunk.length === 0) return;
    try {
      const pos = this.#held === 0 ? 0 : this.#resume(chunk, emit);
      if (pos >= 0) this.#scan(chunk, pos, emit);
    } catch (err) {
      this.#failed = true;
      this.#error = err;
      this.#parts = [];
      throw err;
    }
  }

  finish(): void {
    if (this.#failed) throw this.#error;
    if (this.#held === 0) return;
    const err = this.#frameLength < 0
      ? new IncompleteHeaderError(this.#held, this.#c.fixedHeaderLength + 1)
      : new IncompleteFrameError(this.#held, this.#frameLength);
    this.#failed = true;
    this.#error = err;
    this.#parts = [];
    throw err;
  }

  #scan(chunk: Uint8Array, pos: number, emit: FrameSink): void {
    const { buffer, byteOffset } = chunk;
    const len = chunk.length;
    while (pos < len) {
      const frameLength = this.#frameLengthAt(chunk, pos, len);
      if (frameLength === NEED_MORE || len - pos < frameLength) {
        this.#parts.push(chunk.subarray(pos));
        this.#held = len - pos;
        this.#frameLength = frameLength;
        return;
      }
      emit(new Uint8Array(buffer, byteOffset + pos, frameLength));
      pos += frameLength;
      if (this.#stopping) return this.#stopAt(chunk, pos);
    }
  }

  // After a stop: hold chunk[pos..] undecoded.
  #stopAt(chunk: Uint8Array, pos: number): void {
    this.#stopping = false;
    if (pos === chunk.length) return;
    this.#parts = [chunk.subarray(pos)];
    this.#held = chunk.length - pos;
    this.#stopped = true;
  }

  // Continue the held partial frame; returns where the rest of chunk starts, or -1.
  #resume(chunk: Uint8Array, emit: FrameSink): number {
    let frameLength = this.#frameLength;
    if (frameLength === NEED_MORE) {
      // The header is short (at most fixedHeaderLength + maxLengthBytes bytes): gather it.
      const limit = this.#c.fixedHeaderLength + this.#c.maxLengthBytes;
      const head = new Uint8Array(Math.min(limit, this.#held + chunk.length));
      this.#gather(head, chunk);
      frameLength = this.#frameLengthAt(head, 0, head.length);
      if (frameLength === NEED_MORE) {
        this.#absorb(chunk);
        return NEED_MORE;
      }
      this.#frameLength = frameLength;
    }
    const need = frameLength - this.#held;
    if (chunk.length < need) {
      this.#absorb(chunk);
      return NEED_MORE;
    }
    const frame = new Uint8Array(frameLength);
    this.#gather(frame, chunk);
    this.#parts = [];
    this.#held = 0;
    this.#frameLength = NEED_MORE;
    emit(frame);
    if (this.#stopping) return this.#stopAt(chunk, need), NEED_MORE;
    return need;
  }

  // Fill dst from the held parts, then from chunk.
  #gather(dst: Uint8Array, chunk: Uint8Array): void {
    let at = 0;
    for (const part of this.#parts) {
      const n = Math.min(part.length, dst.length - at);
      dst.set(part.subarray(0, n), at);
      at += n;
      if (at === dst.length) return;
    }
    dst.set(chunk.subarray(0, dst.length - at), at);
  }

  #absorb(chunk: Uint8Array): void {
    this.#parts.push(chunk);
    this.#held += chunk.length;
  }

  // The whole frame's length if its header and length field are in bytes[pos, end), else -1.
  // Checks the length and the header before any body byte is buffered.
  #frameLengthAt(bytes: Uint8Array, pos: number, end: number): number {
    const { fixedHeaderLength: h, maxLengthBytes: m } = this.#c;
    let at = pos + h;
    let value = 0;
    let scale = 1;
    for (;;) {
      if (at - pos - h >= m) throw new MalformedLengthError(m);
      if (at >= end) return NEED_MORE;
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) break;
    }
    if (value > this.#c.maxFrameLength) throw new FrameTooLargeError(value, this.#c.maxFrameLength);
    const check = this.#c.checkHeader;
    if (check !== undefined) {
      const header = bytes.subarray(pos, pos + h);
      const reason = check(header, value);
      if (reason !== undefined) throw new InvalidFrameHeaderError(header, reason);
    }
    return at - pos + value;
  }
}
