/**
 * `MuxFragmentStrategy`: an explicit, multiplexed fragment header.
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../_internal/options.ts";
import { type PayloadLimit, payloadLimitOf, payloadLimitSchema } from "./_payload_limit.ts";
import { MalformedFragmentError } from "./errors.ts";
import type {
  DecodeHeaderResult,
  FragmentMeta,
  FragmentStrategy,
  SingleFragmentCodec,
} from "./types.ts";

/** Header bytes without `totalLen`. */
export const MUX_HEADER_LENGTH = 13;
/** Header bytes with `totalLen` (seq 0 of a multi-fragment message). */
export const MUX_HEADER_LENGTH_WITH_TOTAL = 17;
/** Default payload bytes per `MuxFragmentStrategy` fragment: 64 KiB. */
export const MUX_DEFAULT_MAX_PAYLOAD: number = 64 * 1024;

const FLAG_FINAL = 0x01;
const FLAG_TOTAL = 0x02;
const U32_MAX = 0xffff_ffff;
const MAX_PAYLOAD = 2 ** 31 - 1 - MUX_HEADER_LENGTH_WITH_TOTAL;
const OWNER = "MuxFragmentStrategy";
const NEED_MORE: DecodeHeaderResult = Object.freeze({ kind: "need-more" });

/** Options of {@link MuxFragmentStrategy}. */
export interface MuxFragmentOptions {
  /**
   * Payload bytes per fragment, 1 to 2^31−18, or a function of the logical
   * frame returning such a number (context-aware). Default 65 536. Keep
   * `header + payload` within the frame codec's `maxFrameLength`.
   */
  maxFragmentPayload?: PayloadLimit;
  /**
   * Write `totalLen` on the first fragment of a multi-fragment message, so the
   * receiver rejects an oversized message at once and allocates it in one
   * piece. Default true.
   */
  sendTotalLen?: boolean;
}

const schema = z.strictObject({
  maxFragmentPayload: payloadLimitSchema(MAX_PAYLOAD).default(MUX_DEFAULT_MAX_PAYLOAD),
  sendTotalLen: z.boolean({ error: "must be true or false" }).default(true),
});

/**
 * A multiplexed fragment format: every fragment names its message and its
 * place in it, so fragments of several messages may interleave. All integers
 * are big-endian.
 *
 * ```
 * fragment := msgId:u32 seq:u32 flags:u8 payloadLen:u32 [totalLen:u32] payload
 * flags    := bit 0 final, bit 1 totalLen present (seq 0 only), bits 2–7 zero
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fragmenter, MuxFragmentStrategy, Reassembler } from "@wireframe/wireframe/fragment";
 *
 * const mux = new MuxFragmentStrategy({ maxFragmentPayload: 1024 });
 * const fragmenter = new Fragmenter(mux);
 * const reassembler = new Reassembler(mux);
 * const lengths: number[] = [];
 * fragmenter.split(new Uint8Array(3000), (fragment) =>
 *   reassembler.push(fragment, performance.now(), (msg) => lengths.push(msg.length))
 * );
 * assert.deepEqual(lengths, [3000]);
 * ```
 */
export class MuxFragmentStrategy implements FragmentStrategy {
  /** Multiplexed: fragments carry `msgId` and `seq`. */
  readonly multiplexed: true = true;
  /** Message ids are u32. */
  readonly maxMsgId: number = U32_MAX;
  /** Whether `totalLen` is written on seq 0 of multi-fragment messages. */
  readonly sendTotalLen: boolean;
  /**
   * The one-fragment fast path; present when `maxFragmentPayload` is a number
   * (a function of the frame needs the frame's bytes).
   */
  readonly singleFragment: SingleFragmentCodec | undefined;
  readonly #limit: (frame: Uint8Array) => number;

  /**
   * Create the strategy.
   *
   * @param options see {@link MuxFragmentOptions}
   * @throws {ConfigError} if an option is out of range
   */
  constructor(options?: MuxFragmentOptions) {
    const o = parseOptions(OWNER, schema, options);
    this.#limit = payloadLimitOf(OWNER, o.maxFragmentPayload, MAX_PAYLOAD);
    this.sendTotalLen = o.sendTotalLen;
    const limit = o.maxFragmentPayload;
    this.singleFragment = typeof limit === "number" ? singleFragmentCodec(limit) : undefined;
  }

