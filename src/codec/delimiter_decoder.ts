/**
 * The decoding state of `DelimiterCodec` and `LineCodec`: zero-copy for
 * frames inside one chunk, one copy for frames that straddle chunks, every
 * byte scanned once, and never more than `maxFrameLength` plus the longest
 * delimiter's bytes held.
 *
 * @module
 */
import type { DelimiterSet } from "./delimiter_set.ts";
import { FrameTooLargeError, UnterminatedFrameError } from "./errors.ts";
import type { FrameDecoderState, FrameSpanSink } from "./types.ts";
import { concatBytes } from "../_internal/bytes.ts";

type FrameSink = (frame: Uint8Array) => void;

/** Copy the first `dst.length` bytes of `parts ++ tail` into `dst`. */
function gather(parts: readonly Uint8Array[], tail: Uint8Array, dst: Uint8Array): void {
  let at = 0;
  for (const part of parts) {
    const n = Math.min(part.length, dst.length - at);
    dst.set(n === part.length ? part : part.subarray(0, n), at);
    at += n;
    if (at === dst.length) return;
  }
  dst.set(tail.subarray(0, dst.length - at), at);
}

/** Per-stream decoding state; create with `createDecoder()` of either codec. */
export class DelimiterDecoder implements FrameDecoderState {
  readonly #set: DelimiterSet;
  /** Bytes of a frame that may be scanned: one more and it is too long whatever follows. */
  readonly #window: number;
  readonly #byteBefore = (k: number): number => this.#heldByteFromEnd(k);
  // Views of the chunks holding the current partial frame, every byte of which has been
  // scanned (no delimiter ends there): copied once, when the frame completes.
  #parts: Uint8Array[] = [];
  #held = 0;
  #failed = false;
  #error: unknown;
  /** stop() was called from emit: the decode call returns after this frame. */
  #stopping = false;
  /** What #parts holds is the undecoded rest of a chunk after a stop, not a partial frame. */
  #stopped = false;

  constructor(set: DelimiterSet) {
    this.#set = set;
    this.#window = set.maxFrameLength + set.longest;
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

  finish(): void {
    if (this.#failed) throw this.#error;
    if (this.#held === 0) return;
    throw this.#poison(
      new UnterminatedFrameError(this.#held, this.#set.delimiters, this.#set.noun),
    );
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
      this.#scan(chunk, emit, emitSpan);
    } catch (err) {
      throw this.#poison(err);
    }
  }

  // The current frame starts at chunk[pos], or, while `prefix` bytes are held, before
  // chunk[0]; every whole frame is emitted, the rest held.
  #scan(chunk: Uint8Array, emit: FrameSink | undefined, emitSpan: FrameSpanSink | undefined) {
    const set = this.#set;
    const { maxFrameLength: max, stripDelimiter: strip } = set;
    const len = chunk.length;
    let pos = 0;
    let prefix = this.#held;
    let from = 0; // next byte to look at
    while (true) {
      // Bytes of this frame up to `limit` may be scanned, and no further.
      const limit = pos + this.#window - prefix;
      const to = limit < len ? limit : len;
      let end = -1;
      let delimiter: Uint8Array | undefined;
      for (
        let q = set.nextCandidate(chunk, from, to);
        q >= 0;
        q = set.nextCandidate(chunk, q + 1, to)
      ) {
        delimiter = set.endingAt(chunk, q, pos, prefix + q - pos + 1, this.#byteBefore);
        if (delimiter !== undefined) {
          end = q + 1;
          break;
        }
      }
      if (delimiter === undefined) {
        if (to === limit) {
          // The window is full and holds no delimiter: the frame is at least max + 1 bytes.
          throw new FrameTooLargeError(max + 1, max, undefined, { frame: set.noun, atLeast: true });
        }
        if (pos < len) this.#hold(chunk.subarray(pos), prefix);
        return;
      }
      const frameLength = prefix + end - pos - delimiter.length;
      if (frameLength > max) {
        throw new FrameTooLargeError(frameLength, max, undefined, { frame: set.noun });
      }
      const size = strip ? frameLength : frameLength + delimiter.length;
      if (prefix === 0) {
        if (emitSpan !== undefined) emitSpan(chunk, pos, pos + size);
        // The constructor is markedly cheaper than subarray() on V8 (no species lookup).
        else emit!(new Uint8Array(chunk.buffer, chunk.byteOffset + pos, size));
      } else {
        const frame = new Uint8Array(size);
        gather(this.#parts, chunk, frame);
        this.#parts = [];
        this.#held = prefix = 0;
        if (emitSpan !== undefined) emitSpan(frame, 0, size);
        else emit!(frame);
      }
      if (end === len) return void (this.#stopping = false);
      if (this.#stopping) {
        this.#stopping = false;
        this.#parts = [chunk.subarray(end)];
        this.#held = len - end;
        this.#stopped = true;
        return;
      }
      pos = from = end;
    }
  }

  #hold(rest: Uint8Array, prefix: number): void {
    if (prefix === 0) this.#parts = [rest];
    else this.#parts.push(rest);
    this.#held = prefix + rest.length;
  }

  // The k-th held byte from the end (k >= 1); a delimiter is short, so this walks few parts.
  #heldByteFromEnd(k: number): number {
    const parts = this.#parts;
    for (let i = parts.length - 1; i >= 0; i--) {
      const part = parts[i]!;
      if (k <= part.length) return part[part.length - k]!;
      k -= part.length;
    }
    return -1; // not reached: callers ask for at most the bytes held
  }

  #poison(err: unknown): unknown {
    this.#failed = true;
    this.#error = err;
    this.#parts = [];
    this.#held = 0;
    return err;
  }
}
