/**
 * `Reassembler`: turn fragment bodies back into messages, within limits.
 *
 * @module
 */
import { PartialMessage } from "./_partial.ts";
import { decodeChecked } from "./_decode_checked.ts";
import { singleFragmentOf } from "./_strategy_checks.ts";
import {
  FragmentError,
  FragmentSequenceError,
  IncompleteMessageError,
  MalformedFragmentError,
  MessageTooLargeError,
  ReassemblyBudgetError,
  ReassemblyTimeoutError,
  TooManyMessagesError,
} from "./errors.ts";
import {
  type ReassemblyLimits,
  type ReassemblyOptions,
  resolveReassemblyOptions,
} from "./options.ts";
import type { FragmentStrategy, SingleFragmentCodec } from "./types.ts";

const OWNER = "Reassembler";

/** What a {@link Reassembler} reports to an observer (tracing), when one is set. */
export interface ReassemblyWatcher {
  /** A message's first fragment arrived and more are to come. */
  started(msgId: number): void;
  /** A message held across fragments is complete (`bytes`: its length). */
  completed(msgId: number, bytes: number): void;
  /** A partial message was dropped because its re-assembly timed out. */
  evicted(msgId: number): void;
}

/**
 * Re-assembles fragment bodies into messages, one reassembler per connection.
 * Synchronous: the connection calls {@link Reassembler.push} per fragment with
 * the current time, arms one timer at {@link Reassembler.nextDeadline} and
 * calls {@link Reassembler.expire} when it fires.
 *
 * Rules (`docs/fragmentation.md`): per message, seq starts at 0 and goes up by
 * 1; a duplicate (seq already received) is ignored; a gap or a continuation
 * without a start is a {@link FragmentSequenceError}. Partial messages are keyed
 * by `msgId` (multiplexed strategies) so interleaved messages re-assemble
 * independently. Every limit breach throws its own {@link FragmentError}
 * subclass; the offending partial message is freed first. With
 * `onViolation: "fail"` (the default) the reassembler then frees everything
 * and rethrows the same error from every later call: close the connection.
 *
 * A message that arrives as one final fragment is emitted as a view of it (no
 * copy); a longer message is copied once, into a buffer of its own. Until then
 * fragments may be held as views: do not mutate a fragment after pushing it.
 * `now` must not go backwards (a smaller value counts as the last one seen).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LenFlag32K, Reassembler } from "@wireframe/wireframe/fragment";
 *
 * const reassembler = new Reassembler(new LenFlag32K(), { reassemblyTimeoutMs: 5_000 });
 * const messages: Uint8Array[] = [];
 * const emit = (message: Uint8Array) => void messages.push(message);
 * reassembler.push(new Uint8Array([0x00, 0x02, 1, 2]), 0, emit); // first, not final
 * assert.equal(reassembler.nextDeadline(), 5_000);
 * reassembler.push(new Uint8Array([0x80, 0x01, 3]), 10, emit); // final: emits
 * assert.deepEqual(messages, [Uint8Array.of(1, 2, 3)]);
 * assert.equal(reassembler.nextDeadline(), undefined);
 * ```
 */
export class Reassembler {
  /** The header format. */
  readonly strategy: FragmentStrategy;
  /** The limits in force, defaults applied. */
  readonly limits: ReassemblyLimits;
  readonly #single: SingleFragmentCodec | undefined;
  readonly #partials = new Map<number, PartialMessage>();
  #buffered = 0;
  #charged = 0;
  #now = -Infinity;
  #failure: FragmentError | undefined;
  #watcher: ReassemblyWatcher | undefined;

  /**
   * Create a reassembler for one connection.
   *
   * @param strategy the fragment header format
   * @param options limits; see {@link ReassemblyOptions}
   * @throws {ConfigError} if a limit is out of range
   */
  constructor(strategy: FragmentStrategy, options?: ReassemblyOptions) {
    this.strategy = strategy;
    this.#single = singleFragmentOf(OWNER, strategy);
    this.limits = resolveReassemblyOptions(OWNER, options);
  }

