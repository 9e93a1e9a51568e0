/**
 * The connection actor's outbound side (roadmap 1.2, 1.3): a strictly biased
 * merge of the high- and low-priority push queues and the current response,
 * feeding the frame writer.
 *
 * Order: high > low > response, FIFO within each. Fairness: after
 * `maxHighBeforeLow` consecutive high frames (or `timeSliceMs` of them), one
 * waiting low frame goes next. The response producer is at most one frame
 * ahead of the writer, so a response never delays a push by more than one
 * frame. Shutdown (highest) is handled by the connection: `close()` refuses
 * new pushes and flushes queued ones; `abort()` dead-letters what is left.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { BoundedQueue } from "../push/bounded_queue.ts";
import type { DeadLetterSink } from "../push/dead_letter.ts";
import { PushError } from "../push/errors.ts";
import type { PushPriority, PushTarget, TryPushResult } from "../push/push_handle.ts";
import { type Clock, TokenBucket } from "../push/token_bucket.ts";
import type { AppSpec } from "../app/app.ts";
import type { Context } from "../app/context.ts";
import type { Counters } from "../observe/stats.ts";
import type { Logger } from "../observe/logger.ts";
import type { FrameWriter } from "../wire/frame_writer.ts";

/** Tuning of one connection's actor. */
export interface ActorOptions {
  readonly highCapacity: number;
  readonly lowCapacity: number;
  /** Consecutive high frames before a waiting low frame goes; 0 = strict priority. */
  readonly maxHighBeforeLow: number;
  /** Optional: after this many ms of consecutive high frames, a waiting low frame goes. */
  readonly timeSliceMs: number | undefined;
  readonly clock: Clock;
}

/** What the actor calls out to. */
export interface ActorHooks {
  /** Rewrites every frame just before it is written (protocol `beforeSend`); may throw. */
  beforeSend(frame: Envelope): Envelope;
  /** A push frame's `beforeSend` threw: the frame is dropped and the fault reported. */
  onPushFault(error: unknown, frame: Envelope): void;
}

interface ResponseSlot {
  frame: Envelope;
  resolve(): void;
  reject(error: unknown): void;
}

/** One connection's outbound scheduler; also the target of its `PushHandle`. */
export class OutboundActor implements PushTarget {
  readonly connectionId: number;
  readonly closed: Promise<void>;
  readonly #out: FrameWriter;
  readonly #options: ActorOptions;
  readonly #hooks: ActorHooks;
  readonly #high: BoundedQueue<Envelope>;
  readonly #low: BoundedQueue<Envelope>;
  readonly #rate: TokenBucket | undefined;
  readonly #deadLetters: DeadLetterSink | undefined;
  readonly #logger: Logger;
  #markClosed!: () => void;
  #isClosed = false;
  #slot: ResponseSlot | undefined;
  #waitingForRoom = false;
  #highStreak = 0;
  #streakStartedAt = 0;
  #idleWaiters: (() => void)[] = [];
  #failure: { error: unknown } | undefined;
  /** Pushes discarded by an abort after a failed write, not yet reported by `abort()`. */
  #discardedEarlier = 0;

