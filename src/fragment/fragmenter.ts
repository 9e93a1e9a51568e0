/**
 * `Fragmenter`: split logical messages into fragment bodies.
 *
 * @module
 */
import { ConfigError } from "../error.ts";
import { Slab } from "../_internal/slab.ts";
import { MessageTooLargeError } from "./errors.ts";
import { type FragmenterOptions, resolveFragmenterOptions } from "./options.ts";
import { maxMsgIdOf, singleFragmentOf } from "./_strategy_checks.ts";
import type { FragmentMeta, FragmentStrategy, SingleFragmentCodec } from "./types.ts";

const OWNER = "Fragmenter";
// Fragments are carved out of slabs of 64 KiB to 1 MiB, sized by what is left
// of the message being split.
const SLAB_MIN = 64 * 1024;
const SLAB_MAX = 1024 * 1024;

/**
 * Splits each message into fragments (`header ++ payload`) with a
 * {@link FragmentStrategy}: at most `strategy.maxFragmentPayload(message)`
 * payload bytes each, sequence 0, 1, 2, …, the last one final. A message that
 * fits is one final fragment; an empty message is one final empty fragment.
 * One fragmenter per connection direction: it allocates message ids 0, 1, 2, …
 * (wrapping after `strategy.maxMsgId`) for multiplexed strategies.
 *
 * Emitted fragments are views into shared buffers of up to 1 MiB: use each
 * through its own `byteOffset`/`byteLength`, do not transfer its `.buffer`, and
 * copy it if you keep it long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fragmenter, LenFlag32K } from "@wireframe/wireframe/fragment";
 *
 * const fragmenter = new Fragmenter(new LenFlag32K({ maxFragmentPayload: 4 }));
 * const fragments: Uint8Array[] = [];
 * fragmenter.split(new Uint8Array([1, 2, 3, 4, 5]), (f) => fragments.push(f));
 * assert.deepEqual(fragments, [
 *   Uint8Array.of(0x00, 4, 1, 2, 3, 4), // not final, 4 payload bytes
 *   Uint8Array.of(0x80, 1, 5), // final, 1 payload byte
 * ]);
 * ```
 */
export class Fragmenter {
  /** The header format. */
  readonly strategy: FragmentStrategy;
  /** Largest message {@link Fragmenter.split} accepts. */
  readonly maxMessageSize: number;
  /**
   * True for a strategy with per-connection state (`forConnection`): its
   * headers must be written in the order the fragments go out, so a writer
   * writes each header when it queues the fragment (no deferred fast path).
   */
  readonly stateful: boolean;
  readonly #maxMsgId: number;
  readonly #single: SingleFragmentCodec | undefined;
  /** Longest message the fast path takes: within both limits; -1 without a fast path. */
  readonly #singleMax: number;
  /** `strategy.multiplexed`, read once: `#takeMsgId` runs for every message. */
  readonly #multiplexed: boolean;
  /** `strategy.continuesWhenFull`: a full fragment is never the last one. */
  readonly #continuesWhenFull: boolean;
  #nextMsgId = 0;
  readonly #slab = new Slab(SLAB_MIN, SLAB_MAX);

  /**
   * Create a fragmenter for one outbound stream.
   *
   * @param strategy the fragment header format
   * @param options see {@link FragmenterOptions}
   * @throws {ConfigError} if an option is out of range or `strategy.maxMsgId` is invalid
   */
  constructor(strategy: FragmentStrategy, options?: FragmenterOptions) {
    this.maxMessageSize = resolveFragmenterOptions(OWNER, options).maxMessageSize;
    const maxMsgId = maxMsgIdOf(OWNER, strategy);
    this.strategy = strategy;
    this.stateful = typeof strategy.forConnection === "function";
    this.#single = singleFragmentOf(OWNER, strategy);
    this.#singleMax = this.#single === undefined
      ? -1
      : Math.min(this.#single.maxLength, this.maxMessageSize);
    this.#multiplexed = strategy.multiplexed;
    this.#continuesWhenFull = strategy.continuesWhenFull === true;
    this.#maxMsgId = this.#multiplexed ? maxMsgId : 0;
  }

  /** The message id the next multiplexed message will get. */
  get nextMsgId(): number {
    return this.#nextMsgId;
  }

  /**
   * Split `message` and call `emit` synchronously, in order, once per fragment.
   *
   * @throws {MessageTooLargeError} if `message` is longer than `maxMessageSize`
   *   (before anything is emitted)
   * @throws {ConfigError} if the strategy returns an invalid payload limit or
   *   writes a header of another length than it announced
   */
  split(message: Uint8Array, emit: (fragment: Uint8Array) => void): void {
    const total = message.length;
    const max = this.#payloadLimit(message);
    const msgId = this.#takeMsgId();
    // A full fragment says "more follows" for some strategies (MySQL): then a
    // message of a multiple of `max` bytes ends with an empty final fragment.
    const count = total === 0
      ? 1
      : this.#continuesWhenFull
      ? Math.floor(total / max) + 1
      : Math.ceil(total / max);
    let offset = 0;
    for (let seq = 0; seq < count; seq++) {
      const payloadLen = Math.min(max, total - offset);
      const isFinal = seq === count - 1;
      const meta: FragmentMeta = seq === 0
        ? { msgId, seq, isFinal, payloadLen, totalLen: total }
        : { msgId, seq, isFinal, payloadLen };
      const headerLen = this.#headerLength(meta, message);
      const out = this.#slab.take(
        headerLen + payloadLen,
        total - offset + (count - seq) * headerLen,
      );
      this.writeHeader(meta, message, headerLen, out, 0);
      out.set(count === 1 ? message : message.subarray(offset, offset + payloadLen), headerLen);
      offset += payloadLen;
      emit(out);
    }
  }