  /** Tell `watcher` when messages start, complete and are evicted (one watcher; tracing). */
  watch(watcher: ReassemblyWatcher): void {
    this.#watcher = watcher;
  }

  /** Payload bytes held in partial messages. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Bytes charged against `maxBufferedBytes`: memory retained plus overhead per held fragment. */
  get chargedBytes(): number {
    return this.#charged;
  }

  /** Partial messages held. */
  get partialMessages(): number {
    return this.#partials.size;
  }

  /** The error that failed this reassembler, if any. */
  get failure(): FragmentError | undefined {
    return this.#failure;
  }

  /**
   * Take one fragment body received at `now` (milliseconds, monotonic); `emit`
   * is called synchronously when it completes a message.
   *
   * @throws {FragmentError} a subclass naming the breach; see the class docs
   */
  push(fragment: Uint8Array, now: number, emit: (message: Uint8Array) => void): void {
    this.pushSpan(fragment, 0, fragment.length, now, emit);
  }

  /**
   * {@link Reassembler.push} for the fragment `bytes[start, end)`, e.g. a span
   * from a frame decoder's `decodeSpans`: a message that arrives as one
   * fragment then costs one view (of its payload) instead of two.
   *
   * @throws {FragmentError} a subclass naming the breach; see the class docs
   */
  pushSpan(
    bytes: Uint8Array,
    start: number,
    end: number,
    now: number,
    emit: (message: Uint8Array) => void,
  ): void {
    if (this.pushWhole(bytes, start, end, emit)) return;
    if (now > this.#now) this.#now = now;
    try {
      this.#push(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), emit);
    } catch (err) {
      this.#violation(err);
    }
  }

  /**
   * The fast path of {@link Reassembler.pushSpan} on its own, which needs no
   * time (a whole message never waits): if nothing is being re-assembled and
   * `bytes[start, end)` is a whole message by the strategy's `singleFragment`,
   * within `maxMessageSize`, emit its payload and return true. Otherwise
   * return false having done nothing; then call `pushSpan`.
   *
   * @throws {FragmentError} the error that failed this reassembler, if any
   */
  pushWhole(
    bytes: Uint8Array,
    start: number,
    end: number,
    emit: (message: Uint8Array) => void,
  ): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    const single = this.#single;
    if (single === undefined || this.#partials.size !== 0) return false;
    const payloadLen = end - start - single.headerLength;
    if (
      payloadLen < 0 || payloadLen > this.limits.maxMessageSize ||
      !single.isWholeMessage(bytes, start, end)
    ) {
      return false;
    }
    emit(bytes.subarray(end - payloadLen, end));
    return true;
  }

  /**
   * Evict every partial message whose first fragment is `reassemblyTimeoutMs`
   * or more before `now`.
   *
   * @throws {ReassemblyTimeoutError} if any was evicted (for the oldest)
   */
  expire(now: number): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (now > this.#now) this.#now = now;
    const timeout = this.limits.reassemblyTimeoutMs;
    let oldest: PartialMessage | undefined;
    let count = 0;
    // Insertion order is first-fragment order, since `now` never goes back.
    for (const partial of this.#partials.values()) {
      if (this.#now - partial.firstAt < timeout) break;
      oldest ??= partial;
      count++;
      this.#free(partial);
      this.#watcher?.evicted(partial.msgId);
    }
    if (oldest !== undefined) {
      this.#violation(
        new ReassemblyTimeoutError(oldest.msgId, this.#now - oldest.firstAt, timeout, count),
      );
    }
  }

  /** When the oldest partial message expires (`firstAt + reassemblyTimeoutMs`), if any. */
  nextDeadline(): number | undefined {
    for (const partial of this.#partials.values()) {
      return partial.firstAt + this.limits.reassemblyTimeoutMs;
    }
    return undefined;
  }

  /**
   * Signal the end of the fragment stream.
   *
   * @throws {IncompleteMessageError} if partial messages are held (they are freed)
   */
  finish(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#partials.size === 0) return;
    const error = new IncompleteMessageError(this.#partials.size, this.#buffered);
    this.clear();
    throw error;
  }

  /** Free every partial message without an error (e.g. the connection is closing). */
  clear(): void {
    this.#partials.clear();
    this.#buffered = 0;
    this.#charged = 0;
  }

  #push(fragment: Uint8Array, emit: (message: Uint8Array) => void): void {
    const { meta, headerLen } = decodeChecked(this.strategy, fragment);
    const payload = fragment.subarray(headerLen);
    const limits = this.limits;
    const multiplexed = this.strategy.multiplexed;
    const msgId = multiplexed ? meta.msgId : 0;
    const partial = this.#partials.size === 0 ? undefined : this.#partials.get(msgId);
    if (partial === undefined) {
      const seq = multiplexed ? meta.seq : 0;
      if (seq !== 0) throw new FragmentSequenceError("reorder", msgId, 0, seq);
      return this.#start(msgId, meta.isFinal, meta.totalLen, payload, emit);
    }
    const seq = multiplexed ? meta.seq : partial.nextSeq;
    if (seq < partial.nextSeq) return; // a duplicate
    if (this.#now - partial.firstAt >= limits.reassemblyTimeoutMs) {
      this.#free(partial);
      this.#watcher?.evicted(msgId);
      const age = this.#now - partial.firstAt;
      throw new ReassemblyTimeoutError(msgId, age, limits.reassemblyTimeoutMs);
    }
    if (seq > partial.nextSeq) {
      this.#free(partial);
      throw new FragmentSequenceError("gap", msgId, partial.nextSeq, seq);
    }
    const size = partial.length + payload.length;
    if (size > limits.maxMessageSize) {
      this.#free(partial);
      throw new MessageTooLargeError(msgId, size, limits.maxMessageSize);
    }
    const total = partial.totalLen;
    if (total !== undefined && (size > total || (meta.isFinal && size !== total))) {
      this.#free(partial);
      throw new MalformedFragmentError("total-length", `message ${msgId}: ${size} of ${total}`);
    }
    if (meta.isFinal) {
      const message = partial.finish(payload);
      this.#free(partial);
      this.#watcher?.completed(msgId, message.length);
      return emit(message);
    }
    this.#hold(partial, payload);
  }

  #start(
    msgId: number,
    isFinal: boolean,
    totalLen: number | undefined,
    payload: Uint8Array,
    emit: (message: Uint8Array) => void,
  ): void {
    const limits = this.limits;
    const declared = totalLen ?? payload.length;
    if (declared > limits.maxMessageSize || payload.length > limits.maxMessageSize) {
      throw new MessageTooLargeError(
        msgId,
        Math.max(declared, payload.length),
        limits.maxMessageSize,
      );
    }
    if (
      totalLen !== undefined &&
      (payload.length > totalLen || (isFinal && payload.length !== totalLen))
    ) {
      throw new MalformedFragmentError(
        "total-length",
        `message ${msgId}: ${payload.length} of ${totalLen}`,
      );
    }
    if (isFinal) return emit(payload);
    if (this.#partials.size >= limits.maxConcurrentMessages) {
      throw new TooManyMessagesError(msgId, limits.maxConcurrentMessages);
    }
    const partial = new PartialMessage(msgId, this.#now, totalLen, limits.maxMessageSize);
    this.#partials.set(msgId, partial);
    this.#hold(partial, payload);
    this.#watcher?.started(msgId);
  }

  #hold(partial: PartialMessage, payload: Uint8Array): void {
    const charge = partial.chargeFor(payload) + this.limits.fragmentOverhead;
    if (this.#charged + charge > this.limits.maxBufferedBytes) {
      this.#free(partial);
      throw new ReassemblyBudgetError(
        partial.msgId,
        this.#charged + charge,
        this.limits.maxBufferedBytes,
      );
    }
    partial.append(payload);
    partial.charged += charge;
    this.#charged += charge;
    this.#buffered += payload.length;
  }

  #free(partial: PartialMessage): void {
    if (this.#partials.delete(partial.msgId)) {
      this.#charged -= partial.charged;
      this.#buffered -= partial.length;
    }
  }

  #violation(err: unknown): never {
    if (err instanceof FragmentError && this.limits.onViolation === "fail") {
      this.#failure = err;
      this.clear();
    }
    throw err;
  }
}
