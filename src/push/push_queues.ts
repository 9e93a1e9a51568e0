/**
 * `PushQueues`: one connection's two push queues (high and low priority),
 * its push rate limit, its outbound byte bound and its dead letters — the
 * mailbox that `PushHandle`s fill and the connection's outbound actor empties.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import type { Logger } from "../observe/logger.ts";
import type { PushTelemetry } from "../observe/telemetry.ts";
import type { WaterMarks } from "../_internal/water_marks.ts";
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
  /**
   * The connection's outbound byte count, shared with its frame writer: the
   * queues add each queued frame's payload bytes, and refuse (or make wait)
   * new pushes while it is `above` its high water mark. Without it, only the
   * frame capacities bound the queues.
   */
  readonly marks?: WaterMarks | undefined;
  /** Told of every push queued, dropped, rate-limited or dead-lettered (counts and span events). */
  readonly telemetry?: PushTelemetry | undefined;
}

/** A `push()` granted a slot in its queue, waiting for the outbound bytes to drain. */
interface BytesWaiter {
  readonly frame: Envelope;
  readonly queue: BoundedQueue<Envelope>;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
}

/** What takes the frames queued: the connection's outbound actor. */
export interface PushConsumer {
  /** A frame was queued. */
  pushed(): void;
}

/**
 * The push side of one connection. Producers (`PushHandle`) queue frames;
 * its one consumer, the outbound actor, is told through `onPush` and takes
 * them with `high`/`low`.
 */
export class PushQueues implements PushTarget {
  readonly connectionId: number;
  /** High-priority frames, oldest first (the consumer peeks and shifts). */
  readonly high: BoundedQueue<Envelope>;
  /** Low-priority frames, oldest first. */
  readonly low: BoundedQueue<Envelope>;
  readonly #rate: TokenBucket | undefined;
  readonly #deadLetters: DeadLetterSink | undefined;
  readonly #logger: Logger;
  readonly #marks: WaterMarks | undefined;
  readonly #telemetry: PushTelemetry | undefined;
  /** `push()`es waiting for the outbound bytes to fall to the low mark, oldest first. */
  #bytesWaiters: BytesWaiter[] = [];
  /** What `closed` returns, made when first asked for (most connections never are). */
  #closed: PromiseWithResolvers<void> | undefined;
  #isClosed = false;
  /** Whether the water marks tell us when the bytes drain (from the first push that waits on them). */
  #drainWatched = false;
  #consumer: PushConsumer | undefined;

  constructor(options: PushQueuesOptions) {
    this.connectionId = options.connectionId;
    this.high = new BoundedQueue(options.highCapacity);
    this.low = new BoundedQueue(options.lowCapacity);
    this.#rate = options.rate;
    this.#deadLetters = options.deadLetters;
    this.#logger = options.logger;
    this.#marks = options.marks;
    this.#telemetry = options.telemetry;
  }

  /** Resolves once `close()` has run. */
  get closed(): Promise<void> {
    if (this.#closed === undefined) {
      this.#closed = Promise.withResolvers();
      if (this.#isClosed) this.#closed.resolve();
    }
    return this.#closed.promise;
  }

  /** True once `close()` ran: new pushes fail with `closed`. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Frames queued, both priorities. */
  get size(): number {
    return this.high.size + this.low.size;
  }

  /** Register the consumer, told synchronously after every frame queued. */
  onPush(consumer: PushConsumer): void {
    this.#consumer = consumer;
  }

  /**
   * The outbound bytes are above the high water mark, or pushes wait for
   * them to drain: new frames are refused (they would overtake the waiting).
   */
  get #bytesFull(): boolean {
    return this.#marks !== undefined && (this.#marks.above || this.#bytesWaiters.length > 0);
  }

