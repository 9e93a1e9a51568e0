/**
 * `LenFlag32K`: a 2-byte fragment header, one message at a time.
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../_internal/options.ts";
import { type PayloadLimit, payloadLimitOf, payloadLimitSchema } from "./_payload_limit.ts";
import type {
  DecodeHeaderResult,
  FragmentMeta,
  FragmentStrategy,
  SingleFragmentCodec,
} from "./types.ts";

/** Largest fragment payload `LenFlag32K` can describe: 2^15 − 1 = 32 767 bytes. */
export const LEN_FLAG_32K_MAX_PAYLOAD = 0x7fff;

/** Options of {@link LenFlag32K}. */
export interface LenFlag32KOptions {
  /**
   * Payload bytes per fragment, 1 to 32 767, or a function of the logical
   * frame returning such a number (context-aware). Default 32 767.
   */
  maxFragmentPayload?: PayloadLimit;
}

const OWNER = "LenFlag32K";
const schema = z.strictObject({
  maxFragmentPayload: payloadLimitSchema(LEN_FLAG_32K_MAX_PAYLOAD).default(
    LEN_FLAG_32K_MAX_PAYLOAD,
  ),
});
const NEED_MORE: DecodeHeaderResult = Object.freeze({ kind: "need-more" });

/**
 * The simplest fragment format: a 2-byte big-endian header whose top bit is
 * the final flag and whose low 15 bits are the payload length (≤ 32 767).
 * Not multiplexed: fragments of one message follow each other, and the
 * sequence is implied by their order.
 *
 * ```
 * fragment := header:u16be payload
 * header   := final:1 payloadLen:15      payloadLen = bytes of payload
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fragmenter, LenFlag32K } from "@wireframe/wireframe/fragment";
 *
 * const fragments: Uint8Array[] = [];
 * new Fragmenter(new LenFlag32K()).split(new Uint8Array(40_000), (f) => fragments.push(f.slice()));
 * assert.deepEqual(fragments.map((f) => f.length), [32_769, 7_235]);
 * assert.deepEqual(fragments.map((f) => [f[0], f[1]]), [[0x7f, 0xff], [0x9c, 0x41]]);
 * ```
 */
export class LenFlag32K implements FragmentStrategy {
  /** Not multiplexed: one message at a time, sequence implied by order. */
  readonly multiplexed: false = false;
  /** No message ids on the wire. */
  readonly maxMsgId: number = 0;
  /**
   * The one-fragment fast path; present when `maxFragmentPayload` is a number
   * (a function of the frame needs the frame's bytes).
   */
  readonly singleFragment: SingleFragmentCodec | undefined;
  readonly #limit: (frame: Uint8Array) => number;

  /**
   * Create the strategy.
   *
   * @param options see {@link LenFlag32KOptions}
   * @throws {ConfigError} if `maxFragmentPayload` is out of range
   */
  constructor(options?: LenFlag32KOptions) {
    const o = parseOptions(OWNER, schema, options);
    this.#limit = payloadLimitOf(OWNER, o.maxFragmentPayload, LEN_FLAG_32K_MAX_PAYLOAD);
    const limit = o.maxFragmentPayload;
    this.singleFragment = typeof limit === "number" ? singleFragmentCodec(limit) : undefined;
  }

  /** Read the 2-byte header; `msgId` and `seq` are reported as 0 (implied). */
  decodeHeader(bytes: Uint8Array): DecodeHeaderResult {
    if (bytes.length < 2) return NEED_MORE;
    const header = (bytes[0]! << 8) | bytes[1]!;
    const meta = { msgId: 0, seq: 0, isFinal: header >= 0x8000, payloadLen: header & 0x7fff };
    return { kind: "header", meta, headerLen: 2 };
  }

  /** Always 2. */
  headerLength(_meta: FragmentMeta, _frame: Uint8Array): number {
    return 2;
  }

  /**
   * Write the 2-byte header; returns 2.
   *
   * @throws {RangeError} if `meta.payloadLen` is not 0 to 32 767 or `target` has no room
   */
  encodeHeaderInto(
    meta: FragmentMeta,
    _frame: Uint8Array,
    target: Uint8Array,
    offset: number,
  ): number {
    const len = meta.payloadLen;
    if (!(Number.isInteger(len) && len >= 0 && len <= LEN_FLAG_32K_MAX_PAYLOAD)) {
      throw new RangeError(`${OWNER}: payloadLen must be 0 to ${LEN_FLAG_32K_MAX_PAYLOAD}`);
    }
    if (!(offset >= 0 && offset + 2 <= target.length)) {
      throw new RangeError(`${OWNER}: a 2-byte header does not fit at offset ${offset}`);
    }
    target[offset] = (meta.isFinal ? 0x80 : 0) | (len >>> 8);
    target[offset + 1] = len & 0xff;
    return 2;
  }

  /** The configured limit for `frame` (default 32 767). */
  maxFragmentPayload(frame: Uint8Array): number {
    return this.#limit(frame);
  }
}

/** {@link LenFlag32K}'s fast path for messages of at most `limit` bytes. */
function singleFragmentCodec(limit: number): SingleFragmentCodec {
  return {
    headerLength: 2,
    maxLength: limit,
    encodeHeaderInto(length, _msgId, target, offset) {
      target[offset] = 0x80 | (length >>> 8);
      target[offset + 1] = length & 0xff;
      return 2;
    },
    isWholeMessage: (bytes, start, end) =>
      end - start >= 2 && ((bytes[start]! << 8) | bytes[start + 1]!) === 0x8000 + end - start - 2,
  };
}
