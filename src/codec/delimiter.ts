/**
 * Delimiter framing with the option set of Netty's
 * `DelimiterBasedFrameDecoder`; `docs/codec.md` has the rules.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../error.ts";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { DelimiterDecoder } from "./delimiter_decoder.ts";
import { DelimiterSet } from "./delimiter_set.ts";
import type { FrameCodec, FrameDecoderState } from "./types.ts";

/**
 * Default `maxFrameLength` of {@link DelimiterCodec} and `LineCodec`: 8 KiB
 * (8192 bytes) before the delimiter, a generous line for a text protocol
 * (SMTP allows 1000 bytes, a Redis inline command 64 KiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_DELIMITED_LENGTH, LineCodec } from "@wireframe/wireframe/codec";
 *
 * assert.equal(DEFAULT_MAX_DELIMITED_LENGTH, 8192);
 * assert.equal(new LineCodec().maxFrameLength, DEFAULT_MAX_DELIMITED_LENGTH);
 * ```
 */
export const DEFAULT_MAX_DELIMITED_LENGTH = 8192;

/** Upper bounds of the options, shared with `LineCodec`. */
export const MAX_FRAME_LIMIT = 2 ** 31 - 1;
const MAX_DELIMITERS = 16;
const MAX_DELIMITER_BYTES = 256;

/**
 * Options of {@link DelimiterCodec}; `delimiter` is required.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DelimiterCodec, type DelimiterOptions } from "@wireframe/wireframe/codec";
 *
 * const options: DelimiterOptions = { delimiter: [Uint8Array.of(0), "\r\n"], maxFrameLength: 512 };
 * assert.deepEqual(new DelimiterCodec(options).delimiters, [Uint8Array.of(0), Uint8Array.of(13, 10)]);
 * ```
 */
export interface DelimiterOptions {
  /**
   * What ends a frame: one byte sequence or several (up to 16), each 1 to 256
   * bytes; a string stands for its UTF-8 bytes. Encode appends the first.
   */
  delimiter: string | Uint8Array | readonly (string | Uint8Array)[];
  /**
   * Largest frame, the delimiter not counted: 1 to 2^31-1. Default 8 KiB
   * ({@link DEFAULT_MAX_DELIMITED_LENGTH}).
   */
  maxFrameLength?: number;
  /** Leave the delimiter out of decoded frames. Default true. */
  stripDelimiter?: boolean;
}

const delimiterRule = "must be a non-empty string or Uint8Array of at most " +
  `${MAX_DELIMITER_BYTES} bytes, or an array of 1 to ${MAX_DELIMITERS} of them`;
const oneDelimiter = z.union([z.string(), z.instanceof(Uint8Array)], { error: delimiterRule })
  .refine((d) => bytesOf(d).length >= 1 && bytesOf(d).length <= MAX_DELIMITER_BYTES, {
    error: delimiterRule,
  });

const schema = z.strictObject({
  delimiter: z.union([
    oneDelimiter,
    z.array(oneDelimiter, { error: delimiterRule }).min(1, { error: delimiterRule })
      .max(MAX_DELIMITERS, { error: delimiterRule }),
  ], { error: delimiterRule }),
  maxFrameLength: intInRange(1, MAX_FRAME_LIMIT).default(DEFAULT_MAX_DELIMITED_LENGTH),
  stripDelimiter: z.boolean({ error: "must be a boolean" }).default(true),
});

const OWNER = "DelimiterCodec";

function bytesOf(delimiter: string | Uint8Array): Uint8Array {
  return typeof delimiter === "string" ? new TextEncoder().encode(delimiter) : delimiter.slice();
}

/**
 * Check that every delimiter can match: none may hold another that ends
 * before it does (in `["ab", "a"]`, `"a"` always ends a frame first).
 */
function checkDelimiters(owner: string, delimiters: readonly Uint8Array[]): void {
  const seen = new Set<string>();
  const set = new DelimiterSet(delimiters, delimiters[0]!, 1, true, "frame");
  for (const [i, d] of delimiters.entries()) {
    const key = d.join(",");
    const option = delimiters.length === 1 ? "delimiter" : `delimiter.${i}`;
    const fail = (rule: string) => {
      throw new ConfigError(option, `${owner}: option "${option}" ${rule} (got [${key}])`);
    };
    if (seen.has(key)) fail("must not repeat another delimiter");
    seen.add(key);
    for (let p = 0; p < d.length - 1; p++) {
      const inner = set.endingAt(d, p, 0, p + 1, undefined);
      if (inner !== undefined) {
        fail(`can never match: delimiter [${inner.join(",")}] ends inside it`);
      }
    }
  }
}

