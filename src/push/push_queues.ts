/**
 * `PushQueues`: one connection's two push queues (high and low priority),
 * its push rate limit and its dead letters — the mailbox that `PushHandle`s
 * fill and the connection's outbound actor empties.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import type { Logger } from "../observe/logger.ts";
import { BoundedQueue } from "./bounded_queue.ts";
import type { DeadLetterSink } from "./dead_letter.ts";
import { PushError } from "./errors.ts";
import type { PushPriority, PushTarget, TryPushResult } from "./push_handle.ts";
import type { TokenBucket } from "./token_bucket.ts";

/** What one connection's push queues are made of. */
export interface PushQueuesOptions {
  /** The connection the queues belong to (for dead letters and logs). */
  readonly connectionId: number;
  /** Frames the high-priority queue holds. */
  readonly highCapacity: number;
  /** Frames the low-priority queue holds. */
  readonly lowCapacity: number;
  /** Token bucket shared by both priorities, if pushes are rate-limited. */
  readonly rate?: TokenBucket | undefined;
  /** Where dropped and discarded pushes go, if anywhere. */
  readonly deadLetters?: DeadLetterSink | undefined;
  /** Where a push dropped by a warning policy is reported. */
  readonly logger: Logger;
}

/**
 * The push side of one connection. Producers (`PushHandle`) queue frames;
 * its one consumer, the outbound actor, is woken through `onPush` and takes
 * them with `high`/`low`.
 */
export class PushQueues implements PushTarget {
  readonly connectionId: number;
  readonly closed: Promise<void>;
  /** High-priority frames, oldest first (the consumer peeks and shifts). */
  readonly high: BoundedQueue<Envelope>;
  /** Low-priority frames, oldest first. */
  readonly low: BoundedQueue<Envelope>;
  readonly #rate: TokenBucket | undefined;
  readonly #deadLetters: DeadLetterSink | undefined;
  readonly #logger: Logger;
  #markClosed!: () => void;
  #isClosed = false;
  #wakeConsumer: () => void = () => {};

  constructor(options: PushQueuesOptions) {
    this.connectionId = options.connectionId;
    this.high = new BoundedQueue(options.highCapacity);
    this.low = new BoundedQueue(options.lowCapacity);
    this.#rate = options.rate;
    this.#deadLetters = options.deadLetters;
    this.#logger = options.logger;
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  /** True once `close()` ran: new pushes fail with `closed`. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Frames queued, both priorities. */
  get size(): number {
    return this.high.size + this.low.size;
  }

  /** Register the consumer, called synchronously after every frame queued. */
  onPush(wake: () => void): void {
    this.#wakeConsumer = wake;
  }

  tryPush(frame: Envelope, priority: PushPriority, checkRate: boolean): TryPushResult {
    if (this.#isClosed) return "closed";
    const queue = priority === "high" ? this.high : this.low;
    if (checkRate && this.#rate && !this.#rate.tryTake()) return "rate-limited";
    if (!queue.tryPush(frame)) {
      if (checkRate) this.#rate?.giveBack();
      return "full";
    }
    this.#wakeConsumer();
    return "queued";
  }

  async push(
    frame: Envelope,
    priority: PushPriority,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Queue at once when possible, so a push is not overtaken by a later tryPush.
    if (!signal?.aborted && this.tryPush(frame, priority, true) === "queued") return;
    await this.takeRateToken(signal);
    const queue = priority === "high" ? this.high : this.low;
    try {
      await queue.reserve(signal);
    } catch (error) {
      this.#rate?.giveBack(); // an abandoned push keeps neither a token nor a slot
      throw error;
    }
    queue.pushGranted(frame);
    this.#wakeConsumer();
  }

  takeRateToken(signal: AbortSignal | undefined): Promise<void> {
    if (this.#isClosed) return Promise.reject(new PushError("closed"));
    return this.#rate ? this.#rate.take(signal) : Promise.resolve();
  }

  deadLetter(frame: Envelope, priority: PushPriority, warn: boolean): void {
    if (warn) {
      this.#logger.warn("push queue full: frame dropped", {
        connectionId: this.connectionId,
        priority,
      });
    }
    this.#deadLetters?.offer({ connectionId: this.connectionId, priority, frame, reason: "full" });
  }

  /** Refuse new pushes (they fail with `closed`); what is queued stays for the consumer. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const closed = new PushError("closed");
    this.high.close(closed);
    this.low.close(closed);
    this.#rate?.close(closed);
    this.#markClosed();
  }

  /**
   * The connection is going away: close, and dead-letter every queued frame
   * (reason `connection-closed`). Returns how many were discarded.
   */
  discard(): number {
    this.close();
    let discarded = 0;
    for (const [priority, queue] of [["high", this.high], ["low", this.low]] as const) {
      for (const frame of queue.drain()) {
        discarded++;
        this.#deadLetters?.offer({
          connectionId: this.connectionId,
          priority,
          frame,
          reason: "connection-closed",
        });
      }
    }
    return discarded;
  }
}
