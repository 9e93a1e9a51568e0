/**
 * The framing rules `DelimiterCodec` and `LineCodec` share: where a frame
 * ends, how long it may be, and whether a frame can be sent with the
 * delimiter appended and read back whole.
 *
 * @module
 */
import { DelimiterInFrameError, FrameTooLargeError } from "./errors.ts";

/** The k-th byte before the first byte a scan sees (k >= 1): bytes held from earlier chunks. */
export type ByteBefore = (k: number) => number;

/** Up to this many bytes, `nextCandidate` loops in JS instead of calling `indexOf` (bench/codec_bench.ts). */
const SHORT_SCAN = 64;

/**
 * Delimiters compiled for matching, with the rules of one codec. Where a
 * frame ends: at the first byte that completes any delimiter; if several end
 * there, the longest is the one (so `\r\n` wins over `\n`). That rule needs no
 * look-ahead, so a frame ends at the same byte however the input is chunked.
 */
export class DelimiterSet {
  /** The delimiters in the order given; encode appends {@link DelimiterSet.appended}. */
  readonly delimiters: readonly Uint8Array[];
  /** What encode appends to every frame. */
  readonly appended: Uint8Array;
  /** Largest frame, delimiter not counted. */
  readonly maxFrameLength: number;
  /** Whether decoded frames leave out their delimiter. */
  readonly stripDelimiter: boolean;
  /** What error messages call a frame: `"line"` or `"frame"`. */
  readonly noun: string;
  /** Bytes of the longest delimiter. */
  readonly longest: number;
  /** The byte every delimiter ends with, or -1 if they end with different bytes. */
  readonly #lastByte: number;
  /** Per byte value: the delimiters ending with it, longest first. */
  readonly #endingWith: (readonly Uint8Array[] | undefined)[];

  constructor(
    delimiters: readonly Uint8Array[],
    appended: Uint8Array,
    maxFrameLength: number,
    stripDelimiter: boolean,
    noun: string,
  ) {
    this.delimiters = delimiters;
    this.appended = appended;
    this.maxFrameLength = maxFrameLength;
    this.stripDelimiter = stripDelimiter;
    this.noun = noun;
    this.longest = Math.max(...delimiters.map((d) => d.length));
    const endingWith: Uint8Array[][] = [];
    for (const d of [...delimiters].sort((a, b) => b.length - a.length)) {
      (endingWith[d[d.length - 1]!] ??= []).push(d);
    }
    this.#endingWith = Array.from({ length: 256 }, (_, b) => endingWith[b]);
    const lasts = new Set(delimiters.map((d) => d[d.length - 1]!));
    this.#lastByte = lasts.size === 1 ? [...lasts][0]! : -1;
  }

  /**
   * Index in `[from, to)` of the next byte that ends some delimiter, or -1.
   * Native `indexOf` when every delimiter ends with the same byte (lines).
   */
  nextCandidate(bytes: Uint8Array, from: number, to: number): number {
    const last = this.#lastByte;
    if (last >= 0) {
      // A native call costs more than a short loop: lines to send are often short.
      if (to - from <= SHORT_SCAN) {
        for (let i = from; i < to; i++) if (bytes[i] === last) return i;
        return -1;
      }
      const at = bytes.indexOf(last, from);
      return at >= 0 && at < to ? at : -1;
    }
    const endingWith = this.#endingWith;
    for (let i = from; i < to; i++) if (endingWith[bytes[i]!] !== undefined) return i;
    return -1;
  }

  /**
   * The longest delimiter that ends at `bytes[p]`, if any. `avail` is
   * how many bytes of the current frame end at `p` (`p` included): a longer
   * delimiter cannot match. Bytes of the frame before `bytes[start]` are read
   * with `before`.
   */
  endingAt(
    bytes: Uint8Array,
    p: number,
    start: number,
    avail: number,
    before: ByteBefore | undefined,
  ): Uint8Array | undefined {
    const candidates = this.#endingWith[bytes[p]!];
    if (candidates === undefined) return undefined;
    for (let c = 0; c < candidates.length; c++) {
      const d = candidates[c]!;
      const n = d.length;
      if (n > avail) continue;
      let k = 1;
      for (; k < n; k++) {
        const q = p - k;
        if ((q >= start ? bytes[q] : before!(start - q)) !== d[n - 1 - k]) break;
      }
      if (k === n) return d;
    }
    return undefined;
  }

  /**
   * Bytes `encode` writes for `frame` (`frame.length` plus the appended
   * delimiter), after checking that the peer will read it back whole.
   *
   * @throws {FrameTooLargeError} if `frame` is over `maxFrameLength`
   * @throws {DelimiterInFrameError} if a delimiter would end it early
   */
  encodedLength(frame: Uint8Array): number {
    const n = frame.length;
    if (n > this.maxFrameLength) {
      throw new FrameTooLargeError(n, this.maxFrameLength, undefined, { frame: this.noun });
    }
    // A delimiter inside the frame: it would end early.
    for (let p = this.nextCandidate(frame, 0, n); p >= 0; p = this.nextCandidate(frame, p + 1, n)) {
      const d = this.endingAt(frame, p, 0, p + 1, undefined);
      if (d !== undefined) throw new DelimiterInFrameError(p + 1 - d.length, d, n);
    }
    // A delimiter made of the frame's last bytes and the appended ones: it would end
    // before the appended delimiter does, or (if longer) eat some of the frame's bytes.
    const appended = this.appended;
    const m = appended.length;
    for (let i = 0; i < m; i++) {
      const candidates = this.#endingWith[appended[i]!];
      if (candidates === undefined) continue;
      for (let c = 0; c < candidates.length; c++) {
        const d = candidates[c]!;
        const len = d.length;
        if (len > n + i + 1) continue;
        let k = 1;
        for (; k < len; k++) {
          const q = i - k; // < 0: in the frame
          if ((q >= 0 ? appended[q] : frame[n + q]) !== d[len - 1 - k]) break;
        }
        if (k < len) continue;
        if (i === m - 1 && len === m) break; // the appended delimiter itself: the longest here
        throw new DelimiterInFrameError(n + i + 1 - len, d, n, appended);
      }
    }
    return n + m;
  }

  /**
   * Write `frame` and the appended delimiter at `offset`; returns bytes
   * written. Checks as {@link DelimiterSet.encodedLength}, before writing.
   *
   * @throws {RangeError} if `target` has no room; nothing is written
   */
  encodeInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    const total = this.encodedLength(frame);
    if (!(offset >= 0 && offset + total <= target.length)) {
      throw new RangeError(`encodeInto: ${total} bytes do not fit at offset ${offset}`);
    }
    return this.writeInto(frame, target, offset);
  }

  /** `encodeInto` without the checks: for a frame `encodedLength` accepted (see `FrameCodec.encodeCheckedInto`). */
  writeInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    const n = frame.length;
    target.set(frame, offset);
    const appended = this.appended;
    // One or two bytes (a line ending): a loop is cheaper than a second set().
    for (let i = 0; i < appended.length; i++) target[offset + n + i] = appended[i]!;
    return n + appended.length;
  }

  /** `frame` and the appended delimiter in a new buffer. Checks as {@link DelimiterSet.encodedLength}. */
  encode(frame: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.encodedLength(frame));
    out.set(frame);
    out.set(this.appended, frame.length);
    return out;
  }
}