  constructor(
    connectionId: number,
    out: FrameWriter,
    options: ActorOptions,
    hooks: ActorHooks,
    extras: {
      rate?: TokenBucket | undefined;
      deadLetters?: DeadLetterSink | undefined;
      logger: Logger;
    },
  ) {
    this.connectionId = connectionId;
    this.#out = out;
    this.#options = options;
    this.#hooks = hooks;
    this.#high = new BoundedQueue(options.highCapacity);
    this.#low = new BoundedQueue(options.lowCapacity);
    this.#rate = extras.rate;
    this.#deadLetters = extras.deadLetters;
    this.#logger = extras.logger;
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  // --- push side (PushTarget) ---

  tryPush(frame: Envelope, priority: PushPriority, checkRate: boolean): TryPushResult {
    if (this.#isClosed) return "closed";
    const queue = priority === "high" ? this.#high : this.#low;
    if (checkRate && this.#rate && !this.#rate.tryTake()) return "rate-limited";
    if (!queue.tryPush(frame)) {
      if (checkRate) this.#rate?.giveBack();
      return "full";
    }
    this.#pump();
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
    const queue = priority === "high" ? this.#high : this.#low;
    try {
      await queue.reserve(signal);
    } catch (error) {
      this.#rate?.giveBack(); // an abandoned push keeps neither a token nor a slot
      throw error;
    }
    queue.pushGranted(frame);
    this.#pump();
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

  // --- response side ---

  /**
   * Offer the next frame of the current response. Returns `undefined` if it
   * was written at once, else a promise that settles when the actor takes it
   * (rejecting if `beforeSend` threw or the writer failed).
   */
  offerResponse(frame: Envelope): Promise<void> | undefined {
    if (this.#failure) throw this.#failure.error;
    if (!this.#waitingForRoom && this.#high.size === 0 && this.#low.size === 0) {
      this.#write(this.#hooks.beforeSend(frame));
      return undefined;
    }
    return new Promise((resolve, reject) => {
      this.#slot = { frame, resolve, reject };
    });
  }

  // --- lifecycle ---

  /** Refuse new pushes (they fail with `closed`); queued pushes still go out. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const closed = new PushError("closed");
    this.#high.close(closed);
    this.#low.close(closed);
    this.#rate?.close(closed);
    this.#markClosed();
  }

  /** Resolves when no push and no response frame is waiting (after `close()`, when all are flushed). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Dead-letter what is queued now, counting it for the final `abort()` to
   * report (after a failed write, or a forced close that still flushes the
   * writer).
   */
  dropQueued(): void {
    // abort() already includes (and resets) what earlier drops counted.
    this.#discardedEarlier = this.abort();
  }

  /**
   * The connection is gone: dead-letter whatever is still queued. Returns how
   * many pushes were discarded, including by an earlier `dropQueued()`.
   */
  abort(): number {
    this.close();
    let discarded = 0;
    for (const [priority, queue] of [["high", this.#high], ["low", this.#low]] as const) {
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
    this.#slot?.reject(new PushError("closed"));
    this.#slot = undefined;
    this.#wakeIdle();
    discarded += this.#discardedEarlier;
    this.#discardedEarlier = 0;
    return discarded;
  }

  // --- the scheduler ---

  #pump(): void {
    while (!this.#waitingForRoom && !this.#failure) {
      const high = this.#high.peek();
      const low = this.#low.peek();
      if (high !== undefined && (low === undefined || !this.#lowIsDue())) {
        if (this.#highStreak++ === 0) this.#streakStartedAt = this.#options.clock();
        this.#sendPush(this.#high.shift()!);
      } else if (low !== undefined) {
        this.#highStreak = 0;
        this.#sendPush(this.#low.shift()!);
      } else if (this.#slot) {
        this.#highStreak = 0;
        const slot = this.#slot;
        this.#slot = undefined;
        try {
          this.#write(this.#hooks.beforeSend(slot.frame));
          slot.resolve();
        } catch (error) {
          slot.reject(error);
        }
      } else {
        this.#highStreak = 0;
        break;
      }
    }
    if (this.#isIdle()) this.#wakeIdle();
  }

  #lowIsDue(): boolean {
    const { maxHighBeforeLow, timeSliceMs, clock } = this.#options;
    if (maxHighBeforeLow > 0 && this.#highStreak >= maxHighBeforeLow) return true;
    return timeSliceMs !== undefined && this.#highStreak > 0 &&
      clock() - this.#streakStartedAt >= timeSliceMs;
  }

  #sendPush(frame: Envelope): void {
    let rewritten: Envelope;
    try {
      rewritten = this.#hooks.beforeSend(frame);
    } catch (error) {
      this.#hooks.onPushFault(error, frame);
      return;
    }
    try {
      this.#write(rewritten);
    } catch (error) {
      this.#hooks.onPushFault(error, frame);
    }
  }

  /** Hand one frame to the writer; when it reports back-pressure, pause until it has room. */
  #write(frame: Envelope): void {
    const wait = this.#out.send(frame);
    if (wait === undefined) return;
    this.#waitingForRoom = true;
    wait.then(
      () => {
        this.#waitingForRoom = false;
        this.#pump();
      },
      (error) => {
        this.#failure = { error };
        this.#slot?.reject(error);
        this.#slot = undefined;
        this.dropQueued();
      },
    );
  }

  #isIdle(): boolean {
    return this.#high.size === 0 && this.#low.size === 0 && this.#slot === undefined;
  }

  #wakeIdle(): void {
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}

const identity = (frame: Envelope): Envelope => frame;

/**
 * The actor of one server connection, configured from the app: queues,
 * fairness, rate limit, dead letters, and the protocol's `beforeSend` (called
 * with the connection's context, read lazily as it is created after the actor).
 */
export function createActor<S>(
  connectionId: number,
  out: FrameWriter,
  deps: {
    readonly spec: AppSpec<S>;
    readonly counters: Counters;
    readonly deadLetters: DeadLetterSink | undefined;
  },
  ctx: () => Context<S>,
): OutboundActor {
  const { spec, counters, deadLetters } = deps;
  const { protocol, logger } = spec;
  const beforeSend = protocol.beforeSend;
  const rate = spec.rateLimit && new TokenBucket(spec.rateLimit.perSecond, spec.rateLimit.burst);
  return new OutboundActor(connectionId, out, { ...spec.push, clock: () => performance.now() }, {
    beforeSend: beforeSend ? (frame) => beforeSend.call(protocol, frame, ctx()) ?? frame : identity,
    onPushFault: (error, frame) => {
      counters.handlerErrors++;
      logger.error("push frame dropped: it could not be sent", {
        connectionId,
        id: frame.id,
        error,
      });
    },
  }, { rate, deadLetters, logger });
}