  /**
   * Plan `message` as one final fragment without copying it, if it fits in
   * one: returns its header's meta and length (consuming a message id), or
   * `undefined` if it needs several fragments (then use {@link split}). The
   * caller writes the header with {@link writeHeader}, then `message`.
   *
   * @throws {MessageTooLargeError} if `message` is longer than `maxMessageSize`
   * @throws {ConfigError} if the strategy returns an invalid payload limit or header length
   */
  planSingle(message: Uint8Array): { meta: FragmentMeta; headerLen: number } | undefined {
    const limit = this.#payloadLimit(message);
    if (message.length > limit || (this.#continuesWhenFull && message.length === limit)) {
      return undefined;
    }
    const total = message.length;
    const meta: FragmentMeta = {
      msgId: this.#takeMsgId(),
      seq: 0,
      isFinal: true,
      payloadLen: total,
      totalLen: total,
    };
    return { meta, headerLen: this.#headerLength(meta, message) };
  }

  /**
   * Plan a message of `length` bytes that is not encoded yet as one final
   * fragment, through the strategy's `singleFragment` fast path: returns the
   * message id it takes, or -1 if the strategy has no fast path or the message
   * needs several fragments (then encode it and use {@link planSingle} or
   * {@link split}). Lets a writer encode the message straight into its output
   * buffer, behind the `singleFragment.headerLength`-byte header that
   * {@link writeSingleHeader} writes.
   *
   * @throws {MessageTooLargeError} if `length` is more than `maxMessageSize`
   */
  planSingleLength(length: number): number {
    if (length <= this.#singleMax) return this.#takeMsgId();
    if (length > this.maxMessageSize) {
      throw new MessageTooLargeError(this.#nextMsgId, length, this.maxMessageSize);
    }
    return -1;
  }

  /**
   * Write the header of message `msgId`, of `length` bytes, planned by
   * {@link planSingleLength}, at `offset` in `target`.
   *
   * @throws {ConfigError} if the strategy writes another length than it announced
   */
  writeSingleHeader(length: number, msgId: number, target: Uint8Array, offset: number): void {
    const single = this.#single!;
    const written = single.encodeHeaderInto(length, msgId, target, offset);
    if (written !== single.headerLength) {
      throw strategyError(
        `singleFragment.encodeHeaderInto() wrote ${written} bytes, ` +
          `headerLength is ${single.headerLength}`,
      );
    }
  }

  /**
   * Write the header of fragment `meta` of `message` (`headerLen` bytes, as
   * planned) at `offset` in `target`.
   *
   * @throws {ConfigError} if the strategy writes another length than it announced
   */
  writeHeader(
    meta: FragmentMeta,
    message: Uint8Array,
    headerLen: number,
    target: Uint8Array,
    offset: number,
  ): void {
    const written = this.strategy.encodeHeaderInto(meta, message, target, offset);
    if (written !== headerLen) {
      throw strategyError(
        `encodeHeaderInto() wrote ${written} bytes, headerLength() said ${headerLen}`,
      );
    }
  }

  /** The strategy's payload limit for `message`, after the size check. */
  #payloadLimit(message: Uint8Array): number {
    if (message.length > this.maxMessageSize) {
      throw new MessageTooLargeError(this.#nextMsgId, message.length, this.maxMessageSize);
    }
    const max = this.strategy.maxFragmentPayload(message);
    if (!(Number.isInteger(max) && max >= 1)) {
      throw strategyError(`maxFragmentPayload() must return an integer >= 1 (got ${max})`);
    }
    return max;
  }

  #takeMsgId(): number {
    const msgId = this.#nextMsgId;
    if (this.#multiplexed) this.#nextMsgId = msgId >= this.#maxMsgId ? 0 : msgId + 1;
    return msgId;
  }

  #headerLength(meta: FragmentMeta, message: Uint8Array): number {
    const headerLen = this.strategy.headerLength(meta, message);
    if (!(Number.isInteger(headerLen) && headerLen >= 0)) {
      throw strategyError(`headerLength() must return an integer >= 0 (got ${headerLen})`);
    }
    return headerLen;
  }
}

function strategyError(rule: string): ConfigError {
  return new ConfigError("strategy", `${OWNER}: option "strategy": ${rule}`);
}