  /**
   * Read a 13- or 17-byte header.
   *
   * @throws {MalformedFragmentError} `"reserved-flags"` if flag bits 2–7 are set,
   *   `"total-length"` if `totalLen` is present on a fragment other than seq 0
   */
  decodeHeader(bytes: Uint8Array): DecodeHeaderResult {
    if (bytes.length < MUX_HEADER_LENGTH) return NEED_MORE;
    const flags = bytes[8]!;
    if ((flags & ~(FLAG_FINAL | FLAG_TOTAL)) !== 0) {
      throw new MalformedFragmentError("reserved-flags", `flags 0x${flags.toString(16)}`);
    }
    const msgId = u32(bytes, 0);
    const seq = u32(bytes, 4);
    const meta: FragmentMeta = {
      msgId,
      seq,
      isFinal: (flags & FLAG_FINAL) !== 0,
      payloadLen: u32(bytes, 9),
    };
    if ((flags & FLAG_TOTAL) === 0) return { kind: "header", meta, headerLen: MUX_HEADER_LENGTH };
    if (bytes.length < MUX_HEADER_LENGTH_WITH_TOTAL) return NEED_MORE;
    if (seq !== 0) {
      throw new MalformedFragmentError("total-length", `totalLen on seq ${seq} of ${msgId}`);
    }
    meta.totalLen = u32(bytes, MUX_HEADER_LENGTH);
    return { kind: "header", meta, headerLen: MUX_HEADER_LENGTH_WITH_TOTAL };
  }

  /** 17 if `totalLen` is written (seq 0, not final, `sendTotalLen`), else 13. */
  headerLength(meta: FragmentMeta, _frame: Uint8Array): number {
    return this.#withTotal(meta) ? MUX_HEADER_LENGTH_WITH_TOTAL : MUX_HEADER_LENGTH;
  }

  /**
   * Write the header; returns its length.
   *
   * @throws {RangeError} if a field does not fit a u32 or `target` has no room; nothing is written
   */
  encodeHeaderInto(
    meta: FragmentMeta,
    _frame: Uint8Array,
    target: Uint8Array,
    offset: number,
  ): number {
    const total = this.#withTotal(meta);
    const length = total ? MUX_HEADER_LENGTH_WITH_TOTAL : MUX_HEADER_LENGTH;
    if (!(offset >= 0 && offset + length <= target.length)) {
      throw new RangeError(`${OWNER}: a ${length}-byte header does not fit at offset ${offset}`);
    }
    checkU32(meta.msgId, "msgId");
    checkU32(meta.seq, "seq");
    checkU32(meta.payloadLen, "payloadLen");
    if (total) checkU32(meta.totalLen, "totalLen");
    putU32(target, offset, meta.msgId);
    putU32(target, offset + 4, meta.seq);
    target[offset + 8] = (meta.isFinal ? FLAG_FINAL : 0) | (total ? FLAG_TOTAL : 0);
    putU32(target, offset + 9, meta.payloadLen);
    if (total) putU32(target, offset + MUX_HEADER_LENGTH, meta.totalLen!);
    return length;
  }

  /** The configured limit for `frame` (default 65 536). */
  maxFragmentPayload(frame: Uint8Array): number {
    return this.#limit(frame);
  }

  #withTotal(meta: FragmentMeta): boolean {
    return this.sendTotalLen && meta.totalLen !== undefined && meta.seq === 0 && !meta.isFinal;
  }
}

/** {@link MuxFragmentStrategy}'s fast path: a 13-byte header, seq 0, final, no `totalLen`. */
function singleFragmentCodec(limit: number): SingleFragmentCodec {
  return {
    headerLength: MUX_HEADER_LENGTH,
    maxLength: limit,
    encodeHeaderInto(length, msgId, target, offset) {
      putU32(target, offset, msgId);
      putU32(target, offset + 4, 0);
      target[offset + 8] = FLAG_FINAL;
      putU32(target, offset + 9, length);
      return MUX_HEADER_LENGTH;
    },
    isWholeMessage: (bytes, start, end) =>
      end - start >= MUX_HEADER_LENGTH && bytes[start + 8] === FLAG_FINAL &&
      u32(bytes, start + 4) === 0 && u32(bytes, start + 9) === end - start - MUX_HEADER_LENGTH,
  };
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function checkU32(value: number | undefined, field: string): void {
  if (!(Number.isInteger(value) && value! >= 0 && value! <= U32_MAX)) {
    throw new RangeError(`${OWNER}: ${field} must be an integer from 0 to ${U32_MAX}`);
  }
}

function putU32(t: Uint8Array, at: number, value: number): void {
  t[at] = value >>> 24;
  t[at + 1] = value >>> 16;
  t[at + 2] = value >>> 8;
  t[at + 3] = value;
}