  tryPush(frame: Envelope, priority: PushPriority, checkRate: boolean): TryPushResult {
    if (this.#isClosed) return "closed";
    if (this.#bytesFull) return "full";
    const queue = priority === "high" ? this.high : this.low;
    if (checkRate && this.#rate && !this.#rate.tryTake()) {
      this.#telemetry?.pushRateLimited(priority);
      return "rate-limited";
    }
    if (!queue.tryPush(frame)) {
      if (checkRate) this.#rate?.giveBack();
      return "full";
    }
    this.#marks?.add(frame.payload.byteLength);
    this.#telemetry?.pushQueued();
    this.#consumer?.pushed();
    return "queued";
  }

  /**
   * The consumer takes the oldest frame of `priority`. Its bytes stay counted
   * until {@link handedOff}: once the writer counts them too, so the count
   * never dips below what the connection really holds.
   */
  take(priority: PushPriority): Envelope | undefined {
    return (priority === "high" ? this.high : this.low).shift();
  }

  /** A frame from {@link take} is now the writer's (or was dropped): stop counting it here. */
  handedOff(frame: Envelope): void {
    this.#marks?.remove(frame.payload.byteLength);
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
    // Closed meanwhile: #admit's pushGranted throws the close reason.
    if (this.#bytesFull && !this.#isClosed) return this.#waitForBytes(frame, queue, signal);
    this.#admit(frame, queue);
  }

  /** Queue a frame whose slot was granted, and wake the consumer. */
  #admit(frame: Envelope, queue: BoundedQueue<Envelope>): void {
    queue.pushGranted(frame);
    this.#marks?.add(frame.payload.byteLength);
    this.#telemetry?.pushQueued();
    this.#consumer?.pushed();
  }

  /**
   * Hold a granted slot until the outbound bytes fall to the low mark; then
   * `#admitWaiters` queues the frame. Aborting or closing gives back the
   * slot and the rate token.
   */
  #waitForBytes(
    frame: Envelope,
    queue: BoundedQueue<Envelope>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#bytesWaiters.indexOf(waiter);
        if (index >= 0) this.#bytesWaiters.splice(index, 1);
        waiter.reject(signal!.reason);
      };
      const waiter: BytesWaiter = {
        frame,
        queue,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          queue.release();
          this.#rate?.giveBack();
          reject(reason);
        },
      };
      if (signal?.aborted) return waiter.reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (!this.#drainWatched) {
        this.#drainWatched = true;
        // Admitted a microtask later, never inside the writer's or the actor's own loop.
        this.#marks!.onDrained(() => queueMicrotask(() => this.#admitWaiters()));
      }
      this.#bytesWaiters.push(waiter);
    });
  }

  /**
   * The outbound bytes fell to the low mark: queue waiting pushes, oldest
   * first, until they reach the high mark again.
   */
  #admitWaiters(): void {
    const waiters = this.#bytesWaiters;
    while (waiters.length > 0 && !this.#isClosed && !this.#marks!.above) {
      const waiter = waiters.shift()!;
      this.#admit(waiter.frame, waiter.queue);
      waiter.resolve();
    }
  }

  tryTakeRateToken(): boolean {
    return !this.#isClosed && (this.#rate === undefined || this.#rate.tryTake());
  }

  takeRateToken(signal: AbortSignal | undefined): Promise<void> {
    if (this.#isClosed) return Promise.reject(new PushError("closed"));
    return this.#rate ? this.#rate.take(signal) : Promise.resolve();
  }

  deadLetter(frame: Envelope, priority: PushPriority, warn: boolean): void {
    this.#telemetry?.pushDropped(priority);
    if (warn) {
      this.#logger.warn("push queue full: frame dropped", {
        connectionId: this.connectionId,
        priority,
      });
    }
    if (this.#deadLetters === undefined) return;
    this.#telemetry?.pushDeadLettered(priority, "full");
    this.#deadLetters.offer({ connectionId: this.connectionId, priority, frame, reason: "full" });
  }

  /** Refuse new pushes (they fail with `closed`); what is queued stays for the consumer. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    // One error for everyone the close refuses, made only if someone is.
    let error: PushError | undefined;
    const closed = () => (error ??= new PushError("closed"));
    for (const waiter of this.#bytesWaiters.splice(0)) waiter.reject(closed());
    this.high.close(closed);
    this.low.close(closed);
    this.#rate?.close(closed);
    this.#closed?.resolve();
  }

  /**
   * The connection is going away: close, and dead-letter every queued frame
   * (reason `connection-closed`). Returns how many were discarded.
   */
  discard(): number {
    this.close();
    // Once per connection: empty queues (the common case) cost no drained copy.
    return this.#discardFrom("high", this.high) + this.#discardFrom("low", this.low);
  }

  #discardFrom(priority: PushPriority, queue: BoundedQueue<Envelope>): number {
    if (queue.size === 0) return 0;
    const frames = queue.drain();
    for (const frame of frames) {
      this.#marks?.remove(frame.payload.byteLength);
      if (this.#deadLetters) this.#telemetry?.pushDeadLettered(priority, "connection-closed");
      this.#deadLetters?.offer({
        connectionId: this.connectionId,
        priority,
        frame,
        reason: "connection-closed",
      });
    }
    return frames.length;
  }
}