/**
 * Frames that end with a delimiter, Netty's `DelimiterBasedFrameDecoder`
 * with its encoder: decode splits at any of the delimiters, encode appends
 * the first. Frames within one chunk decode as views (no copy); frames that
 * straddle chunks are copied once, when they complete. A frame ends at the
 * first byte that completes a delimiter; when several end there, the longest
 * is taken (no delimiter may end inside another, so this is also Netty's
 * "the one that starts first"). A frame longer than `maxFrameLength` fails as soon as
 * `maxFrameLength` plus the longest delimiter's bytes have arrived without a
 * delimiter, so no more than that is ever buffered.
 *
 * Encode refuses a frame that holds a delimiter (`DelimiterInFrameError`):
 * the peer would read it as two frames (Netty writes it anyway).
 *
 * @example NUL-terminated frames
 * ```ts
 * import assert from "node:assert/strict";
 * import { DelimiterCodec } from "@wireframe/wireframe/codec";
 *
 * const codec = new DelimiterCodec({ delimiter: Uint8Array.of(0), maxFrameLength: 1024 });
 * const wire = codec.encode(new TextEncoder().encode("hi"));
 * assert.deepEqual(wire, Uint8Array.of(0x68, 0x69, 0));
 *
 * const decoder = codec.createDecoder();
 * const frames: string[] = [];
 * const text = (frame: Uint8Array) => frames.push(new TextDecoder().decode(frame));
 * decoder.decode(Uint8Array.of(0x61, 0, 0x62), text);
 * decoder.decode(Uint8Array.of(0x63, 0), text); // "bc" straddled two chunks
 * decoder.finish(); // throws if input ended inside a frame
 * assert.deepEqual(frames, ["a", "bc"]);
 * ```
 */
export class DelimiterCodec implements FrameCodec {
  /** The delimiters, as bytes, in the order given; encode appends the first. */
  readonly delimiters: readonly Uint8Array[];
  /** Largest frame accepted or written, the delimiter not counted. */
  readonly maxFrameLength: number;
  /** Whether decoded frames leave out their delimiter. */
  readonly stripDelimiter: boolean;
  readonly #set: DelimiterSet;

  /**
   * Validate `options` and apply defaults.
   *
   * @param options framing options; see {@link DelimiterOptions}
   * @throws {ConfigError} if an option is missing, out of range, or a
   *   delimiter repeats or can never match
   */
  constructor(options: DelimiterOptions) {
    const o = parseOptions(OWNER, schema, options);
    const given = Array.isArray(o.delimiter) ? o.delimiter : [o.delimiter];
    const delimiters = given.map(bytesOf);
    checkDelimiters(OWNER, delimiters);
    this.delimiters = delimiters;
    this.maxFrameLength = o.maxFrameLength;
    this.stripDelimiter = o.stripDelimiter;
    this.#set = new DelimiterSet(
      delimiters,
      delimiters[0]!,
      o.maxFrameLength,
      o.stripDelimiter,
      "frame",
    );
  }

  /** Fresh decoding state for one byte stream. */
  createDecoder(): FrameDecoderState {
    return new DelimiterDecoder(this.#set);
  }

  /**
   * `frame.length` plus the first delimiter's length. Throws as
   * {@link DelimiterCodec.encodeInto} for a frame that cannot be sent.
   */
  encodedLength(frame: Uint8Array): number {
    return this.#set.encodedLength(frame);
  }

  /**
   * Write `frame` and the first delimiter into `target` at `offset`; returns
   * the bytes written.
   *
   * @throws {FrameTooLargeError} if `frame` is longer than `maxFrameLength`
   * @throws {DelimiterInFrameError} if `frame` holds a delimiter, or its last
   *   bytes and the appended delimiter read as another one: nothing is written
   * @throws {RangeError} if `target` has no room; nothing is written
   */
  encodeInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    return this.#set.encodeInto(frame, target, offset);
  }

  /**
   * {@link DelimiterCodec.encodeInto} without its checks, for a frame that
   * `encodedLength` accepted and that has not changed since: a frame writer
   * sizes each frame when it queues it, so the frame is scanned once.
   */
  encodeCheckedInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    return this.#set.writeInto(frame, target, offset);
  }

  /** Encode `frame` into a new buffer: the frame, then the first delimiter. Throws as {@link DelimiterCodec.encodeInto}. */
  encode(frame: Uint8Array): Uint8Array {
    return this.#set.encode(frame);
  }
}
